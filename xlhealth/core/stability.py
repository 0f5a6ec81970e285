"""Tiers that move when the customer moved: hysteresis, and how often tiers change.

A count over a 28-day window wobbles by a few events from week to week, and a score near
a tier boundary crosses it back and forth on that wobble. With ``tier_hysteresis`` = h
points a customer keeps the previous snapshot's tier until the score passes the boundary
by h: tier = clamp(previous, tier(score − h), tier(score + h)). The same rule runs in
refresh, the honest back-test (each decision's previous tier is the snapshot before it),
History (which stores the tier shown) and the Values formulas (fed the previous tier as a
value). The score itself is never changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.model import Tier

NEAR_POINTS = 3.0
"""A tier change "sits near a boundary" when the score is this close to a tier's min."""
EARLIER_DAYS = 28  # the second horizon Checks compares with: a snapshot at least 4 weeks old


def hysteresis_tiers(
    scores: np.ndarray, previous: np.ndarray, tiers: tuple[Tier, ...], margin: float
) -> pd.Series:
    """Each customer's tier: the previous one unless the score passed a boundary by
    ``margin`` points (``previous`` NaN, or margin 0: the plain tier). <NA> for no score."""
    ordered = sorted(tiers, key=lambda t: t.min_score)
    mins = np.array([t.min_score for t in ordered])
    numbers = np.array([t.tier for t in ordered])
    s = np.asarray(scores, dtype=float)
    plain = np.searchsorted(mins, s, side="right") - 1  # position in ordered; -1 = below all
    if margin > 0:
        low = np.searchsorted(mins, s - margin, side="right") - 1
        high = np.searchsorted(mins, s + margin, side="right") - 1
        prev = np.asarray(previous, dtype=float)
        order = np.argsort(numbers)
        at = np.clip(np.searchsorted(numbers[order], np.nan_to_num(prev, nan=-1e9)), 0,
                     len(numbers) - 1)  # fmt: skip
        known = ~np.isnan(prev) & (numbers[order][at] == prev)
        prev_pos = np.where(known, order[at], -1)
        kept = np.clip(prev_pos, low, high)
        plain = np.where(known, kept, plain)
    ok = ~np.isnan(s) & (plain >= 0)
    result = pd.array(np.where(ok, numbers[np.maximum(plain, 0)], 0), dtype="Int64")
    result[~ok] = pd.NA
    return pd.Series(result)


@dataclass
class Horizon:
    """Tier changes against one earlier snapshot."""

    since: dt.date | None  # the (latest) date of the snapshots compared with
    compared: int  # customers with a tier then and now
    changed: int
    near: int  # changes whose score sits within NEAR_POINTS of a tier boundary

    @property
    def share(self) -> float:
        return self.changed / self.compared if self.compared else float("nan")


@dataclass
class Stability:
    previous: Horizon
    earlier: Horizon
    margin: float  # tier_hysteresis in force
    held: int = 0  # customers whose tier is the previous one, not their score's plain tier


def horizon(
    now: np.ndarray, scores: np.ndarray, then: pd.DataFrame, tiers: tuple[Tier, ...]
) -> Horizon:
    """``then``: each customer's snapshot (tier, as_of) from ``Snapshots.before``."""
    t_now = pd.to_numeric(pd.Series(now), errors="coerce").to_numpy(dtype=float)
    t_then = then["tier"].to_numpy(dtype=float)
    both = ~np.isnan(t_now) & ~np.isnan(t_then)
    changed = both & (t_now != t_then)
    bounds = np.array(sorted(t.min_score for t in tiers)[1:], dtype=float)
    s = np.asarray(scores, dtype=float)
    if bounds.size:
        gap = np.min(np.abs(s[:, None] - bounds[None, :]), axis=1)
    else:
        gap = np.full(len(s), np.inf)
    day = then["as_of"].to_numpy()[both]
    since = pd.Timestamp(day.max()).date() if day.size and not np.isnat(day).all() else None
    return Horizon(since, int(both.sum()), int(changed.sum()),
                   int((changed & (gap <= NEAR_POINTS)).sum()))  # fmt: skip
