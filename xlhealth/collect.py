"""``xlhealth collect BOOK FILES|FOLDERS``: owners' answers from their e-mailed copies, back
into the book's Actions.

Each copy from ``xlhealth export --by owner`` records the book and refresh it came from
(custom document properties) and, in hidden columns, what ``status``, ``note`` and
``snooze_until`` said when it was sent. Every file is checked first; a file from another
book, or one that cannot be read, changes nothing. Then, per action (customer + alert):
what the owner changed is written into the book — unless somebody changed the same cell in
the book since the export: that is a conflict, reported, and the book's value stays. Only
the Actions sheet changes, its cells in place; the file is replaced atomically and the
previous one kept as ``NAME.bak``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlhealth.book.files import ensure_writable
from xlhealth.book.read import read_workbook
from xlhealth.core.actions import ACTIONS_SHEET, day_of, read_status, status_label
from xlhealth.core.problems import Problem, RefreshError, is_blank
from xlhealth.core.tables import ROW_COLUMN
from xlhealth.core.text import normalise_one
from xlhealth.inputs.written import written_sheet
from xlhealth.xlsx.cells import CellError, set_values
from xlhealth.xlsx.package import NewSheet, Package, PackageError
from xlhealth.xlsx.properties import read_properties
from xlhealth.xlsx.reader import BookFile, ReadError, SheetError

FIELDS = ("status", "note", "snooze_until")


@dataclass
class Collected:
    """What collect did: cells written, files taken and refused, and every problem."""

    book: Path
    changed: int = 0
    files: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    backup: Path | None = None


def _files(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.glob("*.xlsx") if not f.name.startswith(("~$", ".")))
        else:
            out.append(p)
    return out


def _same(field_name: str, a: object, b: object) -> bool:
    if field_name == "status":
        return read_status(a) == read_status(b)
    if field_name == "snooze_until":
        return day_of(a) == day_of(b)
    return ("" if is_blank(a) else str(a).strip()) == ("" if is_blank(b) else str(b).strip())


def _identity(row: dict) -> tuple[str | None, str, str]:
    alert = "" if is_blank(row.get("alert")) else str(row["alert"]).strip()
    action = "" if alert or is_blank(row.get("action")) else str(row["action"]).strip()
    return normalise_one(row.get("customer_id")), alert, action


def _read_copy(path: Path, book: str) -> tuple[pd.DataFrame | None, str]:
    """The copy's Actions, or None and why it is refused."""
    try:
        origin = read_properties(path)
    except Exception as error:  # not a zip, damaged XML: one line, never a traceback
        return None, f"cannot be read ({error})"
    if not origin.get("xlhealth_book"):
        return None, "is not a copy made by xlhealth export (no record of its book)"
    if origin["xlhealth_book"].casefold() != book.casefold():
        return None, f"was exported from {origin['xlhealth_book']}, not from {book}"
    try:
        with BookFile(path) as file:
            actual = next((n for n in file.sheet_names if n.casefold() == "actions"), None)
            if actual is None:
                return None, "has no Actions sheet"
            frame, _ = written_sheet(file.grid(actual).values)
    except (ReadError, SheetError) as error:
        return None, f"cannot be read ({error})"
    if frame is None or not {"customer_id", *FIELDS} <= set(frame.columns):
        return None, "has no Actions list with status, note and snooze_until"
    return frame, ""


def collect(
    book: str | Path, paths: list[str | Path], backup: bool = True, name: str | None = None
) -> Collected:
    """Take the owners' status, note and snooze_until from ``paths`` into ``book``.

    ``name``: the book's own file name when ``book`` is a working copy (the button).
    """
    book = Path(book)
    ensure_writable(book)
    try:
        workbook = read_workbook(book, ("Settings",), kept=True)
    except ReadError as error:
        raise RefreshError(str(error)) from error
    current = workbook.kept.actions
    if current is None or current.empty:
        raise RefreshError(f"{book.name} has no Actions yet; run: xlhealth refresh {book.name}")
    language = "ja" if workbook.setting("language").casefold() == "ja" else "en"
    report = Collected(book)
    rows = {_identity(r): r for r in current.to_dict("records")}
    letters = current.attrs.get("letters", {})
    edits: dict[str, object] = {}
    for path in _files([Path(p) for p in paths]):
        frame, why = _read_copy(path, name or book.name)
        if frame is None:
            report.refused.append(path)
            report.problems.append(Problem(path.name, f"{why}; nothing was taken from it",
                                           blocking=False))  # fmt: skip
            continue
        report.files.append(path)
        for r in frame.to_dict("records"):
            ident = _identity(r)
            mine = rows.get(ident)
            where = f"{path.name}: row {r.get(ROW_COLUMN)}"
            if mine is None:
                report.problems.append(
                    Problem(
                        ACTIONS_SHEET,
                        f"{where}: this action is no longer on the book's "
                        "Actions (its trigger cleared, or it was removed); not taken",
                        column="customer_id",
                        value=r.get("customer_id"),
                    )
                )
                continue
            for field_name in FIELDS:
                theirs, ours = r.get(field_name), mine.get(field_name)
                sent = r.get(f"sent_{field_name}")
                if f"sent_{field_name}" not in r or _same(field_name, theirs, sent):
                    continue  # the owner did not change it
                if field_name == "status" and read_status(theirs) is None:
                    report.problems.append(
                        Problem(
                            ACTIONS_SHEET,
                            f"{where}: unknown status; use Open, Done, "
                            "Snoozed or Won't do — not taken",
                            column="status",
                            value=theirs,
                        )
                    )
                    continue
                if not _same(field_name, ours, sent) and not _same(field_name, ours, theirs):
                    report.problems.append(
                        Problem(
                            ACTIONS_SHEET,
                            f"{where}: changed in the book too since the export (book: "
                            f"{ours!r}, copy: {theirs!r}); the book's value stays",
                            row=int(mine[ROW_COLUMN]),
                            column=field_name,
                            value=theirs,
                        )
                    )
                    continue
                if field_name == "status":
                    theirs = status_label(read_status(theirs) or "open", language)
                elif field_name == "snooze_until":
                    theirs = day_of(theirs)
                elif is_blank(theirs):
                    theirs = None
                edits[f"{letters[field_name]}{int(mine[ROW_COLUMN])}"] = theirs
    if edits:
        _write(book, edits, report, backup)
    return report


def _write(book: Path, edits: dict[str, object], report: Collected, backup: bool) -> None:
    tmp = book.with_name(f".{book.name}.xlhealth-tmp")
    try:
        with Package(book) as package:
            part = package.sheet_part(ACTIONS_SHEET)
            if part is None:
                raise RefreshError(f"{book.name} has no Actions sheet")
            xml = set_values(package.read(part), edits, package.date1904)
            package.set_sheet(ACTIONS_SHEET, NewSheet(xml))
            package.save(tmp)
        if backup:
            report.backup = book.with_name(book.name + ".bak")
            shutil.copy2(book, report.backup)
        os.replace(tmp, book)
        report.changed = len(edits)
    except (PackageError, CellError) as error:
        raise RefreshError(f"could not write {book.name} ({error}); it was not changed") from error
    finally:
        tmp.unlink(missing_ok=True)
