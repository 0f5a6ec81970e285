"""Points, score, DEAR groups, tier, completeness and reasons (DESIGN.md, normative)."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import band, make_model, usage_metric
from xlhealth.core.config import default_model
from xlhealth.core.scoring import (
    HIT,
    MISSING,
    SKIPPED,
    assign_tiers,
    band_points,
    completeness,
    group_scores,
    reasons,
    round_half_up,
    weighted_score,
)

SEED_METRICS = [
    usage_metric("login_days_14d", "Adoption"),
    usage_metric("weekly_active_rate", "Adoption"),
    usage_metric("nps", "Engagement"),
    usage_metric("monthly_use", "Adoption"),
    usage_metric("complaints", "Engagement", when_missing="zero"),
]
SEED_RULES = [
    band("login_days_14d", None, 1, 0, "No login for 2 weeks"),
    band("login_days_14d", 1, 7, 5, "Weekly logins"),
    band("login_days_14d", 7, 10, 10, "Every other day"),
    band("login_days_14d", 10, None, 20, "Daily"),
    band("weekly_active_rate", None, 0.5, 0, "WAU under 50%"),
    band("weekly_active_rate", 0.5, None, 15, "WAU 50%+"),
    band("nps", None, 7, 0, "Detractor"),
    band("nps", 7, 9, 5, "Passive"),
    band("nps", 9, None, 20, "Promoter"),
    band("monthly_use", None, 1, 0, "Not used this month"),
    band("monthly_use", 1, None, 5, "Used this month"),
    band("complaints", None, 1, 0, "No complaints"),
    band("complaints", 1, 2, -3, "1 complaint"),
    band("complaints", 2, 3, -6, "2 complaints"),
    band("complaints", 3, None, -9, "3+ complaints"),
]


@pytest.fixture
def seed_model():
    return make_model(SEED_METRICS, SEED_RULES)


def score_of(model, **rows):
    values = pd.DataFrame(rows)
    pts = band_points(model, values)
    return pts, weighted_score(pts.points, model.scored_metrics)


def test_seed_examples_by_hand(seed_model):
    # max points: 20 + 15 + 20 + 5 + 0 = 60 (penalties do not raise the denominator)
    pts, score = score_of(
        seed_model,
        login_days_14d=[0, 3, 8, 12, 12],
        weekly_active_rate=[0.2, 0.5, 0.49, 0.9, 0.9],
        nps=[6, 7, 8, 10, 10],
        monthly_use=[0, 2, 5, 20, 20],
        complaints=[4, 1, 0, 0, 2],
    )
    assert pts.points["login_days_14d"].tolist() == [0, 5, 10, 20, 20]
    assert pts.points["weekly_active_rate"].tolist() == [0, 15, 0, 15, 15]
    assert pts.points["nps"].tolist() == [0, 5, 5, 20, 20]
    assert pts.points["monthly_use"].tolist() == [0, 5, 5, 5, 5]
    assert pts.points["complaints"].tolist() == [-9, -3, 0, 0, -6]
    # customer 0: -9/60 -> clipped to 0; 1: 27/60 = 45; 2: 20/60 = 33.3; 3: 100; 4: 54/60 = 90
    assert score.tolist() == [0.0, 45.0, 33.3, 100.0, 90.0]


def test_when_missing_skip_zero_and_points():
    model = make_model(
        [
            usage_metric("a"),
            usage_metric("b", when_missing="skip"),
            usage_metric("c", when_missing="zero"),
            usage_metric("d", when_missing=4),
        ],
        [band(x, None, None, 10) for x in "abcd"],
    )
    pts, score = score_of(model, a=[1.0], b=[np.nan], c=[np.nan], d=[np.nan])
    assert np.isnan(pts.points["b"].iloc[0])
    assert pts.points[["c", "d"]].iloc[0].tolist() == [0, 4]
    assert pts.state.iloc[0].tolist() == [HIT, SKIPPED, MISSING, MISSING]
    assert score[0] == round(100 * (10 + 0 + 4) / 30, 1)  # b left out of the denominator
    assert completeness(pts.state)[0] == 0.75


def test_weights_multiply_points_and_max():
    model = make_model(
        [usage_metric("a", weight=3), usage_metric("b")],
        [band("a", None, None, 10), band("b", None, 1, 0), band("b", 1, None, 10)],
    )
    _, score = score_of(model, a=[1], b=[0])
    assert score[0] == 75.0  # (3*10 + 0) / (3*10 + 10)


def test_score_blank_when_nothing_can_be_earned():
    model = make_model([usage_metric("pen")], [band("pen", None, 1, 0), band("pen", 1, None, -5)])
    _, score = score_of(model, pen=[0, 3])
    assert np.isnan(score).all()


def test_penalty_lowers_score_without_raising_denominator(seed_model):
    _, base = score_of(
        seed_model,
        login_days_14d=[12],
        weekly_active_rate=[0.9],
        nps=[10],
        monthly_use=[3],
        complaints=[0],
    )
    _, hit = score_of(
        seed_model,
        login_days_14d=[12],
        weekly_active_rate=[0.9],
        nps=[10],
        monthly_use=[3],
        complaints=[1],
    )
    assert base[0] == 100.0 and hit[0] == 95.0


def test_value_outside_every_band_is_a_data_error_and_missing():
    model = make_model(
        [usage_metric("nps", when_missing="zero")], [band("nps", 0, 7, 0), band("nps", 7, 11, 10)]
    )
    pts, _ = score_of(model, nps=[12.0, 5.0, -1.0])
    assert pts.state["nps"].tolist() == [MISSING, HIT, MISSING]
    assert pts.points["nps"].tolist() == [0, 0, 0]
    assert len(pts.problems) == 1
    assert "outside every band" in pts.problems[0].message
    assert "and 1 more" in pts.problems[0].message


def test_text_bands_case_insensitive_trimmed():
    model = make_model(
        [usage_metric("plan", "ROI")],
        [
            band("plan", None, None, 10, value="Enterprise"),
            band("plan", None, None, 3, value="Free"),
        ],
    )
    pts, score = score_of(model, plan=[" enterprise ", "FREE", "trial", None])
    assert pts.points["plan"].tolist()[:2] == [10, 3]
    assert pts.state["plan"].tolist() == [HIT, HIT, SKIPPED, SKIPPED]
    assert len(pts.problems) == 1 and "'trial'" in str(pts.problems[0])
    assert score.tolist()[:2] == [100.0, 30.0]


def test_tier_boundaries_are_inclusive_and_follow_the_displayed_score():
    tiers = default_model().tiers
    got = assign_tiers(np.array([0, 19.9, 20, 59.99, 79.95, 80, 100, np.nan]), tiers)
    assert got.tolist()[:7] == [1, 1, 2, 3, 4, 5, 5]  # raw 59.99 -> tier 3 before rounding
    assert got.isna().tolist()[-1]
    # earned 1599 of 2000 possible: 79.95 -> shows as 80.0 -> tier 5 (80 is the bound)
    model = make_model(
        [usage_metric("a"), usage_metric("b")],
        [
            band("a", None, 1, 0),
            band("a", 1, None, 1599),
            band("b", None, 1, 0),
            band("b", 1, None, 401),
        ],
    )
    _, score = score_of(model, a=[1], b=[0])
    assert score[0] == 80.0
    assert assign_tiers(score, tiers).iloc[0] == 5


def test_round_half_up_is_robust_to_float_noise():
    assert round_half_up(np.array([0.05, 0.15, 0.25, 2.675, 79.95, 59.94999]), 1).tolist() == [
        0.1,
        0.2,
        0.3,
        2.7,
        80.0,
        59.9,
    ]


def test_group_scores_use_only_their_metrics(seed_model):
    pts, _ = score_of(
        seed_model,
        login_days_14d=[12],
        weekly_active_rate=[0.1],
        nps=[8],
        monthly_use=[3],
        complaints=[0],
    )
    g = group_scores(pts.points, seed_model)
    assert g["adoption"].iloc[0] == round(100 * (20 + 0 + 5) / 40, 1)
    assert g["engagement"].iloc[0] == 25.0  # 5 of 20, complaints add nothing to max
    assert np.isnan(g["deployment"].iloc[0]) and np.isnan(g["roi"].iloc[0])


def test_reasons_most_costly_first_and_penalties(seed_model):
    pts, _ = score_of(
        seed_model,
        login_days_14d=[3, 12],
        weekly_active_rate=[0.1, 0.9],
        nps=[8, 10],
        monthly_use=[0, 3],
        complaints=[2, 0],
    )
    r = reasons(pts, seed_model)
    # costs: login 15, WAU 15, nps 15, monthly 5, complaints 6 -> ties keep Metrics order
    assert r[0] == "Weekly logins; WAU under 50%; Passive"
    assert r[1] == ""


def test_reasons_include_missing_data_and_language():
    model = make_model(
        [usage_metric("a", when_missing="zero", description="Logins", description_ja="ログイン")],
        [band("a", None, None, 10)],
        settings={"language": "ja", "reasons_max": 1},
    )
    pts, _ = score_of(model, a=[np.nan])
    assert reasons(pts, model)[0] == "ログイン: データなし"


def test_unavailable_metrics_are_skipped():
    model = make_model(
        [usage_metric("a"), usage_metric("b", when_missing="zero")],
        [band("a", None, None, 10), band("b", None, None, 10)],
    )
    values = pd.DataFrame({"a": [5.0]})
    pts = band_points(model, values, {"b"})
    assert pts.state["b"].iloc[0] == SKIPPED
    assert weighted_score(pts.points, model.scored_metrics)[0] == 100.0
