"""The model: default from templates/, and one located problem per config mistake."""

import pandas as pd
import pytest

from xlhealth.core.config import default_model, default_tables, model_from_tables
from xlhealth.core.model import AGGREGATES, CHARACTERISTICS, GROUPS
from xlhealth.core.problems import ConfigError


def problems_of(**changes: pd.DataFrame) -> list:
    tables = default_tables()
    tables.update(changes)
    with pytest.raises(ConfigError) as caught:
        model_from_tables(tables)
    return caught.value.problems


def one(problems: list, table: str, column: str):
    found = [p for p in problems if p.sheet == table and p.column == column]
    assert found, f"no problem for {table}.{column} in {[str(p) for p in problems]}"
    return found[0]


# ----------------------------------------------------------------------------- the default model


def test_default_model_holds_the_seed_rules():
    m = default_model()
    rules = {x.name: [(b.min, b.max, b.points) for b in x.bands] for x in m.scored_metrics}
    # logins: none in 2 weeks 0, weekly 5, every other day 10, daily 20
    assert [p for *_, p in rules["login_days_14d"]] == [0, 5, 10, 20]
    assert rules["weekly_active_rate"] == [(None, 0.5, 0), (0.5, None, 15)]
    assert rules["nps_latest"] == [(None, 7, 0), (7, 9, 5), (9, None, 20)]
    assert rules["monthly_use"] == [(None, 1, 0), (1, None, 5)]
    assert [p for *_, p in rules["complaints_90d"]] == [0, -3, -6, -9]
    assert "days_since_exec_contact" in rules and "onboarding_overdue" in rules
    assert {x.group for x in m.scored_metrics} == set(GROUPS)


def test_default_tiers_maturity_and_matrix():
    m = default_model()
    assert [(t.tier, t.min_score, t.label, t.label_ja) for t in m.tiers] == [
        (1, 0, "Critical", "危険"),
        (2, 20, "At risk", "要注意"),
        (3, 40, "Watch", "経過観察"),
        (4, 60, "Healthy", "良好"),
        (5, 80, "Champion", "優良"),
    ]
    assert set(m.maturity.weights) == set(CHARACTERISTICS)
    for c in CHARACTERISTICS:
        facets = sorted(f.facet for f in m.maturity.factors if f.characteristic == c)
        assert facets == ["how_well", "relation", "what"]
    for f in m.maturity.factors:
        assert f.question and f.question_ja
        assert len(f.levels) == 5 and all(f.levels) and all(f.levels_ja)
    assert len(m.matrix) == 6
    for cell in m.matrix.values():
        assert cell.decision and cell.decision_ja and cell.actions and cell.actions_ja
    assert m.matrix[("low", "unknown")] is m.matrix[("high", "unknown")]
    assert m.settings.health_high_min == 60 and m.settings.maturity_high_min == 3.0
    assert m.settings.coverage_min == 0.8


def test_absent_table_takes_default_present_one_replaces_it():
    tables = default_tables()
    tiers = pd.DataFrame({"tier": [1, 2], "min_score": [0, 50], "label": ["Low", "High"]})
    m = model_from_tables({"Tiers": tiers})
    assert [t.label for t in m.tiers] == ["Low", "High"]
    assert len(m.metrics) == len(tables["Metrics"])


def test_headers_are_matched_loosely():
    tiers = default_tables()["Tiers"].rename(columns={"min_score": " Min_Score ", "tier": "Tier"})
    m = model_from_tables({"Tiers": tiers})
    assert m.tiers[-1].min_score == 80


# ----------------------------------------------------------------------------- Metrics


def test_unknown_group_and_aggregate_name_row_and_column():
    metrics = default_tables()["Metrics"].copy()
    metrics.loc[0, "group"] = "Happiness"
    metrics.loc[2, "aggregate"] = "median"
    problems = problems_of(Metrics=metrics)
    g = one(problems, "Metrics", "group")
    assert g.row == 2 and g.value == "Happiness" and "Deployment" in g.message
    a = one(problems, "Metrics", "aggregate")
    assert a.row == 4 and a.value == "median"
    assert "Metrics, row 4, column aggregate ('median')" in str(a)


def test_every_documented_aggregate_is_accepted():
    assert set(AGGREGATES) == {
        "value",
        "count",
        "distinct",
        "sum",
        "mean",
        "min",
        "max",
        "latest",
        "days_since",
        "active_days",
        "overdue_count",
        "ratio",
    }


