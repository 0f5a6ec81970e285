"""The overview query of a source: every row, read once per run.

One row per distinct combination of the customer link columns — rows, first file, first
and last day, rows SQL finds bad — plus the distinct values of the dates and numbers SQL
cannot read itself (mapped by :mod:`xlhealth.inputs.sources.lookups`). From this small
result come the Checks figures (``stats``), each link combination's customer and what the
first computation reports; the as-of dates never change it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.inputs.sources import normalise as nz
from xlhealth.inputs.sources import sql
from xlhealth.inputs.sources.plan import TYPED_DATES
from xlhealth.inputs.sources.report import hashable


class Overview:
    """Overview of :class:`xlhealth.inputs.sources.compute.Run` (a mixin: shares its state)."""

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
                low, high = (sql.date_parts(f"{agg}(r{i})", kind, d=self.d)[1]
                             for agg in ("MIN", "MAX"))  # fmt: skip
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


def _date(day: object) -> object:
    import datetime as dt

    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
