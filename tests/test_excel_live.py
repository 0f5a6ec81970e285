"""The live-Excel adapter against a fake of exactly the xlwings calls it makes.

There is no Excel here. The fake models what the in-place refresh depends on:

* sheet identity: a user formula ``=Summary!E5`` or a defined name holds the sheet
  *object*, shows ``#REF!`` once that sheet is deleted, and follows renames;
* a sheet's cells (values as a grid), its formats (a token naming where they came
  from: styles, conditional formats and validation travel together in Excel) and
  its charts, whose series formulas are read from the workbook file;
* ``Sheet.copy`` (charts re-pointed to the copy, as Excel does) and
  ``sheet.cells.copy(other.cells)`` (charts come along but still name the *source*
  sheet -- the pessimistic reading, so the adapter must re-point them);
* the application settings the swap changes, and two open books of one name.

Every call that changes something in Excel counts as a step; ``app.fail_at = n``
makes step n raise, and ``app.reject`` makes the next calls raise the way Mac
Excel rejects AppleScript while a cell is being edited. Real Excel is driven by
tests/excel/ (marker ``excel``) on Windows/macOS.
"""

import copy as copy_module
import datetime as dt
import re
import shutil
import zipfile
from dataclasses import asdict
from pathlib import Path, PurePosixPath

import openpyxl
import pytest
import python_calamine

from tests.workbooks import cli, sheet_frame
from xlhealth.core.tables import column_letter
from xlhealth.excel import live as excel
from xlhealth.excel import livebook, swap
from xlhealth.sheets.outputs import OUTPUT_SHEETS
from xlhealth.xlsx.cells import column_index, formula_blocks
from xlhealth.xlsx.package import Package, parse_rels
from xlhealth.xlsx.sheetlook import SheetLook, sheet_look


class FakeComError(Exception):
    """What pywintypes.com_error is to the adapter: any exception from a call."""


class CommandError(Exception):
    """appscript's error when Mac Excel rejects an AppleEvent (a cell in edit mode)."""


# ---------------------------------------------------------------------------- file contents


_LOADED: dict[str, dict] = {}


def _charts_of(path: Path) -> dict[str, list[list[str]]]:
    """For each sheet, its charts' series formulas (=SERIES(name,categories,values,order))."""
    out: dict[str, list[list[str]]] = {}
    with Package(path) as package, zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for sheet in package.sheet_names:
            part = package.sheet_part(sheet)
            rels_part = str(
                PurePosixPath(part).parent / "_rels" / (PurePosixPath(part).name + ".rels")
            )
            charts = []
            for rel in parse_rels(z.read(rels_part)) if rels_part in names else []:
                if not rel.type.endswith("/drawing"):
                    continue
                drawing = str(PurePosixPath(part).parent.joinpath(rel.target))
                drawing = _normalise(drawing)
                d_rels = str(
                    PurePosixPath(drawing).parent
                    / "_rels"
                    / (PurePosixPath(drawing).name + ".rels")
                )
                for chart_rel in parse_rels(z.read(d_rels)) if d_rels in names else []:
                    if not chart_rel.type.endswith("/chart"):
                        continue
                    chart = _normalise(
                        str(PurePosixPath(drawing).parent.joinpath(chart_rel.target))
                    )
                    xml = z.read(chart).decode("utf-8")
                    series = []
                    for i, ser in enumerate(re.findall(r"<c:ser>(.*?)</c:ser>", xml, re.S)):
                        refs = re.findall(r"<c:f>(.*?)</c:f>", ser, re.S)
                        name = refs[0] if "<c:tx>" in ser and refs else ""
                        rest = refs[1:] if name else refs
                        cats, vals = [*rest, "", ""][:2] if len(rest) > 1 else ("", rest[0])
                        series.append(f"=SERIES({name},{cats},{vals},{i + 1})")
                    charts.append(series)
            out[sheet] = charts
    return out


