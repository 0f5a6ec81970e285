"""Back-test on a real public table: tests/data/churn/saas_churn.csv (pysurvival, Apache-2.0).

The score is built from product status, CSAT and engagement columns (never
``months_active``, the survival time). The AUC the core reports is checked
against an independent pairwise count, and churn per tier against a crosstab.
"""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import churn_model
from xlhealth import run


@pytest.fixture(scope="module")
def churn_result():
    from tests.conftest import DATA

    path = DATA / "churn" / "saas_churn.csv"
    if not path.exists():
        pytest.fail(f"missing {path}")
    data = pd.read_csv(path)
    ids = [f"C{i:04d}" for i in range(len(data))]
    model = churn_model()
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": data["company_size"],
            "outcome": np.where(data["churned"] == 1, "churned", "renewed"),
        }
    )
    usage = data.drop(columns=["months_active", "churned"]).assign(customer_id=ids)
    return data, run(model, {"Customers": customers, "Usage": usage})


def test_auc_matches_an_independent_pairwise_count(churn_result):
    data, result = churn_result
    score = result.summary["score"].to_numpy()
    churned = data["churned"].to_numpy() == 1
    renewed_scores, churned_scores = score[~churned], score[churned]
    wins = (renewed_scores[:, None] > churned_scores[None, :]).sum()
    ties = (renewed_scores[:, None] == churned_scores[None, :]).sum()
    expected = (wins + 0.5 * ties) / (len(renewed_scores) * len(churned_scores))
    assert result.backtest is not None
    assert result.backtest.auc == pytest.approx(expected, abs=1e-12)
    assert result.backtest.auc > 0.55  # the score says something about churn on real data
    assert result.backtest.customers == 2000 and result.backtest.churned == int(churned.sum())


def test_churn_per_tier_matches_a_crosstab(churn_result):
    data, result = churn_result
    table = pd.crosstab(result.summary["tier"], data["churned"])
    bt = result.backtest.by_tier.set_index("tier")
    for tier, row in table.iterrows():
        assert bt.loc[tier, "customers"] == row.sum()
        assert bt.loc[tier, "churned"] == row.get(1.0, 0)
    lowest = bt[bt["customers"] > 0].index[0]
    assert result.backtest.lift == pytest.approx(
        bt.loc[lowest, "churn_rate"] / data["churned"].mean()
    )
    assert result.backtest.lift > 1  # the lowest tier churns more than average
