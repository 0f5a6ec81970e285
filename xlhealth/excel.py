"""Inside Excel: the RunPython entry points behind the Refresh, Export and Import buttons.

:class:`LiveBook` is the only code that touches xlwings, and it does little:
save the open book, copy sheets in from a workbook file, show a message.
Everything else is the file pipeline, so the button and the CLI cannot
disagree. It is tested against a small fake of the xlwings objects it uses.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlhealth.outputs import OUTPUT_SHEETS
from xlhealth.refresh import RefreshError
from xlhealth.refresh import refresh as refresh_file


class LiveBook:
    """The operations refresh needs, on a workbook open in Excel (thin over xlwings)."""

    def __init__(self, book: Any):
        self.book = book

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def alert(self, text: str, title: str = "xlhealth") -> None:
        self.book.app.alert(text, title=title)

    def status(self, text: str) -> None:
        """A note in Excel's status bar: success needs no click."""
        self.book.app.status_bar = text

    def save(self) -> Path:
        """Save the book and return its path (a never-saved book cannot be refreshed)."""
        path = Path(self.book.fullname)
        if not path.suffix or not path.parent.exists():
            raise RefreshError("Save the workbook once (File > Save As) before refreshing it.")
        self.book.save()
        return path

    def replace_sheets(self, source: Path, names: Sequence[str]) -> None:
        """Copy sheets ``names`` of the workbook file ``source`` over this book's own."""
        app = self.book.app
        other = app.books.open(str(source))
        alerts = app.display_alerts
        app.display_alerts = False  # no "delete this sheet?" prompts
        try:
            for name in names:
                present = name in self.sheet_names()
                old = self.book.sheets[name] if present else None
                if old is not None:
                    old.name = f"{name[:20]}~old"
                anchor = old if old is not None else self.book.sheets[len(self.book.sheets) - 1]
                other.sheets[name].copy(after=anchor)
                if old is not None:
                    old.delete()
        finally:
            app.display_alerts = alerts
            other.close()


def refresh(book: Any = None) -> None:
    """The Refresh button: the CLI refresh on a copy of the saved book, then its sheets copied in.

    The workbook is saved first (that is the input the pipeline reads), a copy
    is refreshed headlessly, and the five output sheets of that copy replace
    the book's own — so what the button shows is exactly what ``xlhealth
    refresh`` writes, formatting and charts included. Any problem ends in one
    message and leaves the open book as it was.
    """
    import xlwings as xw

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / f"xlhealth-{saved.name}"  # Excel cannot open two books of one name
            shutil.copy2(saved, copy)
            report = refresh_file(copy, backup=False)
            live.replace_sheets(copy, OUTPUT_SHEETS)
    except RefreshError as error:
        live.alert(
            "Refresh stopped — nothing was changed:\n"
            + "\n".join(str(p) for p in error.problems[:15])
        )
        return
    live.status(
        f"xlhealth: refreshed {len(report.result.summary):,} customers as of "
        f"{report.result.as_of}; {len(report.problems)} data problem(s) on Checks."
    )


def export_for_email(book: Any = None) -> None:
    """The Export for email button: ``xlhealth export --by owner --drafts`` on the saved book."""
    import xlwings as xw

    from xlhealth.export import export

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        saved = live.save()
        files = export(saved, by="owner", drafts=True)
    except RefreshError as error:
        live.alert("Export stopped:\n" + "\n".join(str(p) for p in error.problems[:15]))
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
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / f"xlhealth-{saved.name}"  # Excel cannot open two books of one name
            shutil.copy2(saved, copy)
            report = import_files(copy, (folder,))
            if report.imported:
                live.replace_sheets(copy, ["Maturity"])
    except RefreshError as error:
        live.alert(
            "Import stopped — nothing was changed:\n"
            + "\n".join(str(p) for p in error.problems[:15])
        )
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
    from xlhealth.xlsx.reader import read_workbook

    book = read_workbook(saved, ("Settings",))
    folder = "questionnaires"
    if "Settings" in book.sheets:
        frame = book.sheets["Settings"].frame
        keys = frame["key"].astype(str).str.strip().str.casefold()
        values = frame.loc[keys == "questionnaire_folder", "value"].dropna()
        if not values.empty and str(values.iloc[0]).strip():
            folder = str(values.iloc[0]).strip()
    path = Path(folder)
    return path if path.is_absolute() else saved.parent / path
