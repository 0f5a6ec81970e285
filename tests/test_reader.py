"""The workbook reader: header search, types, located problems; real messy files never crash."""

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.table import Table

from tests.conftest import DATA
from xlhealth.book.read import read_workbook
from xlhealth.xlsx.reader import ReadError

MESSY = DATA / "messy"


def book(tmp_path: Path, sheets: dict[str, list[list]], name: str = "in.xlsx", **kw) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if kw.get("epoch"):
        wb.epoch = kw["epoch"]
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def test_header_below_title_rows_any_column_order_blank_rows(tmp_path):
    path = book(
        tmp_path,
        {
            "Customers": [
                ["Acme customer export", None, None],
                ["exported 2026-11-20", None, None],
                [],
                ["Segment", "Customer ID ", "customer_name"],
                ["SMB", "A-1", "Acme"],
                [None, None, None],
                ["Enterprise", "B-2", "ベータ株式会社"],
            ]
        },
    )
    wb = read_workbook(path)
    sheet = wb.sheets["Customers"]
    assert sheet.header_row == 4
    assert sheet.frame["customer_id"].tolist() == ["A-1", "B-2"]
    assert sheet.frame["customer_name"].tolist() == ["Acme", "ベータ株式会社"]
    assert sheet.frame["_row"].tolist() == [5, 7]
    assert sheet.letters["customer_id"] == "B"
    assert not wb.problems


def test_bad_cells_become_located_problems(tmp_path):
    path = book(
        tmp_path,
        {
            "Surveys": [
                ["customer_id", "date", "nps"],
                ["A", "2026-11-01", 9],
                ["A", "2026/10/01", 11],
                ["B", dt.date(2026, 9, 1), "n/a"],
                ["B", "last week", "#N/A"],
                ["C", "2026年8月3日", "8"],
            ]
        },
    )
    wb = read_workbook(path)
    frame = wb.sheets["Surveys"].frame
    assert frame["nps"].tolist()[:1] == [9] and frame["nps"].iloc[4] == 8
    assert frame["nps"].isna().tolist() == [False, True, True, True, False]
    assert frame["date"].tolist()[:3] == [
        pd.Timestamp("2026-11-01"),
        pd.Timestamp("2026-10-01"),
        pd.Timestamp("2026-09-01"),
    ]
    assert frame["date"].iloc[4] == pd.Timestamp("2026-08-03")
    lines = {str(wb.locate(p)) for p in wb.problems}
    assert (
        "Surveys!C3, row 3, column nps (11): must be between 0 and 10; fix the value — "
        "ignored" in lines
    )
    assert any(
        line.startswith("Surveys!C4, row 4, column nps ('n/a'): is not a number") for line in lines
    )
    assert any(
        line.startswith("Surveys!C5, row 5, column nps ('#N/A'): Excel error") for line in lines
    )
    assert any(
        line.startswith("Surveys!B5, row 5, column date ('last week'): is not a date")
        for line in lines
    )


def test_1904_dates_and_excel_tables(tmp_path):
    path = book(
        tmp_path,
        {"Logins": [["customer_id", "user_id", "date"], ["A", "u1", dt.date(2026, 11, 20)]]},
        epoch=CALENDAR_MAC_1904,
    )
    wb = read_workbook(path)
    assert wb.date1904
    assert wb.sheets["Logins"].frame["date"].iloc[0] == pd.Timestamp("2026-11-20")

    wb2 = openpyxl.Workbook()
    ws = wb2.active
    ws.title = "Usage"
    ws.append(["Usage export (Table below)"])
    ws.append([])
    ws.append(["customer_id", "key_features_used"])
    ws.append(["A", 3])
    ws.append(["B", 1])
    ws.add_table(Table(displayName="UsageTable", ref="A3:B5"))
    path2 = tmp_path / "table.xlsx"
    wb2.save(path2)
    usage = read_workbook(path2).sheets["Usage"]
    assert usage.header_row == 3 and usage.frame["key_features_used"].tolist() == [3, 1]


def test_choices_and_duplicate_headers(tmp_path):
    path = book(
        tmp_path,
        {
            "Customers": [
                ["customer_id", "exemplar", "outcome", "customer_id"],
                ["A", "Good", "renewed", "x"],
                ["B", "great", "lost", "y"],
            ]
        },
    )
    wb = read_workbook(path)
    frame = wb.sheets["Customers"].frame
    assert frame["exemplar"].tolist() == ["good", None]
    assert frame["customer_id"].tolist() == ["A", "B"]
    messages = [str(wb.locate(p)) for p in wb.problems]
    assert any("appears twice" in m for m in messages)
    assert any(m.startswith("Customers!B3") and "good, bad" in m for m in messages)
    assert any(m.startswith("Customers!C3") and "renewed, churned" in m for m in messages)


def test_not_a_workbook_and_missing_file(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("hello")
    with pytest.raises(ReadError, match=r"not a valid \.xlsx"):
        read_workbook(fake)
    with pytest.raises(ReadError, match="does not exist"):
        read_workbook(tmp_path / "nope.xlsx")


@pytest.mark.parametrize("path", sorted(MESSY.glob("*.xlsx")), ids=lambda p: p.name)
def test_every_messy_file_reads_or_gives_located_problems(path):
    """Each sheet of each real messy workbook, read as a generic table and as Customers."""
    if "pass_protected" in path.name:
        with pytest.raises(ReadError, match="password-protected"):
            read_workbook(path)
        return
    import python_calamine

    for sheet in python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names:
        for role in ("Table", "Customers"):
            wb = read_workbook(path, aliases={role: sheet})
            read = wb.sheets.get(role)
            assert read is not None or wb.problems, f"{sheet} as {role}: neither data nor problem"
            for problem in wb.problems:
                assert problem.sheet == role and problem.message
                assert problem.row is not None or problem.cell is not None


def test_messy_files_expected_shapes():
    deaths = read_workbook(MESSY / "readxl-deaths.xlsx", aliases={"Table": "arts"})
    t = deaths.sheets["Table"]
    assert t.header_row == 5 and len(t.frame) == 10
    assert t.frame["name"].iloc[0] == "David Bowie"
    header = read_workbook(MESSY / "calamine-header-row.xlsx", aliases={"Table": "Sheet1"})
    assert header.sheets["Table"].header_row == 9
    errors = read_workbook(MESSY / "calamine-errors.xlsx", aliases={"Table": "Feuil1"})
    assert [p.value for p in errors.problems] == [
        "#DIV/0!",
        "#NAME?",
        "#VALUE!",
        "#NULL!",
        "#REF!",
        "#NUM!",
        "#N/A",
    ]
    merged = read_workbook(MESSY / "calamine-merge_cells.xlsx", aliases={"Table": "Sheet1"})
    assert any("merged cells A2:A4" in p.message for p in merged.problems)
    multi = read_workbook(MESSY / "calamine-table-multiple.xlsx", aliases={"Table": "Sheet3"})
    assert list(multi.sheets["Table"].frame.columns[:2]) == ["item", "units"]
