"""A sheet's grid of values -> a located, typed table, turning every bad cell into a Problem.

The header row is found below any title rows (or taken from an Excel Table), blank rows
are skipped, column order is free, pasted export headers become contract fields, Excel
dates and date-like text become dates, and text in a number column, an NPS of 11 or an
error cell is reported with sheet, cell, value and what to do. Shared by the file reader
(:mod:`xlhealth.book.read`) and the live-Excel adapter (xlwings).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.problems import Problem
from xlhealth.core.tables import OUT_OF_RANGE, ROW_COLUMN, column_letter, normalise_header
from xlhealth.core.text import normalise_ids
from xlhealth.inputs.columns import FIELDS, Mapped, Recogniser
from xlhealth.inputs.dates import parse_dates
from xlhealth.inputs.shapes import HEADER_SEARCH_ROWS, locate_table, trim_export
from xlhealth.inputs.specs import INPUT_SHEETS, SPECS, Spec, choice_words
from xlhealth.inputs.values import parse_numbers

MAX_PROBLEMS_PER_COLUMN = 20


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


def sheet_from_grid(
    name: str,
    grid: list[list] | np.ndarray,
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
    body: list[list] | np.ndarray, columns: list[str], positions: list[int], width: int
) -> pd.DataFrame:
    """The chosen columns of the grid rows: '' as None, repeated strings shared.

    A 2-million-row export repeats each customer ID ~20 times; sharing one
    string object per distinct value keeps such sheets in a fraction of the memory.
    """
    n = len(body)
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if isinstance(body, np.ndarray):  # a grid from the row cache: already one array
        grid = body
    else:
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
            if column in spec.words:  # en/ja words, export values (a templates/ table)
                mapped = normalise_ids(frame[column]).map(choice_words(spec.words[column]))
                values = pd.Series(mapped.where(mapped.notna(), values), dtype="string")
                values = values.mask(values == "")  # e.g. an open opportunity: not decided
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
