"""Synthetic input sheets for benchmarks: ~30 events per customer, vectorised.

Shapes follow the workbook contract (Customers, Usage, Logins, Support,
Surveys, Contacts, Onboarding). The generator is seeded, so runs compare.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xlhealth.model import default_tables

AS_OF = dt.date(2026, 11, 20)

EXTRA_METRICS = [
    ("tickets_30d", "Engagement", "Support", "", "", "count", 30),
    ("severity_mean_90d", "Engagement", "Support", "severity", "", "mean", 90),
    ("severity_max_90d", "Engagement", "Support", "severity", "", "max", 90),
    ("categories_90d", "Engagement", "Support", "category", "", "distinct", 90),
    ("plan", "ROI", "Customers", "plan", "", "value", None),
    ("nps_mean_365", "Engagement", "Surveys", "nps", "", "mean", 365),
    ("nps_min_365", "Engagement", "Surveys", "nps", "", "min", 365),
    ("calls_180d", "Engagement", "Contacts", "", "kind=call", "count", 180),
]
EXTRA_RULES = [
    ("tickets_30d", None, 3, None, 0), ("tickets_30d", 3, None, None, -5),
    ("severity_mean_90d", None, 2, None, 5), ("severity_mean_90d", 2, None, None, 0),
    ("severity_max_90d", None, 3, None, 5), ("severity_max_90d", 3, None, None, 0),
    ("categories_90d", None, 2, None, 5), ("categories_90d", 2, None, None, 0),
    ("plan", None, None, "Enterprise", 10), ("plan", None, None, "Pro", 6),
    ("plan", None, None, "Starter", 2),
    ("nps_mean_365", None, 7, None, 0), ("nps_mean_365", 7, None, None, 10),
    ("nps_min_365", None, 5, None, 0), ("nps_min_365", 5, None, None, 5),
    ("calls_180d", None, 1, None, 0), ("calls_180d", 1, None, None, 5),
]


def benchmark_tables() -> dict[str, pd.DataFrame]:
    """The default model plus 8 metrics: 20 scored metrics over every aggregate kind."""
    tables = default_tables()
    extra = pd.DataFrame(EXTRA_METRICS, columns=["metric", "group", "source", "column", "filter",
                                                 "aggregate", "window_days"])
    tables["Metrics"] = pd.concat([tables["Metrics"], extra], ignore_index=True)
    rules = pd.DataFrame(EXTRA_RULES, columns=["metric", "min", "max", "value", "points"])
    rules["label"] = rules["metric"] + " band"
    tables["Rules"] = pd.concat([tables["Rules"], rules], ignore_index=True)
    return tables


def generate(n: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:06d}" for i in range(n)], dtype=object)
    as_of = np.datetime64(AS_OF, "D")
    health = rng.beta(2, 2, n)  # latent health drives every behaviour
    seats = rng.integers(5, 200, n)

    def days_back(count: int, spread: float) -> np.ndarray:
        return as_of - rng.exponential(spread, count).astype("int64").astype("timedelta64[D]")

    customers = pd.DataFrame({
        "customer_id": ids,
        "customer_name": [f"Company {i}" for i in range(n)],
        "segment": rng.choice(["Enterprise", "Mid-market", "SMB"], n, p=[0.2, 0.3, 0.5]),
        "owner": rng.choice([f"owner{i}" for i in range(20)], n),
        "seats": seats,
        "arr": seats * 1200,
        "plan": rng.choice(["Enterprise", "Pro", "Starter"], n),
        "renewal_date": as_of + rng.integers(-30, 365, n).astype("timedelta64[D]"),
    })
    usage = pd.DataFrame({
        "customer_id": ids,
        "key_features_used": rng.binomial(6, health),
        "value_realised": np.clip(health + rng.normal(0, 0.15, n), 0, 1).round(2),
    })
    per = {"Logins": 20, "Support": 3, "Surveys": 2, "Contacts": 4, "Onboarding": 1}

    def owners(k: int) -> np.ndarray:
        return np.repeat(np.arange(n), k)

    li = owners(per["Logins"])
    logins = pd.DataFrame({
        "customer_id": ids[li],
        "user_id": (li * 1000 + rng.integers(0, 1 + (seats[li] * health[li]).astype(int))).astype(
            str),
        "date": days_back(li.size, 5 + 40 * (1 - health[li]).mean()),
    })
    si = owners(per["Support"])
    support = pd.DataFrame({
        "customer_id": ids[si],
        "opened": days_back(si.size, 60),
        "category": rng.choice(["question", "bug", "complaint", "request"], si.size,
                               p=[0.5, 0.25, 0.1, 0.15]),
        "severity": rng.integers(1, 5, si.size),
    })
    vi = owners(per["Surveys"])
    surveys = pd.DataFrame({
        "customer_id": ids[vi],
        "date": days_back(vi.size, 120),
        "nps": np.clip(np.round(health[vi] * 10 + rng.normal(0, 2, vi.size)), 0, 10),
    })
    ci = owners(per["Contacts"])
    contacts = pd.DataFrame({
        "customer_id": ids[ci],
        "date": days_back(ci.size, 90),
        "kind": rng.choice(["call", "meeting", "qbr", "email"], ci.size),
        "role": rng.choice(["user", "manager", "executive"], ci.size, p=[0.6, 0.3, 0.1]),
    })
    oi = owners(per["Onboarding"])
    started = days_back(oi.size, 60)
    done = rng.random(oi.size) < 0.7
    onboarding = pd.DataFrame({
        "customer_id": ids[oi],
        "step": "kickoff",
        "standard_days": 14,
        "started": started,
        "completed": np.where(done, started + np.timedelta64(7, "D"), np.datetime64("NaT")),
    })
    return {"Customers": customers, "Usage": usage, "Logins": logins, "Support": support,
            "Surveys": surveys, "Contacts": contacts, "Onboarding": onboarding}


def event_count(sheets: dict[str, pd.DataFrame]) -> int:
    return sum(len(sheets[k]) for k in ("Logins", "Support", "Surveys", "Contacts", "Onboarding"))
