"""The engines that hold a source's rows: DuckDB in-process (files, a DuckDB file) and
PostgreSQL. One small interface, like ``pandas.io.excel``'s readers:

* :meth:`Engine.describe` — the columns of a relation and their kind;
* :meth:`Engine.table` — a small Python table (a mapping, the as-of dates) as a relation
  the query can join: a registered frame in DuckDB, ``unnest`` of array parameters in
  PostgreSQL (nothing is written to the database: the session is read-only);
* :meth:`Engine.fetch` — run a query, return its (small) result as columns.

Everything else — the aggregate SQL — is one text (:mod:`xlhealth.inputs.sources.sql`), spelt
by the engine's :attr:`Engine.dialect` (:mod:`xlhealth.inputs.sources.dialects`); these two
engines speak the base dialect, and their sessions use UTC, so a ``timestamp with time
zone`` lands on its UTC day. The warehouses' engines are in ``warehouse``, ``snowflake``,
``spark`` and ``clickhouse``.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlhealth.inputs.sources.dialects import BASE, Dialect
from xlhealth.inputs.sources.files import SEPARATORS, FileSet, SourceError

KINDS = ("text", "int", "float", "bool", "date", "timestamp", "timestamptz", "other")
CANONICAL = BASE.types  # the kinds' SQL types in PostgreSQL and DuckDB
FILE_COLUMN = "_xlhealth_file"


def quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def one_line(error: BaseException) -> str:
    """The database's own message, first line only."""
    diag = getattr(error, "diag", None)
    text = getattr(diag, "message_primary", None) or str(error)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


_TABLE_NAME = re.compile(
    r'^(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+")(?:\.(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+")){0,2}$'
)


def query_relation(query: str) -> str:
    """A ``query`` cell as a FROM item: a table name as it is, a SELECT in parentheses."""
    text = query.strip().rstrip(";").strip()
    if _TABLE_NAME.match(text):
        return text
    return f"({text}) AS xlhealth_query"


class Engine:
    """A connection that can describe, join small tables and run the aggregate queries."""

    dialect: Dialect = BASE  # how the SQL spells what engines disagree on
    relation: str = ""
    skip: str = ""  # a condition rows must meet (leading extra header rows left out)
    skip_files: frozenset[int] = frozenset()  # the files ``skip`` leaves rows out of

    def describe(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def table(self, name: str, frame: pd.DataFrame, kinds: dict[str, str]) -> str:
        raise NotImplementedError

    def fetch(self, sql: str) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def stored_range(self, column: str, kind: str) -> tuple[int | None, int | None] | None:
        """First and last day of a typed date column from statistics the data keeps (no
        scan), or None when there are none to trust."""
        return None

    def derived(self, column: str, tag: str) -> str | None:
        """A column holding ``tag`` of text ``column`` already computed (a cached file's
        tags, :mod:`xlhealth.inputs.sources.filecache`), or None: compute it per row."""
        return None

    def reads(self, full: set[str], partial: set[str]) -> None:
        """The columns the plan reads: ``full`` as text, ``partial`` only where their
        ISO-day tag is NULL (dates and nothing else: a cache file may keep their text for
        those rows alone). Other columns it does not read at all."""

    def close(self) -> None:
        pass


def duckdb_kind(type_name: str) -> str:
    t = type_name.upper()
    if t in ("VARCHAR", "TEXT", "STRING") or t.startswith("VARCHAR"):
        return "text"
    if t == "BOOLEAN":
        return "bool"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):
        return "int"
    if t in ("UBIGINT", "HUGEINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL") or t.startswith(
        "DECIMAL"
    ):
        return "float"
    if t == "DATE":
        return "date"
    if t in ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME"):
        return "timestamp"
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "timestamptz"
    return "other"


