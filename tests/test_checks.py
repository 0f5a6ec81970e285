"""Coverage, exemplar check and back-test."""

import numpy as np
import pandas as pd

from xlhealth.core.checks import auc, backtest, coverage, exemplars
from xlhealth.core.config import default_model


def test_auc_counts_ties_as_half():
    score = np.array([90, 80, 80, 10])
    churned = np.array([False, False, True, True])
    # pairs (renewed, churned): (90,80) 1, (90,10) 1, (80,80) 0.5, (80,10) 1 -> 3.5 / 4
    assert auc(score, churned) == 0.875
    assert np.isnan(auc(score, np.zeros(4, bool)))


def test_exemplars_list_every_pair_out_of_order():
    s = pd.DataFrame(
        {
            "customer_id": ["g1", "g2", "b1", "b2", "g3", "x"],
            "score": [90, 40, 50, 10, np.nan, 70],
            "exemplar": ["good", "Good ", "bad", "bad", "good", None],
        }
    )
    check = exemplars(s)
    assert (check.good, check.bad, check.pairs, check.in_order) == (2, 2, 4, 3)
    assert check.out_of_order[["good_id", "bad_id"]].values.tolist() == [["g2", "b1"]]
    assert check.unscored == ["g3"] and not check.ok


def test_equal_scores_are_out_of_order():
    s = pd.DataFrame(
        {"customer_id": ["g", "b"], "score": [50.0, 50.0], "exemplar": ["good", "bad"]}
    )
    assert exemplars(s).in_order == 0


def test_backtest_per_tier_and_lift():
    m = default_model()
    s = pd.DataFrame(
        {
            "score": [10, 15, 30, 70, 90, 95, 50, np.nan],
            "tier": pd.array([1, 1, 2, 4, 5, 5, 3, pd.NA], dtype="Int64"),
            "outcome": [
                "churned",
                "renewed",
                "churned",
                "renewed",
                "renewed",
                "churned",
                None,
                "churned",
            ],
        }
    )
    bt = backtest(s, m)
    assert bt.customers == 6 and bt.churned == 3 and bt.churn_rate == 0.5
    t = bt.by_tier.set_index("tier")
    assert t.loc[1, "customers"] == 2 and t.loc[1, "churn_rate"] == 0.5
    assert t.loc[3, "customers"] == 0 and np.isnan(t.loc[3, "churn_rate"])
    assert bt.lowest_tier == 1 and bt.lift == 1.0
    assert backtest(s.assign(outcome=None), m) is None


def test_coverage_flags_thin_metrics():
    m = default_model()
    values = pd.DataFrame(
        {"nps_latest": [9, np.nan, np.nan, 3, 7], "login_days_14d": [1, 2, 3, 4, 0]}
    )
    cov = coverage(m, values, {"key_features_used": "sheet Usage is absent"}).set_index("metric")
    assert cov.loc["nps_latest", "coverage"] == 0.6 and cov.loc["nps_latest", "flag"]
    assert cov.loc["login_days_14d", "coverage"] == 1 and not cov.loc["login_days_14d", "flag"]
    assert cov.loc["key_features_used", "flag"]
    assert not cov.loc["seats", "flag"]  # helpers are never flagged
