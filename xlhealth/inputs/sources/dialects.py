"""How each engine spells the few things the source SQL needs that SQL does not agree on.

The aggregate SQL (:mod:`xlhealth.inputs.sources.sql`, ``rows``, ``compute``…) is one text;
a :class:`Dialect` fills its dozen hooks: the type names, a regular-expression match, the
day number of a date, the **UTC day of an instant** (computed explicitly, never left to
the session's or the column's zone), typed NULLs, the row order, a CTE hint, quoting,
literals of instants, and the names results come back under. The base dialect writes
exactly the text PostgreSQL and DuckDB have always run; the warehouses differ only where
they must (measured on fakesnow, local Spark and chdb: tests/test_sources_warehouses.py).

Not sqlglot at run time: the rules are few, each is tested on its engine, and a translator
that silently changed the meaning of a zoned day (it did, for ClickHouse and Spark) is
the error this layer exists to prevent.
"""

from __future__ import annotations

from typing import ClassVar


class Dialect:
    """PostgreSQL and DuckDB: sessions in UTC, a relation with a row order."""

    name = "postgresql"
    ordered = True
    """``ROW_NUMBER() OVER ()`` follows the relation's order (files, a PostgreSQL scan).
    A warehouse table has none: ties of ``latest``/``value`` are then broken by value."""
    types: ClassVar[dict[str, str]] = {
        "text": "VARCHAR",
        "int": "BIGINT",
        "float": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMP WITH TIME ZONE",
    }

    def type(self, kind: str) -> str:
        return self.types[kind]

    def cast(self, x: str, kind: str) -> str:
        return f"CAST({x} AS {self.types[kind]})"

    def null(self, kind: str) -> str:
        """A NULL of ``kind``: a branch or column that is NULL in every row."""
        return f"CAST(NULL AS {self.types[kind]})"

    def regex(self, x: str, pattern: str) -> str:
        """True where text ``x`` matches ``pattern`` (anchored by ``^…$``; NULL stays NULL)."""
        return f"({x} ~ '{pattern}')"

    def quote(self, name: str) -> str:
        return '"' + str(name).replace('"', '""') + '"'

    def day(self, x: str, kind: str) -> str:
        """Days since 1970-01-01 of a typed date, wall-clock timestamp or instant (an
        instant: its UTC day — here the session runs in UTC)."""
        return f"CAST(CAST({x} AS DATE) - DATE '1970-01-01' AS BIGINT)"

    def instant(self, iso_day: str, kind: str) -> str:
        """Midnight starting ``iso_day`` as a value of typed column kind ``kind``
        (UTC midnight for an instant), to compare a column with in a scan."""
        if kind == "date":
            return f"CAST('{iso_day}' AS DATE)"
        if kind == "timestamp":
            return f"CAST('{iso_day} 00:00:00' AS TIMESTAMP)"
        return f"CAST('{iso_day} 00:00:00+00' AS {self.types['timestamptz']})"

    small_maps = False
    """Reduce in SQL what need not travel (an e-mail to its domain, an integer's code):
    a warehouse caps what one query may carry (Snowflake: 1 MB with its parameters)."""

    def row_order(self) -> str:
        return "ROW_NUMBER() OVER ()" if self.ordered else "0"

    def materialized(self) -> str:
        """The hint that a CTE read twice is computed once."""
        return "MATERIALIZED "

    def result_name(self, name: str) -> str:
        return name


class SnowflakeDialect(Dialect):
    """Snowflake: ``TIMESTAMP_TZ`` keeps each value's own offset, so its day is taken after
    converting to UTC; unquoted result names come back upper-cased."""

    name = "snowflake"
    ordered = False
    small_maps = True
    types: ClassVar[dict[str, str]] = {
        **Dialect.types, "float": "DOUBLE", "timestamp": "TIMESTAMP_NTZ",
        "timestamptz": "TIMESTAMP_TZ",
    }  # fmt: skip

    def regex(self, x: str, pattern: str) -> str:
        return f"REGEXP_LIKE({x}, '{pattern}')"  # the whole text must match: anchored anyway

    def day(self, x: str, kind: str) -> str:
        if kind == "timestamptz":
            x = f"CONVERT_TIMEZONE('UTC', {x})"
        return f"DATEDIFF(day, DATE '1970-01-01', CAST({x} AS DATE))"

    def instant(self, iso_day: str, kind: str) -> str:
        if kind == "timestamptz":
            return f"CAST('{iso_day} 00:00:00+00:00' AS TIMESTAMP_TZ)"
        return super().instant(iso_day, kind).replace("AS TIMESTAMP)", "AS TIMESTAMP_NTZ)")

    def materialized(self) -> str:
        return ""

    def result_name(self, name: str) -> str:
        return name.lower()


class SparkDialect(Dialect):
    """Databricks SQL / Spark (ANSI mode): ``TIMESTAMP`` is an instant whose day the session
    zone would choose, so its UTC day is counted from its microseconds; backtick quoting."""

    name = "databricks"
    ordered = False  # and ROW_NUMBER() without ORDER BY is refused
    small_maps = True
    types: ClassVar[dict[str, str]] = {
        **Dialect.types, "text": "STRING", "float": "DOUBLE", "timestamp": "TIMESTAMP_NTZ",
        "timestamptz": "TIMESTAMP",
    }  # fmt: skip

    def regex(self, x: str, pattern: str) -> str:
        return f"({x} RLIKE '{pattern}')"

    def quote(self, name: str) -> str:
        return "`" + str(name).replace("`", "``") + "`"

    def day(self, x: str, kind: str) -> str:
        if kind == "timestamptz":
            return f"CAST(FLOOR(UNIX_MICROS({x}) / 86400000000) AS BIGINT)"
        return f"CAST(UNIX_DATE(CAST({x} AS DATE)) AS BIGINT)"

    def instant(self, iso_day: str, kind: str) -> str:
        if kind == "timestamptz":
            return f"CAST('{iso_day} 00:00:00+00:00' AS TIMESTAMP)"
        if kind == "timestamp":
            return f"CAST('{iso_day} 00:00:00' AS TIMESTAMP_NTZ)"
        return f"CAST('{iso_day}' AS DATE)"

    def materialized(self) -> str:
        return ""


class ClickHouseDialect(Dialect):
    """ClickHouse: every ``DateTime`` is an instant (its UTC day, named explicitly); types
    are not nullable unless said (sessions keep nullability through ``CAST``)."""

    name = "clickhouse"
    ordered = False
    small_maps = True
    types: ClassVar[dict[str, str]] = {
        "text": "String", "int": "Int64", "float": "Float64", "bool": "Bool", "date": "Date32",
        "timestamp": "DateTime64(6, 'UTC')", "timestamptz": "DateTime64(6, 'UTC')",
    }  # fmt: skip

    def null(self, kind: str) -> str:
        return f"CAST(NULL AS Nullable({self.types[kind]}))"

    def regex(self, x: str, pattern: str) -> str:
        return f"match({x}, '{pattern}')"

    def day(self, x: str, kind: str) -> str:
        if kind == "date":
            return f"toInt64(toDate32({x}))"
        return f"toInt64(toDate32({x}, 'UTC'))"

    def result_name(self, name: str) -> str:
        return name.rsplit(".", 1)[-1]  # ``xg.pos`` when a join repeats the name

    def instant(self, iso_day: str, kind: str) -> str:
        if kind == "date":
            return f"toDate32('{iso_day}')"
        return f"toDateTime64('{iso_day} 00:00:00', 6, 'UTC')"

    def materialized(self) -> str:
        return ""


BASE = Dialect()
