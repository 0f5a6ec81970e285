"""Worksheet functions (xlwings UDFs, Windows desktop Excel): the core, one cell or a whole range.

Every function takes the config tables as ranges (the workbook's named ranges
``HS_METRICS``, ``HS_RULES``, ``HS_TIERS``, ``HS_MATURITY_MODEL``, ``HS_MATRIX``,
``HS_SETTINGS``, header row included) and rows of values; it returns one
result per row as a column that spills (a 2-D array, no legacy ``expand``).
They are not volatile, and they call the same core as refresh, so a cell shows
the number the Summary shows. A bad argument gives a sentence in the cell
("HS_SCORE: argument rules: Rules row 4, column min …"), never a traceback.

On Linux and macOS the xlwings decorators are inert and these are plain
Python functions: tests call them directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw

from xlhealth.core import maturity, scoring
from xlhealth.core.config import default_tables, model_from_tables
from xlhealth.core.model import GROUPS, Model
from xlhealth.core.problems import ConfigError, is_blank
from xlhealth.core.stability import hysteresis_tiers

MODULE = "xlhealth.excel.udfs"


@dataclass(frozen=True)
class UdfSpec:
    name: str
    args: tuple[str, ...]
    optional: tuple[str, ...]
    description: str


REGISTRY: list[UdfSpec] = []


def udf(description: str, optional: tuple[str, ...] = ()) -> Callable:
    """Register a UDF (for the VBA wrappers) and apply the xlwings decorators."""

    def wrap(fn: Callable) -> Callable:
        import inspect

        args = tuple(inspect.signature(fn).parameters)
        REGISTRY.append(UdfSpec(fn.__name__, args, optional, description))
        decorated = fn
        for arg in args:  # error cells as their text (#DIV/0!), not as blanks
            decorated = xw.arg(arg, ndim=2, err_to_str=True)(decorated)
        # not run while the Insert Function dialog is open (it calls a function over and
        # over as arguments are typed): xlwings writes its CommandBars guard for this
        return xw.func(call_in_wizard=False)(decorated)

    return wrap


class ArgumentError(ValueError):
    """A UDF argument that cannot be used; the message names the argument."""


Grid = list[list[Any]]


EXCEL_ERRORS = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
     "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!")
)  # fmt: skip


def _grid(value: Any) -> Grid:
    """Whatever Excel passed (scalar, row, column, 2-D) as a list of rows."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], list | tuple):
            return [list(r) for r in value]
        return [list(value)]
    return [[value]]


def _no_errors(value: Any, argument: str, header: list[str] | None = None) -> None:
    """An error cell in an argument is said, located, as refresh reports one: scored as a
    blank it would quietly count as a missing value."""
    grid = _grid(value)
    if not grid:
        return
    cells = pd.DataFrame(grid).to_numpy(dtype=object)  # rows of unequal length padded
    text = pd.Series(cells.ravel(), dtype=object)
    is_text = text.map(type).eq(str).to_numpy()
    error = np.zeros(len(text), dtype=bool)
    error[is_text] = text[is_text].str.strip().str.upper().isin(EXCEL_ERRORS).to_numpy()
    if not error.any():
        return
    i, j = divmod(int(np.argmax(error)), cells.shape[1])
    where = f"column {header[j]!r}" if header and j < len(header) else f"column {j + 1}"
    raise ArgumentError(
        f"argument {argument}: row {i + 1}, {where} holds the error {cells[i, j]}; fix that "
        "cell (an error is not a missing value)"
    )


def _table(value: Any, argument: str) -> pd.DataFrame:
    """A config range (header row first) as a table; all-blank rows dropped."""
    rows = _grid(value)
    if len(rows) < 1 or all(is_blank(c) for c in rows[0]):
        raise ArgumentError(f"argument {argument}: give the whole table with its header row")
    header = [str(c).strip() if not is_blank(c) else f"_blank{i}" for i, c in enumerate(rows[0])]
    body = [r for r in rows[1:] if not all(is_blank(c) for c in r)]
    return pd.DataFrame(body, columns=header)


def _freeze(value: Any) -> tuple:
    return tuple(tuple(r) for r in _grid(value))


@functools.lru_cache(maxsize=64)
def _cached_model(tables: tuple[tuple[str, tuple], ...]) -> Model:
    frames = {name: _table([list(r) for r in rows], name) for name, rows in tables}
    defaults = default_tables()
    # A UDF that scores needs no alert rules; their metric references could not be checked.
    frames.setdefault("Alerts", defaults["Alerts"].iloc[0:0])
    return model_from_tables(frames, defaults)


