"""Issue 23.4: every renewal decision is an observation (the ``Outcomes`` sheet).

A monthly subscription is decided again every month: the honest back-test scores each
decision as the customer stood ``backtest_lead_days`` before it, from the same rows, and
cross-validation keeps a customer's decisions on one side of every fold.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import AS_OF, make_model
from tests.test_backtest_honest import LOGIN_METRICS, LOGIN_RULES
from tests.workbooks import cell_values, cli
from xlhealth import run
from xlhealth.suggest import fit
from xlhealth.suggest.evidence import inputs_from_honest, outcome_groups, suggest

MONTHS = 6


def renewal_history(n: int = 150, seed: int = 3) -> tuple:
    """Customers renewing monthly for six months; engaged ones (more logins) stay longer.

    Returns the model, the sheets (Customers without outcomes, Logins, Outcomes).
    """
    rng = np.random.default_rng(seed)
    today = np.datetime64(AS_OF, "D")
    ids = np.array([f"C{i:04d}" for i in range(n)])
    rate = rng.gamma(2.0, 0.25, n)  # logins per day
    renewals = today - np.arange(MONTHS, 0, -1).astype("timedelta64[D]") * 30  # six months
    start = today - np.timedelta64(400, "D")
    rows, left = [], np.full(n, today)
    for i in range(n):
        for day in renewals:
            churn = rng.random() < 0.35 * np.exp(-2.0 * rate[i])
            rows.append((ids[i], "churned" if churn else "renewed", day))
            if churn:
                left[i] = day
                break
    outcomes = pd.DataFrame(rows, columns=["customer_id", "outcome", "outcome_date"])
    per = rng.poisson(rate * 400)
    who = np.repeat(np.arange(n), per)
    day = start + rng.integers(0, 400, who.size).astype("timedelta64[D]")
    keep = day <= left[who]
    logins = pd.DataFrame({"customer_id": ids[who][keep], "date": day[keep]})
    customers = pd.DataFrame({"customer_id": ids, "customer_name": [f"Co {i}" for i in ids]})
    model = make_model(LOGIN_METRICS, LOGIN_RULES, {"backtest_lead_days": 30})
    return model, {"Customers": customers, "Logins": logins, "Outcomes": outcomes}


@pytest.fixture(scope="module")
def history():
    model, sheets = renewal_history()
    return model, sheets, run(model, sheets, as_of=AS_OF)


def test_every_decision_is_one_observation(history):
    _, sheets, result = history
    frame = result.honest.frame
    outcomes = sheets["Outcomes"]
    assert len(frame) == len(outcomes) > result.honest.customers == len(sheets["Customers"])
    assert (frame["basis"] == "outcome_date").all() and (frame["sheet"] == "Outcomes").all()
    assert int(frame["churned"].sum()) == int((outcomes["outcome"] == "churned").sum())
    assert result.honest_backtest.customers == len(outcomes)  # the tier table counts decisions
    assert frame.groupby("customer_id").size().max() == MONTHS
    lead = np.timedelta64(30, "D")
    assert (frame["as_of"].to_numpy() == frame["outcome_date"].to_numpy() - lead).all()


def test_each_observation_scores_like_a_refresh_as_of_its_date(history):
    """Sampled decisions: the score equals a separate refresh as of outcome_date − lead."""
    model, sheets, result = history
    frame = result.honest.frame
    plain = {k: v for k, v in sheets.items() if k != "Outcomes"}
    rng = np.random.default_rng(1)
    for i in rng.choice(len(frame), 8, replace=False):
        row = frame.iloc[i]
        day = pd.Timestamp(row["as_of"]).date()
        alone = run(model, plain, as_of=day).summary.set_index("customer_id")
        assert row["score"] == pytest.approx(alone.loc[row["customer_id"], "score"])
        assert row["tier"] == alone.loc[row["customer_id"], "tier"]
        on_values = result.honest.values.loc[i, "login_days_30d"]
        assert on_values == alone_value(model, plain, day, row["customer_id"])


def alone_value(model, sheets, day, customer_id):
    result = run(model, sheets, as_of=day)
    return result.values.loc[customer_id, "login_days_30d"]


def test_suggest_uses_every_decision_and_folds_split_by_customer(history):
    model, _, result = history
    points, values, churned = inputs_from_honest(result.honest)
    groups = outcome_groups(result.honest)
    assert len(churned) == len(result.honest.frame) == len(groups)
    s = suggest(model, points, values, churned, min_outcomes=10, groups=groups, repeats=2)
    assert s.customers == len(churned) and s.distinct_customers == result.honest.customers
    for _, _, test in fit.stratified_folds(churned, 5, 2, 7, groups):
        assert not set(groups[test]) & set(groups[~test])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=10, max_size=120),
    st.integers(2, 6),
    st.integers(0, 10_000),
)
def test_grouped_folds_partition_customers(rows, folds, seed):
    """Every row is tested exactly once per repeat, no customer on both sides; without
    groups the folds are exactly the per-row ones they always were."""
    groups = np.array([g for g, _ in rows])
    churned = np.array([c for _, c in rows])
    splits = fit.stratified_folds(churned, folds, 2, seed, groups)
    for r in (1, 2):
        tests = [t for rr, _, t in splits if rr == r]
        assert (np.sum(tests, axis=0) == 1).all()
        for t in tests:
            assert not set(groups[t]) & set(groups[~t])
    plain = fit.stratified_folds(churned, folds, 2, seed)
    rowwise = fit.stratified_folds(churned, folds, 2, seed, np.arange(len(rows)))
    assert all((a[2] == b[2]).all() for a, b in zip(plain, rowwise, strict=True))


def test_both_sheets_for_one_customer_is_a_located_problem_never_counted_twice(history):
    model, sheets, _ = history
    customers = sheets["Customers"].copy()
    customers["outcome"] = None
    customers["outcome_date"] = None
    customers.loc[0, ["outcome", "outcome_date"]] = ["churned", pd.Timestamp("2026-01-15")]
    extra = pd.DataFrame(
        {"customer_id": ["Z1"], "customer_name": ["Only shortcut"], "outcome": ["renewed"],
         "outcome_date": [pd.Timestamp("2026-02-01")]}
    )  # fmt: skip
    both = {**sheets, "Customers": pd.concat([customers, extra], ignore_index=True)}
    result = run(model, both, as_of=AS_OF)
    frame = result.honest.frame
    first = customers.loc[0, "customer_id"]
    assert len(frame) == len(sheets["Outcomes"]) + 1  # Z1's shortcut, not C0000's
    assert (frame.loc[frame["customer_id"] == first, "sheet"] == "Outcomes").all()
    assert frame.loc[frame["customer_id"] == "Z1", "sheet"].tolist() == ["Customers"]
    (p,) = [p for p in result.problems if "also has" in p.message]
    assert p.sheet == "Customers" and p.column == "outcome" and p.row == 2
    assert str(p.customer_id) == first


def test_outcomes_rows_left_out_are_reported_where_they_are(history):
    model, sheets, _ = history
    rows = pd.DataFrame(
        {
            "customer_id": ["C0001", "C0001", "C0002", "C0003", "NOPE"],
            "outcome": ["renewed", "churned", "renewed", "churned", "renewed"],
            "outcome_date": [pd.Timestamp("2026-03-01")] * 2 + [None] * 1
            + [pd.Timestamp("2026-04-01"), pd.Timestamp("2026-04-01")],
        }
    )  # fmt: skip
    result = run(model, {**sheets, "Outcomes": rows}, as_of=AS_OF)
    frame = result.honest.frame
    assert frame["customer_id"].tolist() == ["C0001", "C0003"]  # the first of the clash
    assert frame["churned"].tolist() == [False, True]
    messages = {p.message.split(";")[0]: p for p in result.problems if p.sheet == "Outcomes"}
    clash = [p for m, p in messages.items() if "contradicts" in m]
    assert clash and clash[0].row == 3 and clash[0].column == "outcome"
    dateless = [p for m, p in messages.items() if "no outcome_date" in m]
    assert dateless and dateless[0].row == 4
    assert any(p.row == 6 for p in result.problems if p.sheet == "Outcomes")  # unknown ID


def salesforce_book(tmp_path: Path, lang: str) -> tuple[Path, int, int, int]:
    """A new book, its Customers and Logins filled in, an Opportunities report pasted
    into Outcomes as Salesforce writes it (English or Japanese UI)."""
    path = tmp_path / f"sf-{lang}.xlsx"
    assert cli("new", str(path), "--lang", lang)[0] == 0
    sheets = renewal_history(n=60, seed=5)[1]
    wb = openpyxl.load_workbook(path)
    for name in ("Customers", "Logins", "Outcomes"):
        ws = wb[name]
        ws.delete_rows(2, ws.max_row)
    cust = wb["Customers"]
    header = [c.value for c in cust[1]]
    for row in sheets["Customers"].itertuples():
        cells = [None] * len(header)
        cells[header.index("customer_id")] = row.customer_id
        cells[header.index("customer_name")] = row.customer_name
        cust.append(cells)
    logins = wb["Logins"]
    lh = [c.value for c in logins[1]]
    for row in sheets["Logins"].itertuples():
        cells = [None] * len(lh)
        cells[lh.index("customer_id")] = row.customer_id
        cells[lh.index("date")] = pd.Timestamp(row.date).to_pydatetime()
        logins.append(cells)
    ws = wb["Outcomes"]
    ws.delete_rows(1, ws.max_row)
    ws.delete_cols(1, ws.max_column)
    won, lost = ("成立", "不成立") if lang == "ja" else ("Closed Won", "Closed Lost")
    heads = (
        ["商談名", "取引先 ID", "フェーズ", "完了予定日", "金額"]
        if lang == "ja"
        else ["Opportunity Name", "Account ID", "Stage", "Close Date", "Amount"]
    )
    ws.append(heads)
    outcomes = sheets["Outcomes"]
    for k, row in enumerate(outcomes.itertuples()):
        stage = lost if row.outcome == "churned" else won
        ws.append([f"Renewal {k}", row.customer_id, stage,
                   pd.Timestamp(row.outcome_date).to_pydatetime(), 1200])  # fmt: skip
    ws.append(["Next renewal", "C0001", "Negotiation/Review", dt.datetime(2026, 7, 1), 1200])
    wb.save(path)
    churned = int((outcomes["outcome"] == "churned").sum())
    return path, len(outcomes), churned, int(outcomes["customer_id"].nunique())


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_salesforce_opportunities_report_pasted_into_outcomes(tmp_path, lang):
    """Stage Closed Won / Lost read as renewed / churned through the aliases; an open
    opportunity is no outcome yet; Checks counts decisions and customers."""
    book, n, churned, customers = salesforce_book(tmp_path, lang)
    code, out = cli("refresh", str(book), "--as-of", AS_OF.isoformat())
    assert code == 0, out
    assert "Outcomes" not in "".join(x for x in out.splitlines() if x.startswith("error"))
    lines = [" ".join(str(v) for v in row if v is not None)
             for row in cell_values(book, ["Checks"])["Checks"]]  # fmt: skip
    want = (
        f"{n:,} renewal decisions of {customers:,}"
        if lang == "en"
        else f"{customers:,}社の更新判断{n:,}件"
    )
    (line,) = [x for x in lines if want in x]
    assert (f"{churned:,} churned" if lang == "en" else f"解約{churned:,}件") in line
    mapping = [x for x in lines if "Outcomes" in x and "Salesforce" in x]
    assert len(mapping) == 3, mapping  # customer_id, outcome, outcome_date from the aliases


def test_outcome_words_in_english_japanese_and_salesforce_stages_are_read():
    """The reader maps the words (templates/outcome_values.csv); an open stage is no
    outcome yet and stays quiet; anything else is a located problem."""
    from xlhealth.core.problems import Problem
    from xlhealth.inputs.grid import sheet_from_grid

    said = ["更新", "解約", "Closed Won", "closed lost", " Renewed ", "成立", "不成立",
            "Prospecting", "maybe"]  # fmt: skip
    grid = [["customer_id", "outcome", "outcome_date"]]
    grid += [[f"C{i}", v, "2026-01-31"] for i, v in enumerate(said)]
    problems: list[Problem] = []
    sheet = sheet_from_grid("Outcomes", grid, problems)
    got = sheet.frame["outcome"].tolist()
    assert got == ["renewed", "churned", "renewed", "churned", "renewed", "renewed",
                   "churned", None, None]  # fmt: skip
    (p,) = problems
    assert p.sheet == "Outcomes" and p.row == 10 and p.value == "maybe"
