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
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlhealth.book.read import Workbook, read_workbook
from xlhealth.core.config import model_from_tables
from xlhealth.core.engine import Result, run
from xlhealth.core.model import CONFIG_SHEETS, Model
from xlhealth.core.problems import ConfigError, Problem
from xlhealth.core.tables import FIRST_DATE, LAST_DATE, normalise_header
from xlhealth.inputs.columns import mapping_rows
from xlhealth.inputs.sources import book_sources, read_sources, source_columns
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets.outputs import OutputWriter
from xlhealth.xlsx.package import Package, PackageError
from xlhealth.xlsx.reader import ReadError

Progress = Callable[[str], None]


class RefreshError(Exception):
    """The refresh cannot go ahead; ``problems`` say what to fix (one line each)."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", problems, blocking=True)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Report:
    path: Path
    result: Result
    problems: list[Problem] = field(default_factory=list)
    backup: Path | None = None

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]


def lock_file(path: Path) -> Path | None:
    """Excel's owner file (``~$NAME``) beside the workbook, if Excel has it open."""
    for name in (f"~${path.name}", f"~${path.name[2:]}"):
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    return None


def ensure_writable(path: Path) -> None:
    if not path.exists():
        raise RefreshError(f"{path} does not exist; create one with: xlhealth new {path.name}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise RefreshError(f"{path.name} is not an .xlsx or .xlsm workbook")
    lock = lock_file(path)
    if lock is not None:
        raise RefreshError(
            f"{path.name} is open in Excel ({lock.name} exists); close it in "
            "Excel and run the refresh again"
        )
    read_only = not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if read_only or not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise RefreshError(
            f"{path.name} is read-only (or its folder is); make it writable or "
            "copy it to a folder you can write to"
        )


def score_workbook(
    book: Workbook,
    as_of: dt.date | None = None,
    progress: Progress = lambda _: None,
    base: Path | None = None,
) -> tuple[Result, list[Problem]]:
    """Model from the config sheets, then the core; raises RefreshError on a broken config.

    ``base``: the folder the Sources sheet's paths are relative to (default: the book's).

    A config sheet the reader could not take (no header row, unreadable) blocks here
    together with every model mistake, so ``check`` and ``refresh`` stop on the same lines
    instead of refresh quietly scoring with the defaults.
    """
    tables = book.tables()
    blocking = [p for p in book.problems if p.blocking]
    if as_of is not None and not FIRST_DATE <= as_of <= LAST_DATE:
        blocking.append(
            Problem(
                "", f"--as-of {as_of}: use a date from {FIRST_DATE} to {LAST_DATE}", blocking=True
            )
        )
    specs = read_sources(tables.get("Sources"), blocking)
    try:
        model = model_from_tables({k: tables.get(k) for k in CONFIG_SHEETS})
    except ConfigError as error:
        blocking += error.problems
    if blocking:
        raise RefreshError([book.locate(p) for p in blocking])
    inputs = {k: tables[k] for k in INPUT_SHEETS if k in tables}
    progress(f"Scoring {len(inputs.get('Customers', [])):,} customers")
    folder = (base or (book.path.parent if book.path else Path.cwd())).resolve()
    try:
        with book_sources(specs, tables, model, folder) as external:
            if external:
                progress(f"Reading {len(external)} source(s) from the Sources sheet")
            result = run(model, inputs, history=tables.get("History"), as_of=as_of,
                         external=external)  # fmt: skip
            result.columns = column_mapping(book, model)
            result.columns = source_columns(result.columns, external, model)
    except ConfigError as error:
        raise RefreshError([book.locate(p) for p in error.problems]) from error
    problems = [book.locate(p) for p in book.problems + result.problems]
    return result, problems


def column_mapping(book: Workbook, model: Model) -> pd.DataFrame:
    """Per input sheet: each field and the header it came from, unused columns, non-data rows."""
    read_by: dict[str, dict[str, list[str]]] = {}
    for m in model.metrics:
        used = [m.column if m.aggregate != "ratio" else "", m.date_column]
        used.append(m.filter.column if m.filter else "")
        for column in filter(None, used):
            sheet = read_by.setdefault(m.source.casefold(), {})
            sheet.setdefault(normalise_header(column), []).append(m.name)
    rows = []
    for name in INPUT_SHEETS:
        sheet = book.sheets.get(name)
        if sheet is not None:
            mine = read_by.get(name.casefold(), {})
            rows += mapping_rows(name, sheet.mapped, sheet.ignored, sheet.skipped, mine)
    return pd.DataFrame(rows, columns=["sheet", "field", "header", "kind", "detail"])


def open_scored(
    path: Path, as_of: dt.date | None, progress: Progress, base: Path | None
) -> tuple[Workbook, Result, list[Problem]]:
    """The first half of every command that rewrites a book (refresh, suggest): refuse a
    book Excel holds open, read it, score it; RefreshError for a user to read."""
    ensure_writable(path)
    progress(f"Reading {path.name}")
    try:
        book = read_workbook(path)
    except ReadError as error:
        raise RefreshError(str(error)) from error
    result, problems = score_workbook(book, as_of, progress, base)
    return book, result, problems


def check(
    path: str | Path, as_of: dt.date | None = None, progress: Progress = lambda _: None
) -> tuple[Result | None, list[Problem]]:
    """Validate config and data without writing; blocking problems mean refresh would stop."""
    path = Path(path)
    progress(f"Reading {path.name}")
    try:
        book = read_workbook(path)
        result, problems = score_workbook(book, as_of, progress)
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
) -> Report:
    """Score the workbook at ``path`` and replace its output sheets, atomically.

    ``base``: the folder Sources paths are relative to, when ``path`` is a working copy
    (the Refresh button refreshes a copy of the saved book: its paths start beside the book).
    """
    path = Path(path)
    book, result, problems = open_scored(path, as_of, progress, base)
    progress("Writing Summary, Actions, Segments, History and Checks")
    earlier = book.sheets["History"].frame if "History" in book.sheets else None
    tmp = path.with_name(f".{path.name}.xlhealth-tmp")
    try:
        with Package(path) as package:
            writer = OutputWriter(result, package.styles, package.date1904)
            history, _ = writer.history(earlier)
            package.set_sheet("Summary", writer.summary())
            package.set_sheet("Actions", writer.actions())
            package.set_sheet("Segments", writer.segments())
            package.set_sheet("History", history)
            package.set_sheet("Checks", writer.checks(problems))
            package.save(tmp)
        _check_readable(tmp)
        bak = None
        if backup:
            bak = path.with_name(path.name + ".bak")
            shutil.copy2(path, bak)
        os.replace(tmp, path)
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
