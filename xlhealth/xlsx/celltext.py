"""The text and numbers a cell holds, as worksheet XML spells them: escaped, without the
control characters XML forbids, cut to Excel's 32,767 characters; numbers in the shortest
form that reads back exactly. Vectorised over numpy object arrays (a column at a time)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{c: None for c in [*map(chr, range(0x20)), "\ufffe", "\uffff"] if c not in "\t\n\r"},
    }
)


CELL_TEXT_LIMIT = 32_767  # characters in one cell: Excel repairs (and empties) a longer one


def fit_cell(text: str) -> str:
    """``text`` cut to what a cell holds, ending in "…" so the cut shows."""
    return text if len(text) <= CELL_TEXT_LIMIT else text[: CELL_TEXT_LIMIT - 1] + "…"


def escape_text(values: np.ndarray) -> np.ndarray:
    """XML-escape an object array of str in one pass (illegal control characters removed),
    each cut to what a cell holds (:func:`fit_cell`)."""
    text = pd.Series(values, dtype=object).astype(str)
    long = text.str.len().to_numpy() > CELL_TEXT_LIMIT
    if long.any():
        text[long] = text[long].map(fit_cell)
    return text.str.translate(ESCAPES).to_numpy(dtype=object)


def number_texts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which values are finite, and each as a cell's ``<v>`` text (whole numbers without
    ``.0``; others in the shortest form that reads back exactly)."""
    ok = np.isfinite(x)
    safe = np.where(ok, x, 0.0)
    whole = (safe == np.round(safe)) & (np.abs(safe) < 1e15)
    text = np.empty(len(safe), dtype=object)  # each value spelled once, one way or the other
    text[whole] = safe[whole].astype(np.int64).astype(str)
    fraction = ~whole
    if fraction.any():
        text[fraction] = safe[fraction].astype(str)
    return ok, text


def plain_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