def _normalise(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _load(path: Path) -> dict:
    key = f"{path}:{path.stat().st_mtime_ns}"
    if key not in _LOADED:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        charts = _charts_of(path)
        formulas = _formulas_of(path)
        with Package(path) as p:
            looks = {n: asdict(sheet_look(p.read(p.sheet_part(n)))) for n in p.sheet_names}
        _LOADED[key] = {
            n: (
                book.get_sheet_by_name(n).to_python(skip_empty_area=False),
                charts.get(n, []),
                formulas.get(n, {}),
                looks.get(n, {}),
            )
            for n in book.sheet_names
        }
    return copy_module.deepcopy(_LOADED[key])


def _formulas_of(path: Path) -> dict[str, dict[str, str]]:
    """Each sheet's formulas by cell (``{"E16": "=IF(…)"}``), shared ones spelled out."""
    out: dict[str, dict[str, str]] = {}
    with Package(path) as p:
        for name in p.sheet_names:
            cells: dict[str, str] = {}
            for ref, texts in formula_blocks(p.read(p.sheet_part(name))):
                for cell, text in _spread(ref, texts):
                    cells[cell] = "=" + text
            out[name] = cells
    return out


def _spread(ref: str, texts: list[str]) -> list[tuple[str, str]]:
    """The cells of a formula block and their formulas: the first row as given, each row
    below with its relative row numbers moved down (what Excel's fill does)."""
    first, _, last = ref.partition(":")
    c1, r1 = re.fullmatch(r"([A-Z]+)(\d+)", first).groups()
    c2, r2 = re.fullmatch(r"([A-Z]+)(\d+)", last or first).groups()
    columns = [column_letter(j) for j in range(column_index(c1), column_index(c2) + 1)]
    return [
        (f"{col}{row}", shift_rows(text, row - int(r1)))
        for row in range(int(r1), int(r2) + 1)
        for col, text in zip(
            columns, texts * len(columns) if len(texts) == 1 else texts, strict=False
        )
    ]


_A1 = re.compile(r"(?<![A-Za-z0-9_$.'\]])(\$?[A-Z]{1,3})(\$?)(\d+)(?![\d(A-Za-z_])")


def shift_rows(formula: str, rows: int) -> str:
    """``formula`` moved down ``rows`` rows: relative row numbers change, ``$4`` stays."""
    if not rows:
        return formula
    return _A1.sub(lambda m: m.group(0) if m.group(2) else
                   f"{m.group(1)}{int(m.group(3)) + rows}", formula)  # fmt: skip


def qualified(formula: str, book: str) -> str:
    """``formula`` as Excel leaves it in another workbook: every reference to a sheet now
    names ``book`` (``'Values'!$E:$E`` -> ``'[book.xlsx]Values'!$E:$E``)."""
    return re.sub(
        r"(?:'((?:[^'\[]|'')+)'|([A-Za-z_][\w.]*))!",
        lambda m: "'[" + book + "]" + (m.group(1) or m.group(2)) + "'!",
        formula,
    )


# ---------------------------------------------------------------------------- the fake


class FakeSeriesApi:
    """``series.api``: COM's ``.Formula`` (Windows) and appscript's ``.formula`` (Mac)."""

    def __init__(self, series: "FakeSeries"):
        self._series = series
        self.formula = self  # appscript style: series.api.formula.get() / .set(v)

    @property
    def Formula(self) -> str:  # the COM spelling
        return self._series.formula

    @Formula.setter
    def Formula(self, value: str) -> None:
        self._series.chart.sheet.book.app.step("series.Formula")
        self._series.formula = value

    def get(self) -> str:
        return self._series.formula

    def set(self, value: str) -> None:
        self.Formula = value


class FakeSeries:
    def __init__(self, chart: "FakeChart", formula: str, filtered: bool = False):
        self.chart, self.formula, self.filtered = chart, formula, filtered

    @property
    def api(self) -> FakeSeriesApi:
        return FakeSeriesApi(self)


class FakeFullSeries:
    """COM's ``Chart.FullSeriesCollection()``: every series, filtered-out ones too."""

    def __init__(self, chart: "FakeChart"):
        self.chart = chart

    @property
    def Count(self) -> int:
        return len(self.chart.all)

    def Item(self, i: int) -> FakeSeriesApi:
        return FakeSeriesApi(self.chart.all[i - 1])


class FakeChartCom:
    def __init__(self, chart: "FakeChart"):
        self.chart = chart

    def FullSeriesCollection(self) -> FakeFullSeries:
        return FakeFullSeries(self.chart)


class FakeChart:
    def __init__(self, sheet: "FakeSheet", formulas: list[str], filtered: set[int] = frozenset()):
        self.sheet = sheet
        self.all = [FakeSeries(self, f, i in filtered) for i, f in enumerate(formulas)]

    @property
    def series(self) -> list[FakeSeries]:
        """xlwings' ``chart.series`` (COM ``SeriesCollection``): without the series a user
        filtered out of the chart."""
        return [s for s in self.all if not s.filtered]

    @property
    def api(self) -> tuple[None, FakeChartCom]:
        return None, FakeChartCom(self)

    def delete(self) -> None:
        self.sheet.change("chart.delete")
        self.sheet.chart_list.remove(self)

    def formulas(self) -> list[str]:
        return [s.formula for s in self.all]

    def filtered(self) -> set[int]:
        return {i for i, s in enumerate(self.all) if s.filtered}

    def copy_to(self, sheet: "FakeSheet", formulas: list[str]) -> "FakeChart":
        return FakeChart(sheet, formulas, self.filtered())


class FakeChartAt:
    """A chart as Mac xlwings holds it: "chart object i" of the sheet, looked up when a call
    is sent (so deleting chart 1 makes the handle of chart 2 point past the end)."""

    def __init__(self, sheet: "FakeSheet", index: int):
        self.sheet, self.index = sheet, index

    def _chart(self) -> FakeChart:
        if self.index >= len(self.sheet.chart_list):
            raise FakeComError(f"Can't get chart object {self.index + 1} (-1728)")
        return self.sheet.chart_list[self.index]

    def __getattr__(self, name: str):
        return getattr(self._chart(), name)


class FakeCharts:
    def __init__(self, sheet: "FakeSheet"):
        self.sheet = sheet

    def __len__(self) -> int:
        return len(self.sheet.chart_list)

    def __iter__(self):
        return iter([FakeChartAt(self.sheet, i) for i in range(len(self))])

    def __getitem__(self, i: int) -> FakeChartAt:
        return FakeChartAt(self.sheet, i)


class FakeRange:
    def __init__(self, sheet: "FakeSheet"):
        self.sheet = sheet

    def copy(self, destination: "FakeRange") -> None:
        """Range.Copy(Destination) of a whole sheet's cells: values, formats, charts.

        The charts' series keep naming the source sheet (with its book if another), and so
        do formulas that refer to other sheets: from another book they become links to it.
        """
        src, dst = self.sheet, destination.sheet
        dst.change("cells.copy")
        dst.grid = [list(r) for r in src.grid]
        dst.formats = src.formats
        other = src.book is not dst.book
        dst.cell_formulas = {
            cell: qualified(f, src.book.name) if other else f
            for cell, f in src.cell_formulas.items()
        }
        qualifier = src.name if src.book is dst.book else f"[{src.book.name}]{src.name}"
        if not src.book.app.copy_objects_with_cells:  # the user option: charts stay behind
            return
        for chart in src.chart_list:
            formulas = [_requalify(f, src.name, qualifier) for f in chart.formulas()]
            dst.chart_list.append(chart.copy_to(dst, formulas))


def _requalify(formula: str, sheet: str, qualifier: str) -> str:
    return re.sub(
        r"(?:'((?:[^']|'')+)'|([^\s'!,=(]+))!",
        lambda m: (
            "'" + qualifier + "'!"
            if ((m.group(1) or "").replace("''", "'") or m.group(2)) == sheet
            else m.group(0)
        ),
        formula,
    )


class FakeCells:
    """``sheet.range("E16:E80")``: the formulas a swap enters, and a copy within the sheet."""

    def __init__(self, sheet: "FakeSheet", ref: str):
        self.sheet, self.ref = sheet, ref

    @property
    def api(self) -> "FakeCells":
        return self

    def AutoFilter(self) -> None:  # Range.AutoFilter(): filter buttons on this range
        self.sheet.change("range.AutoFilter")
        self.sheet.look["autofilter"] = self.ref

    autofilter_range = AutoFilter  # the Mac (appscript) command

    def cells(self) -> list[list[str]]:
        first, _, last = self.ref.partition(":")
        c1, r1 = re.fullmatch(r"([A-Z]+)(\d+)", first).groups()
        c2, r2 = re.fullmatch(r"([A-Z]+)(\d+)", last or first).groups()
        return [[f"{column_letter(j)}{r}" for j in range(column_index(c1), column_index(c2) + 1)]
                for r in range(int(r1), int(r2) + 1)]  # fmt: skip

    @property
    def formula(self):
        rows = [[self.sheet.cell_formulas.get(c, "") for c in row] for row in self.cells()]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows

    @formula.setter
    def formula(self, value) -> None:
        self.sheet.book.app.step("range.formula")
        cells = self.cells()
        assert len(cells) == 1, "the adapter enters one row of formulas at a time"
        values = [value] if isinstance(value, str) else list(value)
        assert len(values) == len(cells[0])
        for cell, text in zip(cells[0], values, strict=True):
            self.sheet.cell_formulas[cell] = text

    def copy(self, destination: "FakeCells") -> None:
        """A one-row range copied onto a block of the same sheet: each row below gets the
        formulas with their relative rows moved, as Excel's copy does."""
        self.sheet.book.app.step("range.copy")
        assert destination.sheet is self.sheet
        source = self.cells()
        assert len(source) == 1
        top = int(re.search(r"\d+", source[0][0]).group())
        by_column = {re.match(r"[A-Z]+", c).group(): self.sheet.cell_formulas.get(c, "")
                     for c in source[0]}  # fmt: skip
        for row in destination.cells():
            for cell in row:
                col, r = re.fullmatch(r"([A-Z]+)(\d+)", cell).groups()
                self.sheet.cell_formulas[cell] = shift_rows(by_column[col], int(r) - top)


class FakeSheet:
    def __init__(
        self,
        book: "FakeBook",
        name: str,
        grid: list[list],
        charts: list[list[str]],
        formulas: dict[str, str] | None = None,
        look: dict | None = None,
    ):
        self.book, self._name, self.grid = book, name, grid
        self.cell_formulas: dict[str, str] = dict(formulas or {})
        self.formats = f"{book.name}:{name}"
        self.chart_list: list[FakeChart] = [FakeChart(self, f) for f in charts]
        self.formulas: dict[str, FakeFormula] = {}
        self.deleted = False
        self.protected = False  # Review > Protect Sheet: every change to it fails
        # frozen panes, filter, tab colour, page setup: the sheet's (and its window's), not
        # its cells' — a copy of cells carries none, Sheet.Copy all, Cells.Clear the filter
        self.look = {**asdict(SheetLook()), **(look or {})}

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self.book.app.step("sheet.name")
        self._name = value

    @property
    def cells(self) -> FakeRange:
        return FakeRange(self)

    @property
    def charts(self) -> FakeCharts:
        return FakeCharts(self)

    @property
    def api(self) -> "FakeSheetApi":
        return FakeSheetApi(self)

    def activate(self) -> None:
        self.book.app.step("sheet.activate")
        self.book.sheets.active = self

    def change(self, label: str) -> None:
        self.book.app.step(label)
        if self.protected:
            raise FakeComError("The cell or chart you're trying to change is on a protected sheet.")

    def range(self, ref: str) -> FakeCells:
        return FakeCells(self, ref)

    def copy(self, after: "FakeSheet") -> "FakeSheet":
        """Sheet.Copy: a new sheet whose charts point at the new sheet; returns it."""
        self.book.app.step("sheet.copy")
        target = after.book
        name = self.name
        taken = {s.name for s in target.sheets}
        n = 2
        while name in taken:
            name, n = f"{self.name} ({n})", n + 1
        new = FakeSheet(target, name, [list(r) for r in self.grid], [], look=dict(self.look))
        new.formats = self.formats
        other = target is not self.book
        new.cell_formulas = {c: qualified(f, self.book.name) if other else f
                             for c, f in self.cell_formulas.items()}  # fmt: skip
        new.chart_list = [
            c.copy_to(new, [_requalify(f, self.name, name) for f in c.formulas()])
            for c in self.chart_list
        ]
        target.sheets.items.insert(target.sheets.items.index(after) + 1, new)
        return new

    def clear(self) -> None:
        self.change("sheet.clear")
        self.look["autofilter"] = None
        self.grid, self.formats, self.cell_formulas = [], None, {}

    def delete(self) -> None:
        self.book.app.step("sheet.delete")
        assert not self.book.app.display_alerts, "delete would ask the user"
        self.book.sheets.items.remove(self)
        self.deleted = True

    def value(self, address: str):
        col, row = re.fullmatch(r"([A-Z]+)(\d+)", address).groups()
        c = ord(col) - 65
        r = int(row) - 1
        return self.grid[r][c] if r < len(self.grid) and c < len(self.grid[r]) else None


class FakeTab:
    def __init__(self, sheet: FakeSheet):
        object.__setattr__(self, "sheet", sheet)

    @property
    def Color(self) -> int:
        rgb = self.sheet.look["tab_color"] or "000000"
        r, g, b = (int(rgb[i : i + 2], 16) for i in (0, 2, 4))
        return r + g * 256 + b * 65536

    @Color.setter
    def Color(self, bgr: int) -> None:
        self.sheet.change("tab.Color")
        r, g, b = bgr & 255, (bgr >> 8) & 255, (bgr >> 16) & 255
        self.sheet.look["tab_color"] = f"{r:02X}{g:02X}{b:02X}"


class FakePageSetup:
    def __init__(self, sheet: FakeSheet):
        object.__setattr__(self, "sheet", sheet)

    def __setattr__(self, key, value) -> None:
        self.sheet.change(f"PageSetup.{key}")
        look = self.sheet.look
        if key == "Orientation":
            look["landscape"] = value == 2
        elif key == "FitToPagesWide":
            look["fit_width"] = value


class FakeSheetApi:
    """COM's Worksheet as the adapter uses it."""

    def __init__(self, sheet: FakeSheet):
        object.__setattr__(self, "sheet", sheet)

    @property
    def ProtectContents(self) -> bool:
        return self.sheet.protected

    @property
    def Tab(self) -> FakeTab:
        return FakeTab(self.sheet)

    @property
    def PageSetup(self) -> FakePageSetup:
        return FakePageSetup(self.sheet)

    # appscript (Mac) spellings of the same properties: .get() / .set(value)
    @property
    def protect_contents(self) -> "FakeProperty":
        return FakeProperty(lambda: self.sheet.protected, None)

    @property
    def autofilter_mode(self) -> "FakeProperty":
        return FakeProperty(lambda: self.AutoFilterMode,
                            lambda v: setattr(self, "AutoFilterMode", v))  # fmt: skip

    @property
    def tab(self) -> "FakeMacTab":
        return FakeMacTab(self.sheet)

    @property
    def page_setup_object(self) -> "FakeMacPage":
        return FakeMacPage(self.sheet)

    @property
    def AutoFilterMode(self) -> bool:
        return self.sheet.look["autofilter"] is not None

    @AutoFilterMode.setter
    def AutoFilterMode(self, value: bool) -> None:
        self.sheet.change("AutoFilterMode")
        if not value:
            self.sheet.look["autofilter"] = None


class FakeProperty:
    def __init__(self, get, put):
        self._get, self._put = get, put

    def get(self):
        return self._get()

    def set(self, value) -> None:
        self._put(value)


class FakeMacTab:
    def __init__(self, sheet: FakeSheet):
        self.sheet = sheet

    @property
    def color(self) -> FakeProperty:
        def put(rgb) -> None:  # appscript colours: [r, g, b] in 0..65535
            r, g, b = (round(v / 257) for v in rgb)
            FakeTab(self.sheet).Color = r + g * 256 + b * 65536

        return FakeProperty(lambda: None, put)


class FakeMacPage:
    def __init__(self, sheet: FakeSheet):
        self.sheet = sheet

    def __getattr__(self, name: str) -> FakeProperty:
        com = {
            "page_orientation": "Orientation",
            "zoom": "Zoom",
            "fit_to_pages_wide": "FitToPagesWide",
            "fit_to_pages_tall": "FitToPagesTall",
        }
        key = com[name]

        def put(value) -> None:
            if key == "Orientation":
                value = 2 if value == "landscape" else 1
            setattr(FakePageSetup(self.sheet), key, value)

        return FakeProperty(lambda: None, put)


class FakeMacWindow:
    def __init__(self, app: "FakeApp"):
        self.window = FakeWindow(app)

    def __getattr__(self, name: str) -> FakeProperty:
        key = {"freeze_panes": "FreezePanes", "split_column": "SplitColumn",
               "split_row": "SplitRow"}[name]  # fmt: skip
        return FakeProperty(lambda: None, lambda v: setattr(self.window, key, v))


class FakeWindow:
    """``app.api.ActiveWindow``: frozen panes belong to the window of the active sheet."""

    def __init__(self, app: "FakeApp"):
        object.__setattr__(self, "app", app)
        object.__setattr__(self, "split", [0, 0])

    def sheet(self) -> FakeSheet:
        book = next(b for b in self.app.own if not b.closed)
        return book.sheets.active

    def __setattr__(self, key, value) -> None:
        self.sheet().change(f"window.{key}")
        if key == "SplitColumn":
            self.split[0] = value
        elif key == "SplitRow":
            self.split[1] = value
        elif key == "FreezePanes":
            columns, rows = self.split
            self.sheet().look["freeze"] = (
                f"{column_letter(columns)}{rows + 1}" if value and (columns or rows) else None
            )


class FakeFormula:
    """A user's formula like ``=Summary!E5``: holds the sheet object, as Excel does."""

    def __init__(self, sheet: FakeSheet, address: str):
        self.sheet, self.address = sheet, address

    @property
    def text(self) -> str:
        return "=#REF!" if self.sheet.deleted else f"={self.sheet.name}!{self.address}"

    @property
    def value(self):
        return "#REF!" if self.sheet.deleted else self.sheet.value(self.address)


class FakeSheets:
    def __init__(self, items: list[FakeSheet]):
        self.items = items
        self._active: FakeSheet | None = None

    @property
    def active(self) -> FakeSheet:
        return self._active if self._active in self.items else self.items[0]

    @active.setter
    def active(self, sheet: FakeSheet) -> None:
        self._active = sheet

    def __iter__(self):
        return iter(list(self.items))

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
        self.app.step("books.open")
        open_names = {b.name for b in self.app.open_books()}
        assert Path(path).name not in open_names, "Excel cannot open two books of one name"
        self.app.opened_with.append(
            (Path(path), self.app.calculation, self.app.screen_updating, self.app.enable_events)
        )
        book = FakeBook(Path(path), self.app)
        self.app.opened.append(book)
        return book

    def add(self) -> "FakeBook":
        self.app.step("books.add")
        book = FakeBook(None, self.app)
        self.app.opened.append(book)
        return book


class FakeAppApi:
    """``app.api``: CopyObjectsWithCells as COM (Windows) and appscript (Mac) spell it."""

    def __init__(self, app: "FakeApp"):
        object.__setattr__(self, "app", app)

    @property
    def CopyObjectsWithCells(self) -> bool:
        return self.app.copy_objects_with_cells

    @CopyObjectsWithCells.setter
    def CopyObjectsWithCells(self, value: bool) -> None:
        self.app.copy_objects_with_cells = value

    @property
    def copy_objects_with_cells(self) -> "FakeProperty":
        return FakeProperty(lambda: self.app.copy_objects_with_cells,
                            lambda v: setattr(self.app, "copy_objects_with_cells", v))  # fmt: skip

    @property
    def ActiveWindow(self) -> "FakeWindow":
        return FakeWindow(self.app)

    @property
    def active_window(self) -> "FakeMacWindow":
        return FakeMacWindow(self.app)


class FakeApp:
    def __init__(self):
        self.alerts: list[str] = []
        self._settings = {
            "calculation": "automatic",
            "screen_updating": True,
            "display_alerts": True,
            "enable_events": True,
            "status_bar": False,
            "copy_objects_with_cells": True,  # Excel's default; a user may turn it off
        }
        self.books = FakeBooks(self)
        self.calculated = 0
        self.refuse: dict[str, int] = {}  # label -> the occurrence of it that fails
        self.opened: list[FakeBook] = []
        self.own: list[FakeBook] = []
        self.opened_with: list[tuple] = []
        self.steps: list[str] = []
        self.fail_at: int | None = None
        self.reject = 0  # the next this-many steps raise CommandError (a cell in edit mode)

    def step(self, label: str) -> None:
        """One call that changes something in Excel; the injected failures happen here."""
        if self.reject:
            self.reject -= 1
            raise CommandError(f"Excel got an error: {label} was rejected (-1708)")
        self.steps.append(label)
        if self.refuse.get(label) == self.steps.count(label):
            raise FakeComError(f"{label} refused")
        if self.fail_at == len(self.steps):
            raise FakeComError(f"injected failure at step {len(self.steps)}: {label}")

    @property
    def api(self) -> "FakeAppApi":
        return FakeAppApi(self)

    def calculate(self) -> None:
        self.step("app.calculate")
        self.calculated += 1

    def open_books(self) -> list["FakeBook"]:
        return [b for b in self.own + self.opened if not b.closed]

    def alert(self, text: str, title: str = "") -> None:
        self.alerts.append(text)

    def __getattr__(self, key):
        settings = self.__dict__.get("_settings", {})
        if key in settings:
            return settings[key]
        raise AttributeError(key)

    def __setattr__(self, key, value):
        if key in self.__dict__.get("_settings", {}):
            self.step(f"app.{key}")
            self._settings[key] = value
        else:
            super().__setattr__(key, value)


class FakeBook:
    _untitled = 0

    def __init__(self, path: Path | None, app: FakeApp | None = None):
        self.app = app or FakeApp()
        if app is None:
            self.app.own.append(self)
        if path is None:
            FakeBook._untitled += 1
            self.fullname = self.name = f"Book{FakeBook._untitled}"
            contents = {"Sheet1": ([], [])}
        else:
            self.fullname, self.name = str(path), path.name
            contents = _load(path)
        self.saved = 0
        self.closed = False
        self.names: dict[str, tuple[FakeSheet, str]] = {}
        self.sheets = FakeSheets(
            [
                FakeSheet(self, n, g, c, f)
                for n, (g, c, *rest) in contents.items()
                for f in [rest[0] if rest else {}]
            ]
        )

    def save(self) -> None:
        self.saved += 1

    def close(self) -> None:
        self.app.step("book.close")
        self.closed = True


# ---------------------------------------------------------------------------- helpers


def state(book: FakeBook) -> dict:
    """Everything a swap may touch, with sheet identity (id) included."""
    app = book.app
    return {
        "sheets": [
            (
                id(s),
                s.name,
                s.grid,
                s.formats,
                [(c.formulas(), c.filtered()) for c in s.chart_list],
                s.cell_formulas,
                s.look,
            )
            for s in book.sheets
        ],
        "settings": {k: v for k, v in app._settings.items() if k != "status_bar"},
        "open": [b.name for b in app.open_books()],
        "names": {k: (id(s), a, s.deleted) for k, (s, a) in book.names.items()},
    }


def with_dashboard(book: FakeBook) -> FakeFormula:
    """A manager's own sheet with ``=Summary!E5`` and a defined name on Summary."""
    summary = book.sheets["Summary"]
    dashboard = FakeSheet(book, "Dashboard", [[None]], [])
    book.sheets.items.append(dashboard)
    formula = dashboard.formulas["A1"] = FakeFormula(summary, "E5")
    book.names["MyTop"] = (summary, "$A$3:$E$12")
    return formula


@pytest.fixture
def demo_path(tmp_path) -> Path:
    path = tmp_path / "demo.xlsx"
    assert cli("demo", "--customers", "50", "-o", str(path))[0] == 0
    return path


@pytest.fixture
def refreshed(demo_path, tmp_path) -> Path:
    """The demo as the CLI refresh leaves it (what the button opens), under the copy's name."""
    source = tmp_path / "source" / "xlhealth-demo.xlsx"
    source.parent.mkdir()
    shutil.copy(demo_path, source)
    assert cli("refresh", str(source), "--no-backup")[0] == 0
    return source


# ---------------------------------------------------------------------------- refresh


def test_live_refresh_shows_exactly_what_the_cli_refresh_writes(demo_path, tmp_path):
    before = demo_path.read_bytes()
    book = FakeBook(demo_path)
    order = [id(s) for s in book.sheets]
    excel.refresh(book)
    assert book.saved == 1 and book.app.alerts == []
    assert book.app.status_bar.startswith("xlhealth: refreshed 50 customers")
    assert [id(s) for s in book.sheets] == order  # the same sheet objects, in place
    app = book.app
    assert {k: app._settings[k] for k in ("calculation", "screen_updating")} == {
        "calculation": "automatic",
        "screen_updating": True,
    }
    assert app.display_alerts is True and app.enable_events is True
    assert all(b.closed for b in app.opened)
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
        assert book.sheets[name].formats.startswith("xlhealth-demo.xlsx:")  # from the copy
    assert len(sheet_frame(cli_copy, "Summary")["score"]) == 50


def test_the_refreshed_copy_opens_macro_free_in_manual_calculation(demo_path, tmp_path):
    xlsm = tmp_path / "Book.xlsm"
    from xlhealth.excel.build import build_workbook

    build_workbook(xlsm)
    shutil.copy(demo_path, tmp_path / "unused.xlsx")
    out = excel.macro_free_copy(xlsm, tmp_path / "copy.xlsx")
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode() + z.read("_rels/.rels").decode()
    assert not any(n.startswith(("xl/vbaProject", "customUI/")) for n in names)
    assert "macroEnabled" not in types and "vbaProject" not in types
    assert "vbaProject" not in rels and "customUI" not in rels
    assert openpyxl.load_workbook(out).sheetnames  # a valid .xlsx
    book = FakeBook(demo_path)
    excel.refresh(book)
    ((path, calculation, screen_updating, events),) = book.app.opened_with
    assert path.suffix == ".xlsx" and path.name != demo_path.name
    assert (calculation, screen_updating, events) == ("manual", False, False)
    assert book.app.calculation == "automatic"  # the user's mode is back


def test_live_scores_read_the_books_own_sheets_not_the_copy(demo_path, tmp_path):
    """Cells copied from the refreshed copy would point Summary's formulas at the copy
    (``'[xlhealth-demo.xlsx]Values'!…``); the swap enters them in the book itself."""
    book = FakeBook(demo_path)
    excel.refresh(book)
    assert book.app.alerts == []
    cli_copy = tmp_path / "cli.xlsx"
    shutil.copy(demo_path, cli_copy)
    assert cli("refresh", str(cli_copy), "--no-backup")[0] == 0
    expected = _formulas_of(cli_copy)
    for name in ("Summary", "Values"):
        got = book.sheets[name].cell_formulas
        assert len(got) > 50 * 10 and not [f for f in got.values() if "[" in f], name
        assert got == expected[name], name
    assert "INDEX('Values'!" in book.sheets["Summary"].cell_formulas["E3"]


def test_without_the_rewrite_the_copy_would_leave_links(demo_path, refreshed, monkeypatch):
    """The fake does what Excel does to formulas copied between books (so the test above
    can fail): without the rewrite, Summary reads the closed copy."""
    monkeypatch.setattr(swap, "rewrite_formulas", lambda *args: None)
    book = FakeBook(demo_path)
    excel.swap_in(excel.LiveBook(book), refreshed, OUTPUT_SHEETS)
    linked = [f for f in book.sheets["Summary"].cell_formulas.values() if "[" in f]
    assert linked and "'[xlhealth-demo.xlsx]Values'!" in linked[0]


def test_user_formulas_and_names_on_summary_read_the_new_scores(demo_path, refreshed):
    book = FakeBook(demo_path)
    formula = with_dashboard(book)
    summary = book.sheets["Summary"]
    summary.grid[4][4] = old = -1.0  # the score before this refresh
    excel.swap_in(excel.LiveBook(book), refreshed, OUTPUT_SHEETS)
    new_grid = python_calamine.CalamineWorkbook.from_path(str(refreshed))
    expected = new_grid.get_sheet_by_name("Summary").to_python(skip_empty_area=False)[4][4]
    assert formula.text == "=Summary!E5" and formula.value == expected != old
    assert book.sheets["Summary"] is summary and not summary.deleted
    assert book.names["MyTop"][0] is summary
    assert [s.name for s in book.sheets][-1] == "Dashboard"


def test_segments_charts_point_at_the_books_own_sheet(demo_path, refreshed):
    book = FakeBook(demo_path)
    excel.swap_in(excel.LiveBook(book), refreshed, OUTPUT_SHEETS)
    charts = [c.formulas() for c in book.sheets["Segments"].chart_list]
    expected = _charts_of(refreshed)["Segments"]
    assert charts and len(charts) == len(expected)
    for got, want in zip(charts, expected, strict=True):
        assert got == [f.replace("'Segments'!", "'Segments'!") for f in want]
        assert all("[" not in f for f in got), got  # never the temporary copy


def test_a_failure_at_every_step_leaves_the_book_as_it_was(demo_path, refreshed, monkeypatch):
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0,))
    probe = FakeBook(demo_path)
    with_dashboard(probe)
    excel.swap_in(excel.LiveBook(probe), refreshed, OUTPUT_SHEETS)
    done = state(probe)
    total = len(probe.app.steps)
    assert total > 30
    undone = 0
    for fail_at in range(1, total + 1):
        book = FakeBook(demo_path)
        formula = with_dashboard(book)
        before = state(book)
        old_value = formula.value
        book.app.fail_at = fail_at
        label = probe.app.steps[fail_at - 1]
        live = excel.LiveBook(book)
        try:
            excel.swap_in(live, refreshed, OUTPUT_SHEETS)
        except FakeComError:
            assert state(book) == before, f"step {fail_at}: {label}"
            assert formula.value == old_value and formula.text == "=Summary!E5"
            undone += 1
        else:  # a step after the swap: a sheet's look, closing the copies, the settings
            look_step = label.startswith(("tab.", "AutoFilterMode", "range.AutoFilter",
                                          "window.", "PageSetup.", "sheet.activate"))  # fmt: skip
            if look_step:  # noted, never a reason to undo the refresh; the data is all there
                last_activate = fail_at == max(
                    i for i, step in enumerate(probe.app.steps, 1) if step == "sheet.activate"
                )  # the user's sheet active again: nothing to say
                assert live.notes or last_activate, label
                same_data = _same_content(state(book), done, looks=False)
                assert same_data, label
                continue
            assert label in (
                "book.close",
                "app.calculation",
                "app.screen_updating",
                "app.display_alerts",
                "app.enable_events",
                "app.copy_objects_with_cells",
                "app.status_bar",
            ), label
            ours, theirs = state(book), done
            if label == "book.close":  # a scratch book left open; the swap itself is done
                ours = {**ours, "open": ours["open"][:1]}
            setting = label.removeprefix("app.").replace("copy_objects_with_cells", "copy_objects")
            if setting in live.unrestored:  # named, so the message can say what to do
                assert live.unrestored == [setting]
                ours = {**ours, "settings": theirs["settings"]}
            assert _same_content(ours, theirs), label
    assert undone >= total * 0.7


