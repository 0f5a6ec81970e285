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

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from xlhealth.core.problems import RefreshError
from xlhealth.excel import livebook
from xlhealth.excel.livebook import LiveBook, LiveError, is_busy
from xlhealth.excel.swap import (
    RollbackError,
    macro_free_copy,
    opened_name,
    scratch_folder,
    swap_in,
)
from xlhealth.refresh import refresh as refresh_file
from xlhealth.sheets.outputs import OUTPUT_SHEETS

__all__ = ["LiveBook", "macro_free_copy", "swap_in"]
R = TypeVar("R")


# What to do about a setting quiet() could not give back (LiveBook.unrestored).
SETTING_HINTS = {
    "calculation": "Calculation was left on manual: Formulas > Calculation Options > Automatic.",
    "screen_updating": "Excel may stop redrawing the screen: close and reopen Excel.",
    "display_alerts": "Excel will not ask before closing unsaved work until you restart it.",
    "enable_events": "Workbook events (your own macros) are off until you restart Excel.",
    "copy_objects": "Check File > Options > Advanced > 'Cut, copy, and sort inserted objects "
    "with their parent cells' (xlhealth turned it on for the run).",
}


def _reason(error: BaseException) -> str:
    """One sentence a CS user can act on, then what Excel said."""
    if isinstance(error, RefreshError):
        return "\n".join(str(p) for p in error.problems[:15])
    if isinstance(error, LiveError):
        return str(error)
    name, text = type(error).__name__, str(error)
    said = f"\n({name}: {text})"
    if is_busy(error):
        return (
            "Excel was busy (a cell being edited, or a dialog open). Press Enter or Esc, "
            "then run it again." + said
        )
    if "protected" in text.lower():
        return (
            "A sheet or the workbook is protected, so its sheets cannot be rewritten: "
            "Review > Unprotect Sheet (and Protect Workbook), then run it again." + said
        )
    if isinstance(error, PermissionError) or "read-only" in text.lower():
        return (
            "The workbook file is read-only or locked (open on another computer, or a "
            "synced folder still syncing): save it somewhere you can write, then run it "
            "again." + said
        )
    if isinstance(error, OSError):
        return f"A file could not be read or written: {error.filename or text}." + said
    return f"unexpected {name}: {text}"


def _settings_left(live: LiveBook) -> str:
    notes = [SETTING_HINTS[key] for key in live.unrestored] + live.notes[:5]
    return "".join("\n" + note for note in notes)


def _stopped(live: LiveBook, what: str, error: BaseException) -> None:
    if isinstance(error, RollbackError):
        undo = "; ".join(_reason(e).replace("\n", " ") for e in error.undo_errors[:3])
        live.alert(
            f"{what} stopped and could not undo all of its changes:\n{_reason(error.cause)}\n"
            f"(undo: {undo})\n"
            "Close this workbook WITHOUT saving and open it again: it was saved just "
            "before the run." + _settings_left(live)
        )
        return
    live.alert(f"{what} stopped — nothing was changed:\n{_reason(error)}" + _settings_left(live))


def _done(live: LiveBook, text: str) -> None:
    """Success: the status bar on Windows (the macro clears it after a while); a message
    box on a Mac, where xlwings' CleanUp clears the status bar as soon as the
    (asynchronous) run ends."""
    left = _settings_left(live)
    if livebook.IS_MAC or left:
        live.alert(text + left)
    else:
        live.status(text)


def _on_a_copy(
    live: LiveBook,
    work: Callable[[Path, Path], R],
    sheets: Callable[[R], Sequence[str]],
    saved: Path | None = None,
) -> R:
    """Save the book (unless ``saved`` says it just was), run ``work(copy, saved)`` on a copy
    of it, and write the copy's sheets ``sheets(result)`` into the open book (none: nothing
    changes)."""
    saved = saved or live.save()
    with scratch_folder() as tmp:
        copy = tmp / f"work-{saved.name}"
        shutil.copy2(saved, copy)
        result = work(copy, saved)
        names = sheets(result)
        if names:
            swap_in(live, macro_free_copy(copy, tmp / opened_name(saved)), names)
    return result


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
        report = _on_a_copy(
            live,
            lambda copy, saved: refresh_file(copy, backup=False, base=saved.parent, home=saved),
            lambda report: OUTPUT_SHEETS,
        )
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
        report = _on_a_copy(
            live,
            lambda copy, saved: import_files(copy, (folder,)),
            lambda report: ["Maturity"] if report.imported else [],
            saved,
        )
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
        report = _on_a_copy(
            live,
            lambda copy, saved: collect(copy, [folder], backup=False, name=saved.name),
            lambda report: ["Actions"] if report.changed else [],
            saved,
        )
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
        report = _on_a_copy(
            live,
            lambda copy, saved: suggest_book(copy, backup=False, base=saved.parent),
            lambda report: [SHEET],
        )
        saved = Path(live.book.fullname)
    except Exception as error:
        _stopped(live, "Suggest weights", error)
        return
    lang = report.model.settings.language
    report.context.book = saved.name
    live.alert("\n".join(headline(report.suggestion, lang, report.context)))
