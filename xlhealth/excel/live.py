"""Inside Excel: the RunPython entry points behind the Refresh, Export and Import buttons.

:class:`LiveBook` is the only code that touches xlwings, and each of its methods is
one or two xlwings calls. Everything else is the file pipeline (the button and the
CLI cannot disagree) and :func:`swap_in`, which writes the refreshed sheets *into*
the open book's own sheet objects -- so a manager's ``=Summary!E5`` on a sheet of
their own, a defined name or a pivot keeps pointing at Summary -- and undoes every
change if anything fails. It is tested against a fake of exactly these calls
(tests/test_excel_live.py); real Excel is driven by tests/excel/.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from xlhealth.core.problems import RefreshError
from xlhealth.refresh import refresh as refresh_file
from xlhealth.sheets.outputs import OUTPUT_SHEETS
from xlhealth.xlsx.cells import formula_blocks
from xlhealth.xlsx.package import Package

IS_MAC = sys.platform == "darwin"
# Retried while Excel rejects calls: on a Mac RunPython returns at once, and a user who
# starts typing in a cell makes Excel refuse AppleScript until Enter/Esc (Windows COM
# answers RPC_E_CALL_REJECTED the same way). Undo steps are retried for ~20 s.
RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1, 2, 3, 5, 8)
MAC_SANDBOX = Path("Library/Containers/com.microsoft.Excel/Data")  # under the home folder
_QUALIFIED = re.compile(r"(?:'((?:[^']|'')+)'|([^\s'!,=(]+))!")


class LiveError(Exception):
    """Excel did something other than what the swap needs (checked, then undone)."""


class RollbackError(Exception):
    """A failure whose undo failed too: the open book may be half-changed."""

    def __init__(self, cause: BaseException, undo_error: BaseException):
        super().__init__(str(cause))
        self.cause, self.undo_error = cause, undo_error


class LiveBook:
    """The operations refresh needs, on a workbook open in Excel (thin over xlwings)."""

    def __init__(self, book: Any):
        self.book = book

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
        """Manual calculation, no screen updates, prompts or events; the user's settings after.

        Manual calculation before the refreshed copy opens stops its fullCalcOnLoad
        from recalculating every formula; no events keeps Workbook_Open and the
        user's own handlers out of the swap.
        """
        app = self.app
        saved = {
            "calculation": app.calculation,
            "screen_updating": app.screen_updating,
            "display_alerts": app.display_alerts,
            "enable_events": app.enable_events,
        }
        try:
            app.calculation = "manual"
            app.screen_updating = False
            app.display_alerts = False  # no "delete this sheet?" prompts
            app.enable_events = False
            yield
        finally:
            for key, value in saved.items():
                retry(lambda key=key, value=value: setattr(app, key, value))
            retry(lambda: setattr(app, "status_bar", False))

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

    def delete_sheet(self, sheet: Any) -> None:
        sheet.delete()

    def overwrite(self, target: Any, source: Any) -> None:
        """Make ``target`` hold what ``source`` holds, keeping the ``target`` sheet object.

        Values, number formats, styles, conditional formats, data validation, column
        widths and row heights come with a copy of the whole sheet's cells; so do the
        charts (Application.CopyObjectsWithCells). Their series then still name the
        source sheet, so they are pointed at ``target``.
        """
        for chart in list(target.charts):
            chart.delete()
        target.clear()
        source.cells.copy(target.cells)
        charts = list(target.charts)
        if len(charts) != len(source.charts):
            raise LiveError(f"{len(source.charts)} chart(s) of {source.name} did not copy")
        for chart in charts:
            for series in chart.series:
                formula = series_formula(series)
                fixed = repoint(formula, source.name, target.name, self.book.name)
                if fixed != formula:
                    set_series_formula(series, fixed)


def series_formula(series: Any) -> str:
    """``=SERIES(name, categories, values, order)`` of a chart series (Windows COM / Mac)."""
    return series.api.formula.get() if IS_MAC else series.api.Formula


def set_series_formula(series: Any, formula: str) -> None:
    if IS_MAC:
        series.api.formula.set(formula)
    else:
        series.api.Formula = formula


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


def retry(step: Callable[[], Any]) -> Any:
    """Run ``step``; while Excel rejects it, wait and try again (then raise the last error)."""
    for delay in RETRY_DELAYS:
        try:
            return step()
        except Exception:
            time.sleep(delay)
    return step()


def swap_in(live: LiveBook, source: Path, names: Sequence[str]) -> None:
    """Write sheets ``names`` of the workbook file ``source`` into the open book: all or nothing.

    Each existing sheet keeps its identity (its contents are overwritten, after a
    backup copy of them goes to a scratch book); a missing one is added at the end.
    On any exception every change is undone -- the overwritten sheets are written
    back from their backups, added sheets deleted -- and the exception is raised
    again (a :class:`RollbackError` if the undo failed too).
    """
    undo: list[Callable[[], None]] = []
    opened: list[Any] = []
    with live.quiet():
        try:
            before = live.sheet_names()
            opened.append(live.open_book(source))
            other = opened[0]
            opened.append(live.new_book())
            scratch = opened[1]
            for name in names:
                new = other.sheets[name]
                if name in before:
                    target = live.sheet(name)
                    backup = live.copy_sheet(target, scratch)
                    undo.append(lambda t=target, b=backup, n=name: _restore(live, t, b, n))
                    live.overwrite(target, new)
                else:
                    undo.append(lambda: _delete_added(live, before))
                    added = live.copy_sheet(new, live.book)
                    live.overwrite(added, new)  # charts pointed at the book's own sheet
            rewrite_formulas(live, source, names)
        except BaseException as error:
            try:
                for step in reversed(undo):
                    retry(step)
            except Exception as undo_error:
                raise RollbackError(error, undo_error) from error
            raise
        finally:
            for book in reversed(opened):
                retry(lambda book=book: live.close_book(book))


def rewrite_formulas(live: LiveBook, source: Path, names: Sequence[str]) -> None:
    """Enter the formulas of sheets ``names`` as the file ``source`` has them.

    Cells copied from another workbook keep their formulas, but Excel points every
    reference to another sheet at that workbook (``'[work-Book.xlsx]Values'!$E:$E``):
    Summary's live scores would read the closed scratch copy. Entered in the book itself
    they read its own Values, Rules and Tiers.
    """
    with Package(source) as package:
        blocks = {
            name: formula_blocks(package.read(part))
            for name in names
            if (part := package.sheet_part(name)) is not None
        }
    for name, found in blocks.items():
        target = live.sheet(name)
        for ref, formulas in found:
            live.set_formulas(target, ref, formulas)


def _restore(live: LiveBook, target: Any, backup: Any, name: str) -> None:
    """Undo one overwritten sheet: its cells back from the scratch book, and its formulas
    entered again as the saved book has them (from the scratch book they would point
    there)."""
    live.overwrite(target, backup)
    rewrite_formulas(live, Path(live.book.fullname), [name])


def _delete_added(live: LiveBook, before: Sequence[str]) -> None:
    for name in live.sheet_names():
        if name not in before:
            live.delete_sheet(live.sheet(name))


def macro_free_copy(source: Path, target: Path) -> Path:
    """``source`` as a macro-free .xlsx: no VBA, so opening it starts no UDF server or macro."""
    main_xlsm = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    main_xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            name = info.filename
            if name.startswith(("xl/vbaProject", "customUI/")):
                continue
            data = z.read(info)
            if name == "[Content_Types].xml":
                text = data.decode("utf-8").replace(main_xlsm, main_xlsx)
                text = re.sub(r"<(?:Override|Default)[^>]*vbaProject[^>]*/>", "", text)
                data = text.encode("utf-8")
            elif name in ("xl/_rels/workbook.xml.rels", "_rels/.rels"):
                text = data.decode("utf-8")
                text = re.sub(r"<Relationship [^>]*(?:vbaProject|customUI)[^>]*/>", "", text)
                data = text.encode("utf-8")
            fresh = zipfile.ZipInfo(name, date_time=info.date_time)
            out.writestr(fresh, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary folder Excel may open files in without asking.

    Mac Excel is sandboxed: a file under $TMPDIR needs "Grant File Access" every run,
    one in its container (~/Library/Containers/com.microsoft.Excel/Data) does not.
    """
    parent = None
    if IS_MAC:
        parent = Path.home() / MAC_SANDBOX / "xlhealth"
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlhealth-", dir=parent) as tmp:
        yield Path(tmp)


