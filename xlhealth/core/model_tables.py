"""One parser per config sheet: its rows -> validated parts of the ``Model``.

Each parser reads a table shaped like its sheet (``Metrics``, ``Rules``, ``Tiers``,
``MaturityModel``, ``Matrix``, ``Alerts``, ``Settings``) and appends every mistake to
``problems``, naming sheet, row and column, instead of stopping at the first one;
:func:`xlhealth.core.config.model_from_tables` puts the parts together.
"""

from __future__ import annotations

import itertools
import string

import pandas as pd

from xlhealth.core.model import (
    AGGREGATES,
    CHARACTERISTICS,
    FACETS,
    GROUPS,
    LANGUAGES,
    NEEDS_COLUMN,
    TRIGGERS,
    AlertRule,
    Factor,
    Filter,
    MatrixCell,
    MaturityModel,
    Metric,
    Settings,
    Tier,
    metric_order,
)
from xlhealth.core.model_bands import LEFT_OUT, attach_bands
from xlhealth.core.problems import Problem
from xlhealth.core.tables import Row, iter_rows, require_columns, to_number

__all__ = ["attach_bands"]


def _parse_filter(row: Row) -> Filter | None:
    text = row.text("filter")
    if not text:
        return None
    if "=" in text:
        column, _, value = text.partition("=")
        values = [value]
    elif " in " in f"{text.casefold()} ":
        padded = f"{text} "  # "kind in" (no values) is caught below, not a crash
        cut = padded.casefold().index(" in ")
        column, rest = padded[:cut], padded[cut + 4 :]
        values = rest.split(",")
    else:
        row.problem("filter", "write the filter as column=value or 'column in a,b'", text)
        return None
    column = column.strip()
    clean = tuple(v.strip() for v in values if v.strip())
    if not column or not clean:
        row.problem("filter", "write the filter as column=value or 'column in a,b'", text)
        return None
    return Filter(column.casefold(), clean)


def _parse_when_missing(row: Row) -> str | float:
    raw = row.text("when_missing")
    if not raw or raw.casefold() == "skip":
        return "skip"
    if raw.casefold() == "zero":
        return "zero"
    number = to_number(raw)
    if number is None:
        row.problem("when_missing", "use skip, zero or a number of points", raw)
        return "skip"
    return number


def parse_metrics(df: pd.DataFrame | None, problems: list[Problem]) -> list[Metric]:
    if not require_columns("Metrics", df, ["metric", "group", "aggregate"], problems):
        return []
    metrics: list[Metric] = []
    seen: dict[str, int] = {}
    for row in iter_rows("Metrics", df, problems):
        name = row.text("metric", required=True)
        if name in seen:
            row.problem("metric", f"duplicate metric name (also on row {seen[name]})", name)
            continue
        if name:
            seen[name] = row.sheet_row
        group = row.choice("group", GROUPS)
        aggregate = row.choice("aggregate", AGGREGATES)
        source = row.text("source")
        column = row.text("column")
        if aggregate and aggregate != "ratio" and not source:
            row.problem("source", "source is required: the input sheet the metric comes from")
        if aggregate in NEEDS_COLUMN and not column:
            row.problem("column", f"aggregate {aggregate!r} needs the column it reads")
        if aggregate == "ratio":
            top, _, bottom = column.partition("/")
            if not top.strip() or not bottom.strip():
                row.problem("column", "a ratio's column must be metric_a/metric_b", column)
        window = row.number("window_days", minimum=0, maximum=36_600)  # a century of events
        weight = row.number("weight", default=1.0, minimum=0, maximum=1e6)
        metrics.append(
            Metric(
                name=name,
                group=group,
                aggregate=aggregate,
                source=source,
                column=column,
                filter=_parse_filter(row),
                window_days=window,
                weight=1.0 if weight is None else weight,
                when_missing=_parse_when_missing(row),
                description=row.text("description"),
                description_ja=row.text("description_ja"),
                date_column=row.text("date_column"),
                row=row.sheet_row,
            )
        )
    _check_ratios(metrics, problems)
    return metrics


def _check_ratios(metrics: list[Metric], problems: list[Problem]) -> None:
    """Ratios must name known metrics and must not depend on themselves."""
    names = {m.name: m for m in metrics}
    for m in metrics:
        if m.aggregate != "ratio" or "/" not in m.column:
            continue
        for part in m.ratio_parts:
            if part and part not in names:
                problems.append(
                    Problem(
                        "Metrics",
                        f"ratio refers to unknown metric {part!r}; use a name from the "
                        "metric column",
                        row=m.row,
                        column="column",
                        value=m.column,
                        blocking=True,
                    )
                )
    try:
        metric_order(metrics)
    except ValueError as cycle:
        problems.append(Problem("Metrics", str(cycle), column="column", blocking=True))


