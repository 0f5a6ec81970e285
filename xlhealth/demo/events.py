"""The demo's logins as event files beside the book, read through a ``Sources`` row.

``xlhealth demo --events parquet`` (or ``csv``) writes the Logins rows the demo would
paste into a folder beside the workbook — ``HealthScore-demo-events/logins-2026-10.parquet``,
one file a month, as a product-analytics tool exports them — and gives the book's
``Sources`` sheet one row that reads that folder into ``Logins`` (the path relative to the
book, so the pair can move together). The Logins sheet stays empty; the scores are the
same as with the rows pasted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")
PREFIX = "logins-"


def events_folder(book: Path) -> Path:
    """``HealthScore-demo-events`` beside ``HealthScore-demo.xlsx``."""
    return book.with_name(f"{book.stem}-events")


def write_logins(frame: pd.DataFrame, folder: Path, fmt: str) -> list[Path]:
    """Write ``frame`` as one file per month (``logins-YYYY-MM``) in ``folder``.

    Earlier ``logins-*`` files of either format are removed first, so a second demo month
    replaces the first instead of adding to it; nothing else in the folder is touched.
    """
    if fmt not in FORMATS:
        raise ValueError(f"events format {fmt!r}: use one of {', '.join(FORMATS)}")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.name.startswith(PREFIX) and old.suffix.lstrip(".") in FORMATS:
            old.unlink()
    frame = frame.reset_index(drop=True)
    for column in frame.columns:  # days (midnight timestamps) are written as dates
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values) and (values.dt.normalize() == values).all():
            frame[column] = values.dt.date
    # one schema for every file (a month whose emails are all blank still has a text column)
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    written = []
    for key, part in frame.groupby(_months(frame), sort=True, dropna=False):
        name = folder / f"{PREFIX}{key}.{fmt}"
        if fmt == "parquet":
            table = pa.Table.from_pandas(part, schema=schema, preserve_index=False)
            pq.write_table(table.replace_schema_metadata(None), name)
        else:
            part.to_csv(name, index=False, date_format="%Y-%m-%d")
        written.append(name)
    return written


def _months(frame: pd.DataFrame) -> pd.Series:
    """``YYYY-MM`` of each row's date (``undated`` without one); one file if none parses."""
    for column in ("date", "timestamp"):
        if column in frame.columns:
            days = pd.to_datetime(frame[column], errors="coerce", utc=True, format="ISO8601")
            if days.notna().any():
                return days.dt.strftime("%Y-%m").fillna("undated")
    return pd.Series("all", index=frame.index)


def sources_table(book: Path, folder: Path, fmt: str) -> pd.DataFrame:
    """The Sources sheet: Logins from ``folder`` (relative to the book when beside it)."""
    try:
        path = str(folder.resolve().relative_to(book.resolve().parent))
    except ValueError:
        path = str(folder.resolve())
    row = {"sheet": "Logins", "path": path, "format": fmt, "encoding": "", "mode": "replace"}
    row |= {"connection": "", "query": ""}
    return pd.DataFrame([row])
