"""The Action list: alert rules evaluated on the scored customers.

Each rule is one vectorised mask; its trigger text is a template such as
``"Score fell {value} points since {previous_as_of}"`` filled column-wise.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable

import numpy as np
import pandas as pd

from xlhealth.core.model import AlertRule, Model

ACTION_COLUMNS = [
    "priority",
    "customer_id",
    "customer_name",
    "owner",
    "trigger",
    "action",
    "due",
    "score",
    "tier",
    "alert",
]
NO_RECORD = {"en": "none on record", "ja": "記録なし"}
SCORE_DROP_DAYS = 28  # score_drop compares with a snapshot at least this old (Alerts days)
NOISE_Z = 3.0
"""score_drop fires only on a drop larger than this many times the customer's own
week-to-week score noise (History, the 8 weeks before the baseline; ``Snapshots.noise``).
On steady customers with noisy counts (``benchmarks/bench_stability.py``) it removes about
four in five false alarms and misses no real fall."""
Baseline = Callable[[float], pd.DataFrame]
"""days -> each customer's latest History ``score`` and ``as_of`` at least that many days ago."""


def display(values: pd.Series, language: str = "en") -> pd.Series:
    """Values as text for a sentence: 12 not 12.0, dates as ISO, blanks as 'none on record'."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        text = values.dt.strftime("%Y-%m-%d").astype(object)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        x = values.astype(float).to_numpy()
        finite = np.isfinite(x)
        whole = finite & (np.round(x, 6) == np.round(x))
        as_int = np.where(whole, np.round(x), 0).astype(np.int64).astype(str)
        text = pd.Series(
            np.where(whole, as_int, np.round(x, 1).astype(str)), index=values.index, dtype=object
        )
    else:
        text = values.astype(object).map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
        text = text.astype(object)
    return text.where(values.notna(), NO_RECORD.get(language, NO_RECORD["en"])).astype(str)


def fill_template(template: str, fields: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """``template.format(**row)`` for every row at once; unknown fields stay as written."""
    out = pd.Series("", index=index, dtype=object)
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        out = out + literal
        if name is None:
            continue
        out = out + (fields[name] if name in fields else "{" + name + "}")
    return out


def evaluate(
    model: Model,
    frame: pd.DataFrame,
    values: pd.DataFrame,
    as_of: dt.date,
    baseline: Baseline | None = None,
) -> pd.DataFrame:
    """Action rows for every rule that fires.

    ``frame`` holds per-customer columns (customer_id, customer_name, owner, score,
    tier, tier_label, score_change, previous_score, previous_as_of, renewal_date);
    ``values`` holds metric values, rows aligned with ``frame``. ``baseline``: what
    ``score_drop`` compares with — the latest snapshot at least the rule's ``days``
    (default 28) earlier, so weekly refreshes do not fire on a week's noise; without it,
    the previous snapshot (``score_change``).
    """
    language = model.settings.language
    parts = [
        _one_rule(rule, model, frame, values, as_of, language, baseline) for rule in model.alerts
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=ACTION_COLUMNS)
    actions = pd.concat(parts, ignore_index=True)
    actions = actions.sort_values(
        ["priority", "due", "score", "customer_id"], na_position="last", kind="stable"
    )
    return actions.reset_index(drop=True)[ACTION_COLUMNS]


def _one_rule(
    rule: AlertRule,
    model: Model,
    frame: pd.DataFrame,
    values: pd.DataFrame,
    as_of: dt.date,
    language: str,
    baseline: Baseline | None = None,
) -> pd.DataFrame:
    n = len(frame)
    tier = frame["tier"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    value = pd.Series(np.nan, index=frame.index)
    t = rule.threshold
    if rule.trigger == "score_drop":
        if baseline is not None:
            base = baseline(SCORE_DROP_DAYS if rule.days is None else rule.days)
            frame = frame.assign(
                previous_score=base["score"].to_numpy(), previous_as_of=base["as_of"].to_numpy()
            )
            drop = np.round(frame["previous_score"] - frame["score"], 1).to_numpy(dtype=float)
            noise = base["noise"].to_numpy(dtype=float) if "noise" in base else np.nan
        else:
            drop = -frame["score_change"].to_numpy(dtype=float)
            noise = np.nan
        with np.errstate(invalid="ignore"):
            # a drop the customer's own week-to-week wobble explains is no drop: a count
            # at a band edge moves the score by a band's points and back every few weeks
            fire = (drop >= t) & ~(drop <= NOISE_Z * noise)
        value = pd.Series(drop, index=frame.index)
    elif rule.trigger == "tier_at_most":
        fire = tier <= t
    elif rule.trigger == "tier_renewal":
        renewal = pd.to_datetime(frame["renewal_date"], errors="coerce")
        days = (renewal - pd.Timestamp(as_of)).dt.days.to_numpy(dtype=float, na_value=np.nan)
        fire = (tier <= t) & (days >= 0) & (days <= (rule.days or 0))
        value = pd.Series(days, index=frame.index)
    else:
        if rule.metric in values.columns:
            raw = pd.to_numeric(values[rule.metric], errors="coerce").to_numpy(dtype=float)
        else:  # the metric's source is absent: it can neither fire nor be missing
            raw = np.full(n, np.nan)
            if rule.if_missing:
                return pd.DataFrame()
        with np.errstate(invalid="ignore"):
            fire = raw >= t if rule.trigger == "metric_at_least" else raw < t
        if rule.if_missing:
            fire = fire | np.isnan(raw)
        value = pd.Series(raw, index=frame.index)
    fire = np.asarray(fire, dtype=bool)  # NaN scores/tiers compare False: no score, no alert
    if not fire.any():
        return pd.DataFrame()
    hit = frame.loc[fire]
    sources = {
        "value": lambda: value[fire],
        "threshold": lambda: pd.Series(t, index=hit.index, dtype=float),
        "days": lambda: pd.Series(rule.days, index=hit.index, dtype=float),
        "score": lambda: hit["score"],
        "tier": lambda: hit["tier"].astype("Float64"),
        "tier_label": lambda: hit["tier_label"].fillna(""),
        "previous": lambda: hit["previous_score"],
        "previous_as_of": lambda: hit["previous_as_of"],
        "renewal_date": lambda: pd.to_datetime(hit["renewal_date"], errors="coerce"),
        "metric": lambda: pd.Series(rule.metric, index=hit.index),
        "customer_name": lambda: hit["customer_name"].fillna(""),
    }
    template = rule.text("label", language) or rule.name
    used = {name for _, name, _, _ in string.Formatter().parse(template) if name in sources}
    fields = {name: display(sources[name](), language) for name in used}
    return pd.DataFrame(
        {
            "priority": rule.priority,
            "customer_id": hit["customer_id"],
            "customer_name": hit["customer_name"],
            "owner": hit["owner"],
            "trigger": fill_template(template, fields, hit.index),
            "action": rule.text("action", language),
            "due": pd.Timestamp(as_of) + pd.to_timedelta(rule.due_days, unit="D"),
            "score": hit["score"],
            "tier": hit["tier"],
            "alert": rule.name,
        }
    )
