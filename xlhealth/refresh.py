"""Refresh = read -> core -> write, atomically, for a workbook file.

Nothing is written until everything is computed; the new file is written
next to the old one and swapped in with one rename, and the previous file is
kept as ``NAME.bak``. Input and config sheets are copied through byte for
byte (see ``xlsx/package.py``), so a refresh cannot change them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xlhealth.book.archive import append_archive
from xlhealth.book.read import read_workbook
from xlhealth.book.score import Progress, open_scored, score_workbook
from xlhealth.core.engine import Result
from xlhealth.core.problems import Problem, RefreshError
from xlhealth.sheets.outputs import OutputWriter
from xlhealth.sheets.values import VALUES_SHEET, config_tables
from xlhealth.xlsx.package import Package, PackageError
from xlhealth.xlsx.reader import ReadError


@dataclass
class Report:
    path: Path
    result: Result
    problems: list[Problem] = field(default_factory=list)
    backup: Path | None = None

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]


def check(
    path: str | Path, as_of: dt.date | None = None, progress: Progress = lambda _: None
) -> tuple[Result | None, list[Problem]]:
    """Validate config and data without writing; blocking problems mean refresh would stop.
    Nothing is written beside the book either: CSV sources are read as they are."""
    path = Path(path)
    progress(f"Reading {path.name}")
    try:
        book = read_workbook(path)
        result, problems = score_workbook(book, as_of, progress, cache=False)
    except ReadError as error:
        return None, [Problem("", str(error), blocking=True)]
    except RefreshError as error:
        return None, error.problems
    return result, problems


def refresh(
    path: str | Path,
    as_of: dt.date | None = None,
    backup: bool = True,
    progress: Progress = lambda _: None,
    base: Path | None = None,
    home: Path | None = None,
    cache: bool = True,
) -> Report:
    """Score the workbook at ``path`` and replace its output sheets, atomically.

    ``base``: the folder Sources paths are relative to, when ``path`` is a working copy
    (the Refresh button refreshes a copy of the saved book: its paths start beside the book).
    ``home``: the book such a copy stands for (its History archive is beside it).
    History snapshots that no longer fit the sheet move to ``NAME-history.parquet``
    (:mod:`xlhealth.book.archive`) before the workbook is replaced.
    ``cache``: False reads every CSV source afresh (``--no-cache``), ignoring and keeping
    ``NAME-cache/sources/``.
    """
    path = Path(path)
    book, result, problems = open_scored(path, as_of, progress, base, home, cache)
    progress("Writing Summary, Actions, Segments, History, ActionLog and Checks")
    earlier = book.sheets["History"].frame if "History" in book.sheets else None
    tmp = path.with_name(f".{path.name}.xlhealth-tmp")
    try:
        with Package(path) as package:
            writer = OutputWriter(result, package.styles, package.date1904)
            if book.archive is not None:
                writer.archive = (book.archive.name, book.archived)
            history_part = package.sheet_part("History")
            earlier_xml = package.append_only(history_part) if history_part else None
            history, _ = writer.history(earlier, earlier_xml)
            tables = config_tables(book.sheets)
            if tables is not None:  # Values first: Summary's formulas point into it
                package.set_sheet(VALUES_SHEET, writer.values_sheet(tables))
            package.set_sheet("Summary", writer.summary())
            package.set_sheet("Actions", writer.actions())
            package.set_sheet("Segments", writer.segments())
            package.set_sheet("History", history)
            log_part = package.sheet_part("ActionLog")
            earlier_log = package.append_only(log_part) if log_part else None
            package.set_sheet("ActionLog", writer.action_log(earlier_log))
            package.set_sheet("Checks", writer.checks(problems))
            package.save(tmp)
        _check_readable(tmp)
        if writer.history_moved is not None and book.archive is not None:
            append_archive(book.archive, writer.history_moved)
        bak = None
        if backup:
            bak = path.with_name(path.name + ".bak")
            shutil.copy2(path, bak)
        os.replace(tmp, path)
        if base is None:  # the book itself, not the Refresh button's working copy
            book.keep_cache()  # the rows it read stay valid: they are the new file's first rows
    except PackageError as error:
        raise RefreshError(str(error)) from error
    finally:
        if tmp.exists():
            tmp.unlink()
    return Report(path, result, problems, bak)


def _check_readable(path: Path) -> None:
    """The new file must open as a workbook before it replaces the user's file."""
    try:
        with Package(path) as package:
            for name in ("Summary", "Checks"):
                part = package.sheet_part(name)
                if part is None:
                    raise RefreshError(
                        f"internal error: {name} missing from the new file; "
                        "your workbook was not changed"
                    )
                package.read(part)
    except PackageError as error:
        raise RefreshError(
            f"internal error writing the workbook ({error}); your workbook was not changed"
        ) from error
