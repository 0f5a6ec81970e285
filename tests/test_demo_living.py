"""The living demo: one continuous history, weekly refreshes, a team working the list."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import python_calamine

from tests.workbooks import cli
from xlhealth import default_model, run
from xlhealth.demo import data as demo_data
from xlhealth.demo.story import WEEKS, refresh_days, story

END = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def weekly():
    """The story of 300 customers scored as of each weekly refresh (the core alone)."""
    s = story(300, end=END)
    model = default_model()
    results, history = [], None
    for day in refresh_days(END):  # each refresh sees the snapshots before it, as a book does
        results.append(run(model, s.sheets(day), history, as_of=day))
        history = pd.concat([history, results[-1].history_rows], ignore_index=True)
    return s, results


def test_the_story_starts_from_the_generators_customers():
    s = story(50, end=END)
    customers = demo_data.generate(50, as_of=END)["Customers"]
    assert list(s.static["Customers"]["customer_id"]) == list(customers["customer_id"])
    assert s.health.shape == (50, len(s.days)) and s.days[-1] == END
    # a refresh sees only what had happened by its date
    early = s.sheets(refresh_days(END)[0])["Logins"]["date"].max()
    assert early <= np.datetime64(refresh_days(END)[0])


def test_tiers_move_when_the_customer_moved_not_from_noise(weekly):
    _, results = weekly
    shares = []
    for a, b in itertools.pairwise(results):
        ta = a.summary.set_index("customer_id")["tier"]
        tb = b.summary.set_index("customer_id")["tier"]
        shares.append(float((ta != tb).mean()))
    assert len(shares) == WEEKS - 1 and max(shares) <= 0.10, shares


def test_score_drop_goes_mostly_to_customers_whose_health_fell(weekly):
    s, results = weekly
    customers = s.static["Customers"].set_index("customer_id")
    fired = right = 0
    base = np.mean([s.fell(day).mean() for day in refresh_days(END)])  # a random pick's hit rate
    for day, result in zip(refresh_days(END), results, strict=True):
        drops = result.actions[result.actions["alert"] == "score_drop"]
        # the accounts a team works: not the ones that churned before (kept for the back-test)
        left = (
            customers.loc[drops["customer_id"], "outcome"].eq("churned").to_numpy()
            & (
                pd.to_datetime(customers.loc[drops["customer_id"], "outcome_date"]).dt.date
                < day - dt.timedelta(days=28)
            ).to_numpy()
        )
        drops = drops[~left]
        position = {c: i for i, c in enumerate(result.summary["customer_id"])}
        truth = s.fell(day)
        fired += len(drops)
        right += int(sum(truth[position[c]] for c in drops["customer_id"]))
    # measured: about half (14 of 27 at 300 customers, 45 of 88 at 1,000) against a base rate
    # near 3%; the rest are real data changes the generator did not mean as a fall (an NPS
    # answer, a lapsed review, a complaint)
    assert fired >= 5 and right / fired >= 0.45 and right / fired >= 10 * base, (right, fired)


def test_the_demo_book_is_a_book_in_use(tmp_path):
    path = tmp_path / "demo.xlsx"
    code, out = cli("demo", "--customers", "40", "-o", str(path))
    assert code == 0, out
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    history = book.get_sheet_by_name("History").to_python()[2:]
    assert len({r[0] for r in history}) == WEEKS
    actions = book.get_sheet_by_name("Actions").to_python()
    keys = actions[1]
    status = Counter(r[keys.index("status")] for r in actions[2:])
    assert status["Open"] and status["Snoozed"] and status["Done"]
    hand = [r for r in actions[2:] if r[keys.index("alert")] == ""]
    assert [r[keys.index("action")] for r in hand] == ["Invite their admin to the user conference"]
    log = book.get_sheet_by_name("ActionLog").to_python()[2:]
    assert log, "episodes that ended are in ActionLog"
    summary = book.get_sheet_by_name("Summary").to_python()
    trend = summary[1].index("trend")
    assert sum(isinstance(r[trend], float) for r in summary[2:]) >= 30
    copy = tmp_path / "again.xlsx"
    shutil.copy(path, copy)
    code, out = cli("refresh", str(copy))  # the book refreshes on as a book in use
    assert code == 0, out
