"""The Sources sheet validated with located problems; files found, typed and decoded as the
contract says; and no raw event ever reaches pandas (memory grows with customers, not rows)."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import duckdb
import pandas as pd
import pytest

from tests.sources_data import customers_frame, full_model, recogniser, write
from xlhealth.core.aggregate import aggregate
from xlhealth.core.config import default_model
from xlhealth.core.problems import Problem
from xlhealth.inputs.matching import prepare_customers
from xlhealth.inputs.sources import SourceSpec, open_sources, read_sources
from xlhealth.inputs.sources.files import SourceError, prepare_text, resolve
from xlhealth.inputs.sources.spec import has_password, mask_password

COLUMNS = ["sheet", "path", "format", "encoding", "mode", "connection", "query"]


def validate(*rows: list[str]) -> tuple[list[SourceSpec], list[Problem]]:
    frame = pd.DataFrame(list(rows), columns=COLUMNS)
    frame["_row"] = range(6, 6 + len(rows))
    problems: list[Problem] = []
    return read_sources(frame, problems), problems


def test_a_valid_sheet():
    specs, problems = validate(
        ["logins", "events/*.parquet", "", "", "", "", ""],
        ["Support", "t.csv", "CSV", "Shift_JIS", "Append", "", ""],
        ["Surveys", "", "", "", "", "postgresql://cs@db:5432/crm", "SELECT * FROM nps"],
        ["Events", "", "", "", "", "duckdb:///e.duckdb", "events"],
    )
    assert problems == []
    assert [(s.sheet, s.row, s.engine) for s in specs] == [
        ("Logins", 6, "files"),
        ("Support", 7, "files"),
        ("Surveys", 8, "postgresql"),
        ("Events", 9, "duckdb"),
    ]
    assert (specs[1].format, specs[1].encoding, specs[1].mode) == ("csv", "cp932", "append")
    assert specs[0].where == "Sources row 6 (events/*.parquet)"


@pytest.mark.parametrize(
    "row, column, words",
    [
        (["Logins", "a.csv", "xlsx", "", "", "", ""], "format", "unknown format"),
        (["Logins", "a.csv", "", "latin-9", "", "", ""], "encoding", "unknown encoding"),
        (["Logins", "a.csv", "", "", "merge", "", ""], "mode", "unknown mode"),
        (["Logins", "a.parquet", "parquet", "cp932", "", "", ""], "encoding", "leave encoding"),
        (["Logins", "", "", "", "", "", ""], "path", "give a path"),
        (["Logins", "a.csv", "", "", "", "duckdb:///x.duckdb", "t"], "connection", "not both"),
        (["Logins", "a.csv", "", "", "", "", "SELECT 1"], "query", "needs a connection"),
        (["Logins", "", "", "", "", "mysql://x@y/z", "t"], "connection", "database URL"),
        (["Logins", "", "", "", "", "postgresql://x@y/z", ""], "query", "needs a query"),
        (["Logins", "", "csv", "", "", "duckdb:///x.duckdb", "t"], "format", "for files"),
        (["Customers", "c.csv", "", "", "", "", ""], "sheet", "stays in the workbook"),
        (["Maturity", "c.csv", "", "", "", "", ""], "sheet", "stays in the workbook"),
        (["", "c.csv", "", "", "", "", ""], "sheet", "required"),
    ],
)
def test_each_mistake_is_located_and_blocks(row, column, words):
    specs, problems = validate(row)
    assert specs == []
    assert [(p.sheet, p.row, p.column, p.blocking) for p in problems][:1] == [
        ("Sources", 6, column, True)
    ]
    assert words in problems[0].message


def test_one_row_per_sheet():
    _, problems = validate(["Logins", "a.csv", *[""] * 5], ["LOGINS", "b.csv", *[""] * 5])
    assert [(p.row, p.column) for p in problems] == [(7, "sheet")]
    assert "already has a source on row 6" in problems[0].message


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://cs:hunter2@db:5432/crm",
        "postgresql://cs@db:5432/crm?password=hunter2",
        "postgres://cs@db/crm?sslmode=require&PASSWORD=hunter2",
        "postgresql+psycopg://cs:hunter2@db/crm",
    ],
)
def test_a_password_in_the_url_is_refused_and_never_shown(url):
    assert has_password(url)
    _, problems = validate(["Logins", "", "", "", "", url, "logins"])
    [p] = problems
    assert (p.row, p.column, p.blocking) == (6, "connection", True)
    assert "hunter2" not in str(p) and "PGPASSWORD" in p.message and "***" in str(p)
    assert "hunter2" not in mask_password(url)


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("snowflake://cs:hunter2@acme-xy12345/EVENTS/PUBLIC?warehouse=WH", "SNOWFLAKE_PASSWORD"),
        ("snowflake://cs@acme/EVENTS?private_key_file_pwd=hunter2", "SNOWFLAKE_PASSWORD"),
        ("databricks://token:hunter2@dbc-1.cloud.databricks.com?http_path=/sql/1.0/x",
         "DATABRICKS_TOKEN"),
        ("databricks://dbc-1.cloud.databricks.com?http_path=/x&access_token=hunter2",
         "DATABRICKS_TOKEN"),
        ("clickhouse://cs:hunter2@ch.example.com:8443/events", "CLICKHOUSE_PASSWORD"),
    ],
)  # fmt: skip
def test_a_warehouse_secret_in_the_url_is_refused_naming_where_it_goes(url, where):
    _, problems = validate(["Logins", "", "", "", "", url, "logins"])
    [p] = problems
    assert (p.column, p.blocking) == ("connection", True)
    assert "hunter2" not in str(p) and where in p.message


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("snowflake://cs@acme-xy12345/EVENTS/PUBLIC?warehouse=WH&role=READER", "snowflake"),
        ("snowflake://?connection_name=prod", "snowflake"),
        ("databricks://token@dbc-1.cloud.databricks.com?http_path=/sql/1.0/warehouses/abc",
         "spark"),
        ("spark://local", "spark"),
        ("clickhouse://cs@ch.example.com:8123/events", "clickhouse"),
        ("clickhouses://cs@ch.example.com/events", "clickhouse"),
        ("chdb:///data/chdb", "clickhouse"),
    ],
)  # fmt: skip
def test_warehouse_urls_are_accepted(url, engine):
    specs, problems = validate(["Logins", "", "", "", "", url, "events.logins"])
    assert problems == [] and specs[0].engine == engine


def test_warehouse_urls_become_client_arguments(monkeypatch):
    from xlhealth.inputs.sources.snowflake import connect_args

    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "from-env")
    assert connect_args("snowflake://cs@acme-xy12345/EVENTS/PUBLIC?warehouse=WH&role=R") == {
        "account": "acme-xy12345", "user": "cs", "database": "EVENTS", "schema": "PUBLIC",
        "warehouse": "WH", "role": "R", "password": "from-env",
    }  # fmt: skip
    assert connect_args("snowflake://?connection_name=prod") == {
        "connection_name": "prod", "password": "from-env"}  # fmt: skip
    browser = connect_args("snowflake://cs@acme?authenticator=externalbrowser")
    assert "password" not in browser and browser["authenticator"] == "externalbrowser"


def test_no_password_is_fine():
    assert not has_password("postgresql://cs@db:5432/crm?sslmode=require")
    assert not has_password("postgresql://@/crm?host=/var/run/postgresql")


def test_absent_or_empty_sheet_is_no_sources():
    assert read_sources(None, []) == []
    assert read_sources(pd.DataFrame(columns=COLUMNS), []) == []


# ----------------------------------------------------------------------------- files


def test_paths_globs_and_folders(tmp_path):
    for name in ("b.csv", "a.csv", ".hidden.csv", "~$lock.csv", "notes.md"):
        (tmp_path / "in" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_text("customer_id\nC1\n")
    assert [p.name for p in resolve("in", "auto", tmp_path).files] == ["a.csv", "b.csv"]
    assert [p.name for p in resolve("in/*.csv", "auto", tmp_path).files] == ["a.csv", "b.csv"]
    assert resolve(str(tmp_path / "in" / "a.csv"), "auto", tmp_path).format == "csv"
    assert resolve("in/notes.md", "tsv", tmp_path).format == "tsv"  # format given: any name
    with pytest.raises(SourceError, match=r"cannot tell the format of notes\.md") as caught:
        resolve("in/notes.md", "auto", tmp_path)
    assert caught.value.column == "format"
    with pytest.raises(SourceError, match="file not found"):
        resolve("in/zzz.csv", "auto", tmp_path)
    with pytest.raises(SourceError, match="no file matches"):
        resolve("in/*.parquet", "auto", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="holds no csv, tsv, parquet or jsonl file"):
        resolve("empty", "auto", tmp_path)
    (tmp_path / "in" / "c.jsonl").write_text("{}\n")
    with pytest.raises(SourceError, match="mixes formats"):
        resolve("in", "auto", tmp_path)


def test_encodings_and_the_line_that_fails(tmp_path):
    text = "customer_id,name\nC1,株式会社アルファ\nC2,ベータ\n"
    (tmp_path / "sjis.csv").write_bytes(text.encode("cp932"))
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    (tmp_path / "u16.csv").write_bytes(text.encode("utf-16"))
    for name, given in (("sjis.csv", "auto"), ("sjis.csv", "cp932"), ("bom.csv", "auto"),
                        ("u16.csv", "auto"), ("bom.csv", "utf-8")):  # fmt: skip
        files = resolve(name, "auto", tmp_path)
        prepare_text(files, given, tmp_path, tmp_path)
        got = duckdb.sql(f"SELECT * FROM read_csv('{files.read[0]}', all_varchar=true)").fetchall()
        assert got == [("C1", "株式会社アルファ"), ("C2", "ベータ")], name
    files = resolve("sjis.csv", "auto", tmp_path)
    with pytest.raises(SourceError, match=r"sjis\.csv: line 2 is not UTF-8") as caught:
        prepare_text(files, "utf-8", tmp_path, tmp_path)
    assert caught.value.column == "encoding"
    big = b"customer_id\n" + b"C1\n" * 3_000_000 + b"\x81\x20\n"  # beyond the first chunks
    (tmp_path / "late.csv").write_bytes(big)
    with pytest.raises(SourceError, match=r"line 3000002 is not cp932"):
        prepare_text(resolve("late.csv", "auto", tmp_path), "cp932", tmp_path, tmp_path)
    with pytest.raises(SourceError, match=r"neither UTF-8 \(line 3000002\) nor cp932"):
        prepare_text(resolve("late.csv", "auto", tmp_path), "auto", tmp_path, tmp_path)


def test_a_broken_csv_is_the_readers_message_in_one_line(tmp_path):
    (tmp_path / "ragged.csv").write_text("customer_id,date\nC001,2026-01-01\nC002,2026-01-02,x,y\n")
    specs = [SourceSpec("Logins", 2, "ragged.csv")]
    with open_sources(specs, tmp_path, recogniser()) as external:
        cust = customers_frame()
        got = aggregate(full_model(), prepare_customers(cust), {"Customers": cust},
                        dt.date(2026, 11, 20), external=external)  # fmt: skip
    [p] = [p for p in got.problems if p.sheet == "Sources"]
    assert p.row == 2 and p.column == "path" and "\n" not in p.message
    assert "ragged.csv" in p.message and "header on line 1" in p.message


def test_pasted_rows_replaced_by_a_source_are_said(tmp_path):
    write(pd.DataFrame({"customer_id": ["C001"], "date": ["2026-11-01"]}), tmp_path / "l.csv",
          "csv")  # fmt: skip
    cust = customers_frame()
    pasted = pd.DataFrame({"customer_id": ["C002", "C003"], "date": ["2026-11-02"] * 2})
    with open_sources([SourceSpec("Logins", 2, "l.csv")], tmp_path, recogniser()) as external:
        got = aggregate(full_model(), prepare_customers(cust), {"Customers": cust,
                        "Logins": pasted}, dt.date(2026, 11, 20), external=external)  # fmt: skip
    assert any("2 pasted rows are not used" in p.message for p in got.problems)
    assert got.values["count_all"].tolist()[:3] == [1, 0, 0]


def test_raw_events_never_reach_pandas(tmp_path):
    """Two million events: Python allocates a few MB (customers x metrics), not the events."""
    path = tmp_path / "events.parquet"
    duckdb.execute(
        f"COPY (SELECT 'C' || CAST(i % 5000 AS VARCHAR) AS customer_id, 'u' || CAST(i % 97 AS "
        "VARCHAR) AS user_id, TIMESTAMP '2026-11-20' - INTERVAL (i % 400) DAY AS date "
        f"FROM range(2000000) t(i)) TO '{path}' (FORMAT PARQUET)"
    )
    cust = pd.DataFrame({"customer_id": [f"C{k}" for k in range(5000)], "seats": 10})
    customers = prepare_customers(cust)
    model = default_model()
    tracemalloc.start()
    with open_sources([SourceSpec("Logins", 2, "events.parquet")], tmp_path, recogniser()) as ext:
        got = aggregate(model, customers, {"Customers": cust}, dt.date(2026, 11, 20), external=ext)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert got.sources["rows"].iloc[0] == 2_000_000
    assert got.values["login_days_14d"].sum() > 0
    assert peak < 40e6, f"{peak / 1e6:.0f} MB"  # the events alone would be ~100 MB in pandas
