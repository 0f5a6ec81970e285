"""Shared helpers: small models and input tables built in code."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from xlhealth.core.config import default_tables, model_from_tables
from xlhealth.core.model import Model

# CI replays the same examples every run (a submission must not pass or fail by luck);
# local runs explore new random examples, which is how parity gaps are found.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

DATA = Path(__file__).resolve().parent / "data"
"""Vendored third-party test data (see tests/data/README.md)."""
AS_OF = dt.date(2026, 11, 20)


def make_model(
    metrics: list[dict], rules: list[dict], settings: dict | None = None, **tables: pd.DataFrame
) -> Model:
    """A model with these Metrics/Rules, default tiers/maturity/matrix and no alerts."""
    t = default_tables()
    t["Metrics"] = pd.DataFrame(metrics)
    t["Rules"] = pd.DataFrame(rules, columns=["metric", "min", "max", "value", "points", "label"])
    t["Alerts"] = pd.DataFrame(columns=["alert", "trigger", "action", "priority"])
    if settings:
        t["Settings"] = pd.DataFrame({"key": list(settings), "value": list(settings.values())})
    t.update(tables)
    return model_from_tables(t)


def usage_metric(name: str, group: str = "Adoption", **extra: object) -> dict:
    """A metric that reads column ``name`` from the per-customer Usage sheet."""
    return {
        "metric": name,
        "group": group,
        "source": "Usage",
        "column": name,
        "aggregate": "value",
        **extra,
    }


def band(
    metric: str,
    lo: float | None,
    hi: float | None,
    points: float,
    label: str = "",
    value: str | None = None,
) -> dict:
    return {
        "metric": metric,
        "min": lo,
        "max": hi,
        "value": value,
        "points": points,
        "label": label or f"{metric} {lo}-{hi}",
    }


def churn_model() -> Model:
    """The 5-metric banded model the tests put on tests/data/churn/saas_churn.csv."""
    status = [("Active", 10), ("Free-Trial", 4), ("No", 0)]
    return make_model(
        [
            usage_metric("product_accounting", "Adoption"),
            usage_metric("product_payroll", "Adoption"),
            usage_metric("csat_score", "Engagement"),
            usage_metric("articles_viewed", "Engagement"),
            usage_metric("minutes_customer_support", "Engagement"),
        ],
        [
            band(m, None, None, p, value=v)
            for m in ("product_accounting", "product_payroll")
            for v, p in status
        ]
        + [
            band("csat_score", None, 8, 0),
            band("csat_score", 8, 10, 5),
            band("csat_score", 10, None, 10),
            band("articles_viewed", None, 3, 0),
            band("articles_viewed", 3, 6, 5),
            band("articles_viewed", 6, None, 10),
            band("minutes_customer_support", None, 10, 0),
            band("minutes_customer_support", 10, None, -5),
        ],
    )


def customers(ids: list[str], **columns: list) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, **columns})


@pytest.fixture
def data() -> Path:
    """tests/data: vendored third-party files, with their licences."""
    return DATA
