"""End to end: ``xlhealth refresh`` of a real workbook whose Sources row reads a warehouse.

Its own module: chDB runs one embedded server per process, on one folder at a time, so
this test starts after the parity suite's stand-in has closed its own.
"""

from __future__ import annotations

import pandas as pd

from tests.sources_data import AS_OF
from tests.test_sources_cli import SOURCES, segment_logins
from tests.warehouses import ClickHouse
from tests.workbooks import cell_values, cli, sheet_frame
from xlhealth.demo import data as demo_data
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
