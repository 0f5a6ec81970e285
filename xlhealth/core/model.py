"""The validated scoring model, loaded from tables shaped like the config sheets.

A manager tunes the model on the config sheets (``Metrics``, ``Rules``,
``Tiers``, ``MaturityModel``, ``Matrix``, ``Alerts``, ``Settings``), never in
code. This module holds the Model's frozen dataclasses; :mod:`xlhealth.core.config`
(``model_from_tables``) builds one from those tables with the per-sheet parsers of
:mod:`xlhealth.core.model_tables`, reporting every mistake at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xlhealth.core.problems import Problem

GROUPS = ("Deployment", "Engagement", "Adoption", "ROI")
AGGREGATES = (
    "value",
    "count",
    "distinct",
    "sum",
    "mean",
    "min",
    "max",
    "latest",
    "days_since",
    "active_days",
    "overdue_count",
    "ratio",
)
NEEDS_COLUMN = ("value", "distinct", "sum", "mean", "min", "max", "latest")
TEXT_CAPABLE = ("value", "latest")
CHARACTERISTICS = ("Strategy", "People", "Process", "Technology")
FACETS = ("what", "how_well", "relation")
TRIGGERS = ("score_drop", "tier_renewal", "tier_at_most", "metric_at_least", "metric_below")
CONFIG_SHEETS = ("Metrics", "Rules", "Tiers", "MaturityModel", "Matrix", "Alerts", "Settings")
LANGUAGES = ("en", "ja")

SOURCE_DATE_COLUMNS = {
    "Logins": "date",
    "Support": "opened",
    "Surveys": "date",
    "Contacts": "date",
    "Onboarding": "started",
    "Maturity": "assessed_on",
}
"""Which column dates an event of each standard input sheet (for windows)."""


@dataclass(frozen=True)
class Filter:
    """``column=value`` or ``column in a,b``: keep rows whose column is one of the values."""

    column: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        if len(self.values) == 1:
            return f"{self.column}={self.values[0]}"
        return f"{self.column} in {','.join(self.values)}"


@dataclass(frozen=True)
class Band:
    """Points for a value in ``[min, max)`` or equal to ``value`` (text)."""

    points: float
    min: float | None = None
    max: float | None = None
    value: str | None = None
    label: str = ""
    label_ja: str = ""
    row: int | None = None

    @property
    def is_text(self) -> bool:
        return self.value is not None

    def describe(self) -> str:
        if self.value is not None:
            return f"= {self.value}"
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"[{lo}, {hi})"


@dataclass(frozen=True)
class Metric:
    """One metric of the ``Metrics`` sheet, with its bands from ``Rules``."""

    name: str
    group: str
    aggregate: str
    source: str = ""
    column: str = ""
    filter: Filter | None = None
    window_days: float | None = None
    weight: float = 1.0
    when_missing: str | float = "skip"
    description: str = ""
    description_ja: str = ""
    date_column: str = ""
    bands: tuple[Band, ...] = ()
    row: int | None = None

    @property
    def scored(self) -> bool:
        """A metric without bands is a helper: computed and shown, never scored."""
        return bool(self.bands)

    @property
    def is_text(self) -> bool:
        return any(b.is_text for b in self.bands)

    @property
    def max_points(self) -> float:
        """The largest points among the bands, floored at 0 (penalties add nothing)."""
        return max([0.0, *(b.points for b in self.bands)])

    @property
    def ratio_parts(self) -> tuple[str, str]:
        numerator, _, denominator = self.column.partition("/")
        return numerator.strip(), denominator.strip()

    def label(self, language: str = "en") -> str:
        if language == "ja" and self.description_ja:
            return self.description_ja
        return self.description or self.name


@dataclass(frozen=True)
class Tier:
    tier: int
    min_score: float
    label: str
    label_ja: str = ""
    color: str = ""

    def text(self, language: str = "en") -> str:
        return self.label_ja if language == "ja" and self.label_ja else self.label


@dataclass(frozen=True)
class Factor:
    """One question of the maturity model (a characteristic has several)."""

    characteristic: str
    factor: str
    facet: str
    question: str
    question_ja: str = ""
    levels: tuple[str, ...] = ()
    levels_ja: tuple[str, ...] = ()
    row: int | None = None


@dataclass(frozen=True)
class MaturityModel:
    weights: Mapping[str, float]
    factors: tuple[Factor, ...]

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(f.factor for f in self.factors)

    def characteristic_of(self) -> dict[str, str]:
        return {f.factor: f.characteristic for f in self.factors}


@dataclass(frozen=True)
class MatrixCell:
    health: str
    maturity: str
    quadrant: str
    decision: str
    actions: str = ""
    quadrant_ja: str = ""
    decision_ja: str = ""
    actions_ja: str = ""

    def text(self, what: str, language: str = "en") -> str:
        ja = getattr(self, f"{what}_ja")
        return ja if language == "ja" and ja else getattr(self, what)


@dataclass(frozen=True)
class AlertRule:
    """A trigger that puts a row on the Action list."""

    name: str
    trigger: str
    action: str
    priority: int
    due_days: float
    metric: str = ""
    threshold: float | None = None
    days: float | None = None
    if_missing: bool = False
    reopen_days: float | None = None  # a done action opens again after this, if still firing
    label: str = ""
    label_ja: str = ""
    action_ja: str = ""
    row: int | None = None

    def text(self, what: str, language: str = "en") -> str:
        ja = getattr(self, f"{what}_ja")
        return ja if language == "ja" and ja else getattr(self, what)


@dataclass(frozen=True)
class Settings:
    as_of: dt.date | None = None
    language: str = "en"
    health_high_min: float = 60.0
    maturity_high_min: float = 3.0
    coverage_min: float = 0.8
    reasons_max: int = 3
    model_version: str = ""
    date_order: str = "MDY"  # how 9/5/2026 reads in pasted exports: MDY (US) or DMY
    backtest_lead_days: int = 90  # the honest back-test scores this long before each outcome
    tier_hysteresis: float = 5.0  # points a score must pass a boundary by to change tier
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """Everything the core needs to score: validated, immutable."""

    metrics: tuple[Metric, ...]
    tiers: tuple[Tier, ...]
    maturity: MaturityModel
    matrix: Mapping[tuple[str, str], MatrixCell]
    alerts: tuple[AlertRule, ...]
    settings: Settings
    warnings: tuple[Problem, ...] = ()

    @property
    def scored_metrics(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.scored)

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)


# ----------------------------------------------------------------------------- defaults


def templates_dir() -> Path:
    """``templates/`` of the repository, or its copy inside an installed wheel."""
    here = Path(__file__).resolve().parents[1]  # the xlhealth package folder
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "model").is_dir():
            return candidate
    raise FileNotFoundError("xlhealth templates/ folder not found; reinstall xlhealth")


def metric_order(metrics: tuple[Metric, ...] | list[Metric]) -> list[Metric]:
    """Metrics with every ratio after the metrics it divides (ValueError on a cycle)."""
    by_name = {m.name: m for m in metrics}
    done: dict[str, Metric] = {}
    visiting: set[str] = set()

    def visit(m: Metric) -> None:
        if m.name in done:
            return
        if m.name in visiting:
            raise ValueError(f"ratio metrics refer to each other in a circle through {m.name!r}")
        visiting.add(m.name)
        if m.aggregate == "ratio":
            for part in m.ratio_parts:
                if part in by_name:
                    visit(by_name[part])
        visiting.discard(m.name)
        done[m.name] = m

    for m in metrics:
        visit(m)
    return list(done.values())
