"""A living demo: one continuous history of the same customers, refreshed week after week.

Each customer's hidden health drifts a little from week to week, and a few customers meet a
real shock (a sponsor leaves, a competitor wins a team) and fall for good. Every event —
logins, tickets, survey answers, meetings — is drawn day by day from the health of that
moment, once, as it happens; a refresh as of a date sees the events up to it. So a score
moves when the customer moved, and the month a CS lead looks at is not noise.

The customers themselves (names, owners, seats, renewals, onboarding, maturity answers,
overrides) come from :func:`xlhealth.demo.data.generate`, whose first draw is the same
starting health.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.demo.data import generate

WEEKS = 8  # weekly refreshes the demo makes
HISTORY_DAYS = 400  # events before the first refresh (the longest window reads 365 days)
SHOCKED = 0.04  # share of customers whose health falls for good during the weeks shown
MAX_LOGIN_ROWS = 900_000  # a sheet holds 1,048,576 rows: fewer logins per customer above it


@dataclass
class Story:
    """The same customers over time: ``health`` per day, events drawn from it."""

    start: dt.date  # the first day with events
    days: list[dt.date]
    health: np.ndarray  # customers x days
    shocked: np.ndarray  # bool per customer: a real fall during the refreshed weeks
    static: dict[str, pd.DataFrame]
    events: dict[str, pd.DataFrame]

    def sheets(self, as_of: dt.date) -> dict[str, pd.DataFrame]:
        """The input sheets as an export on ``as_of`` shows them (events up to that day)."""
        day = np.datetime64(as_of, "D")
        out = dict(self.static)
        for name, frame in self.events.items():
            column = "opened" if name == "Support" else "date"
            out[name] = frame[frame[column].to_numpy() <= day].reset_index(drop=True)
        h = self.health_on(as_of)
        usage = self.static["Usage"].copy()
        fixed = np.random.default_rng(7).normal(0, 0.08, len(h))  # each customer's own bias
        usage["key_features_used"] = np.clip(np.round(6 * (h * 0.9 + 0.05) + fixed * 6), 0, 6)
        usage["value_realised"] = np.clip(h + fixed, 0, 1).round(2)
        out["Usage"] = usage
        return out

    def health_on(self, day: dt.date) -> np.ndarray:
        return self.health[:, (day - self.start).days]

    def fell(self, day: dt.date, days: int = 28, by: float = 0.08) -> np.ndarray:
        """The truth behind ``score_drop``: hidden health fell by ``by`` over ``days``, or
        the customer left (churned) in those days."""
        before = self.health_on(day - dt.timedelta(days=days))
        customers = self.static["Customers"]
        ended = pd.to_datetime(customers["outcome_date"]).to_numpy().astype("datetime64[D]")
        left = (
            (customers["outcome"] == "churned").to_numpy()
            & (ended > np.datetime64(day - dt.timedelta(days=days), "D"))
            & (ended <= np.datetime64(day, "D"))
        )
        return (self.health_on(day) < before - by) | left


def story(n: int, lang: str = "en", seed: int = 42, end: dt.date | None = None) -> Story:
    end = end or dt.date.today()
    first = end - dt.timedelta(days=7 * (WEEKS - 1))
    start = first - dt.timedelta(days=HISTORY_DAYS)
    total = (end - start).days + 1
    static = generate(n, lang, seed, as_of=end)
    rng = np.random.default_rng([seed, 2026])
    h0 = np.random.default_rng(seed).beta(2.2, 1.8, n)  # generate()'s first draw
    steps = rng.normal(0, 0.0025, (n, total))  # slow daily drift
    health = np.clip(h0[:, None] + np.cumsum(steps, axis=1) - steps.sum(1)[:, None] / 2, 0.02, 0.98)
    shocked = rng.random(n) < SHOCKED
    when = rng.integers(HISTORY_DAYS, total, n)
    size = rng.uniform(0.25, 0.45, n)
    after = np.arange(total)[None, :] >= when[:, None]
    health = np.where(shocked[:, None] & after, np.clip(health - size[:, None], 0.02, 0.98), health)
    days = [start + dt.timedelta(days=k) for k in range(total)]
    events = _events(static["Customers"], health, start, rng)
    return Story(start, days, health, shocked, {k: v for k, v in static.items()
                 if k not in events}, events)  # fmt: skip


def _events(
    customers: pd.DataFrame, health: np.ndarray, start: dt.date, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    n, total = health.shape
    ids = customers["customer_id"].to_numpy(dtype=object)
    seats = customers["seats"].to_numpy()
    domains = customers["email_domain"].to_numpy(dtype=object)
    day0 = np.datetime64(start, "D")

    # Logins are a habit: a customer's users log in on the first k working days of each week,
    # k (0-5) set by its health of the moment (with a fixed per-customer rounding), so a
    # steady customer's 14-day count is steady and a falling one's falls. Only the days the
    # 7- to 30-day login windows of the refreshed weeks can see are drawn.
    recent = max(0, total - (7 * WEEKS + 31))
    weekday = (np.arange(total) + (day0.astype(int) + 3)) % 7  # 0 = Monday
    rounding = rng.random(n)[:, None]
    k = np.floor(5 * np.clip(2.0 * health - 0.4, 0, 1) + rounding).clip(0, 5)
    on = weekday[None, :] < k
    # also the 150 days before each renewal or churn, so the honest back-test sees them
    ended = pd.to_datetime(customers["outcome_date"]).to_numpy().astype("datetime64[D]")
    end_day = np.where(np.isnat(ended), -1, (ended - day0).astype("timedelta64[D]").astype(int))
    around = (np.arange(total)[None, :] >= end_day[:, None] - 150) & (
        np.arange(total)[None, :] <= end_day[:, None]
    )
    on &= (np.arange(total)[None, :] >= recent) | around
    # a churned customer left: nothing happens after its churn date
    churned = (customers["outcome"] == "churned").to_numpy() & (end_day >= 0)
    gone = churned[:, None] & (np.arange(total)[None, :] > end_day[:, None])
    on &= ~gone
    if on.sum() * 1.6 > MAX_LOGIN_ROWS:  # a very large demo: a sample of the login days
        on &= rng.random((n, total)) < MAX_LOGIN_ROWS / (on.sum() * 1.6)
    ci, di = np.nonzero(on)
    # the customer's active users take turns, up to 3 a day: a week shows a steady number
    pool = np.maximum(1, np.round(seats[ci] * np.clip(health[ci, di] * 1.1, 0.05, 1))).astype(int)
    per = np.minimum(pool, 3)
    turn = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    ci, di, pool, per = (np.repeat(x, per) for x in (ci, di, pool, per))
    user_no = (di * per + turn) % pool
    user = np.char.add("u", user_no.astype(str)).astype(object)
    via_email = rng.random(ci.size) < 0.15
    logins = pd.DataFrame(
        {
            "customer_id": np.where(via_email, None, ids[ci]),
            "email": np.where(via_email, user + "@" + domains[ci], None),
            "user_id": user,
            "date": day0 + di.astype("timedelta64[D]"),
        }
    )

    def daily(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hits = (rng.random((n, total)) < rate) & ~gone
        return np.nonzero(hits)

    h = health
    ti, td = daily((0.04 + 0.25 * (1 - h) ** 2) / 7)  # tickets: a few a month when failing
    complaint = rng.random(ti.size) < 0.05 + 0.35 * (1 - h[ti, td])
    support = pd.DataFrame(
        {
            "customer_id": ids[ti],
            "opened": day0 + td.astype("timedelta64[D]"),
            "category": np.where(
                complaint, "complaint", rng.choice(["question", "bug", "request"], ti.size)
            ),
            "severity": rng.integers(1, 5, ti.size),
        }
    )
    si, sd = daily(np.full((n, total), 1 / 90))  # a survey answer every three months or so
    leaning = rng.normal(0, 0.6, n)  # each customer's own way of answering
    surveys = pd.DataFrame(
        {
            "customer_id": ids[si],
            "date": day0 + sd.astype("timedelta64[D]"),
            "nps": np.clip(
                np.round(1.5 + 8.5 * h[si, sd] + leaning[si]),
                0,
                10,  # the same unless h moved
            ),
        }
    )
    mi, md = daily((0.15 + 0.6 * h) / 7)  # calls and meetings with users and managers
    kind = rng.choice(["call", "meeting", "email"], mi.size, p=[0.4, 0.35, 0.25])
    # Business reviews every ~90 days and executive check-ins every ~45 days, on a schedule
    # of the customer's own; a customer in poor health stops taking them (not at random).
    qi, qd = _scheduled(health, 90, 0.35, rng, gone)
    ei, ed = _scheduled(health, 45, 0.4, rng, gone)
    contacts = pd.DataFrame(
        {
            "customer_id": ids[np.concatenate([mi, qi, ei])],
            "date": day0 + np.concatenate([md, qd, ed]).astype("timedelta64[D]"),
            "kind": np.concatenate([kind, np.full(qi.size, "qbr"), np.full(ei.size, "meeting")]),
            "role": np.concatenate(
                [
                    rng.choice(["user", "manager"], mi.size),
                    np.full(qi.size, "manager"),
                    np.full(ei.size, "executive"),
                ]
            ),
        }
    ).sort_values("date", kind="stable", ignore_index=True)
    return {"Logins": logins, "Support": support, "Surveys": surveys, "Contacts": contacts}


def _scheduled(
    health: np.ndarray, every: int, floor: float, rng: np.random.Generator, gone: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(customer, day) of meetings held every ``every`` days from a phase of the customer's
    own, while its health is above ``floor`` (and it has not left)."""
    n, total = health.shape
    phase = rng.integers(0, every, n)
    due = (np.arange(total)[None, :] - phase[:, None]) % every == 0
    ci, di = np.nonzero(due & ~gone)
    held = health[ci, di] > floor
    return ci[held], di[held]


def refresh_days(end: dt.date | None = None) -> list[dt.date]:
    end = end or dt.date.today()
    return [end - dt.timedelta(days=7 * k) for k in range(WEEKS - 1, -1, -1)]
