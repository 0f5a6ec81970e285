"""The honest back-test: each customer with an outcome scored *before* it happened.

Scoring today against outcomes that already happened flatters the score (a customer
who churned in June has had no logins since June). Here every customer with an
outcome is scored as of ``outcome_date - backtest_lead_days`` from the same input
rows, in one pass over the events (``aggregate`` takes one as-of date per customer).
Customers without an ``outcome_date`` fall back to their latest History snapshot at
least ``backtest_lead_days`` before today, and then to today's score (optimistic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xlhealth.core import scoring
from xlhealth.core.history import previous_snapshot
from xlhealth.core.model import Model
from xlhealth.core.problems import Problem
from xlhealth.core.rows import Customers
from xlhealth.core.tables import ROW_COLUMN

if TYPE_CHECKING:
    from xlhealth.core.aggregate import Aggregated

BASES = ("outcome_date", "history", "today")
"""Where a customer's back-test score comes from, best first."""


@dataclass
class Honest:
    """Customers with an outcome (renewed/churned) and their score before it.

    ``frame``: one row per such customer — ``customer_id``, ``churned`` (bool),
    ``as_of`` (the date scored as of; NaT for ``today``), ``basis`` (one of BASES),
    ``score`` and ``tier`` (computed, never overridden).
    ``points`` / ``values``: per scored metric, the points and values as of that date,
    for the rows whose basis is ``outcome_date`` only (History keeps scores, not points),
    indexed like ``frame``; NaN points = the metric was skipped for that customer.
    """

    frame: pd.DataFrame
    points: pd.DataFrame
    values: pd.DataFrame
    lead_days: int

    def counts(self) -> dict[str, int]:
        """Customers per basis (shown on Checks with the fall-backs)."""
        got = self.frame["basis"].value_counts()
        return {b: int(got.get(b, 0)) for b in BASES}


OUTCOMES = ("churned", "renewed")
Compute = Callable[[np.ndarray], "Aggregated"]


def outcomes(summary: pd.DataFrame) -> pd.Series:
    """``churned`` / ``renewed`` per customer (trimmed, case folded), NA otherwise."""
    out = summary["outcome"].astype("string").str.strip().str.casefold()
    return out.where(out.isin(OUTCOMES).fillna(False))


def honest(
    model: Model,
    customers: Customers,
    summary: pd.DataFrame,
    history: pd.DataFrame | None,
    day: dt.date,
    compute: Compute,
) -> tuple[Honest | None, list[Problem]]:
    """Score every customer with an outcome as of ``outcome_date - lead`` (else fall back).

    ``compute(as_of)`` aggregates every metric with one as-of date per customer (NaT for
    customers not back-tested), so the events are read once whatever the number of dates.
    Returns None when no customer has an outcome.
    """
    lead = model.settings.backtest_lead_days
    outcome = outcomes(summary)
    known = outcome.notna().to_numpy()
    if not known.any():
        return None, []
    problems: list[Problem] = []
    dates = _outcome_dates(customers, problems)
    today = np.datetime64(day, "D")
    as_of = dates - np.timedelta64(lead, "D")
    as_of = np.where(as_of > today, today, as_of)  # an outcome dated ahead: score today
    dated = known & ~np.isnat(as_of)
    as_of = np.where(dated, as_of, np.datetime64("NaT", "D"))

    score = np.full(customers.n, np.nan)
    points = pd.DataFrame(index=range(0))
    values = pd.DataFrame(index=range(0))
    if dated.any():
        agg = compute(as_of)
        pts = scoring.band_points(model, agg.values, set(agg.unavailable))
        score[dated] = scoring.weighted_score(pts.points, model.scored_metrics)[dated]
        points = pts.points.reset_index(drop=True)[dated]
        values = agg.values.reset_index(drop=True)[dated]

    basis = np.where(dated, "outcome_date", None).astype(object)
    snapshot_day = np.full(customers.n, np.datetime64("NaT", "D"))
    undated = known & ~dated
    if undated.any():
        cutoff = day - dt.timedelta(days=lead - 1)  # snapshots dated <= day - lead
        previous = previous_snapshot(history, customers, cutoff)
        have = undated & previous["score"].notna().to_numpy()
        score[have] = previous["score"].to_numpy(dtype=float)[have]
        snapshot_day[have] = previous["as_of"].to_numpy().astype("datetime64[D]")[have]
        basis[have] = "history"
        rest = undated & ~have
        score[rest] = summary["score"].to_numpy(dtype=float)[rest]
        basis[rest] = "today"
    rows = np.flatnonzero(known)
    frame = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy()[rows],
            "churned": (outcome.to_numpy(dtype=object)[rows] == "churned"),
            "as_of": np.where(basis[rows] == "history", snapshot_day[rows], as_of[rows]),
            "basis": basis[rows],
            "score": score[rows],
        },
        index=rows,
    )
    frame["tier"] = scoring.assign_tiers(frame["score"].to_numpy(), model.tiers).to_numpy()
    return Honest(frame, points, values, lead), problems


def _outcome_dates(customers: Customers, problems: list[Problem]) -> np.ndarray:
    """``Customers.outcome_date`` as days; a value that is not a date is reported once."""
    f = customers.frame
    if "outcome_date" not in f.columns:
        return np.full(customers.n, np.datetime64("NaT", "D"))
    raw = f["outcome_date"]
    days = customers.days(raw)
    text = raw.astype("string").str.strip()
    bad = np.isnat(days) & (text.notna() & (text != "")).fillna(False).to_numpy()
    if bad.any():
        first = int(np.argmax(bad))
        more = int(bad.sum()) - 1
        problems.append(
            Problem(
                "Customers",
                "outcome_date is not a date"
                + (f" (and {more} more rows)" if more else "")
                + "; enter the date the customer renewed or churned, such as 2026-03-31 — "
                "without it the back-test falls back to History or today's score",
                row=int(f[ROW_COLUMN].iloc[first]),
                column="outcome_date",
                value=raw.iloc[first],
            )
        )
    return days
