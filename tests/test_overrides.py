"""Overrides: a CSM's judgement with an expiry, beside the computed score (core.overrides)."""

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.workbooks import cli, libreoffice_roundtrip, sheet_frame
from xlhealth import default_model, run
from xlhealth.core.config import default_tables, model_from_tables
from xlhealth.core.engine import SUMMARY_COLUMNS
from xlhealth.core.overrides import Overrides, expired_rows, tier_choices, tier_of
from xlhealth.demo import data as demo_data
from xlhealth.sheets.template import new_workbook

AS_OF = dt.date(2026, 11, 20)


def d(days_from_now: int) -> str:
    return (pd.Timestamp(AS_OF) + pd.Timedelta(days=days_from_now)).date().isoformat()


@pytest.fixture
def sheets() -> dict[str, pd.DataFrame]:
    """ACME scores high (daily logins), BETA and GAMMA score low; all renew within 90 days."""
    customers = pd.DataFrame(
        {
            "customer_id": ["ACME", "BETA", "GAMMA", "DELTA"],
            "customer_name": ["Acme", "Beta", "Gamma", "Delta"],
            "segment": ["Enterprise", "SMB", "SMB", "SMB"],
            "owner": ["kim", "lee", "lee", "kim"],
            "seats": [10, 10, 4, 4],
            "renewal_date": [d(30), d(40), d(50), d(200)],
            "outcome": [None, None, None, None],
        }
    )
    logins = pd.DataFrame(
        {
            "customer_id": ["acme"] * 14,
            "user_id": [f"u{i}" for i in range(14)],
            "date": [d(-i) for i in range(14)],
        }
    )
    surveys = pd.DataFrame({"customer_id": ["ACME"], "date": [d(-10)], "nps": [10]})
    return {"Customers": customers, "Logins": logins, "Surveys": surveys}