def test_negative_weight_and_bad_when_missing():
    metrics = default_tables()["Metrics"].copy()
    metrics.loc[6, "weight"] = -1
    metrics.loc[7, "when_missing"] = "maybe"
    problems = problems_of(Metrics=metrics)
    assert one(problems, "Metrics", "weight").row == 8
    assert one(problems, "Metrics", "when_missing").row == 9


def test_duplicate_metric_and_missing_column():
    metrics = default_tables()["Metrics"].copy()
    metrics.loc[3, "metric"] = metrics.loc[2, "metric"]
    metrics.loc[8, "column"] = None
    problems = problems_of(Metrics=metrics)
    dup = one(problems, "Metrics", "metric")
    assert dup.row == 5 and "row 4" in dup.message
    assert one(problems, "Metrics", "column").row == 10


def test_ratio_must_name_known_metrics_and_not_loop():
    metrics = pd.DataFrame(
        [
            {"metric": "a", "group": "Adoption", "aggregate": "ratio", "column": "b/zzz"},
            {"metric": "b", "group": "Adoption", "aggregate": "ratio", "column": "a/a"},
        ]
    )
    problems = problems_of(
        Metrics=metrics,
        Rules=pd.DataFrame(columns=["metric", "points"]),
        Alerts=pd.DataFrame(columns=["trigger", "action", "priority"]),
    )
    messages = " | ".join(str(p) for p in problems)
    assert "unknown metric 'zzz'" in messages
    assert "circle" in messages


def test_bad_filter_syntax():
    metrics = default_tables()["Metrics"].copy()
    metrics.loc[10, "filter"] = "category"
    assert one(problems_of(Metrics=metrics), "Metrics", "filter").row == 12


def test_missing_required_column_is_reported_on_header_row():
    metrics = default_tables()["Metrics"].drop(columns=["aggregate"])
    p = one(problems_of(Metrics=metrics), "Metrics", "aggregate")
    assert p.row == 1 and "missing" in p.message


def test_row_numbers_follow_the_sheet_when_given():
    metrics = default_tables()["Metrics"].copy()
    metrics["_row"] = range(5, 5 + len(metrics))  # header on row 4 below a title
    metrics.loc[1, "group"] = "Nope"
    assert one(problems_of(Metrics=metrics), "Metrics", "group").row == 6


# ----------------------------------------------------------------------------- Rules


def test_overlapping_bands():
    rules = default_tables()["Rules"].copy()
    i = rules.index[(rules["metric"] == "nps_latest") & (rules["min"] == 7)][0]
    rules.loc[i, "min"] = 6
    p = one(problems_of(Rules=rules), "Rules", "min")
    assert p.row == i + 2 and "overlaps" in p.message and "nps_latest" in p.message


def test_gapped_bands():
    rules = default_tables()["Rules"].copy()
    i = rules.index[(rules["metric"] == "nps_latest") & (rules["min"] == 9)][0]
    rules.loc[i, "min"] = 9.5
    p = one(problems_of(Rules=rules), "Rules", "min")
    assert p.row == i + 2 and "gap" in p.message and "make min 9" in p.message


def test_band_min_not_below_max_and_unknown_metric_and_points_required():
    rules = default_tables()["Rules"].copy()
    rules.loc[0, ["min", "max"]] = [5, 5]
    rules.loc[1, "metric"] = "nope"
    rules.loc[2, "points"] = None
    problems = problems_of(Rules=rules)
    assert one(problems, "Rules", "max").row == 2
    assert one(problems, "Rules", "points").row == 4
    # a row about a metric Metrics does not define is left out with a located warning
    # (issue 23.1: a book from `new` keeps default rows about metrics a user replaced)
    assert not [p for p in problems if p.column == "metric"]
    extra = default_tables()["Rules"].copy()
    extra.loc[len(extra)] = {"metric": "nope", "points": 1}
    model = model_from_tables({"Rules": extra})
    (warning,) = [p for p in model.warnings if p.sheet == "Rules" and p.column == "metric"]
    assert warning.row == len(extra) + 1 and not warning.blocking
    assert "left out" in warning.message and warning.value == "nope"