def _model(**ranges: Any) -> Model:
    """The model from the given ranges (others take defaults), cached by content."""
    names = {
        "metrics": "Metrics",
        "rules": "Rules",
        "tiers": "Tiers",
        "maturity_model": "MaturityModel",
        "matrix": "Matrix",
        "settings": "Settings",
    }
    for arg, value in ranges.items():
        _no_errors(value, arg)
        if arg != "settings" and not _grid(value):
            raise ArgumentError(
                f"argument {arg}: give the {names[arg]} table with its header "
                f"row (the named range HS_{arg.upper()})"
            )
    key = tuple((names[k], _freeze(v)) for k, v in ranges.items() if v is not None)
    try:
        return _cached_model(key)
    except ConfigError as error:
        first = error.problems[0]
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        arg = {v: k for k, v in names.items()}.get(first.sheet, first.sheet)
        raise ArgumentError(f"argument {arg}: {first}{more}") from error


def _rows(names: Any, values: Any, argument: str = "values") -> pd.DataFrame:
    """Values by metric name: ``names`` is one header row, ``values`` one row per customer."""
    header = [str(c).strip() for c in (_grid(names)[0] if _grid(names) else [])]
    if len(header) == 1 and len(_grid(names)) > 1:  # names given as a column
        header = [str(r[0]).strip() for r in _grid(names)]
    rows = _grid(values)
    if not header or any(not h for h in header):
        raise ArgumentError("argument metric_names: give the row of metric names")
    if rows and len(rows[0]) != len(header):
        raise ArgumentError(
            f"argument values: {len(rows[0])} columns but {len(header)} "
            "metric names; select the same columns"
        )
    _no_errors(rows, argument, header)
    frame = pd.DataFrame(rows, columns=header).replace({"": None})
    return frame


def _numbers(value: Any, argument: str = "values") -> np.ndarray:
    _no_errors(value, argument)
    flat = [c for r in _grid(value) for c in r]
    return pd.to_numeric(pd.Series(flat, dtype=object), errors="coerce").to_numpy(float)


def _column(values: np.ndarray | list | pd.Series) -> Grid:
    """One result per row as a column; NaN/NA become empty cells."""
    out = []
    for v in list(values):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append([None])
        elif isinstance(v, np.integer):
            out.append([int(v)])
        elif isinstance(v, np.floating):
            out.append([float(v)])
        else:
            out.append([v])
    return out or [[None]]


def _guard(name: str, compute: Callable[[], Grid]) -> Grid:
    try:
        return compute()
    except ArgumentError as error:
        return [[f"{name}: {error}"]]
    except ConfigError as error:
        return [[f"{name}: {error.problems[0]}"]]
    except Exception as error:
        return [[f"{name}: {type(error).__name__}: {error}"]]


def _points(model: Model, frame: pd.DataFrame) -> scoring.Points:
    known = {m.name for m in model.metrics}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ArgumentError(
            f"argument metric_names: {unknown[0]!r} is not a metric on the Metrics table"
        )
    missing = {m.name for m in model.scored_metrics} - set(frame.columns)
    return scoring.band_points(model, frame, missing)


# ----------------------------------------------------------------------------- the functions


@udf("Points of one metric for each value, from its bands on Rules.")
def HS_POINTS(metric, values, metrics, rules):
    def compute() -> Grid:
        model = _model(metrics=metrics, rules=rules)
        name = str(_grid(metric)[0][0]).strip() if _grid(metric) else ""
        if name not in {m.name for m in model.scored_metrics}:
            raise ArgumentError(f"argument metric: {name!r} is not a scored metric")
        flat = [[c] for r in _grid(values) for c in r]
        pts = _points(model, _rows([[name]], flat))
        return _column(pts.points[name].to_numpy())

    return _guard("HS_POINTS", compute)


@udf("Health score 0-100 for each row of metric values (same as refresh).")
def HS_SCORE(metric_names, values, metrics, rules):
    def compute() -> Grid:
        model = _model(metrics=metrics, rules=rules)
        pts = _points(model, _rows(metric_names, values))
        return _column(scoring.weighted_score(pts.points, model.scored_metrics))

    return _guard("HS_SCORE", compute)


@udf("DEAR group scores (Deployment, Engagement, Adoption, ROI) for each row: 4 columns.")
def HS_GROUPS(metric_names, values, metrics, rules):
    def compute() -> Grid:
        model = _model(metrics=metrics, rules=rules)
        pts = _points(model, _rows(metric_names, values))
        groups = scoring.group_scores(pts.points, model)
        return [
            [None if np.isnan(v) else float(v) for v in row]
            for row in groups[[g.lower() for g in GROUPS]].to_numpy()
        ]

    return _guard("HS_GROUPS", compute)


