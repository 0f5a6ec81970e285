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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.ids import (
    case_variants,
    email_domains,
    normalise_ids,
    normalise_one,
    normalised_codes,
)
from xlhealth.model import SOURCE_DATE_COLUMNS, Metric, Model, metric_order
from xlhealth.problems import Problem
from xlhealth.tables import ROW_COLUMN, normalise_header, sheet_rows

DAY = np.timedelta64(1, "D")


def _as_day(as_of: dt.date) -> np.datetime64:
    return np.datetime64(as_of, "D")


def to_days(series: pd.Series) -> np.ndarray:
    """Dates (datetime, date or text) as ``datetime64[D]``; NaT where not a date."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce", format="mixed")
    return series.to_numpy().astype("datetime64[D]")  # any unit: no nanosecond overflow


def normalised_text(series: pd.Series) -> pd.Series:
    """Values trimmed, NFKC-normalised and case folded (for filters and text bands)."""
    return normalise_ids(series)


@dataclass
class Customers:
    """The ``Customers`` sheet reduced to one row per normalised ID."""

    frame: pd.DataFrame
    keys: pd.Index
    problems: list[Problem] = field(default_factory=list)
    case_sensitive: bool = False
    """IDs are matched with their case when Customers holds IDs that differ only by case."""

    def ids(self, values: pd.Series) -> pd.Series:
        """Other sheets' IDs normalised the way this book's customer IDs are."""
        return normalise_ids(values, fold=not self.case_sensitive)

    @property
    def n(self) -> int:
        return len(self.keys)


def prepare_customers(df: pd.DataFrame) -> Customers:
    """Normalise IDs; drop blank and duplicate IDs with a located problem each."""
    frame = df.rename(columns={c: normalise_header(c) for c in df.columns if c != ROW_COLUMN})
    problems: list[Problem] = []
    if "customer_id" not in frame.columns:
        problems.append(
            Problem(
                "Customers",
                "required column 'customer_id' is missing; add it to the header",
                row=1,
                column="customer_id",
                blocking=True,
            )
        )
        empty = frame.iloc[0:0].copy()
        return Customers(empty, pd.Index([], dtype=object), problems)
    rows = sheet_rows(frame)
    exact = normalise_ids(frame["customer_id"], fold=False)
    variants = case_variants(exact)
    keys = exact if variants else normalise_ids(exact)
    for a, b in variants[:5]:
        problems.append(
            Problem(
                "Customers",
                f"IDs on rows {rows.iloc[a]} and {rows.iloc[b]} differ only by case "
                f"({frame['customer_id'].iloc[a]!r}, {frame['customer_id'].iloc[b]!r}), so IDs "
                "are matched case-sensitively in this book (as Salesforce IDs are); check that "
                "other sheets write them with the same case",
                row=int(rows.iloc[b]),
                column="customer_id",
                value=frame["customer_id"].iloc[b],
            )
        )
    blank = keys.isna()
    blank_rows = rows[blank][~_blank_rows(frame[blank.to_numpy()])]
    for row in blank_rows:
        problems.append(
            Problem(
                "Customers",
                "customer_id is blank; fill it in or delete the row",
                row=int(row),
                column="customer_id",
            )
        )
    dup = keys.duplicated() & ~blank
    first_row = pd.Series(rows.to_numpy(), index=keys.to_numpy())
    first_row = first_row[~first_row.index.duplicated()]
    for row, key, raw in zip(rows[dup], keys[dup], frame.loc[dup, "customer_id"], strict=True):
        problems.append(
            Problem(
                "Customers",
                f"duplicate customer_id (first on row {first_row[key]}); "
                "this row is ignored — merge the two rows",
                row=int(row),
                column="customer_id",
                value=raw,
            )
        )
    keep = ~blank & ~dup
    kept = frame.loc[keep].copy()
    kept["_key"] = keys[keep].to_numpy()
    kept[ROW_COLUMN] = rows[keep].to_numpy()
    kept = kept.reset_index(drop=True)
    return Customers(kept, pd.Index(kept["_key"], dtype=object), problems, bool(variants))


def _blank_rows(frame: pd.DataFrame) -> pd.Series:
    data = frame.drop(columns=[ROW_COLUMN], errors="ignore")
    if data.empty:
        return pd.Series(True, index=frame.index)
    text = data.astype("string").apply(lambda s: s.str.strip())
    return (text.isna() | (text == "")).all(axis=1)


class Source:
    """One input sheet resolved to customer positions (computed once, reused by every metric)."""

    def __init__(self, name: str, df: pd.DataFrame, customers: Customers, problems: list[Problem]):
        self.name = name
        self.frame = df.rename(
            columns={c: normalise_header(c) for c in df.columns if c != ROW_COLUMN}
        )
        self.problems = problems
        self.rows = sheet_rows(self.frame).to_numpy()
        self.codes = self._resolve(customers)
        self._days: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._duplicates_checked = name == "Customers"

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    def _resolve(self, customers: Customers) -> np.ndarray:
        f = self.frame
        keys: pd.Series | None = None
        if self.name == "Customers" and "_key" in f.columns:
            return np.arange(len(f), dtype=np.int64)
        if "customer_id" in f.columns:
            keys = customers.ids(f["customer_id"])
        if "email" in f.columns and "email_domain" in customers.frame.columns:
            domains = email_domains(f["email"])
            domain_map = _domain_map(customers, self.problems)
            by_email = domains.map(domain_map)
            keys = by_email if keys is None else keys.where(keys.notna(), by_email)
        if keys is None:
            self.problems.append(
                Problem(
                    self.name,
                    "no customer_id column (or email with Customers.email_domain); "
                    "add a customer_id column",
                    row=1,
                    column="customer_id",
                    blocking=False,
                )
            )
            return np.full(len(f), -1, dtype=np.int64)
        codes = customers.keys.get_indexer(keys.to_numpy(dtype=object))
        self._report_unmatched(keys, codes, customers)
        return codes.astype(np.int64)

    def _report_unmatched(self, keys: pd.Series, codes: np.ndarray, customers: Customers) -> None:
        """One problem per distinct unknown ID (first row and count), one for blank IDs."""
        unmatched = codes < 0
        if not unmatched.any():
            return
        f = self.frame
        ids = f["customer_id"] if "customer_id" in f.columns else pd.Series(None, index=f.index)
        has_id = (
            ids.notna().to_numpy() & keys.notna().to_numpy()
            if "customer_id" in f.columns
            else np.zeros(len(f), dtype=bool)
        )
        emails = f["email"] if "email" in f.columns else pd.Series(None, index=f.index)
        has_email = (
            emails.notna().to_numpy()
            & (emails.astype("string").str.strip() != "").fillna(False).to_numpy()
        )
        blank = unmatched & ~has_id & ~has_email
        if blank.any():
            self.problems.append(
                Problem(
                    self.name,
                    f"no customer ID{_more(int(blank.sum()) - 1)}; these rows are "
                    "ignored — fill in the customer ID",
                    row=int(self.rows[blank][0]),
                    column="customer_id",
                )
            )
        for column, which, what in (
            ("customer_id", unmatched & has_id, "unknown customer"),
            ("email", unmatched & ~has_id & has_email, "no customer has this email domain"),
        ):
            if not which.any():
                continue
            raw = f[column].to_numpy(dtype=object)[which]
            table = pd.DataFrame(
                {
                    "key": customers.ids(pd.Series(raw)).to_numpy(dtype=object)
                    if column == "customer_id"
                    else email_domains(pd.Series(raw)).to_numpy(dtype=object),
                    "row": self.rows[which],
                    "raw": raw,
                }
            )
            grouped = table.groupby("key", sort=False, dropna=False).agg(
                row=("row", "first"), raw=("raw", "first"), n=("row", "size")
            )
            for g in grouped.head(50).itertuples():
                self.problems.append(
                    Problem(
                        self.name,
                        f"{what}{_more(int(g.n) - 1)}; add it to Customers or fix "
                        "it — these rows are ignored",
                        row=int(g.row),
                        column=column,
                        value=g.raw,
                    )
                )
            if len(grouped) > 50:
                self.problems.append(
                    Problem(
                        self.name,
                        f"{len(grouped) - 50} more unknown values not listed",
                        column=column,
                    )
                )

    def report_duplicate_customers(self) -> None:
        """A per-customer sheet with two rows for one customer: say where; the first row wins."""
        if self._duplicates_checked:
            return
        self._duplicates_checked = True
        known = np.flatnonzero(self.codes >= 0)
        dup = pd.Series(self.codes[known]).duplicated().to_numpy()
        if dup.any():
            first = known[int(np.argmax(dup))]
            column = "customer_id" if self.has("customer_id") else "email"
            self.problems.append(
                Problem(
                    self.name,
                    f"customer appears twice{_more(int(dup.sum()) - 1)}; the first "
                    "row is used — keep one row per customer",
                    row=int(self.rows[first]),
                    column=column,
                    value=self.frame[column].iloc[first],
                )
            )

    def days(self, column: str) -> np.ndarray:
        if column not in self._days:
            values = self.frame[column]
            days = to_days(values)
            bad = np.isnat(days) & values.notna().to_numpy()
            if bad.any():
                text = values[bad].astype("string").str.strip()
                bad[bad] = (text != "").fillna(False).to_numpy()
            if bad.any():
                first = int(np.argmax(bad))
                self.problems.append(
                    Problem(
                        self.name,
                        f"not a date{_more(int(bad.sum()) - 1)}; enter a date such "
                        "as 2026-03-31 — these rows are ignored",
                        row=int(self.rows[first]),
                        column=column,
                        value=values.iloc[first],
                    )
                )
            self._days[column] = days
        return self._days[column]

    def numbers(self, column: str) -> np.ndarray:
        if column not in self._numbers:
            values = self.frame[column]
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            bad = np.isnan(numbers) & values.notna().to_numpy()
            if bad.any() and not pd.api.types.is_numeric_dtype(values.dtype):
                text = values.astype("string").str.strip()
                bad &= (text != "").fillna(False).to_numpy()
            if bad.any():
                first = int(np.argmax(bad))
                self.problems.append(
                    Problem(
                        self.name,
                        f"not a number{_more(int(bad.sum()) - 1)}; enter a number "
                        "— these cells are ignored",
                        row=int(self.rows[first]),
                        column=column,
                        value=values.iloc[first],
                    )
                )
            self._numbers[column] = numbers
        return self._numbers[column]

    def codes_of(self, column: str) -> np.ndarray:
        """Integer codes of the normalised values of ``column`` (-1 for blanks)."""
        if column not in self._codes:
            self._codes[column] = normalised_codes(self.frame[column])
        return self._codes[column][0]

    def matches(self, column: str, values: tuple[str, ...]) -> np.ndarray:
        """Rows whose normalised ``column`` equals one of ``values`` (normalised too)."""
        codes = self.codes_of(column)
        wanted = {normalise_one(v) for v in values}
        hits = np.flatnonzero([d in wanted for d in self._codes[column][1]])
        return np.isin(codes, hits)

    def text(self, column: str) -> pd.Series:
        """Normalised values of ``column`` (None for blanks)."""
        codes = self.codes_of(column)
        distinct = self._codes[column][1]
        return pd.Series(np.append(distinct, None)[codes], index=self.frame.index, dtype=object)


def _more(n: int) -> str:
    return f" (and {n} more rows)" if n > 0 else ""


def _domain_map(customers: Customers, problems: list[Problem]) -> dict[str, str]:
    """Normalised email domain -> customer key; a domain claimed twice maps to nobody."""
    frame = customers.frame
    domains = frame["email_domain"].map(_domain_or_none)
    table = pd.DataFrame({"domain": domains, "key": frame["_key"], "row": frame[ROW_COLUMN]})
    table = table.dropna(subset=["domain"])
    dup = table["domain"].duplicated(keep=False)
    for domain, group in table[dup].groupby("domain"):
        rows = ", ".join(str(r) for r in group["row"])
        problems.append(
            Problem(
                "Customers",
                f"email_domain is used by several customers (rows {rows}); "
                "emails from it cannot be matched — give each customer its own domain",
                row=int(group["row"].iloc[0]),
                column="email_domain",
                value=domain,
            )
        )
    table = table[~dup]
    return dict(zip(table["domain"], table["key"], strict=True))


def _domain_or_none(value: object) -> str | None:
    text = normalise_one(value)
    return text.rsplit("@", 1)[-1].strip() or None if text else None


@dataclass
class Aggregated:
    """Per-customer metric values (rows in Customers order) and what could not be computed."""

    values: pd.DataFrame
    unavailable: dict[str, str]
    problems: list[Problem]


def aggregate(
    model: Model,
    customers: Customers,
    sheets: dict[str, pd.DataFrame],
    as_of: dt.date,
) -> Aggregated:
    """Compute every metric of ``model`` for every customer as of ``as_of``."""
    problems: list[Problem] = []
    by_name = {k.casefold(): (k, v) for k, v in sheets.items() if v is not None}
    sources: dict[str, Source] = {}
    values: dict[str, pd.Series | np.ndarray] = {}
    unavailable: dict[str, str] = {}
    day = _as_day(as_of)

    def source(name: str) -> Source | None:
        key = name.casefold()
        if key == "customers":
            if "customers" not in sources:
                sources["customers"] = Source("Customers", customers.frame, customers, problems)
            return sources["customers"]
        if key not in by_name:
            return None
        if key not in sources:
            real, df = by_name[key]
            sources[key] = Source(real, df, customers, problems)
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
        src = source(metric.source)
        if src is None:
            unavailable[metric.name] = f"sheet {metric.source} is absent"
            continue
        reason = _missing_columns(metric, src)
        if reason:
            unavailable[metric.name] = reason
            continue
        values[metric.name] = _compute(metric, src, customers.n, day)

    frame = pd.DataFrame(
        {m.name: values[m.name] for m in model.metrics if m.name in values}, index=customers.keys
    )
    for name, why in unavailable.items():
        m = model.metric(name)
        where, value = _config_cell(m, why)
        problems.append(
            Problem(
                "Metrics",
                f"metric {name!r} cannot be computed: {why}; it is skipped for every customer",
                row=m.row,
                column=where,
                value=value,
            )
        )
    return Aggregated(frame, unavailable, problems)


def date_column(metric: Metric, src: Source) -> str | None:
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


def _config_cell(metric: Metric, why: str) -> tuple[str, str | None]:
    """The Metrics cell to fix for an uncomputable metric: the column, filter or source."""
    if (
        metric.column
        and metric.aggregate != "ratio"
        and repr(normalise_header(metric.column)) in why
    ):
        return "column", metric.column
    if metric.filter is not None and repr(normalise_header(metric.filter.column)) in why:
        return "filter", str(metric.filter)
    return "source", metric.source or None


def _missing_columns(metric: Metric, src: Source) -> str:
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
    if missing:
        return f"sheet {src.name} has no column {', '.join(repr(c) for c in missing)}"
    return ""


def _row_mask(metric: Metric, src: Source, day: np.datetime64) -> np.ndarray:
    """Rows of known customers that pass the filter and the window as of ``day``."""
    mask = src.codes >= 0
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


def _compute(metric: Metric, src: Source, n: int, day: np.datetime64) -> np.ndarray:
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
        open_ = np.isnat(completed) | (completed > day)
        age = (day - started) / DAY
        overdue = open_ & ~np.isnat(started) & (started <= day) & (age > standard)
        return np.bincount(pos[overdue], minlength=n).astype(float)
    if agg == "days_since":
        days = src.days(date_column(metric, src) or "date")[mask]
        keep = ~np.isnat(days)
        last = pd.Series(days[keep]).groupby(pos[keep]).max()
        out = np.full(n, np.nan)
        out[last.index.to_numpy()] = (day - last.to_numpy().astype("datetime64[D]")) / DAY
        return out
    if agg in ("sum", "mean", "min", "max"):
        numbers = src.numbers(column)[mask]
        keep = ~np.isnan(numbers)
        if agg in ("sum", "mean"):
            total = np.bincount(pos[keep], weights=numbers[keep], minlength=n)
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
    src: Source,
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