def _same_content(a: dict, b: dict, looks: bool = True) -> dict:
    """Two states alike but for sheet ids (different fake books)."""

    def strip(s):
        sheets = [x[1:] if looks else x[1:-1] for x in s["sheets"]]
        return sheets, s["settings"], s["open"]

    return strip(a) == strip(b)


def test_a_failure_in_refresh_is_one_message_and_no_change(demo_path, monkeypatch):
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0,))
    book = FakeBook(demo_path)
    before = state(book)
    book.app.fail_at = 12
    excel.refresh(book)
    assert len(book.app.alerts) == 1
    assert book.app.alerts[0].startswith("Refresh stopped — nothing was changed")
    assert "unexpected FakeComError: injected failure at step 12" in book.app.alerts[0]
    assert state(book) == before


def test_an_undo_that_fails_too_says_so(demo_path, monkeypatch):
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0,))
    book = FakeBook(demo_path)
    original = excel.LiveBook.overwrite
    calls = []

    def overwrite(self, target, source):
        calls.append(target.name)
        if len(calls) == 2:
            raise FakeComError("second sheet failed")
        if len(calls) > 2:
            raise FakeComError("undo failed")
        original(self, target, source)

    monkeypatch.setattr(excel.LiveBook, "overwrite", overwrite)
    excel.refresh(book)
    (message,) = book.app.alerts
    assert "could not undo" in message and "WITHOUT saving" in message


