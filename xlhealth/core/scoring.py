"""Points, score, DEAR group scores, tier, completeness and reasons.

Normative rules (DESIGN.md, "What the numbers mean"):

* points = the band holding the value; a value no band holds is a data error,
  treated as missing; missing follows ``when_missing`` (skip / zero / points).
* score = 100 · Σ weight·points / Σ weight·max over metrics not skipped,
  clipped to [0, 100], blank when the denominator is 0.
* tier = highest tier whose ``min_score`` ≤ score.

Scores are rounded half-up to :data:`SCORE_DECIMALS` before tiering, so the
tier always agrees with the number a person sees: a score shown as 80.0 is in
the tier that starts at 80.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.aggregate import normalised_text
from xlhealth.core.model import GROUPS, Band, Metric, Model, Tier
from xlhealth.core.problems import Problem, show_value
from xlhealth.core.text import normalise_one

SCORE_DECIMALS = 1

# What a cell of the points matrix came from (for reasons and Checks).
HIT, MISSING, SKIPPED = 0, 1, 2


def round_half_up(values: np.ndarray | pd.Series, decimals: int) -> np.ndarray:
    """Round half away from zero for non-negative numbers, robust to float noise.

    ``round(79.95, 1)`` is 79.9 in binary floating point; a person expects 80.0.
    Rounding first to 9 decimals removes the representation error.
    """
    x = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    return np.floor(np.round(x * scale, 6) + 0.5) / scale


COMPARED_DIGITS = 14


def as_compared(x: np.ndarray) -> np.ndarray:
    """Values as they are compared with band edges: to 14 significant digits.

    A spreadsheet shows 0.7 − 0.4 as 0.3 and treats numbers that close as equal (LibreOffice
    compares within 2⁻⁴⁸; Excel rounds to 15 digits), so a person expects it in the band
    that starts at 0.3 — and the live formulas on the Values sheet (which holds these
    rounded values) must agree with refresh on every value near an edge.
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
        ok = np.isfinite(magnitude)
        scale = 10.0 ** np.where(ok, COMPARED_DIGITS - 1 - magnitude, 0.0)
        rounded = np.round(x * scale) / scale
    return np.where(ok & np.isfinite(rounded), rounded, x)


@dataclass
class Points:
    """Points per customer (rows) and scored metric (columns); NaN where skipped."""

    points: pd.DataFrame
    state: pd.DataFrame  # HIT / MISSING / SKIPPED per cell
    labels: pd.DataFrame  # the band label (or missing text) per cell, in the chosen language
    problems: list[Problem]


def missing_label(metric: Metric, language: str) -> str:
    return f"{metric.label(language)}: " + ("データなし" if language == "ja" else "no data")


def band_points(
    model: Model, values: pd.DataFrame, unavailable: set[str] | frozenset[str] = frozenset()
) -> Points:
    """Look up every scored metric's value in its bands (vectorised per metric)."""
    language = model.settings.language
    index = values.index
    pts: dict[str, np.ndarray] = {}
    states: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    for m in model.scored_metrics:
        n = len(index)
        if m.name in unavailable or m.name not in values.columns:
            pts[m.name] = np.full(n, np.nan)
            states[m.name] = np.full(n, SKIPPED, dtype=np.int8)
            labels[m.name] = np.full(n, "", dtype=object)
            continue
        idx, present = band_index(m, values[m.name])
        outside = present & (idx < 0)
        if outside.any():
            problems.append(_outside_problem(m, values[m.name], outside, index))
        hit = idx >= 0
        band_pts = np.array([b.points for b in m.bands], dtype=float)
        band_lbl = np.array([_band_label(b, m, language) for b in m.bands] + [""], dtype=object)
        p = np.where(hit, band_pts[np.maximum(idx, 0)], np.nan)
        state = np.where(hit, HIT, MISSING).astype(np.int8)
        label = band_lbl[np.where(hit, idx, -1)]
        if m.when_missing == "skip":
            state[~hit] = SKIPPED
        else:
            p[~hit] = 0.0 if m.when_missing == "zero" else float(m.when_missing)
            label = np.where(hit, label, missing_label(m, language))
        pts[m.name], states[m.name], labels[m.name] = p, state, label
    columns = [m.name for m in model.scored_metrics]
    return Points(
        pd.DataFrame(pts, index=index, columns=columns),
        pd.DataFrame(states, index=index, columns=columns),
        pd.DataFrame(labels, index=index, columns=columns),
        problems,
    )


def _band_label(band: Band, metric: Metric, language: str) -> str:
    if language == "ja" and band.label_ja:
        return band.label_ja
    return band.label or f"{metric.label(language)} {band.describe()}"


