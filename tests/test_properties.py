"""Invariants of the core, checked on generated models and values (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import customers, make_model
from xlhealth.core.config import default_model
from xlhealth.core.maturity import answers, cmi
from xlhealth.core.scoring import assign_tiers, band_points, group_scores, weighted_score
from xlhealth.inputs.matching import prepare_customers

GROUPS = ["Deployment", "Engagement", "Adoption", "ROI"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def metric_specs(draw, monotone: bool = False):
    n = draw(st.integers(1, 5))
    specs = []
    for i in range(n):
        cuts = sorted(draw(st.sets(st.integers(-5, 40), min_size=0, max_size=3)))
        points = draw(
            st.lists(st.integers(-10, 20), min_size=len(cuts) + 1, max_size=len(cuts) + 1)
        )
        if monotone:
            points = sorted(points)
        specs.append(
            {
                "name": f"m{i}",
                "group": draw(st.sampled_from(GROUPS)),
                "cuts": cuts,
                "points": points,
                "weight": draw(st.sampled_from([0, 0.5, 1, 2, 3])),
                "when_missing": draw(st.sampled_from(["skip", "zero", "3", "-2"])),
            }
        )
    return specs


def build(specs, weight_scale: float = 1.0):
    metrics, rules = [], []
    for s in specs:
        metrics.append(
            {
                "metric": s["name"],
                "group": s["group"],
                "source": "Usage",
                "column": s["name"],
                "aggregate": "value",
                "weight": s["weight"] * weight_scale,
                "when_missing": s["when_missing"],
            }
        )
        edges = [None, *s["cuts"], None]
        for lo, hi, p in zip(edges, edges[1:], s["points"], strict=False):
            rules.append(
                {
                    "metric": s["name"],
                    "min": lo,
                    "max": hi,
                    "points": p,
                    "label": f"{s['name']} {lo}..{hi}",
                }
            )
    return make_model(metrics, rules)


values_st = st.one_of(st.none(), st.floats(-10, 60, allow_nan=False))


@st.composite
def scenario(draw, monotone: bool = False):
    specs = draw(metric_specs(monotone=monotone))
    rows = draw(st.integers(1, 8))
    data = {s["name"]: [draw(values_st) for _ in range(rows)] for s in specs}
    return specs, pd.DataFrame(data, dtype=float)


def score(model, values):
    pts = band_points(model, values)
    return weighted_score(pts.points, model.scored_metrics), pts


@SETTINGS
@given(scenario())
def test_score_is_within_0_and_100(case):
    specs, values = case
    model = build(specs)
    s, pts = score(model, values)
    finite = s[~np.isnan(s)]
    assert ((finite >= 0) & (finite <= 100)).all()
    groups = group_scores(pts.points, model).to_numpy()
    g = groups[~np.isnan(groups)]
    assert ((g >= 0) & (g <= 100)).all()


@SETTINGS
@given(scenario(monotone=True), st.data())
def test_score_is_monotone_in_a_metric_with_monotone_bands(case, data):
    specs, values = case
    model = build(specs)
    target = data.draw(st.sampled_from([s["name"] for s in specs]))
    present = values[target].notna()
    bump = data.draw(st.floats(0, 30))
    higher = values.copy()
    higher[target] = values[target] + bump
    before, _ = score(model, values)
    after, _ = score(model, higher)
    both = present.to_numpy() & ~np.isnan(before) & ~np.isnan(after)
    assert (after[both] >= before[both]).all()


@SETTINGS
@given(scenario())
def test_adding_a_skipped_metric_changes_nothing(case):
    specs, values = case
    model = build(specs)
    extra = {
        "name": "extra",
        "group": "ROI",
        "cuts": [5],
        "points": [0, 10],
        "weight": 2,
        "when_missing": "skip",
    }
    wider = build([*specs, extra])
    before, _ = score(model, values)
    after, _ = score(wider, values.assign(extra=np.nan))
    np.testing.assert_array_equal(before, after)


@SETTINGS
@given(scenario(), st.sampled_from([0.1, 0.5, 3.0, 7.0, 1000.0]))
def test_scaling_all_weights_changes_nothing(case, k):
    specs, values = case
    before, _ = score(build(specs), values)
    after, _ = score(build(specs, weight_scale=k), values)
    np.testing.assert_array_equal(before, after)


@SETTINGS
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=30))
def test_tier_is_monotone_in_score(scores):
    ordered = np.sort(np.array(scores))
    tiers = assign_tiers(ordered, default_model().tiers).to_numpy(dtype=int)
    assert (np.diff(tiers) >= 0).all()


FACTORS = [f.factor for f in default_model().maturity.factors]


@SETTINGS
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(FACTORS), st.integers(1, 5)),
        max_size=40,
    )
)
def test_cmi_is_within_1_and_5(answers_list):
    model = default_model()
    c = prepare_customers(customers(["A", "B", "C"]))
    sheet = pd.DataFrame(answers_list, columns=["customer_id", "factor", "level"])
    table, problems = answers(model, c, sheet)
    assert not problems
    out = cmi(model, table, c.n)
    values = out["cmi"].dropna()
    assert ((values >= 1) & (values <= 5)).all()
    answered = {cid for cid, _, _ in answers_list}
    assert out["cmi"].notna().tolist() == [x in answered for x in "ABC"]
    levels = out["maturity_level"].dropna()
    assert ((levels >= 1) & (levels <= 5)).all()
