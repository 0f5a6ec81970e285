"""Did the work help? What the Action list and ActionLog say about the last 90 days.

A description, not proof of cause: customers whose actions were done are not a random
sample of those whose triggers cleared by themselves. Shown on Checks with the counts, so
nobody reads a difference of two customers as a finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.actions import status_keys

REVIEW_DAYS = 90
WEEK = 7


@dataclass
class Review:
    owners: pd.DataFrame  # owner, open, new_this_week, overdue (open actions now)
    outcomes: pd.DataFrame  # owner, done, wont_do, resolved, total (ended in the window)
    summary: pd.DataFrame  # outcome, actions, median_days_open, mean_score_change


def review(actions: pd.DataFrame, log: pd.DataFrame, as_of: dt.date) -> Review:
    """Per owner: open, new this week and overdue actions now; the last 90 days' endings by
    outcome and owner; per outcome the median days open and the mean score change from
    opening to closing."""
    today = pd.Timestamp(as_of)
    a = actions
    status = status_keys(a["status_seen"] if "status_seen" in a else a["status"])
    open_ = a[(status == "open").to_numpy()]
    owner = open_["owner"].fillna("").astype(str).replace("", "—")
    opened = pd.to_datetime(open_["opened"], errors="coerce")
    due = pd.to_datetime(open_["due"], errors="coerce")
    owners = (
        pd.DataFrame(
            {
                "owner": owner,
                "open": 1,
                "new_this_week": (opened > today - pd.Timedelta(days=WEEK)).astype(int),
                "overdue": (due < today).astype(int),
            }
        )
        .groupby("owner", sort=True)
        .sum()
        .reset_index()
    )
    if log is None or log.empty or "closed" not in log:
        empty = pd.DataFrame(columns=["owner", "done", "wont_do", "resolved", "total"])
        return Review(owners, empty, pd.DataFrame(columns=["outcome", "actions"]))
    closed = pd.to_datetime(log["closed"], errors="coerce")
    recent = log[(closed > today - pd.Timedelta(days=REVIEW_DAYS)).to_numpy()].copy()
    recent["owner"] = recent["owner"].fillna("").astype(str).replace("", "—")
    recent["outcome"] = recent["outcome"].fillna("resolved").astype(str)
    outcomes = pd.crosstab(recent["owner"], recent["outcome"])
    outcomes = outcomes.reindex(columns=["done", "wont_do", "resolved"], fill_value=0)
    outcomes["total"] = outcomes.sum(axis=1)
    days = (
        pd.to_datetime(recent["closed"], errors="coerce")
        - pd.to_datetime(recent["opened"], errors="coerce")
    ).dt.days
    change = pd.to_numeric(recent["score_closed"], errors="coerce") - pd.to_numeric(
        recent["score_opened"], errors="coerce"
    )
    per = pd.DataFrame({"outcome": recent["outcome"], "days": days, "change": change})
    summary = (
        per.groupby("outcome")
        .agg(
            actions=("days", "size"),
            median_days_open=("days", "median"),
            mean_score_change=("change", "mean"),
            with_scores=("change", "count"),
        )
        .reindex(["done", "resolved", "wont_do"])
        .dropna(subset=["actions"])
        .reset_index()
    )
    summary["mean_score_change"] = np.round(summary["mean_score_change"].astype(float), 1)
    return Review(owners, outcomes.reset_index(), summary)
