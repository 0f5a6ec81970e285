"""Suggestions: evidence per metric, fitted weights, cut points, the sheet and --apply.

The fit is checked where the answer is known (generated customers whose churn depends
on a weighted score with known weights), on a real public table (tests/data/churn),
against an independent AUC (pairs counted one by one), and at the minimum of outcomes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, band, churn_model, make_model, usage_metric
from tests.workbooks import cli, part_bytes
from xlhealth.book.read import read_workbook
from xlhealth.core import scoring
from xlhealth.core.config import default_tables
from xlhealth.sheets.suggestions import headline
from xlhealth.suggest import fit as fit
from xlhealth.suggest.evidence import suggest
from xlhealth.suggest_book import suggest_book
from xlhealth.xlsx.cells import CellError, set_numbers
from xlhealth.xlsx.package import Package

TRUE_WEIGHTS = (4.0, 2.0, 1.0, 0.3)


def generated(n=2000, true=TRUE_WEIGHTS, seed=1, skip=0.2, lang="en"):
    """Customers whose churn probability falls with a score built from ``true`` weights.

    Four metrics with bands 0/5/10; all but the first are missing (skipped) for ``skip``
    of the customers, so the score is a ratio, not a linear model of the points.
    """
    rng = np.random.default_rng(seed)
    names = [f"m{i}" for i in range(len(true))]
    model = make_model(
        [usage_metric(nm, weight=1) for nm in names],
        [
            b
            for nm in names
            for b in (band(nm, None, 1, 0), band(nm, 1, 2, 5), band(nm, 2, None, 10))
        ],
        {"language": lang},
    )
    values = pd.DataFrame({nm: rng.integers(0, 3, n).astype(float) for nm in names})
    for nm in names[1:]:
        values.loc[rng.random(n) < skip, nm] = np.nan
    points = scoring.band_points(model, values).points
    truth = [
        dataclasses.replace(m, weight=w) for m, w in zip(model.scored_metrics, true, strict=True)
    ]
    score = scoring.weighted_score(points, truth)
    churned = rng.random(n) < 1 / (1 + np.exp(-(2.5 - 6 * score / 100)))
    return model, points, values, churned


def pair_count_auc(score, churned) -> float:
    """P(renewed scores above churned), ties ½, by comparing every pair (no ranks)."""
    score = np.asarray(score, dtype=float)
    churned = np.asarray(churned, dtype=bool)
    keep = ~np.isnan(score)
    renewed, lost = score[keep & ~churned], score[keep & churned]
    wins = (renewed[:, None] > lost[None, :]).sum()
    ties = (renewed[:, None] == lost[None, :]).sum()
    return (wins + 0.5 * ties) / (len(renewed) * len(lost))


@pytest.fixture(scope="module")
def known():
    model, points, values, churned = generated()
    return model, points, values, churned, suggest(model, points, values, churned)


# ----------------------------------------------------------------------------- the numbers


def test_product_score_is_the_workbook_score():
    rng = np.random.default_rng(7)
    model = make_model(
        [usage_metric("a"), usage_metric("b"), usage_metric("pen")],
        [
            band("a", None, 1, 0),
            band("a", 1, None, 10),
            band("b", None, 5, 2),
            band("b", 5, None, 20),
            band("pen", None, 1, 0),
            band("pen", 1, None, -8),  # a penalty: lowers the score, adds nothing possible
        ],
    )
    values = pd.DataFrame(rng.integers(0, 8, (500, 3)).astype(float), columns=["a", "b", "pen"])
    values[rng.random((500, 3)) < 0.3] = np.nan
    points = scoring.band_points(model, values).points
    metrics = model.scored_metrics
    design = fit.Design.from_points(points.to_numpy(), np.array([m.max_points for m in metrics]))
    for w in ([1, 1, 1], [0.3, 2.5, 1.7], [0, 1, 3], [2, 0, 0]):
        chosen = [dataclasses.replace(m, weight=x) for m, x in zip(metrics, w, strict=True)]
        expected = scoring.weighted_score(points, chosen)
        np.testing.assert_array_equal(fit.product_score(design, np.array(w, float)), expected)


def test_swapping_one_metric_scores_like_the_workbook():
    model, points, _, _ = generated(n=3000)
    mx = np.array([m.max_points for m in model.scored_metrics])
    design = fit.Design.from_points(points.to_numpy(), mx)
    w = np.array([0.7, 1.3, 2.0, 0.0])
    parts = fit.Parts.of(design, w)
    rng = np.random.default_rng(2)
    for j in range(4):
        new = rng.choice([0.0, 3.0, 8.0, np.nan], len(points))
        expected = fit.product_score(design.with_column(j, new, 8.0), w)
        np.testing.assert_array_equal(parts.with_column(j, new, 8.0), expected)


def test_auc_equals_an_independent_pair_count():
    rng = np.random.default_rng(3)
    score = rng.integers(0, 20, 700).astype(float)  # many ties
    score[rng.random(700) < 0.1] = np.nan  # blank scores are left out
    churned = rng.random(700) < 0.3
    assert fit.auc(score, churned) == pytest.approx(pair_count_auc(score, churned), abs=1e-12)


def test_known_weights_are_recovered_in_order(known):
    _model, _points, _values, _churned, s = known
    got = s.metrics.set_index("metric")["weight_suggested"]
    assert list(got.sort_values(ascending=False).index) == ["m0", "m1", "m2", "m3"]
    assert got.sum() == pytest.approx(4.0)  # same total as today's weights (4 × 1)
    ratio = got / got.sum()
    true = np.array(TRUE_WEIGHTS) / sum(TRUE_WEIGHTS)
    np.testing.assert_allclose(ratio.to_numpy(), true, atol=0.06)
    # equal weights are poor here: the fit must beat them on held-out customers, reliably
    assert s.cv("gain")["mean"] > 0.02 and s.reliable


def test_cross_validation_is_repeated_stratified_with_its_spread(known):
    _, _, _, churned, s = known
    f = s.folds
    assert len(f) == 20 and set(f["repeat"]) == {1, 2, 3, 4} and set(f["fold"]) == {1, 2, 3, 4, 5}
    assert (f.groupby("repeat")["customers"].sum() == len(churned)).all()
    per_fold = f.groupby("repeat")["churned"].agg(["min", "max"])
    assert ((per_fold["max"] - per_fold["min"]) <= 1).all()  # churners dealt evenly
    for column in ("auc_today", "auc_suggested", "gain"):
        spread = s.cv(column)
        assert spread["n"] == 20 and spread["sd"] > 0 and spread["min"] < spread["max"]
    lines = headline(s, "en", _context())
    assert re.search(r"sd 0\.\d{3}, from [+-]0\.\d{3} to [+-]0\.\d{3}", lines[1])


def test_folds_are_reproducible():
    churned = np.arange(100) % 3 == 0
    a = fit.stratified_folds(churned, 5, 4, seed=1)
    b = fit.stratified_folds(churned, 5, 4, seed=1)
    assert all((x[2] == y[2]).all() for x, y in zip(a, b, strict=True))
    tests = np.array([t for _, _, t in a[:5]])
    assert (tests.sum(axis=0) == 1).all()  # within a repeat each customer is tested once


def test_below_the_minimum_nothing_is_fitted():
    model, points, values, churned = generated(n=400)
    churn_rows = np.flatnonzero(churned)
    keep = np.ones(len(churned), bool)
    keep[churn_rows[29:]] = False  # 29 churned left
    s = suggest(model, points[keep], values[keep], churned[keep])
    assert s.churned == 29 and not s.fitted and not s.reliable
    assert s.metrics["weight_suggested"].isna().all() and s.folds.empty and not s.cut_points
    assert s.weights() == {}
    (line,) = headline(s, "en", _context())
    assert "Not enough outcomes" in line and "29 churned" in line and "at least 30" in line
    assert "実績が足りません" in headline(s, "ja", _context())[0]
    # the evidence is still there, described
    assert len(s.metrics) == 4 and not s.bands.empty
    # a lower minimum (Settings suggest_min_outcomes) lets the same customers be fitted
    assert suggest(model, points[keep], values[keep], churned[keep], min_outcomes=20).fitted


def test_no_outcomes_at_all():
    model, points, values, churned = generated(n=50)
    s = suggest(model, points.iloc[:0], values.iloc[:0], churned[:0])
    assert s.customers == 0 and not s.fitted
    assert "No customer has an outcome" in headline(s, "en", _context())[0]


# ----------------------------------------------------------------------------- evidence


def test_evidence_per_band_and_flags():
    rng = np.random.default_rng(11)
    n = 3000
    churned = rng.random(n) < 0.3
    values = pd.DataFrame(
        {
            "good": np.where(churned, rng.integers(0, 2, n), rng.integers(1, 3, n)).astype(float),
            "backwards": np.where(churned, rng.integers(1, 3, n), rng.integers(0, 2, n)).astype(
                float
            ),
            "noise": rng.integers(0, 3, n).astype(float),
            "flat": np.full(n, 5.0),
            "empty": np.full(n, np.nan),
        }
    )
    names = list(values.columns)
    model = make_model(
        [usage_metric(nm) for nm in names],
        [
            b
            for nm in names
            for b in (band(nm, None, 1, 0), band(nm, 1, 2, 5), band(nm, 2, None, 10))
        ],
    )
    points = scoring.band_points(model, values).points
    s = suggest(model, points, values, churned)
    flags = s.metrics.set_index("metric")["flag"]
    assert flags.to_dict() == {
        "good": "",
        "backwards": "against",
        "noise": "no_separation",
        "flat": "one_band",
        "empty": "no_data",
    }
    m = s.metrics.set_index("metric")
    assert m.loc["good", "metric_auc"] == pytest.approx(pair_count_auc(points["good"], churned))
    assert m.loc["empty", "coverage"] == 0 and m.loc["good", "coverage"] == 1
    assert np.isnan(m.loc["empty", "weight_suggested"])  # no data: nothing to fit
    assert np.isnan(m.loc["flat", "weight_suggested"])  # same points for all: weight kept
    good = s.bands[s.bands["metric"] == "good"].set_index("band")
    crosstab = pd.crosstab(values["good"], churned)
    for value, row in zip((0.0, 1.0, 2.0), good.itertuples(), strict=True):
        assert row.customers == crosstab.loc[value].sum()
        assert row.churned == crosstab.loc[value].get(True, 0)
        assert row.churn_rate == pytest.approx(row.churned / row.customers)
    # the backwards metric gets less weight than the good one (it cannot go below 0)
    assert m.loc["backwards", "weight_suggested"] < m.loc["good", "weight_suggested"]


def test_missing_values_are_their_own_row():
    model, points, values, churned = generated(n=600)
    s = suggest(model, points, values, churned)
    rows = s.bands[(s.bands["metric"] == "m1") & (s.bands["band"] == "(no value)")]
    assert rows["customers"].iloc[0] == values["m1"].isna().sum()
    assert rows["churned"].iloc[0] == churned[values["m1"].isna().to_numpy()].sum()


# ----------------------------------------------------------------------------- cut points


def test_cut_points_find_a_known_threshold():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 100, 4000)
    churned = rng.random(4000) < np.where(x < 30, 0.6, 0.15)
    cuts = fit.find_cuts(x, churned, 0, 10)
    assert cuts is not None and 1 <= len(cuts.cuts) <= 3
    assert any(abs(c - 30) <= 3 for c in cuts.cuts)
    assert cuts.points[0] == 0 and cuts.points[-1] == 10
    assert cuts.points == sorted(cuts.points)  # monotone: more value, less churn, more points
    assert sum(cuts.customers) == 4000 and min(cuts.customers) >= 200
    rates = cuts.rates
    assert rates == sorted(rates, reverse=True)
    # readable cuts: two significant digits
    assert all(float(f"{c:.2g}") == c for c in cuts.cuts)


def test_cut_points_follow_a_falling_metric_and_ignore_noise():
    rng = np.random.default_rng(6)
    days = rng.integers(0, 400, 3000).astype(float)  # days since contact: more is worse
    churned = rng.random(3000) < np.where(days > 180, 0.5, 0.1)
    cuts = fit.find_cuts(days, churned, 0, 10)
    assert cuts is not None and cuts.points[0] == 10 and cuts.points[-1] == 0
    assert all(c == int(c) for c in cuts.cuts)  # whole-number data, whole-number cuts
    noise = rng.random(3000) < 0.3
    assert fit.find_cuts(rng.normal(size=3000), noise, 0, 10) is None


def test_cut_suggestions_carry_their_cross_validated_effect(known):
    *_, s = known
    assert s.cut_points  # the generated metrics have bands that could be finer or coarser
    for c in s.cut_points:
        assert c.gains["n"] == 20 and 0 <= c.folds_found <= 20
        assert len(c.cuts.points) == len(c.cuts.cuts) + 1 <= 4


# ----------------------------------------------------------------------------- real data


def test_churn_table_gives_a_sensible_model(tmp_path):
    data = pd.read_csv(DATA / "churn" / "saas_churn.csv")
    model = churn_model()
    values = data.drop(columns=["months_active", "churned"])
    points = scoring.band_points(model, values).points
    churned = data["churned"].to_numpy() == 1
    s = suggest(model, points, values, churned)
    today = scoring.weighted_score(points, model.scored_metrics)
    assert s.auc_today_all == pytest.approx(pair_count_auc(today, churned), abs=1e-12)
    assert s.auc_today_all > 0.55
    assert s.fitted and len(s.folds) == 20
    cv = s.cv("auc_suggested")
    assert 0.55 < cv["mean"] < 1 and cv["sd"] > 0
    w = s.metrics["weight_suggested"]
    assert (w >= 0).all() and w.sum() == pytest.approx(5.0)
    # the suggested weights do not do worse than today's on held-out customers
    assert s.cv("gain")["mean"] > -s.cv("gain")["sd"]
    assert set(c.metric for c in s.cut_points) <= {
        "csat_score",
        "articles_viewed",
        "minutes_customer_support",
    }


# ----------------------------------------------------------------------------- cells


SHEET = (
    '<worksheet xmlns="x"><sheetData>'
    '<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
    '<row r="2" spans="1:3"><c r="A2" t="inlineStr"><is><t>nps</t></is></c>'
    '<c r="C2" s="4"><v>1</v></c></row>'
    '<row r="3"><c r="A3" t="inlineStr"><is><t>x</t></is></c><c r="C3" s="2" t="s"><v>7</v></c>'
    "</row>"
    '<row r="4" spans="1:1"><c r="A4"><v>3</v></c></row>'
    '<row r="5"/>'
    '<row r="6"><c r="C6"><f>1+1</f><v>2</v></c></row>'
    "</sheetData></worksheet>"
)


def test_set_numbers_changes_only_the_given_cells():
    out = set_numbers(SHEET.encode(), {"C2": 2.5, "C3": 0.1}).decode()
    assert '<c r="C2" s="4"><v>2.5</v></c>' in out  # style kept
    assert '<c r="C3" s="2"><v>0.1</v></c>' in out  # a text cell becomes a number
    assert (
        out.replace("<v>2.5</v>", "<v>1</v>").replace(
            '<c r="C3" s="2"><v>0.1</v></c>', '<c r="C3" s="2" t="s"><v>7</v></c>'
        )
        == SHEET
    )
    # a missing cell is inserted in column order (and the spans hint widened)
    out = set_numbers(SHEET.encode(), {"B4": 1, "C4": 2}).decode()
    assert '<row r="4" spans="1:3"><c r="A4"><v>3</v></c><c r="B4"><v>1</v></c>' in out
    assert '<c r="C4"><v>2</v></c></row>' in out
    out = set_numbers(SHEET.encode(), {"C5": 4}).decode()
    assert '<row r="5"><c r="C5"><v>4</v></c></row>' in out
    with pytest.raises(CellError, match="C6 holds a formula"):
        set_numbers(SHEET.encode(), {"C6": 1})
    with pytest.raises(CellError, match="row 9"):
        set_numbers(SHEET.encode(), {"C9": 1})


# ----------------------------------------------------------------------------- workbooks


def _context():
    from xlhealth.sheets.suggestions import Context

    return Context("Book.xlsx", 90)


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """A demo workbook whose customers have outcomes with outcome_dates (min 15 each)."""
    from xlhealth.demo import data as demo_data
    from xlhealth.sheets.template import new_workbook

    path = tmp_path_factory.mktemp("suggest") / "Book.xlsx"
    settings = default_tables()["Settings"]
    settings = pd.concat(
        [settings, pd.DataFrame({"key": ["suggest_min_outcomes"], "value": ["15"]})],
        ignore_index=True,
    )
    inputs = demo_data.generate(300, "en", as_of=dt.date(2026, 11, 20))
    new_workbook(path, "en", inputs=inputs, config={"Settings": settings})
    return path


def _copy(book: Path, tmp_path: Path, name: str = "Book.xlsx") -> Path:
    target = tmp_path / name
    shutil.copy2(book, target)
    return target


def test_cli_writes_the_suggestions_sheet_and_nothing_else(book, tmp_path):
    path = _copy(book, tmp_path)
    before = part_bytes(path)
    code, out = cli("suggest", str(path), "--as-of", "2026-11-20")
    assert code == 0, out
    assert "AUC on held-out customers" in out and "Weights (today -> suggested):" in out
    assert re.search(r"Gain [+-]0\.\d{3} \(sd 0\.\d{3}", out)
    after = part_bytes(path)
    assert part_bytes(path.with_name("Book.xlsx.bak")) == before
    with Package(path) as package:
        suggestions = package.sheet_part("Suggestions")
        metrics = package.sheet_part("Metrics")
    assert suggestions is not None and suggestions not in before
    for name, data in before.items():
        if name.startswith("xl/worksheets/sheet"):
            assert after[name] == data, name  # every sheet that was there is unchanged
    assert after[metrics] == before[metrics]
    sheet = after[suggestions].decode()
    assert "Suggestions — weights and cut points" in sheet and "Per metric" in sheet
    charts = [n for n in after if n.startswith("xl/charts/xlhealth_suggestions")]
    assert charts and b"barChart" in after[charts[0]]


def test_apply_writes_only_the_weight_cells_of_metrics(book, tmp_path):
    path = _copy(book, tmp_path)
    before = part_bytes(path)
    report = suggest_book(path, apply=True, as_of=dt.date(2026, 11, 20))
    assert report.applied and report.backup is not None
    assert part_bytes(report.backup) == before
    after = part_bytes(path)
    with Package(path) as package:
        metrics = package.sheet_part("Metrics")
        suggestions = package.sheet_part("Suggestions")
    for name, data in before.items():
        if name.startswith("xl/worksheets/") and name != metrics:
            assert after[name] == data, name
    expected = set_numbers(before[metrics], {report.cells[m]: w for m, w in report.applied.items()})
    assert after[metrics] == expected  # exactly those cells, nothing else in the sheet
    letters = {m: c for m, c in report.cells.items()}
    assert all(re.fullmatch(r"H\d+", c) for c in letters.values())  # the weight column
    frame = read_workbook(path, ("Metrics",)).sheets["Metrics"].frame.set_index("metric")
    for metric, weight in report.applied.items():
        assert frame.loc[metric, "weight"] == pytest.approx(weight)
    assert "Applied on" in after[suggestions].decode()
    # refresh never changes the model, and does not rewrite Suggestions
    code, out = cli("refresh", str(path), "--as-of", "2026-11-20")
    assert code == 0, out
    again = part_bytes(path)
    assert again[metrics] == after[metrics] and again[suggestions] == after[suggestions]


def test_apply_below_the_minimum_refuses_and_changes_nothing(tmp_path):
    from xlhealth.demo import data as demo_data
    from xlhealth.sheets.template import new_workbook

    settings = default_tables()["Settings"]
    settings = pd.concat(
        [settings, pd.DataFrame({"key": ["suggest_min_outcomes"], "value": ["500"]})],
        ignore_index=True,
    )
    strict = tmp_path / "Strict.xlsx"
    new_workbook(
        strict,
        "en",
        inputs=demo_data.generate(120, "en", as_of=dt.date(2026, 11, 20)),
        config={"Settings": settings},
    )
    untouched = strict.read_bytes()
    code, out = cli("suggest", str(strict), "--apply", "--as-of", "2026-11-20")
    assert code == 1 and out.count("error:") == 1 and "Traceback" not in out
    assert "Not enough outcomes" in out and "at least 500" in out
    assert strict.read_bytes() == untouched and not strict.with_name("Strict.xlsx.bak").exists()
    # without --apply the sheet says so instead of fitting
    code, out = cli("suggest", str(strict), "--as-of", "2026-11-20")
    assert code == 0 and "Not enough outcomes" in out


def test_bad_minimum_setting_is_one_located_line(tmp_path):
    from xlhealth.sheets.template import new_workbook

    settings = default_tables()["Settings"]
    settings = pd.concat(
        [settings, pd.DataFrame({"key": ["suggest_min_outcomes"], "value": ["lots"]})],
        ignore_index=True,
    )
    path = tmp_path / "Bad.xlsx"
    new_workbook(path, "en", config={"Settings": settings})
    code, out = cli("suggest", str(path))
    assert code == 1 and "Traceback" not in out
    assert re.search(r"error: Settings!B\d+.*suggest_min_outcomes must be a whole number", out)


def test_japanese_sheet(tmp_path):
    from xlhealth.demo import data as demo_data
    from xlhealth.sheets.template import new_workbook

    settings = default_tables()["Settings"]
    settings.loc[settings["key"] == "language", "value"] = "ja"
    settings = pd.concat(
        [settings, pd.DataFrame({"key": ["suggest_min_outcomes"], "value": ["15"]})],
        ignore_index=True,
    )
    path = tmp_path / "ja.xlsx"
    new_workbook(
        path,
        "ja",
        inputs=demo_data.generate(300, "ja", as_of=dt.date(2026, 11, 20)),
        config={"Settings": settings},
    )
    report = suggest_book(path, as_of=dt.date(2026, 11, 20))
    assert report.suggestion.fitted
    with Package(path) as package:
        sheet = package.read(package.sheet_part("Suggestions")).decode()
    assert (
        "改善提案" in sheet
        and "指標ごと：実績と重み" in sheet
        and "検証用の分割ごとの AUC" in sheet
    )


def test_suggest_button_writes_the_sheet_into_the_open_book(book, tmp_path):
    """The ribbon button (against the fake of the xlwings calls it makes, as Refresh's)."""
    from tests.test_excel_live import FakeBook
    from xlhealth.excel import live as excel

    path = _copy(book, tmp_path)
    fake = FakeBook(path)
    metrics = [list(r) for r in fake.sheets["Metrics"].grid]
    excel.suggest_weights(fake)
    assert fake.saved == 1
    assert "Suggestions" in [s.name for s in fake.sheets]
    assert fake.sheets["Metrics"].grid == metrics  # the button never applies
    (alert,) = fake.app.alerts
    assert "AUC on held-out customers" in alert and "Book.xlsx" in alert
    assert not path.with_name("Book.xlsx.bak").exists()


def test_only_the_customers_scored_before_their_outcome_are_used():
    from xlhealth.core.backtest import Honest
    from xlhealth.suggest.evidence import inputs_from_honest

    model, points, values, churned = generated(n=10)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(10)],
            "churned": churned,
            "basis": ["outcome_date"] * 6 + ["history"] * 2 + ["today"] * 2,
        },
        index=np.arange(10) * 3,  # positions among all customers, not 0..n-1
    )
    dated = frame.index[:6]
    honest = Honest(frame, points.iloc[:6].set_axis(dated), values.iloc[:6].set_axis(dated), 90)
    p, v, c = inputs_from_honest(honest)
    assert list(p.index) == list(dated) and list(v.index) == list(dated)
    np.testing.assert_array_equal(c, churned[:6])
    assert honest.counts() == {"outcome_date": 6, "history": 2, "today": 2}
    nobody = Honest(frame.assign(basis="today"), pd.DataFrame(), pd.DataFrame(), 90)
    s = suggest(model, *inputs_from_honest(nobody))
    assert s.customers == 0 and not s.fitted


