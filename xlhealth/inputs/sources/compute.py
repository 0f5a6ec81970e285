"""One source's metrics, computed where its rows are.

For each Sources row: describe the relation, recognise its columns like a pasted export,
then three kinds of query, each returning small results:

1. the *overview* (every row, once per run): one row per distinct combination of the
   customer link columns — rows, first file, first and last day, rows SQL finds bad —
   plus the distinct values of dates and numbers SQL cannot read itself. Python reads
   those values with the in-sheet functions and sends them back as small mapping tables;
   the Checks figures and the located problems come from this query alone;
2. the *scoped lookups* (rows inside the metrics' windows): distinct values of filter
   columns, text metrics and ``distinct`` columns that are not plain ASCII (plain ones are
   normalised in SQL: their code is their lower case) — only when a metric needs them;
3. the *aggregate* per as-of date: one row per customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core.aggregate import date_column, missing_columns
from xlhealth.core.model import SOURCE_DATE_COLUMNS, Metric
from xlhealth.core.problems import Problem
from xlhealth.core.tables import normalise_header
from xlhealth.core.text import normalise_one
from xlhealth.inputs.columns import Recogniser
from xlhealth.inputs.matching import Customers
from xlhealth.inputs.sources import normalise as nz
from xlhealth.inputs.sources import sql
from xlhealth.inputs.sources.database import CANONICAL, FILE_COLUMN, Engine
from xlhealth.inputs.sources.files import SourceError
from xlhealth.inputs.sources.metric_sql import MetricSQL
from xlhealth.inputs.sources.report import (
    NOT_DATE,
    NOT_NUMBER,
    OTHER_ORDER,
    OUT_OF_RANGE,
    Reports,
    hashable,
    range_text,
)
from xlhealth.inputs.sources.rows import Rows, Scope
from xlhealth.inputs.sources.spec import SourceSpec


@dataclass
class Schema:
    """The columns a source offers under their field / folded names (``has`` like Source)."""

    name: str
    columns: dict[str, tuple[str, str]]  # key -> (column in the relation, kind)
    sheet_columns: set[str] = field(default_factory=set)  # append: the pasted sheet's too

    def has(self, column: str) -> bool:
        return column in self.columns or column in self.sheet_columns


@dataclass
class Outcome:
    """What one source gave: values per metric, metrics it could not compute, Checks row."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    unavailable: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    stats: dict[str, object] = field(default_factory=dict)


def recognise(
    sheet: str, described: list[tuple[str, str]], recogniser: Recogniser | None,
    problems: list[Problem], where: str,
) -> tuple[dict[str, tuple[str, str]], object]:  # fmt: skip
    """Field / folded key -> (relation column, kind), exactly as a pasted header row reads."""
    names = [name for name, _ in described if name != FILE_COLUMN]
    kinds = dict(described)
    out: dict[str, tuple[str, str]] = {}
    recognised = None
    if recogniser is not None:
        found: list[Problem] = []
        letters = [f"column {j + 1}" for j in range(len(names))]
        recognised = recogniser.recognise(sheet, names, letters, 1, found)
        for p in found:  # the header row of a file is no sheet row: name the source instead
            problems.append(Problem(p.sheet, f"{p.message} (in {where})", column=p.column,
                                    value=p.value) if p.sheet == sheet else p)  # fmt: skip
        keys = recognised.names
    else:
        keys, seen = [], set()
        for name in names:
            key = normalise_header(name)
            keys.append(None if key in seen or not key else key)
            seen.add(key)
    for name, key in zip(names, keys, strict=True):
        if key and key not in out:
            out[key] = (name, kinds[name])
    return out, recognised


Keyset = tuple[str, str, str, str | None]
"""(mapping name, key expression over ``xr``, key kind, example expression or None)."""
TYPED_DATES = ("date", "timestamp", "timestamptz")
LINK_COLUMNS = {"customer_id": "ipos", "email": "epos", "customer_name": "npos"}