class DuckDBEngine(Engine):
    """DuckDB in-process: files through its readers, or a DuckDB database file (read-only)."""

    hint = ""  # added to a reader's error (what to check in the file)
    parquet = ""  # the Parquet files' list, as SQL

    def __init__(self) -> None:
        import duckdb

        self.duckdb = duckdb
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET preserve_insertion_order = true")  # file order = row order
        self.con.execute("SET enable_progress_bar = false")
        self._names = itertools.count()

    @classmethod
    def for_files(cls, fileset: FileSet) -> DuckDBEngine:
        engine = cls()
        files = path_list(fileset.read)
        fmt = fileset.format
        if fmt in ("csv", "tsv"):
            reader = csv_reader(files, fileset.separator)
            engine.hint = csv_hint(fileset)
        elif fmt == "parquet":
            reader = f"read_parquet({files}, union_by_name = true, filename = '{FILE_COLUMN}')"
            engine.parquet = files
            engine.hint = "check that it is a Parquet file"
        else:
            engine.hint = JSON_HINT
            reader = engine._json_reader(files)
        engine.relation = reader
        return engine

    def _json_reader(self, files: str) -> str:
        return json_reader(files, self.json_columns(files))

    def json_columns(self, files: str) -> list[tuple[str, str]]:
        """JSON has no date type: keep strings as strings (DuckDB would read an ISO string
        with an offset as an instant and move it to UTC), so they follow the text rules.
        (name, type) of every column ``files`` hold, as the reader is then told."""
        base = f"read_json({files}, format = 'newline_delimited', union_by_name = true"
        tail = f", filename = '{FILE_COLUMN}')"
        try:
            described = self.con.execute(f"DESCRIBE SELECT * FROM {base}{tail}").fetchall()
        except self.duckdb.Error as error:
            raise SourceError(self._message(error)) from None
        columns = []
        for name, type_name, *_ in described:
            if name == FILE_COLUMN:
                continue
            kind = duckdb_kind(type_name)
            columns.append((name, type_name if kind in ("text", "bool", "int", "float")
                            else "VARCHAR"))  # fmt: skip
        return columns

    @classmethod
    def for_database(cls, path: Path, query: str) -> DuckDBEngine:
        if not path.is_file():
            raise SourceError(
                f"DuckDB file not found: {path} (duckdb:///name is relative to the workbook's "
                "folder, duckdb:////abs/name is absolute)",
                column="connection",
            )
        engine = cls()
        try:
            engine.con.execute(f"ATTACH {literal(str(path))} AS xlhealth_source (READ_ONLY)")
            engine.con.execute("USE xlhealth_source")
        except engine.duckdb.Error as error:
            engine.close()
            raise SourceError(one_line(error), column="connection") from None
        engine.relation = query_relation(query)
        return engine

    def describe(self) -> list[tuple[str, str]]:
        try:
            rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.relation}").fetchall()
        except self.duckdb.Error as error:
            raise SourceError(self._message(error), column=self._column) from None
        return [(name, duckdb_kind(t)) for name, t, *_ in rows]

    def table(self, name: str, frame: pd.DataFrame, kinds: dict[str, str]) -> str:
        view = f"xlhealth_{name}_{next(self._names)}"
        self.con.register(view, _typed(frame, kinds))
        return view

    def fetch(self, sql: str) -> dict[str, np.ndarray]:
        try:
            result = self.con.execute(sql)
            names = [d[0] for d in result.description]
            rows = result.fetchall()
        except self.duckdb.Error as error:
            raise SourceError(self._message(error), column=self._column) from None
        return result_columns(names, rows)

    def stored_range(self, column: str, kind: str) -> tuple[int | None, int | None] | None:
        """Parquet row groups keep the min and max of each column: the first and last day
        of 100M timestamps without reading them — when every row group has them."""
        if not self.parquet or kind not in ("date", "timestamp", "timestamptz"):
            return None
        typed = CANONICAL[kind]
        day = "CAST(CAST({} AS DATE) - DATE '1970-01-01' AS BIGINT)"
        try:
            got = self.con.execute(
                f"SELECT {day.format(f'MIN(TRY_CAST(stats_min_value AS {typed}))')}, "
                f"{day.format(f'MAX(TRY_CAST(stats_max_value AS {typed}))')}, COUNT(*), "
                "COUNT(TRY_CAST(stats_min_value AS " + typed + ")), "
                "COUNT(TRY_CAST(stats_max_value AS " + typed + ")), SUM(num_values) "
                f"FROM parquet_metadata({self.parquet}) WHERE path_in_schema = ?",
                [column],
            ).fetchone()
        except self.duckdb.Error:
            return None
        low, high, groups, lows, highs, values = got
        if not groups or lows != groups or highs != groups or not values:
            return None  # a row group without statistics (or all NULL): read the rows
        return int(low), int(high)

    @property
    def _column(self) -> str:
        return "path" if self.hint else "query"

    def _message(self, error: BaseException) -> str:
        return one_line(error) + (f" — {self.hint}" if self.hint else "")

    def close(self) -> None:
        self.con.close()


def csv_reader(files: str, separator: str) -> str:
    """DuckDB's reader of CSV/TSV ``files`` (an SQL list): every value as text, the header
    on line 1 (never guessed lower), short lines (footers) padded."""
    delim = "\\t" if separator == "\t" else separator
    return (
        f"read_csv({files}, header = true, skip = 0, all_varchar = true, "
        f"delim = '{delim}', quote = '\"', escape = '\"', null_padding = true, "
        f"union_by_name = true, filename = '{FILE_COLUMN}')"
    )


