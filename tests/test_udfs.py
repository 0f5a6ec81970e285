"""The worksheet functions give exactly the numbers refresh gives, row by row or whole ranges."""

import numpy as np
import pandas as pd
import pytest

from xlhealth import run
from xlhealth.core.config import default_model, default_tables
from xlhealth.demo import data as demo_data
from xlhealth.excel import udfs


def grid(frame: pd.DataFrame) -> list[list]:
    """A table as Excel hands a range to a UDF: header row, then rows; blanks as None."""
    body = frame.astype(object).where(frame.notna(), None).values.tolist()
    return [list(frame.columns), *body]


@pytest.fixture(scope="module")
def scored():
    sheets = demo_data.generate(150, seed=3)
    result = run(default_model(), sheets, as_of=demo_data.AS_OF)
    tables = {k: grid(v) for k, v in default_tables().items()}
    return result, sheets, tables


def values_grid(result) -> tuple[list, list[list]]:
    names = [m.name for m in result.model.scored_metrics]
    frame = result.values[names]
    return [names], frame.astype(object).where(frame.notna(), None).values.tolist()


def flat(cells: list[list]) -> list:
    return [row[0] for row in cells]


def test_score_groups_reasons_equal_refresh(scored):
    result, _, t = scored
    names, rows = values_grid(result)
    score = flat(udfs.HS_SCORE(names, rows, t["Metrics"], t["Rules"]))
    expected = result.summary["score"].tolist()
    assert [np.nan if v is None else v for v in score] == pytest.approx(expected, nan_ok=True)
    assert score == [None if np.isnan(v) else v for v in expected]  # exactly, not roughly
    groups = udfs.HS_GROUPS(names, rows, t["Metrics"], t["Rules"])
    dear = result.summary[["deployment", "engagement", "adoption", "roi"]].to_numpy()
    assert np.array(groups, dtype=float) == pytest.approx(dear, nan_ok=True)
    reasons = flat(udfs.HS_REASONS(names, rows, t["Metrics"], t["Rules"]))
    assert reasons == result.summary["reasons"].tolist()


def test_tiers_quadrants_and_maturity_equal_refresh(scored):
    result, sheets, t = scored
    s = result.summary
    scores = [[v] for v in s["score"]]
    assert (
        flat(udfs.HS_TIER(scores, t["Tiers"]))
        == s["tier"].astype(object).where(s["tier"].notna(), None).tolist()
    )
    assert flat(udfs.HS_TIER_LABEL(scores, t["Tiers"], "ja"))[0] in {
        "優良",
        "良好",
        "経過観察",
        "要注意",
        "危険",
    }
    answers = sheets["Maturity"].pivot_table(
        index="customer_id", columns="factor", values="level", aggfunc="last"
    )
    answers = answers.reindex(s["customer_id"])
    factors = [list(answers.columns)]
    levels = answers.astype(object).where(answers.notna(), None).values.tolist()
    cmi = flat(udfs.HS_CMI(factors, levels, t["MaturityModel"]))
    assert [np.nan if v is None else v for v in cmi] == pytest.approx(
        s["cmi"].tolist(), nan_ok=True
    )
    level = flat(udfs.HS_MATURITY_LEVEL(factors, levels, t["MaturityModel"]))
    assert (
        level
        == s["maturity_level"].astype(object).where(s["maturity_level"].notna(), None).tolist()
    )
    cmis = [[None if np.isnan(v) else v] for v in s["cmi"]]
    quadrant = flat(udfs.HS_QUADRANT(scores, cmis, t["Matrix"], t["Settings"]))
    assert quadrant == s["quadrant"].replace("", None).tolist()
    decision = flat(udfs.HS_DECISION(scores, cmis, t["Matrix"]))
    assert decision == s["decision"].replace("", None).tolist()


def test_one_row_and_one_metric(scored):
    result, _, t = scored
    names, rows = values_grid(result)
    one = udfs.HS_SCORE(names[0], rows[5], t["Metrics"], t["Rules"])  # a single row range
    assert one == [[result.summary["score"].iloc[5]]]
    pts = udfs.HS_POINTS("nps_latest", [[6], [7], [9], [None]], t["Metrics"], t["Rules"])
    assert flat(pts) == [0, 5, 20, None]


