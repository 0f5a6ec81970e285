"""Steady customers with noisy counts, and a known few who really change: the book that
measures whether tiers and ``score_drop`` follow the customer or the noise.

Modelled on the churn simulation that showed the problem (ChurnSim, *Fighting Churn with
Data*): each customer has its own stable daily rate of each behaviour — posts and likes
(good), unfriends (harmful) — and the events of each day are Poisson draws from those
rates, so a 28-day count wobbles by its square root from week to week and a score near a
tier boundary crosses it on that wobble alone. A known share of customers really change
(their good rates fall to a third on one day of the measured weeks). Every customer is
decided each month (renewed or churned, more likely churned when engagement is low and
unfriends high); a churned customer's events stop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

KINDS = ("post", "like", "unfriend")
WINDOW = 28
WARM_UP = 12  # weeks of refreshes before the measured ones (History for the noise)


@dataclass
class Steady:
    customers: pd.DataFrame  # customer_id, customer_name
    logins: pd.DataFrame  # customer_id, date, kind (the events; metrics filter by kind)
    outcomes: pd.DataFrame  # customer_id, outcome, outcome_date: monthly decisions
    fall_day: np.ndarray  # datetime64[D] per customer: its real change (NaT: steady)
    churn_day: np.ndarray  # datetime64[D] per customer: when it left (NaT: still here)
    weeks: list[dt.date]  # the weekly refresh dates

    def fell(self, day: dt.date, days: int = 35) -> np.ndarray:
        """The truth behind ``score_drop`` on ``day``: a real fall in the ``days`` before."""
        d = np.datetime64(day, "D")
        return (
            ~np.isnat(self.fall_day)
            & (self.fall_day <= d)
            & (self.fall_day > d - np.timedelta64(days, "D"))
        )

    def active(self, day: dt.date) -> np.ndarray:
        """Customers that have not left by ``day``."""
        return np.isnat(self.churn_day) | (self.churn_day > np.datetime64(day, "D"))


def model_tables() -> dict[str, pd.DataFrame]:
    """Three 28-day counts banded like a hand-made template (edges at round numbers)."""
    from xlhealth.core.config import default_tables

    t = default_tables()
    t["Metrics"] = pd.DataFrame(
        [
            {"metric": f"{k}s_28d", "group": g, "source": "Logins", "filter": f"kind={k}",
             "aggregate": "count", "window_days": WINDOW, "weight": 1, "when_missing": "zero"}
            for k, g in zip(KINDS, ("Adoption", "Engagement", "Engagement"), strict=True)
        ]
    )  # fmt: skip
    rules = [
        ("posts_28d", None, 30, 0), ("posts_28d", 30, 60, 15), ("posts_28d", 60, 105, 30),
        ("posts_28d", 105, None, 40),
        ("likes_28d", None, 45, 0), ("likes_28d", 45, 90, 15), ("likes_28d", 90, 150, 25),
        ("likes_28d", 150, None, 40),
        ("unfriends_28d", None, 3, 20), ("unfriends_28d", 3, 8, 10), ("unfriends_28d", 8, None, 0),
    ]  # fmt: skip
    t["Rules"] = pd.DataFrame(
        [{"metric": m, "min": lo, "max": hi, "points": p, "label": ""} for m, lo, hi, p in rules],
        columns=["metric", "min", "max", "value", "points", "label"],
    )
    alerts = t["Alerts"]
    t["Alerts"] = alerts[alerts["trigger"] == "score_drop"].reset_index(drop=True)
    return t


def steady(
    n: int = 2000,
    weeks: int = 16,
    changers: float = 0.08,
    seed: int = 5,
    end: dt.date | None = None,
) -> Steady:
    end = end or dt.date(2026, 6, 30)
    rng = np.random.default_rng(seed)
    first = end - dt.timedelta(days=7 * (weeks - 1))
    start = first - dt.timedelta(days=WINDOW + 120)
    total = (end - start).days + 1
    day0 = np.datetime64(start, "D")
    ids = np.array([f"S{i:05d}" for i in range(n)], dtype=object)
    post = rng.gamma(3.0, 0.9, n)  # per day: 28-day counts around the band edges
    like = rng.gamma(3.0, 1.35, n)
    unfriend = rng.gamma(1.5, 0.1, n)
    changes = rng.random(n) < changers
    # the falls happen in the measured weeks (in the last five weeks' span if fewer)
    measured = min((first - start).days + 7 * WARM_UP, total - 36)
    fall = np.where(changes, rng.integers(measured, total - 35, n), -1)
    days = np.arange(total)
    good = np.where((fall[:, None] >= 0) & (days[None, :] >= fall[:, None]), 1 / 3, 1.0)
    # monthly decisions, each customer on its own day of the month, from the true rates
    offset = rng.integers(0, 30, n)
    churn_at = np.full(n, -1)
    rows = []
    for k in range(0, total, 30):
        when = k + offset
        here = (when < total) & (churn_at < 0) & (when >= WINDOW + 60)
        idx = np.flatnonzero(here)
        g = good[idx, when[idx]]
        utility = 1.2 * np.log(post[idx] * g / 3 + 0.05) + 0.8 * np.log(like[idx] * g / 3 + 0.05)
        utility -= 4.0 * unfriend[idx]
        p = 1 / (1 + np.exp(2.6 + utility))
        out = rng.random(idx.size) < p
        churn_at[idx[out]] = when[idx[out]]
        decided = day0 + when[idx].astype("timedelta64[D]")
        outcome = np.where(out, "churned", "renewed")
        rows.append(pd.DataFrame({"customer_id": ids[idx], "outcome": outcome,
                                  "outcome_date": decided}))  # fmt: skip
    alive = (churn_at[:, None] < 0) | (days[None, :] < churn_at[:, None])
    frames = []
    for kind, rate, scaled in (("post", post, True), ("like", like, True),
                               ("unfriend", unfriend, False)):  # fmt: skip
        lam = rate[:, None] * (good if scaled else 1.0) * alive
        counts = rng.poisson(lam)
        c, d = np.nonzero(counts)
        reps = counts[c, d]
        frames.append(pd.DataFrame({"customer_id": ids[np.repeat(c, reps)],
                                    "date": day0 + np.repeat(d, reps).astype("timedelta64[D]"),
                                    "kind": kind}))  # fmt: skip
    logins = pd.concat(frames, ignore_index=True)
    return Steady(
        customers=pd.DataFrame({"customer_id": ids, "customer_name": [f"Steady {i}" for i in ids]}),
        logins=logins,
        outcomes=pd.concat(rows, ignore_index=True),
        fall_day=np.where(fall >= 0, day0 + fall.astype("timedelta64[D]"), np.datetime64("NaT")),
        churn_day=np.where(
            churn_at >= 0, day0 + churn_at.astype("timedelta64[D]"), np.datetime64("NaT")
        ),
        weeks=[first + dt.timedelta(days=7 * w) for w in range(weeks)],
    )


@dataclass
class Replay:
    """Weekly refreshes of a :class:`Steady` book with one ``tier_hysteresis``, measured
    over the weeks after ``WARM_UP`` (History then holds enough weeks for the noise)."""

    margin: float
    tier_changes: list[float]  # per week: share of active customers whose tier changed
    tier_changes_4w: list[float]  # against the snapshot four weeks earlier
    checks_share: list[float]  # what Checks reported against the previous snapshot
    recount: list[float]  # the same share recounted from the weeks' Summary tiers
    drops_fired: int  # score_drop episodes (first firing; again only after 4 weeks)
    drops_true: int  # of which on a customer that really fell in the 35 days before
    fallers: int  # customers that really fell in the measured weeks (and stayed)
    fallers_caught: int  # of which score_drop fired on within 35 days of the fall
    tier_followed: int  # of which the tier dropped within 14 days of the fall
    tier_followed_28: int  # … within 28 days
    auc: float  # honest AUC of the score (decisions in the measured weeks)
    tier_auc: float  # honest AUC of the tier as shown then


def replay(st: Steady, margin: float, lead_days: int = 28) -> Replay:
    from xlhealth import run
    from xlhealth.core.checks import auc
    from xlhealth.core.config import model_from_tables
    from xlhealth.core.history import merge_history

    tables = model_tables()
    tables["Settings"] = pd.DataFrame(
        {"key": ["tier_hysteresis", "backtest_lead_days"], "value": [margin, lead_days]}
    )
    model = model_from_tables(tables)
    sheets = {"Customers": st.customers, "Logins": st.logins}
    history = None
    tiers: list[np.ndarray] = []
    changes, changes4, reported, recount = [], [], [], []
    last_fired: dict[int, int] = {}
    hits: dict[int, list[int]] = {}
    fired = true = 0
    start = np.datetime64(st.weeks[WARM_UP], "D")
    for w, day in enumerate(st.weeks):
        use = dict(sheets)
        if w == len(st.weeks) - 1:
            o = st.outcomes
            use["Outcomes"] = o[o["outcome_date"].to_numpy() >= start]
        result = run(model, use, history=history, as_of=day)
        history = merge_history(history, result.history_rows, day)
        tier = result.summary["tier"].to_numpy(dtype=float, na_value=np.nan)
        tiers.append(tier)
        if w < WARM_UP:
            continue
        active = st.active(day)
        changes.append(float(np.mean(tier[active] != tiers[-2][active])))
        changes4.append(float(np.mean(tier[active] != tiers[-5][active])))
        reported.append(result.stability.previous.share)
        both = ~np.isnan(tier) & ~np.isnan(tiers[-2])
        recount.append(float(np.mean(tier[both] != tiers[-2][both])))
        drops = result.actions[result.actions["alert"] == "score_drop"]
        truth = st.fell(day)
        for p in pd.Index(st.customers["customer_id"]).get_indexer(drops["customer_id"]):
            if not active[p] or (p in last_fired and w - last_fired[p] < 4):
                continue
            last_fired[p] = w
            fired += 1
            true += int(truth[p])
            if truth[p]:
                hits.setdefault(p, []).append(w)
    end = np.datetime64(st.weeks[-1] - dt.timedelta(days=35), "D")
    fallers = ~np.isnat(st.fall_day) & (st.fall_day >= start) & (st.fall_day <= end)
    fallers &= st.active(st.weeks[-1])
    weeks = np.array(st.weeks, dtype="datetime64[D]")
    followed = {14: 0, 28: 0}
    for p in np.flatnonzero(fallers):
        before = int(np.searchsorted(weeks, st.fall_day[p])) - 1  # the last week before it
        for days in followed:
            soon = (weeks > st.fall_day[p]) & (weeks <= st.fall_day[p] + np.timedelta64(days, "D"))
            followed[days] += int(any(tiers[k][p] < tiers[before][p] for k in np.flatnonzero(soon)))
    frame = result.honest.frame
    y = frame["churned"].to_numpy()
    return Replay(
        margin,
        changes,
        changes4,
        reported,
        recount,
        fired,
        true,
        int(fallers.sum()),
        sum(1 for p in np.flatnonzero(fallers) if p in hits),
        followed[14],
        followed[28],
        auc(frame["score"].to_numpy(), y),
        auc(frame["tier"].to_numpy(dtype=float), y),
    )
