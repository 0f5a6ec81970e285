"""The benchmark model: the default model plus 8 metrics, 20 scored in all.

The extra metrics exercise every aggregate kind (count, mean, max, distinct,
text value, min) on the demo generator's sheets (``xlhealth.demo.data``).
"""

from __future__ import annotations

import pandas as pd

from xlhealth.core.config import default_tables

EXTRA_METRICS = [
    ("tickets_30d", "Engagement", "Support", "", "", "count", 30),
    ("severity_mean_90d", "Engagement", "Support", "severity", "", "mean", 90),
    ("severity_max_90d", "Engagement", "Support", "severity", "", "max", 90),
    ("categories_90d", "Engagement", "Support", "category", "", "distinct", 90),
    ("stage", "Deployment", "Customers", "stage", "", "value", None),
    ("nps_mean_365", "Engagement", "Surveys", "nps", "", "mean", 365),
    ("nps_min_365", "Engagement", "Surveys", "nps", "", "min", 365),
    ("calls_180d", "Engagement", "Contacts", "", "kind=call", "count", 180),
]
EXTRA_RULES = [
    ("tickets_30d", None, 3, None, 0),
    ("tickets_30d", 3, None, None, -5),
    ("severity_mean_90d", None, 2, None, 5),
    ("severity_mean_90d", 2, None, None, 0),
    ("severity_max_90d", None, 3, None, 5),
    ("severity_max_90d", 3, None, None, 0),
    ("categories_90d", None, 2, None, 5),
    ("categories_90d", 2, None, None, 0),
    ("stage", None, None, "adoption", 10),
    ("stage", None, None, "renewal", 6),
    ("stage", None, None, "onboarding", 2),
    ("nps_mean_365", None, 7, None, 0),
    ("nps_mean_365", 7, None, None, 10),
    ("nps_min_365", None, 5, None, 0),
    ("nps_min_365", 5, None, None, 5),
    ("calls_180d", None, 1, None, 0),
    ("calls_180d", 1, None, None, 5),
]


def benchmark_tables() -> dict[str, pd.DataFrame]:
    """Config tables of the benchmark model (20 scored metrics)."""
    tables = default_tables()
    extra = pd.DataFrame(
        EXTRA_METRICS,
        columns=["metric", "group", "source", "column", "filter", "aggregate", "window_days"],
    )
    tables["Metrics"] = pd.concat([tables["Metrics"], extra], ignore_index=True)
    rules = pd.DataFrame(EXTRA_RULES, columns=["metric", "min", "max", "value", "points"])
    rules["label"] = rules["metric"] + " band"
    tables["Rules"] = pd.concat([tables["Rules"], rules], ignore_index=True)
    return tables