def test_every_undo_step_is_attempted_when_one_fails(demo_path, refreshed, monkeypatch):
    """Issue 22.8: the rollback goes on past an undo step that fails, so only that sheet
    is left changed, and the message says the book must be closed without saving."""
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0,))
    book = FakeBook(demo_path)
    before = state(book)
    original = excel.LiveBook.overwrite
    calls: list[str] = []

    def overwrite(self, target, source):
        calls.append(target.name)
        if len(calls) == 4:  # three sheets are written, the fourth fails
            raise FakeComError("fourth sheet failed")
        if len(calls) == 6:  # undo: the fourth back (5), then the third back fails (6)
            raise FakeComError("undo failed")
        original(self, target, source)

    monkeypatch.setattr(excel.LiveBook, "overwrite", overwrite)
    with pytest.raises(swap.RollbackError) as raised:
        excel.swap_in(excel.LiveBook(book), refreshed, OUTPUT_SHEETS)
    assert len(raised.value.undo_errors) == 1
    after = {s[1]: s[2:] for s in state(book)["sheets"]}
    was = {s[1]: s[2:] for s in before["sheets"]}
    left = [name for name in was if after[name] != was[name]]
    assert left == [calls[2]]  # the two sheets before it were put back all the same
    assert calls[4:] == [calls[3], calls[2], calls[1], calls[0]]


