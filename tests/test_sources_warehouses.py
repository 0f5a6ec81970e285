"""Warehouse sources — Snowflake, Databricks/Spark, ClickHouse — equal to the pasted rows.

The PostgreSQL parity suite (every aggregate kind, filters, windows, ID/e-mail/name links,
case-sensitive IDs, per-customer as-of, append, zoned timestamps) run on three real local
engines (tests/warehouses.py), plus what a stand-in cannot see: each rendered query parses
in its own dialect (sqlglot, a test dependency only) and keeps the rules Snowflake and
Databricks enforce (no unordered ``ROW_NUMBER()``, no ``MATERIALIZED``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.sources_data import (
    AS_OF,
    assert_same,
    customers_frame,
    events,
    full_model,
    onboarding,
    through_sources,
    usage,
)
from tests.test_sources_parity import typed_events
from tests.warehouses import STAND_INS, WAREHOUSES, in_sheet_unordered, table_name
from xlhealth.inputs.sources import SourceSpec
from xlhealth.inputs.sources.snowflake import SnowflakeEngine
from xlhealth.inputs.sources.warehouse import WarehouseEngine


@pytest.fixture(scope="module", params=WAREHOUSES)
def warehouse(request):
    stand_in = STAND_INS[request.param]()
    stand_in.name = request.param
    yield stand_in
    stand_in.close()


@pytest.fixture
def queries(monkeypatch):
    """Every query a warehouse engine runs, as sent."""
    sent: list[str] = []
    fetch = WarehouseEngine.fetch

    def recorded(self, sql):
        sent.append(sql)
        return fetch(self, sql)

    monkeypatch.setattr(WarehouseEngine, "fetch", recorded)
    return sent


def specs(warehouse, tables: dict[str, str], mode: str = "replace") -> list[SourceSpec]:
    return [
        SourceSpec(sheet, row, connection=warehouse.connection(), query=q, mode=mode)
        for row, (sheet, q) in enumerate(tables.items(), 2)
    ]


def test_every_aggregate(warehouse, queries):
    cust = customers_frame()
    ev = typed_events(700, seed=21)
    text = events(600, seed=22)
    warehouse.load("logins", ev, {})
    warehouse.load("surveys", text, {})
    warehouse.load("usage", usage(), {})
    warehouse.load("onboarding", onboarding(), {})
    model = full_model()
    t = {k: table_name(warehouse.name, k) for k in ("logins", "surveys", "usage", "onboarding")}
    got = through_sources(model, cust, specs(warehouse, {
        "Logins": t["logins"],
        "Surveys": f"SELECT * FROM {t['surveys']} WHERE kind LIKE '%a%' OR kind IS NULL",
        "Usage": t["usage"],
        "Onboarding": f"SELECT * FROM {t['onboarding']}",
    }), Path("."))  # fmt: skip
    kind = text["kind"]
    expected = in_sheet_unordered(model, cust, {
        "Logins": ev, "Surveys": text[kind.str.contains("a", na=True)], "Usage": usage(),
        "Onboarding": onboarding(),
    })  # fmt: skip
    assert got.sources["status"].tolist() == ["ok"] * 4, got.sources["status"].tolist()
    assert_same(expected, got)
    assert queries and all("MATERIALIZED" not in q and "OVER ()" not in q for q in queries)


def test_case_sensitive_ids(warehouse):
    cust = customers_frame(case_sensitive=True)
    text = events(500, seed=31)
    warehouse.load("cased", text, {})
    model = full_model()
    got = through_sources(model, cust, specs(warehouse, {
        "Logins": table_name(warehouse.name, "cased")}), Path("."))  # fmt: skip
    assert_same(in_sheet_unordered(model, cust, {"Logins": text}), got)


def test_zoned_timestamps_land_on_their_utc_day(warehouse):
    """Tokyo instants (the Spark session itself runs in Tokyo): each counts on its UTC day,
    whatever the session's or the column's zone; a DATE column holds that day."""
    cust = customers_frame()
    ev = typed_events(400, seed=23, tz="Asia/Tokyo")
    # instants within nine hours of midnight: their Tokyo day is not their UTC day
    assert (ev["date"].dt.date != ev["date"].dt.tz_convert("UTC").dt.date).any()
    warehouse.load("stamped", ev, {})
    days = ev.assign(date=ev["date"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize())
    warehouse.load("dated", days, {"date": "date"})
    model = full_model()
    for table, frame in (("stamped", ev), ("dated", days)):
        got = through_sources(model, cust, specs(warehouse, {
            "Logins": table_name(warehouse.name, table)}), Path("."))  # fmt: skip
        assert_same(in_sheet_unordered(model, cust, {"Logins": frame}), got)


def test_decimal_numbers(warehouse):
    """NUMBER / DECIMAL columns (money, scores) read as the numbers a sheet holds."""
    cust = customers_frame()
    ev = typed_events(300, seed=27)
    ev["n"] = ev["n"].round(2).where(ev["n"].abs() < 1e9)
    warehouse.load("priced", ev, {"n": "decimal"})
    model = full_model()
    got = through_sources(model, cust, specs(warehouse, {
        "Logins": table_name(warehouse.name, "priced")}), Path("."))  # fmt: skip
    assert_same(in_sheet_unordered(model, cust, {"Logins": ev}), got)
    assert got.values["total"].abs().sum() > 0


def test_append_and_per_customer_as_of(warehouse):
    cust = customers_frame()
    text = events(500, seed=24)
    warehouse.load("more_logins", text.iloc[200:], {})
    model = full_model()
    n = len(cust)
    as_of = np.array([AS_OF] * n, dtype="datetime64[D]") - np.arange(n) * 11
    as_of[1] = np.datetime64("NaT")
    got = through_sources(
        model, cust, specs(warehouse, {"Logins": table_name(warehouse.name, "more_logins")},
                           mode="append"),
        Path("."), sheets={"Logins": text.iloc[:200]}, as_of=as_of,
    )  # fmt: skip
    expected = in_sheet_unordered(model, cust, {"Logins": text.iloc[200:]}, as_of=as_of,
                                  before={"Logins": text.iloc[:200]})  # fmt: skip
    assert_same(expected, got)


def test_ties_take_the_greatest_value_and_are_said(warehouse):
    """A table has no row order: two values on a customer's latest day give the greatest,
    and Checks says how many customers had such a tie."""
    cust = customers_frame()
    day = pd.Timestamp(AS_OF) - pd.Timedelta(days=3)
    frame = pd.DataFrame({
        "customer_id": ["C001", "C001", "C001", "C002", "C002"],
        "date": [day - pd.Timedelta(days=9), day, day, day, day],
        "n": [100.0, 2.0, 7.0, 5.0, 5.0],
        "plan": ["zzz", "gold", "Silver", "gold", "gold"],
    })  # fmt: skip
    warehouse.load("tied", frame, {})
    model = full_model()
    got = through_sources(model, cust, specs(warehouse, {
        "Logins": table_name(warehouse.name, "tied")}), Path("."))  # fmt: skip
    pos = {c: i for i, c in enumerate(cust["customer_id"])}
    assert got.values["last_n"].iloc[pos["C001"]] == 7.0
    assert got.values["last_plan"].iloc[pos["C001"]] == "gold"  # "gold" > "Silver"
    assert got.values["last_n"].iloc[pos["C002"]] == 5.0
    said = [p.message for p in got.problems if "no row order" in p.message]
    assert any(m.startswith("metric last_n: 1 customer(s)") for m in said), said
    assert any(m.startswith("metric last_plan: 1 customer(s)") for m in said), said
    assert_same(in_sheet_unordered(model, cust, {"Logins": frame}), got)


@pytest.fixture
def sent_tables(monkeypatch):
    """The rows of every small table a warehouse engine sends (mappings, as-of dates)."""
    sizes: list[int] = []
    table = WarehouseEngine.table

    def recorded(self, name, frame, kinds):
        sizes.append(len(frame))
        return table(self, name, frame, kinds)

    monkeypatch.setattr(WarehouseEngine, "table", recorded)
    return sizes


def test_many_addresses_and_user_ids_send_small_maps(warehouse, sent_tables):
    """20,000 e-mail addresses and integer user IDs: what SQL can read itself never travels
    (an address is reduced to its domain, an integer is its own code), so the mappings sent
    back hold a few rows — and the values equal the pasted rows'."""
    cust = customers_frame()
    n = 20_000
    rng = np.random.default_rng(5)
    domains = np.array(["alpha.com", "Gamma.io", "EPS.com", "zeta.net", "nowhere.org",
                        "www.beta.co.jp"], dtype=object)  # fmt: skip
    frame = pd.DataFrame({
        "email": [f"user{k}@{d}" for k, d in enumerate(domains[rng.integers(0, 6, n)])],
        "date": pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 100 * 86400, n), "s"),
        "user_id": rng.integers(0, 15_000, n),
        "n": rng.normal(10, 3, n),
    })  # fmt: skip
    frame.loc[:4, "email"] = ["Bob <bob@alpha.com>", "ｘ@gamma.io", "two@@eps.com", "", None]
    warehouse.load("addresses", frame, {})
    model = full_model()
    got = through_sources(model, cust, specs(warehouse, {
        "Logins": table_name(warehouse.name, "addresses")}), Path("."))  # fmt: skip
    assert_same(in_sheet_unordered(model, cust, {"Logins": frame}), got)
    assert got.values["users"].max() > 1000  # the distinct counts are real
    assert sent_tables and max(sent_tables) <= 20, sent_tables


