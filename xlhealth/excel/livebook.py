"""The open workbook in Excel, as the few operations the in-Excel buttons need.

:class:`LiveBook` is the only code that touches xlwings, and each of its methods is one
or two xlwings calls (Windows COM or Mac AppleScript). It is tested against a fake of
exactly these calls (tests/test_excel_live.py); real Excel is driven by tests/excel/.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xlhealth.core.problems import RefreshError
from xlhealth.xlsx.sheetlook import SheetLook, split_of

IS_MAC = sys.platform == "darwin"
# Retried while Excel rejects calls: on a Mac RunPython returns at once, and a user who
# starts typing in a cell makes Excel refuse AppleScript until Enter/Esc (Windows COM
# answers RPC_E_CALL_REJECTED the same way). Only those rejections are retried (~20 s):
# an error that cannot succeed (a protected sheet) is reported at once.
RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1, 2, 3, 5, 8)
# RPC_E_CALL_REJECTED and VBA_E_IGNORE (Excel in edit mode, COM); AppleEvent not handled
# or timed out (Mac)
BUSY_CODES = ("-2147418111", "-2146777998", "-1708", "-1712")
_QUALIFIED = re.compile(r"(?:'((?:[^']|'')+)'|([^\s'!,=(]+))!")
# Excel's own settings the swap changes, and how each is read and set (xlwings properties;
# CopyObjectsWithCells only through the API: Windows COM name, Mac AppleScript name).
SETTINGS = ("calculation", "screen_updating", "display_alerts", "enable_events")
COPY_OBJECTS = ("CopyObjectsWithCells", "copy_objects_with_cells")


class LiveError(Exception):
    """Excel did something other than what the swap needs (checked, then undone)."""


class LiveBook:
    """The operations refresh needs, on a workbook open in Excel (thin over xlwings)."""

    def __init__(self, book: Any):
        self.book = book
        self.unrestored: list[str] = []  # Excel settings quiet() could not give back
        self.notes: list[str] = []  # what could not be set and does not change a number

    @property
    def app(self) -> Any:
        return self.book.app

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def sheet(self, name: str) -> Any:
        return self.book.sheets[name]

    def alert(self, text: str, title: str = "xlhealth") -> None:
        self.app.alert(text, title=title)

    def status(self, text: str | bool) -> None:
        """A note in Excel's status bar (False gives it back to Excel)."""
        self.app.status_bar = text

    def save(self) -> Path:
        """Save the book and return its path (a never-saved book cannot be refreshed)."""
        path = Path(self.book.fullname)
        if not path.suffix or not path.parent.exists():
            raise RefreshError("Save the workbook once (File > Save As) before refreshing it.")
        self.book.save()
        return path

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Manual calculation, no screen updates, prompts or events, charts copied with
        cells; the user's settings after, each given back on its own.

        Manual calculation before the refreshed copy opens stops its fullCalcOnLoad
        from recalculating every formula; no events keeps Workbook_Open and the
        user's own handlers out of the swap. CopyObjectsWithCells is a user option
        (Advanced > "Cut, copy, and sort inserted objects with their parent cells"):
        off, Segments' charts would not come with its cells. A setting that cannot be
        given back is named in :attr:`unrestored` (Excel does not reset DisplayAlerts
        for a caller from another process), and the others are still restored.
        """
        app = self.app
        saved = {key: getattr(app, key) for key in SETTINGS}
        saved["copy_objects"] = self.copy_objects_with_cells()
        try:
            app.calculation = "manual"
            app.screen_updating = False
            app.display_alerts = False  # no "delete this sheet?" prompts
            app.enable_events = False
            self.set_copy_objects_with_cells(True)
            yield
        finally:
            for key, value in saved.items():
                try:
                    if key == "copy_objects":
                        retry(lambda value=value: self.set_copy_objects_with_cells(value))
                    else:
                        retry(lambda key=key, value=value: setattr(app, key, value))
                except Exception:
                    self.unrestored.append(key)
            with contextlib.suppress(Exception):
                retry(lambda: setattr(app, "status_bar", False))

    def copy_objects_with_cells(self) -> bool:
        api = self.app.api
        return bool(
            getattr(api, COPY_OBJECTS[1]).get() if IS_MAC else getattr(api, COPY_OBJECTS[0])
        )

    def set_copy_objects_with_cells(self, value: bool) -> None:
        api = self.app.api
        if IS_MAC:
            getattr(api, COPY_OBJECTS[1]).set(value)
        else:
            setattr(api, COPY_OBJECTS[0], value)

    def open_book(self, path: Path) -> Any:
        return self.app.books.open(str(path))

    def new_book(self) -> Any:
        return self.app.books.add()

    def close_book(self, book: Any) -> None:
        book.close()

    def set_formulas(self, sheet: Any, ref: str, formulas: list[str]) -> None:
        """The first row of ``ref`` holds ``formulas`` (one per column); the rows below get
        the same formulas moved down (a copy within the sheet: no links to another book)."""
        first, _, last = ref.partition(":")
        row = re.match(r"[A-Z]+(\d+)", first).group(1)  # type: ignore[union-attr]
        end = re.match(r"([A-Z]+)(\d+)", last or first)
        head = f"{first}:{end.group(1)}{row}" if end else first  # type: ignore[union-attr]
        cells = sheet.range(head)
        cells.formula = ["=" + f for f in formulas] if len(formulas) > 1 else "=" + formulas[0]
        if end and end.group(2) != row:
            cells.copy(sheet.range(ref))

    def copy_sheet(self, sheet: Any, book: Any) -> Any:
        """A copy of ``sheet`` at the end of ``book`` (returned)."""
        return sheet.copy(after=book.sheets[len(book.sheets) - 1])

    def is_protected(self, sheet: Any) -> bool:
        """Whether the sheet's cells are protected (Review > Protect Sheet): writing them
        would fail on the first call, and its undo again."""
        return bool(sheet.api.protect_contents.get() if IS_MAC else sheet.api.ProtectContents)

    def delete_sheet(self, sheet: Any) -> None:
        sheet.delete()

    def overwrite(self, target: Any, source: Any) -> None:
        """Make ``target`` hold what ``source`` holds, keeping the ``target`` sheet object.

        Values, number formats, styles, conditional formats, data validation, column
        widths and row heights come with a copy of the whole sheet's cells; so do the
        charts (Application.CopyObjectsWithCells). Their series then still name the
        source sheet, so they are pointed at ``target``.
        """
        # by position, from the last: Mac xlwings names a chart by its index when the
        # call is sent, so after deleting chart 1 "chart 2" would no longer exist
        for i in reversed(range(len(target.charts))):
            target.charts[i].delete()
        target.clear()
        source.cells.copy(target.cells)
        charts = list(target.charts)
        if len(charts) != len(source.charts):
            raise LiveError(f"{len(source.charts)} chart(s) of {source.name} did not copy")
        for chart in charts:
            for series in all_series(chart):
                formula = series_formula(series)
                fixed = repoint(formula, source.name, target.name, self.book.name)
                if fixed != formula:
                    set_series_formula(series, fixed)

    def set_look(self, sheet: Any, look: SheetLook) -> None:
        """Frozen panes, AutoFilter, tab colour and page setup as refresh wrote them: a copy
        of cells carries none of them. Each is set on its own; one Excel refuses is noted
        (:attr:`notes`), never a reason to undo the refresh."""
        steps: list[tuple[str, Callable[[], None]]] = []
        if look.tab_color:
            steps.append(("tab colour", lambda: self._tab(sheet, look.tab_color or "")))
        steps.append(("filter buttons", lambda: self._autofilter(sheet, look.autofilter)))
        steps.append(("frozen panes", lambda: self._freeze(sheet, look.freeze)))
        if look.landscape is not None or look.fit_width:
            steps.append(("page setup", lambda: self._page(sheet, look)))
        for what, step in steps:
            try:
                retry(step)
            except Exception as error:
                self.notes.append(f"{sheet.name}: could not set the {what} ({error})")

    def _tab(self, sheet: Any, rgb: str) -> None:
        r, g, b = (int(rgb[i : i + 2], 16) for i in (0, 2, 4))
        if IS_MAC:
            sheet.api.tab.color.set([r * 257, g * 257, b * 257])
        else:
            sheet.api.Tab.Color = r + g * 256 + b * 65536  # COM colours are BGR

    def _autofilter(self, sheet: Any, ref: str | None) -> None:
        if IS_MAC:
            if sheet.api.autofilter_mode.get():
                sheet.api.autofilter_mode.set(False)
            if ref:
                sheet.range(ref).api.autofilter_range()
        else:
            if sheet.api.AutoFilterMode:
                sheet.api.AutoFilterMode = False
            if ref:
                sheet.range(ref).api.AutoFilter()

    def _freeze(self, sheet: Any, cell: str | None) -> None:
        """Freezing is a window's setting: the sheet is activated for it (the sheet the
        user was on comes back after the swap)."""
        sheet.activate()
        columns, rows = split_of(cell) if cell else (0, 0)
        if IS_MAC:
            window = self.app.api.active_window
            window.freeze_panes.set(False)
            if cell:
                window.split_column.set(columns)
                window.split_row.set(rows)
                window.freeze_panes.set(True)
        else:
            window = self.app.api.ActiveWindow
            window.FreezePanes = False
            if cell:
                window.SplitColumn = columns
                window.SplitRow = rows
                window.FreezePanes = True

    def _page(self, sheet: Any, look: SheetLook) -> None:
        if IS_MAC:
            page = sheet.api.page_setup_object
            if look.landscape is not None:
                page.page_orientation.set("landscape" if look.landscape else "portrait")
            if look.fit_width:
                page.zoom.set(False)
                page.fit_to_pages_wide.set(look.fit_width)
                page.fit_to_pages_tall.set(False)
        else:
            page = sheet.api.PageSetup
            if look.landscape is not None:
                page.Orientation = 2 if look.landscape else 1  # xlLandscape / xlPortrait
            if look.fit_width:
                page.Zoom = False
                page.FitToPagesWide = look.fit_width
                page.FitToPagesTall = False

    def active_sheet(self) -> Any:
        return self.book.sheets.active

    def calculate(self) -> None:
        """Recalculate every open book: in manual calculation the user's own formulas that
        read the new sheets would show the old numbers until F9."""
        self.app.calculate()


def all_series(chart: Any) -> list[Any]:
    """The API object of every series of a chart, including those a user filtered out of it
    (Windows: ``SeriesCollection``, behind xlwings' ``chart.series``, skips them)."""
    if IS_MAC:
        return [series.api for series in chart.series]
    full = chart.api[1].FullSeriesCollection()
    return [full.Item(i) for i in range(1, full.Count + 1)]


def series_formula(series: Any) -> str:
    """``=SERIES(name, categories, values, order)`` of a series' API object (COM / Mac)."""
    return series.formula.get() if IS_MAC else series.Formula


def set_series_formula(series: Any, formula: str) -> None:
    if IS_MAC:
        series.formula.set(formula)
    else:
        series.Formula = formula


def repoint(formula: str, old_sheet: str, new_sheet: str, home_book: str) -> str:
    """References to ``old_sheet`` (in any book) become ``new_sheet``; ``[home_book]`` goes.

    >>> repoint("=SERIES('[x.xlsx]Segments'!$B$4,,'[x.xlsx]Segments'!$B$5:$B$9,1)",
    ...         "Segments", "Segments", "HealthScore.xlsm")
    "=SERIES('Segments'!$B$4,,'Segments'!$B$5:$B$9,1)"
    """

    def fix(match: re.Match) -> str:
        qualifier = (match.group(1) or "").replace("''", "'") or match.group(2)
        book, sheet = "", qualifier
        found = re.match(r"^(?:.*[\\/])?\[([^\]]+)\](.*)$", qualifier)
        if found:
            book, sheet = found.groups()
        if sheet == old_sheet:
            return "'" + new_sheet.replace("'", "''") + "'!"
        if book and book == home_book:
            return "'" + sheet.replace("'", "''") + "'!"
        return match.group(0)

    return _QUALIFIED.sub(fix, formula)


def is_busy(error: BaseException) -> bool:
    """Excel refused the call because it is busy (a cell being edited, a dialog open):
    worth trying again, unlike every other error."""
    return any(code in str(error) for code in BUSY_CODES)


def retry(step: Callable[[], Any]) -> Any:
    """Run ``step``; while Excel rejects it as busy, wait and try again (then raise the
    last error). Any other error is raised at once."""
    for delay in RETRY_DELAYS:
        try:
            return step()
        except Exception as error:
            if not is_busy(error):
                raise
            time.sleep(delay)
    return step()
