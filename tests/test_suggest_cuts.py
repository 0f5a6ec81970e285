"""Issue 23.6: ``xlhealth suggest --apply --cuts`` writes the suggested bands into Rules.

Only metrics whose re-banding showed a reliable gain change; every other Rules cell stays
as it was; the file is replaced atomically with ``NAME.bak``; the live formulas score with
the new bands at once (LibreOffice), exactly as a refresh does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import python_calamine

from tests.workbooks import cli, libreoffice_recalculated
from xlhealth.book.read import read_workbook
from xlhealth.core.config import model_from_tables
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.demo.steady import model_tables, steady
from xlhealth.refresh import refresh
from xlhealth.sheets.template import new_workbook
from xlhealth.suggest_book import suggest_book

COARSE = "posts_28d"  # its bands are made useless: one edge nobody reaches


@pytest.fixture(scope="module")
def story():
    return steady(700, 14, changers=0.0, seed=21)


def build(path: Path, story) -> Path:
    t = model_tables()
    rules = t["Rules"]
    rules = rules[rules["metric"] != COARSE]
    coarse = pd.DataFrame(
        [{"metric": COARSE, "min": None, "max": 400, "points": 0, "label": "few"},
         {"metric": COARSE, "min": 400, "max": None, "points": 40, "label": "many"}]
    )  # fmt: skip
    t["Rules"] = pd.concat([coarse, rules], ignore_index=True)
    t["Settings"] = pd.DataFrame(
        {"key": ["backtest_lead_days", "as_of"], "value": [28, story.weeks[-1].isoformat()]}
    )
    sheets = {"Customers": story.customers, "Logins": story.logins, "Outcomes": story.outcomes}
    new_workbook(path, inputs=sheets, config={k: t[k] for k in ("Metrics", "Rules", "Alerts",
                                                                "Settings")})  # fmt: skip
    return path


def rules_grid(path: Path) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name("Rules").to_python()


@pytest.fixture(scope="module")
def applied(story, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cuts")
    path = build(folder / "book.xlsx", story)
    refresh(path, backup=False)  # a book in use: its Values hold the live formulas
    original = path.read_bytes()
    before = rules_grid(path)
    report = suggest_book(path, apply=True, cuts=True)
    return path, original, before, report


def test_only_reliable_rebandings_are_written(applied):
    path, _, _, report = applied
    reliable = {c.metric for c in report.suggestion.cut_points if c.reliable}
    assert COARSE in reliable  # the useless bands are what the fit finds worth changing
    assert {e.metric for e in report.cut_edits} == reliable
    tables = read_workbook(path).tables()
    model = model_from_tables({k: tables.get(k) for k in CONFIG_SHEETS})
    for edit in report.cut_edits:
        cut = next(c for c in report.suggestion.cut_points if c.metric == edit.metric)
        bands = sorted(model.metric(edit.metric).bands,
                       key=lambda b: float("-inf") if b.min is None else b.min)  # fmt: skip
        assert [b.max for b in bands[:-1]] == cut.cuts.cuts
        assert [b.min for b in bands[1:]] == cut.cuts.cuts
        assert [b.points for b in bands] == cut.cuts.points
        assert bands[0].min is None and bands[-1].max is None


def test_every_other_rules_cell_is_kept_and_the_old_file_is_the_backup(applied):
    path, original, before, report = applied
    after = rules_grid(path)
    touched = {int("".join(ch for ch in ref if ch.isdigit())) for e in report.cut_edits
               for ref in e.cells}  # fmt: skip
    for r, row in enumerate(before, start=1):
        if r not in touched:
            assert after[r - 1] == row, r
    assert report.backup is not None and report.backup.read_bytes() == original


def test_the_live_formulas_score_with_the_new_bands_as_a_refresh_does(applied, tmp_path):
    """Before any refresh, LibreOffice recalculating the applied book gives the scores a
    refresh of it gives (the appended Rules rows are inside the formulas' ranges)."""
    path, _, _, _ = applied
    live = libreoffice_recalculated(path, tmp_path / "lo")
    again = tmp_path / "again.xlsx"
    shutil.copy(path, again)
    refresh(again, backup=False)

    def scores(p):
        grid = python_calamine.CalamineWorkbook.from_path(str(p)).get_sheet_by_name(
            "Summary").to_python()  # fmt: skip
        keys = grid[1]
        return {r[0]: r[keys.index("score")] for r in grid[2:] if r[0]}

    old, new = scores(path), scores(again)
    assert scores(live) == pytest.approx(new)
    assert sum(old[c] != new[c] for c in new) > 50  # the bands really changed the scores


def test_the_cli_says_what_changed_and_refuses_cuts_without_apply(story, tmp_path):
    path = build(tmp_path / "book.xlsx", story)
    code, out = cli("suggest", str(path), "--cuts")
    assert code != 0 and "--cuts" in out and "--apply" in out
    assert not (tmp_path / "book.xlsx.bak").exists()
    code, out = cli("suggest", str(path), "--apply", "--cuts")
    assert code == 0, out
    lines = [x for x in out.splitlines() if COARSE in x and "->" in x]
    assert any("<400: 0" in x and "AUC +" in x for x in lines), out
