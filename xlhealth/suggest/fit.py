"""The numbers behind the Suggestions sheet: the product's score as a function of the
weights, a weight fit with w ≥ 0, repeated stratified folds, and cut-point search.

Why scipy's L-BFGS-B on a logistic loss of the *real* score (and not scikit-learn):

* the score is ``100 · Σ w·points / Σ w·max`` over the metrics a customer is not
  skipped on, so a weight change is not a linear model of the points whenever
  customers skip metrics; scikit-learn's LogisticRegression fits a linear model of
  the points (another score than the one the workbook computes) and has no w ≥ 0
  bound. Here the loss is a logistic likelihood of churn given the real ratio
  (unclipped, unrounded: a smooth surrogate), with its exact analytic gradient;
* L-BFGS-B takes the bounds w ≥ 0 (and slope ≥ 0: more score, less churn) directly
  and converges in a few dozen gradient steps, so 100,000 customers × 20 metrics
  fit in well under a second;
* the score does not change when every weight is multiplied by the same number, so
  a small penalty keeps the mean weight at 1, and a ridge pulls towards today's
  weights (strength 1/customers: it matters with 60 outcomes, not with 6,000);
* scipy is one well-known dependency (scikit-learn would need scipy too).

Every AUC is measured on the score exactly as the product computes it (clipped to
[0, 100], rounded to 0.1: :func:`product_score` equals ``scoring.weighted_score``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.checks import auc as mann_whitney_auc
from xlhealth.core.scoring import SCORE_DECIMALS, round_half_up

RIDGE = 1.0  # pull towards today's weights, divided by the number of customers
SCALE_PENALTY = 0.1  # keeps the mean weight at 1 (the score ignores a common factor)


@dataclass
class Design:
    """Points as arrays: ``p`` (NaN → 0), ``on`` (1 where the metric is not skipped),
    ``mx`` (each metric's max points, floored at 0) and ``m = on · mx``."""

    p: np.ndarray
    on: np.ndarray
    mx: np.ndarray

    @classmethod
    def from_points(cls, points: np.ndarray, mx: np.ndarray) -> Design:
        points = np.asarray(points, dtype=float)
        on = ~np.isnan(points)
        return cls(np.where(on, points, 0.0), on.astype(float), np.asarray(mx, dtype=float))

    @property
    def m(self) -> np.ndarray:
        return self.on * self.mx

    def take(self, rows: np.ndarray) -> Design:
        return Design(self.p[rows], self.on[rows], self.mx)

    def with_column(self, j: int, points: np.ndarray, mx: float) -> Design:
        """The same customers with metric ``j``'s points replaced (NaN = skipped)."""
        p, on, top = self.p.copy(), self.on.copy(), self.mx.copy()
        scored = ~np.isnan(points)
        p[:, j] = np.where(scored, points, 0.0)
        on[:, j] = scored
        top[j] = max(mx, 0.0)
        return Design(p, on, top)


def product_score(d: Design, w: np.ndarray) -> np.ndarray:
    """The workbook's score (``scoring.weighted_score``) for weights ``w``; NaN = blank."""
    w = np.asarray(w, dtype=float)
    scored = d.on > 0
    earned = np.where(scored, d.p * w, 0.0).sum(axis=1)
    possible = np.where(scored, w * d.mx, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(possible > 0, 100.0 * earned / np.where(possible > 0, possible, 1), np.nan)
    return round_half_up(np.clip(raw, 0.0, 100.0), SCORE_DECIMALS)


@dataclass
class Parts:
    """The score's numerator and denominator per customer, to swap one metric's points
    without summing every metric again (cut points are tried metric by metric)."""

    d: Design
    w: np.ndarray
    earned: np.ndarray
    possible: np.ndarray

    @classmethod
    def of(cls, d: Design, w: np.ndarray) -> Parts:
        scored = d.on > 0
        earned = np.where(scored, d.p * w, 0.0).sum(axis=1)
        possible = np.where(scored, w * d.mx, 0.0).sum(axis=1)
        return cls(d, np.asarray(w, dtype=float), earned, possible)

    def with_column(self, j: int, points: np.ndarray, mx: float) -> np.ndarray:
        """The product's score with metric ``j``'s points replaced (NaN = skipped)."""
        w = self.w[j]
        on = ~np.isnan(points)
        earned = self.earned - w * self.d.p[:, j] * self.d.on[:, j] + np.where(on, w * points, 0)
        possible = (
            self.possible - w * self.d.mx[j] * self.d.on[:, j] + np.where(on, w * max(mx, 0), 0)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(
                possible > 1e-9, 100.0 * earned / np.where(possible > 1e-9, possible, 1), np.nan
            )
        return round_half_up(np.clip(raw, 0.0, 100.0), SCORE_DECIMALS)


def auc(score: np.ndarray, churned: np.ndarray) -> float:
    """checks.auc over the customers with a score (a blank score is not ranked)."""
    score = np.asarray(score, dtype=float)
    keep = ~np.isnan(score)
    return mann_whitney_auc(score[keep], np.asarray(churned, dtype=bool)[keep])


def _loss(theta: np.ndarray, d: Design, m: np.ndarray, y: np.ndarray, prior: np.ndarray):
    """Mean logistic loss of churn ~ σ(a − b·s(w)) with s = Σw·p / Σw·max, and its gradient."""
    k = d.p.shape[1]
    w, a, b = theta[:k], theta[k], theta[k + 1]
    earned = d.p @ w
    possible = m @ w
    ok = possible > 1e-12
    n_ok = max(int(ok.sum()), 1)
    safe = np.where(ok, possible, 1.0)
    s = np.where(ok, earned / safe, 0.0)
    eta = a - b * s
    per = np.logaddexp(0.0, eta) - y * eta
    loss = float(per[ok].sum() / n_ok)
    r = np.where(ok, (0.5 * (1.0 + np.tanh(0.5 * eta)) - y) / n_ok, 0.0)  # σ(η) − y
    q = r / safe
    grad_w = -b * (d.p.T @ q - m.T @ (q * s))
    grad_a = r.sum()
    grad_b = -(r * s).sum()
    drift = w.sum() / k - 1.0
    loss += SCALE_PENALTY * drift * drift
    grad_w = grad_w + 2.0 * SCALE_PENALTY * drift / k
    diff = w - prior
    loss += RIDGE / n_ok * float(diff @ diff)
    grad_w = grad_w + 2.0 * RIDGE / n_ok * diff
    return loss, np.concatenate([grad_w, [grad_a, grad_b]])


def fit_weights(d: Design, churned: np.ndarray, today: np.ndarray) -> np.ndarray:
    """Non-negative weights that best predict churn through the real score (mean 1).

    Two starts (today's weights and equal weights); the lower loss wins.
    """
    from scipy.optimize import minimize

    k = d.p.shape[1]
    y = np.asarray(churned, dtype=float)
    prior = _mean_one(today, k)
    m = d.m
    rate = min(max(y.mean(), 1e-3), 1 - 1e-3)
    best: tuple[float, np.ndarray] | None = None
    starts = [prior] if np.allclose(prior, 1.0) else [prior, np.ones(k)]
    for start in starts:
        possible = m @ start
        s = np.where(possible > 0, (d.p @ start) / np.where(possible > 0, possible, 1), 0)
        b0 = 4.0
        a0 = math.log(rate / (1 - rate)) + b0 * float(s.mean())
        x0 = np.concatenate([start, [a0, b0]])
        bounds = [(0.0, None)] * k + [(None, None), (0.0, None)]
        res = minimize(
            _loss,
            x0,
            args=(d, m, y, prior),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500},
        )
        if best is None or res.fun < best[0]:
            best = (float(res.fun), np.maximum(res.x[:k], 0.0))
    assert best is not None
    return _mean_one(best[1], k)


def _mean_one(w: np.ndarray, k: int) -> np.ndarray:
    w = np.maximum(np.asarray(w, dtype=float), 0.0)
    total = w.sum()
    return np.ones(k) if total <= 0 else w * k / total


def readable(w: np.ndarray, total: float) -> np.ndarray:
    """Weights scaled to sum ``total`` and rounded to a readable step (0.1 for weights ~1).

    Largest remainders: the rounded weights still add up to ``total`` (when it is a
    whole number of steps), so a suggestion never looks like it changed the scale.
    """
    w = np.asarray(w, dtype=float)
    if w.sum() <= 0 or total <= 0:
        return w
    step = weight_step(total / len(w))
    units = w * total / w.sum() / step
    out = np.floor(units + 1e-9)
    short = round(float(total / step - out.sum()))
    if short > 0:
        out[np.argsort(-(units - out), kind="stable")[:short]] += 1
    if out.sum() <= 0:  # everything rounded away: keep the largest
        out[np.argmax(units)] = 1
    return np.round(out * step, 10)


def weight_step(mean_weight: float) -> float:
    """0.1 for weights around 1, 1 around 10, 0.01 around 0.1."""
    if mean_weight <= 0:
        return 0.1
    return 10.0 ** (math.floor(math.log10(mean_weight)) - 1)


def stratified_folds(
    churned: np.ndarray, folds: int, repeats: int, seed: int, groups: np.ndarray | None = None
) -> list[tuple[int, int, np.ndarray]]:
    """(repeat, fold, test mask) for repeated stratified K-fold: churned and renewed
    customers are each shuffled and dealt round the folds.

    ``groups``: the customer of each outcome. A customer's outcomes then go to one fold
    together (a customer who ever churned counts as churned for the dealing), so no fold
    is tested on a customer it was trained on. Without groups every row is its own.
    """
    churned = np.asarray(churned, dtype=bool)
    if groups is None:
        groups = np.arange(len(churned))
    labels, inverse = np.unique(np.asarray(groups), return_inverse=True)
    ever = np.zeros(len(labels), dtype=bool)
    np.logical_or.at(ever, inverse, churned)
    rng = np.random.default_rng(seed)
    out = []
    for r in range(repeats):
        fold_of = np.empty(len(labels), dtype=np.int64)
        for cls in (True, False):
            idx = rng.permutation(np.flatnonzero(ever == cls))
            fold_of[idx] = (np.arange(len(idx)) + int(rng.integers(folds))) % folds
        row_fold = fold_of[inverse]
        for f in range(folds):
            out.append((r + 1, f + 1, row_fold == f))
    return out


def summary(values: np.ndarray) -> dict[str, float]:
    """Mean, sd, min and max of per-fold figures (NaN folds ignored)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return {"mean": np.nan, "sd": np.nan, "min": np.nan, "max": np.nan, "n": 0}
    return {
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
        "n": len(v),
    }


def reliable(gains: dict[str, float]) -> bool:
    """A gain counts only when it is positive and larger than its own spread across folds."""
    return bool(gains["n"] and gains["mean"] > 0 and gains["mean"] > gains["sd"])


# ----------------------------------------------------------------------------- cut points


@dataclass
class Cuts:
    """Suggested bands for one numeric metric: ``cuts`` between ``len(cuts) + 1`` bands."""

    cuts: list[float]
    points: list[float]
    customers: list[int]
    churned: list[int]

    @property
    def rates(self) -> list[float]:
        return [
            c / n if n else float("nan") for c, n in zip(self.churned, self.customers, strict=True)
        ]

    def assign(self, x: np.ndarray) -> np.ndarray:
        """Points for values ``x`` (NaN stays NaN)."""
        x = np.asarray(x, dtype=float)
        idx = np.searchsorted(np.asarray(self.cuts, dtype=float), x, side="right")
        pts = np.asarray(self.points, dtype=float)[np.minimum(idx, len(self.points) - 1)]
        return np.where(np.isnan(x), np.nan, pts)


MAX_BANDS = 4
MIN_SHARE = 0.05  # a suggested band holds at least 5% of the customers with a value …
MIN_CUSTOMERS = 10  # … and at least 10 of them


def find_cuts(
    x: np.ndarray, churned: np.ndarray, lo: float, hi: float, max_bands: int = MAX_BANDS
) -> Cuts | None:
    """Best split of ``x`` into at most ``max_bands`` bands for predicting churn.

    Candidates are the 5 %…95 % quantiles rounded to two significant digits (whole
    numbers for whole-number data), so cuts read like 0.37 or 10. Every split into 2–4
    bands (each with at least 5 % and 10 customers) is scored by its binomial
    log-likelihood, and the number of bands by BIC (an extra band must earn log(n)).
    Churn rates are then made monotone in the direction the data say (pool adjacent
    violators; pooled bands merge), and the points run linearly from ``hi`` (lowest
    churn) to ``lo`` (highest churn). None when no split separates churners.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(churned, dtype=bool)
    keep = ~np.isnan(x)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    return find_cuts_sorted(x[order], y[order], lo, hi, max_bands)


def find_cuts_sorted(
    xs: np.ndarray, churned: np.ndarray, lo: float, hi: float, max_bands: int = MAX_BANDS
) -> Cuts | None:
    """:func:`find_cuts` for values already sorted, without NaN (``churned`` alike)."""
    n = len(xs)
    y = np.asarray(churned, dtype=bool)
    if n < 2 * MIN_CUSTOMERS or y.all() or not y.any():
        return None
    ys = y.astype(float)
    cum = np.concatenate([[0.0], np.cumsum(ys)])
    quantiles = np.quantile(xs, np.arange(0.05, 0.951, 0.05))
    whole = bool(np.all(xs == np.round(xs)))
    candidates = np.unique(np.ceil(quantiles) if whole else _significant(quantiles, 2))
    candidates = candidates[candidates > xs[0]]
    pos = np.searchsorted(xs, candidates, side="left")
    pos, first = np.unique(pos, return_index=True)
    candidates = candidates[first]
    smallest = max(MIN_CUSTOMERS, math.ceil(MIN_SHARE * n))
    total_churn = cum[-1]
    best_score = 2 * _loglik(np.array([[n]]), np.array([[total_churn]]))[0]
    best: tuple[int, ...] = ()
    log_n = math.log(n)
    for j in range(1, max_bands):
        if len(pos) < j:
            break
        combos = np.array(list(itertools.combinations(range(len(pos)), j)), dtype=np.int64)
        if len(combos) == 0:
            break
        bounds = np.column_stack(
            [np.zeros(len(combos), dtype=np.int64), pos[combos], np.full(len(combos), n)]
        )
        counts = np.diff(bounds, axis=1)
        churns = np.diff(cum[bounds], axis=1)
        ok = (counts >= smallest).all(axis=1)
        if not ok.any():
            continue
        score = 2 * _loglik(counts[ok], churns[ok]) - j * log_n
        at = int(np.argmax(score))
        if score[at] > best_score:
            best_score, best = float(score[at]), tuple(combos[ok][at])
    if not best:
        return None
    return _monotone(xs, ys, [float(candidates[i]) for i in best], lo, hi)


def _loglik(counts: np.ndarray, churns: np.ndarray) -> np.ndarray:
    from scipy.special import xlogy

    rest = counts - churns
    with np.errstate(invalid="ignore", divide="ignore"):
        ll = xlogy(churns, churns / counts) + xlogy(rest, rest / counts)
    return np.nan_to_num(ll).sum(axis=1)


def _significant(x: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits (0 stays 0): cut points people can read."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        mag = np.floor(np.log10(np.abs(np.where(x == 0, 1, x))))
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(x * scale) / scale


def _monotone(xs: np.ndarray, ys: np.ndarray, cuts: list[float], lo: float, hi: float):
    """Band counts for ``cuts``, churn made monotone (pooled bands merged), points."""
    while True:
        edges = np.searchsorted(xs, np.asarray(cuts, dtype=float), side="left")
        bounds = np.concatenate([[0], edges, [len(xs)]])
        counts = np.diff(bounds)
        if (counts == 0).any():  # a rounded cut emptied a band: drop that cut
            empty = int(np.flatnonzero(counts == 0)[0])
            cuts.pop(min(empty, len(cuts) - 1))
            if not cuts:
                return None
            continue
        churns = np.array([ys[a:b].sum() for a, b in itertools.pairwise(bounds)])
        rates = churns / counts
        falling = rates[-1] <= rates[0]  # more value, less churn
        pooled = _pava(rates if falling else -rates, counts)
        merge = [i for i in range(len(cuts)) if pooled[i] == pooled[i + 1]]
        if not merge:
            break
        for i in reversed(merge):
            cuts.pop(i)
        if not cuts:
            return None
    r_max, r_min = rates.max(), rates.min()
    if r_max - r_min <= 0:
        return None
    span = hi - lo if hi > lo else 10.0
    base = lo if hi > lo else 0.0
    raw = base + span * (r_max - rates) / (r_max - r_min)
    step = 1.0 if span >= 4 else 0.5
    points = [float(np.round(p / step) * step) for p in raw]
    return Cuts(cuts, points, [int(c) for c in counts], [int(c) for c in churns])


def _pava(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Non-increasing fit by pool-adjacent-violators; returns the pooled value per item."""
    blocks: list[list[float]] = []  # [value, weight, size]
    for v, w in zip(values, weights, strict=True):
        blocks.append([float(v), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for v, _, size in blocks:
        out += [v] * int(size)
    # identical pooled values mark merged neighbours; tiny float noise is not a merge
    return np.round(np.asarray(out), 12)


def rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (NaN with fewer than 3 pairs or a constant side)."""
    sa, sb = pd.Series(a, dtype=float), pd.Series(b, dtype=float)
    if len(sa) < 3 or sa.nunique() < 2 or sb.nunique() < 2:
        return float("nan")
    return float(sa.corr(sb, method="spearman"))
