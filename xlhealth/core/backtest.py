"""The honest back-test: each renewal decision scored *before* it happened.

Scoring today against outcomes that already happened flatters the score (a customer
who churned in June has had no logins since June). Here every decision (a row of the
``Outcomes`` sheet, or ``Customers.outcome``) is scored as of ``outcome_date -
backtest_lead_days`` from the same input rows (``aggregate`` takes one as-of date per
customer, so one pass over the events scores one decision of every customer).
Customers.outcome without an ``outcome_date`` falls back to the customer's latest History
snapshot at least ``backtest_lead_days`` before today, and then to today's score
(optimistic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xlhealth.core import scoring
from xlhealth.core.history import Snapshots
from xlhealth.core.model import Model
from xlhealth.core.outcomes import NAT, observations, outcomes
from xlhealth.core.problems import Problem
from xlhealth.core.rows import Customers
from xlhealth.core.stability import hysteresis_tiers

if TYPE_CHECKING:
    from xlhealth.core.aggregate import Aggregated

BASES = ("outcome_date", "history", "today")
"""Where a customer's back-test score comes from, best first."""


@dataclass
class Honest:
    """Renewal decisions (renewed/churned) and each one's score before it.

    ``frame``: one row per decision, sorted by customer and date — ``customer_id``,
    ``customer`` (position in Customers), ``churned`` (bool), ``outcome_date``, ``as_of``
    (the date scored as of; NaT for ``today``), ``basis`` (one of BASES), ``score`` and
    ``tier`` (computed, never overridden), ``sheet``/``sheet_row`` (where it was said).
    ``points`` / ``values``: per scored metric, the points and values as of that date,
    for the rows whose basis is ``outcome_date`` only (History keeps scores, not points),
    indexed like ``frame``; NaN points = the metric was skipped for that customer.
    """

    frame: pd.DataFrame
    points: pd.DataFrame
    values: pd.DataFrame
    lead_days: int

    def counts(self) -> dict[str, int]:
        """Decisions per basis (shown on Checks with the fall-backs)."""
        got = self.frame["basis"].value_counts()
        return {b: int(got.get(b, 0)) for b in BASES}

    @property
    def customers(self) -> int:
        """Distinct customers among the decisions (fewer than rows with a renewal history)."""
        return int(self.frame["customer"].nunique())


Compute = Callable[[np.ndarray], "Aggregated"]


def honest(
    model: Model,
    customers: Customers,
    summary: pd.DataFrame,
    snapshots: Snapshots,
    day: dt.date,
    compute: Compute,
    outcome_rows: pd.DataFrame | None = None,
) -> tuple[Honest | None, list[Problem]]:
    """Score every renewal decision as of ``outcome_date - lead`` (else fall back).

    ``compute(as_of)`` aggregates every metric with one as-of date per customer (NaT for
    customers not back-tested), so the events are read once per *round*: round k scores
    every customer's k-th decision, so a customer decided 12 times costs 12 rounds, not
    12 × customers passes. ``outcome_rows``: the ``Outcomes`` sheet (many decisions per
    customer); ``Customers.outcome`` is the one-decision shortcut.
    Returns None when no customer has an outcome.
    """
    lead = model.settings.backtest_lead_days
    obs, problems = observations(customers, outcomes(summary), outcome_rows)
    if not obs.n:
        return None, problems
    today = np.datetime64(day, "D")
    as_of = obs.date - np.timedelta64(lead, "D")
    as_of = np.where(as_of > today, today, as_of)  # an outcome dated ahead: score today
    dated = ~np.isnat(as_of)

    score = np.full(obs.n, np.nan)
    points: list[pd.DataFrame] = []
    values: list[pd.DataFrame] = []
    for chosen in _rounds(obs.customer, dated):
        days = np.full(customers.n, NAT)
        who = obs.customer[chosen]
        days[who] = as_of[chosen]
        agg = compute(days)
        pts = scoring.band_points(model, agg.values, set(agg.unavailable))
        score[chosen] = scoring.weighted_score(pts.points, model.scored_metrics)[who]
        points.append(pts.points.reset_index(drop=True).iloc[who].set_axis(chosen))
        values.append(agg.values.reset_index(drop=True).iloc[who].set_axis(chosen))

    basis = np.where(dated, "outcome_date", None).astype(object)
    snapshot_day = np.full(obs.n, NAT)
    undated = ~dated  # the Customers shortcut without a date: History, then today
    if undated.any():
        cutoff = day - dt.timedelta(days=lead - 1)  # snapshots dated <= day - lead
        previous = snapshots.before(cutoff)
        who = obs.customer[undated]
        prev_score = previous["score"].to_numpy(dtype=float)[who]
        have = ~np.isnan(prev_score)
        idx = np.flatnonzero(undated)
        score[idx[have]] = prev_score[have]
        snapshot_day[idx[have]] = previous["as_of"].to_numpy().astype("datetime64[D]")[who][have]
        basis[idx[have]] = "history"
        rest = idx[~have]
        score[rest] = summary["score"].to_numpy(dtype=float)[obs.customer[rest]]
        basis[rest] = "today"
    frame = pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy()[obs.customer],
            "customer": obs.customer,
            "churned": obs.churned,
            "outcome_date": obs.date,
            "as_of": np.where(basis == "history", snapshot_day, as_of),
            "basis": basis,
            "score": score,
            "sheet": obs.sheet,
            "sheet_row": obs.sheet_row,
        }
    )
    # the tier as shown then: the hysteresis rule against the snapshot before each as-of
    # (today's basis: the snapshot before today, exactly as Summary's tier)
    when = np.where(basis == "today", np.datetime64(day, "D"), frame["as_of"].to_numpy())
    previous_tier = snapshots.tiers_before(obs.customer, when.astype("datetime64[D]"))
    frame["tier"] = hysteresis_tiers(
        score, previous_tier, model.tiers, model.settings.tier_hysteresis
    ).to_numpy()
    return (
        Honest(
            frame,
            pd.concat(points).sort_index() if points else pd.DataFrame(index=range(0)),
            pd.concat(values).sort_index() if values else pd.DataFrame(index=range(0)),
            lead,
        ),
        problems,
    )


def _rounds(customer: np.ndarray, dated: np.ndarray) -> list[np.ndarray]:
    """Observation indices per round: each customer's k-th dated decision in round k."""
    idx = np.flatnonzero(dated)
    if not idx.size:
        return []
    who = customer[idx]  # observations are sorted by customer, then date
    starts = np.r_[True, who[1:] != who[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(idx.size), 0))
    rank = np.arange(idx.size) - group_start
    return [idx[rank == k] for k in range(int(rank.max()) + 1)]
