"""The work loop: an Action list that remembers what people did (DESIGN "The work loop").

An action's identity is (``customer_id``, ``alert``). It opens at the first refresh whose
trigger holds and stays the same action while the trigger keeps holding (one *episode*):
its trigger text, score, tier and priority follow the data; ``opened``, ``status``,
``note``, ``snooze_until`` and every column people added do not. When the trigger stops
holding, the episode ends and moves to ActionLog. Actions typed by hand (no ``alert``) stay
until someone marks them done or won't do.

Everything here is a function of the previous Actions and ActionLog (as the book holds
them) and this run's triggers: pure, so a month of refreshes can be replayed in a test.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core.alerts import ACTION_COLUMNS as ALERT_COLUMNS
from xlhealth.core.model import Model
from xlhealth.core.problems import Problem, is_blank
from xlhealth.core.tables import ROW_COLUMN
from xlhealth.core.text import normalise_one

STATUSES = ("open", "done", "snoozed", "wont_do")
CLOSED = ("done", "wont_do")
STATUS_LABELS = {
    "open": ("Open", "未対応"),
    "done": ("Done", "完了"),
    "snoozed": ("Snoozed", "保留"),
    "wont_do": ("Won't do", "対応しない"),
}
ACTIONS_SHEET = "Actions"
LOG_SHEET = "ActionLog"
# What refresh writes on Actions (the rest of a row is people's own columns, kept).
ACTION_COLUMNS = [*ALERT_COLUMNS, "opened", "status", "note", "snooze_until"]
BOOKKEEPING = ["score_opened", "trigger_opened", "closed_on", "status_seen"]
"""Hidden on the sheet: what the episode started with, when refresh first saw it closed and
the last status it read (a status nobody can read keeps that one)."""
LOG_COLUMNS = [
    "customer_id",
    "customer_name",
    "owner",
    "alert",
    "action",
    "opened",
    "closed",
    "outcome",
    "note",
    "trigger_opened",
    "score_opened",
    "trigger_closed",
    "score_closed",
]
OUTCOMES = ("done", "wont_do", "resolved")
MESSAGES = {
    "reopened": (
        "reopened {day}: closed {closed} but the trigger still holds after {days:g} days",
        "{day} 再オープン：{closed} に完了としましたが、{days:g} 日後もトリガーが続いています",
    ),
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    for c in (" ", "_", "'", "’", "-", "　"):
        text = text.replace(c, "")
    return text


READ_STATUS = {
    **{_fold(k): k for k in STATUSES},
    **{_fold(label): k for k, labels in STATUS_LABELS.items() for label in labels},
    _fold("closed"): "done",
}


def read_status(value: object) -> str | None:
    """The status key of a cell: keys and both languages' labels, case and width folded;
    blank is ``open``; None when it is none of them."""
    if is_blank(value):
        return "open"
    return READ_STATUS.get(_fold(str(value)))


def status_keys(values: pd.Series) -> pd.Series:
    """Each cell's status key (blank and unreadable ones read as open)."""
    return values.map(lambda v: read_status(v) or "open")


def status_label(key: str, language: str) -> str:
    en, ja = STATUS_LABELS[key]
    return ja if language == "ja" else en


@dataclass
class WorkList:
    """This run's Actions (open, then snoozed, then closed) and the episodes that ended."""

    actions: pd.DataFrame
    ended: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    user_columns: list[str] = field(default_factory=list)


