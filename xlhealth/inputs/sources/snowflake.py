"""Snowflake through ``snowflake-connector-python`` (``pip install 'xlhealth[snowflake]'``).

``snowflake://user@account/database/schema?warehouse=WH&role=ROLE`` as SQLAlchemy writes
it; ``snowflake://?connection_name=NAME`` (or just ``snowflake://``) takes a connection from
the connector's own ``connections.toml``. The password comes from ``SNOWFLAKE_PASSWORD``,
or ``authenticator=externalbrowser`` signs in through the browser; never the workbook.
"""

from __future__ import annotations

from xlhealth.inputs.sources.dialects import SnowflakeDialect
from xlhealth.inputs.sources.warehouse import WarehouseEngine, client, secret, url_parts

# cursor.description type codes (snowflake.connector.constants.FIELD_TYPES)
_KINDS = {1: "float", 2: "text", 3: "date", 4: "timestamp", 6: "timestamptz",
          7: "timestamptz", 8: "timestamp", 13: "bool"}  # fmt: skip


def connect_args(url: str) -> dict[str, str]:
    user, account, _, path, query = url_parts(url)
    args = dict(query)
    if account:
        args["account"] = account
    if user:
        args["user"] = user
    if path:
        args["database"] = path[0]
    if len(path) > 1:
        args["schema"] = path[1]
    password = secret("SNOWFLAKE_PASSWORD")
    if password and "authenticator" not in args:
        args["password"] = password
    return args


SIGN_IN = (
    "sign in with SNOWFLAKE_PASSWORD, ?authenticator=externalbrowser or a "
    "connections.toml connection (?connection_name=…)"
)


class SnowflakeEngine(WarehouseEngine):
    dialect = SnowflakeDialect()
    service = "Snowflake"
    max_query_bytes = 1_000_000  # query text with its bound values: 1 MB

    def __init__(self, url: str, query: str):
        super().__init__(query)
        connector = client(
            "snowflake.connector", "Snowflake needs its client: pip install 'xlhealth[snowflake]'"
        )
        self.con = self.signed_in(lambda: connector.connect(**connect_args(url)), f" — {SIGN_IN}")

    def run(self, sql: str) -> tuple[list[str], list[tuple]]:
        params = self.used(sql) or None
        if params:
            sql = sql.replace("%", "%%")
            for key in params:
                sql = sql.replace(self.placeholder(key), f"%({key})s")
        cur = self.con.cursor()
        try:
            cur.execute(sql, params)
            names = [d[0] for d in cur.description]
            return names, [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def column_types(self) -> list[tuple[str, str]]:
        cur = self.con.cursor()
        try:
            cur.execute(f"SELECT * FROM {self.relation} LIMIT 0")
            return [(d[0], _kind_code(d[1], d[5])) for d in cur.description]
        finally:
            cur.close()

    def kind(self, type_name: str) -> str:
        return type_name  # column_types gives kinds already (from the type codes)

    def json_table(self, key: str, columns: list[tuple[str, str]]) -> str:
        t = self.dialect.type
        cols = ", ".join(f"value:{name}::{t(kind)} AS {name}" for name, kind in columns)
        return f"(SELECT {cols} FROM TABLE(FLATTEN(INPUT => PARSE_JSON({self.placeholder(key)}))))"

    def close(self) -> None:
        self.con.close()


def _kind_code(code: int, scale: int | None) -> str:
    if code == 0:  # NUMBER(p, s)
        return "int" if not scale else "float"
    return _KINDS.get(code, "other")
