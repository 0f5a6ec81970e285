"""Reading back the sheets refresh writes (Summary, Actions, ActionLog), people's columns too.

Those sheets carry a label row ("Customer ID") above the key row (``customer_id``). A
column somebody added may have its header in either row, or in both; its values are read
as they are (no typing), so what they typed is written back exactly. A column with data
and no header at all is kept under its letter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.core.problems import is_blank
from xlhealth.core.tables import ROW_COLUMN, column_letter, normalise_header

WRITTEN_SHEETS = ("Summary", "Actions", "ActionLog")
KEY = "customer_id"
SEARCH_ROWS = 10


def written_sheet(
    grid: list[list] | np.ndarray, skip: frozenset[str] | set[str] = frozenset()
) -> tuple[pd.DataFrame | None, dict[str, tuple[str, str]]]:
    """The rows below the key row, by column name, and each column's (label, key) texts.

    ``skip``: columns refresh rewrites anyway and the caller does not need (Summary's
    scores), left unread. None when the sheet holds no key row (before the first refresh).
    """
    header = next(
        (
            i
            for i, row in enumerate(grid[:SEARCH_ROWS])
            if any(isinstance(v, str) and v.strip() == KEY for v in row)  # not "Customer ID"
        ),
        None,
    )
    if header is None:
        return None, {}
    keys = grid[header]
    labels = grid[header - 1] if header > 0 else [""] * len(keys)
    body = grid[header + 1 :]
    width = max([len(keys), *(len(r) for r in body)]) if len(body) else len(keys)
    names: list[str] = []
    headers: dict[str, tuple[str, str]] = {}
    for j in range(width):
        key = keys[j] if j < len(keys) else ""
        label = labels[j] if j < len(labels) else ""
        key_text = "" if is_blank(key) else str(key).strip()
        label_text = "" if is_blank(label) else str(label).strip()
        name = normalise_header(key_text) if key_text else label_text
        name = name or f"column {column_letter(j)}"
        if name in headers:  # the same header twice: keep both, the second by its letter
            name = f"{name} ({column_letter(j)})"
        names.append(name)
        headers[name] = (label_text, key_text)
    wanted = [j for j, n in enumerate(names) if n == KEY or n not in skip]
    ragged = not isinstance(body, np.ndarray) and any(len(r) != width for r in body)
    rows = [list(r) + [""] * (width - len(r)) for r in body] if ragged else body
    grid_frame = pd.DataFrame(rows, columns=range(width), dtype=object) if len(rows) else None
    columns = {}
    for j in wanted:
        values = grid_frame[j] if grid_frame is not None else pd.Series([], dtype=object)
        empty = values.isna().to_numpy() | (values == "").to_numpy()  # calamine: "" = empty
        columns[names[j]] = values.where(~empty, None)
    frame = pd.DataFrame(columns, index=range(len(body)))
    frame[ROW_COLUMN] = range(header + 2, header + 2 + len(frame))
    typed = frame.drop(columns=[ROW_COLUMN]).notna().any(axis=1)
    frame = frame[typed.to_numpy()].reset_index(drop=True)
    # leave out header-less columns that hold nothing (the grid's trailing empty columns)
    empty = [n for n in frame.columns if n != ROW_COLUMN and frame[n].isna().all()
             and not any(headers[n])]  # fmt: skip
    kept = {n: h for n, h in headers.items() if n in frame.columns and n not in empty}
    frame = frame.drop(columns=empty)
    frame.attrs["letters"] = {n: column_letter(j) for j, n in enumerate(names)}  # for edits
    return frame, kept
