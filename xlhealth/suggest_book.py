"""``xlhealth suggest BOOK [--apply [--cuts]]``: the Suggestions sheet, and on request the
weights (and the reliable cut points).

Read and score the book as refresh does (the honest back-test included), fit on the
customers scored as of ``outcome_date − backtest_lead_days``, then write atomically:
a new file beside the old one, swapped in with one rename, the previous one kept as
``NAME.bak``. Without ``--apply`` only the Suggestions sheet is written; with it the
weight cells of ``Metrics`` change too (only the cells whose weight changes), and with
``--cuts`` the Rules rows of the metrics whose re-banding is reliable (``book.cuts``) —
never anything else. Refresh never writes Suggestions and never changes the model.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xlhealth.book.cuts import CutEdit, bands_read_back, cut_edits
from xlhealth.book.read import Workbook, read_workbook
from xlhealth.book.score import Progress, open_scored
from xlhealth.core.config import model_from_tables
from xlhealth.core.model import CONFIG_SHEETS, Model
from xlhealth.core.problems import ConfigError, Problem, RefreshError
from xlhealth.sheets.suggestions import SHEET, Context, write_suggestions
from xlhealth.suggest.evidence import (
    MIN_OUTCOMES,
    Suggestion,
    inputs_from_honest,
    outcome_groups,
    suggest,
)
from xlhealth.xlsx.cells import CellError, set_numbers, set_values
from xlhealth.xlsx.package import Package, PackageError
from xlhealth.xlsx.reader import ReadError

SETTING = "suggest_min_outcomes"


@dataclass
class SuggestReport:
    path: Path
    suggestion: Suggestion
    context: Context
    model: Model
    applied: dict[str, float] = field(default_factory=dict)  # metric -> weight written
    cells: dict[str, str] = field(default_factory=dict)  # metric -> Metrics cell
    cut_edits: list[CutEdit] = field(default_factory=list)  # Rules bands rewritten
    backup: Path | None = None
    problems: list[Problem] = field(default_factory=list)


def min_outcomes(model: Model, book: Workbook | None = None) -> int:
    """Settings ``suggest_min_outcomes`` (default 30): a whole number of at least 1."""
    raw = str(model.settings.extra.get(SETTING, "") or "").strip()
    if not raw:
        return MIN_OUTCOMES
    try:
        number = float(raw)
    except ValueError:
        number = float("nan")
    if not (number >= 1 and number == int(number)):
        problem = Problem(
            "Settings",
            f"{SETTING} must be a whole number of at least 1 (churned and renewed customers "
            "each needed before weights are suggested)",
            row=_settings_row(book, SETTING),
            column="value",
            value=raw,
            blocking=True,
        )
        raise RefreshError([book.locate(problem) if book else problem])
    return int(number)


def _settings_row(book: Workbook | None, key: str) -> int | None:
    if book is None or "Settings" not in book.sheets:
        return None
    frame = book.sheets["Settings"].frame
    if "key" not in frame.columns:
        return None
    keys = frame["key"].astype("string").str.strip().str.casefold()
    found = frame.loc[(keys == key).fillna(False).to_numpy(), "_row"]
    return int(found.iloc[0]) if len(found) else None


def suggest_book(
    path: str | Path,
    apply: bool = False,
    as_of: dt.date | None = None,
    cuts: bool = False,
    backup: bool = True,
    progress: Progress = lambda _: None,
    now: dt.datetime | None = None,
    base: Path | None = None,
) -> SuggestReport:
    """Write the Suggestions sheet (and with ``apply`` the suggested weights) atomically.

    ``base``: the folder the Sources sheet's paths are relative to, when ``path`` is a
    working copy (the Suggest weights button works on a copy of the saved book).
    """
    path = Path(path)
    book, result, problems = open_scored(path, as_of, progress, base)
    model = result.model
    needed = min_outcomes(model, book)
    honest = result.honest
    if honest is not None:
        points, values, churned = inputs_from_honest(honest)
        groups = outcome_groups(honest)
        counts = honest.counts()
        lead = honest.lead_days
    else:
        names = [m.name for m in model.scored_metrics]
        points = pd.DataFrame(columns=names, dtype=float)
        values = pd.DataFrame(columns=names, dtype=float)
        churned = np.zeros(0, dtype=bool)
        groups = None
        counts, lead = None, model.settings.backtest_lead_days
    progress(f"Suggesting from {len(churned):,} outcomes with an outcome_date")
    s = suggest(
        model, points, values, churned, min_outcomes=needed, progress=progress, groups=groups
    )
    context = Context(path.name, lead, counts, (now or dt.datetime.now()).replace(microsecond=0))
    weights: dict[str, float] = {}
    cells: dict[str, str] = {}
    if apply:
        if not s.fitted:
            from xlhealth.sheets.suggestions import headline

            raise RefreshError(headline(s, "en", context)[0] + " Nothing was written.")
        weights = s.weights()
        cells = weight_cells(book, model, list(weights))
        context.applied = True
    edits = cut_edits(book, model, s.cut_points) if apply and cuts else []
    report = SuggestReport(
        path, s, context, model, weights, cells, cut_edits=edits, problems=problems
    )
    progress("Writing the Suggestions sheet" + (" and the Metrics weights" if weights else ""))
    tmp = path.with_name(f".{path.name}.xlhealth-tmp")
    try:
        with Package(path) as package:
            package.set_sheet(
                SHEET, write_suggestions(s, model, package.styles, package.date1904, context)
            )
            if cells:
                part = package.sheet_part(_actual(book, "Metrics"))
                if part is None:
                    raise RefreshError("the Metrics sheet could not be found in the file")
                values_by_cell = {cells[m]: w for m, w in weights.items()}
                try:
                    package.set_part(part, set_numbers(package.read(part), values_by_cell))
                except CellError as error:
                    raise RefreshError(
                        f"Metrics!{error}: type the weight as a number (or change it by "
                        "hand); the workbook was not changed"
                    ) from error
            if edits:
                part = package.sheet_part(_actual(book, "Rules"))
                if part is None:
                    raise RefreshError("the Rules sheet could not be found in the file")
                written = {ref: v for e in edits for ref, v in e.cells.items()}
                try:
                    package.set_part(
                        part,
                        set_values(package.read(part), written, package.date1904, add_rows=True),
                    )
                except CellError as error:
                    raise RefreshError(
                        f"Rules!{error}: the suggested bands were not written (type the "
                        "bands by hand); the workbook was not changed"
                    ) from error
            package.save(tmp)
        _verify(tmp, weights, edits)
        if backup:
            report.backup = path.with_name(path.name + ".bak")
            shutil.copy2(path, report.backup)
        os.replace(tmp, path)
    except PackageError as error:
        raise RefreshError(str(error)) from error
    finally:
        if tmp.exists():
            tmp.unlink()
    return report


def _actual(book: Workbook, name: str) -> str:
    for actual in book.sheet_names:
        if actual.casefold() == name.casefold():
            return actual
    return name


def weight_cells(book: Workbook, model: Model, metrics: list[str]) -> dict[str, str]:
    """The ``Metrics`` cell holding each metric's weight (``{"nps_latest": "H9"}``)."""
    if not metrics:
        return {}
    sheet = book.sheets.get("Metrics")
    if sheet is None:
        raise RefreshError(
            "the book has no Metrics sheet (the default model applies), so there is no weight "
            "cell to write; add a Metrics sheet (xlhealth new shows its shape) and run again"
        )
    letter = sheet.letters.get("weight")
    if letter is None:
        raise RefreshError(
            "Metrics has no weight column; add a column headed weight (blank = 1) and run "
            "xlhealth suggest --apply again"
        )
    out = {}
    for name in metrics:
        row = model.metric(name).row
        if row is None:
            raise RefreshError(f"metric {name!r} has no row on Metrics")
        out[name] = f"{letter}{row}"
    return out


