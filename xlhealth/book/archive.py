"""History snapshots that no longer fit the sheet, in a Parquet file beside the book.

An Excel sheet holds 1,048,576 rows: 10,000 customers refreshed daily pass that in about
105 days. The oldest snapshots then move to ``NAME-history.parquet`` (see
:func:`xlhealth.core.history.overflow`); every reader of History (Change, trend, the
back-test) reads the file and the sheet together. Rows in the file are never changed or
dropped: a move writes the file's rows and the moved ones to a temporary file that then
replaces it, before the workbook is replaced — so a refresh that stops half way leaves the
moved rows in both places, and the sheet's copy wins.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from xlhealth.core.history import HISTORY_COLUMNS
from xlhealth.core.problems import RefreshError

SUFFIX = "-history.parquet"


def archive_path(book: Path) -> Path:
    """``NAME-history.parquet`` beside the workbook ``book``."""
    return book.with_name(book.stem + SUFFIX)


def read_archive(path: Path) -> pd.DataFrame | None:
    """The archived snapshots (as_of as dates), or None when there are none."""
    if not path.exists():
        return None
    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise RefreshError(
            f"{path.name}: cannot read the archived History snapshots ({error}); restore the "
            "file from a backup, or move it away to refresh without those snapshots"
        ) from error
    frame = frame.reindex(columns=HISTORY_COLUMNS)
    frame["as_of"] = pd.to_datetime(frame["as_of"], errors="coerce")
    return frame


def append_archive(path: Path, rows: pd.DataFrame) -> int:
    """Add ``rows`` after the archived ones (atomically); the file's row count after."""
    earlier = read_archive(path)
    rows = rows.reindex(columns=HISTORY_COLUMNS).copy()
    rows["as_of"] = pd.to_datetime(rows["as_of"], errors="coerce")
    rows["customer_id"] = rows["customer_id"].astype("string")  # IDs as text, blanks kept
    for column in ("score", "tier", "cmi"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype(float)
    frame = rows if earlier is None else pd.concat([earlier, rows], ignore_index=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except OSError as error:
        raise RefreshError(
            f"{path.name}: cannot write the History snapshots that no longer fit the sheet "
            f"({error}); make the folder writable and refresh again — nothing was changed"
        ) from error
    finally:
        if tmp.exists():
            tmp.unlink()
    return len(frame)