def _covers(covered: Scope | str, scope: Scope) -> bool:
    if covered == "nothing":
        return False
    if covered is None or (scope is not None and scope[0] > scope[1]):
        return True
    return scope is not None and covered[0] <= scope[0] and scope[1] <= covered[1]


def _hull(covered: Scope | str, scope: Scope) -> Scope:
    if covered == "nothing" or (covered is not None and covered[0] > covered[1]):
        return scope
    if covered is None or scope is None:
        return None
    return (min(covered[0], scope[0]), max(covered[1], scope[1]))


class Run(Rows, MetricSQL, Reports):
    """One source for one book's customers: the as-of-independent part is built once."""

    def __init__(
        self,
        spec: SourceSpec,
        engine: Engine,
        schema: Schema,
        metrics: list[Metric],
        customers: Customers,
        sheet_frame: pd.DataFrame | None,
        day_first: bool,
        problems: list[Problem],
        names: dict[str, str],
    ):
        self.spec, self.engine, self.schema = spec, engine, schema
        self.customers, self.day_first, self.problems = customers, day_first, problems
        self.sheet = spec.sheet
        self.file_names = names
        self.file_order = list(names)  # DuckDB's file_index -> the file read
        self.unavailable: dict[str, tuple[str, list[str]]] = {}
        self.metrics: list[Metric] = []
        for m in metrics:
            missing = missing_columns(m, schema)
            if missing:
                shown = ", ".join(repr(c) for c in missing)
                self.unavailable[m.name] = (f"sheet {self.sheet} has no column {shown} "
                                            f"(in {spec.where})", missing)  # fmt: skip
            else:
                self.metrics.append(m)
        self.raw: dict[str, int] = {}  # key -> raw column index (c{i})
        self.tags: dict[str, str] = {}  # tag column -> expression over c{i} (in xr)
        self.dates: dict[str, int] = {}
        self.numbers: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        self.strings: dict[str, int] = {}  # distinct columns normalised in SQL (s{i})
        self.texts: dict[str, int] = {}
        self.sums: set[int] = set()
        self._plan()
        self.code_book = nz.Codes()
        self.text_values: list[object] = []
        self.maps: dict[str, tuple[str, str]] = {}  # map name -> (SQL alias, relation)
        self.link_info: dict[str, tuple[list, nz.Links]] = {}
        self.mapped_days: dict[str, np.ndarray] = {}  # date key -> days Python read
        self.wanted: dict[str, list[int]] = {}
        self._columns()
        self._overview()
        self.sheet_rel = self._sheet_part(sheet_frame) if sheet_frame is not None else None
        self.covered: Scope | str = "nothing"  # the days the scoped lookups have read
        self.unclean = False  # a distinct column holds values SQL cannot normalise
        self.prep_sql = ""

    # ------------------------------------------------------------------ plan

    def _use(self, key: str, role: dict[str, int]) -> None:
        if key not in role:
            role[key] = len(role)

    def _plan(self) -> None:
        main = SOURCE_DATE_COLUMNS.get(self.sheet, "date")
        self.main_date = main if self.schema.has(main) else None
        if self.main_date:
            self._use(main, self.dates)
        filters = set()
        for m in self.metrics:
            col = date_column(m, self.schema) if m.aggregate != "value" else None
            if col:
                self._use(col, self.dates)
            if m.filter is not None:
                filters.add(normalise_header(m.filter.column))
                self._use(normalise_header(m.filter.column), self.codes)
            column = normalise_header(m.column) if m.column else ""
            if m.aggregate == "overdue_count":
                for c in ("started", "completed"):
                    self._use(c, self.dates)
                self._use("standard_days", self.numbers)
            elif m.aggregate == "distinct":
                self._use(column, self.codes)
            elif m.aggregate in ("sum", "mean", "min", "max"):
                self._use(column, self.numbers)
                if m.aggregate in ("sum", "mean"):
                    self.sums.add(self.numbers[column])
            elif m.aggregate in ("latest", "value"):
                self._use(column, self.texts if m.is_text else self.numbers)
        self.links = [c for c in LINK_COLUMNS if c in self.schema.columns]
        self.ordered = any(m.aggregate in ("latest", "value") for m in self.metrics)
        for key in list(self.codes):  # plain text distinct columns: normalised by SQL
            if (key in self.schema.columns and self._kind(key) == "text"
                    and key not in filters and key not in self.texts and key not in self.links
                    and nz.spec_range(self.sheet, key) is None
                    and not nz.is_spec_date(self.sheet, key)):  # fmt: skip
                self.strings[key] = self.codes.pop(key)
        self.scope_key, self.reach = self._scope_plan()

    def _scope_plan(self) -> tuple[str | None, int]:
        """The date column every metric's window reads, and the longest window: rows
        outside every window need not be read by the aggregate. None when any metric
        reads all rows (no window, ``value``, windows on different columns)."""
        columns, reach = set(), 0
        for m in self.metrics:
            if m.aggregate == "value" or m.window_days is None:
                return None, 0
            columns.add(date_column(m, self.schema))
            reach = max(reach, int(np.floor(m.window_days)))
        key = next(iter(columns)) if len(columns) == 1 else None
        if key is None or key not in self.schema.columns:
            return None, 0
        return (key, reach) if self._kind(key) in (*TYPED_DATES, "text") else (None, 0)

    def _scope(self, day: np.datetime64 | np.ndarray) -> Scope:
        if self.scope_key is None:
            return None
        if isinstance(day, np.ndarray):
            days = day.astype("datetime64[D]")
            days = days[~np.isnat(days)]
            if not days.size:
                return (1, 0)
            lo, hi = int(days.min().astype(np.int64)), int(days.max().astype(np.int64))
        else:
            lo = hi = int(np.datetime64(day, "D").astype(np.int64))
        return (lo - self.reach + 1, hi)

    def _c(self, key: str) -> str | None:
        """The raw column ``c{i}`` of ``key`` in the relation (None: only the sheet has it)."""
        if key not in self.schema.columns:
            return None
        if key not in self.raw:
            self.raw[key] = len(self.raw)
        return f"c{self.raw[key]}"

    def _tag(self, key: str, prefix: str, expr: str | None) -> str | None:
        """A per-row tag computed once in the raw relation (regular expressions run once)."""
        if expr is None:
            return None
        name = f"{prefix}{self.raw[key]}"
        self.tags[name] = expr
        return name

    def _kind(self, key: str) -> str:
        kind = self.schema.columns[key][1]
        return kind if kind in CANONICAL else "text"

    def _columns(self) -> None:
        """Raw columns, the SQL reading of dates and numbers, and what Python must map."""
        for key in self.links:
            self._c(key)
        self.keysets: list[Keyset] = []  # read over every row (the overview)
        self.date_sql: dict[str, tuple[str | None, str | None]] = {}
        for key in self.dates:
            c = self._c(key)
            if c is None:
                continue
            kind = self._kind(key)
            tag = self._tag(key, "z", sql.date_tag(c, kind))
            mapped, fast = sql.date_parts(c, kind, tag)
            self.date_sql[key] = (mapped, fast)
            if mapped is not None:
                key_kind = "float" if kind in ("int", "float") else kind
                self.keysets.append((f"d_{key}", mapped, key_kind, c if kind == "text" else None))
        self.number_sql: dict[str, tuple[str | None, str | None]] = {}
        for key in self.numbers:
            c = self._c(key)
            if c is None:
                continue
            flags = nz.spec_range(self.sheet, key) is None
            tag = self._tag(key, "y", sql.number_tag(c, self._kind(key)))
            mapped, fast = sql.number_parts(c, self._kind(key), flags, tag)
            self.number_sql[key] = (mapped, fast)
            if mapped is not None:
                self.keysets.append((f"n_{key}", mapped, self._kind(key), None))
        self.scoped = [  # read inside the metrics' windows, when first needed
            k for k in sorted(set(self.codes) | set(self.texts), key=str)
            if k in self.schema.columns and k not in self.links
        ]  # fmt: skip
        for key in self.scoped + list(self.strings):
            self._c(key)
        self.check_sql = [
            c
            for c in self._check_columns()
            if not (c[1] == "date" and self._kind(c[2]) in TYPED_DATES)
        ]  # fmt: skip  (typed dates: judged by their first and last value instead)
        self.checks = [(flag, what, key) for flag, what, key, _ in self._check_columns()]

    # ------------------------------------------------------------------ every row, once

    def _overview(self) -> None:
        """One query over every row: per distinct combination of the link columns, rows,
        first file, first/last days and rows SQL finds bad; and the distinct values of
        the dates and numbers Python reads. Sets the mappings, ``stats`` and what the
        first computation reports."""
        ranges = {}  # date key -> (min expr, max expr) per group
        known_days: dict[str, tuple[int | None, int | None]] = {}  # from file statistics
        inner = [f"c{self.raw[k]} AS l{j}" for j, k in enumerate(self.links)]
        inner += [f"{expr} AS k{j}" for j, (_, expr, _, _) in enumerate(self.keysets)]
        inner += [f"{ex} AS e{j}" for j, (*_, ex) in enumerate(self.keysets) if ex is not None]
        inner += [f"CASE WHEN {expr} THEN 1 ELSE 0 END AS {flag}"
                  for flag, _, _, expr in self.check_sql]  # fmt: skip
        inner.append("xf")
        for key, i in self.dates.items():
            _, fast = self.date_sql.get(key, (None, None))
            if fast is None:
                continue
            kind = self._kind(key)
            stored = self.engine.stored_range(self.schema.columns[key][0], kind)
            if stored is not None:
                known_days[key] = stored
            elif kind in TYPED_DATES:  # the day of the first / last value (one per group)
                inner.append(f"c{self.raw[key]} AS r{i}")
                low, high = (sql.date_parts(f"{agg}(r{i})", kind)[1] for agg in ("MIN", "MAX"))
                ranges[key] = (low, high)
            elif key == self.main_date:
                inner.append(f"{sql.in_range(f'({fast})')} AS r{i}")
                ranges[key] = (f"MIN(r{i})", f"MAX(r{i})")
        outer = [f"l{j}" for j in range(len(self.links))]
        outer += [f"GROUPING(k{j}) AS g{j}, k{j}" for j in range(len(self.keysets))]
        outer += [f"MIN(e{j}) AS e{j}" for j, (*_, ex) in enumerate(self.keysets) if ex is not None]
        outer += [f"SUM({flag}) AS {flag}" for flag, *_ in self.check_sql]
        for key, (low, high) in ranges.items():
            i = self.dates[key]
            outer += [f"{low} AS dmin{i}", f"{high} AS dmax{i}"]
        outer += ["COUNT(*) AS n", "MIN(xf) AS xf"]
        link_set = f"({', '.join(f'l{j}' for j in range(len(self.links)))})"
        if self.keysets:
            sets = ", ".join([link_set] + [f"(k{j})" for j in range(len(self.keysets))])
            group = f" GROUP BY GROUPING SETS ({sets})"
        else:
            group = f" GROUP BY {link_set[1:-1]}" if self.links else ""
        got = self.engine.fetch(
            f"WITH xr AS ({self._raw_select()}) SELECT {', '.join(outer)} FROM "
            f"(SELECT {', '.join(inner)} FROM xr) AS q{group}"
        )
        n = np.array([int(v or 0) for v in got["n"]], dtype=np.int64)
        mine = n > 0
        for j in range(len(self.keysets)):
            mine &= got[f"g{j}"] == 1
        for j, (name, _, kind, ex) in enumerate(self.keysets):
            rows = np.flatnonzero((got[f"g{j}"] == 0) & pd.notna(got[f"k{j}"]).astype(bool))
            self._map(name, kind, list(got[f"k{j}"][rows]), list(n[rows]),
                      list(got[f"e{j}" if ex is not None else f"k{j}"][rows]),
                      list(got["xf"][rows]))  # fmt: skip
        frame = pd.DataFrame({
            **{f"l{j}": nz.objects(got[f"l{j}"][mine]) for j in range(len(self.links))},
            "n": n[mine], "xf": got["xf"][mine],
        })  # fmt: skip
        for j, key in enumerate(self.links):
            values = frame[f"l{j}"].dropna()
            part = pd.DataFrame({
                "key": values.map(hashable),
                "value": values,
                "n": frame.loc[values.index, "n"],
                "xf": pd.to_numeric(frame.loc[values.index, "xf"], errors="coerce"),
            })  # fmt: skip
            if not part["key"].is_unique:  # several link columns: one row per combination
                part = part.groupby("key", sort=False).agg(
                    value=("value", "first"), n=("n", "sum"), xf=("xf", "min")
                )
            first = list(part["value"])
            self._map(f"p_{key}", self._kind(key), first, list(part["n"]), first,
                      [None if np.isnan(f) else int(f) for f in part["xf"]])  # fmt: skip
        self.links_frame = self._link_positions(frame)
        self.flag_totals = {flag: sum(int(v or 0) for v in got[flag][mine])
                            for flag, *_ in self.check_sql}  # fmt: skip
        days = dict(known_days)
        for key, i in ((k, self.dates[k]) for k in ranges):
            low = [int(v) for v in got[f"dmin{i}"][mine] if v is not None]
            high = [int(v) for v in got[f"dmax{i}"][mine] if v is not None]
            days[key] = (min(low) if low else None, max(high) if high else None)
        self._typed_out_of_range(days)
        self.stats = self._stats(days)

    def _typed_out_of_range(self, days: dict[str, tuple[int | None, int | None]]) -> None:
        """Typed dates outside 1900–2262 (rare): count them, and find the first and last
        day inside the range, with one more query."""
        bad = [
            k for k, (lo, hi) in days.items()
            if self._kind(k) in TYPED_DATES and ((lo is not None and lo < sql.FIRST_DAY)
                                                 or (hi is not None and hi > sql.LAST_DAY))
        ]  # fmt: skip
        if not bad:
            return
        cols = []
        for key in bad:
            i = self.dates[key]
            fast = f"({self.date_sql[key][1]})"
            cols += [
                f"SUM(CASE WHEN {fast} IS NOT NULL AND {sql.in_range(fast)} IS NULL "
                f"THEN 1 ELSE 0 END) AS vd{i}",
                f"MIN({sql.in_range(fast)}) AS lo{i}",
                f"MAX({sql.in_range(fast)}) AS hi{i}",
            ]
        raw = self._raw_select()
        got = self.engine.fetch(f"WITH xr AS ({raw}) SELECT {', '.join(cols)} FROM xr")
        for key in bad:
            i = self.dates[key]
            self.flag_totals[f"vd{i}"] = int(got[f"vd{i}"][0] or 0)
            lo, hi = got[f"lo{i}"][0], got[f"hi{i}"][0]
            days[key] = (None if lo is None else int(lo), None if hi is None else int(hi))

    def _link_positions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each link combination's customer (``pos``, -1 for none) and the link column it
        is judged by (``lc``), as the aggregate's COALESCE and the in-sheet path decide."""
        pos = np.full(len(frame), np.nan)
        lc = np.zeros(len(frame), dtype=np.int64)
        usable = self._usable_links()
        for j, key in enumerate(self.links):
            raws, found = self.link_info[key]
            lookup = {hashable(r): k for k, r in enumerate(raws)}
            none = len(raws)  # a blank value: no mapping row
            at = np.array([none if pd.isna(v) else lookup.get(hashable(v), none)
                           for v in frame[f"l{j}"]], dtype=np.int64)  # fmt: skip
            found_pos = np.array([np.nan if p is None else float(p) for p in found.pos] + [np.nan])
            column_pos = found_pos[at]
            if key == "customer_id":  # the row counts as giving an ID when it maps to one
                present = ~np.isnan(column_pos)
            else:
                present = np.append(found.present, False)[at]
            lc = np.where((lc == 0) & present, j + 1, lc)
            if key in usable:
                pos = np.where(np.isnan(pos), column_pos, pos)
        frame = frame.assign(pos=np.where(np.isnan(pos), -1, pos).astype(np.int64), lc=lc)
        return frame

    def _stats(self, days: dict[str, tuple[int | None, int | None]]) -> dict[str, object]:
        links = self.links_frame
        known = links["pos"] >= 0
        matched = int(links.loc[known, "pos"].nunique())
        stats: dict[str, object] = {
            "rows": int(links["n"].sum()),
            "customers": matched,
            "customers_without": self.customers.n - matched,
            "unmatched": int(links.loc[~known, "n"].sum()),
        }
        if self.main_date:
            low, high = days.get(self.main_date, (None, None))
            lows = [low] if low is not None else []
            highs = [high] if high is not None else []
            mapped = self.mapped_days.get(self.main_date)
            if mapped is not None and mapped.size:
                lows.append(int(mapped.min()))
                highs.append(int(mapped.max()))
            stats["first"] = _date(min(lows)) if lows else None
            stats["last"] = _date(max(highs)) if highs else None
        return stats

    # ------------------------------------------------------------------ distinct values

    def _distinct(self, keysets: list[Keyset], raw_sql: str) -> dict[str, tuple[list, ...]]:
        if not keysets:
            return {}
        inner = [f"{expr} AS k{j}" for j, (_, expr, _, _) in enumerate(keysets)]
        outer = [f"GROUPING(k{j}) AS g{j}, k{j}" for j in range(len(keysets))]
        outer += ["COUNT(*) AS n"]
        sets = ", ".join(f"(k{j})" for j in range(len(keysets)))
        got = self.engine.fetch(
            f"WITH xr AS ({raw_sql}) SELECT {', '.join(outer)} FROM "
            f"(SELECT {', '.join(inner)} FROM xr) AS q GROUP BY GROUPING SETS ({sets})"
        )
        out = {}
        for j, (name, *_) in enumerate(keysets):
            mine = np.flatnonzero((got[f"g{j}"] == 0) & pd.notna(got[f"k{j}"]).astype(bool))
            keys = list(got[f"k{j}"][mine])
            out[name] = (keys, [int(v) for v in got["n"][mine]], keys, [None] * len(keys))
        return out

    def _lookups(self, scope: Scope, again: bool = False) -> None:
        """Mappings of the values read inside the windows (filters, text metrics, distinct
        values SQL cannot normalise), for every day the computations so far look at."""
        if self.prep_sql and not again and _covers(self.covered, scope):
            return
        hull = scope if again else _hull(self.covered, scope)
        keysets: list[Keyset] = [
            (f"p_{k}", f"c{self.raw[k]}", self._kind(k), None) for k in self.scoped
        ]
        if self.unclean:
            for key in self.strings:
                c = f"c{self.raw[key]}"
                keysets.append((f"s_{key}", f"CASE WHEN NOT {sql.clean_text(c)} THEN {c} END",
                                "text", None))  # fmt: skip
        if keysets:
            found = self._distinct(keysets, self._raw_select(hull))
            for name, _, kind, _ in keysets:
                self._map(name, kind, *found.get(name, ([], [], [], [])))
        self.covered = hull
        self.wanted = {
            m.name: self.code_book.wanted(m.filter.values) for m in self.metrics if m.filter
        }
        self.prep_sql = self._prep_select()

    def _map(
        self, name: str, kind: str, keys: list, counts: list, examples: list, files: list
    ) -> None:
        role, key = name[0], name[2:]
        values = nz.objects(keys)
        count = np.asarray(counts, dtype=np.int64)
        table: dict[str, object] = {"key": values}
        kinds = {"key": kind}
        if role == "d":
            got = nz.dates(self.sheet, key, values, self.day_first)
            table["day"], kinds["day"] = [None if np.isnan(d) else int(d) for d in got.days], "int"
            self.mapped_days[key] = got.days[~np.isnan(got.days) & (count > 0)]
            self._report(key, got.not_date, count, examples, files, *NOT_DATE)
            self._report(key, got.other_order, count, examples, files, *OTHER_ORDER)
            self._report(key, got.out_of_range, count, examples, files, *OUT_OF_RANGE)
        elif role == "n":
            got = nz.numbers(self.sheet, key, values)
            table["num"], kinds["num"] = (
                [None if np.isnan(v) else float(v) for v in got.numbers],
                "float",
            )
            self._report(key, got.not_number, count, examples, files, *NOT_NUMBER)
            limits = nz.spec_range(self.sheet, key)
            if limits is not None:
                self._report(key, got.out_of_range, count, examples, files,
                             range_text(limits), "fix the value — ignored")  # fmt: skip
        elif role == "s":
            view = nz.sheet_view(self.sheet, key, values, self.day_first)
            table["s"], kinds["s"] = [normalise_one(v) for v in view], "text"
        else:
            view = nz.sheet_view(self.sheet, key, values, self.day_first)
            if key in self.codes:
                table["code"], kinds["code"] = list(self.code_book.of(view)), "int"
            if key in self.texts:
                start = len(self.text_values)
                self.text_values += list(view)
                table["tcode"], kinds["tcode"] = list(range(start, start + len(view))), "int"
            if key == "customer_id":
                links = nz.ids(self.customers, values)
                table["ipos"], kinds["ipos"] = list(links.pos), "int"
                self.link_info[key] = (list(values), links)
            elif key == "email":
                links = nz.emails(self.customers, values, self.problems)
                table["epos"], kinds["epos"] = list(links.pos), "int"
                self.link_info[key] = (list(values), links)
            elif key == "customer_name":
                links = nz.names(self.customers, values, self.problems)
                table["npos"], kinds["npos"] = list(links.pos), "int"
                self.link_info[key] = (list(values), links)
        frame = pd.DataFrame({k: nz.objects(v) if k == "key" else v for k, v in table.items()})
        alias = self.maps[name][0] if name in self.maps else f"m{len(self.maps)}"
        self.maps[name] = (alias, self.engine.table("map", frame, kinds))

    # ------------------------------------------------------------------ per as-of date

    def compute(self, day: np.datetime64 | np.ndarray, first: bool) -> Outcome:
        scope = self._scope(day)
        self._lookups(scope)
        got, text = self._aggregate(day, scope)
        if any(int(v or 0) for i in self.strings.values() for v in got[f"u{i}"]):
            self.unclean = True  # values to normalise in Python: look them up, once
            self._lookups(scope, again=True)
            got, text = self._aggregate(day, scope)
        pos = np.array([int(p) for p in got["pos"]], dtype=np.int64)
        known = pos >= 0
        at = pos[known]
        out = Outcome(unavailable=dict(self.unavailable), stats=dict(self.stats))
        for j, m in enumerate(self.metrics):
            out.values[m.name] = self._finish(j, m, got, known, at, day, text)
        if first:
            self._report_counts(self.flag_totals)
            if self.stats["unmatched"]:
                self._report_unmatched(self.links_frame)
            if any(m.aggregate == "value" for m in self.metrics):
                rows = np.array([int(v) for v in got["rows_"]], dtype=np.int64)
                self._report_duplicates(pos, rows)
        return out

    def _aggregate(self, day: np.datetime64 | np.ndarray, scope: Scope) -> tuple[dict, str]:
        """The one query that returns a row per customer (``pos``) with every metric."""
        n = self.customers.n
        joins, a = "", ""
        if isinstance(day, np.ndarray):
            days = day.astype("datetime64[D]")
            frame = pd.DataFrame({
                "pos": list(range(n)),
                "a": [None if np.isnat(d) else int(d.astype(np.int64)) for d in days],
            })  # fmt: skip
            rel = self.engine.table("asof", frame, {"pos": "int", "a": "int"})
            joins, a = f" LEFT JOIN {rel} AS xa ON xa.pos = xp.pos", "CAST(xa.a AS BIGINT)"
        else:
            a = str(int(np.datetime64(day, "D").astype(np.int64)))
        chunks = [c for i in sorted(self.sums) for c in sql.chunk_columns(f"n{i}", i)]
        base = f"SELECT xp.*, {a} AS a{''.join(', ' + c for c in chunks)} FROM xp{joins}"
        flags = [f"CASE WHEN {self._condition(m)} THEN 1 ELSE 0 END AS f{j}"
                 for j, m in enumerate(self.metrics)]  # fmt: skip
        ranks = [
            f"ROW_NUMBER() OVER (PARTITION BY pos, f{j} ORDER BY {self._order(m)}) AS r{j}"
            for j, m in enumerate(self.metrics)
            if m.aggregate in ("latest", "value")
        ]
        select = ["pos", "COUNT(*) AS rows_"]
        select += [f"SUM(u{i}) AS u{i}" for i in self.strings.values()]
        counted: dict[str, list[int]] = {}  # distinct counts: value -> metrics counting it
        for j, m in enumerate(self.metrics):
            value = self._counted(m)
            if value is None:
                select += self._aggregates(j, m)
            else:
                counted.setdefault(value, []).append(j)
        text = (
            f"WITH xr AS ({self._raw_select(scope, self.ordered)}), xp AS ({self.prep_sql}), "
            f"xb AS ({base}), "
            f"xc AS (SELECT xb.*{''.join(', ' + f for f in flags)} FROM xb), "
            f"xk AS {'MATERIALIZED ' if counted else ''}"
            f"(SELECT xc.*{''.join(', ' + r for r in ranks)} FROM xc WHERE pos >= 0)"
        )
        # COUNT(DISTINCT CASE WHEN f THEN v END) as two GROUP BYs: (customer, value) with
        # "any row counts", then per customer — the same number, and faster than a set of
        # values per customer and metric
        parts = [f"xg AS (SELECT {', '.join(select)} FROM xk GROUP BY pos)"]
        final, joins = ["xg.*"], ""
        for g, (value, js) in enumerate(counted.items()):
            anyrow = ", ".join(f"MAX(f{j}) AS f{j}" for j in js)
            parts.append(
                f"xd{g} AS (SELECT pos, {', '.join(f'SUM(f{j}) AS m{j}' for j in js)} FROM "
                f"(SELECT pos, {value} AS v, {anyrow} FROM xk WHERE {value} IS NOT NULL "
                f"GROUP BY pos, {value}) AS q GROUP BY pos)"
            )
            final += [f"xd{g}.m{j}" for j in js]
            joins += f" LEFT JOIN xd{g} ON xd{g}.pos = xg.pos"
        query = f"{text}, {', '.join(parts)} SELECT {', '.join(final)} FROM xg{joins}"
        return self.engine.fetch(query), text


def _date(day: object) -> object:
    import datetime as dt

    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


__all__ = ["FILE_COLUMN", "Outcome", "Run", "Schema", "SourceError", "recognise"]