def _verify(tmp: Path, weights: dict[str, float], edits: list[CutEdit]) -> None:
    """The new file must open, hold Suggestions, and read back the weights and bands
    written (its config sheets read once, as the next refresh will read them)."""
    try:
        with Package(tmp) as package:
            if package.sheet_part(SHEET) is None:
                raise RefreshError("internal error: Suggestions missing from the new file")
        if not weights and not edits:
            return
        tables = read_workbook(tmp, CONFIG_SHEETS).tables()
        model = model_from_tables({k: tables.get(k) for k in CONFIG_SHEETS})
        wrong = [m for m, w in weights.items() if not abs(model.metric(m).weight - w) <= 1e-9]
        wrong += bands_read_back(model, edits)
    except (PackageError, ReadError, ConfigError, KeyError) as error:
        raise RefreshError(
            f"internal error writing the workbook ({error}); your workbook was not changed"
        ) from error
    if wrong:
        raise RefreshError(
            f"internal error: the weights or bands of {', '.join(wrong)} did not read back; "
            "your workbook was not changed"
        )


def summary_lines(report: SuggestReport) -> list[str]:
    """What the CLI prints: the verdict with its spread, and the weights today → suggested."""
    from xlhealth.sheets.suggestions import headline

    s = report.suggestion
    lines = [
        f"{report.path}: {s.customers:,} outcomes"
        + (
            f" of {s.distinct_customers:,} customers"
            if 0 < s.distinct_customers < s.customers
            else ""
        )
        + f" scored {report.context.lead_days} days before each ({s.churned:,} churned, "
        f"{s.renewed:,} renewed)"
    ]
    lines += [f"  {line}" for line in headline(s, "en", report.context)]
    if report.cut_edits:
        lines.append("Rules bands rewritten (reliable re-banding only):")
        lines += [e.line() for e in report.cut_edits]
    if s.fitted and s.metrics["weight_suggested"].notna().any():
        lines.append("Weights (today -> suggested):")
        for row in s.metrics.itertuples():
            new = "kept" if pd.isna(row.weight_suggested) else f"{row.weight_suggested:g}"
            mark = "  (left out)" if new == "0" and row.weight_today != 0 else ""
            lines.append(f"  {row.metric:<28} {row.weight_today:>6g} -> {new:<6}{mark}")
    flagged = s.metrics[s.metrics["flag"].isin(["against", "no_separation", "one_band"])]
    for row in flagged.itertuples():
        what = {
            "against": "runs against outcomes (more points, more churn)",
            "no_separation": "does not separate churners",
            "one_band": "does not separate churners (everyone gets the same points)",
        }[row.flag]
        lines.append(f"  note: {row.metric}: {what}, metric AUC {row.metric_auc:.3f}")
    if s.cut_points:
        lines.append(f"Cut points suggested for {len(s.cut_points)} metric(s) (see the sheet).")
    if report.applied:
        lines.append(
            f"Applied: wrote {len(report.applied)} weight(s) into Metrics ("
            + ", ".join(f"{report.cells[m]}={w:g}" for m, w in report.applied.items())
            + ")"
        )
    elif s.fitted and not s.weights():
        lines.append("The suggested weights equal today's: nothing to apply.")
    lines.append(f"Wrote the {SHEET} sheet.")
    if report.backup:
        lines.append(f"Previous version kept as {report.backup.name}")
    return lines