def band_index(metric: Metric, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Index of the band holding each value (-1: none); and which values are present."""
    if metric.is_text:
        keys = normalised_text(values.astype(object))
        lookup = {normalise_one(b.value): i for i, b in enumerate(metric.bands)}
        idx = keys.map(lookup).fillna(-1).to_numpy(dtype=np.int64)
        return idx, keys.notna().to_numpy()
    x = as_compared(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float))
    present = ~np.isnan(x)
    bands = metric.bands
    starts = np.array([-np.inf if b.min is None else b.min for b in bands])
    end = np.inf if bands[-1].max is None else bands[-1].max
    idx = np.searchsorted(starts, x, side="right") - 1
    inside = present & (idx >= 0) & (x < end)
    return np.where(inside, idx, -1), present


def _outside_problem(
    metric: Metric, values: pd.Series, outside: np.ndarray, index: pd.Index
) -> Problem:
    first = int(np.argmax(outside))
    more = int(outside.sum()) - 1
    extra = f" (and {more} more customers)" if more else ""
    return Problem(
        metric.source or "Metrics",
        f"value of metric {metric.name!r} is outside every band in Rules{extra}; it is treated "
        "as missing — add a band for it or fix the data",
        column=metric.column or metric.name,
        value=show_value(values.iloc[first]),
        customer_id=str(index[first]),
    )


def weighted_score(points: pd.DataFrame, metrics: list[Metric] | tuple[Metric, ...]) -> np.ndarray:
    """100 · Σ w·p / Σ w·max over non-skipped cells; NaN when nothing can be earned."""
    if not metrics:
        return np.full(len(points), np.nan)
    p = points[[m.name for m in metrics]].to_numpy(dtype=float)
    w = np.array([m.weight for m in metrics])
    mx = np.array([m.max_points for m in metrics])
    scored = ~np.isnan(p)
    earned = np.where(scored, p * w, 0.0).sum(axis=1)
    possible = np.where(scored, w * mx, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(possible > 0, 100.0 * earned / np.where(possible > 0, possible, 1), np.nan)
    return round_half_up(np.clip(raw, 0.0, 100.0), SCORE_DECIMALS)


def group_scores(points: pd.DataFrame, model: Model) -> pd.DataFrame:
    """One score column per DEAR group (lower-case names, as on Summary)."""
    out = {}
    for group in GROUPS:
        members = [m for m in model.scored_metrics if m.group == group]
        out[group.lower()] = weighted_score(points, members)
    return pd.DataFrame(out, index=points.index)


def assign_tiers(scores: np.ndarray | pd.Series, tiers: tuple[Tier, ...]) -> pd.Series:
    """Highest tier whose min_score ≤ score (bounds inclusive); <NA> for blank scores."""
    ordered = sorted(tiers, key=lambda t: t.min_score)
    mins = np.array([t.min_score for t in ordered])
    numbers = np.array([t.tier for t in ordered])
    s = np.asarray(scores, dtype=float)
    idx = np.searchsorted(mins, s, side="right") - 1
    ok = ~np.isnan(s) & (idx >= 0)
    result = pd.array(np.where(ok, numbers[np.maximum(idx, 0)], 0), dtype="Int64")
    result[~ok] = pd.NA
    return pd.Series(result)


def tier_labels(tiers_col: pd.Series, model: Model) -> pd.Series:
    mapping = {t.tier: t.text(model.settings.language) for t in model.tiers}
    return tiers_col.map(mapping).astype(object)


def completeness(state: pd.DataFrame) -> np.ndarray:
    """Share of scored metrics not skipped (NaN when the model scores nothing)."""
    if state.shape[1] == 0:
        return np.full(len(state), np.nan)
    return (state.to_numpy() != SKIPPED).mean(axis=1)


def reasons(pts: Points, model: Model) -> np.ndarray:
    """Labels of the most costly bands (weight × points lost), most costly first."""
    metrics = list(model.scored_metrics)
    n = len(pts.points)
    if not metrics or n == 0:
        return np.full(n, "", dtype=object)
    p = pts.points.to_numpy(dtype=float)
    w = np.array([m.weight for m in metrics])
    mx = np.array([m.max_points for m in metrics])
    cost = np.where(np.isnan(p), 0.0, w * (mx - p))
    order = np.argsort(-cost, axis=1, kind="stable")  # ties keep the Metrics sheet order
    k = min(model.settings.reasons_max, len(metrics))
    labels = pts.labels.to_numpy(dtype=object)
    result = np.full(n, "", dtype=object)
    for j in range(k):
        col = order[:, j]
        rows = np.arange(n)
        c = cost[rows, col]
        text = labels[rows, col]
        take = c > 1e-12
        sep = np.where(result == "", "", "; ").astype(object)
        result = np.where(take, result + sep + text, result)
    return result
