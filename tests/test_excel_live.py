"""The live-Excel adapter against the smallest honest fake of the xlwings objects it uses.

There is no Excel here; the fake holds each sheet as a grid of values, as
``sheet.used_range.options(ndim=2, err_to_str=True).value`` returns it.
Real Excel is driven by tests/excel/ (marker ``excel``) on Windows/macOS.
"""

import datetime as dt
from pathlib import Path

import pytest
import python_calamine

from tests.workbooks import cli
from xlhealth import excel
from xlhealth.refresh import check


class FakeRange:
    def __init__(self, sheet: "FakeSheet"):
        self.sheet = sheet
        self.row = 1
        self.column = 1

    def options(self, **_: object) -> "FakeRange":
        return self

    @property
    def value(self):
        return [list(r) for r in self.sheet.grid] or None

    @value.setter
    def value(self, rows):
        self.sheet.grid = [list(r) for r in rows]
        self.sheet.writes += 1

    def clear_contents(self) -> None:
        self.sheet.grid = []


class FakeSheet:
    def __init__(self, name: str, grid: list[list]):
        self.name = name
        self.grid = grid
        self.writes = 0

    @property
    def used_range(self) -> FakeRange:
        return FakeRange(self)

    def range(self, address: str) -> FakeRange:
        assert address == "A1"
        return FakeRange(self)


class FakeSheets:
    def __init__(self, sheets: list[FakeSheet]):
        self.items = sheets

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(self, name: str, after=None) -> FakeSheet:
        sheet = FakeSheet(name, [])
        self.items.append(sheet)
        return sheet


class FakeApp:
    def __init__(self):
        self.alerts: list[str] = []

    def alert(self, text: str, title: str = "") -> None:
        self.alerts.append(text)


class FakeBook:
    def __init__(self, path: Path):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        self.sheets = FakeSheets(
            [
                FakeSheet(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
                for name in book.sheet_names
            ]
        )
        self.app = FakeApp()


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("live") / "demo.xlsx"
    assert cli("demo", "--customers", "50", "-o", str(path))[0] == 0
    return path


def test_live_refresh_gives_the_numbers_of_the_headless_refresh(demo_path):
    book = FakeBook(demo_path)
    excel.refresh(book)
    assert book.app.alerts == []
    summary = book.sheets["Summary"].grid
    keys = summary[1]
    rows = summary[2:]
    result, _ = check(demo_path, as_of=dt.date.today())
    assert [r[keys.index("customer_id")] for r in rows] == result.summary["customer_id"].tolist()
    scores = [r[keys.index("score")] for r in rows]
    assert scores == [None if s != s else s for s in result.summary["score"]]
    assert [r[keys.index("tier_label")] for r in rows] == result.summary["tier_label"].tolist()
    history = book.sheets["History"].grid
    assert len(history) - 2 == 100  # last month's snapshot kept, today's replaced by this run
    for name in ("Summary", "Actions", "Segments", "History", "Checks"):
        assert book.sheets[name].writes == 1


def test_error_cells_are_reported_not_scored(demo_path):
    book = FakeBook(demo_path)
    surveys = book.sheets["Surveys"].grid
    nps = surveys[0].index("nps")
    surveys[1][nps] = "#N/A"
    excel.refresh(book)
    checks = book.sheets["Checks"].grid
    assert any(
        row[0] == "Surveys" and row[1] == "D2" and "Excel error" in row[5] for row in checks[2:]
    )


def test_a_broken_config_alerts_and_writes_nothing(demo_path):
    book = FakeBook(demo_path)
    tiers = book.sheets["Tiers"].grid
    tiers[2][1] = 95  # tier 4 above tier 5
    before = {s.name: [list(r) for r in s.grid] for s in book.sheets}
    excel.refresh(book)
    assert len(book.app.alerts) == 1
    assert book.app.alerts[0].startswith("Refresh stopped — nothing was changed")
    assert "Tiers!B2" in book.app.alerts[0]  # tier 5 (row 2) no longer above tier 4
    assert {s.name: s.grid for s in book.sheets} == before
