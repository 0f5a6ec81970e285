"""The Rules sheet: each metric's bands, checked to tile the line (numbers) or be unique
(text); a row about a metric the Metrics sheet does not define is left out with a located
warning, and a metric a misspelt row leaves without bands is an error on its Metrics row."""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import replace

import pandas as pd

from xlhealth.core.model import TEXT_CAPABLE, Band, Metric
from xlhealth.core.problems import Problem
from xlhealth.core.tables import iter_rows, require_columns


def attach_bands(
    metrics: list[Metric], df: pd.DataFrame | None, problems: list[Problem]
) -> list[Metric]:
    if not require_columns("Rules", df, ["metric", "points"], problems):
        return metrics
    by_name = {m.name: m for m in metrics}
    bands: dict[str, list[Band]] = {m.name: [] for m in metrics}
    unknown: dict[str, int] = {}  # a name Rules uses and Metrics does not define: first row
    for row in iter_rows("Rules", df, problems):
        name = row.text("metric", required=True)
        if name and name not in by_name:
            row.warn("metric", f"{LEFT_OUT}; add {name!r} to Metrics or delete this row", name)
            unknown.setdefault(name, row.sheet_row)
            continue
        lo = row.number("min")
        hi = row.number("max")
        value = row.text("value") or None
        points = row.number("points", required=True)
        if value is not None and (lo is not None or hi is not None):
            row.problem("value", "a text band has a value and no min/max; clear min and max")
        if lo is not None and hi is not None and lo >= hi:
            row.problem("max", f"max must be greater than min ({lo:g})", hi)
        if name in bands and points is not None:
            bands[name].append(
                Band(
                    points=points,
                    min=lo,
                    max=hi,
                    value=value,
                    label=row.text("label"),
                    label_ja=row.text("label_ja"),
                    row=row.sheet_row,
                )
            )
    _typos(metrics, bands, unknown, problems)
    out = []
    for m in metrics:
        own = bands.get(m.name, [])
        _check_bands(m, own, problems)
        numeric = sorted((b for b in own if not b.is_text), key=_band_start)
        text = [b for b in own if b.is_text]
        out.append(replace(m, bands=tuple(numeric + text)))
    return out


LEFT_OUT = "not a metric on the Metrics sheet, so this row is left out"


def _typos(metrics, bands, unknown: dict[str, int], problems: list[Problem]) -> None:
    """A metric left without bands while Rules names something close to it is a typo that
    matters (the metric would quietly stop being scored): a located error on its row."""
    if not unknown:
        return
    for m in metrics:
        if bands.get(m.name):
            continue
        close = difflib.get_close_matches(m.name, list(unknown), n=1, cutoff=0.8)
        if close:
            problems.append(
                Problem(
                    "Metrics",
                    f"metric {m.name!r} has no bands on Rules, but Rules row {unknown[close[0]]} "
                    f"names {close[0]!r}: correct the spelling on one of them (a metric "
                    "without bands is not scored)",
                    row=m.row,
                    column="metric",
                    value=m.name,
                    blocking=True,
                )
            )


def _band_start(band: Band) -> float:
    return -math.inf if band.min is None else band.min


def _check_bands(metric: Metric, bands: list[Band], problems: list[Problem]) -> None:
    """Numeric bands must tile the line without overlap or gap; text values must be unique."""

    def add(band: Band, column: str, message: str, value: object = None) -> None:
        problems.append(
            Problem("Rules", message, row=band.row, column=column, value=value, blocking=True)
        )

    text = [b for b in bands if b.is_text]
    numeric = sorted((b for b in bands if not b.is_text), key=_band_start)
    if text and numeric:
        add(
            text[0],
            "value",
            f"metric {metric.name!r} mixes text bands (value) with number bands (min/max); "
            "use one kind",
        )
        return
    if text and metric.aggregate not in TEXT_CAPABLE:
        add(text[0], "value", f"aggregate {metric.aggregate!r} gives numbers; use min/max bands")
    seen: dict[str, Band] = {}
    for b in text:
        key = str(b.value).strip().casefold()
        if key in seen:
            add(b, "value", f"same text value as row {seen[key].row}; keep one band", b.value)
        seen[key] = b
    for previous, band in itertools.pairwise(numeric):
        prev_end = math.inf if previous.max is None else previous.max
        start = _band_start(band)
        if start < prev_end:
            add(
                band,
                "min",
                f"band {band.describe()} overlaps row {previous.row} {previous.describe()} "
                f"of metric {metric.name!r}; make min at least {prev_end:g}",
                band.min,
            )
        elif start > prev_end:
            add(
                band,
                "min",
                f"band {band.describe()} leaves a gap after row {previous.row} "
                f"{previous.describe()} of metric {metric.name!r}; make min {prev_end:g}",
                band.min,
            )
