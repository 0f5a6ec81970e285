"""The e-mail round trip: export --by owner, an owner edits their copy, collect takes it back."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from tests.workbooks import cli, libreoffice_roundtrip
from xlhealth.xlsx.properties import read_properties


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("collect")
    book = folder / "HealthScore.xlsx"
    code, out = cli("demo", "--customers", "40", "-o", str(book))
    assert code == 0, out
    code, out = cli("export", str(book), "--by", "owner", "--no-all", "-o", str(folder / "out"))
    assert code == 0, out
    return book, folder / "out"


def actions(path: Path) -> list[dict]:
    grid = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Actions")
    rows = grid.to_python(skip_empty_area=False)
    keys = [str(k) or str(label) for k, label in zip(rows[1], rows[0], strict=False)]
    return [dict(zip(keys, r, strict=False)) for r in rows[2:] if any(v != "" for v in r)]


def edit(path: Path, changes: dict[int, dict[str, object]]) -> None:
    """Type into an owner's copy: {data row index: {column key: value}}."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    keys = {c.value: c.column for c in ws[2]}
    for i, values in changes.items():
        for key, value in values.items():
            ws.cell(3 + i, keys[key], value)
    wb.save(path)


def fresh(exported, tmp_path) -> tuple[Path, Path]:
    book, out = exported
    copy_book = tmp_path / book.name
    shutil.copy(book, copy_book)
    owner_file = sorted(out.glob("*.xlsx"))[0]
    copy_file = tmp_path / owner_file.name
    shutil.copy(owner_file, copy_file)
    return copy_book, copy_file


def test_an_owner_copy_records_its_book_and_keeps_the_columns_editable(exported):
    book, out = exported
    copy = sorted(out.glob("*.xlsx"))[0]
    origin = read_properties(copy)
    assert origin["xlhealth_book"] == book.name and origin["xlhealth_for"] in copy.name
    assert {"status", "note", "snooze_until", "sent_status", "sent_note"} <= set(actions(copy)[0])


def test_round_trip_takes_status_note_and_snooze_back(exported, tmp_path):
    book, copy = fresh(exported, tmp_path)
    mine = actions(copy)
    edit(copy, {0: {"status": "Done", "note": "Called, sorted"},
                1: {"status": "Snoozed", "snooze_until": dt.date(2027, 3, 1)}})  # fmt: skip
    code, out = cli("collect", str(book), str(copy))
    assert code == 0, out
    assert "Took 4 cell(s) from 1 file(s)" in out
    now = {(r["customer_id"], r["alert"]): r for r in actions(book)}
    first, second = (now[(r["customer_id"], r["alert"])] for r in mine[:2])
    assert first["status"] == "Done" and first["note"] == "Called, sorted"
    assert second["status"] == "Snoozed" and second["snooze_until"] == dt.date(2027, 3, 1)
    assert Path(str(book) + ".bak").exists()
    # the next refresh keeps them (the book is a book in use again)
    code, out = cli("refresh", str(book))
    assert code == 0, out
    now = {(r["customer_id"], r["alert"]): r for r in actions(book)}
    assert now[(mine[0]["customer_id"], mine[0]["alert"])]["note"] == "Called, sorted"


def test_a_conflict_keeps_the_books_value(exported, tmp_path):
    book, copy = fresh(exported, tmp_path)
    target = actions(copy)[0]
    edit(copy, {0: {"note": "from the owner"}})
    wb = openpyxl.load_workbook(book)  # meanwhile somebody writes in the book itself
    ws = wb["Actions"]
    keys = {c.value: c.column for c in ws[2]}
    for r in range(3, ws.max_row + 1):
        if (ws.cell(r, 2).value, ws.cell(r, keys["alert"]).value) == (
            target["customer_id"],
            target["alert"],
        ):
            ws.cell(r, keys["note"], "from the manager")
    wb.save(book)
    code, out = cli("collect", str(book), str(copy))
    assert code == 0 and "changed in the book too" in out and "Took 0 cell(s)" in out
    row = {(r["customer_id"], r["alert"]): r for r in actions(book)}[
        (target["customer_id"], target["alert"])
    ]
    assert row["note"] == "from the manager"


def test_a_file_from_another_book_or_no_export_changes_nothing(exported, tmp_path):
    book, copy = fresh(exported, tmp_path)
    edit(copy, {0: {"status": "Done"}})
    renamed = tmp_path / "Other.xlsx"
    shutil.copy(book, renamed)
    before = book.read_bytes()
    code, out = cli("collect", str(renamed), str(copy))
    assert code == 1 and "was exported from HealthScore.xlsx, not from Other.xlsx" in out
    stranger = tmp_path / "stranger.xlsx"
    openpyxl.Workbook().save(stranger)
    code, out = cli("collect", str(book), str(stranger))
    assert code == 1 and "not a copy made by xlhealth export" in out
    assert book.read_bytes() == before
    assert "Traceback" not in out


@pytest.mark.libreoffice
def test_an_owner_on_libreoffice(exported, tmp_path):
    """The owner opens the copy in LibreOffice, types, saves as .xlsx: it still comes back."""
    book, copy = fresh(exported, tmp_path)
    edit(copy, {0: {"status": "Won't do", "note": "customer is leaving anyway"}})
    saved = libreoffice_roundtrip(copy, tmp_path / "lo")
    assert read_properties(saved).get("xlhealth_book") == book.name
    code, out = cli("collect", str(book), str(saved))
    assert code == 0, out
    first = actions(copy)[0]
    row = {(r["customer_id"], r["alert"]): r for r in actions(book)}[
        (first["customer_id"], first["alert"])
    ]
    assert row["status"] == "Won't do" and row["note"] == "customer is leaving anyway"
