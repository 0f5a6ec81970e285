"""The honest back-test: each outcome scored ``backtest_lead_days`` before it happened.

A book where churners stop logging in when they leave, and behave exactly like renewers
before, has nothing a score could have seen in advance: scored today its AUC is near 1
(leakage), scored 90 days before each outcome it must be near 0.5.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import AS_OF, band, make_model
from xlhealth import run
from xlhealth.core.aggregate import aggregate
from xlhealth.core.checks import auc
from xlhealth.core.config import default_model
from xlhealth.demo import data as demo_data
from xlhealth.inputs.matching import prepare_customers

LOGIN_METRICS = [
    {
        "metric": "login_days_30d",
        "group": "Adoption",
        "source": "Logins",
        "aggregate": "active_days",
        "window_days": 30,
        "when_missing": "zero",
    },
    {
        "metric": "days_since_login",
        "group": "Engagement",
        "source": "Logins",
        "aggregate": "days_since",
        "when_missing": "zero",
    },
]
LOGIN_RULES = [
    band("login_days_30d", None, 3, 0),
    band("login_days_30d", 3, 10, 5),
    band("login_days_30d", 10, None, 10),
    band("days_since_login", None, 14, 10),
    band("days_since_login", 14, 60, 4),
    band("days_since_login", 60, None, 0),
]


def leaky_book(n: int = 400, seed: int = 7, lead: int | None = None) -> tuple:
    """Churners log in exactly like renewers until they leave, then stop."""
    rng = np.random.default_rng(seed)
    today = np.datetime64(AS_OF, "D")
    churned = rng.random(n) < 0.3
    ended = today - rng.integers(30, 700, n).astype("timedelta64[D]")
    ids = [f"C{i:04d}" for i in range(n)]
    per = rng.poisson(120, n)
    li = np.repeat(np.arange(n), per)
    day = today - rng.integers(0, 900, li.size).astype("timedelta64[D]")
    keep = ~churned[li] | (day <= ended[li])
    logins = pd.DataFrame({"customer_id": np.array(ids)[li][keep], "date": day[keep]})
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "outcome": np.where(churned, "churned", "renewed"),
            "outcome_date": ended,
        }
    )
    settings = {"backtest_lead_days": lead} if lead is not None else None
    model = make_model(LOGIN_METRICS, LOGIN_RULES, settings)
    return model, {"Customers": customers, "Logins": logins}


def test_leakage_scored_today_looks_excellent_honest_is_a_coin_toss():
    model, sheets = leaky_book()
    result = run(model, sheets, as_of=AS_OF)
    assert result.backtest.auc > 0.9  # today's score sees churners' silence since they left
    assert 0.4 < result.honest_backtest.auc < 0.6
    assert result.honest.counts() == {"outcome_date": 400, "history": 0, "today": 0}
    assert result.honest.lead_days == 90


def test_honest_scores_equal_a_refresh_as_of_each_customers_date():
    """The one-pass back-test gives each customer the score a refresh on its date gives."""
    model, sheets = leaky_book(n=60, seed=3, lead=45)
    result = run(model, sheets, as_of=AS_OF)
    frame = result.honest.frame
    assert (frame["basis"] == "outcome_date").all()
    for row in frame.sample(12, random_state=1).itertuples():
        day = pd.Timestamp(row.as_of).date()
        alone = run(model, sheets, as_of=day)
        expected = alone.summary.set_index("customer_id").loc[row.customer_id, "score"]
        assert row.score == pytest.approx(expected, abs=0), row.customer_id
        outcome = pd.Timestamp(
            sheets["Customers"].set_index("customer_id").loc[row.customer_id, "outcome_date"]
        ).date()
        assert day == outcome - dt.timedelta(days=45)


def test_independent_auc_of_the_honest_scores():
    model, sheets = leaky_book(n=200, seed=11)
    result = run(model, sheets, as_of=AS_OF)
    f = result.honest.frame.dropna(subset=["score"])
    good = f.loc[~f["churned"], "score"].to_numpy()
    bad = f.loc[f["churned"], "score"].to_numpy()
    pairs = (good[:, None] > bad[None, :]).sum() + 0.5 * (good[:, None] == bad[None, :]).sum()
    assert result.honest_backtest.auc == pytest.approx(pairs / (good.size * bad.size))


def test_fallbacks_history_then_today_with_counts():
    model, sheets = leaky_book(n=50, seed=5)
    customers = sheets["Customers"].copy()
    customers.loc[:9, "outcome_date"] = None  # 10 without a date
    ids = customers["customer_id"].tolist()
    history = pd.DataFrame(
        {
            "as_of": [pd.Timestamp(AS_OF - dt.timedelta(days=200))] * 4
            + [pd.Timestamp(AS_OF - dt.timedelta(days=30))] * 3,  # too recent: not used
            "customer_id": ids[:4] + ids[4:7],
            "score": [11.0, 22.0, 33.0, 44.0, 55.0, 66.0, 77.0],
            "tier": [1, 2, 2, 3, 3, 4, 4],
            "cmi": [None] * 7,
        }
    )
    result = run(model, {**sheets, "Customers": customers}, history=history, as_of=AS_OF)
    frame = result.honest.frame.set_index("customer_id")
    assert result.honest.counts() == {"outcome_date": 40, "history": 4, "today": 6}
    assert frame.loc[ids[:4], "score"].tolist() == [11.0, 22.0, 33.0, 44.0]
    assert (frame.loc[ids[:4], "basis"] == "history").all()
    today = result.summary.set_index("customer_id")["score"]
    assert frame.loc[ids[4:10], "score"].tolist() == today.loc[ids[4:10]].tolist()
    assert (frame.loc[ids[4:10], "basis"] == "today").all()


def test_outcome_date_that_is_not_a_date_is_located():
    model, sheets = leaky_book(n=40, seed=9)
    customers = sheets["Customers"].astype({"outcome_date": object})
    customers.loc[3, "outcome_date"] = "last spring"
    result = run(model, {**sheets, "Customers": customers}, as_of=AS_OF)
    found = [p for p in result.problems if p.column == "outcome_date"]
    assert len(found) == 1 and found[0].value == "last spring" and found[0].sheet == "Customers"
    assert result.honest.counts()["today"] == 1


def test_backtest_lead_days_setting_is_validated():
    from xlhealth.core.problems import ConfigError

    with pytest.raises(
        ConfigError, match=r"Settings, row 2, column value \(-3\): must be at least 0"
    ):
        make_model(LOGIN_METRICS, LOGIN_RULES, {"backtest_lead_days": -3})
    assert (
        make_model(
            LOGIN_METRICS, LOGIN_RULES, {"backtest_lead_days": 30}
        ).settings.backtest_lead_days
        == 30
    )


def test_no_outcomes_no_honest_backtest():
    model, sheets = leaky_book(n=20)
    customers = sheets["Customers"].assign(outcome=None)
    result = run(model, {**sheets, "Customers": customers}, as_of=AS_OF)
    assert result.honest is None and result.honest_backtest is None


def test_demo_has_a_lead_time_effect():
    """The demo: scored today looks better than the honest figure, which is still useful."""
    result = run(default_model(), demo_data.generate(300), as_of=demo_data.AS_OF)
    assert result.honest.counts()["outcome_date"] == result.backtest.customers > 30
    assert result.backtest.auc > result.honest_backtest.auc + 0.05
    assert result.honest_backtest.auc > 0.65


@settings(max_examples=25, deadline=None)
@given(
    offsets=st.lists(st.integers(-400, 0), min_size=30, max_size=30),
    seed=st.integers(0, 2**16),
)
def test_per_customer_as_of_equals_one_run_per_date(offsets, seed):
    """aggregate with one date per customer == aggregate per date, customer by customer."""
    sheets = demo_data.generate(30, seed=seed)
    model = default_model()
    customers = prepare_customers(sheets["Customers"])
    base = np.datetime64(demo_data.AS_OF, "D")
    days = base + np.array(offsets, dtype="timedelta64[D]")
    days[::7] = np.datetime64("NaT", "D")
    together = aggregate(model, customers, sheets, days).values
    for day in np.unique(days[~np.isnat(days)]):
        alone = aggregate(model, customers, sheets, day.astype(dt.date)).values
        rows = np.flatnonzero(days == day)
        pd.testing.assert_frame_equal(together.iloc[rows], alone.iloc[rows])


def test_auc_helper_matches_pair_count():
    rng = np.random.default_rng(0)
    score = rng.integers(0, 10, 300).astype(float)
    churned = rng.random(300) < 0.3
    good, bad = score[~churned], score[churned]
    pairs = (good[:, None] > bad[None, :]).sum() + 0.5 * (good[:, None] == bad[None, :]).sum()
    assert auc(score, churned) == pytest.approx(pairs / (good.size * bad.size))
