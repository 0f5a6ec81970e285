"""Read a workbook's input and config sheets into tables: the file's grids
(:mod:`xlhealth.xlsx.reader`) through the sheet reader of :mod:`xlhealth.inputs.grid`.

The Columns, Sources and Settings sheets are read first: the user's own column names and
date order decide how the input sheets' headers and dates are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from xlhealth.core.kept import SUMMARY_SHEET_COLUMNS, Kept
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.problems import Problem, is_blank
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.columns import Recogniser, builtin_aliases, columns_rows
from xlhealth.inputs.grid import Sheet, sheet_from_grid
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.inputs.written import WRITTEN_SHEETS, written_sheet
from xlhealth.xlsx.reader import BookFile, ReadError, SheetError
from xlhealth.xlsx.rowcache import Pending

__all__ = ["ReadError", "Workbook", "read_workbook"]


@dataclass
class Workbook:
    sheets: dict[str, Sheet]
    problems: list[Problem]
    date1904: bool
    sheet_names: list[str]
    path: Path | None = None  # the file read (its folder anchors the Sources sheet's paths)
    kept: Kept = field(default_factory=Kept)  # Summary, Actions, ActionLog as people left them
    pending: list[Pending] = field(default_factory=list)  # row-cache files to write on success
    archive: Path | None = None  # NAME-history.parquet: History that no longer fits the sheet
    archived: int = 0  # rows in it when the book was scored

    def keep_cache(self) -> None:
        """Write the row cache of the sheets read in full (after a refresh succeeded)."""
        for pending in self.pending:
            pending.commit()
        self.pending = []

    def setting(self, key: str) -> str:
        """One value of the Settings sheet as text ('' when absent or blank)."""
        return _setting(self.sheets.get("Settings"), key)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: s.frame for name, s in self.sheets.items()}

    def locate(self, problem: Problem) -> Problem:
        """Add the cell address (``C17``) to a problem that names a sheet, row and column."""
        sheet = self.sheets.get(problem.sheet)
        if problem.cell or sheet is None or problem.row is None or not problem.column:
            return problem
        letter = sheet.letters.get(normalise_header(problem.column))
        if letter is None:
            return problem
        return replace(problem, cell=f"{letter}{problem.row}")


def read_workbook(
    path: str | Path,
    names: tuple[str, ...] | None = None,
    aliases: dict[str, str] | None = None,
    kept: bool | None = None,
) -> Workbook:
    """Read the known sheets (or ``names``) of an .xlsx/.xlsm; absent ones are simply absent.

    ``aliases`` reads a sheet under another role, e.g. ``{"Usage": "Sheet1"}``. ``kept``:
    also read Summary, Actions and ActionLog as people left them (default: when reading
    the whole book).
    """
    path = Path(path)
    wanted = names or tuple(aliases or ()) or (*INPUT_SHEETS, *CONFIG_SHEETS, "History")
    problems: list[Problem] = []
    sheets: dict[str, Sheet] = {}
    with BookFile(path) as file:
        by_fold = {n.casefold(): n for n in file.sheet_names}

        def read(name: str, recogniser: Recogniser | None = None, day_first: bool = False) -> None:
            actual = (aliases or {}).get(name) or by_fold.get(name.casefold())
            if actual is None:
                return
            try:
                grid = file.grid(actual)
            except SheetError as error:
                problems.append(
                    Problem(
                        name,
                        f"sheet cannot be read ({error}); copy its data into a new sheet",
                        blocking=name in (*CONFIG_SHEETS, "Columns", "Sources"),
                    )
                )
                return
            values, grid.values = grid.values, []  # the reader drops rows as it goes
            sheet = sheet_from_grid(
                name, values, problems, file.date1904, grid.tables, grid.errors, grid.merged,
                recogniser, day_first,
            )  # fmt: skip
            if sheet is not None:
                sheets[name] = sheet

        recogniser, day_first = None, False
        if any(name in INPUT_SHEETS for name in wanted):
            read("Columns")  # the user's own column names and date order come first
            read("Sources")  # input sheets whose rows live in files or a database
            read("Settings")
            columns = sheets.get("Columns")
            rows = columns_rows(columns.frame if columns else None, problems)
            recogniser = Recogniser(builtin_aliases(), rows)
            day_first = _setting(sheets.get("Settings"), "date_order").casefold() == "dmy"
        for name in wanted:
            if name not in sheets:
                read(name, recogniser if name in INPUT_SHEETS else None, day_first)
        if kept is None:
            kept = names is None and aliases is None
        typed = _kept(file, by_fold) if kept else Kept()
        return Workbook(
            sheets, problems, file.date1904, file.sheet_names, path, typed, file.pending
        )


def _kept(file: BookFile, by_fold: dict[str, str]) -> Kept:
    """The sheets refresh writes, as people left them (their own columns and statuses)."""
    frames: dict[str, pd.DataFrame | None] = {}
    labels: dict[str, dict[str, tuple[str, str]]] = {}
    for name in WRITTEN_SHEETS:
        actual = by_fold.get(name.casefold())
        if actual is None:
            continue
        try:
            grid = file.grid(actual)
        except SheetError:
            continue  # refresh rewrites it; nothing typed there can be read
        skip = set(SUMMARY_SHEET_COLUMNS) if name == "Summary" else set()
        frames[name], labels[name] = written_sheet(grid.values, skip)
    return Kept(frames.get("Summary"), frames.get("Actions"), frames.get("ActionLog"), labels)


def _setting(settings: Sheet | None, key: str) -> str:
    """One value of the Settings sheet as text ('' when absent); the model validates it."""
    if settings is None or not {"key", "value"} <= set(settings.frame.columns):
        return ""
    keys = settings.frame["key"].astype("string").str.strip().str.casefold()
    found = settings.frame.loc[(keys == key).fillna(False).to_numpy(), "value"]
    return "" if found.empty or is_blank(found.iloc[0]) else str(found.iloc[0]).strip()
