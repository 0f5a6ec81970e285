"""The live-Excel adapter against the smallest honest fake of the xlwings objects it uses.

There is no Excel here. The fake keeps each sheet's values as a grid and
implements exactly what :class:`xlhealth.excel.LiveBook` calls: ``book.save``,
``book.fullname``, ``app.books.open``, ``sheet.copy(after=…)``, renaming,
``sheet.delete``, ``app.display_alerts`` and ``app.alert``. Real Excel is
driven by tests/excel/ (marker ``excel``) on Windows/macOS.
"""

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from tests.workbooks import cli, sheet_frame
from xlhealth import excel
from xlhealth.outputs import OUTPUT_SHEETS


class FakeSheet:
    def __init__(self, book: "FakeBook", name: str, grid: list[list]):
        self.book, self.name, self.grid = book, name, grid

    def copy(self, after: "FakeSheet") -> None:
        target = after.book
        target.sheets.items.insert(
            target.sheets.items.index(after) + 1,
            FakeSheet(target, self.name, [list(r) for r in self.grid]),
        )
        target.copied.append(self.name)

    def delete(self) -> None:
        assert not self.book.app.display_alerts, "delete would ask the user"
        self.book.sheets.items.remove(self)


class FakeSheets:
    def __init__(self, items: list[FakeSheet]):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)


class FakeBooks:
    def __init__(self, app: "FakeApp"):
        self.app = app

    def open(self, path: str) -> "FakeBook":
        open_names = {Path(b.fullname).name for b in self.app.opened + self.app.own}
        assert Path(path).name not in open_names, "Excel cannot open two books of one name"
        book = FakeBook(Path(path), self.app)
        self.app.opened.append(book)
        return book


class FakeApp:
    def __init__(self):
        self.alerts: list[str] = []
        self.status_bar: str | bool = False
        self.display_alerts = True
        self.books = FakeBooks(self)
        self.opened: list[FakeBook] = []
        self.own: list[FakeBook] = []

    def alert(self, text: str, title: str = "") -> None:
        self.alerts.append(text)


class FakeBook:
    def __init__(self, path: Path, app: FakeApp | None = None):
        self.fullname = str(path)
        self.app = app or FakeApp()
        if app is None:
            self.app.own.append(self)
        self.saved = 0
        self.closed = False
        self.copied: list[str] = []
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        self.sheets = FakeSheets(
            [
                FakeSheet(self, n, book.get_sheet_by_name(n).to_python(skip_empty_area=False))
                for n in book.sheet_names
            ]
        )

    def save(self) -> None:
        self.saved += 1

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def demo_path(tmp_path) -> Path:
    path = tmp_path / "demo.xlsx"
    assert cli("demo", "--customers", "50", "-o", str(path))[0] == 0
    return path


def test_live_refresh_shows_exactly_what_the_cli_refresh_writes(demo_path, tmp_path):
    before = demo_path.read_bytes()
    book = FakeBook(demo_path)
    order = [s.name for s in book.sheets]
    excel.refresh(book)
    assert book.saved == 1 and book.app.alerts == []
    assert book.app.status_bar.startswith("xlhealth: refreshed 50 customers")
    assert book.copied == list(OUTPUT_SHEETS)
    assert [s.name for s in book.sheets] == order  # same sheets, same places
    assert book.app.display_alerts is True and all(b.closed for b in book.app.opened)
    assert demo_path.read_bytes() == before  # the open file itself is not rewritten
    cli_copy = tmp_path / "cli.xlsx"
    shutil.copy(demo_path, cli_copy)
    assert cli("refresh", str(cli_copy), "--no-backup")[0] == 0
    expected = python_calamine.CalamineWorkbook.from_path(str(cli_copy))
    for name in OUTPUT_SHEETS:
        grid = expected.get_sheet_by_name(name).to_python(skip_empty_area=False)
        got = book.sheets[name].grid
        if name == "Checks":  # the refresh time stamp differs by seconds
            grid, got = grid[4:], got[4:]
        assert got == grid, name
    scores = sheet_frame(cli_copy, "Summary")["score"]
    assert len(scores) == 50


def test_a_broken_config_alerts_and_changes_nothing(demo_path):
    wb = openpyxl.load_workbook(demo_path)
    wb["Tiers"]["B3"] = 95  # tier 4 above tier 5
    wb.save(demo_path)
    book = FakeBook(demo_path)
    before = {s.name: [list(r) for r in s.grid] for s in book.sheets}
    excel.refresh(book)
    assert len(book.app.alerts) == 1
    assert book.app.alerts[0].startswith("Refresh stopped — nothing was changed")
    assert "Tiers!B2" in book.app.alerts[0]  # tier 5 (row 2) no longer above tier 4
    assert {s.name: s.grid for s in book.sheets} == before and book.copied == []


def test_an_unsaved_book_is_asked_to_be_saved(tmp_path, demo_path):
    book = FakeBook(demo_path)
    book.fullname = "Book1"
    excel.refresh(book)
    assert "Save the workbook once" in book.app.alerts[0] and book.saved == 0


def test_export_button_exports_the_saved_book_by_owner(demo_path):
    book = FakeBook(demo_path)
    excel.export_for_email(book)
    assert book.saved == 1
    assert book.app.alerts[0].startswith("Wrote ") and "Nothing was sent" in book.app.alerts[0]
    folder = demo_path.parent / "demo export"
    assert len(list(folder.glob("*.xlsx"))) == len(list(folder.glob("*.eml"))) > 1


def test_import_button_imports_the_settings_folder_into_maturity(demo_path):
    from xlhealth.model import default_model
    from xlhealth.questionnaire import FIRST_FACTOR_ROW, SHEET, write_questionnaire

    folder = demo_path.parent / "questionnaires"  # the default questionnaire_folder
    path = write_questionnaire(
        folder / "q.xlsx", default_model(), "en", {"customer_id": "CUST-00007"}
    )
    wb = openpyxl.load_workbook(path)
    wb[SHEET]["B6"] = dt.date(2026, 11, 3)
    for i in range(12):
        wb[SHEET].cell(row=FIRST_FACTOR_ROW + i, column=10, value=4)
    wb.save(path)
    book = FakeBook(demo_path)
    excel.import_questionnaires(book)
    assert book.copied == ["Maturity"] and book.saved == 1
    assert book.app.alerts[0].startswith("1 imported")
    grid = book.sheets["Maturity"].grid
    rows = [r for r in grid[1:] if r[0] == "CUST-00007"]
    assert len(rows) == 12 and {r[2] for r in rows} == {4}