def test_values_sql_cannot_read_beyond_what_a_query_carries_are_located(warehouse, monkeypatch):
    """Values only Python can read (here 3,000 Japanese user names counted distinct) travel
    back as a mapping; past what the warehouse takes in one query (Snowflake: 1 MB; here
    lowered to 20 kB) the source stops with one located line, not the server's error."""
    for engine in (WarehouseEngine, SnowflakeEngine):
        monkeypatch.setattr(engine, "max_query_bytes", 20_000)
    cust = customers_frame()
    frame = pd.DataFrame({
        "customer_id": ["C001", "C002"] * 1500,
        "date": [pd.Timestamp(AS_OF)] * 3000,
        "user_id": [f"ユーザー{k}" for k in range(3000)],
    })  # fmt: skip
    warehouse.load("named_users", frame, {})
    got = through_sources(full_model(), cust, specs(warehouse, {
        "Logins": table_name(warehouse.name, "named_users")}), Path("."))  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert (failed.row, failed.column) == (2, "query") and "\n" not in failed.message
    assert "MB of values to look up" in failed.message and "customer_id" in failed.message
    assert got.sources["status"].iloc[0].startswith("failed: this source's query")
    assert "users" in got.unavailable


def test_a_failing_query_is_one_line_on_its_sources_row(warehouse):
    cust, model = customers_frame(), full_model()
    got = through_sources(model, cust, specs(warehouse, {
        "Logins": "SELECT * FROM no_such_table_here"}), Path("."))  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert failed.row == 2 and failed.column == "query" and "\n" not in failed.message
    assert "no_such_table_here" in failed.message.casefold()
    assert "count_all" in got.unavailable