def parse_tiers(df: pd.DataFrame | None, problems: list[Problem]) -> list[Tier]:
    if not require_columns("Tiers", df, ["tier", "min_score", "label"], problems):
        return []
    tiers: list[Tier] = []
    rows: dict[int, int] = {}
    for row in iter_rows("Tiers", df, problems):
        number = row.number("tier", required=True, integer=True, minimum=1)
        minimum = row.number("min_score", required=True)
        color = row.text("color")
        if color and not _is_color(color):
            row.problem("color", "write the colour as #RRGGBB, e.g. #2E7D32", color)
            color = ""
        if number is None or minimum is None:
            continue
        if int(number) in rows:
            row.problem("tier", f"tier {int(number)} is also on row {rows[int(number)]}", number)
            continue
        rows[int(number)] = row.sheet_row
        tiers.append(
            Tier(
                int(number), minimum, row.text("label", required=True), row.text("label_ja"), color
            )
        )
    tiers.sort(key=lambda t: t.tier)
    if not tiers:
        problems.append(Problem("Tiers", "no tiers defined; add at least two rows", blocking=True))
        return tiers
    numbers = [t.tier for t in tiers]
    if numbers != list(range(1, len(tiers) + 1)):
        problems.append(
            Problem(
                "Tiers",
                "tiers must be numbered 1, 2, 3, … without gaps",
                column="tier",
                value=", ".join(map(str, numbers)),
                blocking=True,
            )
        )
    for lower, upper in itertools.pairwise(tiers):
        if upper.min_score <= lower.min_score:
            problems.append(
                Problem(
                    "Tiers",
                    f"min_score must increase with the tier: tier {upper.tier} starts at "
                    f"{upper.min_score:g}, not above tier {lower.tier} ({lower.min_score:g})",
                    row=rows[upper.tier],
                    column="min_score",
                    value=upper.min_score,
                    blocking=True,
                )
            )
    if tiers[0].min_score > 0:
        problems.append(
            Problem(
                "Tiers",
                "the lowest tier must start at 0 so every score has a tier",
                row=rows[tiers[0].tier],
                column="min_score",
                value=tiers[0].min_score,
                blocking=True,
            )
        )
    return tiers


def _is_color(text: str) -> bool:
    body = text.lstrip("#")
    return len(body) == 6 and all(c in "0123456789abcdefABCDEF" for c in body)


def parse_maturity(df: pd.DataFrame | None, problems: list[Problem]) -> MaturityModel:
    required = ["characteristic", "weight", "factor", "facet", "question"]
    if not require_columns("MaturityModel", df, required, problems):
        return MaturityModel({}, ())
    weights: dict[str, float] = {}
    weight_rows: dict[str, int] = {}
    factors: list[Factor] = []
    seen: dict[str, int] = {}
    for row in iter_rows("MaturityModel", df, problems):
        characteristic = row.choice("characteristic", CHARACTERISTICS)
        weight = row.number("weight", required=True, minimum=0, maximum=1e6)
        name = row.text("factor", required=True)
        facet = row.choice("facet", FACETS)
        if name in seen:
            row.problem("factor", f"duplicate factor (also on row {seen[name]})", name)
            continue
        seen[name] = row.sheet_row
        if characteristic in CHARACTERISTICS and weight is not None:
            if characteristic in weights and weights[characteristic] != weight:
                row.problem(
                    "weight",
                    f"{characteristic} has weight {weights[characteristic]:g} on row "
                    f"{weight_rows[characteristic]}; use the same weight on every row of it",
                    weight,
                )
            else:
                weights[characteristic] = weight
                weight_rows[characteristic] = row.sheet_row
        factors.append(
            Factor(
                characteristic=characteristic,
                factor=name,
                facet=facet,
                question=row.text("question", required=True),
                question_ja=row.text("question_ja"),
                levels=tuple(row.text(f"level_{i}") for i in range(1, 6)),
                levels_ja=tuple(row.text(f"level_{i}_ja") for i in range(1, 6)),
                row=row.sheet_row,
            )
        )
    if factors and not any(w > 0 for w in weights.values()):
        problems.append(
            Problem(
                "MaturityModel",
                "at least one characteristic needs a weight above 0",
                column="weight",
                blocking=True,
            )
        )
    return MaturityModel(weights, tuple(factors))


def parse_matrix(
    df: pd.DataFrame | None, problems: list[Problem]
) -> dict[tuple[str, str], MatrixCell]:
    if not require_columns("Matrix", df, ["health", "maturity", "quadrant", "decision"], problems):
        return {}
    cells: dict[tuple[str, str], MatrixCell] = {}
    rows: dict[tuple[str, str], int] = {}
    for row in iter_rows("Matrix", df, problems):
        health = row.choice("health", ("high", "low", "any"))
        maturity = row.choice("maturity", ("high", "low", "unknown"))
        cell = MatrixCell(
            health=health,
            maturity=maturity,
            quadrant=row.text("quadrant", required=True),
            decision=row.text("decision", required=True),
            actions=row.text("actions"),
            quadrant_ja=row.text("quadrant_ja"),
            decision_ja=row.text("decision_ja"),
            actions_ja=row.text("actions_ja"),
        )
        for h in ("high", "low") if health == "any" else (health,):
            key = (h, maturity)
            if key in rows:
                row.problem("health", f"health={h}, maturity={maturity} is also on row {rows[key]}")
                continue
            rows[key] = row.sheet_row
            cells[key] = cell
    for h in ("high", "low"):
        for m in ("high", "low", "unknown"):
            if (h, m) not in cells:
                problems.append(
                    Problem(
                        "Matrix",
                        f"no row for health={h}, maturity={m}; add one "
                        "(health 'any' covers both high and low)",
                        blocking=True,
                    )
                )
    return cells


