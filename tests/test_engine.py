"""A whole scoring run on small hand-made input sheets with the default model."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from xlhealth import ConfigError, default_model, run
from xlhealth.core.config import default_tables, model_from_tables
from xlhealth.core.engine import SUMMARY_COLUMNS
from xlhealth.core.history import HISTORY_COLUMNS

AS_OF = dt.date(2026, 11, 20)


def d(days_ago: int) -> str:
    return (pd.Timestamp(AS_OF) - pd.Timedelta(days=days_ago)).date().isoformat()


@pytest.fixture
def sheets():
    customers = pd.DataFrame(
        {
            "customer_id": ["ACME", "BETA", "GAMMA"],
            "customer_name": ["Acme", "Beta", '=HYPERLINK("x")'],
            "segment": ["Enterprise", "SMB", "SMB"],
            "owner": ["kim", "lee", "lee"],
            "seats": [10, 10, 4],
            "renewal_date": [d(-200), d(-30), d(-60)],
            "exemplar": ["good", "bad", None],
            "outcome": [None, None, None],
        }
    )
    logins = pd.DataFrame(
        {
            "customer_id": ["acme"] * 12 + ["beta"],
            "user_id": [f"u{i}" for i in range(8)] + ["u1"] * 4 + ["b"],
            "date": [d(i) for i in range(12)] + [d(20)],
        }
    )
    usage = pd.DataFrame(
        {
            "customer_id": ["ACME", "BETA", "GAMMA"],
            "key_features_used": [4, 0, 1],
            "value_realised": [0.9, 0.2, 0.6],
        }
    )
    surveys = pd.DataFrame({"customer_id": ["ACME", "BETA"], "date": [d(10), d(5)], "nps": [10, 4]})
    support = pd.DataFrame(
        {"customer_id": ["BETA"] * 2, "opened": [d(3), d(40)], "category": ["complaint"] * 2}
    )
    contacts = pd.DataFrame(
        {
            "customer_id": ["ACME", "ACME", "GAMMA"],
            "date": [d(20), d(60), d(2)],
            "kind": ["qbr", "call", "call"],
            "role": ["executive", "user", "user"],
        }
    )
    maturity = pd.DataFrame(
        {
            "customer_id": ["ACME"] * 4,
            "factor": ["strategy_goals", "people_roles", "process_defined", "tech_usage"],
            "level": [4, 4, 3, 5],
            "assessed_on": d(30),
        }
    )
    return {
        "Customers": customers,
        "Logins": logins,
        "Usage": usage,
        "Surveys": surveys,
        "Support": support,
        "Contacts": contacts,
        "Maturity": maturity,
    }


def test_full_run_summary(sheets):
    r = run(default_model(), sheets, as_of=AS_OF)
    s = r.summary.set_index("customer_id")
    assert list(r.summary.columns[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS
    assert s.loc["ACME", "tier"] == 5 and s.loc["ACME", "tier_label"] == "Champion"
    assert s.loc["BETA", "score"] < s.loc["GAMMA", "score"] < s.loc["ACME", "score"]
    assert s.loc["ACME", "quadrant"] == "Expand & co-create"
    assert s.loc["BETA", "quadrant"] == "Assess maturity"
    # costs: no login 20, detractor 20 (tie: Metrics order), WAU 15; complaints (6) is 4th
    assert s.loc["BETA", "reasons"] == (
        "No login for 2 weeks; Detractor: NPS 6 or lower; Weekly active users under 50% of seats"
    )
    # no Onboarding sheet: onboarding_overdue is skipped for everyone and said so
    assert s.loc["ACME", "completeness"] == pytest.approx(11 / 12)
    assert any("onboarding_overdue" in p.message and "absent" in p.message for p in r.problems)
    assert s.loc["GAMMA", "customer_name"] == '=HYPERLINK("x")'  # kept as data, never run
    assert r.exemplars.ok
    assert r.backtest is None


def test_actions_segments_history(sheets):
    r = run(default_model(), sheets, as_of=AS_OF)
    assert (r.actions["priority"].diff().dropna() >= 0).all()
    beta = r.actions[r.actions["customer_id"] == "BETA"]
    assert {"renewal_at_risk", "detractor"} <= set(beta["alert"])
    seg = r.segments.set_index("segment")
    assert seg.loc["SMB", "customers"] == 2 and seg.loc["All customers", "customers"] == 3
    tier_cols = [c for c in r.segments.columns if c.startswith("tier_")]
    assert (r.segments[tier_cols].sum(axis=1) == r.segments["scored"]).all()
    assert list(r.history_rows.columns) == HISTORY_COLUMNS
    assert (r.history_rows["as_of"] == pd.Timestamp(AS_OF)).all()


def test_score_change_uses_the_latest_earlier_snapshot(sheets):
    first = run(default_model(), sheets, as_of=AS_OF)
    history = first.history_rows.copy()
    history["score"] = history["score"] + 20  # pretend they all were 20 points higher
    older = history.assign(as_of=pd.Timestamp("2026-01-01"), score=0.0)
    same_day = history.assign(score=100.0)  # a snapshot of the same day is not "previous"
    history.loc[:, "as_of"] = pd.Timestamp("2026-10-20")
    r = run(default_model(), sheets, pd.concat([older, history, same_day]), as_of=AS_OF)
    assert np.allclose(r.summary["score_change"].dropna(), -20)
    assert "score_drop" in set(r.actions["alert"])


def test_japanese_labels(sheets):
    tables = default_tables()
    tables["Settings"] = pd.DataFrame({"key": ["language"], "value": ["ja"]})
    r = run(model_from_tables(tables), sheets, as_of=AS_OF)
    s = r.summary.set_index("customer_id")
    assert s.loc["ACME", "tier_label"] == "優良"
    assert s.loc["BETA", "quadrant"] == "成熟度未評価"
    assert s.loc["BETA", "reasons"].startswith("2週間ログインなし; 批判者：NPS 6以下")
    assert "全顧客" in r.segments["segment"].tolist()


def test_as_of_from_settings(sheets):
    tables = default_tables()
    tables["Settings"] = pd.DataFrame({"key": ["as_of"], "value": ["2026-11-20"]})
    assert run(model_from_tables(tables), sheets).as_of == AS_OF


def test_missing_customers_sheet_blocks():
    with pytest.raises(ConfigError, match="Customers sheet is missing"):
        run(default_model(), {"Logins": pd.DataFrame()})
    with pytest.raises(ConfigError, match="customer_id"):
        run(default_model(), {"Customers": pd.DataFrame({"name": ["x"]})})