def test_a_protected_sheet_is_named_before_anything_changes(demo_path):
    """Issue 22.8/9: a protected Summary is said at once, in words, and nothing is touched
    (it used to fail, be retried for ~20 s, and fail its undo too: "close WITHOUT saving")."""
    book = FakeBook(demo_path)
    book.sheets["Summary"].protected = True
    before = state(book)
    excel.refresh(book)
    (message,) = book.app.alerts
    assert message.startswith("Refresh stopped — nothing was changed")
    assert "Summary: protected" in message and "Unprotect Sheet" in message
    assert state(book) == before
    assert not any(label.startswith(("sheet.", "cells.", "chart.")) for label in book.app.steps)


def test_only_busy_rejections_are_retried(monkeypatch):
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0, 0, 0))
    calls = []

    def fails(error):
        def step():
            calls.append(1)
            raise error

        return step

    with pytest.raises(FakeComError):
        livebook.retry(fails(FakeComError("The cell is on a protected sheet.")))
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(CommandError):
        livebook.retry(fails(CommandError("Excel got an error: rejected (-1708)")))
    assert len(calls) == 4  # three waits, then the last try
    calls.clear()
    with pytest.raises(FakeComError):
        livebook.retry(fails(FakeComError((-2147418111, "Call was rejected by callee."))))
    assert len(calls) == 4


