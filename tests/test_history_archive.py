"""History never passes Excel's row limit: the oldest snapshots move to NAME-history.parquet
beside the book, every reader of History reads both, and nothing is lost (issue 22.5).

The sheet's capacity is lowered for most tests (the mechanism does not depend on it); one
test builds a History one snapshot short of the real 1,048,576 rows.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import python_calamine
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workbooks import cli
from xlhealth.book.archive import archive_path, read_archive
from xlhealth.core.history import AFTER_MOVE, overflow, with_archive
from xlhealth.core.tables import SHEET_ROWS
from xlhealth.demo import data as demo_data
from xlhealth.refresh import refresh
from xlhealth.sheets import outputs
from xlhealth.sheets.template import new_workbook

DAY = dt.date(2026, 3, 1)


def snapshots(sizes: list[int]) -> pd.DataFrame:
    """History rows: snapshot k (dated DAY + k weeks) has sizes[k] customers."""
    rows = [
        (pd.Timestamp(DAY + dt.timedelta(weeks=k)), f"C{i}", float(i), 3, None)
        for k, n in enumerate(sizes)
        for i in range(n)
    ]
    return pd.DataFrame(rows, columns=["as_of", "customer_id", "score", "tier", "cmi"])


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=25),
    capacity=st.integers(30, 400),
    shuffle=st.randoms(use_true_random=False),
)
def test_overflow_moves_whole_oldest_snapshots_until_the_rest_fits(sizes, capacity, shuffle):
    frame = snapshots(sizes)
    order = list(range(len(frame)))
    shuffle.shuffle(order)  # the sheet's order is not the date order
    frame = frame.iloc[order].reset_index(drop=True)
    now = DAY + dt.timedelta(weeks=len(sizes) - 1)
    moving = overflow(frame, capacity, now)
    day = frame["as_of"]
    if len(frame) <= capacity:
        assert not moving.any()
        return
    moved, kept = set(day[moving]), set(day[~moving])
    assert not moved & kept  # whole snapshots
    assert pd.Timestamp(now) in kept  # this run's snapshot never moves
    if moved:
        assert max(moved) < min(kept)  # oldest first
    older = (day < pd.Timestamp(now)).sum()
    # the rest fits, with room to append again — unless only this run's snapshot is left
    assert (~moving).sum() <= max(int(capacity * AFTER_MOVE), len(frame) - older)
    # and no more moved than needed: without the newest moved snapshot it would not fit
    if moved:
        last = max(moved)
        assert (~moving).sum() + (day == last).sum() > int(capacity * AFTER_MOVE)


def test_the_sheet_wins_over_the_archive_on_a_date_in_both():
    archived = snapshots([2, 2])
    sheet = snapshots([0, 3, 2])  # week 1 again (a refresh that stopped after archiving)
    both = with_archive(archived, sheet)
    weeks = both["as_of"].value_counts().sort_index().tolist()
    assert weeks == [2, 3, 2]
    assert with_archive(None, sheet) is sheet
    assert len(with_archive(archived, None)) == 4


def refreshes(path, dates) -> list[pd.DataFrame]:
    """Refresh ``path`` on each date; the Summary after each."""
    out = []
    for day in dates:
        refresh(path, as_of=day, backup=False)
        grid = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = grid.get_sheet_by_name("Summary").to_python()
        out.append(pd.DataFrame(rows[2:], columns=rows[1]))
    return out


def history_rows(path) -> pd.DataFrame:
    rows = (
        python_calamine.CalamineWorkbook.from_path(str(path))
        .get_sheet_by_name("History")
        .to_python()
    )
    frame = pd.DataFrame(rows[2:], columns=rows[1])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    return frame


def test_a_full_history_moves_its_oldest_snapshots_and_nothing_changes(tmp_path, monkeypatch):
    """Two books refreshed on the same eight dates, one with a sheet of 100 History rows:
    the same Change and trend on every Summary, and every snapshot in sheet + file."""
    n = 25
    dates = [demo_data.AS_OF - dt.timedelta(weeks=k) for k in range(7, -1, -1)]
    small, large = tmp_path / "small.xlsx", tmp_path / "large.xlsx"
    new_workbook(small, inputs=demo_data.generate(n))
    shutil.copy(small, large)
    unlimited = refreshes(large, dates)
    monkeypatch.setattr(outputs, "HISTORY_CAPACITY", 100)
    limited = []
    for day in dates:
        sheet_before = len(history_rows(small)) if limited else 0
        archive_before = read_archive(archive_path(small))
        file_before = 0 if archive_before is None else len(archive_before)
        limited += refreshes(small, [day])
        on_sheet = history_rows(small)
        archived = read_archive(archive_path(small))
        in_file = 0 if archived is None else len(archived)
        assert len(on_sheet) <= 100
        assert sheet_before + file_before + n == len(on_sheet) + in_file  # nothing lost
        assert in_file >= file_before  # the file only grows
    archived = read_archive(archive_path(small))
    assert archived is not None and len(archived) >= 100  # it did move snapshots
    # every snapshot once, in the sheet or in the file, as in the unlimited book
    together = pd.concat([archived, history_rows(small)], ignore_index=True)
    everything = history_rows(large)
    key = ["as_of", "customer_id"]
    a = together.sort_values(key).reset_index(drop=True)
    b = everything.sort_values(key).reset_index(drop=True)
    pd.testing.assert_series_equal(a["customer_id"].astype(str), b["customer_id"].astype(str))
    assert (a["as_of"] == b["as_of"]).all()
    np.testing.assert_allclose(a["score"].astype(float), b["score"].astype(float))
    assert set(archived["as_of"]) and max(archived["as_of"]) < min(history_rows(small)["as_of"])
    # Change, trend and sparklines read the file and the sheet together
    for x, y in zip(limited, unlimited, strict=True):
        for column in ("score", "score_change", "trend", *(f"spark_{k}" for k in range(1, 13))):
            assert x[column].tolist() == y[column].tolist(), column
    # Checks says where the rows are
    checks = python_calamine.CalamineWorkbook.from_path(str(small)).get_sheet_by_name("Checks")
    text = " ".join(str(c) for row in checks.to_python() for c in row)
    assert "small-history.parquet" in text


def test_the_refresh_button_keeps_the_archive_beside_the_book(tmp_path, monkeypatch):
    from tests.test_excel_live import FakeBook
    from xlhealth.excel import live as excel

    path = tmp_path / "demo.xlsx"
    assert cli("demo", "--customers", "40", "-o", str(path))[0] == 0
    monkeypatch.setattr(outputs, "HISTORY_CAPACITY", 60)
    book = FakeBook(path)
    excel.refresh(book)
    assert book.app.alerts == []
    archived = read_archive(archive_path(path))
    assert archived is not None and len(archived) > 0
    assert list(tmp_path.glob("*-history.parquet")) == [archive_path(path)]


def test_a_history_one_snapshot_short_of_the_real_limit(tmp_path):
    """At Excel's real limit: 1,048,574 rows fit under the two header rows; a History one
    snapshot short of that refreshes to a sheet within the limit, the rest in the file."""
    n = 2000  # customers: 524 daily snapshots fill the sheet (dates within two years)
    path = tmp_path / "book.xlsx"
    new_workbook(path, inputs=demo_data.generate(n))
    refresh(path, as_of=demo_data.AS_OF, backup=False)
    capacity = SHEET_ROWS - 2
    weeks = capacity // n - 1  # one snapshot short: a last one would fill it exactly
    ids = history_rows(path)["customer_id"].tolist()
    start = demo_data.AS_OF - dt.timedelta(days=weeks + 1)
    frame = pd.DataFrame(
        {
            "as_of": np.repeat(pd.date_range(start, periods=weeks, freq="D"), n),
            "customer_id": ids * weeks,
            "score": np.tile(np.linspace(10, 90, n), weeks),
            "tier": 3,
            "cmi": np.nan,
        }
    )
    frame = pd.concat([frame, history_rows(path)], ignore_index=True)
    assert len(frame) <= capacity < len(frame) + n  # one more snapshot would not fit
    _write_history(path, frame)
    before = len(frame)
    refresh(path, as_of=demo_data.AS_OF + dt.timedelta(days=1), backup=False)
    on_sheet = history_rows(path)
    archived = read_archive(archive_path(path))
    assert archived is not None
    assert len(on_sheet) <= capacity
    assert len(on_sheet) + len(archived) == before + n
    with python_calamine.CalamineWorkbook.from_path(str(path)) as book:
        assert book.get_sheet_by_name("History").total_height <= SHEET_ROWS


def _write_history(path, frame: pd.DataFrame) -> None:
    """Replace the book's History sheet with ``frame`` (the writer refresh uses)."""
    from xlhealth.core.engine import Result
    from xlhealth.xlsx.package import Package

    with Package(path) as package:
        result = Result.__new__(Result)
        writer = outputs.OutputWriter.__new__(outputs.OutputWriter)
        writer.r, writer.styles, writer.date1904 = result, package.styles, package.date1904
        writer.lang, writer.history_moved = "en", None
        result.history_rows, result.as_of = frame.iloc[:0], dt.date(1900, 1, 1)
        sheet, _ = writer.history(frame)
        package.set_sheet("History", sheet)
        package.save(path.with_name("tmp.xlsx"))
    path.with_name("tmp.xlsx").replace(path)


