"""Overrides: a CSM's judgement with an expiry, shown beside the computed score.

The optional ``Overrides`` input sheet — ``customer_id``, ``score`` or ``tier``,
``reason``, ``by``, ``until`` — lets the person who knows a customer say "this one is
really At risk, because …" until a date. The rules:

* An override is **active while as_of ≤ until** (that day included); afterwards it is
  ignored and listed on Checks, so a judgement cannot outlive the facts it was about.
* ``score`` (0–100) sets the tier it falls in; ``tier`` is a tier number of the Tiers
  sheet, its label (English or Japanese), or both as the drop-down writes them
  (``2 At risk``). Given both, they must agree.
* Every override needs an expiry: a blank or unreadable ``until`` is a located problem
  and the override is ignored (an override without an end date would silently outlive
  the reason for it).
* An unknown customer, a score outside 0–100, an unknown tier, a tier that disagrees
  with the score: a located problem each, and that row is ignored.
* Two active overrides for one customer: the lower row (the one added last) is used,
  and the other is reported. A blank ``reason`` is applied but reported: others must be
  able to judge it.

What an override changes: Summary's ``override`` and ``override_reason`` columns, beside
the computed score, and the tier the Action list uses (a tier-based trigger says it
fired on an override). Never ``score``, ``tier``, History, Segments, the quadrant, the
back-tests or weight suggestions: those stay computed, so the model is measured on
its own numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core.model import Model
from xlhealth.core.problems import Problem, is_blank
from xlhealth.core.rows import Customers
from xlhealth.core.scoring import SCORE_DECIMALS, assign_tiers, round_half_up
from xlhealth.core.tables import OUT_OF_RANGE

SHEET = "Overrides"
MARK = "✎"
TIER_TRIGGERS = ("tier_at_most", "tier_renewal")
"""Alert triggers that read the tier: on an overridden customer they read the override."""
IGNORED = "this override is ignored"
ROWS = ["pos", "customer_id", "score", "tier", "reason", "by", "until", "row"]

TEXT = {
    "no_reason": ("(no reason given)", "（理由の記入なし）"),
    "reason_by": ("{reason} — {by}, until {until}", "{reason}（{by}、{until}まで）"),
    "reason": ("{reason} — until {until}", "{reason}（{until}まで）"),
    "action_by": (" (override by {by})", "（{by}による上書き）"),
    "action": (" (override)", "（上書き）"),
}


def _text(key: str, language: str, **values: object) -> str:
    en, ja = TEXT[key]
    return (ja if language == "ja" else en).format(**values)


@dataclass
class Overrides:
    """The Overrides sheet as of one date.

    ``active``: one row per overridden customer (``pos`` = position in Customers,
    ``score`` NaN for a tier override, ``tier``, ``reason``, ``by``, ``until``, ``row``).
    ``expired``: valid overrides whose ``until`` is before as_of, same columns.
    """

    active: pd.DataFrame
    expired: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def empty(cls, problems: list[Problem] | None = None) -> Overrides:
        return cls(_frame([]), _frame([]), problems or [])


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=ROWS)
    return frame.astype({"pos": "int64", "score": float, "row": "int64"})


def read(
    model: Model, customers: Customers, frame: pd.DataFrame | None, as_of: dt.date
) -> Overrides:
    """Validate the Overrides sheet and split it into active and expired overrides."""
    if frame is None or frame.empty:
        return Overrides.empty()
    problems: list[Problem] = []
    src = customers.sheet(SHEET, frame, problems)  # IDs, unknown and blank ones reported
    f = src.frame
    if not (src.has("score") or src.has("tier")) or not src.has("until"):
        missing = "until" if src.has("score") or src.has("tier") else "score or tier"
        problems.append(
            Problem(
                SHEET,
                f"required column {missing} is missing; add it to the header row "
                "(customer_id, score or tier, reason, by, until) — no override is used",
                row=1,
                column="until" if missing == "until" else "score",
            )
        )
        return Overrides.empty(problems)
    n = len(f)
    rows = src.rows
    blank = pd.Series([None] * n, index=f.index, dtype=object)
    raw_score = f["score"] if src.has("score") else blank
    raw_tier = f["tier"] if src.has("tier") else blank
    scores = customers.numbers(raw_score).to_numpy(dtype=float)
    day_first = model.settings.date_order.upper() == "DMY"
    until = customers.dates(f["until"], day_first=day_first)
    until_days = until.values.to_numpy().astype("datetime64[D]")
    today = np.datetime64(as_of, "D")
    tier_names = _tier_names(model)
    shown = round_half_up(scores, SCORE_DECIMALS)  # NaN stays NaN: tier 0 below
    score_tiers = assign_tiers(shown, model.tiers).fillna(0).to_numpy(dtype=int)

    def problem(i: int, column: str, message: str, value: object = None) -> None:
        problems.append(
            Problem(
                SHEET,
                message,
                row=int(rows[i]),
                column=column,
                value=None if is_blank(value) else value,
                customer_id=_customer_id(customers, int(src.codes[i])),
            )
        )

    valid: list[dict] = []
    for i in range(n):
        ok = True
        score = scores[i]
        given_score = not is_blank(raw_score.iloc[i])
        if given_score and np.isnan(score):
            problem(i, "score", f"is not a number; enter a score from 0 to 100 — {IGNORED}",
                    raw_score.iloc[i])  # fmt: skip
            ok = False
        elif given_score and not 0 <= score <= 100:
            problem(i, "score", f"must be between 0 and 100 — {IGNORED}", raw_score.iloc[i])
            ok = False
        tier = None
        given_tier = not is_blank(raw_tier.iloc[i])
        if given_tier:
            tier = tier_of(raw_tier.iloc[i], model, tier_names)
            if tier is None:
                numbers = ", ".join(str(t.tier) for t in model.tiers)
                problem(i, "tier", f"unknown tier; use a tier number from the Tiers sheet "
                        f"({numbers}) or its name — {IGNORED}", raw_tier.iloc[i])  # fmt: skip
                ok = False
        if not given_score and not given_tier:
            problem(i, "score", f"give a score (0–100) or a tier — {IGNORED}")
            ok = False
        if ok and given_score:
            of_score = int(score_tiers[i]) or None
            if tier is not None and of_score != tier:
                problem(i, "tier", f"does not match score {score:g}, which is tier {of_score} "
                        f"({tier_names[of_score][0] if of_score else '-'}); give one of them, "
                        f"or make them agree — {IGNORED}", raw_tier.iloc[i])  # fmt: skip
                ok = False
            tier = of_score
        raw_until = f["until"].iloc[i]
        if np.isnat(until_days[i]):
            if until.out_of_range[i]:
                problem(i, "until", f"{OUT_OF_RANGE} — {IGNORED}", raw_until)
            elif until.not_a_date[i]:
                order = "month" if day_first else "day"
                hint = (
                    f"; if you wrote the {order} first, set date_order on Settings"
                    if until.other_order[i]
                    else ""
                )
                problem(i, "until", f"is not a date; enter the expiry date such as 2026-12-31"
                        f"{hint} — {IGNORED}", raw_until)  # fmt: skip
            else:
                problem(i, "until", "until is blank: an override needs an expiry date "
                        f"(such as 2026-12-31) — {IGNORED}")  # fmt: skip
            ok = False
        if ok and src.codes[i] >= 0 and tier is not None:
            valid.append(
                {
                    "pos": int(src.codes[i]),
                    "customer_id": _customer_id(customers, int(src.codes[i])),
                    "score": score if given_score else np.nan,
                    "tier": tier,
                    "reason": _cell_text(f["reason"].iloc[i]) if src.has("reason") else "",
                    "by": _cell_text(f["by"].iloc[i]) if src.has("by") else "",
                    "until": pd.Timestamp(until_days[i]),
                    "row": int(rows[i]),
                    "at": i,
                }
            )
    table = pd.DataFrame(valid, columns=[*ROWS, "at"])
    is_active = table["until"].to_numpy(dtype="datetime64[D]") >= today if len(table) else []
    active = table[np.asarray(is_active, dtype=bool)]
    expired = table[~np.asarray(is_active, dtype=bool)]
    later = active.drop_duplicates("pos", keep="last")  # the lower row is the newer judgement
    for dup in active[~active.index.isin(later.index)].itertuples():
        kept = int(later.loc[later["pos"] == dup.pos, "row"].iloc[0])
        problem(dup.at, "customer_id", f"this customer also has an active override on row "
                f"{kept}; row {kept} (the lower one) is used — delete the override that no "
                "longer holds", f["customer_id"].iloc[dup.at]
                if src.has("customer_id") else None)  # fmt: skip
    for hit in later.itertuples():
        if not hit.reason:
            problem(hit.at, "reason", "reason is blank; the override is applied — say why, so "
                    "others can judge it")  # fmt: skip
    return Overrides(
        _frame(later[ROWS].to_dict("records")),
        _frame(expired[ROWS].to_dict("records")),
        problems,
    )


def _customer_id(customers: Customers, pos: int) -> str | None:
    if pos < 0:
        return None
    value = customers.frame["customer_id"].iloc[pos]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell_text(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).strip().casefold())


def _tier_names(model: Model) -> dict[int, tuple[str, ...]]:
    """Tier number -> its labels (English first, then Japanese)."""
    return {t.tier: tuple(x for x in (t.label, t.label_ja) if x) for t in model.tiers}


_NUMBERED = re.compile(r"^(\d+)(?:\.0+)?(?:\s+(.*))?$")


def tier_of(
    value: object, model: Model, names: dict[int, tuple[str, ...]] | None = None
) -> int | None:
    """The tier of ``2``, ``"2"``, ``"At risk"``, ``"要注意"`` or ``"2 At risk"``; else None."""
    names = names if names is not None else _tier_names(model)
    if isinstance(value, bool) or is_blank(value):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return int(number) if number.is_integer() and int(number) in names else None
    if not isinstance(value, str):
        return None
    text = _fold(value)
    for tier, labels in names.items():
        if text in {_fold(label) for label in labels}:
            return tier
    match = _NUMBERED.match(text)
    if match is None:
        return None
    tier = int(match.group(1))
    if tier not in names:
        return None
    label = match.group(2)
    return tier if label is None or label in {_fold(x) for x in names[tier]} else None


def tier_choices(model: Model, language: str) -> list[str]:
    """The drop-down of the Overrides ``tier`` column: ``5 Champion`` … ``1 Critical``."""
    return [f"{t.tier} {t.text(language)}" for t in sorted(model.tiers, key=lambda t: -t.tier)]


# ----------------------------------------------------------------------------- applying


def apply(frame: pd.DataFrame, overrides: Overrides, model: Model) -> None:
    """Add the override columns to the per-customer frame (rows = Customers positions).

    ``override`` (``✎ At risk``, or ``✎ 65.0 Healthy`` for a score), ``override_reason``
    (reason — by, until), and the supporting ``override_score``, ``override_tier``,
    ``override_by``, ``override_until``, ``effective_tier`` and ``effective_tier_label``.
    ``score`` and ``tier`` are left as computed.
    """
    language = model.settings.language
    n = len(frame)
    a = overrides.active
    pos = a["pos"].to_numpy(dtype=np.int64)
    labels = {t.tier: t.text(language) for t in model.tiers}
    tier = pd.array([pd.NA] * n, dtype="Int64")
    tier[pos] = a["tier"].to_numpy(dtype=np.int64)
    score = np.full(n, np.nan)
    score[pos] = a["score"].to_numpy(dtype=float)
    until = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    until[pos] = a["until"].to_numpy(dtype="datetime64[s]")
    by = np.full(n, None, dtype=object)
    by[pos] = a["by"].to_numpy(dtype=object)
    shown = np.full(n, None, dtype=object)
    shown[pos] = [value_text(s, t, labels) for s, t in zip(a["score"], a["tier"], strict=True)]
    why = np.full(n, None, dtype=object)
    why[pos] = [
        reason_text(r, b, u, language)
        for r, b, u in zip(a["reason"], a["by"], a["until"], strict=True)
    ]
    frame["override"] = shown
    frame["override_reason"] = why
    frame["override_score"] = score
    frame["override_tier"] = tier
    frame["override_by"] = by
    frame["override_until"] = until
    computed = frame["tier"].astype("Int64").array
    effective = pd.array(np.where(pd.isna(tier), computed, tier), dtype="Int64")
    frame["effective_tier"] = effective
    frame["effective_tier_label"] = (
        pd.Series(effective).map(labels).astype(object).where(pd.notna(effective), None).to_numpy()
    )


def value_text(score: float, tier: int, labels: dict[int, str]) -> str:
    label = labels.get(int(tier), str(tier))
    return f"{MARK} {label}" if np.isnan(score) else f"{MARK} {score:.1f} {label}"


def reason_text(reason: str, by: str, until: pd.Timestamp, language: str) -> str:
    reason = reason or _text("no_reason", language)
    day = pd.Timestamp(until).strftime("%Y-%m-%d")
    if by:
        return _text("reason_by", language, reason=reason, by=by, until=day)
    return _text("reason", language, reason=reason, until=day)


def effective(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame the Action list reads: tier and tier_label as overridden (score as computed)."""
    if "effective_tier" not in frame.columns:
        return frame
    return frame.assign(tier=frame["effective_tier"], tier_label=frame["effective_tier_label"])


