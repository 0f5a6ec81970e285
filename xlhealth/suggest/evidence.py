"""Suggestions from the honest back-test: evidence per metric, weights, cut points.

Pure core: the model, per-customer per-metric POINTS (NaN = skipped), VALUES (raw,
for bands and cut points) and ``churned`` in; a :class:`Suggestion` out. It never
changes the model; ``xlhealth suggest --apply`` writes the suggested weights, only
when asked (``suggest_book``).

What a suggestion may promise: on a public telecom table (7,043 customers, five banded
metrics) equal weights give AUC 0.833 and the best non-negative weights about 0.838
cross-validated; fitting lifts poor starting weights by about +0.02. So every gain is
shown with its spread across held-out folds, and one that does not exceed that spread
is called what it is: no reliable gain.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core.checks import auc_interval
from xlhealth.core.model import Metric, Model
from xlhealth.core.scoring import band_index
from xlhealth.suggest import fit as fit

MIN_OUTCOMES = 30
"""Churned and renewed customers each needed before weights are fitted."""
FOLDS, REPEATS, SEED = 5, 4, 20260101
# A metric's flag comes from its AUC's 95% interval (DeLong), so it respects sample size:
# "against" when the whole interval is below 0.5, "no_separation" when it contains 0.5.
# A fixed band of AUCs said "does not separate" of a harmful metric at AUC 0.456 with 764
# churners — four standard errors below 0.5.

FLAGS = ("no_data", "one_band", "against", "no_separation")


@dataclass
class CutSuggestion:
    metric: str
    cuts: fit.Cuts
    gains: dict[str, float]  # per-fold AUC gain of the model with these bands
    folds_found: int  # folds whose training customers gave a split at all

    @property
    def reliable(self) -> bool:
        return fit.reliable(self.gains)


@dataclass
class Suggestion:
    customers: int
    churned: int
    min_outcomes: int
    metrics: pd.DataFrame  # metric, group, customers_with_value, coverage, weight_today, …
    bands: pd.DataFrame  # metric, band, points, customers, churned, churn_rate
    auc_today_all: float  # today's weights, every customer (the honest back-test AUC)
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)  # repeat, fold, …, gain
    cut_points: list[CutSuggestion] = field(default_factory=list)
    n_folds: int = FOLDS
    repeats: int = REPEATS
    distinct_customers: int = 0  # customers behind the outcomes (fewer with renewal histories)

    @property
    def renewed(self) -> int:
        return self.customers - self.churned

    @property
    def fitted(self) -> bool:
        """Enough outcomes of each kind to fit (else the sheet says so, and nothing is fitted)."""
        return self.churned >= self.min_outcomes and self.renewed >= self.min_outcomes

    def cv(self, column: str) -> dict[str, float]:
        return fit.summary(self.folds[column].to_numpy() if len(self.folds) else [])

    @property
    def reliable(self) -> bool:
        return self.fitted and fit.reliable(self.cv("gain"))

    def weights(self) -> dict[str, float]:
        """Suggested weight per metric whose weight changes (for ``--apply``)."""
        m = self.metrics
        changed = m["weight_suggested"].notna() & (m["weight_suggested"] != m["weight_today"])
        return dict(
            zip(
                m.loc[changed, "metric"],
                m.loc[changed, "weight_suggested"].astype(float),
                strict=True,
            )
        )


def suggest(
    model: Model,
    points: pd.DataFrame,
    values: pd.DataFrame,
    churned: np.ndarray | pd.Series,
    min_outcomes: int = MIN_OUTCOMES,
    folds: int = FOLDS,
    repeats: int = REPEATS,
    seed: int = SEED,
    progress=lambda _: None,
    groups: np.ndarray | None = None,
) -> Suggestion:
    """Evidence per metric; with enough outcomes also fitted weights and cut points.

    ``points``/``values``: one row per outcome (same order as ``churned``), one column
    per scored metric (missing columns = no data). ``groups``: the customer of each row
    when a customer has several outcomes (a renewal history): folds then split by
    customer, so no customer's outcomes sit on both sides of a fold.
    """
    with _one_blas_thread():
        return _suggest(
            model, points, values, churned, min_outcomes, folds, repeats, seed, progress, groups
        )


def _one_blas_thread():
    """BLAS on one thread while fitting: L-BFGS-B's tiny LAPACK calls each wake OpenBLAS'
    threads, which made a fit 40× slower on a busy 2-core machine (78 ms vs 2 ms)."""
    import scipy.optimize  # noqa: F401  (loads scipy's own OpenBLAS before limiting it)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency; slower without it
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _suggest(model, points, values, churned, min_outcomes, folds, repeats, seed, progress,
             groups):  # fmt: skip
    metrics = list(model.scored_metrics)
    y = np.asarray(churned, dtype=bool)
    n = len(y)
    pts = points.reindex(columns=[m.name for m in metrics]).to_numpy(dtype=float)
    vals = values.reindex(columns=[m.name for m in metrics])
    if pts.shape[0] != n or len(vals) != n:
        raise ValueError("points, values and churned must have one row per outcome")
    groups = np.arange(n) if groups is None else np.asarray(groups)
    today = np.array([m.weight for m in metrics], dtype=float)
    design = fit.Design.from_points(pts, np.array([m.max_points for m in metrics]))
    table, bands = _evidence(model, metrics, pts, vals, y)
    result = Suggestion(
        customers=n,
        distinct_customers=int(np.unique(groups).size),
        churned=int(y.sum()),
        min_outcomes=min_outcomes,
        metrics=table,
        bands=bands,
        auc_today_all=fit.auc(fit.product_score(design, today), y),
        n_folds=folds,
        repeats=repeats,
    )
    if not result.fitted:
        return result
    # a weight matters when the metric has data, can earn (or cost) points and does not
    # give everyone the same points (then its weight only moves every score alike: kept)
    matters = (design.mx > 0) | (np.abs(design.p).sum(axis=0) > 0)
    fitted = ~table["flag"].isin(["no_data", "one_band"]).to_numpy() & matters
    if not fitted.any():
        return result
    total = float(today[fitted].sum()) or float(fitted.sum())

    def suggested(rows: np.ndarray) -> np.ndarray:
        sub = fit.Design(design.p[rows][:, fitted], design.on[rows][:, fitted], design.mx[fitted])
        w = fit.readable(fit.fit_weights(sub, y[rows], today[fitted]), total)
        out = today.copy()
        out[fitted] = w
        return out

    progress(f"Fitting weights on {n:,} customers")
    table["weight_suggested"] = np.where(fitted, suggested(np.arange(n)), np.nan)
    splits = fit.stratified_folds(y, folds, repeats, seed, groups)
    rows = []
    for r, f, test in splits:
        if f == 1:
            progress(f"Cross-validating: repeat {r} of {repeats} ({folds} folds)")
        w = suggested(np.flatnonzero(~test))
        d_test = design.take(test)
        a_today = fit.auc(fit.product_score(d_test, today), y[test])
        a_new = fit.auc(fit.product_score(d_test, w), y[test])
        rows.append(
            {
                "repeat": r,
                "fold": f,
                "customers": int(test.sum()),
                "churned": int(y[test].sum()),
                "auc_today": a_today,
                "auc_suggested": a_new,
                "gain": round(a_new - a_today, 12),  # no "-0.000" from float noise
            }
        )
    result.folds = pd.DataFrame(rows)
    progress("Cut points for numeric metrics")
    result.cut_points = _cut_points(metrics, design, vals, y, today, splits, result.folds)
    _agree(result, metrics)
    return result


def _agree(result: Suggestion, metrics: list[Metric]) -> None:
    """The evidence row never contradicts the cut-point table: a metric whose reliable
    re-banding reverses its points (more of it now costs points, or the other way) runs
    against the outcomes as its bands stand."""
    by_name = {m.name: m for m in metrics}
    table = result.metrics
    for cut in result.cut_points:
        if not cut.reliable or not reverses(by_name[cut.metric], cut.cuts):
            continue
        table.loc[table["metric"] == cut.metric, "flag"] = "against"


def reverses(metric: Metric, cuts: fit.Cuts) -> bool:
    """Whether suggested bands give points the other way round along the values than the
    metric's bands do: the lowest values' band against the highest values' band."""
    numeric = [b.points for b in metric.bands if not b.is_text]  # in order of their values
    if len(numeric) < 2 or len(cuts.points) < 2:
        return False
    now, new = numeric[-1] - numeric[0], cuts.points[-1] - cuts.points[0]
    return bool(now * new < 0)