def test_each_setting_is_given_back_on_its_own(demo_path):
    """Issue 22.7: one setting Excel refuses to restore leaves the others restored, and the
    message says what to do about it."""
    book = FakeBook(demo_path)
    book.app.refuse = {"app.display_alerts": 2}  # the 2nd: giving it back
    excel.refresh(book)
    app = book.app
    assert app.calculation == "automatic" and app.screen_updating is True
    assert app.enable_events is True and app.copy_objects_with_cells is True
    assert app.display_alerts is False
    (message,) = app.alerts
    assert message.startswith("xlhealth: refreshed 50 customers")
    assert "will not ask before closing unsaved work" in message


def test_charts_copy_with_the_user_option_off_and_it_stays_off(demo_path):
    """Issue 22.3: CopyObjectsWithCells off (a user option) would leave Segments' charts
    behind; the swap turns it on for the run and gives it back."""
    book = FakeBook(demo_path)
    book.app.copy_objects_with_cells = False
    excel.refresh(book)
    assert book.app.alerts == [] and book.app.copy_objects_with_cells is False
    assert len(book.sheets["Segments"].chart_list) == 2


def test_refresh_twice_deletes_charts_by_position(demo_path):
    """Issue 22.1: Mac xlwings addresses charts by index; deleting them front to back
    failed from the second refresh on (the fake looks charts up by position)."""
    book = FakeBook(demo_path)
    for _ in range(2):
        excel.refresh(book)
        assert book.app.alerts == []
        assert len(book.sheets["Segments"].chart_list) == 2
    assert book.app.calculated == 2  # and every open book is recalculated after the swap


