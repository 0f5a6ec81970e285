"""History snapshots: one per as_of date; the latest earlier one gives ``score_change``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xlhealth.core.rows import Customers

HISTORY_COLUMNS = ["as_of", "customer_id", "score", "tier", "cmi"]


def previous_snapshot(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date
) -> pd.DataFrame:
    """Each customer's latest History row dated strictly before ``as_of`` (score, as_of)."""
    empty = pd.DataFrame(
        {
            "score": np.full(customers.n, np.nan),
            "as_of": pd.Series([pd.NaT] * customers.n, dtype="datetime64[s]"),
        }
    )
    if history is None or history.empty or "customer_id" not in history.columns:
        return empty
    h = pd.DataFrame(
        {
            "key": customers.ids(history["customer_id"]).to_numpy(dtype=object),
            "as_of": customers.days(history["as_of"])
            if "as_of" in history.columns
            else np.datetime64("NaT"),
            "score": pd.to_numeric(history.get("score"), errors="coerce"),
            "order": np.arange(len(history)),
        }
    )
    h = h[h["as_of"] < np.datetime64(as_of, "D")].dropna(subset=["key", "as_of"])
    if h.empty:
        return empty
    last = h.sort_values(["as_of", "order"]).drop_duplicates("key", keep="last").set_index("key")
    pos = customers.keys
    out = pd.DataFrame(
        {
            "score": last["score"].reindex(pos).to_numpy(dtype=float),
            "as_of": last["as_of"].reindex(pos).to_numpy(),
        }
    )
    return out


def merge_history(earlier: pd.DataFrame | None, new: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Earlier snapshots kept as they are, this run's rows appended.

    One snapshot per as_of date: re-running a date replaces only that date's rows.
    """
    if earlier is None or earlier.empty:
        return new
    keep = earlier.reindex(columns=HISTORY_COLUMNS)
    keep = keep[pd.to_datetime(keep["as_of"], errors="coerce").dt.date != as_of]
    return pd.concat([keep, new], ignore_index=True)