def overrides(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(
        list(rows), columns=["customer_id", "score", "tier", "reason", "by", "until"]
    )


def tier_model(threshold: int = 2):
    """Only the tier rules: tier at most ``threshold`` (and with a renewal inside 90 days)."""
    tables = default_tables()
    tables["Alerts"] = pd.DataFrame(
        [
            {"alert": "weak", "trigger": "tier_at_most", "threshold": threshold,
             "label": "{tier_label} (score {score})", "action": "Call", "priority": 2,
             "due_days": 7},
            {"alert": "renewal", "trigger": "tier_renewal", "threshold": threshold, "days": 90,
             "label": "{tier_label} with renewal on {renewal_date}", "action": "Rescue",
             "priority": 1, "due_days": 7},
        ]
    )  # fmt: skip
    return model_from_tables(tables)


def test_active_through_until_then_expired(sheets):
    sheets["Overrides"] = overrides(
        {"customer_id": "BETA", "tier": 4, "reason": "Renewing early", "by": "Ken", "until": d(0)},
        {"customer_id": "GAMMA", "score": 70, "reason": "Data gap", "until": d(-1)},
    )
    r = run(default_model(), sheets, as_of=AS_OF)
    s = r.summary.set_index("customer_id")
    assert s.loc["BETA", "override"] == "✎ Healthy"  # until = as_of: still active
    assert s.loc["BETA", "override_reason"] == "Renewing early — Ken, until 2026-11-20"
    assert pd.isna(s.loc["GAMMA", "override"])  # until passed: ignored
    assert r.overrides.expired["customer_id"].tolist() == ["GAMMA"]
    assert r.overrides.expired["row"].tolist() == [3]
    # the next day BETA's expires too
    later = run(default_model(), sheets, as_of=AS_OF + dt.timedelta(days=1))
    assert later.summary["override"].isna().all()
    assert sorted(later.overrides.expired["customer_id"]) == ["BETA", "GAMMA"]


def test_summary_shows_override_beside_the_computed_score(sheets):
    at = SUMMARY_COLUMNS.index("tier_label")
    assert SUMMARY_COLUMNS[at + 1 : at + 3] == ["override", "override_reason"]
    sheets["Overrides"] = overrides(
        {"customer_id": "acme", "tier": "At risk", "reason": "Sponsor left", "until": d(30)},
        {"customer_id": "BETA", "score": "65", "reason": "SSO logins missing", "by": "Lee",
         "until": d(10)},
    )  # fmt: skip
    r = run(default_model(), sheets, as_of=AS_OF)
    s = r.summary.set_index("customer_id")
    assert s.loc["ACME", "tier"] == 5 and s.loc["ACME", "override"] == "✎ At risk"
    assert s.loc["ACME", "override_reason"] == "Sponsor left — until 2026-12-20"
    assert s.loc["BETA", "override"] == "✎ 65.0 Healthy"
    assert s.loc["BETA", "override_score"] == 65 and s.loc["BETA", "override_tier"] == 4
    assert s.loc["BETA", "effective_tier"] == 4 and s.loc["GAMMA", "effective_tier"] == 1
    assert pd.isna(s.loc["GAMMA", "override"]) and pd.isna(s.loc["GAMMA", "override_tier"])


def test_ja_labels_and_reason():
    tables = default_tables()
    tables["Settings"].loc[tables["Settings"]["key"] == "language", "value"] = "ja"
    model = model_from_tables(tables)
    customers = pd.DataFrame({"customer_id": ["A"], "customer_name": ["株式会社A"]})
    ov = overrides(
        {
            "customer_id": "A",
            "tier": "2 要注意",
            "reason": "役員が退職",
            "by": "佐藤",
            "until": d(5),
        }
    )
    r = run(model, {"Customers": customers, "Overrides": ov}, as_of=AS_OF)
    assert r.summary.loc[0, "override"] == "✎ 要注意"
    assert r.summary.loc[0, "override_reason"] == "役員が退職（佐藤、2026-11-25まで）"


def test_score_tier_history_segments_and_backtests_stay_computed(sheets):
    sheets["Customers"] = sheets["Customers"].assign(
        outcome=["renewed", "churned", "churned", "renewed"],
        outcome_date=[d(-100), d(-120), d(-150), d(-90)],
    )
    plain = run(default_model(), sheets, as_of=AS_OF)
    sheets["Overrides"] = overrides(
        {"customer_id": "ACME", "tier": 1, "reason": "x", "until": d(30)},
        {"customer_id": "BETA", "score": 95, "reason": "y", "until": d(30)},
        {"customer_id": "GAMMA", "tier": 5, "reason": "z", "until": d(30)},
    )
    over = run(default_model(), sheets, as_of=AS_OF)
    assert over.summary["override"].notna().sum() == 3
    for column in ("score", "tier", "tier_label", "score_change", "quadrant", "decision"):
        pd.testing.assert_series_equal(plain.summary[column], over.summary[column])
    pd.testing.assert_frame_equal(plain.history_rows, over.history_rows)
    pd.testing.assert_frame_equal(plain.segments, over.segments)
    assert plain.backtest is not None
    pd.testing.assert_frame_equal(plain.backtest.by_tier, over.backtest.by_tier)
    assert plain.backtest.auc == over.backtest.auc
    if getattr(plain, "honest", None) is not None:  # the honest back-test, once it exists
        pd.testing.assert_frame_equal(plain.honest.frame, over.honest.frame)


def test_actions_use_the_overridden_tier_and_say_so(sheets):
    model = tier_model(threshold=2)
    plain = run(model, sheets, as_of=AS_OF)
    fired = set(zip(plain.actions["customer_id"], plain.actions["alert"], strict=True))
    assert ("BETA", "weak") in fired and ("ACME", "weak") not in fired
    sheets["Overrides"] = overrides(
        # computed Champion, judged At risk: the tier rules fire, marked as an override
        {"customer_id": "ACME", "tier": 2, "reason": "Sponsor left", "by": "Ken", "until": d(9)},
        # computed Critical, judged Healthy: they do not
        {"customer_id": "BETA", "tier": "Healthy", "reason": "Renewed early", "until": d(9)},
    )
    r = run(model, sheets, as_of=AS_OF)
    a = r.actions.set_index(["customer_id", "alert"])
    assert ("ACME", "weak") in a.index and ("ACME", "renewal") in a.index
    assert ("BETA", "weak") not in a.index and ("BETA", "renewal") not in a.index
    acme = a.loc[("ACME", "renewal")]
    assert acme["tier"] == 2  # the tier the rule read
    assert acme["score"] == r.summary.set_index("customer_id").loc["ACME", "score"]  # computed
    assert acme["trigger"] == "At risk with renewal on 2026-12-20 (override by Ken)"
    gamma = a.loc[("GAMMA", "weak")]  # no override: unchanged, unmarked
    assert "override" not in gamma["trigger"] and gamma["tier"] == 1


def test_override_marks_only_tier_rules(sheets):
    tables = default_tables()  # the default Alerts: score drop, metric rules and tier rules
    model = model_from_tables(tables)
    sheets["Overrides"] = overrides(
        {"customer_id": "ACME", "tier": 1, "reason": "r", "until": d(9)}
    )
    r = run(model, sheets, as_of=AS_OF)
    acme = r.actions[r.actions["customer_id"] == "ACME"].set_index("alert")
    assert acme.loc["critical_health", "trigger"].endswith("(override)")
    assert acme.loc["renewal_at_risk", "trigger"].endswith("(override)")
    others = acme.drop(index=["critical_health", "renewal_at_risk"])
    assert not others["trigger"].str.contains("override").any()


def problems_of(r) -> list:
    return [p for p in r.problems if p.sheet == "Overrides"]


def test_located_problems_and_what_is_ignored(sheets):
    sheets["Overrides"] = overrides(
        {"customer_id": "NOPE", "tier": 2, "reason": "r", "until": d(5)},  # row 2
        {"customer_id": "BETA", "tier": "Gold", "reason": "r", "until": d(5)},  # row 3
        {"customer_id": "BETA", "score": 150, "reason": "r", "until": d(5)},  # row 4
        {"customer_id": "BETA", "tier": 4, "reason": "r", "until": None},  # row 5
        {"customer_id": "BETA", "tier": 4, "reason": "r", "until": "next week"},  # row 6
        {"customer_id": "BETA", "score": 30, "tier": 4, "reason": "r", "until": d(5)},  # row 7
        {"customer_id": "BETA", "reason": "r", "until": d(5)},  # row 8
        {"customer_id": "BETA", "score": "abc", "reason": "r", "until": d(5)},  # row 9
        {"customer_id": "BETA", "tier": 7, "reason": "r", "until": d(5)},  # row 10
        {"customer_id": "GAMMA", "tier": 3, "reason": "first", "until": d(5)},  # row 11
        {"customer_id": "GAMMA", "tier": 4, "reason": "second", "until": d(8)},  # row 12
        {"customer_id": "DELTA", "tier": 2, "reason": None, "until": d(5)},  # row 13
        {"customer_id": None, "tier": 2, "reason": "r", "until": d(5)},  # row 14
    )
    r = run(default_model(), sheets, as_of=AS_OF)
    found = {(p.row, p.column): p for p in problems_of(r)}
    assert set(found) == {
        (2, "customer_id"),
        (3, "tier"),
        (4, "score"),
        (5, "until"),
        (6, "until"),
        (7, "tier"),
        (8, "score"),
        (9, "score"),
        (10, "tier"),
        (11, "customer_id"),
        (13, "reason"),
        (14, "customer_id"),
    }
    assert "unknown customer" in found[(2, "customer_id")].message
    assert found[(3, "tier")].value == "Gold" and "unknown tier" in found[(3, "tier")].message
    assert "between 0 and 100" in found[(4, "score")].message
    assert "needs an expiry date" in found[(5, "until")].message
    assert "not a date" in found[(6, "until")].message
    assert "does not match score 30" in found[(7, "tier")].message
    assert "give a score" in found[(8, "score")].message
    assert "row 12" in found[(11, "customer_id")].message
    assert found[(11, "customer_id")].customer_id == "GAMMA"
    assert "applied" in found[(13, "reason")].message
    assert all(not p.blocking for p in found.values())
    for key, p in found.items():
        if key != (13, "reason") and key[1] != "customer_id":
            assert "ignored" in p.message, p
    s = r.summary.set_index("customer_id")
    assert pd.isna(s.loc["BETA", "override"])  # every BETA row was bad
    assert s.loc["GAMMA", "override"] == "✎ Healthy"  # the lower of two active rows
    assert s.loc["DELTA", "override"] == "✎ At risk"  # blank reason: applied, reported
    assert "(no reason given)" in s.loc["DELTA", "override_reason"]
    assert r.overrides.active["row"].tolist() == [12, 13]


def test_missing_columns_are_one_problem():
    customers = pd.DataFrame({"customer_id": ["A"]})
    ov = pd.DataFrame({"customer_id": ["A"], "tier": [2], "reason": ["r"]})
    r = run(default_model(), {"Customers": customers, "Overrides": ov}, as_of=AS_OF)
    (p,) = problems_of(r)
    assert p.row == 1 and p.column == "until" and "missing" in p.message
    assert r.summary["override"].isna().all()
    ov = pd.DataFrame({"customer_id": ["A"], "until": [d(3)]})
    r = run(default_model(), {"Customers": customers, "Overrides": ov}, as_of=AS_OF)
    assert [p.column for p in problems_of(r)] == ["score"]


def test_empty_or_absent_sheet_changes_nothing(sheets):
    plain = run(default_model(), sheets, as_of=AS_OF)
    empty = run(default_model(), {**sheets, "Overrides": overrides()}, as_of=AS_OF)
    assert plain.summary["override"].isna().all() and empty.summary["override"].isna().all()
    assert not problems_of(empty) and empty.overrides.expired.empty
    pd.testing.assert_frame_equal(plain.actions, empty.actions)


@pytest.mark.parametrize(
    ("value", "tier"),
    [
        (2, 2), (2.0, 2), ("2", 2), ("２", 2), ("At risk", 2), (" at  RISK ", 2), ("要注意", 2),
        ("2 At risk", 2), ("2 要注意", 2), ("5 Champion", 5), (np.int64(3), 3),
        ("3 At risk", None), (0, None), (6, None), (2.5, None), (True, None), ("Gold", None),
        ("", None), (None, None), (dt.date(2026, 1, 2), None),
    ],
)  # fmt: skip
def test_tier_forms(value, tier):
    assert tier_of(value, default_model()) == tier


def test_tier_drop_down_texts():
    assert tier_choices(default_model(), "en") == [
        "5 Champion", "4 Healthy", "3 Watch", "2 At risk", "1 Critical",
    ]  # fmt: skip
    model = default_model()
    assert all(tier_of(text, model) for text in tier_choices(model, "ja"))


def test_expired_rows_follow_the_customers_shown():
    """An owner's export shows the expired overrides of that owner's customers only."""
    expired = pd.DataFrame(
        {
            "pos": [0, 1],
            "customer_id": ["A", "B"],
            "score": [np.nan, 40.0],
            "tier": [2, 2],
            "reason": ["r", "s"],
            "by": ["", "Ken"],
            "until": pd.to_datetime(["2026-10-01", "2026-10-02"]),
            "row": [2, 3],
        }
    )
    chosen = Overrides(expired.iloc[:0], expired)
    summary = pd.DataFrame({"customer_id": ["B"], "customer_name": ["Bee"]})
    rows = expired_rows(chosen, summary, default_model())
    assert rows[["customer_id", "customer_name", "override", "by", "row"]].values.tolist() == [
        ["B", "Bee", "✎ 40.0 At risk", "Ken", 3]
    ]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_demo_has_overrides_one_expired(lang):
    sheets = demo_data.generate(200, lang)
    ov = sheets["Overrides"]
    assert 3 <= len(ov) <= 5
    japanese = ov["reason"].str.contains("[ぁ-んァ-ン一-龥]")
    assert japanese.all() if lang == "ja" else not japanese.any()
    r = run(default_model(), sheets, as_of=demo_data.AS_OF)
    assert not problems_of(r)
    assert r.summary["override"].notna().sum() == len(ov) - 1
    assert len(r.overrides.expired) == 1
    # the "down" override of a healthy account renewing soon raises a renewal action
    marked = r.actions[r.actions["trigger"].str.contains("override")]
    assert len(marked) >= 1


# ----------------------------------------------------------------------------- workbooks


def write_overrides(path: Path, rows: list[list]) -> None:
    """Type rows into the Overrides sheet of a workbook, as a CSM would in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Overrides"]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
    wb.save(path)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Path:
    """A new book with customers, logins and typed overrides, refreshed through the CLI."""
    path = tmp_path_factory.mktemp("overrides") / "book.xlsx"
    customers = pd.DataFrame(
        {
            "customer_id": ["ACME", "BETA", "GAMMA"],
            "customer_name": ["Acme", "Beta", "Gamma"],
            "owner": ["kim", "lee", "lee"],
            "seats": [10, 10, 4],
            "renewal_date": pd.to_datetime([d(30), d(40), d(300)]),
        }
    )
    logins = pd.DataFrame(
        {
            "customer_id": ["ACME"] * 14,
            "user_id": [f"u{i}" for i in range(14)],
            "date": pd.to_datetime([d(-i) for i in range(14)]),
        }
    )
    new_workbook(path, inputs={"Customers": customers, "Logins": logins})
    header = [c.value for c in openpyxl.load_workbook(path)["Overrides"][1]]
    assert header == ["customer_id", "score", "tier", "reason", "by", "until"]
    write_overrides(
        path,
        [
            ["ACME", None, "2 At risk", "Sponsor left", "Ken", dt.datetime(2026, 12, 31)],
            ["beta", 72, None, "Logins missing since SSO", "Lee", "2026/12/15"],
            ["GAMMA", None, "Watch", "Pilot", "Lee", dt.datetime(2026, 11, 1)],
            ["GAMMA", None, "Platinum", "typo", "Lee", dt.datetime(2026, 12, 1)],
        ],
    )
    code, out = cli("refresh", str(path), "--as-of", AS_OF.isoformat())
    assert code == 0, out
    return path


def test_refresh_writes_overrides_on_summary_actions_and_checks(refreshed):
    summary = sheet_frame(refreshed, "Summary").set_index("customer_id")
    assert summary.loc["ACME", "override"] == "✎ At risk"
    assert summary.loc["ACME", "override_reason"] == "Sponsor left — Ken, until 2026-12-31"
    assert summary.loc["BETA", "override"] == "✎ 72.0 Healthy"
    assert summary["tier"].astype(float).tolist() == [4, 1, 1]  # computed, unchanged
    history = sheet_frame(refreshed, "History")
    assert history["tier"].astype(float).tolist() == [4, 1, 1]
    actions = sheet_frame(refreshed, "Actions")
    acme = actions[actions["customer_id"] == "ACME"]
    assert acme["trigger"].str.endswith("(override by Ken)").any()
    assert acme["tier"].astype(float).eq(2).all()
    beta = actions[actions["customer_id"] == "BETA"]  # judged Healthy: no tier actions
    assert not beta["trigger"].str.contains("Critical|renewal").any()
    wb = openpyxl.load_workbook(refreshed, read_only=True)
    checks = [[c for c in row if c is not None] for row in wb["Checks"].iter_rows(values_only=True)]
    text = "\n".join(" | ".join(map(str, row)) for row in checks)
    assert "Overrides: a CSM's judgement with an expiry" in text
    assert "2 active as of 2026-11-20" in text
    assert "GAMMA | Gamma | ✎ Watch | Pilot | Lee" in text  # the expired one, listed
    problem = [row for row in checks if "Overrides" in row and "C5" in row]
    assert problem and "'Platinum'" in problem[0] and "unknown tier" in problem[0][-1]


def test_check_prints_located_override_problems(refreshed):
    code, out = cli("check", str(refreshed), "--as-of", AS_OF.isoformat())
    assert code == 0, out
    assert "Overrides!C5, row 5, column tier, customer GAMMA ('Platinum'): unknown tier" in out


def test_new_book_has_an_overrides_sheet_with_a_tier_drop_down(tmp_path):
    path = tmp_path / "new.xlsx"
    assert cli("new", str(path), "--lang", "ja")[0] == 0
    ws = openpyxl.load_workbook(path)["Overrides"]
    assert [c.value for c in ws[1]] == ["customer_id", "score", "tier", "reason", "by", "until"]
    rules = {str(v.sqref).split(":")[0]: v for v in ws.data_validations.dataValidation}
    tier = rules["C2"]
    assert tier.type == "list" and "2 要注意" in tier.formula1 and not tier.showErrorMessage
    assert rules["B2"].type == "decimal" and rules["F2"].type == "date"
    assert "期限" in rules["F2"].prompt


def test_macro_workbook_has_the_overrides_sheet(tmp_path):
    from xlhealth.excel.build import build_workbook

    built = build_workbook(tmp_path / "HealthScore.xlsm")
    wb = openpyxl.load_workbook(built, keep_vba=True)
    names = wb.sheetnames
    assert names.index("Overrides") == names.index("Maturity") + 1
    assert [c.value for c in wb["Overrides"][1]][:3] == ["customer_id", "score", "tier"]
    assert wb["Overrides"].data_validations.dataValidation


@pytest.mark.libreoffice
def test_libreoffice_reads_the_refreshed_book_alike(refreshed, tmp_path):
    theirs = libreoffice_roundtrip(refreshed, tmp_path)
    for sheet in ("Summary", "Actions"):
        ours, lo = sheet_frame(refreshed, sheet), sheet_frame(theirs, sheet)
        assert list(lo.columns) == list(ours.columns)
        for column in ("customer_id", "override", "override_reason", "trigger"):
            if column in ours.columns:
                assert lo[column].fillna("").astype(str).tolist() == (
                    ours[column].fillna("").astype(str).tolist()
                ), (sheet, column)
        np.testing.assert_allclose(
            pd.to_numeric(lo["score"]).to_numpy(float),
            pd.to_numeric(ours["score"]).to_numpy(float),
            equal_nan=True,
        )
