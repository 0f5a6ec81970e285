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


TREND_DAYS = 90  # the window the trend is measured over
TREND_MIN_SNAPSHOTS = 3
SPARK_POINTS = 12  # snapshots in a Summary sparkline


def _snapshots(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date, scores: np.ndarray
) -> pd.DataFrame:
    """Earlier snapshots dated before ``as_of`` plus this run's scores: (pos, day, score)."""
    now = pd.DataFrame(
        {"pos": np.arange(customers.n), "day": np.datetime64(as_of, "D"), "score": scores}
    )
    if history is None or history.empty or not {"customer_id", "as_of"} <= set(history):
        return now
    pos = customers.keys.get_indexer(customers.ids(history["customer_id"]).to_numpy(dtype=object))
    earlier = pd.DataFrame(
        {
            "pos": pos,
            "day": customers.days(history["as_of"]),
            "score": pd.to_numeric(history.get("score"), errors="coerce").to_numpy(dtype=float),
        }
    )
    earlier = earlier[(earlier["pos"] >= 0) & (earlier["day"] < np.datetime64(as_of, "D"))]
    earlier = earlier.dropna(subset=["day"]).drop_duplicates(["pos", "day"], keep="last")
    return pd.concat([earlier, now], ignore_index=True)


def trend(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date, scores: np.ndarray
) -> np.ndarray:
    """Each customer's score slope in points per 30 days over the last 90 days' snapshots
    (least squares; this run's score is the newest point); NaN with fewer than 3."""
    s = _snapshots(history, customers, as_of, scores).dropna(subset=["score"])
    s = s[s["day"] > np.datetime64(as_of, "D") - np.timedelta64(TREND_DAYS, "D")]
    x = (s["day"] - np.datetime64(as_of, "D")).dt.days.to_numpy(dtype=float)
    y = s["score"].to_numpy(dtype=float)
    sums = pd.DataFrame({"pos": s["pos"], "n": 1.0, "x": x, "y": y, "xx": x * x, "xy": x * y})
    g = sums.groupby("pos").sum()
    n = g["n"]
    var = g["xx"] - g["x"] ** 2 / n
    slope = (g["xy"] - g["x"] * g["y"] / n) / var.where(var > 0)
    slope = (slope * 30).round(1).where(n >= TREND_MIN_SNAPSHOTS)
    return slope.reindex(np.arange(customers.n)).to_numpy(dtype=float)


def spark_points(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date, scores: np.ndarray
) -> np.ndarray:
    """Up to the last 12 scores per customer, oldest first, right-aligned (n x 12, NaN pad)."""
    s = _snapshots(history, customers, as_of, scores).sort_values(["pos", "day"])
    s["k"] = s.groupby("pos").cumcount(ascending=False)  # 0 = newest
    s = s[s["k"] < SPARK_POINTS]
    out = np.full((customers.n, SPARK_POINTS), np.nan)
    out[s["pos"].to_numpy(), SPARK_POINTS - 1 - s["k"].to_numpy()] = s["score"].to_numpy()
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