def mark_actions(actions: pd.DataFrame, frame: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Say so on the actions a tier-based rule raised from an overridden tier."""
    if actions.empty or "override_tier" not in frame.columns:
        return actions
    over = frame[frame["override_tier"].notna()]
    if over.empty:
        return actions
    language = model.settings.language
    rules = {r.name for r in model.alerts if r.trigger in TIER_TRIGGERS}
    by = dict(zip(over["customer_id"].astype(str), over["override_by"], strict=True))
    ids = actions["customer_id"].astype(str)
    hit = actions["alert"].isin(rules).to_numpy() & ids.isin(by).to_numpy()
    if not hit.any():
        return actions
    out = actions.copy()
    suffix = [
        _text("action_by", language, by=by[i]) if by[i] else _text("action", language)
        for i in ids[hit]
    ]
    out.loc[hit, "trigger"] = out.loc[hit, "trigger"].astype(str) + pd.Series(
        suffix, index=out.index[hit]
    )
    return out


def expired_rows(overrides: Overrides, summary: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Expired overrides of the customers in ``summary``, for Checks: customer, value,
    reason, by, until and the row to delete on the Overrides sheet."""
    language = model.settings.language
    labels = {t.tier: t.text(language) for t in model.tiers}
    columns = ["customer_id", "customer_name", "override", "reason", "by", "until", "row"]
    e = overrides.expired
    e = e[e["customer_id"].isin(summary["customer_id"].astype(str))]
    if e.empty:
        return pd.DataFrame(columns=columns)
    names = dict(zip(summary["customer_id"].astype(str), summary["customer_name"], strict=True))
    return pd.DataFrame(
        {
            "customer_id": e["customer_id"].to_numpy(dtype=object),
            "customer_name": e["customer_id"].map(names).to_numpy(dtype=object),
            "override": [
                value_text(s, t, labels) for s, t in zip(e["score"], e["tier"], strict=True)
            ],
            "reason": e["reason"].to_numpy(dtype=object),
            "by": e["by"].to_numpy(dtype=object),
            "until": e["until"].to_numpy(dtype="datetime64[s]"),
            "row": e["row"].to_numpy(dtype=np.int64),
        },
        columns=columns,
    )
