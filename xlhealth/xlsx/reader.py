"""Read a workbook's input and config sheets into tables, turning every bad cell into a Problem.

calamine (Rust) reads the values fast; it reports Excel error cells as empty,
so sheets whose XML holds error cells (``t="e"``) are scanned for them and each
becomes a located problem. The header row is found below any title rows (or
taken from an Excel Table), blank rows are skipped, column order is free,
Excel dates and date-like text become dates, and text in a number column,
an NPS of 11 or an error cell is reported with sheet, cell, value and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as calamine

from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.problems import Problem
from xlhealth.core.tables import OUT_OF_RANGE, ROW_COLUMN, normalise_header
from xlhealth.inputs.columns import FIELDS, Mapped, Recogniser, builtin_aliases, columns_rows
from xlhealth.inputs.dates import parse_dates
from xlhealth.inputs.shapes import HEADER_SEARCH_ROWS, locate_table, trim_export
from xlhealth.inputs.values import parse_numbers
from xlhealth.xlsx.package import Package, PackageError
from xlhealth.xlsx.sheetxml import column_letter

INPUT_SHEETS = (
    "Customers",
    "Usage",
    "Logins",
    "Support",
    "Surveys",
    "Contacts",
    "Onboarding",
    "Maturity",
    "Overrides",
)
MAX_PROBLEMS_PER_COLUMN = 20


@dataclass(frozen=True)
class Spec:
    """What a known sheet's columns hold: keys that identify its header, numbers, dates."""

    keys: tuple[str, ...]
    numbers: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    dates: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labelled: bool = True  # a label row may sit above the key row (our output sheets)
    min_keys: int = 1  # how many key headers a row needs to be the header row


SPECS: dict[str, Spec] = {
    "Customers": Spec(
        ("customer_id",),
        {"arr": (0, None), "seats": (0, None)},
        ("renewal_date",),
        {"exemplar": ("good", "bad"), "outcome": ("renewed", "churned")},
    ),
    "Usage": Spec(("customer_id",)),
    "Logins": Spec(("customer_id", "email"), dates=("date",)),
    "Support": Spec(("customer_id", "email"), dates=("opened",)),
    "Surveys": Spec(("customer_id", "email"), {"nps": (0, 10)}, ("date",)),
    "Contacts": Spec(("customer_id",), dates=("date",)),
    "Onboarding": Spec(("customer_id",), {"standard_days": (0, None)}, ("started", "completed")),
    "Maturity": Spec(("customer_id",), dates=("assessed_on",)),
    "Overrides": Spec(("customer_id",)),  # score, tier, until: core.overrides
    "Metrics": Spec(("metric",)),
    "Rules": Spec(("metric",)),
    "Tiers": Spec(("tier",)),
    "MaturityModel": Spec(("factor",)),
    "Matrix": Spec(("health",)),
    "Alerts": Spec(("trigger",)),
    "Settings": Spec(("key",)),
    "History": Spec(("customer_id",), dates=("as_of",)),
    "Summary": Spec(("customer_id",)),
    "Owners": Spec(("owner",)),
    "Columns": Spec(("field",)),
    "Sources": Spec(("sheet",)),
}


class ReadError(Exception):
    """The whole file cannot be read (damaged, encrypted, not a workbook)."""


@dataclass
class Sheet:
    """One sheet read as a table: normalised headers, ``_row`` = sheet row numbers."""

    name: str
    frame: pd.DataFrame
    header_row: int
    letters: dict[str, str]
    mapped: list[Mapped] = field(default_factory=list)  # field <- header, and why
    ignored: list[str] = field(default_factory=list)  # headers that feed no field
    skipped: list[str] = field(default_factory=list)  # extra header rows, footers


