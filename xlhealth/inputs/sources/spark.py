"""Databricks SQL and Apache Spark: one dialect (Spark SQL, ANSI mode), two clients.

* ``databricks://token@HOST?http_path=/sql/1.0/warehouses/ID&catalog=C&schema=S`` (as the
  SQLAlchemy dialect writes it) through ``databricks-sql-connector``
  (``pip install 'xlhealth[databricks]'``); the token comes from ``DATABRICKS_TOKEN``.
* ``spark://local`` (Spark in this process) or ``spark://HOST:7077`` (a standalone
  cluster's master) through ``pyspark`` (``pip install 'xlhealth[spark]'``, needs Java 17+);
  ``?catalog=`` / ``?schema=`` choose the database.

Small tables travel as one JSON string parameter unpacked by ``inline(from_json(…))``.
"""

from __future__ import annotations

from xlhealth.inputs.sources.dialects import SparkDialect
from xlhealth.inputs.sources.warehouse import (
    WarehouseEngine,
    base_type,
    client,
    secret,
    url_parts,
)

_KINDS = {"string": "text", "varchar": "text", "char": "text", "tinyint": "int",
          "smallint": "int", "int": "int", "integer": "int", "bigint": "int", "long": "int",
          "float": "float", "double": "float", "decimal": "float", "boolean": "bool",
          "date": "date", "timestamp": "timestamptz", "timestamp_ltz": "timestamptz",
          "timestamp_ntz": "timestamp"}  # fmt: skip


class SparkEngine(WarehouseEngine):
    dialect = SparkDialect()

    def __init__(self, url: str, query: str):
        super().__init__(query)
        scheme = url.split(":", 1)[0].casefold()
        if scheme == "databricks":
            self.client = self.signed_in(lambda: _Databricks(url), " — is DATABRICKS_TOKEN set?")
        else:
            self.client = self.signed_in(lambda: _Session(url))

    def placeholder(self, key: str) -> str:
        return f":{key} "  # followed by ", '" in every table (:t1 is no prefix of :t10)

    def run(self, sql: str) -> tuple[list[str], list[tuple]]:
        return self.client.run(sql, self.used(sql))

    def column_types(self) -> list[tuple[str, str]]:
        _, rows = self.client.run(f"DESCRIBE QUERY SELECT * FROM {self.relation}", {})
        return [(r[0], r[1]) for r in rows if r[0] and not str(r[0]).startswith("#")]

    def kind(self, type_name: str) -> str:
        return _KINDS.get(base_type(type_name), "other")

    def json_table(self, key: str, columns: list[tuple[str, str]]) -> str:
        fields = ", ".join(f"{name}: {self.dialect.type(kind)}" for name, kind in columns)
        json = self.placeholder(key)
        return f"(SELECT * FROM inline(from_json({json}, 'ARRAY<STRUCT<{fields}>>')))"

    def close(self) -> None:
        self.client.close()


class _Databricks:
    """A Databricks SQL warehouse through databricks-sql-connector (native parameters)."""

    def __init__(self, url: str):
        sql = client("databricks.sql",
                     "Databricks needs its client: pip install 'xlhealth[databricks]'")  # fmt: skip
        _, host, _, _, query = url_parts(url)
        token = secret("DATABRICKS_TOKEN")
        args = {k: v for k, v in query.items() if k in ("catalog", "schema")}
        self.con = sql.connect(server_hostname=host, http_path=query.get("http_path", ""),
                               access_token=token, **args)  # fmt: skip

    def run(self, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
        with self.con.cursor() as cur:
            cur.execute(sql, parameters=params or None)
            names = [d[0] for d in cur.description]
            return names, [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


class _Session:
    """A Spark session through pyspark: this process (``spark://local``) or a master."""

    def __init__(self, url: str):
        spark_sql = client(
            "pyspark.sql", "Spark needs pyspark (and Java): pip install 'xlhealth[spark]'"
        )
        SparkSession = spark_sql.SparkSession
        _, host, port, _, query = url_parts(url)
        master = "local[*]" if host in ("", "local") else f"spark://{host}:{port or 7077}"
        active = SparkSession.getActiveSession()
        self.spark = active or (SparkSession.builder.master(master).appName("xlhealth")
                                .config("spark.ui.enabled", "false").getOrCreate())  # fmt: skip
        if query.get("catalog"):
            self.spark.catalog.setCurrentCatalog(query["catalog"])
        if query.get("schema"):
            self.spark.catalog.setCurrentDatabase(query["schema"])

    def run(self, sql: str, params: dict) -> tuple[list[str], list[tuple]]:
        frame = self.spark.sql(sql, args=params or None)
        return list(frame.columns), [tuple(r) for r in frame.collect()]

    def close(self) -> None:
        pass  # the session is shared by the process: left running for the next source
