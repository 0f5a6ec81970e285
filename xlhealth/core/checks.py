"""What a user must know before trusting the numbers.

* coverage: share of customers with a value per metric; a metric only a few
  customers have says nothing about the rest (the note article's warning);
* exemplars: do the customers the team calls ``good`` score above the ``bad``
  ones? (describe ideal and bad customers, then check the ranking);
* back-test: with outcomes, churn per tier, AUC and lift of the lowest tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.model import Model


def coverage(model: Model, values: pd.DataFrame, unavailable: dict[str, str]) -> pd.DataFrame:
    """One row per metric: customers with a value, the share, and the coverage_min flag."""
    n = len(values)
    rows = []
    for m in model.metrics:
        have = int(values[m.name].notna().sum()) if m.name in values.columns else 0
        share = have / n if n else np.nan
        rows.append(
            {
                "metric": m.name,
                "group": m.group,
                "source": m.source,
                "scored": m.scored,
                "customers_with_value": have,
                "coverage": share,
                "flag": bool(
                    m.scored and (m.name in unavailable or share < model.settings.coverage_min)
                ),
                "note": unavailable.get(m.name, ""),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class ExemplarCheck:
    good: int
    bad: int
    pairs: int
    in_order: int
    out_of_order: pd.DataFrame  # good_id, good_score, bad_id, bad_score
    unscored: list[str]

    @property
    def ok(self) -> bool:
        return self.pairs > 0 and self.in_order == self.pairs


def exemplars(summary: pd.DataFrame) -> ExemplarCheck:
    """Every (good, bad) pair whose good exemplar does not score strictly above the bad one."""
    label = summary["exemplar"].astype("string").str.strip().str.casefold()
    scored = summary["score"].notna()
    good = summary[(label == "good") & scored]
    bad = summary[(label == "bad") & scored]
    unscored = summary.loc[label.isin(["good", "bad"]).fillna(False) & ~scored, "customer_id"]
    gs = good["score"].to_numpy(dtype=float)
    bs = bad["score"].to_numpy(dtype=float)
    wrong = gs[:, None] <= bs[None, :]
    gi, bi = np.nonzero(wrong)
    pairs = pd.DataFrame(
        {
            "good_id": good["customer_id"].to_numpy()[gi],
            "good_score": gs[gi],
            "bad_id": bad["customer_id"].to_numpy()[bi],
            "bad_score": bs[bi],
        }
    )
    total = len(gs) * len(bs)
    return ExemplarCheck(
        len(gs), len(bs), total, total - len(pairs), pairs, [str(x) for x in unscored]
    )


def auc(score: np.ndarray, churned: np.ndarray) -> float:
    """P(a renewed customer scores above a churned one), ties counting ½ (Mann–Whitney).

    A score that predicts retention well is near 1; 0.5 is a coin toss.
    """
    score = np.asarray(score, dtype=float)
    churned = np.asarray(churned, dtype=bool)
    n_churn = int(churned.sum())
    n_renew = int((~churned).sum())
    if n_churn == 0 or n_renew == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    u = ranks[~churned].sum() - n_renew * (n_renew + 1) / 2
    return float(u / (n_renew * n_churn))


Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def auc_interval(score: np.ndarray, churned: np.ndarray) -> tuple[float, float, float]:
    """The AUC and its 95% interval by DeLong's method (ties count ½, as in :func:`auc`).

    DeLong's variance is exact for tied scores, which banded points are full of (Hanley and
    McNeil's formula assumes continuous scores). NaN without both outcomes.
    """
    score = np.asarray(score, dtype=float)
    churned = np.asarray(churned, dtype=bool)
    renewed = ~churned
    m, n = int(renewed.sum()), int(churned.sum())
    if m == 0 or n == 0:
        return float("nan"), float("nan"), float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    own_renewed = pd.Series(score[renewed]).rank(method="average").to_numpy()
    own_churned = pd.Series(score[churned]).rank(method="average").to_numpy()
    v10 = (ranks[renewed] - own_renewed) / n  # per renewed: share of churned below it
    v01 = 1.0 - (ranks[churned] - own_churned) / m  # per churned: share of renewed above it
    value = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    half = Z95 * float(np.sqrt(max(var, 0.0)))
    return value, max(0.0, value - half), min(1.0, value + half)


@dataclass
class Backtest:
    by_tier: pd.DataFrame  # tier, customers, churned, churn_rate
    customers: int
    churned: int
    churn_rate: float
    auc: float
    lowest_tier: int | None
    lift: float
    auc_low: float = float("nan")  # the AUC's 95% interval (DeLong)
    auc_high: float = float("nan")


def backtest(
    summary: pd.DataFrame, model: Model, decisions: pd.DataFrame | None = None
) -> Backtest | None:
    """Today's scores against the outcomes (optimistic: it sees churn that already happened).

    ``decisions``: the honest back-test's observations (``customer_id``, ``churned``), one
    per renewal decision; each is set against its customer's score today. Without them,
    ``Customers.outcome``.
    """
    if decisions is not None:
        at = pd.Index(summary["customer_id"]).get_indexer(decisions["customer_id"])
        mine = at >= 0
        return tier_backtest(
            summary["score"].to_numpy(dtype=float)[at[mine]],
            summary["tier"].to_numpy()[at[mine]],
            decisions["churned"].to_numpy(dtype=bool)[mine],
            model,
        )
    outcome = summary["outcome"].astype("string").str.strip().str.casefold()
    known = outcome.isin(["churned", "renewed"]).fillna(False).to_numpy()
    return tier_backtest(
        summary["score"].to_numpy(dtype=float)[known],
        summary["tier"].to_numpy()[known],
        (outcome.to_numpy(dtype=object)[known] == "churned"),
        model,
    )


def tier_backtest(
    score: np.ndarray, tier: np.ndarray, churned: np.ndarray, model: Model
) -> Backtest | None:
    """Churn per tier, AUC and lift of the lowest populated tier; None without outcomes.

    Customers without a score are left out. Lift = churn rate of the lowest tier that has
    customers with an outcome, divided by the overall churn rate (2.0: that tier churns
    twice as often).
    """
    scored = ~np.isnan(np.asarray(score, dtype=float))
    if not scored.any():
        return None
    frame = pd.DataFrame(
        {
            "score": np.asarray(score, dtype=float)[scored],
            "tier": np.asarray(tier)[scored],
            "churned": np.asarray(churned, dtype=bool)[scored],
        }
    )
    grouped = frame.groupby("tier").agg(customers=("churned", "size"), churned=("churned", "sum"))
    grouped = grouped.reindex([t.tier for t in sorted(model.tiers, key=lambda t: t.tier)])
    grouped = grouped.fillna(0).astype(int)
    grouped["churn_rate"] = np.where(
        grouped["customers"] > 0, grouped["churned"] / grouped["customers"].clip(lower=1), np.nan
    )
    by_tier = grouped.reset_index().rename(columns={"index": "tier"})
    total = len(frame)
    churned = int(frame["churned"].sum())
    rate = churned / total
    populated = by_tier[by_tier["customers"] > 0]
    lowest = int(populated["tier"].iloc[0]) if not populated.empty else None
    lift = (
        float(populated["churn_rate"].iloc[0] / rate)
        if lowest is not None and rate > 0
        else float("nan")
    )
    value, low, high = auc_interval(frame["score"].to_numpy(), frame["churned"].to_numpy())
    return Backtest(by_tier, total, churned, rate, value, lowest, lift, low, high)