@pytest.mark.parametrize("mac", [False, True])
def test_frozen_panes_filters_tab_colours_and_page_setup_as_the_cli_writes(
    tmp_path, monkeypatch, mac
):
    """Issue 22.2: a copy of cells carries none of them; the swap sets each as the refreshed
    file has it (COM on Windows, AppleScript on a Mac), and the user's sheet stays active."""
    from xlhealth.demo import data as demo_data
    from xlhealth.sheets.template import new_workbook

    monkeypatch.setattr(livebook, "IS_MAC", mac)
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "never-refreshed.xlsx"
    new_workbook(path, inputs=demo_data.generate(30))
    cli_copy = tmp_path / "cli.xlsx"
    shutil.copy(path, cli_copy)
    assert cli("refresh", str(cli_copy), "--no-backup")[0] == 0
    book = FakeBook(path)
    book.sheets.active = book.sheets["Customers"]
    before = {s.name: dict(s.look) for s in book.sheets}
    excel.refresh(book)
    assert book.app.alerts == [] or mac  # a Mac says "refreshed" in a message box
    with Package(cli_copy) as p:
        wanted = {n: asdict(sheet_look(p.read(p.sheet_part(n)))) for n in OUTPUT_SHEETS}
    for name in OUTPUT_SHEETS:
        assert book.sheets[name].look == wanted[name], name
    assert wanted["Summary"]["freeze"] and wanted["Summary"]["autofilter"]
    assert before["Summary"] != wanted["Summary"]  # the template's look was not it
    assert book.sheets.active is book.sheets["Customers"]


def test_a_series_filtered_out_is_put_back_too(demo_path, refreshed, monkeypatch):
    """Issue 22.12: the undo re-points every series, the ones a user filtered out of the
    chart too (COM's SeriesCollection skips them; FullSeriesCollection does not)."""
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0,))
    probe = FakeBook(demo_path)
    excel.swap_in(excel.LiveBook(probe), refreshed, OUTPUT_SHEETS)
    last = max(i for i, label in enumerate(probe.app.steps, 1) if label == "series.Formula")
    book = FakeBook(demo_path)
    book.sheets["Segments"].chart_list[0].all[1].filtered = True
    before = state(book)
    book.app.fail_at = last + 1
    with pytest.raises(FakeComError):
        excel.swap_in(excel.LiveBook(book), refreshed, OUTPUT_SHEETS)
    assert state(book) == before


def test_mac_editing_a_cell_is_rejected_cleanly_and_undone(demo_path, monkeypatch):
    """Mac RunPython returns at once; a user typing in a cell makes Excel reject calls."""
    monkeypatch.setattr(livebook, "IS_MAC", True)
    monkeypatch.setattr(livebook, "RETRY_DELAYS", (0, 0, 0, 0, 0))
    monkeypatch.setenv("HOME", str(demo_path.parent))
    book = FakeBook(demo_path)
    before = state(book)
    original = book.app.step
    seen = []

    def step(label):
        seen.append(label)
        if len(seen) == 25:  # the user starts editing: the next 3 calls are rejected
            book.app.reject = 3
        original(label)

    book.app.step = step
    excel.refresh(book)
    (message,) = book.app.alerts
    assert message.startswith("Refresh stopped — nothing was changed")
    assert "a cell being edited" in message and "CommandError" in message
    assert state(book) == before


