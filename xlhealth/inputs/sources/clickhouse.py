"""ClickHouse: a server through ``clickhouse-connect`` or chDB in this process.

* ``clickhouse://user@HOST:8123/database`` (``clickhouses://`` for HTTPS) through
  ``clickhouse-connect`` (``pip install 'xlhealth[clickhouse]'``); the password comes from
  ``CLICKHOUSE_PASSWORD``.
* ``chdb:///folder`` — chDB, ClickHouse as a library (``pip install chdb``), over the data
  kept in that folder (relative to the workbook, like ``duckdb:///``).

Every session sets ``cast_keep_nullable``, ``join_use_nulls`` and ``group_by_use_nulls``:
without them ClickHouse turns the NULLs the SQL relies on into zeros and empty strings.
Small tables travel inside the query as ``format(JSONEachRow, …)``.
"""

from __future__ import annotations

import json
from pathlib import Path

from xlhealth.inputs.sources.database import literal
from xlhealth.inputs.sources.dialects import ClickHouseDialect
from xlhealth.inputs.sources.files import SourceError
from xlhealth.inputs.sources.warehouse import (
    WarehouseEngine,
    base_type,
    client,
    secret,
    url_parts,
)

SETTINGS = {"cast_keep_nullable": 1, "join_use_nulls": 1, "group_by_use_nulls": 1,
            "max_query_size": 1 << 30, "output_format_json_quote_64bit_integers": 0}  # fmt: skip
_KINDS = {"string": "text", "fixedstring": "text", "enum8": "text", "enum16": "text",
          "uuid": "text", "bool": "bool", "float32": "float", "float64": "float",
          "decimal": "float", "date": "date", "date32": "date", "datetime": "timestamptz",
          "datetime64": "timestamptz"}  # fmt: skip


class ClickHouseEngine(WarehouseEngine):
    dialect = ClickHouseDialect()

    def __init__(self, url: str, query: str, base: Path):
        super().__init__(query)
        scheme = url.split(":", 1)[0].casefold()
        if scheme == "chdb":
            self.client = self.signed_in(lambda: _ChDB(url, base))
        else:
            self.client = self.signed_in(lambda: _Server(url), " — is CLICKHOUSE_PASSWORD set?")

    def run(self, sql: str) -> tuple[list[str], list[tuple]]:
        for key, value in self.used(sql).items():  # inside the text: no parameters needed
            sql = sql.replace(self.placeholder(key), _string(value))
        return self.client.run(sql)

    def column_types(self) -> list[tuple[str, str]]:
        _, rows = self.client.run(f"DESCRIBE (SELECT * FROM {self.relation})")
        return [(r[0], r[1]) for r in rows]

    def kind(self, type_name: str) -> str:
        t = base_type(type_name)
        if t.startswith(("int", "uint")):
            return "int"
        return _KINDS.get(t, "other")

    def json_table(self, key: str, columns: list[tuple[str, str]]) -> str:
        t = self.dialect.type
        structure = ", ".join(f"{name} Nullable({t(kind)})" for name, kind in columns)
        return f"(SELECT * FROM format(JSONEachRow, {literal(structure)}, {self.placeholder(key)}))"

    def encode(self, records: list[dict]) -> str:  # JSONEachRow: one object per line
        return "\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"))
                         for r in records)  # fmt: skip

    def close(self) -> None:
        self.client.close()


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Server:
    def __init__(self, url: str):
        clickhouse_connect = client(
            "clickhouse_connect", "ClickHouse needs its client: pip install 'xlhealth[clickhouse]'"
        )
        user, host, port, path, _ = url_parts(url)
        secure = url.split(":", 1)[0].casefold() == "clickhouses"
        self.client = clickhouse_connect.get_client(
            host=host, port=port or (8443 if secure else 8123), username=user or "default",
            password=secret("CLICKHOUSE_PASSWORD") or "", database=path[0] if path else "",
            secure=secure, settings={**SETTINGS, "readonly": 2},
        )  # fmt: skip

    def run(self, sql: str) -> tuple[list[str], list[tuple]]:
        result = self.client.query(sql)
        return list(result.column_names), [tuple(r) for r in result.result_rows]

    def close(self) -> None:
        self.client.close()


class _ChDB:
    def __init__(self, url: str, base: Path):
        session = client("chdb.session", "chDB needs its library: pip install 'xlhealth[chdb]'")
        rest = url.split("://", 1)[1]
        rest = rest[1:] if rest.startswith("/") else rest
        folder = Path(rest) if Path(rest).is_absolute() else base / rest
        if not folder.is_dir():
            raise SourceError(f"chDB folder not found: {folder}", column="connection")
        self.session = session.Session(str(folder))
        for name, value in SETTINGS.items():
            self.session.query(f"SET {name} = {value}")

    def run(self, sql: str) -> tuple[list[str], list[tuple]]:
        got = json.loads(self.session.query(sql, "JSONCompact").bytes() or b"{}")
        names = [c["name"] for c in got.get("meta", [])]
        return names, [tuple(r) for r in got.get("data", [])]

    def close(self) -> None:
        self.session.close()