def json_reader(files: str, columns: list[tuple[str, str]]) -> str:
    """DuckDB's reader of JSON-lines ``files`` with the columns (and types) given."""
    spec = ", ".join(f"{literal(name)}: {literal(kept)}" for name, kept in columns)
    return (f"read_json({files}, format = 'newline_delimited', union_by_name = true, "
            f"columns = {{{spec}}}, filename = '{FILE_COLUMN}')")  # fmt: skip


JSON_HINT = "check that it is JSON lines: one object per line"


def csv_hint(fileset: FileSet) -> str:
    return (
        f"check that it is {fileset.format.upper()} ({SEPARATORS[fileset.separator]} between "
        "values) with the header on line 1 and no line longer than the header"
    )


def _typed(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """A frame whose columns DuckDB registers with the intended SQL types (NULLs kept)."""
    out = {}
    for column in frame.columns:
        kind = kinds.get(column, "int")
        values = frame[column]
        if kind == "int":
            out[column] = pd.array(values.tolist(), dtype="Int64")
        elif kind == "float":
            out[column] = pd.array(values.tolist(), dtype="Float64")
        elif kind == "bool":
            out[column] = pd.array(values.tolist(), dtype="boolean")
        else:
            out[column] = pd.Series(values.tolist(), dtype=object)
    return pd.DataFrame(out)


def result_columns(names: list[str], rows: list[tuple]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        column = np.empty(len(rows), dtype=object)
        column[:] = [r[i] for r in rows]
        out[name] = column
    return out


def literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def path_list(paths: list[Path]) -> str:
    """Files as a DuckDB list literal, for its readers."""
    return "[" + ", ".join(literal(str(p)) for p in paths) + "]"


_PG_KINDS = {
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "name": "text",
    "char": "text",
    "citext": "text",
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "oid": "int",
    "float4": "float",
    "float8": "float",
    "numeric": "float",
    "bool": "bool",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
}
_PG_ARRAYS = {
    "text": "varchar[]",
    "int": "bigint[]",
    "float": "float8[]",
    "bool": "boolean[]",
    "date": "date[]",
    "timestamp": "timestamp[]",
    "timestamptz": "timestamptz[]",
}


class PostgresEngine(Engine):
    """PostgreSQL through psycopg, in one read-only transaction.

    The password never comes from the workbook: libpq reads ``PGPASSWORD``, ``~/.pgpass``
    (``%APPDATA%\\postgresql\\pgpass.conf`` on Windows) or a service file itself.
    """

    def __init__(self, url: str, query: str):
        import psycopg

        self.psycopg = psycopg
        dsn = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url.strip())
        try:
            self.con = psycopg.connect(dsn, connect_timeout=15)
        except psycopg.Error as error:
            raise SourceError(one_line(error), column="connection") from None
        self.con.read_only = True
        self.params: dict[str, Any] = {}
        self._names = itertools.count()
        try:
            with self.con.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as error:
            self.close()
            raise SourceError(one_line(error), column="connection") from None
        self.relation = query_relation(query.replace("%", "%%"))

    def describe(self) -> list[tuple[str, str]]:
        try:
            with self.con.cursor() as cur:
                cur.execute(f"SELECT * FROM {self.relation} LIMIT 0", self.params)
                description = cur.description or []
        except self.psycopg.Error as error:
            self.con.rollback()
            raise SourceError(one_line(error), column="query") from None
        out = []
        for column in description:
            info = self.con.adapters.types.get(column.type_code)
            kind = _PG_KINDS.get(info.name if info else "", "other")
            out.append((column.name, kind))
        return out

    def table(self, name: str, frame: pd.DataFrame, kinds: dict[str, str]) -> str:
        k = next(self._names)
        parts, names = [], []
        for j, column in enumerate(frame.columns):
            key = f"t{k}_{j}"
            self.params[key] = [plain_value(v) for v in frame[column].tolist()]
            parts.append(f"%({key})s::{_PG_ARRAYS[kinds.get(column, 'int')]}")
            names.append(quote(column))
        return f"(SELECT * FROM unnest({', '.join(parts)}) AS x{k}({', '.join(names)}))"

    def fetch(self, sql: str) -> dict[str, np.ndarray]:
        try:
            with self.con.cursor() as cur:
                cur.execute(sql, self.params)
                names = [d.name for d in cur.description]
                rows = cur.fetchall()
        except self.psycopg.Error as error:
            self.con.rollback()
            raise SourceError(one_line(error), column="query") from None
        return result_columns(names, rows)

    def close(self) -> None:
        try:
            self.con.rollback()
        finally:
            self.con.close()


def plain_value(value: object) -> object:
    """numpy scalars and missing values as what psycopg adapts."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
