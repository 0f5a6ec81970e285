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

from xlhealth import alerts, checks, maturity, scoring
from xlhealth.aggregate import aggregate
from xlhealth.matching import Customers, prepare_customers, to_days
from xlhealth.model import GROUPS, Model
from xlhealth.problems import ConfigError, Problem

SUMMARY_COLUMNS = [
    "customer_id",
    "customer_name",
    "segment",
    "owner",
    "score",
    "tier",
    "tier_label",
    "score_change",
    "deployment",
    "engagement",
    "adoption",
    "roi",
    "cmi",
    "maturity_level",
    "quadrant",
    "decision",
    "reasons",
    "completeness",
]
HISTORY_COLUMNS = ["as_of", "customer_id", "score", "tier", "cmi"]
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


def resolve_as_of(model: Model, as_of: dt.date | None) -> dt.date:
    return as_of or model.settings.as_of or dt.date.today()


def run(
    model: Model,
    sheets: Mapping[str, pd.DataFrame | None],
    history: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> Result:
    """Score every customer of ``sheets['Customers']`` as of ``as_of``.

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
    customers = prepare_customers(customers_df)
    blocking = [p for p in customers.problems if p.blocking]
    if blocking:
        raise ConfigError(blocking)
    problems: list[Problem] = list(model.warnings) + customers.problems

    agg = aggregate(model, customers, inputs, day)
    problems += agg.problems
    pts = scoring.band_points(model, agg.values, set(agg.unavailable))
    problems += pts.problems

    frame = _customer_columns(customers)
    frame["score"] = scoring.weighted_score(pts.points, model.scored_metrics)
    frame["tier"] = scoring.assign_tiers(frame["score"].to_numpy(), model.tiers).to_numpy()
    frame["tier_label"] = scoring.tier_labels(frame["tier"], model).to_numpy()
    previous = previous_snapshot(history, customers, day)
    frame["previous_score"] = previous["score"].to_numpy()
    frame["previous_as_of"] = previous["as_of"].to_numpy()
    frame["score_change"] = np.round(frame["score"] - frame["previous_score"], 1)
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

    values = agg.values.reset_index(drop=True)
    actions = alerts.evaluate(model, frame, values, day)
    summary = frame[SUMMARY_COLUMNS + [c for c in frame.columns if c not in SUMMARY_COLUMNS]]
    summary = summary.reset_index(drop=True)
    return Result(
        as_of=day,
        model=model,
        summary=summary,
        actions=actions,
        segments=segments(summary, model),
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
        backtest=checks.backtest(summary, model),
        values=values.set_axis(summary["customer_id"].to_numpy()),
        points=pts.points.reset_index(drop=True).set_axis(summary["customer_id"].to_numpy()),
        problems=problems,
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
    out["renewal_date"] = pd.Series(to_days(pd.Series(out["renewal_date"]))).to_numpy()
    out["_key"] = f["_key"].to_numpy()
    return out


def _id_text(value: object) -> object:
    """IDs as typed, but 1001.0 from a number cell shows as 1001."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def previous_snapshot(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date
) -> pd.DataFrame:
    """Each customer's latest History row dated strictly before ``as_of`` (score, as_of)."""
    empty = pd.DataFrame(
        {
            "score": np.full(customers.n, np.nan),
            "as_of": pd.Series([pd.NaT] * customers.n, dtype="datetime64[s]"),
        }
    )
    if history is None or history.empty or "customer_id" not in history.columns:
        return empty
    h = pd.DataFrame(
        {
            "key": customers.ids(history["customer_id"]).to_numpy(dtype=object),
            "as_of": to_days(history["as_of"])
            if "as_of" in history.columns
            else np.datetime64("NaT"),
            "score": pd.to_numeric(history.get("score"), errors="coerce"),
            "order": np.arange(len(history)),
        }
    )
    h = h[h["as_of"] < np.datetime64(as_of, "D")].dropna(subset=["key", "as_of"])
    if h.empty:
        return empty
    last = h.sort_values(["as_of", "order"]).drop_duplicates("key", keep="last").set_index("key")
    pos = customers.keys
    out = pd.DataFrame(
        {
            "score": last["score"].reindex(pos).to_numpy(dtype=float),
            "as_of": last["as_of"].reindex(pos).to_numpy(),
        }
    )
    return out


def merge_history(earlier: pd.DataFrame | None, new: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Earlier snapshots kept as they are, this run's rows appended.

    One snapshot per as_of date: re-running a date replaces only that date's rows.
    """
    if earlier is None or earlier.empty:
        return new
    keep = earlier.reindex(columns=HISTORY_COLUMNS)
    keep = keep[pd.to_datetime(keep["as_of"], errors="coerce").dt.date != as_of]
    return pd.concat([keep, new], ignore_index=True)


def segments(summary: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Per segment and for all customers: count, mean/median score, tiers, DEAR means, change."""
    language = model.settings.language
    seg = summary["segment"].astype(object).where(summary["segment"].notna(), NO_SEGMENT[language])
    seg = seg.map(lambda s: str(s).strip() or NO_SEGMENT[language])
    frame = summary.assign(segment=seg)
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
    for column in ("mean_score", "median_score", "mean_change", *(g.lower() for g in GROUPS)):
        out[column] = np.round(out[column].astype(float), 1)
    out["cmi"] = np.round(out["cmi"].astype(float), 2)
    return out
