"""Open an .xlsx/.xlsm and hand out each sheet as a grid of values, with what calamine hides.

calamine (Rust) reads the values fast; it reports Excel error cells as empty, so sheets
whose XML holds error cells (``t="e"``) are scanned for them, and merged ranges and Excel
Tables come along. Turning a grid into a typed table is :mod:`xlhealth.inputs.grid`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import python_calamine as calamine

from xlhealth.xlsx.package import Package, PackageError
from xlhealth.xlsx.rawzip import Mark
from xlhealth.xlsx.rowcache import (
    ERROR_CELL,
    Context,
    Pending,
    RowCache,
    cache_folder,
    strings_key,
)
from xlhealth.xlsx.styles import xf_formats


class ReadError(Exception):
    """The whole file cannot be read (damaged, encrypted, not a workbook)."""


class SheetError(Exception):
    """One sheet cannot be read (the rest of the book can)."""


@dataclass
class Grid:
    """One sheet's values (rows from A1, '' for empty cells) and what calamine does not say."""

    values: list[list] | np.ndarray  # an array when it comes from the row cache
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # (letter, row, '#N/A')
    merged: list = field(default_factory=list)  # ((r1, c1), (r2, c2)), 0-based
    tables: list = field(default_factory=list)  # Excel Tables on the sheet


class BookFile:
    """An open workbook file: its sheet names, date system and one grid per sheet on demand."""

    def __init__(self, path: str | Path, cache: bool = True):
        path = Path(path)
        if not path.exists():
            raise ReadError(f"{path} does not exist")
        try:
            self.package = Package(path)
        except PackageError as error:
            raise ReadError(str(error)) from error
        try:
            self.book = calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
        except calamine.PasswordError as error:
            self.package.close()
            raise ReadError(
                f"{path.name} is password-protected; remove the password in Excel"
            ) from error
        except calamine.CalamineError as error:
            self.package.close()
            raise ReadError(f"{path.name} cannot be read ({error}); it may be damaged") from error
        self.path = path
        self.sheet_names: list[str] = list(self.book.sheet_names)
        self.date1904: bool = self.package.date1904
        self._tables = _tables_by_sheet(self.book)
        self._cache = RowCache(cache_folder(path)) if cache else None
        self._context: Context | None = None
        self.cache_hits: list[str] = []  # sheets read through the row cache
        self.pending: list[Pending] = []  # sheets read in full, to cache if all goes well

    def __enter__(self) -> BookFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.package.close()

    def grid(self, actual: str) -> Grid:
        """The sheet named ``actual``; SheetError when calamine cannot parse it.

        A sheet refresh appends to (History, ActionLog: their part carries a mark) is read
        through :mod:`.rowcache` when its cache fits, and cached after a full read.
        """
        info = self._marked(actual)
        if info is not None and self._cache is not None:
            cached = self._cache.read(self.path, actual, info, self._context_now())
            if cached is not None:
                self.cache_hits.append(actual)
                if cached.pending is not None:
                    self.pending.append(cached.pending)
                tables = self._tables.get(actual, [])
                return Grid(cached.values, cached.errors, cached.merged, tables)
        grid = self._full_grid(actual)
        if info is not None and self._cache is not None and not grid.tables:
            pending = self._cache.prepare(
                self.path, actual, info, self._context_now(), grid.values, grid.errors
            )
            if pending is not None:
                self.pending.append(pending)
        return grid

    def _marked(self, actual: str):
        part = self.package.sheet_part(actual)
        info = self.package.zip.NameToInfo.get(part) if part else None
        return info if info is not None and Mark.parse(info.comment) is not None else None

    def _context_now(self) -> Context:
        if self._context is None:
            self._context = Context(
                self.date1904, xf_formats(self.package.styles.source), strings_key(self.package.zip)
            )
        return self._context

    def _full_grid(self, actual: str) -> Grid:
        try:
            source = self.book.get_sheet_by_name(actual)  # parses the sheet: once
            values = source.to_python(skip_empty_area=False)
            merged = _merged_ranges(source)
            del source  # calamine's own copy of a big sheet is hundreds of MB
        except calamine.CalamineError as error:
            raise SheetError(str(error)) from error
        errors = _error_cells(self.package, actual)
        return Grid(values, errors, merged, self._tables.get(actual, []))


def _tables_by_sheet(book: calamine.CalamineWorkbook) -> dict[str, list]:
    out: dict[str, list] = {}
    try:
        for name in book.table_names:
            table = book.get_table_by_name(name)
            out.setdefault(table.sheet, []).append(table)
    except (calamine.CalamineError, AttributeError):  # tables are optional
        pass
    return out


def _error_cells(package: Package, actual: str) -> list[tuple[str, int, str]]:
    """(column letter, row, error text) of every error cell, scanning the sheet XML in chunks.

    A 2-million-row sheet is ~300 MB of XML: it is streamed, never held whole.
    """
    part = package.sheet_part(actual)
    if part is None:
        return []
    found: dict[tuple[str, int], str] = {}
    tail = b""
    with package.zip.open(part) as stream:
        while chunk := stream.read(1 << 22):
            window = tail + chunk
            if b't="e"' in window:
                for c, r, v in ERROR_CELL.findall(window):
                    found[(c.decode(), int(r))] = v.decode()
            tail = window[-2048:]
    return [(c, r, v) for (c, r), v in found.items()]


def _merged_ranges(source) -> list:
    try:
        return list(source.merged_cell_ranges or [])
    except (calamine.CalamineError, AttributeError):
        return []
