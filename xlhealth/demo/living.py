"""``xlhealth demo``: a book in use — eight weekly refreshes of one continuous history, with
a CS team working the Action list in between.

Between refreshes the simulated team closes some urgent actions (Done, with a note),
snoozes a few until a date, declines one or two, and types an action of its own, all in
the book's Actions sheet as people would; the next refresh keeps it all. So History,
trend, sparklines, statuses and ActionLog show what a month or two of real use looks like.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from xlhealth.book.read import read_workbook
from xlhealth.core.actions import status_label
from xlhealth.demo.story import refresh_days, story
from xlhealth.refresh import Report, refresh
from xlhealth.sheets.template import new_workbook, replace_inputs
from xlhealth.xlsx.cells import set_values
from xlhealth.xlsx.package import NewSheet, Package
from xlhealth.xlsx.rawzip import append_rows, last_row

MOVING = ("Logins", "Support", "Surveys", "Contacts", "Usage")  # what changes week to week
LIVING_MAX = 20_000  # customers: above this the demo makes two snapshots (memory)
NOTES = {
    "done": ("Called them — agreed a recovery plan", "電話で回復プランを合意"),
    "snoozed": ("Waiting for their budget round", "先方の予算確定待ち"),
    "wont_do": ("Not worth it before the renewal talk", "更新交渉の前なので見送り"),
    "hand": (
        ("Invite their admin to the user conference", "Promised at the last QBR"),
        ("ユーザー会に管理者を招待する", "前回のQBRで約束"),
    ),
}


def living_demo(
    path: Path,
    customers: int,
    lang: str,
    shaped: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]],
    config: Mapping[str, pd.DataFrame],
    progress: Callable[[str], None],
    end: dt.date | None = None,
) -> Report:
    days = refresh_days(end)
    s = story(customers, lang, end=days[-1])
    progress(f"Weekly refreshes from {days[0]} to {days[-1]}, the team working in between")
    new_workbook(path, lang, inputs=shaped(s.sheets(days[0])), config=config)
    rng = np.random.default_rng(11)
    report = refresh(path, as_of=days[0], backup=False)
    for k, day in enumerate(days[1:], start=1):
        work_the_list(path, day - dt.timedelta(days=2), lang, rng, hand_made=k == 2)
        sheets = shaped(s.sheets(day))
        replace_inputs(path, {n: f for n, f in sheets.items() if n in MOVING}, lang)
        progress(f"Refreshing as of {day} (week {k + 1} of {len(days)})")
        report = refresh(path, as_of=day, backup=False)
    return report


def work_the_list(
    path: Path, today: dt.date, lang: str, rng: np.random.Generator, hand_made: bool = False
) -> None:
    """What a CS team does with its Actions during a week, typed into the book's cells."""
    kept = read_workbook(path, ("Settings",), kept=True).kept
    actions = kept.actions
    if actions is None or actions.empty:
        return
    letters = actions.attrs["letters"]
    ja = lang == "ja"
    edits: dict[str, object] = {}
    open_ = actions[(actions["status"] == status_label("open", lang)).to_numpy()]
    priority = pd.to_numeric(open_["priority"], errors="coerce")
    for key, chance, rows in (
        ("done", 0.4, open_[(priority == 1).to_numpy()]),
        ("snoozed", 0.15, open_[(priority == 2).to_numpy()]),
        ("wont_do", 0.05, open_[(priority == 3).to_numpy()]),
    ):
        for r in rows["_row"][rng.random(len(rows)) < chance].astype(int):
            edits[f"{letters['status']}{r}"] = status_label(key, lang)
            edits[f"{letters['note']}{r}"] = NOTES[key][1 if ja else 0]
            if key == "snoozed":
                edits[f"{letters['snooze_until']}{r}"] = today + dt.timedelta(days=21)
    with Package(path) as package:
        part = package.sheet_part("Actions")
        xml = set_values(package.read(part), edits, package.date1904) if edits else None
        if hand_made:
            xml = _hand_made(xml or package.read(part), letters, actions, ja)
        if xml is None:
            return
        package.set_sheet("Actions", NewSheet(xml))
        tmp = path.with_name(f".{path.name}.demo-tmp")
        package.save(tmp)
    os.replace(tmp, path)


def _hand_made(xml: bytes, letters: dict[str, str], actions: pd.DataFrame, ja: bool) -> bytes:
    """A row typed at the bottom: an action nobody's alert raised."""
    row = (last_row(xml) or 2) + 1
    action, note = NOTES["hand"][1 if ja else 0]
    typed = {"customer_id": str(actions["customer_id"].iloc[-1]), "action": action, "note": note}
    xml = append_rows(xml, f'<row r="{row}"/>', row)
    return set_values(xml, {f"{letters[k]}{row}": v for k, v in typed.items()})