@pytest.mark.parametrize("length", [32_767, 32_768, 100_000])
def test_no_cell_passes_excels_text_limit(tmp_path, length):
    """Issue 22.6: text longer than a cell holds is cut with "…" where it is written (Checks
    quotes a bad input value: at the limit, its quotes made it 32,769)."""
    inputs = demo_data.generate(8)
    customers = inputs["Customers"].astype({"outcome": object})
    customers.loc[0, "outcome"] = "9" * (length - 1) + "x"  # not renewed/churned: quoted
    customers.loc[1, "customer_name"] = "名" * length
    inputs["Customers"] = customers
    path = tmp_path / "book.xlsx"
    new_workbook(path, inputs=inputs)
    refresh(path, as_of=demo_data.AS_OF, backup=False)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    longest = 0
    cut = []
    for name in ("Summary", "Actions", "Checks", "Segments", "Values"):
        for row in book.get_sheet_by_name(name).to_python():
            for value in row:
                if isinstance(value, str):
                    longest = max(longest, len(value))
                    if len(value) == 32_767:
                        cut.append(value)
    assert longest <= 32_767
    assert any(v.endswith("…") and "9999" in v for v in cut)  # Checks' quoted value, cut
    names = [v for v in cut if v.startswith("名")]
    assert names and all(v.endswith("…") == (length > 32_767) for v in names)


def test_every_sheet_the_writer_makes_stops_at_the_row_limit(monkeypatch, tmp_path):
    """The last resort for any table (Checks lists, ActionLog): rows that would pass the
    limit are left out with a line saying how many, never written past it."""
    from xlhealth.xlsx import sheetxml
    from xlhealth.xlsx.package import Package

    monkeypatch.setattr(sheetxml, "SHEET_ROWS", 50)
    path = tmp_path / "book.xlsx"
    new_workbook(path)
    with Package(path) as package:
        b = sheetxml.SheetBuilder(package.styles)
        b.text_line("title")
        frame = pd.DataFrame({"a": range(100), "b": [f"x{i}" for i in range(100)]})
        layout = b.block(sheetxml.Block(frame, [sheetxml.Column("a", "A", "int"),
                                                sheetxml.Column("b", "B")]))  # fmt: skip
        xml = b.xml().decode()
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert max(rows) == 50 and layout.last_row == 49
    assert "… 54 more rows not shown" in xml