@dataclass
class Workbook:
    sheets: dict[str, Sheet]
    problems: list[Problem]
    date1904: bool
    sheet_names: list[str]
    path: Path | None = None  # the file read (its folder anchors the Sources sheet's paths)

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
    path: str | Path, names: tuple[str, ...] | None = None, aliases: dict[str, str] | None = None
) -> Workbook:
    """Read the known sheets (or ``names``) of an .xlsx/.xlsm; absent ones are simply absent.

    ``aliases`` reads a sheet under another role, e.g. ``{"Usage": "Sheet1"}``.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError(f"{path} does not exist")
    try:
        package = Package(path)
    except PackageError as error:
        raise ReadError(str(error)) from error
    try:
        book = calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
    except calamine.PasswordError as error:
        raise ReadError(
            f"{path.name} is password-protected; remove the password in Excel"
        ) from error
    except calamine.CalamineError as error:
        raise ReadError(f"{path.name} cannot be read ({error}); it may be damaged") from error
    wanted = names or tuple(aliases or ()) or (*INPUT_SHEETS, *CONFIG_SHEETS, "History")
    by_fold = {n.casefold(): n for n in book.sheet_names}
    problems: list[Problem] = []
    sheets: dict[str, Sheet] = {}
    tables = _tables_by_sheet(book)
    with package:

        def read(name: str, recogniser: Recogniser | None = None, day_first: bool = False) -> None:
            actual = (aliases or {}).get(name) or by_fold.get(name.casefold())
            if actual is None:
                return
            sheet = _read_sheet(
                book, package, actual, name, tables.get(actual, []), problems, recogniser, day_first
            )
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
        return Workbook(sheets, problems, package.date1904, list(book.sheet_names), path)


def _setting(settings: Sheet | None, key: str) -> str:
    """One value of the Settings sheet as text ('' when absent); the model validates it."""
    if settings is None or not {"key", "value"} <= set(settings.frame.columns):
        return ""
    keys = settings.frame["key"].astype("string").str.strip().str.casefold()
    found = settings.frame.loc[(keys == key).fillna(False).to_numpy(), "value"]
    return "" if found.empty or found.iloc[0] is None else str(found.iloc[0]).strip()


def _tables_by_sheet(book: calamine.CalamineWorkbook) -> dict[str, list]:
    out: dict[str, list] = {}
    try:
        for name in book.table_names:
            table = book.get_table_by_name(name)
            out.setdefault(table.sheet, []).append(table)
    except (calamine.CalamineError, AttributeError):  # tables are optional
        pass
    return out


def _read_sheet(
    book,
    package: Package,
    actual: str,
    name: str,
    tables: list,
    problems: list[Problem],
    recogniser: Recogniser | None = None,
    day_first: bool = False,
) -> Sheet | None:
    try:
        source = book.get_sheet_by_name(actual)  # parses the sheet: once
        grid = source.to_python(skip_empty_area=False)
        merged = _merged_ranges(source)
        del source  # calamine's own copy of a big sheet is hundreds of MB
    except calamine.CalamineError as error:
        problems.append(
            Problem(
                name,
                f"sheet cannot be read ({error}); copy its data into a new sheet",
                blocking=name in (*CONFIG_SHEETS, "Columns", "Sources"),
            )
        )
        return None
    errors = _error_cells(package, actual)
    return sheet_from_grid(
        name, grid, problems, package.date1904, tables, errors, merged, recogniser, day_first
    )


def sheet_from_grid(
    name: str,
    grid: list[list],
    problems: list[Problem],
    date1904: bool = False,
    tables: list | None = None,
    errors: list[tuple[str, int, str]] | None = None,
    merged: list | None = None,
    recogniser: Recogniser | None = None,
    day_first: bool = False,
) -> Sheet | None:
    """A sheet's values (rows from A1, '' for empty cells) as a located, typed table.

    Shared by the file reader (calamine) and the live-Excel adapter (xlwings).
    ``errors`` are the sheet's error cells as (column letter, row, '#N/A').
    With a ``recogniser`` (input sheets), pasted export headers become contract fields.
    """
    spec = SPECS.get(name, Spec(()))
    if recogniser is not None and name in INPUT_SHEETS:
        # a pasted export has one header row: a data value such as "email" in the next row
        # (a Contacts kind) must not be taken for a second one
        spec = replace(spec, keys=tuple(sorted(recogniser.key_headers(name))), labelled=False)
    else:
        recogniser = None
    errors = errors or []
    header_index, first_data, last_data = locate_table(grid, spec, tables or [])
    if header_index is None and recogniser is not None:
        # an export without any column that links rows to a customer (Amplitude's user_id
        # and event_time only): find its header by two known fields, then say what is missing
        known = tuple(sorted(recogniser.key_headers(name, FIELDS.get(name, ()))))
        wider = replace(spec, keys=known, min_keys=2)
        header_index, first_data, last_data = locate_table(grid, wider, tables or [])
    if header_index is None:
        for letter, row, value in errors[:MAX_PROBLEMS_PER_COLUMN]:
            problems.append(
                Problem(
                    name,
                    "Excel error in this cell; fix the formula or paste values only",
                    row=row,
                    value=value,
                    cell=f"{letter}{row}",
                )
            )
        filled = sum(v not in ("", None) for r in grid for v in r)
        if filled == 0 or (name == "History" and filled == 1):
            # empty, or History before the first refresh (it holds one placeholder line)
            return Sheet(name, pd.DataFrame({ROW_COLUMN: pd.Series(dtype="int64")}), 1, {})
        keys = " or ".join(spec.keys) or "column names"
        problems.append(
            Problem(
                name,
                f"no header row with {keys} found in the first "
                f"{HEADER_SEARCH_ROWS} rows; put the column names in one "
                "row above the data",
                row=1,
                column=spec.keys[0] if spec.keys else None,
                blocking=name in (*CONFIG_SHEETS, "Columns", "Sources", "History"),  # History: lost
            )
        )
        return None
    header = grid[header_index]
    columns: list[str] = []
    positions: list[int] = []
    letters: dict[str, str] = {}
    recognised = None
    if recogniser is not None:
        all_letters = [column_letter(j) for j in range(len(header))]
        recognised = recogniser.recognise(name, header, all_letters, header_index + 1, problems)
    for j, cell in enumerate(header):
        if recognised is not None:
            key = recognised.names[j] or ""
            if key:
                letters[key] = column_letter(j)
                columns.append(key)
                positions.append(j)
            continue
        key = normalise_header(cell) if cell not in ("", None) else ""
        if not key:
            continue
        if key in letters:
            problems.append(
                Problem(
                    name,
                    f"column {key!r} appears twice in the header (also in "
                    f"column {letters[key]}); the first one is used",
                    row=header_index + 1,
                    column=key,
                    cell=f"{column_letter(j)}{header_index + 1}",
                )
            )
            continue
        letters[key] = column_letter(j)
        columns.append(key)
        positions.append(j)
    skipped: list[str] = []
    if recognised is not None:
        typed = [positions[columns.index(c)] for c in (*spec.numbers, *spec.dates) if c in columns]
        first_data, last_data = trim_export(grid, first_data, last_data, typed, skipped)
    body = grid[first_data:last_data]
    del grid
    frame = _columns(body, columns, positions, len(header))
    del body
    rows = np.arange(first_data + 1, first_data + 1 + len(frame))
    frame[ROW_COLUMN] = rows
    frame = frame[frame[columns].notna().any(axis=1)] if columns else frame.iloc[0:0]
    frame = frame.reset_index(drop=True)
    sheet = Sheet(name, frame, header_index + 1, letters)
    if recognised is not None:
        sheet.mapped, sheet.ignored, sheet.skipped = recognised.mapped, recognised.ignored, skipped
    _mark_errors(errors, sheet, problems)
    _merged(merged or [], sheet, problems)
    _coerce(sheet, spec, date1904, problems, day_first)
    return sheet


def _columns(
    body: list[list], columns: list[str], positions: list[int], width: int
) -> pd.DataFrame:
    """The chosen columns of the grid rows: '' as None, repeated strings shared.

    A 2-million-row export repeats each customer ID ~20 times; sharing one
    string object per distinct value keeps such sheets in a fraction of the memory.
    """
    n = len(body)
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if len({len(r) for r in body}) > 1:  # calamine pads rows; be safe with ragged ones
        body = [row + [""] * (width - len(row)) if len(row) < width else row for row in body]
    grid = np.array(body, dtype=object).reshape(n, -1)
    data = {}
    for key, j in zip(columns, positions, strict=True):
        col = grid[:, j].copy()
        col[col == ""] = None
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        if len(uniques) < n // 2:
            col = np.append(np.asarray(uniques, dtype=object), None)[codes]
        data[key] = col
    return pd.DataFrame(data)


ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)(\d+)"[^>]*?t="e"[^>]*>(?:<f[^>]*>.*?</f>|<f[^>]*/>)?'
    rb"<v>([^<]*)</v>",
    re.S,
)


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


def _mark_errors(errors: list[tuple[str, int, str]], sheet: Sheet, problems: list[Problem]) -> None:
    if not errors:
        return
    by_letter = {v: k for k, v in sheet.letters.items()}
    row_index = {int(r): i for i, r in enumerate(sheet.frame[ROW_COLUMN])}
    for letter, r, value in errors:
        column = by_letter.get(letter)
        if column is None or r <= sheet.header_row:
            continue
        problems.append(
            Problem(
                sheet.name,
                "Excel error in this cell; fix the formula or "
                "paste values only — the cell is treated as blank",
                row=r,
                column=column,
                value=value,
                cell=f"{letter}{r}",
            )
        )
        if r in row_index:
            sheet.frame.loc[row_index[r], column] = None


def _merged_ranges(source) -> list:
    try:
        return list(source.merged_cell_ranges or [])
    except (calamine.CalamineError, AttributeError):
        return []


def _merged(ranges: list, sheet: Sheet, problems: list[Problem]) -> None:
    for (r1, c1), (r2, c2) in ranges:
        if r2 + 1 <= sheet.header_row:
            continue
        ref = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
        problems.append(
            Problem(
                sheet.name,
                f"merged cells {ref}: only the first cell holds the "
                "value, the others read as blank — unmerge them and fill every "
                "cell",
                row=r1 + 1,
                cell=ref,
            )
        )


def _coerce(
    sheet: Sheet, spec: Spec, date1904: bool, problems: list[Problem], day_first: bool = False
) -> None:
    frame = sheet.frame
    for column, (lo, hi) in spec.numbers.items():
        if column in frame.columns:
            frame[column] = _numbers(sheet, column, lo, hi, problems)
    for column in spec.dates:
        if column in frame.columns:
            frame[column] = _dates(sheet, column, date1904, day_first, problems)
    for column, options in spec.choices.items():
        if column in frame.columns:
            values = frame[column].astype("string").str.strip().str.casefold()
            bad = values.notna() & ~values.isin(options)
            _report(
                sheet,
                column,
                bad.to_numpy(),
                problems,
                f"use one of {', '.join(options)} or leave it blank — ignored",
            )
            frame[column] = values.astype(object).where((values.notna() & ~bad).to_numpy(), None)


def _numbers(
    sheet: Sheet, column: str, lo: float | None, hi: float | None, problems: list[Problem]
) -> pd.Series:
    """Numbers from number cells and numbers as exports write them (``1,200``, ``85%``, ``¥``)."""
    raw = sheet.frame[column]
    numbers = parse_numbers(raw)
    blank = (raw.astype("string").str.strip() == "").fillna(False).to_numpy(dtype=bool)
    bad = (numbers.isna() & raw.notna()).to_numpy() & ~blank
    _report(sheet, column, bad, problems, "is not a number; enter a number — ignored")
    out_of_range = numbers.notna().to_numpy() & (
        ((numbers < lo).to_numpy() if lo is not None else False)
        | ((numbers > hi).to_numpy() if hi is not None else False)
    )
    if hi is not None and lo is not None:
        what = f"must be between {lo:g} and {hi:g}"
    else:
        what = f"must be at least {lo:g}" if lo is not None else f"must be at most {hi:g}"
    _report(sheet, column, out_of_range, problems, f"{what}; fix the value — ignored")
    return numbers.where(~out_of_range, np.nan)


def _dates(
    sheet: Sheet, column: str, date1904: bool, day_first: bool, problems: list[Problem]
) -> pd.Series:
    """Dates from date cells, serials, epochs and the text forms exports write (inputs.dates).

    Parsed and range-checked (``FIRST_DATE`` to ``LAST_DATE``) before they become nanosecond
    timestamps, so 9999-12-31 or a full-width ``１２`` is a located warning, never an overflow.
    """
    parsed = parse_dates(sheet.frame[column], date1904=date1904, day_first=day_first)
    hint = "" if day_first else "; if your export writes the day first, set date_order to DMY"
    other = parsed.not_a_date & parsed.other_order
    _report(
        sheet,
        column,
        parsed.not_a_date & ~other,
        problems,
        "is not a date; enter a date such as 2026-03-31 — "
        "the row is ignored where the date matters",
    )
    _report(
        sheet,
        column,
        other,
        problems,
        "is not a date in the order set on Settings (date_order)"
        + (hint or "; if your export writes the month first, set date_order to MDY")
        + " — the row is ignored where the date matters",
    )
    _report(sheet, column, parsed.out_of_range, problems, f"{OUT_OF_RANGE} — ignored")
    return parsed.values.astype("datetime64[ns]")


def _report(sheet: Sheet, column: str, bad: np.ndarray, problems: list[Problem], what: str) -> None:
    if not bad.any():
        return
    letter = sheet.letters.get(column, "")
    idx = np.flatnonzero(bad)
    for i in idx[:MAX_PROBLEMS_PER_COLUMN]:
        row = int(sheet.frame[ROW_COLUMN].iloc[i])
        problems.append(
            Problem(
                sheet.name,
                what,
                row=row,
                column=column,
                value=sheet.frame[column].iloc[i],
                cell=f"{letter}{row}",
            )
        )
    if idx.size > MAX_PROBLEMS_PER_COLUMN:
        problems.append(
            Problem(
                sheet.name,
                f"{idx.size - MAX_PROBLEMS_PER_COLUMN} more cells "
                f"like these in column {column} are not listed",
                column=column,
            )
        )