def parse_alerts(
    df: pd.DataFrame | None, metrics: set[str], tiers: list[Tier], problems: list[Problem]
) -> list[AlertRule]:
    if df is None:
        return []
    if not require_columns("Alerts", df, ["trigger", "action", "priority"], problems):
        return []
    rules: list[AlertRule] = []
    for row in iter_rows("Alerts", df, problems):
        trigger = row.choice("trigger", TRIGGERS)
        metric = row.text("metric")
        threshold = row.number("threshold")
        days = row.number("days", minimum=0, maximum=36_600)
        priority = row.number("priority", required=True, integer=True, minimum=1)
        if priority is not None and priority > 3:
            row.problem("priority", "priority is 1 (urgent), 2 or 3", priority)
        due = row.number("due_days", default=7.0, minimum=0, maximum=36_600)
        reopen = row.number("reopen_days", minimum=0, maximum=36_600)
        if trigger in ("metric_at_least", "metric_below"):
            if not metric:
                row.problem("metric", f"trigger {trigger} needs the metric it watches")
            elif metric not in metrics:
                row.warn("metric", f"{LEFT_OUT}; add {metric!r} to Metrics or delete this row",
                         metric)  # fmt: skip
                continue
        if trigger in TRIGGERS and threshold is None:
            row.problem("threshold", f"trigger {trigger} needs a threshold")
        if trigger == "tier_renewal" and days is None:
            row.problem("days", "tier_renewal needs days: how soon the renewal is")
        tier_numbers = [t.tier for t in tiers]
        is_tier_rule = trigger in ("tier_renewal", "tier_at_most") and threshold is not None
        if is_tier_rule and tier_numbers and threshold not in tier_numbers:
            row.problem("threshold", "not a tier number from the Tiers sheet", threshold)
        for column in ("label", "label_ja"):
            _check_template(row, column)
        missing = row.text("if_missing").casefold()
        if missing not in ("", "no", "yes", "false", "true", "ignore", "trigger"):
            row.problem("if_missing", "use yes (a missing value triggers) or no", missing)
        rules.append(
            AlertRule(
                name=row.text("alert") or trigger,
                trigger=trigger,
                action=row.text("action", required=True),
                action_ja=row.text("action_ja"),
                priority=int(priority or 3),
                due_days=7.0 if due is None else due,
                metric=metric,
                threshold=threshold,
                days=days,
                if_missing=missing in ("yes", "true", "trigger"),
                reopen_days=reopen,
                label=row.text("label"),
                label_ja=row.text("label_ja"),
                row=row.sheet_row,
            )
        )
    return rules


def _check_template(row: Row, column: str) -> None:
    """An alert text's ``{value}`` placeholders must be well formed (``{value`` is not)."""
    text = row.text(column)
    try:
        list(string.Formatter().parse(text))
    except ValueError:
        row.problem(
            column,
            "a { or } without its pair; write placeholders as {value}, or use {{ and }} "
            "for the characters themselves",
            text,
        )


def parse_settings(df: pd.DataFrame | None, problems: list[Problem]) -> Settings:
    if df is None or not require_columns("Settings", df, ["key", "value"], problems):
        return Settings()
    values: dict[str, object] = {}
    extra: dict[str, str] = {}
    for row in iter_rows("Settings", df, problems):
        key = row.text("key", required=True).casefold()
        if key == "as_of":
            values["as_of"] = row.date("value")
        elif key == "language":
            values["language"] = row.choice("value", LANGUAGES, default="en")
        elif key in ("health_high_min", "coverage_min", "maturity_high_min"):
            limits = {"health_high_min": 100.0, "coverage_min": 1.0, "maturity_high_min": 5.0}
            number = row.number("value", required=True, minimum=0)
            if number is not None and number > limits[key]:
                row.problem("value", f"{key} must be at most {limits[key]:g}", number)
            elif number is not None:
                values[key] = number
        elif key == "reasons_max":
            number = row.number("value", required=True, minimum=1, integer=True, maximum=50)
            if number is not None:
                values[key] = int(number)
        elif key == "backtest_lead_days":
            number = row.number("value", required=True, minimum=0, integer=True, maximum=36_600)
            if number is not None:
                values[key] = int(number)
        elif key == "tier_hysteresis":
            number = row.number("value", required=True, minimum=0, maximum=20)
            if number is not None:
                values[key] = float(number)
        elif key == "model_version":
            values[key] = row.text("value")
        elif key == "date_order":
            values[key] = row.choice("value", ("MDY", "DMY"), default="MDY")
        elif key:
            extra[key] = row.text("value")
    return Settings(extra=extra, **values)  # type: ignore[arg-type]