def test_text_bands_and_mixing():
    metrics = pd.DataFrame(
        [
            {
                "metric": "plan",
                "group": "ROI",
                "source": "Usage",
                "column": "plan",
                "aggregate": "value",
            }
        ]
    )
    ok = pd.DataFrame(
        [
            {"metric": "plan", "value": "Enterprise", "points": 10},
            {"metric": "plan", "value": "Free", "points": 0},
        ]
    )
    no_alerts = pd.DataFrame(columns=["trigger", "action", "priority"])
    m = model_from_tables({"Metrics": metrics, "Rules": ok, "Alerts": no_alerts})
    assert m.metric("plan").is_text
    dup = pd.concat([ok, pd.DataFrame([{"metric": "plan", "value": " free ", "points": 1}])])
    problems = problems_of(Metrics=metrics, Rules=dup.reset_index(drop=True), Alerts=no_alerts)
    assert one(problems, "Rules", "value").row == 4
    mixed = pd.concat([ok, pd.DataFrame([{"metric": "plan", "min": 1, "points": 1}])])
    problems = problems_of(Metrics=metrics, Rules=mixed.reset_index(drop=True), Alerts=no_alerts)
    assert "mixes" in one(problems, "Rules", "value").message


def test_many_problems_are_reported_at_once():
    metrics = default_tables()["Metrics"].copy()
    metrics.loc[0, "group"] = "X"
    metrics.loc[1, "weight"] = -2
    tiers = default_tables()["Tiers"].copy()
    tiers.loc[0, "min_score"] = 10  # tier 5 below tier 4's 60
    problems = problems_of(Metrics=metrics, Tiers=tiers)
    assert len(problems) >= 3
    assert {p.sheet for p in problems} >= {"Metrics", "Tiers"}


# ------------------------------------------------------------------ Tiers, maturity, matrix


def test_tier_thresholds_must_increase():
    tiers = default_tables()["Tiers"].copy()  # rows: 5,4,3,2,1
    tiers.loc[1, "min_score"] = 85  # tier 4 above tier 5
    p = one(problems_of(Tiers=tiers), "Tiers", "min_score")
    assert p.row == 2 and "increase" in p.message


def test_lowest_tier_starts_at_zero_and_bad_colour():
    tiers = default_tables()["Tiers"].copy()
    tiers.loc[4, "min_score"] = 5
    tiers.loc[0, "color"] = "green"
    problems = problems_of(Tiers=tiers)
    assert one(problems, "Tiers", "min_score").row == 6
    assert one(problems, "Tiers", "color").row == 2


def test_maturity_weight_must_agree_within_characteristic():
    mm = default_tables()["MaturityModel"].copy()
    mm.loc[1, "weight"] = 99
    p = one(problems_of(MaturityModel=mm), "MaturityModel", "weight")
    assert p.row == 3 and "same weight" in p.message


def test_maturity_unknown_characteristic_and_facet():
    mm = default_tables()["MaturityModel"].copy()
    mm.loc[0, "characteristic"] = "Culture"
    mm.loc[2, "facet"] = "why"
    problems = problems_of(MaturityModel=mm)
    assert one(problems, "MaturityModel", "characteristic").row == 2
    assert one(problems, "MaturityModel", "facet").row == 4


def test_matrix_needs_every_combination():
    matrix = default_tables()["Matrix"].copy()
    matrix = matrix[~((matrix["health"] == "low") & (matrix["maturity"] == "high"))]
    problems = problems_of(Matrix=matrix.reset_index(drop=True))
    assert any("health=low, maturity=high" in p.message for p in problems)


def test_alert_rules_are_validated():
    alerts = default_tables()["Alerts"].copy()
    alerts.loc[0, "trigger"] = "moon_phase"
    alerts.loc[3, "metric"] = "nope"
    alerts.loc[1, "priority"] = 9
    problems = problems_of(Alerts=alerts)
    assert one(problems, "Alerts", "trigger").row == 2
    assert one(problems, "Alerts", "priority").row == 3
    assert not [p for p in problems if p.column == "metric"]  # a warning: row 5 left out
    only_metric = default_tables()["Alerts"].copy()
    only_metric.loc[3, "metric"] = "nope"
    model = model_from_tables({"Alerts": only_metric})
    (warning,) = [p for p in model.warnings if p.sheet == "Alerts" and p.column == "metric"]
    assert warning.row == 5 and "left out" in warning.message
    assert len(model.alerts) == len(only_metric) - 1


def test_settings_are_typed():
    settings = pd.DataFrame(
        {
            "key": ["coverage_min", "language", "as_of", "health_high_min"],
            "value": ["lots", "fr", "not a date", "150"],
        }
    )
    problems = problems_of(Settings=settings)
    assert [p.row for p in problems if p.sheet == "Settings"] == [2, 3, 4, 5]
    ok = model_from_tables(
        {
            "Settings": pd.DataFrame(
                {"key": ["as_of", "language", "custom"], "value": ["2026-03-31", "ja", "x"]}
            )
        }
    )
    assert str(ok.settings.as_of) == "2026-03-31" and ok.settings.language == "ja"
    assert ok.settings.extra == {"custom": "x"}
