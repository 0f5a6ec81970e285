"""Located problems: one line per problem, naming sheet, row, column and value.

Every user-facing error in xlhealth is a :class:`Problem`, because a CS user
must be able to go to the cell and fix it without reading a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


def is_blank(value: Any) -> bool:
    """True for None, NaN/NaT/NA and text that is only whitespace."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def show_value(value: Any) -> str:
    """A cell value as a person would recognise it in a message."""
    if is_blank(value):
        return "(blank)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else str(value)
    text = str(value)
    return repr(text) if isinstance(value, str) else text


@dataclass(frozen=True)
class Problem:
    """Something wrong in a sheet, located so a person can fix it.

    ``row`` is the sheet row number (1-based, as Excel shows it) when known.
    ``blocking`` problems stop a refresh (a broken config); the others are
    reported on Checks while valid rows are still scored.
    """

    sheet: str
    message: str
    row: int | None = None
    column: str | None = None
    value: Any = None
    customer_id: str | None = None
    blocking: bool = False
    cell: str | None = None  # "C17" when the reader knows the column letter

    def location(self) -> str:
        parts = [f"{self.sheet}!{self.cell}" if self.cell else self.sheet]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.customer_id is not None:
            parts.append(f"customer {self.customer_id}")
        return ", ".join(parts)

    def __str__(self) -> str:
        if not self.sheet and self.row is None and not self.cell:
            return self.message  # about the whole file
        where = self.location()
        if self.value is not None and not (isinstance(self.value, float) and pd.isna(self.value)):
            where += f" ({show_value(self.value)})"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A configuration that cannot be scored; holds one Problem per mistake."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table (the Checks sheet's data-error section)."""
    columns = ["sheet", "row", "column", "customer_id", "value", "message", "blocking"]
    if not problems:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        [
            {
                "sheet": p.sheet,
                "row": p.row,
                "column": p.column,
                "customer_id": p.customer_id,
                "value": None if is_blank(p.value) else show_value(p.value),
                "message": p.message,
                "blocking": p.blocking,
            }
            for p in problems
        ],
        columns=columns,
    )


class RefreshError(Exception):
    """The refresh cannot go ahead; ``problems`` say what to fix (one line each)."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", problems, blocking=True)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
