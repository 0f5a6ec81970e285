"""``xlhealth suggest --apply --cuts``: the suggested cut points and points written into Rules.

Only for numeric metrics whose re-banding showed a reliable gain on held-out customers
(the cut-point table's verdict). A metric's Rules rows are rewritten in place: the first
rows take the new bands (min, max, points, a label that says the band), surplus rows are
emptied (a blank row is skipped), extra bands go on new rows below the table (the live
formulas' ranges reach 200 rows past it). Every other cell of the book is kept byte for
byte; the caller writes the file atomically with ``NAME.bak``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from xlhealth.book.read import Workbook
from xlhealth.core.model import Band, Model
from xlhealth.core.problems import RefreshError
from xlhealth.suggest.evidence import CutSuggestion

RULE_COLUMNS = ("metric", "min", "max", "value", "points", "label", "label_ja")


@dataclass
class CutEdit:
    """One metric's bands: what Rules said, what it says now, and the cells written."""

    metric: str
    before: list[Band]
    after: list[Band]
    cells: dict[str, object]  # Rules cell -> value (None empties it)
    gain: float  # mean AUC gain on held-out customers

    def line(self) -> str:
        return (
            f"  {self.metric:<28} {describe(self.before)}  ->  {describe(self.after)} "
            f"(AUC {self.gain:+.3f} on held-out customers)"
        )


def describe(bands: list[Band]) -> str:
    """``<30: 0 · 30–60: 15 · ≥60: 30``"""
    out = []
    for b in sorted(bands, key=_start):
        if b.min is None and b.max is None:
            where = "any"
        elif b.min is None:
            where = f"<{b.max:g}"
        elif b.max is None:
            where = f"≥{b.min:g}"
        else:
            where = f"{b.min:g}–{b.max:g}"
        out.append(f"{where}: {b.points:g}")
    return " · ".join(out)


def new_bands(metric: str, cuts: list[float], points: list[float]) -> list[Band]:
    edges = [None, *cuts, None]
    bands = []
    for i, p in enumerate(points):
        lo, hi = edges[i], edges[i + 1]
        if lo is None:
            en, ja = f"{metric} below {hi:g}", f"{metric} {hi:g}未満"
        elif hi is None:
            en, ja = f"{metric} {lo:g} or more", f"{metric} {lo:g}以上"
        else:
            en, ja = f"{metric} {lo:g} to under {hi:g}", f"{metric} {lo:g}以上{hi:g}未満"
        bands.append(Band(points=float(p), min=lo, max=hi, label=en, label_ja=ja))
    return bands


def cut_edits(book: Workbook, model: Model, cuts: list[CutSuggestion]) -> list[CutEdit]:
    """The Rules cells to write for every metric whose re-banding is reliable."""
    chosen = [c for c in cuts if c.reliable]
    if not chosen:
        return []
    sheet = book.sheets.get("Rules")
    if sheet is None:
        raise RefreshError(
            "the book has no Rules sheet (the default bands apply), so there is no band to "
            "rewrite; add a Rules sheet (xlhealth new shows its shape) and run again"
        )
    letters = sheet.letters
    missing = [c for c in ("metric", "min", "max", "points") if c not in letters]
    if missing:
        raise RefreshError(
            f"Rules has no {', '.join(missing)} column; the suggested bands cannot be "
            "written — fix the header row and run again"
        )
    rows = sheet.frame["_row"]
    next_row = (int(rows.max()) if len(rows) else sheet.header_row) + 1
    edits = []
    for cut in chosen:
        metric = model.metric(cut.metric)
        before = list(metric.bands)
        where = sorted(b.row for b in before if b.row is not None)
        if len(where) != len(before):
            raise RefreshError(f"metric {cut.metric!r}: a band without a Rules row")
        after = new_bands(cut.metric, cut.cuts.cuts, cut.cuts.points)
        cells: dict[str, object] = {}
        targets = where[: len(after)]
        while len(targets) < len(after):
            targets.append(next_row)
            next_row += 1
        for band, row in zip(after, targets, strict=True):
            values = {
                "metric": cut.metric,
                "min": band.min,
                "max": band.max,
                "value": None,
                "points": band.points,
                "label": band.label,
                "label_ja": band.label_ja,
            }
            for column, value in values.items():
                if column in letters:
                    cells[f"{letters[column]}{row}"] = value
        for row in where[len(after) :]:  # surplus rows: emptied (a blank row is skipped)
            for column in RULE_COLUMNS:
                if column in letters:
                    cells[f"{letters[column]}{row}"] = None
        after = [replace(band, row=row) for band, row in zip(after, targets, strict=True)]
        edits.append(CutEdit(cut.metric, before, after, cells, cut.gains["mean"]))
    return edits


def bands_read_back(model: Model, edits: list[CutEdit]) -> list[str]:
    """The rewritten metrics whose bands in ``model`` (read from the new file) are not
    exactly the ones written."""

    def shape(bands: list[Band]) -> list[tuple[float, float, float]]:
        return sorted((_start(b), math.inf if b.max is None else b.max, b.points) for b in bands)

    return [e.metric for e in edits if shape(list(model.metric(e.metric).bands)) != shape(e.after)]


def _start(band: Band) -> float:
    return -math.inf if band.min is None else band.min
