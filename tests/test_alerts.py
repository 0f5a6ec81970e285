"""Action-list rules: triggers, texts, due dates and ordering."""

import datetime as dt

import numpy as np
import pandas as pd

from xlhealth.core.alerts import display, evaluate, fill_template
from xlhealth.core.config import default_tables, model_from_tables

AS_OF = dt.date(2026, 11, 20)


def frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {
        "customer_id": [f"C{i}" for i in range(n)],
        "customer_name": [f"Co {i}" for i in range(n)],
        "owner": ["kim"] * n,
        "score": [50.0] * n,
        "tier": pd.array([3] * n, dtype="Int64"),
        "tier_label": ["Watch"] * n,
        "score_change": [np.nan] * n,
        "previous_score": [np.nan] * n,
        "previous_as_of": pd.Series([pd.NaT] * n),
        "renewal_date": pd.Series([pd.NaT] * n),
    }
    base.update(cols)
    return pd.DataFrame(base)


def model_with(rows: list[dict]):
    tables = default_tables()
    tables["Alerts"] = pd.DataFrame(rows)
    return model_from_tables(tables)


def test_score_drop_and_text():
    m = model_with(
        [
            {
                "trigger": "score_drop",
                "threshold": 10,
                "priority": 1,
                "due_days": 3,
                "label": "Score fell {value} points since {previous_as_of}",
                "action": "Call",
            }
        ]
    )
    f = frame(
        score=[40.0, 55.0, 60.0],
        score_change=[-12.5, -9.9, np.nan],
        previous_as_of=pd.to_datetime(["2026-10-20"] * 3),
    )
    a = evaluate(m, f, pd.DataFrame(index=f.index), AS_OF)
    assert a["customer_id"].tolist() == ["C0"]
    assert a["trigger"].iloc[0] == "Score fell 12.5 points since 2026-10-20"
    assert a["due"].iloc[0] == pd.Timestamp("2026-11-23")


def test_tier_renewal_window():
    m = model_with(
        [
            {
                "trigger": "tier_renewal",
                "threshold": 2,
                "days": 90,
                "priority": 1,
                "label": "{tier_label} renews {renewal_date}",
                "action": "Plan",
            }
        ]
    )
    f = frame(
        tier=pd.array([2, 2, 3, 1, 1], dtype="Int64"),
        renewal_date=pd.to_datetime(
            ["2026-12-01", "2027-06-01", "2026-12-01", "2026-11-01", "2027-02-18"]
        ),
    )
    a = evaluate(m, f, pd.DataFrame(index=f.index), AS_OF)
    assert a["customer_id"].tolist() == ["C0", "C4"]  # C3's renewal has passed; C4 at day 90
    assert a["trigger"].iloc[0] == "Watch renews 2026-12-01"


def test_metric_triggers_and_if_missing():
    m = model_with(
        [
            {
                "trigger": "metric_at_least",
                "metric": "days_since_exec_contact",
                "threshold": 180,
                "if_missing": "yes",
                "priority": 3,
                "label": "last {value}",
                "action": "Meet",
            },
            {
                "trigger": "metric_below",
                "metric": "login_days_14d",
                "threshold": 1,
                "priority": 2,
                "action": "Train",
            },
        ]
    )
    f = frame(score=[50.0, 50.0, 50.0])
    values = pd.DataFrame(
        {"days_since_exec_contact": [200.0, 20.0, np.nan], "login_days_14d": [0.0, 5.0, np.nan]}
    )
    a = evaluate(m, f, values, AS_OF)
    assert list(zip(a["alert"], a["customer_id"], strict=True)) == [
        ("metric_below", "C0"),
        ("metric_at_least", "C0"),
        ("metric_at_least", "C2"),
    ]
    assert a["trigger"].tolist()[1:] == ["last 200", "last none on record"]


def test_sorted_by_priority_then_due_then_score():
    m = model_with(
        [
            {
                "alert": "late",
                "trigger": "tier_at_most",
                "threshold": 3,
                "priority": 2,
                "due_days": 1,
                "action": "x",
            },
            {
                "alert": "early",
                "trigger": "tier_at_most",
                "threshold": 1,
                "priority": 1,
                "due_days": 9,
                "action": "y",
            },
        ]
    )
    f = frame(score=[30.0, 10.0], tier=pd.array([3, 1], dtype="Int64"))
    a = evaluate(m, f, pd.DataFrame(index=f.index), AS_OF)
    assert list(zip(a["alert"], a["customer_id"], strict=True)) == [
        ("early", "C1"),
        ("late", "C1"),
        ("late", "C0"),
    ]


def test_default_rules_in_japanese():
    tables = default_tables()
    tables["Settings"] = pd.DataFrame({"key": ["language"], "value": ["ja"]})
    m = model_from_tables(tables)
    f = frame(tier=pd.array([1], dtype="Int64"), tier_label=["危険"], score=[12.0])
    a = evaluate(m, f, pd.DataFrame({"login_days_14d": [0.0]}), AS_OF)
    assert "危険水準のヘルス（スコア12）" in a["trigger"].tolist()
    assert "主要ユーザーに連絡し、トレーニングを提案する" in a["action"].tolist()


def test_template_and_display_helpers():
    idx = pd.RangeIndex(2)
    out = fill_template(
        "{a} and {b} {{literal}} {unknown}",
        {"a": pd.Series(["x", "y"]), "b": pd.Series(["1", "2"])},
        idx,
    )
    assert out.tolist() == ["x and 1 {literal} {unknown}", "y and 2 {literal} {unknown}"]
    assert display(pd.Series([3.0, 2.5, np.nan])).tolist() == ["3", "2.5", "none on record"]