# ----------------------------------------------------------------------------- rendering

SQLGLOT = {"snowflake": "snowflake", "spark": "databricks", "clickhouse": "clickhouse"}


def test_each_query_parses_in_its_own_dialect(warehouse, queries):
    sqlglot = pytest.importorskip("sqlglot")
    cust = customers_frame()
    warehouse.load("parsed", typed_events(200, seed=41, tz="Asia/Tokyo"), {})
    warehouse.load("parsed_text", events(200, seed=42), {})
    model = full_model()
    through_sources(model, cust, specs(warehouse, {
        "Logins": table_name(warehouse.name, "parsed"),
        "Surveys": table_name(warehouse.name, "parsed_text")}), Path("."))  # fmt: skip
    assert len(queries) >= 6
    for q in queries:
        text = q.replace("\x00", "'")  # a parameter's place (Snowflake, ClickHouse)
        sqlglot.parse_one(text, read=SQLGLOT[warehouse.name])  # raises when it does not parse
        assert "MATERIALIZED" not in q and "OVER ()" not in q
    if warehouse.name == "snowflake":
        assert any("CONVERT_TIMEZONE('UTC'" in q for q in queries)  # TIMESTAMP_TZ -> UTC day
    if warehouse.name == "spark":
        assert any("UNIX_MICROS(" in q for q in queries)
    if warehouse.name == "clickhouse":
        assert any("toDate32(" in q and "'UTC')" in q for q in queries)


def test_urls_and_missing_clients_are_located(tmp_path):
    cust, model = customers_frame(), full_model()
    got = through_sources(model, cust, [
        SourceSpec("Logins", 2, connection=f"chdb:///{tmp_path / 'absent'}", query="t"),
    ], tmp_path)  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert failed.column == "connection" and "chDB folder not found" in failed.message


@pytest.mark.parametrize(
    ("module", "url", "words"),
    [
        ("clickhouse_connect", "clickhouse://cs@ch.example.com:8123/events",
         "pip install 'xlhealth[clickhouse]'"),
        ("databricks.sql", "databricks://token@dbc-1.cloud.databricks.com?http_path=/sql/1.0/x",
         "pip install 'xlhealth[databricks]'"),
    ],
)  # fmt: skip
def test_a_client_not_installed_is_one_line_saying_what_to_install(
    tmp_path, monkeypatch, module, url, words
):
    """The clients are extras: without one, its sources fail with the pip line to run."""
    monkeypatch.setitem(sys.modules, module, None)  # absent, whether or not it is installed
    got = through_sources(full_model(), customers_frame(), [
        SourceSpec("Logins", 2, connection=url, query="logins")], tmp_path)  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert failed.column == "connection" and words in failed.message
    assert got.sources["status"].iloc[0].startswith("failed:")
