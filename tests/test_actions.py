"""The work loop's rules (core/actions.py): identity, episodes, statuses, what people typed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xlhealth.core.actions import (
    ACTION_COLUMNS,
    BOOKKEEPING,
    LOG_COLUMNS,
    read_status,
    work_list,
)
from xlhealth.core.config import default_model

MODEL = default_model()
DAY0 = dt.date(2026, 11, 2)
RULES = {r.name: r for r in MODEL.alerts}


def scores(ids=("C1", "C2", "C3")) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(ids),
            "customer_name": [f"Name {i}" for i in ids],
            "owner": ["Ann"] * len(ids),
            "score": [40.0 + k for k in range(len(ids))],
            "tier": [2] * len(ids),
        }
    )


def fired(*pairs: tuple[str, str], trigger: str = "it fired") -> pd.DataFrame:
    rows = []
    for cid, alert in pairs:
        rule = RULES[alert]
        rows.append(
            {
                "priority": rule.priority,
                "customer_id": cid,
                "customer_name": f"Name {cid}",
                "owner": "Ann",
                "trigger": trigger,
                "action": rule.action,
                "due": pd.Timestamp(DAY0),
                "score": 40.0,
                "tier": 2,
                "alert": alert,
            }
        )
    return pd.DataFrame(rows, columns=[*ACTION_COLUMNS[:10]])


def as_book(actions: pd.DataFrame) -> pd.DataFrame:
    """What the book holds after a refresh wrote ``actions`` (row numbers from 3)."""
    book = actions.copy()
    book["_row"] = range(3, 3 + len(book))
    return book


def run(triggered, previous=None, log=None, day=DAY0, model=MODEL):
    return work_list(model, triggered, previous, log, scores(), day)


def test_an_action_keeps_opened_status_note_and_columns_while_its_trigger_holds():
    first = run(fired(("C1", "no_login")))
    assert first.actions.loc[0, "opened"] == DAY0 and first.actions.loc[0, "status"] == "Open"
    book = as_book(first.actions)
    book.loc[0, "note"] = "Called 12/5, waiting"
    book.loc[0, "status"] = "保留"  # the Japanese label is read in an English book
    book.loc[0, "snooze_until"] = dt.date(2026, 11, 20)
    book["My column"] = ["mine"]
    week = DAY0 + dt.timedelta(days=7)
    second = run(fired(("C1", "no_login"), trigger="new text"), book, day=week)
    row = second.actions.iloc[0]
    assert row["opened"] == DAY0 and row["note"] == "Called 12/5, waiting"
    assert row["status"] == "Snoozed" and row["My column"] == "mine"
    assert row["trigger"] == "new text" and row["trigger_opened"] == "it fired"
    assert row["due"] == pd.Timestamp(DAY0 + dt.timedelta(days=RULES["no_login"].due_days))
    assert second.ended.empty and second.user_columns == ["My column"]
    # the snooze is over and the trigger still holds: open again, note kept
    third = run(fired(("C1", "no_login")), as_book(second.actions), day=dt.date(2026, 11, 20))
    assert third.actions.iloc[0]["status"] == "Open"
    assert third.actions.iloc[0]["note"] == "Called 12/5, waiting"


def test_a_trigger_that_stops_ends_the_episode_into_the_log():
    book = as_book(run(fired(("C1", "no_login"), ("C2", "detractor"))).actions)
    book.loc[book["customer_id"] == "C2", "status"] = "done"
    book.loc[book["customer_id"] == "C2", "note"] = "Fixed their SSO"
    book["Extra"] = ["x1", "x2"]
    later = DAY0 + dt.timedelta(days=7)
    out = run(fired(), book, day=later)
    assert out.actions.empty
    log = out.ended.set_index("customer_id")
    assert log.loc["C1", "outcome"] == "resolved" and log.loc["C2", "outcome"] == "done"
    assert log.loc["C2", "note"] == "Fixed their SSO" and log.loc["C2", "Extra"] == "x2"
    assert (log["closed"] == later).all() and (log["opened"] == DAY0).all()
    assert list(out.ended.columns[: len(LOG_COLUMNS)]) == LOG_COLUMNS
    # a same-day re-run on the same book adds nothing twice
    again = run(fired(), book, out.ended, day=later)
    assert again.ended.empty
    # a later firing is a new episode
    fresh = run(fired(("C1", "no_login")), as_book(out.actions), out.ended, day=later)
    assert fresh.actions.iloc[0]["opened"] == later


def test_done_stays_closed_for_the_episode_unless_reopen_days_pass():
    book = as_book(run(fired(("C1", "no_login"))).actions)
    book.loc[0, "status"] = "Done"
    week = DAY0 + dt.timedelta(days=7)
    out = run(fired(("C1", "no_login")), book, day=week)
    assert out.actions.iloc[0]["status"] == "Done" and out.actions.iloc[0]["closed_on"] == week
    rules = tuple(replace(r, reopen_days=14) if r.name == "no_login" else r for r in MODEL.alerts)
    model = replace(MODEL, alerts=rules)
    later = week + dt.timedelta(days=14)
    reopened = run(fired(("C1", "no_login")), as_book(out.actions), day=later, model=model)
    row = reopened.actions.iloc[0]
    assert row["status"] == "Open" and "reopened" in row["note"]
    assert reopened.ended.empty


def test_an_unknown_status_is_located_and_the_row_keeps_its_previous_status():
    book = as_book(run(fired(("C1", "no_login"))).actions)
    book.loc[0, "status"] = "Snoozed"
    book.loc[0, "snooze_until"] = dt.date(2026, 12, 31)
    week = DAY0 + dt.timedelta(days=7)
    book = as_book(run(fired(("C1", "no_login")), book, day=week).actions)
    book.loc[0, "status"] = "finished??"
    out = run(fired(("C1", "no_login")), book, day=week + dt.timedelta(days=7))
    (problem,) = [p for p in out.problems if p.column == "status"]
    assert problem.row == 3 and problem.value == "finished??" and problem.sheet == "Actions"
    assert out.actions.iloc[0]["status"] == "Snoozed"


def test_hand_made_actions_stay_until_done_then_go_to_the_log():
    book = pd.DataFrame(
        {
            "customer_id": ["c2"],  # case and width folded like every ID
            "action": ["Send the QBR deck"],
            "note": ["asked by Ann"],
            "_row": [3],
        }
    )
    out = run(fired(("C1", "no_login")), book)
    hand = out.actions[out.actions["alert"].isna()].iloc[0]
    assert hand["action"] == "Send the QBR deck" and hand["customer_name"] == "Name C2"
    book = as_book(out.actions)
    book.loc[book["alert"].isna(), "status"] = "完了"
    later = run(fired(("C1", "no_login")), book, day=DAY0 + dt.timedelta(days=7))
    assert later.actions["alert"].notna().all()
    (ended,) = later.ended.to_dict("records")
    assert ended["outcome"] == "done" and ended["note"] == "asked by Ann"


def test_open_first_then_snoozed_then_closed():
    book = as_book(run(fired(("C1", "no_login"), ("C2", "no_login"), ("C3", "no_login"))).actions)
    book["status"] = ["Done", "Snoozed", "Open"]
    book["snooze_until"] = [None, dt.date(2027, 1, 1), None]
    out = run(fired(("C1", "no_login"), ("C2", "no_login"), ("C3", "no_login")), book)
    assert list(out.actions["customer_id"]) == ["C3", "C2", "C1"]


def test_status_words():
    words = ("open", " OPEN ", "Won't do", "wont_do", "won’t do", "ＤＯＮＥ", "対応しない", "保留")
    for word in words:
        assert read_status(word) is not None, word
    assert read_status("") == "open"
    assert read_status("later") is None
    assert read_status(None) == "open"


STATUS_WORDS = st.sampled_from(["Open", "Done", "Snoozed", "Won't do", "完了", "", "bad word"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sets(st.sampled_from(["C1", "C2", "C3"]), max_size=3),  # who fires no_login
            st.lists(STATUS_WORDS, min_size=3, max_size=3),  # what people type
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_sequence_keeps_identity_unique_loses_nothing_and_appends_the_log(weeks):
    book, log = None, pd.DataFrame(columns=LOG_COLUMNS)
    typed_notes: set[str] = set()
    for k, (who, statuses) in enumerate(weeks):
        day = DAY0 + dt.timedelta(days=7 * k)
        out = run(fired(*((c, "no_login") for c in sorted(who))), book, log, day=day)
        keys = list(zip(out.actions["customer_id"], out.actions["alert"], strict=True))
        assert len(keys) == len(set(keys))  # no identity twice
        seen = set(out.actions["note"].dropna()) | set(out.ended["note"].dropna())
        assert typed_notes <= {s.split(" — ")[0] for s in seen}  # nothing typed is lost
        typed_notes = set()
        before = len(log)
        log = pd.concat([log, out.ended], ignore_index=True)
        assert len(log) == before + len(out.ended)  # the log only grows
        book = as_book(out.actions)
        for i in range(len(book)):
            note = f"note {k}-{book.loc[i, 'customer_id']}"
            book.loc[i, "note"] = note
            typed_notes.add(note)
            book.loc[i, "status"] = statuses[i % 3]
            book.loc[i, "snooze_until"] = day + dt.timedelta(days=10)
        assert set(BOOKKEEPING) <= set(book.columns)


def test_review_counts_open_new_overdue_and_what_ended():
    from xlhealth.core.review import review

    week = DAY0 + dt.timedelta(days=7)
    first = run(fired(("C1", "no_login"), ("C2", "detractor")))
    book = as_book(first.actions)
    book.loc[book["customer_id"] == "C2", "status"] = "Done"
    later = run(fired(("C1", "no_login"), ("C3", "no_login")), book, day=week)
    ended = later.ended.assign(score_opened=40.0, score_closed=[55.0])
    r = review(later.actions, ended, week + dt.timedelta(days=3))
    ann = r.owners.set_index("owner").loc["Ann"]
    assert (ann["open"], ann["new_this_week"]) == (2, 1)  # C3 opened 3 days ago
    assert ann["overdue"] == 1  # C1: due DAY0 + 5 days
    (row,) = r.summary.to_dict("records")
    assert row["outcome"] == "done" and row["actions"] == 1
    assert row["median_days_open"] == 7 and row["mean_score_change"] == 15.0
    assert r.outcomes.set_index("owner").loc["Ann", "done"] == 1
