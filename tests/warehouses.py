"""Local stand-ins for the warehouses, each a real engine: Snowflake through fakesnow (its
SQL translated and run by DuckDB, behind the real ``snowflake.connector`` API), Spark SQL
through pyspark in this process (ANSI mode, session zone Asia/Tokyo, as Databricks runs
the same SQL), ClickHouse through chDB (ClickHouse itself, as a library).

``load(engine, name, frame, types)`` writes a test table the way each warehouse holds it;
``connection(engine)`` is the Sources ``connection`` cell that reads it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from tests.sources_data import AS_OF, in_sheet
from xlhealth.core.model import Model
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.values import parse_numbers

WAREHOUSES = ("snowflake", "spark", "clickhouse")


def _kind(frame: pd.DataFrame, column: str, types: dict[str, str]) -> str:
    if column in types:
        return types[column]
    dtype = frame[column].dtype
    if str(dtype).startswith("datetime64"):
        return "timestamptz" if frame[column].dt.tz is not None else "timestamp"
    return {"float64": "float", "int64": "int", "bool": "bool"}.get(str(dtype), "text")


def _value(v: object, kind: str) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        if kind == "date":
            return v.strftime("%Y-%m-%d")
        return v.isoformat(sep=" ")
    return v


def rows(frame: pd.DataFrame, kinds: list[str]) -> list[tuple]:
    return [tuple(_value(v, k) for v, k in zip(row, kinds, strict=True))
            for row in frame.itertuples(index=False, name=None)]  # fmt: skip


class Snowflake:
    TYPES: ClassVar[dict[str, str]] = {
        "text": "VARCHAR", "float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN", "date": "DATE",
        "timestamp": "TIMESTAMP_NTZ", "timestamptz": "TIMESTAMP_TZ", "decimal": "NUMBER(14, 2)",
    }  # fmt: skip

    def __init__(self) -> None:
        import fakesnow

        self.folder = Path(tempfile.mkdtemp(prefix="xlhealth-fakesnow-"))
        self.patch = fakesnow.patch(db_path=str(self.folder))
        self.patch.__enter__()

    def connect(self):
        import snowflake.connector

        return snowflake.connector.connect(account="xlh", user="reader", database="EVENTS",
                                           schema="PUBLIC")  # fmt: skip

    def load(self, name: str, frame: pd.DataFrame, types: dict[str, str]) -> None:
        kinds = [_kind(frame, c, types) for c in frame.columns]
        columns = ", ".join(f"{c} {self.TYPES[k]}" for c, k in zip(frame.columns, kinds,
                                                                    strict=True))  # fmt: skip
        con = self.connect()
        cur = con.cursor()
        cur.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
        marks = ", ".join(["%s"] * len(kinds))
        cur.executemany(f"INSERT INTO {name} VALUES ({marks})", rows(frame, kinds))
        con.close()

    def connection(self) -> str:
        return "snowflake://reader@xlh/EVENTS/PUBLIC"

    def close(self) -> None:
        self.patch.__exit__(None, None, None)
        shutil.rmtree(self.folder, ignore_errors=True)


class Spark:
    TYPES: ClassVar[dict[str, str]] = {
        "text": "STRING", "float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN", "date": "DATE",
        "timestamp": "TIMESTAMP_NTZ", "timestamptz": "TIMESTAMP", "decimal": "DECIMAL(14, 2)",
    }  # fmt: skip

    def __init__(self) -> None:
        if shutil.which("java") is None:
            pytest.skip("Spark needs Java: scripts/test installs openjdk-17-jre-headless")
        from pyspark.sql import SparkSession

        self.spark = (
            SparkSession.builder.master("local[2]").appName("xlhealth-tests")
            .config("spark.ui.enabled", "false").config("spark.sql.ansi.enabled", "true")
            .config("spark.sql.session.timeZone", "Asia/Tokyo")  # the UTC day is explicit
            .config("spark.sql.shuffle.partitions", "2").getOrCreate()
        )  # fmt: skip
        self.spark.sparkContext.setLogLevel("ERROR")

    def load(self, name: str, frame: pd.DataFrame, types: dict[str, str]) -> None:
        kinds = [_kind(frame, c, types) for c in frame.columns]
        typed = [k in ("date", "timestamp", "timestamptz", "decimal") for k in kinds]
        schema = ", ".join(
            f"`{c}` {'STRING' if t else self.TYPES[k]}"
            for c, k, t in zip(frame.columns, kinds, typed, strict=True)
        )
        data = self.spark.createDataFrame(
            [tuple(None if v is None else str(v) if t else v for v, t in zip(r, typed, strict=True))
             for r in rows(frame, kinds)], schema=schema)  # fmt: skip
        data.createOrReplaceTempView(f"xlh_raw_{name}")
        select = ", ".join(
            f"CAST(`{c}` AS {self.TYPES[k]}) AS `{c}`" if t else f"`{c}`"
            for c, k, t in zip(frame.columns, kinds, typed, strict=True)
        )
        self.spark.sql(f"CREATE OR REPLACE TEMP VIEW `{name}` AS SELECT {select} "
                       f"FROM xlh_raw_{name}")  # fmt: skip

    def connection(self) -> str:
        return "spark://local"

    def close(self) -> None:
        self.spark.stop()  # its JVM holds a gigabyte the rest of the run can use


class ClickHouse:
    TYPES: ClassVar[dict[str, str]] = {
        "text": "Nullable(String)", "float": "Nullable(Float64)", "int": "Nullable(Int64)",
        "bool": "Nullable(Bool)", "date": "Nullable(Date32)",
        "timestamp": "Nullable(DateTime64(6, 'UTC'))",
        "timestamptz": "Nullable(DateTime64(6, 'Asia/Tokyo'))",
        "decimal": "Nullable(Decimal(14, 2))",
    }  # fmt: skip

    def __init__(self, folder: Path | None = None) -> None:
        from chdb import session

        self.folder = folder or Path(tempfile.mkdtemp(prefix="xlhealth-chdb-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.session = session.Session(str(self.folder))
        self.session.query("CREATE DATABASE IF NOT EXISTS events")

    def load(self, name: str, frame: pd.DataFrame, types: dict[str, str]) -> None:
        kinds = [_kind(frame, c, types) for c in frame.columns]
        columns = ", ".join(f"`{c}` {self.TYPES[k]}" for c, k in zip(frame.columns, kinds,
                                                                      strict=True))  # fmt: skip
        self.session.query(f"DROP TABLE IF EXISTS events.`{name}`")
        self.session.query(f"CREATE TABLE events.`{name}` ({columns}) ENGINE = MergeTree "
                           "ORDER BY tuple()")  # fmt: skip
        lines = [json.dumps(dict(zip(frame.columns, r, strict=True)), default=str)
                 for r in rows(frame, kinds)]  # fmt: skip
        if lines:
            self.session.query(
                f"INSERT INTO events.`{name}` SETTINGS date_time_input_format = 'best_effort' "
                "FORMAT JSONEachRow " + "\n".join(lines)
            )

    def connection(self) -> str:
        return f"chdb:///{self.folder}"

    def close(self, keep: bool = False) -> None:
        self.session.close()
        if not keep:
            shutil.rmtree(self.folder, ignore_errors=True)


STAND_INS = {"snowflake": Snowflake, "spark": Spark, "clickhouse": ClickHouse}


def table_name(warehouse: str, name: str) -> str:
    """How a query names the test table in each stand-in."""
    return f"events.{name}" if warehouse == "clickhouse" else name


# ----------------------------------------------------------------------------- expected


def in_sheet_unordered(model: Model, cust: pd.DataFrame, sheets: dict[str, pd.DataFrame],
                       as_of=AS_OF, before: dict[str, pd.DataFrame] | None = None):  # fmt: skip
    """The in-sheet result when the rows have no order: for ``latest`` and ``value``, rows
    tied on the day (or, for ``value``, a customer's repeated rows) give their greatest
    value — the rule xlhealth applies to a warehouse table. Computed by ordering the rows
    so that the sheet's own rule (the last row of the day wins; the first row wins) picks
    that value. ``before``: rows pasted in the sheet (mode append), kept first."""
    before = before or {}

    def joined(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        return {k: pd.concat([before[k], v], ignore_index=True) if k in before else v
                for k, v in frames.items()}  # fmt: skip

    expected = in_sheet(model, cust, joined(sheets), as_of=as_of)
    for m in model.metrics:
        if m.aggregate not in ("latest", "value") or m.source not in sheets:
            continue
        frame = sheets[m.source]
        column = next((c for c in frame.columns
                       if normalise_header(c) == normalise_header(m.column)), None)  # fmt: skip
        if column is None:
            continue
        values = frame[column]
        if m.is_text:
            key = values.map(lambda v: None if v is None or v != v else str(v))
        else:
            key = parse_numbers(values.astype(object))
        ordered = frame.assign(_key=key.to_numpy()).sort_values(
            "_key", ascending=m.aggregate == "latest", kind="stable", na_position="first"
        ).drop(columns="_key")  # fmt: skip
        got = in_sheet(model, cust, joined({**sheets, m.source: ordered}), as_of=as_of)
        expected.values[m.name] = got.values[m.name]
    return expected