def _opened_name(saved: Path) -> str:
    """What Excel opens: another name than the book's (Excel cannot open two of one name)."""
    return f"xlhealth-{saved.stem}.xlsx"


def _reason(error: BaseException) -> str:
    if isinstance(error, RefreshError):
        return "\n".join(str(p) for p in error.problems[:15])
    if isinstance(error, LiveError):
        return str(error)
    name = type(error).__name__
    if name in ("CommandError", "com_error") or "-2147418111" in str(error):
        return (
            "Excel did not accept a change -- was a cell being edited while it ran? "
            "Press Enter or Esc, then run it again.\n"
            f"({name}: {error})"
        )
    return f"unexpected {name}: {error}"


def _stopped(live: LiveBook, what: str, error: BaseException) -> None:
    if isinstance(error, RollbackError):
        live.alert(
            f"{what} stopped and could not undo all of its changes:\n{_reason(error.cause)}\n"
            f"(undo: {_reason(error.undo_error)})\n"
            "Close this workbook WITHOUT saving and open it again: it was saved just "
            "before the run."
        )
        return
    live.alert(f"{what} stopped — nothing was changed:\n{_reason(error)}")


def _done(live: LiveBook, text: str) -> None:
    """Success: the status bar on Windows; a message box on a Mac, where xlwings' CleanUp
    clears the status bar as soon as the (asynchronous) run ends."""
    if IS_MAC:
        live.alert(text)
    else:
        live.status(text)


