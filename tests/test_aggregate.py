"""Aggregation of event tables into per-customer values, as of a date."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.conftest import AS_OF, customers
from xlhealth.core.aggregate import aggregate
from xlhealth.core.config import model_from_tables
from xlhealth.inputs.matching import prepare_customers

NO_ALERTS = pd.DataFrame(columns=["trigger", "action", "priority"])
EMPTY_RULES = pd.DataFrame(columns=["metric", "points"])


def values_of(
    metrics: list[dict], sheets: dict, cust: pd.DataFrame | None = None, as_of: dt.date = AS_OF
):
    model = model_from_tables(
        {"Metrics": pd.DataFrame(metrics), "Rules": EMPTY_RULES, "Alerts": NO_ALERTS}
    )
    c = prepare_customers(cust if cust is not None else customers(["A", "B", "C"]))
    return aggregate(model, c, sheets, as_of)


def metric(name: str, aggregate: str, source: str = "Logins", **extra) -> dict:
    return {"metric": name, "group": "Adoption", "source": source, "aggregate": aggregate, **extra}


def d(days_ago: int) -> pd.Timestamp:
    return pd.Timestamp(AS_OF) - pd.Timedelta(days=days_ago)


LOGINS = pd.DataFrame(
    {
        "customer_id": ["A", "A", "A", "a ", "B", "B", "Ｂ"],
        "user_id": ["u1", "u2", "u1", "u1", "x", "x", "y"],
        "date": [d(0), d(0), d(3), d(20), d(6), d(7), d(-1)],  # the last one is after as_of
    }
)


def test_count_distinct_active_days_with_windows():
    agg = values_of(
        [
            metric("n_all", "count"),
            metric("n_7", "count", window_days=7),
            metric("users_7", "distinct", column="user_id", window_days=7),
            metric("days_30", "active_days", window_days=30),
        ],
        {"Logins": LOGINS},
    )
    v = agg.values
    assert v["n_all"].tolist() == [4, 2, 0]  # future login of B excluded; C has no rows -> 0
    # window 7: as_of-7 < date <= as_of: d(7) is out, d(6) is in
    assert v["n_7"].tolist() == [3, 1, 0]
    assert v["users_7"].tolist() == [2, 1, 0]
    assert v["days_30"].tolist() == [3, 2, 0]


def test_sum_mean_min_max_latest_and_empty_semantics():
    surveys = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "B"],
            "date": [d(30), d(2), d(10), d(400)],
            "nps": [6, 9, 10, "n/a"],
        }
    )
    agg = values_of(
        [
            metric(name, name, "Surveys", column="nps")
            for name in ("sum", "mean", "min", "max", "latest")
        ],
        {"Surveys": surveys},
    )
    v = agg.values
    assert v["sum"].tolist() == [15, 10, 0]  # over no rows: sum is 0
    assert v["mean"].tolist()[:2] == [7.5, 10] and np.isnan(v["mean"].iloc[2])
    assert v["min"].tolist()[:2] == [6, 10] and np.isnan(v["min"].iloc[2])
    assert v["max"].tolist()[:2] == [9, 10]
    assert v["latest"].tolist()[:2] == [9, 10] and np.isnan(v["latest"].iloc[2])
    bad = [p for p in agg.problems if p.column == "nps"]
    assert len(bad) == 1 and bad[0].row == 5 and bad[0].value == "n/a"


def test_latest_same_day_takes_the_lower_row():
    surveys = pd.DataFrame({"customer_id": ["A", "A"], "date": [d(1), d(1)], "nps": [3, 8]})
    v = values_of([metric("nps", "latest", "Surveys", column="nps")], {"Surveys": surveys}).values
    assert v["nps"].iloc[0] == 8


def test_days_since_with_filter_and_empty_is_missing():
    contacts = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "date": [d(10), d(100), d(5), d(1)],
            "role": ["User", " Executive ", "user", "CEO"],
        }
    )
    agg = values_of(
        [
            metric("exec", "days_since", "Contacts", filter="role=executive"),
            metric("exec_or_ceo", "days_since", "Contacts", filter="role in executive, ceo"),
            metric("any", "days_since", "Contacts"),
        ],
        {"Contacts": contacts},
    )
    v = agg.values
    assert v["exec"].iloc[0] == 100 and np.isnan(v["exec"].iloc[1]) and np.isnan(v["exec"].iloc[2])
    assert v["exec_or_ceo"].iloc[2] == 1
    assert v["any"].tolist() == [10, 5, 1]


def test_overdue_count():
    onboarding = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B"],
            "step": ["kickoff", "sso", "training", "kickoff", "sso"],
            "standard_days": [7, 14, 30, 7, 7],
            "started": [d(10), d(20), d(5), d(8), None],
            "completed": [None, d(1), None, d(-2), None],  # B's kickoff completes after as_of
        }
    )
    v = values_of(
        [metric("late", "overdue_count", "Onboarding")], {"Onboarding": onboarding}
    ).values
    # A: kickoff open 10 > 7 days; sso completed; training 5 < 30. B: kickoff open at as_of 8 > 7
    assert v["late"].tolist() == [1, 1, 0]


def test_value_and_ratio():
    usage = pd.DataFrame({"customer_id": ["A", "B", "C"], "active": [5, 0, 3]})
    cust = customers(["A", "B", "C"], seats=[10, 0, None])
    v = values_of(
        [
            metric("active", "value", "Usage", column="active"),
            metric("seats", "value", "Customers", column="seats"),
            metric("rate", "ratio", "", column="active/seats"),
        ],
        {"Usage": usage},
        cust,
    ).values
    assert v["rate"].iloc[0] == 0.5
    assert np.isnan(v["rate"].iloc[1]) and np.isnan(v["rate"].iloc[2])  # 0 or blank seats


def test_ids_are_normalised_and_emails_map_through_domains():
    cust = customers(["ACME-1", "beta-2"], email_domain=["acme.co.jp", "@Beta.io"])
    support = pd.DataFrame(
        {
            "customer_id": [" acme-1", "ＡＣＭＥ－1", None, None, "zzz", None],
            "email": [None, None, "Taro@ACME.co.jp", "x@beta.io", None, "q@nowhere.org"],
            "opened": [d(1)] * 6,
        }
    )
    agg = values_of([metric("tickets", "count", "Support")], {"Support": support}, cust)
    assert agg.values["tickets"].tolist() == [3, 1]
    unknown = {(p.column, p.value) for p in agg.problems}
    assert ("customer_id", "zzz") in unknown and ("email", "q@nowhere.org") in unknown


def test_unknown_ids_are_grouped_one_line_each():
    logins = pd.DataFrame({"customer_id": ["X"] * 5 + ["Y"], "user_id": "u", "date": d(1)})
    agg = values_of([metric("n", "count")], {"Logins": logins})
    lines = [str(p) for p in agg.problems]
    assert len(lines) == 2
    assert lines[0] == (
        "Logins, row 2, column customer_id ('X'): unknown customer (and 4 more "
        "rows); add it to Customers or fix it — these rows are ignored"
    )


def test_absent_sheet_or_column_makes_metric_unavailable():
    agg = values_of(
        [metric("n", "count", window_days=7), metric("avg", "mean", "Logins", column="minutes")],
        {"Logins": LOGINS.iloc[:0].drop(columns="date")},
    )
    assert set(agg.unavailable) == {"avg", "n"}
    agg = values_of([metric("n", "count", "Nowhere")], {})
    assert "absent" in agg.unavailable["n"]
    assert "n" not in agg.values.columns


def test_text_dates_are_parsed_and_bad_ones_located():
    logins = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "user_id": "u",
            "date": ["2026-11-19", "yesterday", "2026/11/18"],
        }
    )
    agg = values_of([metric("n", "count", window_days=30)], {"Logins": logins})
    assert agg.values["n"].tolist() == [1, 1, 0]
    bad = [p for p in agg.problems if p.column == "date"]
    assert bad and bad[0].row == 3 and bad[0].value == "yesterday"


def test_duplicate_and_blank_customers_are_reported():
    cust = customers(["A", " Ａ", None, "B"], customer_name=["x", "y", "z", "w"])
    c = prepare_customers(cust)
    assert list(c.keys) == ["a", "b"]  # width and spaces fold; case-only variants would not
    assert [(p.row, p.column) for p in c.problems] == [(4, "customer_id"), (3, "customer_id")]


@pytest.mark.parametrize("window", [1, 14, 365])
def test_window_boundary_is_exclusive_at_start_inclusive_at_end(window):
    logins = pd.DataFrame(
        {"customer_id": "A", "user_id": "u", "date": [d(0), d(window - 1), d(window)]}
    )
    v = values_of([metric("n", "count", window_days=window)], {"Logins": logins}).values
    assert v["n"].iloc[0] == 2


def test_metric_columns_read_numbers_and_dates_as_exports_write_them():
    usage = pd.DataFrame(
        {"customer_id": ["A", "B", "C"], "spend": ["¥1,200", True, "85%"],
         "last_seen": ["2026/11/19 8:07", "1789000000", "19 Nov 2026"]}
    )  # fmt: skip
    got = values_of(
        [
            metric("spend", "value", "Usage", column="spend"),
            metric("seen", "days_since", "Usage", column="last_seen"),
        ],
        {"Usage": usage},
    ).values
    assert got["spend"].tolist() == [1200.0, 1.0, 0.85]
    assert got["seen"].tolist() == [1.0, (AS_OF - dt.date(2026, 9, 10)).days, 1.0]