def test_mac_reports_success_in_a_message_box_and_copies_inside_the_sandbox(
    demo_path, monkeypatch, tmp_path
):
    monkeypatch.setattr(livebook, "IS_MAC", True)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    book = FakeBook(demo_path)
    excel.refresh(book)
    (message,) = book.app.alerts
    assert message.startswith("xlhealth: refreshed 50 customers")
    assert book.app.status_bar is False  # xlwings' CleanUp clears it anyway
    ((path, *_),) = book.app.opened_with
    sandbox = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
    assert sandbox in path.parents
    # series formulas go through appscript's series.formula on a Mac
    assert all("[" not in f for c in book.sheets["Segments"].chart_list for f in c.formulas())


def test_a_broken_config_alerts_and_changes_nothing(demo_path):
    wb = openpyxl.load_workbook(demo_path)
    wb["Tiers"]["B3"] = 95  # tier 4 above tier 5
    wb.save(demo_path)
    book = FakeBook(demo_path)
    before = state(book)
    excel.refresh(book)
    assert len(book.app.alerts) == 1
    assert book.app.alerts[0].startswith("Refresh stopped — nothing was changed")
    assert "Tiers!B2" in book.app.alerts[0]  # tier 5 (row 2) no longer above tier 4
    assert state(book) == before and book.app.steps == []


def test_an_unsaved_book_is_asked_to_be_saved(tmp_path, demo_path):
    book = FakeBook(demo_path)
    book.fullname = "Book1"
    excel.refresh(book)
    assert "Save the workbook once" in book.app.alerts[0] and book.saved == 0


def test_repoint_series_references():
    f = "=SERIES('[xlhealth-a.xlsx]Segments'!$B$4,'Segments'!$A$5:$A$9,'[a.xlsm]Other'!$B$5,1)"
    assert (
        livebook.repoint(f, "Segments", "Segments", "a.xlsm")
        == "=SERIES('Segments'!$B$4,'Segments'!$A$5:$A$9,'Other'!$B$5,1)"
    )
    assert livebook.repoint("=SERIES(,Seg!A1,'It''s'!B1,1)", "It's", "Seg", "x") == (
        "=SERIES(,Seg!A1,'Seg'!B1,1)"
    )


# ---------------------------------------------------------------------------- other buttons


def test_export_button_exports_the_saved_book_by_owner(demo_path):
    book = FakeBook(demo_path)
    excel.export_for_email(book)
    assert book.saved == 1
    assert book.app.alerts[0].startswith("Wrote ") and "Nothing was sent" in book.app.alerts[0]
    folder = demo_path.parent / "demo export"
    assert len(list(folder.glob("*.xlsx"))) == len(list(folder.glob("*.eml"))) > 1


def test_import_button_imports_the_settings_folder_into_maturity(demo_path):
    from xlhealth.core.config import default_model
    from xlhealth.sheets.questionnaire import FIRST_FACTOR_ROW, SHEET, write_questionnaire

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
    maturity = book.sheets["Maturity"]
    excel.import_questionnaires(book)
    assert book.saved == 1 and book.sheets["Maturity"] is maturity
    assert book.app.alerts[0].startswith("1 imported")
    grid = book.sheets["Maturity"].grid
    rows = [r for r in grid[1:] if r[0] == "CUST-00007"]
    assert len(rows) == 12 and {r[2] for r in rows} == {4}


def test_live_refresh_keeps_what_people_typed_in_the_book(demo_path):
    """The button refreshes the saved book: a status, a note and a column people added on
    Actions, and a column on Summary, are on the sheets Excel shows afterwards."""
    wb = openpyxl.load_workbook(demo_path)
    actions, summary = wb["Actions"], wb["Summary"]
    keys = {c.value: c.column for c in actions[2]}
    actions.cell(3, keys["status"], "Snoozed")
    actions.cell(3, keys["snooze_until"], dt.date(2027, 6, 30))
    actions.cell(3, keys["note"], "waiting for the new sponsor")
    actions.cell(1, actions.max_column + 1, "Playbook")
    actions.cell(3, actions.max_column, "exec-sponsor-change")
    summary.cell(1, summary.max_column + 1, "Account plan")
    summary.cell(3, summary.max_column, "https://example.org/plan/1")
    identity = (actions.cell(3, 2).value, actions.cell(3, keys["alert"]).value)
    customer = summary.cell(3, 1).value
    wb.save(demo_path)  # what Excel holds is saved first: the button's input
    book = FakeBook(demo_path)
    excel.refresh(book)
    assert book.app.alerts == []
    grid = book.sheets["Actions"].grid
    header = [k or label for k, label in zip(grid[1], grid[0], strict=False)]
    rows = [dict(zip(header, r, strict=False)) for r in grid[2:]]
    (row,) = [r for r in rows if (r["customer_id"], r["alert"]) == identity]
    assert row["status"] == "Snoozed" and row["note"] == "waiting for the new sponsor"
    assert row["Playbook"] == "exec-sponsor-change"
    s = book.sheets["Summary"].grid
    column = s[0].index("Account plan")
    assert [r[column] for r in s[2:] if r[0] == customer] == ["https://example.org/plan/1"]


def test_collect_button_takes_the_owners_files_from_the_settings_folder(demo_path):
    """Owners' copies in ``collected/`` beside the book: their statuses land on the open
    book's Actions; nothing else changes."""
    folder = demo_path.parent / "collected"  # the default collect_folder
    assert cli("export", str(demo_path), "--by", "owner", "--no-all", "-o", str(folder))[0] == 0
    owner_file = sorted(folder.glob("*.xlsx"))[0]
    wb = openpyxl.load_workbook(owner_file)
    ws = wb["Actions"]
    keys = {c.value: c.column for c in ws[2]}
    ws.cell(3, keys["status"], "Done")
    ws.cell(3, keys["note"], "sorted on the phone")
    identity = (ws.cell(3, 2).value, ws.cell(3, keys["alert"]).value)
    wb.save(owner_file)
    book = FakeBook(demo_path)
    summary = [list(r) for r in book.sheets["Summary"].grid]
    excel.collect_updates(book)
    assert book.saved == 1 and book.app.alerts[0].startswith("Took 2 cell(s) from")
    grid = book.sheets["Actions"].grid
    header = list(grid[1])
    (row,) = [r for r in grid[2:] if (r[1], r[header.index("alert")]) == identity]
    assert row[header.index("status")] == "Done"
    assert row[header.index("note")] == "sorted on the phone"
    assert book.sheets["Summary"].grid == summary