def day_of(value: object) -> dt.date | None:
    """A cell as a date: date cells, ISO text, Excel serial numbers; None otherwise."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).date()
    if isinstance(value, int | float) and not isinstance(value, bool):  # a date cell that
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))  # lost its format
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _key(customer_id: object, alert: object) -> tuple[str | None, str]:
    alert_text = "" if is_blank(alert) else str(alert).strip()
    return normalise_one(customer_id), alert_text


def _text(value: object) -> str:
    return "" if is_blank(value) else str(value)


def _alert_of_old_row(row: dict, model: Model) -> str:
    """A row written before actions had an identity: its rule, from its action text."""
    action = _text(row.get("action")).strip()
    for rule in model.alerts:
        if action and action in (rule.action, rule.action_ja):
            return rule.name
    return ""


def work_list(
    model: Model,
    triggered: pd.DataFrame,
    previous: pd.DataFrame | None,
    log: pd.DataFrame | None,
    scores: pd.DataFrame,
    as_of: dt.date,
) -> WorkList:
    """Carry the previous Actions into this run: one row per identity, nothing typed lost.

    ``triggered``: this run's alert rows (``alerts.evaluate``). ``previous``: the book's
    Actions as read (``_row`` = sheet row), with any columns people added. ``log``: the
    book's ActionLog (to add nothing twice on a same-day re-run). ``scores``: this run's
    ``customer_id``, ``customer_name``, ``owner``, ``score``, ``tier`` per customer.
    """
    language = model.settings.language
    rules = {r.name: r for r in model.alerts}
    problems: list[Problem] = []
    previous = previous if previous is not None else pd.DataFrame()
    written = set(ACTION_COLUMNS) | set(BOOKKEEPING) | {ROW_COLUMN}
    user_columns = [c for c in previous.columns if c not in written]
    has_identity = "alert" in previous.columns
    now = {
        normalise_one(c): r
        for c, r in zip(scores["customer_id"], scores.to_dict("records"), strict=True)
    }

    carried: dict[tuple[str | None, str], dict] = {}
    hand_made: list[dict] = []
    ended: list[dict] = []
    for row in previous.to_dict("records"):  # a list people work through: hundreds of rows
        sheet_row = None if is_blank(row.get(ROW_COLUMN)) else int(row[ROW_COLUMN])
        data = {c: v for c, v in row.items() if c != ROW_COLUMN}
        if all(is_blank(v) for v in data.values()):
            continue
        alert = _text(row.get("alert")).strip() if has_identity else _alert_of_old_row(row, model)
        status = read_status(row.get("status"))
        if status is None:
            seen = read_status(row.get("status_seen"))
            problems.append(
                Problem(
                    ACTIONS_SHEET,
                    "unknown status; use Open, Done, Snoozed or Won't do (未対応/完了/保留/"
                    f"対応しない) — the row keeps its previous status ({seen or 'open'})",
                    row=sheet_row,
                    column="status",
                    value=row.get("status"),
                    customer_id=_text(row.get("customer_id")) or None,
                )
            )
            status = seen or "open"
        if status == "snoozed" and day_of(row.get("snooze_until")) is None:
            problems.append(
                Problem(
                    ACTIONS_SHEET,
                    "snoozed needs a date in snooze_until (when it should come back); "
                    "the action stays open until then",
                    row=sheet_row,
                    column="snooze_until",
                    value=row.get("snooze_until"),
                    customer_id=_text(row.get("customer_id")) or None,
                )
            )
            status = "open"
        data["_status"] = status
        data["_row"] = sheet_row
        if not alert:
            hand_made.append(data)
            continue
        key = _key(row.get("customer_id"), alert)
        if key in carried:
            problems.append(
                Problem(
                    ACTIONS_SHEET,
                    f"this action ({alert}) is on the list twice; the first row is kept — "
                    f"copy anything you typed here to it (note: {_text(row.get('note'))!r})",
                    row=sheet_row,
                    column="alert",
                    value=alert,
                    customer_id=_text(row.get("customer_id")) or None,
                )
            )
            continue
        data["alert"] = alert
        carried[key] = data

    rows: list[dict] = []
    for t in triggered.to_dict("records"):
        key = _key(t["customer_id"], t["alert"])
        rule = rules.get(t["alert"])
        p = carried.pop(key, None)
        out = {c: t.get(c) for c in ACTION_COLUMNS if c in t}
        if p is None:
            out.update(
                opened=as_of,
                status="open",
                note=None,
                snooze_until=None,
                score_opened=t["score"],
                trigger_opened=t["trigger"],
                closed_on=None,
            )
        else:
            opened = day_of(p.get("opened")) or as_of
            status = p["_status"]
            note = p.get("note")
            closed_on = day_of(p.get("closed_on"))
            if status in CLOSED:
                closed_on = closed_on or as_of
                reopen = rule.reopen_days if rule is not None else None
                if reopen is not None and (as_of - closed_on).days >= reopen:
                    en, ja = MESSAGES["reopened"]
                    said = (ja if language == "ja" else en).format(
                        day=as_of.isoformat(), closed=closed_on.isoformat(), days=reopen
                    )
                    note = f"{_text(note)} — {said}" if _text(note) else said
                    status, closed_on = "open", None
            else:
                closed_on = None
            out.update(
                opened=opened,
                status=status,
                note=note,
                snooze_until=p.get("snooze_until"),
                score_opened=p.get("score_opened", t["score"]),
                trigger_opened=p.get("trigger_opened") or t["trigger"],
                closed_on=closed_on,
            )
            for c in user_columns:
                out[c] = p.get(c)
        due_days = rule.due_days if rule is not None else 7.0
        out["due"] = pd.Timestamp(out["opened"]) + pd.Timedelta(days=due_days)
        rows.append(out)

    for key, p in carried.items():  # the trigger stopped holding: the episode ends
        ended.append(_ended(p, key, now, as_of, user_columns, p["_status"]))
    for p in hand_made:
        cid = normalise_one(p.get("customer_id"))
        if p["_status"] in CLOSED:
            ended.append(_ended(p, (cid, ""), now, as_of, user_columns, p["_status"]))
            continue
        if cid is None or is_blank(p.get("action")):
            problems.append(
                Problem(
                    ACTIONS_SHEET,
                    "an action typed by hand needs a customer_id and an action; the row is "
                    "kept as it is",
                    row=p["_row"],
                    column="customer_id" if cid is None else "action",
                )
            )
        elif cid not in now:
            problems.append(
                Problem(
                    ACTIONS_SHEET,
                    "unknown customer on an action typed by hand; the row is kept — check "
                    "the customer ID",
                    row=p["_row"],
                    column="customer_id",
                    value=p.get("customer_id"),
                )
            )
        current = now.get(cid, {})
        out = {c: p.get(c) for c in ACTION_COLUMNS + BOOKKEEPING + user_columns}
        for c in ("customer_name", "owner"):
            if is_blank(out.get(c)):
                out[c] = current.get(c)
        out.update(
            score=current.get("score", p.get("score")),
            tier=current.get("tier", p.get("tier")),
            alert=None,
            opened=day_of(p.get("opened")) or as_of,
            status=p["_status"],
        )
        if day_of(out.get("due")) is None:
            out["due"] = None
        if out.get("score_opened") is None or is_blank(out.get("score_opened")):
            out["score_opened"] = out["score"]
        rows.append(out)

    for r in rows:  # a snooze that is over: open again (its trigger, if any, still holds)
        if r["status"] == "snoozed" and (day_of(r.get("snooze_until")) or as_of) <= as_of:
            r["status"] = "open"
    actions = pd.DataFrame(rows, columns=ACTION_COLUMNS + BOOKKEEPING + user_columns)
    actions = _ordered(actions)
    actions["status_seen"] = actions["status"]
    actions["status"] = actions["status"].map(lambda k: status_label(k, language))
    log_frame = pd.DataFrame(ended, columns=LOG_COLUMNS + user_columns)
    log_frame = _new_only(log_frame, log)
    return WorkList(actions, log_frame, problems, user_columns)


def _ended(
    p: dict,
    key: tuple[str | None, str],
    now: dict,
    as_of: dt.date,
    user_columns: list[str],
    status: str,
) -> dict:
    current = now.get(key[0], {})
    row = {
        "customer_id": p.get("customer_id"),
        "customer_name": p.get("customer_name"),
        "owner": p.get("owner"),
        "alert": key[1] or None,
        "action": p.get("action"),
        "opened": day_of(p.get("opened")),
        "closed": as_of,
        "outcome": status if status in CLOSED else "resolved",
        "note": p.get("note"),
        "trigger_opened": p.get("trigger_opened"),
        "score_opened": p.get("score_opened"),
        "trigger_closed": p.get("trigger") if key[1] else None,
        "score_closed": current.get("score"),
    }
    row.update({c: p.get(c) for c in user_columns})
    return row


def _ordered(actions: pd.DataFrame) -> pd.DataFrame:
    """Open first (by priority, due, score), then snoozed, then done and won't do."""
    if actions.empty:
        return actions.reset_index(drop=True)
    rank = actions["status"].map({"open": 0, "snoozed": 1, "done": 2, "wont_do": 2})
    due = pd.to_datetime(actions["due"], errors="coerce")
    order = pd.DataFrame(
        {
            "rank": rank.to_numpy(),
            "priority": pd.to_numeric(actions["priority"], errors="coerce").to_numpy(),
            "due": due.to_numpy(),
            "score": pd.to_numeric(actions["score"], errors="coerce").to_numpy(),
            "customer": actions["customer_id"].astype(str).to_numpy(),
        }
    ).sort_values(["rank", "priority", "due", "score", "customer"], na_position="last",
                  kind="stable")  # fmt: skip
    return actions.iloc[order.index].reset_index(drop=True)


def _new_only(ended: pd.DataFrame, log: pd.DataFrame | None) -> pd.DataFrame:
    """Leave out episodes the log already holds (a same-day re-run adds nothing twice)."""
    needed = {"customer_id", "alert", "closed"}
    if ended.empty or log is None or log.empty or not needed <= set(log):
        return ended.reset_index(drop=True)

    def keys(f: pd.DataFrame) -> pd.Series:
        parts = [
            f["customer_id"].map(lambda v: normalise_one(v) or ""),
            f["alert"].map(_text),
            f.get("opened", pd.Series(None, index=f.index)).map(lambda v: str(day_of(v))),
            f.get("closed", pd.Series(None, index=f.index)).map(lambda v: str(day_of(v))),
        ]
        return parts[0] + "|" + parts[1] + "|" + parts[2] + "|" + parts[3]

    closed = pd.to_datetime(log.get("closed"), errors="coerce").dt.date
    today = log[(closed == ended["closed"].iloc[0]).to_numpy()]  # only today's can repeat
    seen = set(keys(today)) if len(today) else set()
    return ended[~keys(ended).isin(seen).to_numpy()].reset_index(drop=True)
