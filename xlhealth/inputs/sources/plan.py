"""The column plan of a source: which columns each metric reads, and in which role.

Built once per run, before any query: dates, numbers, codes, normalised strings and texts
each get a raw column ``c{i}`` of ``xr`` (:mod:`xlhealth.inputs.sources.rows`), its SQL
reading, the per-row tags of the text fast paths, the *keysets* whose distinct values
Python must read, and the scope (date column and longest window) that bounds the rows
the metrics can count. Apart from the queries, so they read one plan.
"""

from __future__ import annotations

import numpy as np

from xlhealth.core.aggregate import date_column
from xlhealth.core.model import SOURCE_DATE_COLUMNS
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.sources import normalise as nz
from xlhealth.inputs.sources import sql
from xlhealth.inputs.sources.database import CANONICAL
from xlhealth.inputs.sources.rows import Scope

Keyset = tuple[str, str, str, str | None]
"""(mapping name, key expression over ``xr``, key kind, example expression or None)."""
TYPED_DATES = ("date", "timestamp", "timestamptz")
LINK_COLUMNS = {"customer_id": "ipos", "email": "epos", "customer_name": "npos"}


class Plan:
    """Column plan of :class:`xlhealth.inputs.sources.compute.Run` (a mixin: shares its state)."""

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
        # plain text distinct columns: normalised by SQL (and, where maps are costly to
        # send, integer ones: the code of 123 is "123")
        by_sql = ("text", "int") if self.d.small_maps else ("text",)
        for key in list(self.codes):
            if (key in self.schema.columns and self._kind(key) in by_sql
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
        """A per-row tag computed once in the raw relation (regular expressions run once),
        or read from the engine when it holds it (a cached file's tag column)."""
        if expr is None:
            return None
        name = self._held(key, prefix)
        if name is None:
            name = f"{prefix}{self.raw[key]}"
            self.tags[name] = expr
        return name

    def _held(self, key: str, prefix: str) -> str | None:
        """``{prefix}{i}``: the engine's column holding this tag of text column ``key``."""
        if self._kind(key) != "text":
            return None
        column = self.engine.derived(self.schema.columns[key][0], prefix)
        if column is None:
            return None
        name = f"{prefix}{self.raw[key]}"
        self.held_tags[name] = column
        return name

    def _declare_reads(self) -> None:
        """Tell the engine which columns the plan reads, and which of them only as dates
        (their day held by a cached ISO-day tag): their text is needed only where that tag
        is NULL."""
        other = {*self.links, *self.codes, *self.strings, *self.texts, *self.numbers,
                 *self.scoped}  # fmt: skip
        partial = {self.schema.columns[k][0] for k in self.iso if k not in other}
        every = {self.schema.columns[k][0] for k in self.raw}
        self.engine.reads(every - partial, partial)

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
            tag = self._tag(key, "z", sql.date_tag(c, kind, self.d))
            iso = self._held(key, "v") if kind == "text" else None
            mapped, fast = sql.date_parts(c, kind, tag, iso, self.d)
            if iso is not None:
                self.iso[key] = iso
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
            tag = self._tag(key, "y", sql.number_tag(c, self._kind(key), self.d))
            mapped, fast = sql.number_parts(c, self._kind(key), flags, tag, self.d)
            self.number_sql[key] = (mapped, fast)
            if mapped is not None:
                self.keysets.append((f"n_{key}", mapped, self._kind(key), None))
        self.scoped = [  # read inside the metrics' windows, when first needed
            k for k in sorted(set(self.codes) | set(self.texts), key=str)
            if k in self.schema.columns and k not in self.links
        ]  # fmt: skip
        for key in self.scoped + list(self.strings):
            self._c(key)
        for key in self.strings:  # plain ASCII text: its lower case is its code
            c = self._c(key)
            if self._kind(key) == "int":
                self.clean[key] = f"{c} IS NOT NULL"
                self.string_sql[key] = self.d.cast(c, "text")
                continue
            self.clean[key] = self._held(key, "w") or sql.clean_text(c, self.d)
            self.string_sql[key] = f"LOWER({c})"
        other = {*self.codes, *self.strings, *self.texts, *self.numbers, *self.dates}
        if self.d.small_maps and "email" in self.links and "email" not in other:
            self.reduced["email"] = sql.email_domain("{x}", self.d)
        self.check_sql = [
            c
            for c in self._check_columns()
            if not (c[1] == "date" and self._kind(c[2]) in TYPED_DATES)
        ]  # fmt: skip  (typed dates: judged by their first and last value instead)
        self.checks = [(flag, what, key) for flag, what, key, _ in self._check_columns()]
