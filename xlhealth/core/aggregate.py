"""Event tables -> one value per customer and metric, as of a date.

Every input sheet is resolved once to integer customer positions (IDs
normalised, emails mapped through ``Customers.email_domain``); each metric is
then a mask plus a ``bincount`` or a groupby on those integers, so millions of
events cost seconds, not minutes.

A metric whose source sheet (or column) is absent is *unavailable*: it is
skipped for every customer, whatever ``when_missing`` says, and reported on
Checks. A missing export is not evidence that customers stopped logging in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.exactsum import exact_sums
from xlhealth.core.model import SOURCE_DATE_COLUMNS, Metric, Model, metric_order
from xlhealth.core.problems import Problem
from xlhealth.core.rows import Customers, ExternalValues, SheetRows
from xlhealth.core.tables import normalise_header
from xlhealth.core.text import normalise_ids

DAY = np.timedelta64(1, "D")


def as_days(as_of: dt.date | np.ndarray, n: int) -> np.datetime64 | np.ndarray:
    """``as_of`` as ``datetime64[D]``: one date for everyone, or one per customer.

    Per-customer dates let the honest back-test score every customer as of its own
    ``outcome_date - backtest_lead_days`` in one pass over the events.
    """
    if isinstance(as_of, np.ndarray):
        if as_of.shape != (n,):
            raise ValueError(f"as_of has {as_of.shape} dates for {n} customers")
        return as_of.astype("datetime64[D]")
    return np.datetime64(as_of, "D")


def row_days(day: np.datetime64 | np.ndarray, codes: np.ndarray) -> np.datetime64 | np.ndarray:
    """The as-of date that applies to each row (rows of unknown customers get NaT)."""
    if not isinstance(day, np.ndarray):
        return day
    return np.where(codes >= 0, day[np.maximum(codes, 0)], np.datetime64("NaT", "D"))


def normalised_text(series: pd.Series) -> pd.Series:
    """Values trimmed, NFKC-normalised and case folded (for filters and text bands)."""
    return normalise_ids(series)


@dataclass
class Aggregated:
    """Per-customer metric values (rows in Customers order) and what could not be computed."""

    values: pd.DataFrame
    unavailable: dict[str, str]
    problems: list[Problem]
    sources: pd.DataFrame | None = None  # one row per Sources row (Checks), when any


def aggregate(
    model: Model,
    customers: Customers,
    sheets: dict[str, pd.DataFrame],
    as_of: dt.date | np.ndarray,
    sources: dict[str, SheetRows] | None = None,
    external: ExternalValues | None = None,
) -> Aggregated:
    """Compute every metric of ``model`` for every customer as of ``as_of``.

    ``as_of`` is one date, or an array of ``datetime64[D]`` with one date per customer
    (NaT: no rows count for that customer). ``sources``: sheets already resolved to
    customers (IDs, dates, numbers) by an earlier run over the same inputs, reused so the
    back-test does not parse them again; filled in when given empty. ``external``: the sheets
    whose rows live in files or databases (handed in by the caller: ``inputs.sources``);
    their metrics are computed where the rows are, exactly as if the rows were pasted.
    """
    problems: list[Problem] = []
    by_name = {k.casefold(): (k, v) for k, v in sheets.items() if v is not None}
    sources = {} if sources is None else sources
    values: dict[str, pd.Series | np.ndarray] = {}
    unavailable: dict[str, str] = {}
    absent: dict[str, list[str]] = {}  # metric -> the source columns it lacks
    day = as_days(as_of, customers.n)
    batch = None
    if external:
        pasted = {real: df for real, df in by_name.values()}
        batch = external.per_customer(model, customers, pasted, day, problems)

    def source(name: str) -> SheetRows | None:
        key = name.casefold()
        if key == "customers":
            if "customers" not in sources:
                sources["customers"] = customers.sheet("Customers", customers.frame, problems)
            return sources["customers"]
        if key not in by_name:
            return None
        if key not in sources:
            real, df = by_name[key]
            sources[key] = customers.sheet(real, df, problems)
        return sources[key]

    for metric in metric_order(model.metrics):
        if metric.aggregate == "ratio":
            top, bottom = metric.ratio_parts
            if top in unavailable or bottom in unavailable:
                unavailable[metric.name] = f"needs {top} and {bottom}"
                continue
            num = np.asarray(values[top], dtype=float)
            den = np.asarray(values[bottom], dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                values[metric.name] = np.where(den > 0, num / den, np.nan)
            continue
        if batch is not None and metric.name in batch.values:
            values[metric.name] = batch.values[metric.name]
            continue
        if batch is not None and metric.name in batch.unavailable:
            unavailable[metric.name], absent[metric.name] = batch.unavailable[metric.name]
            continue
        src = source(metric.source)
        if src is None:
            unavailable[metric.name] = f"sheet {metric.source} is absent"
            continue
        missing = missing_columns(metric, src)
        if missing:
            unavailable[metric.name] = (
                f"sheet {src.name} has no column {', '.join(repr(c) for c in missing)}"
            )
            absent[metric.name] = missing
            continue
        values[metric.name] = _compute(metric, src, customers.n, day)

    frame = pd.DataFrame(
        {m.name: values[m.name] for m in model.metrics if m.name in values}, index=customers.keys
    )
    for name, why in unavailable.items():
        m = model.metric(name)
        where, value = _config_cell(m, absent.get(name, []))
        problems.append(
            Problem(
                "Metrics",
                f"metric {name!r} cannot be computed: {why}; it is skipped for every customer",
                row=m.row,
                column=where,
                value=value,
            )
        )
    return Aggregated(frame, unavailable, problems, batch.stats if batch is not None else None)


def date_column(metric: Metric, src: SheetRows) -> str | None:
    """The column that dates the events of ``src`` for ``metric``."""
    if metric.date_column:
        return normalise_header(metric.date_column)
    if metric.aggregate == "days_since" and metric.column:
        return normalise_header(metric.column)
    default = SOURCE_DATE_COLUMNS.get(src.name, "date")
    for candidate in (default, "date"):
        if src.has(candidate):
            return candidate
    return None


def _needed_columns(metric: Metric) -> list[str]:
    cols = []
    if metric.aggregate == "overdue_count":
        cols += ["started", "completed", "standard_days"]
    elif metric.column and metric.aggregate != "days_since":
        cols.append(normalise_header(metric.column))
    if metric.filter is not None:
        cols.append(normalise_header(metric.filter.column))
    return cols


def _config_cell(metric: Metric, missing: list[str]) -> tuple[str, str | None]:
    """The Metrics cell to fix for an uncomputable metric: the column, filter or source."""
    column = normalise_header(metric.column) if metric.aggregate != "ratio" else ""
    if column and column in missing:
        return "column", metric.column
    if metric.filter is not None and normalise_header(metric.filter.column) in missing:
        return "filter", str(metric.filter)
    return "source", metric.source or None


def missing_columns(metric: Metric, src: SheetRows) -> list[str]:
    missing = [c for c in _needed_columns(metric) if not src.has(c)]
    needs_date = metric.window_days is not None or metric.aggregate in (
        "days_since",
        "active_days",
        "overdue_count",
    )
    dates = date_column(metric, src) if metric.aggregate != "value" else None
    if dates is not None and not src.has(dates):
        missing.append(dates)  # a column the user named (days_since column, date_column)
    elif needs_date and dates is None:
        missing.append(metric.date_column or SOURCE_DATE_COLUMNS.get(src.name, "date"))
    return missing


def _row_mask(metric: Metric, src: SheetRows, day: np.datetime64 | np.ndarray) -> np.ndarray:
    """Rows of known customers that pass the filter and the window as of ``day``."""
    mask = src.codes >= 0
    day = row_days(day, src.codes)
    if metric.filter is not None:
        mask &= src.matches(normalise_header(metric.filter.column), metric.filter.values)
    if metric.aggregate == "value":
        return mask
    col = date_column(metric, src)
    if col is not None:
        days = src.days(col)
        dated = ~np.isnat(days)
        if metric.window_days is not None:
            start = day - np.timedelta64(int(np.floor(metric.window_days)), "D")
            mask &= dated & (days <= day) & (days > start)
        else:
            mask &= ~dated | (days <= day)
    return mask


def _compute(metric: Metric, src: SheetRows, n: int, day: np.datetime64 | np.ndarray) -> np.ndarray:
    mask = _row_mask(metric, src, day)
    pos = src.codes[mask]
    agg = metric.aggregate
    column = normalise_header(metric.column) if metric.column else ""
    if agg == "count":
        return np.bincount(pos, minlength=n).astype(float)
    if agg == "distinct":
        codes = src.codes_of(column)[mask]
        keep = codes >= 0
        pairs = pd.unique(
            pos[keep].astype(np.int64) * (int(codes.max(initial=0)) + 1) + codes[keep]
        )
        return np.bincount(pairs // (int(codes.max(initial=0)) + 1), minlength=n).astype(float)
    if agg == "active_days":
        days = src.days(date_column(metric, src) or "date")[mask]
        keep = ~np.isnat(days)
        stamp = days[keep].astype(np.int64)
        key = pos[keep].astype(np.int64) * 1_000_000 + (stamp - stamp.min() if stamp.size else 0)
        return np.bincount(pd.unique(key) // 1_000_000, minlength=n).astype(float)
    if agg == "overdue_count":
        started = src.days("started")[mask]
        completed = src.days("completed")[mask]
        standard = src.numbers("standard_days")[mask]
        today = row_days(day, src.codes)
        today = today[mask] if isinstance(today, np.ndarray) else today
        open_ = np.isnat(completed) | (completed > today)
        age = (today - started) / DAY
        overdue = open_ & ~np.isnat(started) & (started <= today) & (age > standard)
        return np.bincount(pos[overdue], minlength=n).astype(float)
    if agg == "days_since":
        days = src.days(date_column(metric, src) or "date")[mask]
        keep = ~np.isnat(days)
        last = pd.Series(days[keep]).groupby(pos[keep]).max()
        out = np.full(n, np.nan)
        idx = last.index.to_numpy()
        today = day[idx] if isinstance(day, np.ndarray) else day
        out[idx] = (today - last.to_numpy().astype("datetime64[D]")) / DAY
        return out
    if agg in ("sum", "mean", "min", "max"):
        numbers = src.numbers(column)[mask]
        keep = ~np.isnan(numbers)
        if agg in ("sum", "mean"):  # correctly rounded, whatever the row order (exactsum)
            total = exact_sums(pos[keep], numbers[keep], n)
            if agg == "sum":
                return total
            count = np.bincount(pos[keep], minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(count > 0, total / np.maximum(count, 1), np.nan)
        grouped = pd.Series(numbers[keep]).groupby(pos[keep])
        result = grouped.min() if agg == "min" else grouped.max()
        out = np.full(n, np.nan)
        out[result.index.to_numpy()] = result.to_numpy()
        return out
    if agg in ("latest", "value"):
        return _pick(metric, src, mask, pos, n, column, latest=agg == "latest")
    raise AssertionError(f"unhandled aggregate {agg}")  # model validation makes this unreachable


def _pick(
    metric: Metric,
    src: SheetRows,
    mask: np.ndarray,
    pos: np.ndarray,
    n: int,
    column: str,
    *,
    latest: bool,
) -> np.ndarray:
    """The value of ``column`` per customer: the latest-dated one, or the first row's."""
    if metric.is_text:
        raw = src.frame[column].to_numpy(dtype=object)[mask]
        present = ~pd.isna(raw)
    else:
        raw = src.numbers(column)[mask]
        present = ~np.isnan(raw)
    rows = np.flatnonzero(present)
    if latest:
        col = date_column(metric, src)
        order_days = (
            src.days(col)[mask][rows].astype(np.int64) if col else np.zeros(rows.size, np.int64)
        )
        if col:
            dated = ~np.isnat(src.days(col)[mask][rows])
            rows, order_days = rows[dated], order_days[dated]
        order = np.lexsort((rows, order_days, pos[rows]))
        chosen = rows[order]
        last = np.r_[pos[chosen][1:] != pos[chosen][:-1], True] if chosen.size else chosen
        chosen = chosen[last.astype(bool)]
    else:
        src.report_duplicate_customers()
        first = np.unique(pos[rows], return_index=True)[1]
        chosen = rows[first]
    out = np.full(n, None if metric.is_text else np.nan, dtype=object if metric.is_text else float)
    out[pos[chosen]] = raw[chosen]
    return out
