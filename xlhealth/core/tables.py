"""Reading config tables cell by cell with located problems.

Config sheets are small (tens of rows), so they are read row by row; every
bad cell becomes a :class:`~xlhealth.core.problems.Problem` naming the table, the
sheet row and the column, and validation goes on so the user sees every
mistake at once instead of one per refresh.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from xlhealth.core.problems import Problem, is_blank, show_value

SHEET_ROWS = 1_048_576  # rows in an Excel sheet: a longer one is "repaired" (cut) by Excel
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2262, 4, 10)
"""The dates xlhealth scores with: Excel's calendar starts in 1900 and pandas' timestamps
(nanoseconds) end in April 2262. A date outside them (9999-12-31 as "no end date", a typo
read as year 1) is refused where it is read, with its cell, never carried into the core."""
OUT_OF_RANGE = (
    f"is outside the dates xlhealth handles ({FIRST_DATE} to {LAST_DATE}); "
    "enter a real date or leave the cell blank"
)

ROW_COLUMN = "_row"
"""Optional column holding the sheet row number of each table row.

The workbook reader sets it (the header may sit below title rows); tables
built in code fall back to ``index + 2`` (header on row 1).
"""


def sheet_rows(df: pd.DataFrame) -> pd.Series:
    """The sheet row number of every row of ``df``."""
    if ROW_COLUMN in df.columns:
        return df[ROW_COLUMN].astype("int64")
    return pd.Series(range(2, len(df) + 2), index=df.index, dtype="int64")


_SPACES = re.compile(r"[\s_]+")


def normalise_header(name: object) -> str:
    """A header as it is compared: NFKC, trimmed, case folded, spaces and underscores alike.

    ``Min `` is ``min``, ``Customer  ID`` and ``ｃｕｓｔｏｍｅｒ＿ｉｄ`` are ``customer_id``.
    """
    text = unicodedata.normalize("NFKC", str(name)).strip().casefold()
    return _SPACES.sub("_", text)


def with_normal_headers(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose column names are normalised (see :func:`normalise_header`)."""
    renamed = {c: normalise_header(c) for c in df.columns if c != ROW_COLUMN}
    return df.rename(columns=renamed)


class Row:
    """One table row with typed accessors that record problems instead of raising."""

    def __init__(self, table: str, number: int, values: dict[str, Any], problems: list[Problem]):
        self.table = table
        self.sheet_row = number
        self.values = values
        self.problems = problems

    def problem(self, column: str | None, message: str, value: Any = None) -> None:
        self.problems.append(
            Problem(
                self.table, message, row=self.sheet_row, column=column, value=value, blocking=True
            )
        )

    def warn(self, column: str | None, message: str, value: Any = None) -> None:
        """A located warning: shown on Checks, never stops the refresh."""
        self.problems.append(
            Problem(self.table, message, row=self.sheet_row, column=column, value=value)
        )

    def raw(self, column: str) -> Any:
        return self.values.get(column)

    def blank(self, column: str) -> bool:
        return is_blank(self.values.get(column))

    def text(self, column: str, *, required: bool = False, default: str = "") -> str:
        value = self.values.get(column)
        if is_blank(value):
            if required:
                self.problem(column, f"{column} is required; fill it in")
            return default
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    def number(
        self,
        column: str,
        *,
        required: bool = False,
        default: float | None = None,
        minimum: float | None = None,
        integer: bool = False,
        maximum: float | None = None,
    ) -> float | None:
        value = self.values.get(column)
        if is_blank(value):
            if required:
                self.problem(column, f"{column} is required; enter a number")
            return default
        number = to_number(value)
        if number is None:
            self.problem(column, "is not a number; enter a number", value)
            return default
        if integer and not float(number).is_integer():
            self.problem(column, "must be a whole number", value)
            return default
        if minimum is not None and number < minimum:
            self.problem(column, f"must be at least {show_value(float(minimum))}", value)
            return default
        if maximum is not None and number > maximum:
            self.problem(column, f"must be at most {show_value(float(maximum))}", value)
            return default
        return number

    def choice(self, column: str, options: Sequence[str], *, default: str | None = None) -> str:
        value = self.text(column)
        if not value:
            if default is None:
                self.problem(column, f"{column} is required; use one of {', '.join(options)}")
                return ""
            return default
        for option in options:
            if value.casefold() == option.casefold():
                return option
        self.problem(column, f"unknown {column}; use one of {', '.join(options)}", value)
        return value

    def date(self, column: str) -> dt.date | None:
        value = self.values.get(column)
        if is_blank(value):
            return None
        parsed = to_date(value)
        if parsed is None:
            self.problem(column, "is not a date; enter a date such as 2026-03-31", value)
        elif not FIRST_DATE <= parsed <= LAST_DATE:
            self.problem(column, OUT_OF_RANGE, value)
            return None
        return parsed


def to_number(value: Any) -> float | None:
    """A finite float from a number or numeric text (``"1,200"``, ``"85%"``); None otherwise.

    ``nan`` and ``inf`` typed in a cell are not numbers a config can use.
    """
    number = _to_float(value)
    return number if number is not None and math.isfinite(number) else None


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return None if pd.isna(value) else float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1], 0.01
        try:
            return float(text) * scale
        except ValueError:
            return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_date(value: Any) -> dt.date | None:
    """A date from a date/datetime or ISO-like text; None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            stamp = pd.Timestamp(unicodedata.normalize("NFKC", value).strip())
        except (ValueError, TypeError):
            return None
        return None if pd.isna(stamp) else stamp.date()
    return None


def iter_rows(table: str, df: pd.DataFrame | None, problems: list[Problem]) -> Iterator[Row]:
    """The non-blank rows of a config table, with normalised headers."""
    if df is None:
        return
    numbers = sheet_rows(df)
    frame = with_normal_headers(df.drop(columns=[ROW_COLUMN], errors="ignore"))
    columns = list(frame.columns)
    for number, values in zip(numbers, frame.itertuples(index=False, name=None), strict=True):
        record = dict(zip(columns, values, strict=True))
        if all(is_blank(v) for v in record.values()):
            continue
        yield Row(table, int(number), record, problems)


def require_columns(
    table: str, df: pd.DataFrame | None, columns: Sequence[str], problems: list[Problem]
) -> bool:
    """Record one problem per missing required column; True when all are there."""
    if df is None:
        return False
    have = {normalise_header(c) for c in df.columns}
    missing = [c for c in columns if c not in have]
    for column in missing:
        problems.append(
            Problem(
                table,
                f"required column {column!r} is missing; add it to the header row",
                row=1,
                column=column,
                blocking=True,
            )
        )
    return not missing


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