def test_bad_arguments_read_as_sentences(scored):
    result, _, t = scored
    names, rows = values_grid(result)
    rules = [list(r) for r in t["Rules"]]
    rules[5][1] = 0.2  # licence_activation band [0.2, 0.7) now overlaps [.., 0.3)
    message = udfs.HS_SCORE(names, rows, t["Metrics"], rules)
    assert len(message) == 1 and message[0][0].startswith("HS_SCORE: argument rules: Rules")
    assert "overlaps" in message[0][0]
    wrong = udfs.HS_SCORE([["nope"]], [[1]], t["Metrics"], t["Rules"])
    assert wrong == [
        ["HS_SCORE: argument metric_names: 'nope' is not a metric on the Metrics table"]
    ]
    short = udfs.HS_SCORE(names, [r[:3] for r in rows], t["Metrics"], t["Rules"])
    assert "argument values" in short[0][0]
    assert udfs.HS_TIER([[50]], None)[0][0].startswith("HS_TIER: argument tiers")
    bad_level = udfs.HS_CMI([["strategy_goals"]], [[7]], t["MaturityModel"])
    assert bad_level == [["HS_CMI: argument levels: 7 is not a level from 1 to 5"]]


def test_every_udf_is_registered_with_a_description():
    names = {spec.name for spec in udfs.REGISTRY}
    assert names == {
        "HS_POINTS",
        "HS_SCORE",
        "HS_GROUPS",
        "HS_REASONS",
        "HS_TIER",
        "HS_TIER_LABEL",
        "HS_CMI",
        "HS_MATURITY_LEVEL",
        "HS_QUADRANT",
        "HS_DECISION",
    }
    assert all(spec.description for spec in udfs.REGISTRY)


def test_an_error_cell_is_said_where_it_is_not_scored_as_missing(scored):
    """Issue 22.10: xlwings hands error cells over as their text (err_to_str); a function
    names the argument, row and column instead of scoring the cell as a blank."""
    result, _, t = scored
    names, rows = values_grid(result)
    rows = [list(r) for r in rows[:5]]
    rows[2][1] = "#DIV/0!"
    (message,) = flat(udfs.HS_SCORE(names, rows, t["Metrics"], t["Rules"]))
    assert message.startswith("HS_SCORE: argument values: row 3")
    assert repr(names[0][1]) in message and "#DIV/0!" in message
    (tier,) = flat(udfs.HS_TIER([[50.0], ["#N/A"]], t["Tiers"]))
    assert tier.startswith("HS_TIER: argument scores: row 2") and "#N/A" in tier
    broken = [list(r) for r in t["Rules"]]
    broken[3][4] = "#REF!"
    (config,) = flat(udfs.HS_SCORE(names, rows[:1], t["Metrics"], broken))
    assert config.startswith("HS_SCORE: argument rules: row 4") and "#REF!" in config
    # text that only looks alike is a value like any other
    ok = flat(udfs.HS_TIER([[50.0], ["#DIV/0! (note)"]], t["Tiers"]))
    assert not str(ok[0]).startswith("HS_TIER:")


def test_hs_tier_with_previous_tiers_keeps_them_as_refresh_does():
    """Issue 23.5: HS_TIER(scores, tiers, previous, hysteresis) is refresh's rule."""
    from xlhealth.core.config import default_model
    from xlhealth.core.stability import hysteresis_tiers

    t = {k: grid(v) for k, v in default_tables().items()}
    scores, previous = [[58], [61], [66], [30], [None]], [[4], [3], [3], [4], [2]]
    got = flat(udfs.HS_TIER(scores, t["Tiers"], previous, [[5]]))
    assert got == [4, 3, 4, 2, None]
    want = hysteresis_tiers(np.array([58, 61, 66, 30, np.nan]), np.array([4, 3, 3, 4, 2.0]),
                            default_model().tiers, 5)  # fmt: skip
    assert got == want.astype(object).where(want.notna(), None).tolist()
    assert flat(udfs.HS_TIER(scores, t["Tiers"], previous, [[0]])) == [3, 4, 4, 2, None]
    assert udfs.HS_TIER(scores, t["Tiers"], previous[:2], [[5]])[0][0].startswith(
        "HS_TIER: argument previous"
    )
    assert udfs.HS_TIER(scores, t["Tiers"], previous, [[-1]])[0][0].startswith(
        "HS_TIER: argument hysteresis"
    )
