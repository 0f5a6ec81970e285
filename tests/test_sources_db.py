"""Database sources: a DuckDB file and a real PostgreSQL server, the same parity checks.

The PostgreSQL tests start a throwaway server (initdb + pg_ctl) on a unix socket in a
temporary folder for the session; ``scripts/test`` installs PostgreSQL from Debian packages
when initdb is missing. Where it cannot start, the tests are skipped with the reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.sources_data import (
    AS_OF,
    assert_same,
    customers_frame,
    events,
    full_model,
    in_sheet,
    onboarding,
    through_sources,
    usage,
)
from tests.test_sources_parity import typed_events
from xlhealth.inputs.sources import SourceSpec

PORT = 54329


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


@pytest.fixture(scope="session")
def postgres():
    """``(url, connect)`` of a throwaway PostgreSQL server on a unix socket."""
    import psycopg

    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL could not start: initdb not found on PATH nor in "
            "/usr/lib/postgresql/*/bin (scripts/test installs it: apt-get install postgresql)"
        )
    folder = Path(tempfile.mkdtemp(prefix="xlhealth-pg-"))
    folder.chmod(0o755)
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as an unprivileged user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = pwd.getpwnam("nobody")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", user.pw_name, "--"]
    data, log = folder / "data", folder / "server.log"

    def step(*args: str) -> None:
        done = subprocess.run([*run_as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            why = (done.stderr or done.stdout).strip().splitlines()[-1:]
            pytest.skip(f"PostgreSQL could not start: {Path(args[0]).name} failed: {why}")

    step(str(bin_dir / "initdb"), "-D", str(data), "-U", "xlhealth", "--auth=trust", "-E",
         "UTF8", "--no-locale")  # fmt: skip
    hba = data / "pg_hba.conf"  # the socket only; `reader` must give a password
    text = "local all reader scram-sha-256\nlocal all all trust\n"
    step("sh", "-c", f"printf '{text}' > {hba}")
    step(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
         f"-k {folder} -c listen_addresses='' -p {PORT}", "start")  # fmt: skip
    url = f"postgresql://xlhealth@/postgres?host={folder}&port={PORT}"
    try:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE DATABASE events")
            con.execute("CREATE ROLE reader LOGIN PASSWORD 'secret'")
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL could not start: {error}")
    base = f"postgresql://xlhealth@/events?host={folder}&port={PORT}"
    try:
        yield base, folder
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


PG_TYPES = {"object": "text", "float64": "double precision", "int64": "bigint", "bool": "boolean"}


def pg_table(url: str, name: str, frame: pd.DataFrame, types: dict[str, str] | None = None) -> None:
    import psycopg

    types = types or {}
    columns = []
    for column in frame.columns:
        kind = types.get(column) or PG_TYPES.get(str(frame[column].dtype), "text")
        if str(frame[column].dtype).startswith("datetime64"):
            kind = types.get(column, "timestamptz" if frame[column].dt.tz else "timestamp")
        columns.append(f'"{column}" {kind}')
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
        with con.cursor().copy(f'COPY "{name}" FROM STDIN') as copy:
            for row in frame.itertuples(index=False):
                copy.write_row([_pg_value(v) for v in row])
        con.execute(f'GRANT SELECT ON "{name}" TO reader')


def _pg_value(v: object) -> object:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def db_specs(connection: str, queries: dict[str, str], mode: str = "replace") -> list[SourceSpec]:
    return [
        SourceSpec(sheet, row, connection=connection, query=q, mode=mode)
        for row, (sheet, q) in enumerate(queries.items(), 2)
    ]


# ----------------------------------------------------------------------------- DuckDB file


def duckdb_file(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    con = duckdb.connect(str(path))
    for name, frame in tables.items():
        con.register("frame", frame)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM frame')
        con.unregister("frame")
    con.close()


def test_duckdb_file_tables_and_queries(tmp_path):
    cust = customers_frame()
    ev = typed_events(700, seed=11)
    text = events(500, seed=12)
    tables = {"logins": ev, "surveys": text, "usage": usage(), "onboarding": onboarding()}
    duckdb_file(tmp_path / "events.duckdb", tables)
    model = full_model()
    queries = {
        "Logins": "logins",
        "Surveys": "SELECT * FROM surveys WHERE kind IS NOT NULL OR role = 'user';",
        "Usage": "main.usage",
        "Onboarding": 'SELECT * FROM "onboarding"',
    }
    expected = in_sheet(
        model, cust,
        {"Logins": ev, "Surveys": text[text["kind"].notna() | (text["role"] == "user")],
         "Usage": usage(), "Onboarding": onboarding()},
    )  # fmt: skip
    for connection, base in (
        ("duckdb:///events.duckdb", tmp_path),
        (f"duckdb:///{tmp_path / 'events.duckdb'}", Path("/")),
    ):
        got = through_sources(model, cust, db_specs(connection, queries), base)
        assert_same(expected, got)
        assert got.sources["status"].tolist() == ["ok"] * 4
    before = (tmp_path / "events.duckdb").read_bytes()
    through_sources(model, cust, db_specs("duckdb:///events.duckdb", queries), tmp_path)
    assert (tmp_path / "events.duckdb").read_bytes() == before  # opened read-only


def test_duckdb_failing_query_is_the_database_message_in_one_line(tmp_path):
    duckdb_file(tmp_path / "e.duckdb", {"logins": typed_events(10)})
    cust = customers_frame()
    got = through_sources(
        full_model(), cust,
        db_specs("duckdb:///e.duckdb", {"Logins": "SELECT * FROM nope", "Usage": "logins"}),
        tmp_path,
    )  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert (failed.row, failed.column) == (2, "query")
    assert "Table with name nope does not exist" in failed.message
    assert "\n" not in failed.message
    assert "count_all" in got.unavailable and "Sources row 2" in got.unavailable["count_all"]
    assert got.sources["status"].iloc[0].startswith("failed: Catalog Error")


def test_duckdb_file_missing(tmp_path):
    got = through_sources(
        full_model(), customers_frame(), db_specs("duckdb:///nothere.duckdb", {"Logins": "x"}),
        tmp_path,
    )  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert failed.column == "connection" and "DuckDB file not found" in failed.message


# ----------------------------------------------------------------------------- PostgreSQL


def test_postgres_every_aggregate(postgres):
    url, _ = postgres
    cust = customers_frame()
    ev = typed_events(700, seed=21)
    text = events(600, seed=22)
    pg_table(url, "logins", ev)
    pg_table(url, "Surveys Export", text)
    pg_table(url, "usage", usage())
    pg_table(url, "onboarding", onboarding())
    model = full_model()
    queries = {
        "Logins": "logins",
        "Surveys": "SELECT * FROM \"Surveys Export\" WHERE (kind LIKE '%a%' OR kind IS NULL) "
        "AND '50%' = '5' || '0%'",  # a literal % stays a %
        "Usage": "public.usage",
        "Onboarding": "SELECT * FROM onboarding;",
    }
    kind = text["kind"]
    expected = in_sheet(
        model, cust,
        {"Logins": ev, "Surveys": text[kind.str.contains("a", na=True)], "Usage": usage(),
         "Onboarding": onboarding()},
    )  # fmt: skip
    got = through_sources(model, cust, db_specs(url, queries), Path("."))
    assert_same(expected, got)
    assert got.sources["status"].tolist() == ["ok"] * 4


def test_postgres_typed_dates_and_timestamptz(postgres):
    url, _ = postgres
    cust = customers_frame()
    ev = typed_events(400, seed=23, tz="Asia/Tokyo")
    pg_table(url, "stamped", ev)
    days = ev.assign(date=ev["date"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize())
    pg_table(url, "dated", days, {"date": "date"})
    model = full_model()
    for table, frame in (("stamped", ev), ("dated", days)):
        got = through_sources(model, cust, db_specs(url, {"Logins": table}), Path("."))
        assert_same(in_sheet(model, cust, {"Logins": frame}), got)


def test_postgres_append_and_per_customer_as_of(postgres):
    url, _ = postgres
    cust = customers_frame()
    text = events(500, seed=24)
    pg_table(url, "more_logins", text.iloc[200:])
    model = full_model()
    n = len(cust)
    as_of = np.array([AS_OF] * n, dtype="datetime64[D]") - np.arange(n) * 11
    as_of[1] = np.datetime64("NaT")
    got = through_sources(
        model, cust, db_specs(url, {"Logins": "more_logins"}, mode="append"), Path("."),
        sheets={"Logins": text.iloc[:200]}, as_of=as_of,
    )  # fmt: skip
    assert_same(in_sheet(model, cust, {"Logins": text}, as_of=as_of), got)


def test_postgres_password_comes_from_the_environment(postgres, monkeypatch):
    url, _ = postgres
    pg_table(url, "secret_logins", events(50, seed=25))
    reader = url.replace("postgresql://xlhealth@", "postgresql://reader@")
    spec = db_specs(reader, {"Logins": "secret_logins"})
    model, cust = full_model(), customers_frame()
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    refused = through_sources(model, cust, spec, Path("."))
    [failed] = [p for p in refused.problems if p.sheet == "Sources"]
    assert failed.column == "connection" and "password" in failed.message.casefold()
    monkeypatch.setenv("PGPASSWORD", "secret")
    got = through_sources(model, cust, spec, Path("."))
    assert_same(in_sheet(model, cust, {"Logins": events(50, seed=25)}), got)


def test_postgres_failing_query_and_read_only(postgres):
    url, _ = postgres
    pg_table(url, "keep", events(20, seed=26))
    cust, model = customers_frame(), full_model()
    got = through_sources(
        model, cust,
        db_specs(url, {"Logins": "SELECT * FROM missing_table", "Usage": "DELETE FROM keep"}),
        Path("."),
    )  # fmt: skip
    failed = {p.row: p for p in got.problems if p.sheet == "Sources"}
    assert 'relation "missing_table" does not exist' in failed[2].message
    assert failed[2].column == "query" and "\n" not in failed[2].message
    assert 3 in failed  # a DELETE is no query of rows (and the session is read-only)
    import psycopg

    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*) FROM keep").fetchone()[0] == 20


def test_postgres_unreachable_server_is_located(tmp_path):
    spec = db_specs(f"postgresql://nobody@/x?host={tmp_path}&port=1", {"Logins": "t"})
    got = through_sources(full_model(), customers_frame(), spec, tmp_path)
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert failed.column == "connection" and failed.row == 2 and "\n" not in failed.message