@udf("Reasons: the bands that cost the most points, most costly first.", ("settings",))
def HS_REASONS(metric_names, values, metrics, rules, settings=None):
    def compute() -> Grid:
        model = _model(metrics=metrics, rules=rules, settings=settings)
        pts = _points(model, _rows(metric_names, values))
        return _column(scoring.reasons(pts, model))

    return _guard("HS_REASONS", compute)


@udf(
    "Tier number (1-5) for each score, from the Tiers table; with previous tiers and a "
    "hysteresis (points), the previous tier is kept until the score passes the boundary "
    "by that margin.",
    ("previous", "hysteresis"),
)
def HS_TIER(scores, tiers, previous=None, hysteresis=None):
    def compute() -> Grid:
        model = _model(tiers=tiers)
        s = _numbers(scores, "scores")
        if previous is None or hysteresis is None:
            return _column(scoring.assign_tiers(s, model.tiers).to_numpy(object))
        prev = _numbers(previous, "previous")
        margin = _numbers(hysteresis, "hysteresis")
        if prev.shape != s.shape:
            raise ArgumentError("argument previous: give one previous tier per score")
        if margin.size != 1 or np.isnan(margin[0]) or margin[0] < 0:
            raise ArgumentError("argument hysteresis: one number of points, 0 or more")
        return _column(hysteresis_tiers(s, prev, model.tiers, float(margin[0])).to_numpy(object))

    return _guard("HS_TIER", compute)


@udf("Tier name for each score, in English or Japanese (language en/ja).", ("language",))
def HS_TIER_LABEL(scores, tiers, language=None):
    def compute() -> Grid:
        model = _model(tiers=tiers)
        lang = str(_grid(language)[0][0]).strip() if _grid(language) else "en"
        numbers = scoring.assign_tiers(_numbers(scores, "scores"), model.tiers)
        names = {t.tier: t.text(lang) for t in model.tiers}
        return _column(numbers.map(names, na_action="ignore").to_numpy(object))

    return _guard("HS_TIER_LABEL", compute)


def _cmi(factor_names: Any, levels: Any, maturity_model: Any) -> pd.DataFrame:
    model = _model(maturity_model=maturity_model)
    frame = _rows(factor_names, levels, "levels")
    known = set(model.maturity.factor_names)
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ArgumentError(
            f"argument factor_names: {unknown[0]!r} is not a factor on the MaturityModel table"
        )
    long = frame.reset_index(names="pos").melt(id_vars="pos", var_name="factor", value_name="level")
    long["level"] = pd.to_numeric(long["level"], errors="coerce")
    bad = long["level"].notna() & ~long["level"].isin([1, 2, 3, 4, 5])
    if bad.any():
        raise ArgumentError(
            f"argument levels: {long.loc[bad, 'level'].iloc[0]:g} is not a level from 1 to 5"
        )
    answers = long.dropna(subset=["level"]).assign(assessed_on=pd.NaT)
    return maturity.cmi(model, answers, len(frame))


@udf("Customer Maturity Index (1.0-5.0) for each row of factor levels.")
def HS_CMI(factor_names, levels, maturity_model):
    return _guard(
        "HS_CMI", lambda: _column(_cmi(factor_names, levels, maturity_model)["cmi"].to_numpy())
    )


@udf("Maturity level 1-5 (CMI rounded half up) for each row of factor levels.")
def HS_MATURITY_LEVEL(factor_names, levels, maturity_model):
    return _guard(
        "HS_MATURITY_LEVEL",
        lambda: _column(
            _cmi(factor_names, levels, maturity_model)["maturity_level"].to_numpy(object)
        ),
    )


def _quadrant(what: str, scores: Any, cmis: Any, matrix: Any, settings: Any) -> Grid:
    model = _model(matrix=matrix, settings=settings)
    s, c = _numbers(scores, "scores"), _numbers(cmis, "cmis")
    if len(c) != len(s):
        raise ArgumentError(f"argument cmis: {len(c)} values for {len(s)} scores")
    return _column(maturity.quadrants(model, s, c)[what].replace("", None).to_numpy(object))


@udf("Health × maturity quadrant for each (score, CMI), from the Matrix table.", ("settings",))
def HS_QUADRANT(scores, cmis, matrix, settings=None):
    return _guard("HS_QUADRANT", lambda: _quadrant("quadrant", scores, cmis, matrix, settings))


@udf("The matrix decision for each (score, CMI).", ("settings",))
def HS_DECISION(scores, cmis, matrix, settings=None):
    return _guard("HS_DECISION", lambda: _quadrant("decision", scores, cmis, matrix, settings))