def refresh(book: Any = None) -> None:
    """The Refresh button: the CLI refresh on a copy of the saved book, written into the book.

    The workbook is saved first (that is the input the pipeline reads), a copy is
    refreshed headlessly, and the six output sheets of that copy are written into
    the book's own sheets -- so what the button shows is exactly what ``xlhealth
    refresh`` writes, formatting and charts included, and every reference to those
    sheets keeps working. Any problem ends in one message and leaves the open book
    as it was.
    """
    import xlwings as xw

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        with scratch_folder() as tmp:
            copy = tmp / f"work-{saved.name}"
            shutil.copy2(saved, copy)
            report = refresh_file(copy, backup=False, base=saved.parent)  # Sources paths
            swap_in(live, macro_free_copy(copy, tmp / _opened_name(saved)), OUTPUT_SHEETS)
    except Exception as error:
        _stopped(live, "Refresh", error)
        return
    _done(
        live,
        f"xlhealth: refreshed {len(report.result.summary):,} customers as of "
        f"{report.result.as_of}; {len(report.problems)} data problem(s) on Checks.",
    )


def export_for_email(book: Any = None) -> None:
    """The Export for email button: ``xlhealth export --by owner --drafts`` on the saved book."""
    import xlwings as xw

    from xlhealth.export import export

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        files = export(saved, by="owner", drafts=True)
    except Exception as error:
        _stopped(live, "Export", error)
        return
    live.alert(
        f"Wrote {len(files)} file(s) with e-mail drafts to:\n{files[0].path.parent}\n"
        "Nothing was sent."
    )


