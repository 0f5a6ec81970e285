"""Customer Maturity Index and the health × maturity matrix."""

import numpy as np
import pandas as pd

from tests.conftest import customers
from xlhealth.core.config import default_model, default_tables, model_from_tables
from xlhealth.core.maturity import answers, cmi, quadrants
from xlhealth.inputs.matching import prepare_customers


def levels_for(model, rows: list[tuple], ids=("A", "B", "C")):
    c = prepare_customers(customers(list(ids)))
    sheet = pd.DataFrame(rows, columns=["customer_id", "factor", "level", "assessed_on"])
    table, problems = answers(model, c, sheet)
    return cmi(model, table, c.n), problems


def test_characteristic_mean_then_weighted_cmi():
    m = default_model()  # weights Strategy 30, People 25, Process 25, Technology 20
    out, problems = levels_for(
        m,
        [
            ("A", "strategy_goals", 4, "2026-10-01"),
            ("A", "strategy_execution", 3, "2026-10-01"),  # Strategy = 3.5
            ("A", "people_roles", 2, "2026-10-01"),  # People = 2
            ("B", "tech_usage", 5, "2026-10-01"),
        ],
    )
    assert not problems
    assert out.loc[0, "strategy"] == 3.5 and out.loc[0, "people"] == 2
    assert np.isnan(out.loc[0, "process"])
    expected = (30 * 3.5 + 25 * 2) / (30 + 25)  # 2.818...
    assert out.loc[0, "cmi"] == round(expected, 2) == 2.82
    assert out.loc[0, "maturity_level"] == 3
    assert out.loc[1, "cmi"] == 5 and out.loc[1, "maturity_level"] == 5
    assert np.isnan(out.loc[2, "cmi"]) and pd.isna(out.loc[2, "maturity_level"])


def test_maturity_level_rounds_half_up():
    m = default_model()
    out, _ = levels_for(
        m,
        [
            ("A", "strategy_goals", 2, None),
            ("A", "strategy_execution", 3, None),
            ("B", "people_roles", 3, None),
            ("B", "people_skills", 4, None),
        ],
    )
    assert out.loc[0, "cmi"] == 2.5 and out.loc[0, "maturity_level"] == 3
    assert out.loc[1, "cmi"] == 3.5 and out.loc[1, "maturity_level"] == 4


def test_latest_assessment_wins_and_bad_levels_are_located():
    m = default_model()
    out, problems = levels_for(
        m,
        [
            ("A", "strategy_goals", 1, "2026-01-01"),
            ("A", "strategy_goals", 4, "2026-06-01"),
            ("A", "strategy_goals", 2, "2025-12-01"),
            ("B", "strategy_goals", 7, "2026-06-01"),
            ("B", "strategy_goals", "high", "2026-06-01"),
            ("B", "unknown_factor", 3, "2026-06-01"),
            ("C", "Strategy_Goals ", 2.5, "2026-06-01"),
        ],
    )
    assert out.loc[0, "cmi"] == 4
    assert np.isnan(out.loc[1, "cmi"]) and np.isnan(out.loc[2, "cmi"])
    located = {(p.row, p.column) for p in problems}
    assert {(5, "level"), (6, "level"), (7, "factor"), (8, "level")} <= located


def test_zero_weight_characteristic_is_ignored():
    mm = default_tables()["MaturityModel"].copy()
    mm.loc[mm["characteristic"] == "Technology", "weight"] = 0
    m = model_from_tables({"MaturityModel": mm})
    out, _ = levels_for(
        m,
        [
            ("A", "tech_usage", 1, None),
            ("A", "people_roles", 4, None),
            ("B", "tech_usage", 1, None),
        ],
    )
    assert out.loc[0, "cmi"] == 4
    assert np.isnan(out.loc[1, "cmi"])


def test_quadrants_follow_the_matrix():
    m = default_model()
    q = quadrants(
        m, np.array([80, 30, 70, 10, 60, np.nan]), np.array([4.0, 4.0, 2.0, 1.0, np.nan, 3.0])
    )
    assert q["health"].tolist() == ["high", "low", "high", "low", "high", ""]
    assert q["maturity"].tolist() == ["high", "high", "low", "low", "unknown", "high"]
    assert q["quadrant"].tolist() == [
        "Expand & co-create",
        "Fix health",
        "Maintain & consult",
        "Let go",
        "Assess maturity",
        "",
    ]
    assert q["decision"].iloc[3] == "Let go / minimal touch"


def test_quadrant_thresholds_are_inclusive_and_japanese():
    tables = default_tables()
    tables["Settings"] = pd.DataFrame({"key": ["language"], "value": ["ja"]})
    m = model_from_tables(tables)
    q = quadrants(m, np.array([60.0, 59.9]), np.array([3.0, 2.99]))
    assert q["quadrant"].tolist() == ["拡大・協働", "撤退"]
