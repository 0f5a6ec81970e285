"""What the warehouse engines share: a client behind two calls, small tables sent as one JSON
parameter, results under lower-case names, a type name -> kind per dialect.

Read-only throughout: nothing is created in the warehouse (no temporary table, no stage);
a mapping or the as-of dates travel as a JSON array of objects that the query unpacks
itself — ``FLATTEN`` (Snowflake), ``inline(from_json(…))`` (Databricks/Spark),
``format(JSONEachRow, …)`` (ClickHouse). Credentials never come from the workbook: each
client reads its own environment variable or configuration file.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd

from xlhealth.inputs.sources.database import (
    Engine,
    one_line,
    plain_value,
    query_relation,
    result_columns,
)
from xlhealth.inputs.sources.files import SourceError


class WarehouseEngine(Engine):
    """An engine whose client runs one statement and returns (names, rows)."""

    service = "the warehouse"
    max_query_bytes: int | None = None  # what one statement may carry, parameters included

    def __init__(self, query: str) -> None:
        self.params: dict[str, Any] = {}
        self._names = itertools.count()
        self.relation = query_relation(query)

    # ------------------------------------------------------------------ the client's part

    @staticmethod
    def signed_in(connect: Callable[[], Any], hint: str = "") -> Any:
        """``connect()``, its failure as one located line (``hint``: where credentials go)."""
        try:
            return connect()
        except SourceError:
            raise
        except Exception as error:  # the client's own error class
            raise SourceError(one_line(error) + hint, column="connection") from None

    def run(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run ``sql`` with :attr:`params`; the client's error as itself."""
        raise NotImplementedError

    def column_types(self) -> list[tuple[str, str]]:
        """(name, the warehouse's type name) of each column of the relation."""
        raise NotImplementedError

    def kind(self, type_name: str) -> str:
        raise NotImplementedError

    def json_table(self, key: str, columns: list[tuple[str, str]]) -> str:
        """A FROM item unpacking parameter ``key`` (a JSON array of objects) into typed
        ``columns`` (name, kind)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ Engine

    def describe(self) -> list[tuple[str, str]]:
        try:
            described = self.column_types()
        except SourceError:
            raise
        except Exception as error:  # the client's own error class
            raise SourceError(one_line(error), column="query") from None
        return [(name, self.kind(t)) for name, t in described]

    def placeholder(self, key: str) -> str:
        """How the SQL names parameter ``key`` until :meth:`run` binds it."""
        return f"\x00{key}\x00"

    def used(self, sql: str) -> dict[str, str]:
        """The parameters ``sql`` refers to (earlier as-of dates' tables stay behind)."""
        return {k: v for k, v in self.params.items() if self.placeholder(k) in sql}

    def fetch(self, sql: str) -> dict[str, np.ndarray]:
        size = len(sql.encode()) + sum(len(v.encode()) for v in self.used(sql).values())
        if self.max_query_bytes is not None and size > self.max_query_bytes:
            raise SourceError(
                f"this source's query would carry {size / 1e6:.1f} MB of values to look up; "
                f"{self.service} takes {self.max_query_bytes / 1e6:.0f} MB in one query — "
                "link its rows by customer_id (or e-mail), or reduce them in the query",
                column="query",
            )  # fmt: skip
        try:
            names, rows = self.run(sql)
        except Exception as error:
            raise SourceError(one_line(error), column="query") from None
        return result_columns([self.dialect.result_name(n) for n in names], rows)

    def table(self, name: str, frame: pd.DataFrame, kinds: dict[str, str]) -> str:
        key = f"t{next(self._names)}"
        columns = [(str(c), kinds.get(c, "int")) for c in frame.columns]
        typed = [(str(c), _int if k == "int" else plain_value) for c, k in columns]
        records = [
            {c: cast(v) for (c, cast), v in zip(typed, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)
        ]
        self.params[key] = self.encode(records)
        return self.json_table(key, columns)

    def encode(self, records: list[dict]) -> str:
        """The parameter's text: a JSON array of objects."""
        return json.dumps(records, ensure_ascii=False, separators=(",", ":"))


def _int(value: object) -> int | None:
    """An integer column's value (pandas holds integers with NULLs as floats)."""
    value = plain_value(value)
    return None if value is None else int(value)  # type: ignore[call-overload]


def client(module: str, install: str) -> Any:
    """A warehouse's client module, imported only by a source that uses it — or one line
    saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SourceError(install, column="connection") from None


def url_parts(url: str) -> tuple[str, str, int | None, list[str], dict[str, str]]:
    """(user, host, port, path segments, query) of a SQLAlchemy-style URL."""
    parts = urlsplit(url.strip())
    segments = [unquote(s) for s in parts.path.split("/") if s]
    return (unquote(parts.username or ""), parts.hostname or "", parts.port, segments,
            dict(parse_qsl(parts.query)))  # fmt: skip


def secret(name: str) -> str | None:
    """A credential from the environment (never from the workbook)."""
    value = os.environ.get(name)
    return value if value else None


def base_type(type_name: str) -> str:
    """``Nullable(LowCardinality(String))`` -> ``string``; ``DECIMAL(10,2)`` -> ``decimal``."""
    t = type_name.strip()
    while True:
        m = re.fullmatch(r"(?:Nullable|LowCardinality)\((.*)\)", t)
        if not m:
            break
        t = m.group(1)
    return re.split(r"[(<\s]", t, maxsplit=1)[0].casefold()