def effect_book(n: int, churn: float, effects: dict[str, float], seed: int):
    """Customers whose churn log-odds move by ``effects[name]`` per band step (0/1/2) of
    each metric: negative = more of it keeps customers (helpful), positive = harmful,
    0 = no effect. Bands give 0/5/10 points, rising with the value."""
    rng = np.random.default_rng(seed)
    names = list(effects)
    values = pd.DataFrame({nm: rng.integers(0, 3, n).astype(float) for nm in names})
    base = np.log(churn / (1 - churn))
    eta = base + sum(effects[nm] * (values[nm] - 1) for nm in names)
    churned = rng.random(n) < 1 / (1 + np.exp(-eta))
    model = make_model(
        [usage_metric(nm) for nm in names],
        [
            b
            for nm in names
            for b in (band(nm, None, 1, 0), band(nm, 1, 2, 5), band(nm, 2, None, 10))
        ],
    )
    return model, scoring.band_points(model, values).points, values, churned


@pytest.mark.parametrize(
    "n, churn, effect", [(4000, 0.18, 0.25), (12000, 0.06, 0.15), (1500, 0.3, 0.25)]
)
def test_flags_follow_the_auc_interval_at_every_sample_size(n, churn, effect):
    """Issue 23.3: a harmful metric is "against" — never "does not separate" — at n≈700
    churners; an absent effect is "no clear evidence"; a helpful one is fine even at AUC
    0.54, which the fixed band 0.45–0.55 called "does not separate" whatever the sample
    size. The interval is shown beside the AUC and holds it."""
    effects = {"harmful": effect, "absent": 0.0, "helpful": -effect}
    model, points, values, churned = effect_book(n, churn, effects, seed=n)
    s = suggest(model, points, values, churned, repeats=1)
    m = s.metrics.set_index("metric")
    assert m.loc["harmful", "flag"] == "against", m.loc["harmful"].to_dict()
    assert m.loc["absent", "flag"] == "no_separation"
    assert m.loc["helpful", "flag"] == ""
    for name in effects:
        lo, auc, hi = m.loc[name, ["auc_low", "metric_auc", "auc_high"]]
        assert lo < auc < hi and hi - lo < 0.2
    assert m.loc["harmful", "auc_high"] < 0.5 < m.loc["helpful", "auc_low"]


