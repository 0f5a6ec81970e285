"""Open and score a workbook: the first half of every command that reads a book (refresh,
check, export, suggest). Config sheets -> Model, Sources opened, then the core engine;
every problem located to its cell; RefreshError when the book cannot be scored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from xlhealth.book.archive import archive_path, read_archive
from xlhealth.book.files import ensure_writable
from xlhealth.book.read import Workbook, read_workbook
from xlhealth.core.config import model_from_tables
from xlhealth.core.engine import Result, run
from xlhealth.core.history import with_archive
from xlhealth.core.model import CONFIG_SHEETS, Model
from xlhealth.core.problems import ConfigError, Problem, RefreshError
from xlhealth.core.tables import FIRST_DATE, LAST_DATE, normalise_header
from xlhealth.inputs.columns import mapping_rows
from xlhealth.inputs.matching import prepare_customers
from xlhealth.inputs.sources import book_sources, read_sources, source_columns
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.xlsx.reader import ReadError
from xlhealth.xlsx.rowcache import cache_folder

Progress = Callable[[str], None]


def score_workbook(
    book: Workbook,
    as_of: dt.date | None = None,
    progress: Progress = lambda _: None,
    base: Path | None = None,
    home: Path | None = None,
    cache: bool = True,
) -> tuple[Result, list[Problem]]:
    """Model from the config sheets, then the core; raises RefreshError on a broken config.

    ``base``: the folder the Sources sheet's paths are relative to (default: the book's).
    ``home``: the workbook a working copy stands for (the Refresh button refreshes a copy):
    its ``NAME-history.parquet`` holds the snapshots that no longer fit History.
    ``cache``: keep CSV sources' per-file cache in ``NAME-cache/sources/`` (``--no-cache``
    turns it off for one run; Settings ``source_cache`` for the book).

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
        book_path = home or book.path
        sources_cache = cache_folder(book_path) / "sources" if cache and book_path else None
        with book_sources(specs, tables, model, folder, sources_cache) as external:
            if external:
                progress(f"Reading {len(external)} source(s) from the Sources sheet")
            history = _history(book, tables.get("History"), home)
            result = run(model, inputs, history=history, as_of=as_of,
                         external=external, prepare=prepare_customers, kept=book.kept)  # fmt: skip
            result.columns = column_mapping(book, model)
            result.columns = source_columns(result.columns, external, model)
    except ConfigError as error:
        raise RefreshError([book.locate(p) for p in error.problems]) from error
    problems = [book.locate(p) for p in book.problems + result.problems]
    return result, problems


def _history(book: Workbook, sheet: pd.DataFrame | None, home: Path | None):
    """History as the sheet and the archive beside the book hold it together."""
    book_path = home or book.path
    if book_path is None:
        return sheet
    book.archive = archive_path(book_path)
    archived = read_archive(book.archive)
    book.archived = 0 if archived is None else len(archived)
    return with_archive(archived, sheet)


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
    path: Path,
    as_of: dt.date | None,
    progress: Progress,
    base: Path | None,
    home: Path | None = None,
    cache: bool = True,
) -> tuple[Workbook, Result, list[Problem]]:
    """The first half of every command that rewrites a book (refresh, suggest): refuse a
    book Excel holds open, read it, score it; RefreshError for a user to read."""
    ensure_writable(path)
    progress(f"Reading {path.name}")
    try:
        book = read_workbook(path)
    except ReadError as error:
        raise RefreshError(str(error)) from error
    result, problems = score_workbook(book, as_of, progress, base, home, cache)
    return book, result, problems
