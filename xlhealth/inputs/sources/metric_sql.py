"""Each metric of a source as SQL over the prepared rows, and its result back as numbers.

The prepared rows (:mod:`xlhealth.inputs.sources.rows`) carry ``pos`` (customer position),
``a`` (the as-of day that applies), days ``d{i}``, numbers ``n{i}``, codes ``k{i}``,
normalised strings ``s{i}`` and text codes ``t{i}``. A metric is a row condition (known
customer, filter, window — exactly ``aggregate._row_mask``) and an aggregate per ``pos``.
"""

from __future__ import annotations

import numpy as np

from xlhealth.core.aggregate import date_column
from xlhealth.core.exactsum import combine
from xlhealth.core.model import Metric
from xlhealth.core.tables import normalise_header


class MetricSQL:
    """Metric SQL of :class:`xlhealth.inputs.sources.compute.Run` (a mixin: shares its state)."""

    def _condition(self, m: Metric) -> str:
        parts = ["pos >= 0"]
        if m.filter is not None:
            key = normalise_header(m.filter.column)
            wanted = self.wanted.get(m.name, [])
            parts.append(
                f"k{self.codes[key]} IN ({', '.join(map(str, wanted))})" if wanted else "1 = 0"
            )
        if m.aggregate != "value":
            col = date_column(m, self.schema)
            if col is not None:
                d = f"d{self.dates[col]}"
                if m.window_days is not None:
                    w = int(np.floor(m.window_days))
                    parts.append(f"{d} IS NOT NULL AND {d} <= a AND {d} > a - {w}")
                else:
                    parts.append(f"({d} IS NULL OR {d} <= a)")
        column = normalise_header(m.column) if m.column else ""
        if m.aggregate in ("latest", "value"):
            value = f"t{self.texts[column]}" if m.is_text else f"n{self.numbers[column]}"
            parts.append(f"{value} IS NOT NULL")
            if m.aggregate == "latest":
                col = date_column(m, self.schema)
                if col is not None:
                    parts.append(f"d{self.dates[col]} IS NOT NULL")
        return " AND ".join(f"({p})" for p in parts)

    def _order(self, m: Metric, tie: bool = True) -> str:
        """Which row a ``latest``/``value`` metric takes first: the latest day, then the
        last row (``latest``) or the first row (``value``) — and where the relation has no
        row order (a warehouse table), the greatest value among the rows still tied."""
        if m.aggregate == "value":
            order = "xo ASC"
        else:
            col = date_column(m, self.schema)
            order = f"d{self.dates[col]} DESC, xo DESC" if col else "xo DESC"
        if self.d.ordered or not tie:
            return order
        return f"{order}, {self._tie_value(m)} DESC"

    def _tie_value(self, m: Metric) -> str:
        column = normalise_header(m.column)
        return f"x{self.texts[column]}" if m.is_text else f"n{self.numbers[column]}"

    def _ties(self, j: int, m: Metric) -> list[str]:
        """Without a row order: how many different values share a ``latest`` metric's
        latest day — said on Checks when > 1 (a ``value`` metric's repeated rows are said
        as duplicates)."""
        if self.d.ordered or m.aggregate != "latest":
            return []
        return [f"COUNT(DISTINCT CASE WHEN f{j} = 1 AND q{j} = 1 THEN {self._tie_value(m)} END) "
                f"AS tq{j}"]  # fmt: skip

    def _counted(self, m: Metric) -> str | None:
        """The value a ``distinct`` / ``active_days`` metric counts distinct (else None)."""
        if m.aggregate == "active_days":
            return f"d{self.dates[date_column(m, self.schema)]}"
        if m.aggregate == "distinct":
            column = normalise_header(m.column)
            return (
                f"s{self.strings[column]}" if column in self.strings else (f"k{self.codes[column]}")
            )
        return None

    def _aggregates(self, j: int, m: Metric) -> list[str]:
        f = f"f{j} = 1"
        column = normalise_header(m.column) if m.column else ""
        agg = m.aggregate
        if agg == "count":
            return [f"SUM(f{j}) AS m{j}"]
        if agg == "distinct":
            value = (
                f"s{self.strings[column]}" if column in self.strings else (f"k{self.codes[column]}")
            )
            return [f"COUNT(DISTINCT CASE WHEN {f} THEN {value} END) AS m{j}"]
        if agg in ("active_days", "days_since"):
            d = f"d{self.dates[date_column(m, self.schema)]}"
            if agg == "active_days":
                return [f"COUNT(DISTINCT CASE WHEN {f} THEN {d} END) AS m{j}"]
            return [f"MAX(CASE WHEN {f} THEN {d} END) AS m{j}"]
        if agg == "overdue_count":
            s, c = f"d{self.dates['started']}", f"d{self.dates['completed']}"
            std = f"n{self.numbers['standard_days']}"
            overdue = (
                f"({c} IS NULL OR {c} > a) AND {s} IS NOT NULL AND {s} <= a AND (a - {s}) > {std}"
            )
            return [f"SUM(CASE WHEN {f} AND {overdue} THEN 1 ELSE 0 END) AS m{j}"]
        if agg in ("min", "max"):
            return [f"{agg.upper()}(CASE WHEN {f} THEN n{self.numbers[column]} END) AS m{j}"]
        if agg in ("sum", "mean"):
            i = self.numbers[column]
            parts = [f"CAST(SUM(CASE WHEN {f} THEN {p}{i} END) AS BIGINT) AS m{j}_{p}"
                     for p in ("h", "g1_", "g2_", "g3_")]  # fmt: skip
            parts.append(f"SUM(CASE WHEN {f} AND n{i} IS NOT NULL THEN 1 ELSE 0 END) AS m{j}_n")
            parts.append(f"SUM(CASE WHEN {f} THEN o{i} ELSE 0 END) AS m{j}_o")
            return parts
        value = f"t{self.texts[column]}" if m.is_text else f"n{self.numbers[column]}"
        return [f"MAX(CASE WHEN {f} AND r{j} = 1 THEN {value} END) AS m{j}"]

    def _finish(self, j: int, m: Metric, got: dict, known: np.ndarray, at: np.ndarray,
                day: np.datetime64 | np.ndarray, text: str) -> np.ndarray:  # fmt: skip
        n = self.customers.n
        agg = m.aggregate
        if agg in ("count", "distinct", "active_days", "overdue_count"):
            out = np.zeros(n)
            out[at] = [float(v or 0) for v in got[f"m{j}"][known]]
            return out
        if agg in ("sum", "mean"):
            parts = [
                [int(v or 0) for v in got[f"m{j}_{p}"][known]] for p in ("h", "g1_", "g2_", "g3_")
            ]
            outliers = {}
            if any(int(v or 0) for v in got[f"m{j}_o"][known]):
                outliers = self._outliers(j, m, text, at)
            total = np.zeros(n)
            total[at] = combine(*parts, outliers)
            if agg == "sum":
                return total
            count = np.zeros(n)
            count[at] = [int(v or 0) for v in got[f"m{j}_n"][known]]
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(count > 0, total / np.maximum(count, 1), np.nan)
        if agg == "days_since":
            out = np.full(n, np.nan)
            last = np.array([np.nan if v is None else float(v) for v in got[f"m{j}"][known]])
            have = ~np.isnan(last)
            idx = at[have]
            today = day[idx] if isinstance(day, np.ndarray) else np.datetime64(day, "D")
            stamps = last[have].astype(np.int64).astype("datetime64[D]")
            out[idx] = (today - stamps) / np.timedelta64(1, "D")
            return out
        if m.is_text and agg in ("latest", "value"):
            out = np.full(n, None, dtype=object)
            for p, code in zip(at, got[f"m{j}"][known], strict=True):
                if code is not None:
                    out[p] = self.text_values[int(code)]
            return out
        out = np.full(n, np.nan)
        out[at] = [np.nan if v is None else float(v) for v in got[f"m{j}"][known]]
        return out

    def _outliers(self, j: int, m: Metric, text: str, at: np.ndarray) -> dict[int, list]:
        """Values too large or too small for the exact-sum chunks, per customer and value."""
        i = self.numbers[normalise_header(m.column)]
        got = self.engine.fetch(
            f"{text} SELECT pos, n{i} AS x, COUNT(*) AS c FROM xk WHERE f{j} = 1 AND o{i} = 1 "
            f"GROUP BY pos, n{i}"
        )
        row_of = {int(p): k for k, p in enumerate(at)}
        out: dict[int, list] = {}
        for p, x, c in zip(got["pos"], got["x"], got["c"], strict=True):
            out.setdefault(row_of[int(p)], []).append((float(x), int(c)))
        return out