def _evidence(
    model: Model, metrics: list[Metric], pts: np.ndarray, vals: pd.DataFrame, y: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    language = model.settings.language
    n = len(y)
    rows, band_rows = [], []
    for j, m in enumerate(metrics):
        col = vals.iloc[:, j]
        band_of, _present = band_index(m, col)
        have = band_of >= 0
        p = pts[:, j]
        scored = ~np.isnan(p)
        if scored.any():
            metric_auc, auc_low, auc_high = auc_interval(p[scored], y[scored])
        else:
            metric_auc = auc_low = auc_high = float("nan")
        rates, band_points = [], []
        for i, b in enumerate(m.bands):
            inside = band_of == i
            count = int(inside.sum())
            churn = int(y[inside].sum())
            rate = churn / count if count else float("nan")
            if count:
                rates.append(rate)
                band_points.append(b.points)
            band_rows.append(
                {
                    "metric": m.name,
                    "band": b.describe(),
                    "label": (b.label_ja if language == "ja" and b.label_ja else b.label),
                    "points": b.points,
                    "customers": count,
                    "churned": churn,
                    "churn_rate": rate,
                }
            )
        outside = ~have
        if outside.any():
            band_rows.append(
                {
                    "metric": m.name,
                    "band": "(no value)",
                    "label": _missing_text(m, language),
                    "points": _missing_points(m),
                    "customers": int(outside.sum()),
                    "churned": int(y[outside].sum()),
                    "churn_rate": float(y[outside].mean()),
                }
            )
        corr = fit.rank_corr(np.array(band_points), np.array(rates))
        distinct = len(np.unique(p[scored]))
        if not have.any():
            flag = "no_data"
        elif distinct <= 1:
            flag = "one_band"
        elif auc_high < 0.5:
            flag = "against"
        elif not auc_low > 0.5:  # the interval holds 0.5 (or there is no interval)
            flag = "no_separation"
        else:
            flag = ""
        rows.append(
            {
                "metric": m.name,
                "group": m.group,
                "description": m.label(language),
                "customers_with_value": int(have.sum()),
                "coverage": have.sum() / n if n else np.nan,
                "weight_today": m.weight,
                "weight_suggested": np.nan,
                "metric_auc": metric_auc,
                "auc_low": auc_low,
                "auc_high": auc_high,
                "band_churn_corr": corr,
                "flag": flag,
                "text": m.is_text,
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(
        band_rows,
        columns=["metric", "band", "label", "points", "customers", "churned", "churn_rate"],
    )


def _missing_points(m: Metric) -> float:
    """Points for a missing value, as ``when_missing`` says (NaN: left out of the score)."""
    if m.when_missing == "skip":
        return float("nan")
    return 0.0 if m.when_missing == "zero" else float(m.when_missing)


def _missing_text(m: Metric, language: str) -> str:
    if m.when_missing == "skip":
        return (
            "値なし（スコアから除外）" if language == "ja" else "no value (left out of the score)"
        )
    if m.when_missing == "zero":
        return "値なし（0点）" if language == "ja" else "no value (0 points)"
    return (
        f"値なし（{m.when_missing:g}点）"
        if language == "ja"
        else f"no value ({m.when_missing:g} points)"
    )


def _cut_points(
    metrics: list[Metric],
    design: fit.Design,
    vals: pd.DataFrame,
    y: np.ndarray,
    today: np.ndarray,
    splits: list[tuple[int, int, np.ndarray]],
    folds: pd.DataFrame,
) -> list[CutSuggestion]:
    """Per numeric metric: bands found on all customers, their effect found fold by fold.

    In each fold the bands are searched on the training customers only, and the model
    (today's weights, this metric re-banded) is scored on the customers left out.
    """
    found: dict[int, tuple[fit.Cuts, np.ndarray, np.ndarray, float, float]] = {}
    for j, m in enumerate(metrics):
        if m.is_text or today[j] <= 0:
            continue
        x = pd.to_numeric(vals.iloc[:, j], errors="coerce").to_numpy(dtype=float)
        present = ~np.isnan(x)
        if not present.any():
            continue
        lo = min(b.points for b in m.bands)
        hi = max(b.points for b in m.bands)
        order = np.argsort(x, kind="stable")
        order = order[present[order]]  # sorted once; a fold keeps its own rows of it
        whole = fit.find_cuts_sorted(x[order], y[order], lo, hi)
        if whole is not None:
            found[j] = (whole, x, order, lo, hi)
    gains: dict[int, list[float]] = {j: [] for j in found}
    hits = dict.fromkeys(found, 0)
    for (_, _, test), base in zip(splits, folds["auc_today"], strict=True):
        d_test = design.take(test)
        parts = fit.Parts.of(d_test, today)
        for j, (_, x, order, lo, hi) in found.items():
            train = order[~test[order]]
            cuts = fit.find_cuts_sorted(x[train], y[train], lo, hi)
            if cuts is None:  # no split on these training customers: the bands stay
                gains[j].append(0.0)
                continue
            hits[j] += 1
            xt = x[test]
            new = np.where(np.isnan(xt), design_points(d_test, j), cuts.assign(xt))
            score = parts.with_column(j, new, max(cuts.points))
            gains[j].append(fit.auc(score, y[test]) - base)
    return [
        CutSuggestion(metrics[j].name, found[j][0], fit.summary(np.array(gains[j])), hits[j])
        for j in found
    ]


def design_points(d: fit.Design, j: int) -> np.ndarray:
    """Metric ``j``'s points as the score sees them (NaN where skipped)."""
    return np.where(d.on[:, j] > 0, d.p[:, j], np.nan)


def inputs_from_honest(honest) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """POINTS, VALUES and churned for the customers scored as of outcome_date − lead days."""
    frame = honest.frame
    rows = frame.index[frame["basis"] == "outcome_date"]
    points = honest.points.reindex(rows)
    values = honest.values.reindex(rows)
    churned = frame.loc[rows, "churned"].astype(bool).to_numpy()
    return points, values, churned


def outcome_groups(honest) -> np.ndarray:
    """The customer of each row :func:`inputs_from_honest` returns (folds split by it)."""
    frame = honest.frame
    return frame.loc[frame["basis"] == "outcome_date", "customer"].to_numpy(dtype=np.int64)
