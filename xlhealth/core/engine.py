"""One scoring run: input tables + model + history -> every output table.

This is the whole pure pipeline the CLI refresh, the Refresh macro and the
UDFs share; it never touches a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core import actions as work
from xlhealth.core import alerts, backtest, checks, maturity, overrides, scoring
from xlhealth.core.aggregate import aggregate
from xlhealth.core.backtest import Honest
from xlhealth.core.history import HISTORY_COLUMNS, SPARK_POINTS, Snapshots
from xlhealth.core.kept import SUMMARY_COLUMNS, Kept, keep_summary_columns
from xlhealth.core.model import GROUPS, Model
from xlhealth.core.overrides import Overrides
from xlhealth.core.problems import ConfigError, Problem
from xlhealth.core.review import Review, review
from xlhealth.core.rows import Customers, ExternalValues, PrepareCustomers
from xlhealth.core.stability import EARLIER_DAYS, Stability, horizon, hysteresis_tiers

NO_SEGMENT = {"en": "(no segment)", "ja": "（セグメントなし）"}
ALL_SEGMENTS = {"en": "All customers", "ja": "全顧客"}


@dataclass
class Result:
    as_of: dt.date
    model: Model
    summary: pd.DataFrame  # SUMMARY_COLUMNS first, then supporting columns
    actions: pd.DataFrame
    segments: pd.DataFrame
    history_rows: pd.DataFrame
    coverage: pd.DataFrame
    exemplars: checks.ExemplarCheck
    backtest: checks.Backtest | None
    values: pd.DataFrame
    points: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    columns: pd.DataFrame | None = None  # which pasted header fed which field (Checks)
    honest: Honest | None = None  # each outcome scored backtest_lead_days before it
    honest_backtest: checks.Backtest | None = None  # churn per tier and AUC of ``honest``
    overrides: Overrides | None = None  # active and expired (Summary, Checks)
    sources: pd.DataFrame | None = None  # one row per Sources row: rows, dates, matches (Checks)
    action_log_rows: pd.DataFrame | None = None  # episodes that ended this run (ActionLog)
    earlier_log: pd.DataFrame | None = None  # the book's ActionLog before this run
    review: Review | None = None  # per owner now, and did the work help (Checks)
    user_columns: dict[str, list[str]] = field(default_factory=dict)  # columns people added
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)  # their headers
    answers: pd.DataFrame | None = None  # maturity answers used: pos, factor, level
    stability: Stability | None = None  # tier changes since earlier snapshots (Checks)


def resolve_as_of(model: Model, as_of: dt.date | None) -> dt.date:
    return as_of or model.settings.as_of or dt.date.today()


def run(
    model: Model,
    sheets: Mapping[str, pd.DataFrame | None],
    history: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
    external: ExternalValues | None = None,
    *,
    prepare: PrepareCustomers,
    kept: Kept | None = None,
) -> Result:
    """Score every customer of ``sheets['Customers']`` as of ``as_of``.

    ``prepare`` reads the Customers sheet into :class:`~xlhealth.core.rows.Customers` (how
    IDs, dates and numbers are read: ``inputs.matching.prepare_customers``; ``xlhealth.run``
    passes it). ``external``: sheets whose rows live in files or a database
    (``inputs.sources.open_sources``). ``kept``: the book's own Summary, Actions and
    ActionLog, so what people typed there is carried on (:mod:`xlhealth.core.actions`).

    Raises ConfigError when nothing can be scored (no Customers sheet or no
    customer_id column); row-level data problems are returned, not raised.
    """
    day = resolve_as_of(model, as_of)
    inputs = {k: v for k, v in sheets.items() if v is not None}
    customers_df = _find(inputs, "Customers")
    if customers_df is None:
        raise ConfigError(
            [
                Problem(
                    "Customers",
                    "the Customers sheet is missing; add it with a customer_id column",
                    blocking=True,
                )
            ]
        )
    customers = prepare(customers_df)
    blocking = [p for p in customers.problems if p.blocking]
    if blocking:
        raise ConfigError(blocking)
    problems: list[Problem] = list(model.warnings) + customers.problems

    resolved: dict = {}  # sheets resolved to customers once, reused by the back-test
    agg = aggregate(model, customers, inputs, day, resolved, external)
    problems += agg.problems
    pts = scoring.band_points(model, agg.values, set(agg.unavailable))
    problems += pts.problems

    frame = _customer_columns(customers)
    frame["score"] = scoring.weighted_score(pts.points, model.scored_metrics)
    snapshots = Snapshots.of(history, customers)  # History read once for all that follows
    previous = snapshots.before(day)
    margin = model.settings.tier_hysteresis
    frame["tier"] = hysteresis_tiers(
        frame["score"].to_numpy(), previous["tier"].to_numpy(), model.tiers, margin
    ).to_numpy()
    frame["tier_label"] = scoring.tier_labels(frame["tier"], model).to_numpy()
    frame["previous_tier"] = previous["tier"].to_numpy()
    scores_now = frame["score"].to_numpy(dtype=float)
    stability = Stability(
        horizon(frame["tier"].to_numpy(), scores_now, previous, model.tiers),
        horizon(frame["tier"].to_numpy(), scores_now,
                snapshots.before(day - dt.timedelta(days=EARLIER_DAYS - 1)), model.tiers),
        margin,
        int((frame["tier"] != scoring.assign_tiers(scores_now, model.tiers)).fillna(False).sum()),
    )  # fmt: skip
    frame["previous_score"] = previous["score"].to_numpy()
    frame["previous_as_of"] = previous["as_of"].to_numpy()
    frame["score_change"] = np.round(frame["score"] - frame["previous_score"], 1)
    scores = frame["score"].to_numpy(dtype=float)
    frame["trend"] = snapshots.trend(day, scores)
    sparks = snapshots.sparks(day, scores)
    for k in range(SPARK_POINTS):
        frame[f"spark_{k + 1}"] = sparks[:, k]
    groups = scoring.group_scores(pts.points, model)
    for g in GROUPS:
        frame[g.lower()] = groups[g.lower()].to_numpy()

    answers, maturity_problems = maturity.answers(model, customers, _find(inputs, "Maturity"))
    problems += maturity_problems
    levels = maturity.cmi(model, answers, customers.n)
    frame["cmi"] = levels["cmi"].to_numpy()
    frame["maturity_level"] = levels["maturity_level"].to_numpy()
    quad = maturity.quadrants(model, frame["score"].to_numpy(), frame["cmi"].to_numpy())
    frame["quadrant"] = quad["quadrant"].to_numpy()
    frame["decision"] = quad["decision"].to_numpy()
    frame["reasons"] = scoring.reasons(pts, model)
    frame["completeness"] = scoring.completeness(pts.state)
    frame["matrix_actions"] = quad["actions"].to_numpy()
    for column in maturity.LEVEL_COLUMNS.values():
        frame[column] = levels[column].to_numpy() if column in levels else np.nan
    frame["maturity_assessed_on"] = levels["assessed_on"].to_numpy()

    # Overrides: shown beside the computed score and read by the Action list's tier rules;
    # score, tier, History, Segments and the back-tests stay computed.
    chosen = overrides.read(model, customers, _find(inputs, "Overrides"), day)
    problems += chosen.problems
    overrides.apply(frame, chosen, model)

    values = agg.values.reset_index(drop=True)

    def baseline(days: float) -> pd.DataFrame:  # score_drop: a snapshot at least days old
        cutoff = day - dt.timedelta(days=round(days) - 1)
        return snapshots.before(cutoff).assign(noise=snapshots.noise(cutoff))

    actions = alerts.evaluate(model, overrides.effective(frame), values, day, baseline)
    actions = overrides.mark_actions(actions, frame, model)
    summary = frame[SUMMARY_COLUMNS + [c for c in frame.columns if c not in SUMMARY_COLUMNS]]
    summary = summary.reset_index(drop=True)
    kept = kept or Kept()
    listed = work.work_list(
        model,
        actions,
        kept.actions,
        kept.action_log,
        summary[["customer_id", "customer_name", "owner", "score", "tier"]],
        day,
    )
    problems += listed.problems
    summary, summary_columns, left = keep_summary_columns(summary, kept.summary)
    problems += left
    honest, honest_problems = backtest.honest(
        model,
        customers,
        summary,
        snapshots,
        day,
        lambda days: aggregate(model, customers, inputs, days, resolved, external),
        _find(inputs, "Outcomes"),
    )
    problems += honest_problems
    return Result(
        as_of=day,
        model=model,
        summary=summary,
        actions=listed.actions,
        segments=segments(summary, model),
        action_log_rows=listed.ended,
        earlier_log=kept.action_log,
        review=review(
            listed.actions,
            pd.concat(
                [f for f in (kept.action_log, listed.ended) if f is not None and len(f)]
                or [pd.DataFrame()],
                ignore_index=True,
            ),
            day,
        ),
        user_columns={"Summary": summary_columns, "Actions": listed.user_columns},
        answers=answers,
        labels=kept.labels,
        history_rows=pd.DataFrame(
            {
                "as_of": pd.Timestamp(day),
                "customer_id": summary["customer_id"],
                "score": summary["score"],
                "tier": summary["tier"],
                "cmi": summary["cmi"],
            },
            columns=HISTORY_COLUMNS,
        ),
        coverage=checks.coverage(model, agg.values, agg.unavailable),
        exemplars=checks.exemplars(summary),
        backtest=checks.backtest(summary, model, None if honest is None else honest.frame),
        values=values.set_axis(summary["customer_id"].to_numpy()),
        points=pts.points.reset_index(drop=True).set_axis(summary["customer_id"].to_numpy()),
        problems=problems,
        sources=agg.sources,
        overrides=chosen,
        honest=honest,
        stability=stability,
        honest_backtest=None
        if honest is None
        else checks.tier_backtest(
            honest.frame["score"].to_numpy(),
            honest.frame["tier"].to_numpy(),
            honest.frame["churned"].to_numpy(),
            model,
        ),
    )


def _find(sheets: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    for key, value in sheets.items():
        if key.casefold() == name.casefold():
            return value
    return None


def _customer_columns(customers: Customers) -> pd.DataFrame:
    f = customers.frame
    out = pd.DataFrame(index=range(customers.n))
    out["customer_id"] = f["customer_id"].map(_id_text).to_numpy(dtype=object)
    for column in (
        "customer_name",
        "segment",
        "owner",
        "owner_email",
        "arr",
        "seats",
        "renewal_date",
        "stage",
        "exemplar",
        "outcome",
    ):
        out[column] = f[column].to_numpy() if column in f.columns else None
    out["renewal_date"] = pd.Series(customers.days(pd.Series(out["renewal_date"]))).to_numpy()
    out["_key"] = f["_key"].to_numpy()
    return out


def _id_text(value: object) -> object:
    """IDs as typed, but 1001.0 from a number cell shows as 1001."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def segments(summary: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Per segment and for all customers: count, mean/median score, tiers, DEAR means, change."""
    language = model.settings.language
    # Segments' live formulas compare TRIM(segment) with the label by Excel's "=": runs of
    # spaces count as one, letter case not at all. Group the same way, under the spelling
    # met first, so both count the same customers.
    none = NO_SEGMENT[language]
    raw = summary["segment"].astype(object)
    shown = raw.where(raw.isna(), raw.astype(str)).astype(object)
    shown = shown.str.replace(" +", " ", regex=True).str.strip(" ")
    shown = shown.where(shown.notna() & (shown != ""), none)
    key = shown.str.lower()
    spelled = shown.groupby(key, sort=False).first()
    frame = summary.assign(segment=key.map(spelled))
    tiers = sorted(model.tiers, key=lambda t: -t.tier)

    def describe(group: pd.DataFrame) -> dict[str, object]:
        row: dict[str, object] = {
            "customers": len(group),
            "scored": int(group["score"].notna().sum()),
            "mean_score": group["score"].mean(),
            "median_score": group["score"].median(),
        }
        for t in tiers:
            row[f"tier_{t.tier}"] = int((group["tier"] == t.tier).sum())
        for g in GROUPS:
            row[g.lower()] = group[g.lower()].mean()
        row["mean_change"] = group["score_change"].mean()
        row["cmi"] = group["cmi"].mean()
        return row

    rows = [{"segment": name, **describe(g)} for name, g in frame.groupby("segment", sort=True)]
    rows.append({"segment": ALL_SEGMENTS[language], **describe(frame)})
    out = pd.DataFrame(rows)
    # half up, as Segments' live formulas round (ROUND would differ on a tie like 45.25)
    out["mean_change"] = np.round(out["mean_change"].astype(float), 1)
    for column in ("mean_score", "median_score", *(g.lower() for g in GROUPS)):
        out[column] = scoring.round_half_up(out[column].astype(float), 1)
    out["cmi"] = scoring.round_half_up(out["cmi"].astype(float), 2)
    return out
