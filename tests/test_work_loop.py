"""The work loop through the CLI on real files: weekly refreshes of a book people work in.

Statuses, notes, snoozes, columns people added and actions typed by hand survive each
refresh; an action whose trigger clears lands in ActionLog with its note; an unknown status
is a located problem; a same-day re-run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from tests.workbooks import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("loop") / "demo.xlsx"
    code, out = cli("demo", "--customers", "60", "-o", str(path))
    assert code == 0, out
    return path


def rows(path: Path, sheet: str) -> list[dict]:
    """A sheet refresh writes, as dicts keyed by the key row (row 2), else the label row."""
    grid = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet)
    grid = grid.to_python(skip_empty_area=False)
    keys = [str(k) or str(label) for k, label in zip(grid[1], grid[0], strict=False)]
    return [dict(zip(keys, r, strict=False)) for r in grid[2:] if any(v != "" for v in r)]


def values(path: Path, sheets: list[str]) -> dict[str, list[list]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {s: book.get_sheet_by_name(s).to_python() for s in sheets}


def last_as_of(path: Path) -> dt.date:
    return max(r["as_of"] for r in rows(path, "History"))


def by_identity(actions: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["customer_id"], r["alert"]): r for r in actions}


def column_of(ws, key: str) -> int:
    return next(c.column for c in ws[2] if c.value == key)


def test_a_month_of_weekly_refreshes_keeps_what_people_typed(demo, tmp_path):
    book = tmp_path / "book.xlsx"
    shutil.copy(demo, book)
    day = last_as_of(book)
    actions = rows(book, "Actions")
    detractor = next(r for r in actions if r["alert"] == "detractor")
    snoozed = next(r for r in actions if r["alert"] == "no_exec_contact")
    odd = next(r for r in actions if r["alert"] == "score_drop")
    first_customer = rows(book, "Summary")[0]["customer_id"]

    wb = openpyxl.load_workbook(book)
    ws = wb["Actions"]
    status, note, until = (column_of(ws, k) for k in ("status", "note", "snooze_until"))
    mine = ws.max_column + 1
    ws.cell(1, mine, "My tag")  # a column people add: a header in the label row only
    for r in range(3, ws.max_row + 1):
        identity = (ws.cell(r, 2).value, ws.cell(r, column_of(ws, "alert")).value)
        if identity == (detractor["customer_id"], "detractor"):
            ws.cell(r, status, "Done")
            ws.cell(r, note, "Called them, NPS follow-up sent")
            ws.cell(r, mine, "tag-1")
        elif identity == (snoozed["customer_id"], "no_exec_contact"):
            ws.cell(r, status, "保留")
            ws.cell(r, until, day + dt.timedelta(days=60))
            ws.cell(r, note, "Exec back from leave in January")
            ws.cell(r, mine, "tag-2")
        elif identity == (odd["customer_id"], "score_drop"):
            ws.cell(r, status, "finished??")
            odd_row = r
    hand = ws.max_row + 1
    ws.cell(hand, 2, first_customer)
    ws.cell(hand, column_of(ws, "action"), "Send the QBR deck")
    ws.cell(hand, note, "typed by hand")
    summary = wb["Summary"]
    comment = summary.max_column + 1
    summary.cell(1, comment, "CSM comment")
    summary.cell(2, comment, "csm_comment")
    summary.cell(3, comment, "Champion left in October")
    # the detractor answers the next survey with a 10: its trigger clears
    wb["Surveys"].append([detractor["customer_id"], None, day + dt.timedelta(days=2), 10])
    wb.save(book)

    week = day + dt.timedelta(days=7)
    code, out = cli("refresh", str(book), "--as-of", week.isoformat())
    assert code == 0, out
    after = by_identity(rows(book, "Actions"))
    assert (detractor["customer_id"], "detractor") not in after
    (logged,) = [
        r for r in rows(book, "ActionLog")
        if r["customer_id"] == detractor["customer_id"] and r["alert"] == "detractor"
    ]  # fmt: skip
    assert logged["outcome"] == "done" and logged["closed"] == week
    assert logged["note"] == "Called them, NPS follow-up sent" and logged["My tag"] == "tag-1"
    kept = after[(snoozed["customer_id"], "no_exec_contact")]
    assert kept["status"] == "Snoozed" and kept["note"] == "Exec back from leave in January"
    assert kept["My tag"] == "tag-2" and kept["opened"] == snoozed["opened"]
    assert after[(odd["customer_id"], "score_drop")]["status"] == "Open"
    checks = values(book, ["Checks"])["Checks"]
    located = [r for r in checks if any("unknown status" in str(v) for v in r)]
    assert [(r[0], r[2], r[3]) for r in located] == [("Actions", odd_row, "status")]
    (handmade,) = [r for r in rows(book, "Actions") if r["action"] == "Send the QBR deck"]
    assert handmade["note"] == "typed by hand" and handmade["customer_id"] == first_customer
    summary = {r["customer_id"]: r for r in rows(book, "Summary")}
    assert summary[first_customer]["csm_comment"] == "Champion left in October"
    header = python_calamine.CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Summary")
    assert "CSM comment" in header.to_python()[0]

    # a same-day re-run changes nothing people see
    watched = ["Summary", "Actions", "ActionLog", "History"]
    before = values(book, watched)
    code, out = cli("refresh", str(book), "--as-of", week.isoformat())
    assert code == 0, out
    assert values(book, watched) == before

    # two more weeks: still there, and the log holds the episode once
    for k in (2, 3):
        later_day = day + dt.timedelta(days=7 * k)
        code, out = cli("refresh", str(book), "--as-of", later_day.isoformat())
        assert code == 0, out
    later = by_identity(rows(book, "Actions"))
    assert later[(snoozed["customer_id"], "no_exec_contact")]["My tag"] == "tag-2"
    log = rows(book, "ActionLog")
    assert sum(r["customer_id"] == detractor["customer_id"] and r["alert"] == "detractor"
               for r in log) == 1  # fmt: skip
    assert {r["customer_id"]: r for r in rows(book, "Summary")}[first_customer][
        "csm_comment"
    ] == "Champion left in October"


@pytest.mark.libreoffice
def test_start_shows_each_owners_actions_from_checks(demo, tmp_path):
    """Start's owner table (formulas) equals the Checks table refresh wrote, recalculated."""
    from tests.workbooks import libreoffice_roundtrip
    from xlhealth.sheets.checks_work import OWNERS_HEADER_ROW

    book = tmp_path / "book.xlsx"
    shutil.copy(demo, book)
    saved = libreoffice_roundtrip(book, tmp_path / "lo")
    wb = python_calamine.CalamineWorkbook.from_path(str(saved))
    checks = wb.get_sheet_by_name("Checks").to_python(skip_empty_area=False)
    table = []
    for row in checks[OWNERS_HEADER_ROW:]:
        if not isinstance(row[1], float):
            break
        table.append([row[0], *row[1:4]])
    assert len(table) >= 5 and checks[OWNERS_HEADER_ROW - 1][:4] == [
        "Owner", "Open", "New this week", "Overdue"
    ]  # fmt: skip
    start = wb.get_sheet_by_name("Start").to_python(skip_empty_area=False)
    header = next(i for i, r in enumerate(start) if r[:2] == ["Owner", "Open"])
    shown = [r[:4] for r in start[header + 1 :] if r[0] != ""]
    assert shown == table
    actions = rows(book, "Actions")
    assert sum(r[1] for r in table) == sum(r["status"] == "Open" for r in actions)


def test_refresh_writes_exactly_the_summary_columns_it_does_not_keep_as_peoples(demo):
    """A column refresh writes is never taken for one somebody added (and the other way)."""
    from xlhealth.core.kept import SUMMARY_SHEET_COLUMNS

    keys = python_calamine.CalamineWorkbook.from_path(str(demo)).get_sheet_by_name("Summary")
    assert set(keys.to_python()[1]) == set(SUMMARY_SHEET_COLUMNS)