def test_the_interval_agrees_with_a_bootstrap():
    from xlhealth.core.checks import auc_interval

    _, points, _, churned = effect_book(3000, 0.2, {"x": -0.3}, seed=5)
    p = points["x"].to_numpy(float)
    _, lo, hi = auc_interval(p, churned)
    rng = np.random.default_rng(0)
    draws = [
        fit.auc(p[i], churned[i]) for i in (rng.integers(0, len(p), len(p)) for _ in range(400))
    ]
    assert (hi - lo) / 2 == pytest.approx(1.96 * np.std(draws), rel=0.15)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), effect=st.floats(-0.6, 0.6))
def test_evidence_never_contradicts_the_cut_points(seed, effect):
    """A metric whose reliable re-banding reverses its points is flagged "against"; one
    flagged fine is never reversed by a reliable suggestion (the three tables agree)."""
    from xlhealth.suggest.evidence import reverses

    model, points, values, churned = effect_book(1500, 0.25, {"x": effect, "y": 0.0}, seed)
    s = suggest(model, points, values, churned, repeats=1)
    flags = s.metrics.set_index("metric")["flag"]
    metrics = {m.name: m for m in model.scored_metrics}
    for cut in s.cut_points:
        if cut.reliable and reverses(metrics[cut.metric], cut.cuts):
            assert flags[cut.metric] == "against", (cut.metric, cut.cuts)