def import_questionnaires(book: Any = None) -> None:
    """The Import questionnaires button: import the folder named on Settings into Maturity.

    The folder is the ``questionnaire_folder`` setting (relative to the workbook),
    else ``questionnaires`` beside it. The import runs on a saved copy and the
    new Maturity sheet is copied in, like Refresh.
    """
    import xlwings as xw

    from xlhealth.questionnaire import import_questionnaires as import_files

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        folder = questionnaire_folder(saved)
        if not folder.is_dir():
            raise RefreshError(
                f"no folder {folder}; put the filled questionnaires there or set "
                "questionnaire_folder on the Settings sheet"
            )
        with scratch_folder() as tmp:
            copy = tmp / f"work-{saved.name}"
            shutil.copy2(saved, copy)
            report = import_files(copy, (folder,))
            if report.imported:
                swap_in(live, macro_free_copy(copy, tmp / _opened_name(saved)), ["Maturity"])
    except Exception as error:
        _stopped(live, "Import", error)
        return
    lines = [
        f"{len(report.imported)} imported, {len(report.replaced)} replaced, "
        f"{len(report.rejected)} rejected, {len(report.skipped)} skipped."
    ]
    lines += [why for _, why in report.notes[:10]]
    lines += [why for _, why in report.rejected[:10]]
    lines.append("Press Refresh to update the scores.")
    live.alert("\n".join(lines))


def questionnaire_folder(saved: Path) -> Path:
    return settings_folder(saved, "questionnaire_folder", "questionnaires")


def settings_folder(saved: Path, key: str, default: str) -> Path:
    """A folder named on the Settings sheet (relative to the workbook), else ``default``."""
    from xlhealth.book.read import read_workbook

    path = Path(read_workbook(saved, ("Settings",)).setting(key) or default)
    return path if path.is_absolute() else saved.parent / path


def collect_updates(book: Any = None) -> None:
    """The Collect updates button: ``xlhealth collect`` of the folder named on Settings
    (``collect_folder``, else ``collected`` beside the workbook) on a saved copy; the new
    Actions sheet is copied in, like Refresh."""
    import xlwings as xw

    from xlhealth.collect import collect

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        folder = settings_folder(saved, "collect_folder", "collected")
        if not folder.is_dir():
            raise RefreshError(
                f"no folder {folder}; put the owners' returned files there or set "
                "collect_folder on the Settings sheet"
            )
        with scratch_folder() as tmp:
            copy = tmp / f"work-{saved.name}"
            shutil.copy2(saved, copy)
            report = collect(copy, [folder], backup=False, name=saved.name)
            if report.changed:
                swap_in(live, macro_free_copy(copy, tmp / _opened_name(saved)), ["Actions"])
    except Exception as error:
        _stopped(live, "Collect", error)
        return
    lines = [
        f"Took {report.changed} cell(s) from {len(report.files)} file(s); "
        f"refused {len(report.refused)} file(s)."
    ]
    lines += [str(p) for p in report.problems[:12]]
    if len(report.problems) > 12:
        lines.append(f"… and {len(report.problems) - 12} more")
    live.alert("\n".join(lines))


def suggest_weights(book: Any = None) -> None:
    """The Suggest weights button: ``xlhealth suggest`` on the saved book, the Suggestions
    sheet written into the open book like Refresh does. It never applies the weights
    (that stays a deliberate ``xlhealth suggest BOOK --apply``)."""
    import xlwings as xw

    from xlhealth.sheets.suggestions import SHEET, headline
    from xlhealth.suggest_book import suggest_book

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        with scratch_folder() as tmp:
            copy = tmp / f"work-{saved.name}"
            shutil.copy2(saved, copy)
            report = suggest_book(copy, backup=False, base=saved.parent)
            swap_in(live, macro_free_copy(copy, tmp / _opened_name(saved)), [SHEET])
    except Exception as error:
        _stopped(live, "Suggest weights", error)
        return
    lang = report.model.settings.language
    report.context.book = saved.name
    live.alert("\n".join(headline(report.suggestion, lang, report.context)))
