"""End to end: ``xlhealth refresh`` of a real workbook whose Sources row reads a warehouse,
and the real Snowflake connector refusing a sign-in.

Its own module: chDB runs one embedded server per process, on one folder at a time, and
the parity suite patches Snowflake's connector while its stand-in runs; these tests start
after both are closed.
"""

from __future__ import annotations

import pandas as pd

from tests.sources_data import AS_OF, customers_frame, full_model, through_sources
from tests.test_sources_cli import SOURCES, segment_logins
from tests.warehouses import ClickHouse
from tests.workbooks import cell_values, cli, sheet_frame
from xlhealth.demo import data as demo_data
from xlhealth.inputs.sources import SourceSpec
from xlhealth.sheets.template import new_workbook


def test_refresh_of_a_book_reading_chdb_equals_the_pasted_book(tmp_path):
    """``xlhealth refresh`` of a real workbook whose Logins live in a ClickHouse database
    (chDB, in a folder beside the book): the same Summary as the book with them pasted,
    and Checks lists the source."""
    frames = demo_data.generate(60, "en", as_of=AS_OF)
    logins = segment_logins(frames["Logins"])
    pasted = tmp_path / "pasted.xlsx"
    new_workbook(pasted, inputs={**frames, "Logins": logins})
    house = ClickHouse(tmp_path / "warehouse")  # beside the book
    house.load("logins", logins, {})
    house.close(keep=True)
    sources = pd.DataFrame([["Logins", "", "", "", "", "chdb:///warehouse", "events.logins"]],
                           columns=SOURCES)  # fmt: skip
    sourced = tmp_path / "book.xlsx"
    rest = {k: v for k, v in frames.items() if k != "Logins"}
    new_workbook(sourced, inputs=rest, config={"Sources": sources})
    for book in (pasted, sourced):
        code, output = cli("refresh", str(book), "--as-of", AS_OF.isoformat(), "--no-backup")
        assert code == 0, output
    pd.testing.assert_frame_equal(sheet_frame(pasted, "Summary"), sheet_frame(sourced, "Summary"))
    checks = [v for row in cell_values(sourced, ["Checks"])["Checks"] for v in row]
    assert any(isinstance(v, str) and v.startswith("chdb:///warehouse : events.logins")
               for v in checks), checks  # fmt: skip


def test_a_snowflake_sign_in_that_fails_says_how_to_sign_in(tmp_path, monkeypatch):
    """The real connector, no stand-in: without a password it refuses before any network
    call, and the located line says where the credentials go."""
    monkeypatch.delenv("SNOWFLAKE_PASSWORD", raising=False)
    got = through_sources(full_model(), customers_frame(), [
        SourceSpec("Logins", 2, connection="snowflake://cs@acme-xy12345/EVENTS/PUBLIC",
                   query="logins"),
    ], tmp_path)  # fmt: skip
    [failed] = [p for p in got.problems if p.sheet == "Sources"]
    assert failed.column == "connection" and "\n" not in failed.message
    assert "SNOWFLAKE_PASSWORD" in failed.message and "externalbrowser" in failed.message
