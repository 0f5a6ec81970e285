"""A source's rows as SQL: raw columns cast to canonical types, then prepared for metrics.

``xr`` (:meth:`Rows._raw_select`): the relation's columns the metrics need as ``c{i}``,
the row order ``xo`` (only when a ``latest``/``value`` metric needs it: numbering rows
stops the engine from reading in parallel), the file ``xf`` and per-row tags. A *scope*
(first and last day any metric can look at) is pushed into the scan as a plain
comparison on a typed date column, so the engine skips the rows no window reaches.

``xp`` (:meth:`Rows._prep_select`): ``pos`` (customer position through the link
mapping), days, numbers, codes and normalised strings — the in-sheet reading of every
cell — plus, in mode append, the pasted sheet's own rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xlhealth.core.text import normalise_ids
from xlhealth.inputs.matching import Source
from xlhealth.inputs.sources import normalise as nz
from xlhealth.inputs.sources import sql
from xlhealth.inputs.sources.dialects import BASE, Dialect

Scope = tuple[int, int] | None
"""First and last day (days since 1970) whose rows any metric can count; None: every row."""


def coalesce(parts: list[str], null: str) -> str:
    """The first non-NULL of ``parts``; ``null`` (a typed NULL) when there are none."""
    if not parts:
        return null
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def between(x: str, limits: tuple[float | None, float | None], d: Dialect = BASE) -> str:
    lo, hi = limits
    tests = []
    if lo is not None:
        tests.append(f"{x} >= {sql.double(repr(float(lo)), d)}")
    if hi is not None:
        tests.append(f"{x} <= {sql.double(repr(float(hi)), d)}")
    return " AND ".join(tests) or "TRUE"


def _iso(day: int) -> str:
    day = min(max(day, sql.FIRST_DAY - 1), sql.LAST_DAY + 1)
    return (sql.EPOCH + dt.timedelta(days=day)).isoformat()


class Rows:
    """Row SQL of :class:`xlhealth.inputs.sources.compute.Run` (a mixin: shares its state)."""

    # ------------------------------------------------------------------ xr: raw rows

    def _raw_select(self, scope: Scope = None, ordered: bool = False) -> str:
        """The relation's columns cast to the canonical types (``c{i}``), the row order
        (``xo``), the file (``xf``) and the per-row tags of the text fast paths."""
        d = self.d
        cols = []
        for k, i in self.raw.items():
            x = d.cast(d.quote(self.schema.columns[k][0]), self._kind(k))
            cols.append(f"{self.reduced[k].replace('{x}', x) if k in self.reduced else x} AS c{i}")
        cols += [f"{column} AS {name}" for name, column in self.held_tags.items()]
        cols.append(f"{d.row_order()} AS xo" if ordered else "0 AS xo")
        cols.append("file_index AS xf" if self.spec.engine == "files" else
                    f"{d.null('int')} AS xf")  # fmt: skip
        scan, after = self._scope_tests(scope)
        text = f"SELECT {', '.join(cols)} FROM {self.engine.relation}"
        tests = [t for t in (scan, self.engine.skip) if t]
        if tests:
            text += f" WHERE {' AND '.join(tests)}"
        if self.tags:
            tags = ", ".join(f"{expr} AS {name}" for name, expr in self.tags.items())
            text = f"SELECT xq.*, {tags} FROM ({text}) AS xq"
        if after:
            text = f"SELECT * FROM ({text}) AS xw WHERE {after}"
        return text

    def _scope_tests(self, scope: Scope) -> tuple[str | None, str | None]:
        """(test on the relation's own column, test on ``xr``'s columns) keeping every row
        whose day is in the scope — and, for text, every row whose day SQL cannot tell."""
        if scope is None or self.scope_key is None:
            return None, None
        lo, hi = scope
        if lo > hi:
            return "1 = 0", None
        key = self.scope_key
        kind = self._kind(key)
        column = self.d.quote(self.schema.columns[key][0])
        if kind == "text":
            c = f"c{self.raw[key]}"
            tag = f"z{self.raw[key]}"
            day = f"REPLACE(SUBSTR({c}, 1, 10), '/', '-')"
            test = f"{day} BETWEEN '{_iso(lo)}' AND '{_iso(hi)}'"
            iso = self.iso.get(key)
            if iso is not None:  # the day a cached file holds; else its text, as without
                test = (
                    f"CASE WHEN {iso} IS NOT NULL THEN {iso} BETWEEN {lo} AND {hi} ELSE {test} END"
                )
            return None, f"({tag} <> 1 OR {test})"
        low, high = self.d.instant(_iso(lo), kind), self.d.instant(_iso(hi + 1), kind)
        return f"{column} >= {low} AND {column} < {high}", None

    # ------------------------------------------------------------------ xp: prepared rows

    def _prep_select(self) -> str:
        d = self.d
        joins: list[str] = []
        cols: list[str] = []
        joined: set[str] = set()

        def mapped(name: str, on: str) -> str:
            alias, relation = self.maps[name]
            if alias not in joined:
                joined.add(alias)
                joins.append(f"LEFT JOIN {relation} AS {alias} ON {alias}.key = {on}")
            return alias

        def plain(key: str) -> str:
            return mapped("p_" + key, self._c(key))

        link_terms = []
        for key in self._usable_links():
            column = {"customer_id": "ipos", "email": "epos", "customer_name": "npos"}[key]
            link_terms.append(f"{plain(key)}.{column}")
        pos = f"COALESCE({', '.join(link_terms)}, -1)" if link_terms else "-1"
        cols.append(f"CAST({pos} AS BIGINT) AS pos")
        for key, i in self.dates.items():
            mapped_key, fast = self.date_sql.get(key, (None, None))
            if key not in self.schema.columns:
                cols.append(f"{d.null('int')} AS d{i}")
                continue
            parts = [sql.in_range(f"({fast})")] if fast is not None else []
            if mapped_key is not None:
                parts.append(f"{mapped('d_' + key, mapped_key)}.day")
            cols.append(f"CAST({coalesce(parts, d.null('int'))} AS BIGINT) AS d{i}")
        for key, i in self.numbers.items():
            mapped_key, fast = self.number_sql.get(key, (None, None))
            if key not in self.schema.columns:
                cols.append(f"{d.null('float')} AS n{i}")
                continue
            limits = nz.spec_range(self.sheet, key)
            parts = []
            if fast is not None:
                ranged = f"({fast})"
                if limits is not None:
                    ranged = f"CASE WHEN {between(ranged, limits, d)} THEN {ranged} END"
                parts.append(ranged)
            if mapped_key is not None:
                parts.append(f"{mapped('n_' + key, mapped_key)}.num")
            cols.append(f"{coalesce(parts, d.null('float'))} AS n{i}")
        for key, i in self.codes.items():
            cols.append(f"{plain(key)}.code AS k{i}" if key in self.schema.columns
                        else f"{d.null('int')} AS k{i}")  # fmt: skip
        for key, i in self.strings.items():
            c = self._c(key)
            clean = self.clean[key]
            if "s_" + key in self.maps:
                alias = mapped("s_" + key, c)
                cols.append(f"CASE WHEN {clean} THEN {self.string_sql[key]} ELSE {alias}.s END "
                            f"AS s{i}")  # fmt: skip
                rest = f"{c} IS NOT NULL AND NOT {clean} AND {alias}.key IS NULL"
            else:
                cols.append(f"CASE WHEN {clean} THEN {self.string_sql[key]} END AS s{i}")
                rest = f"{c} IS NOT NULL AND NOT {clean}"
            cols.append(f"CASE WHEN {rest} THEN 1 ELSE 0 END AS u{i}")
        for key, i in self.texts.items():
            cols.append(f"{plain(key)}.tcode AS t{i}" if key in self.schema.columns
                        else f"{d.null('int')} AS t{i}")  # fmt: skip
            if not d.ordered:  # no row order: ties are broken by the text itself
                cols.append(f"{d.cast(self._c(key), 'text')} AS x{i}" if key in self.schema.columns
                            else f"{d.null('text')} AS x{i}")  # fmt: skip
        cols.append("xr.xo AS xo")
        text = f"SELECT {', '.join(cols)} FROM xr {' '.join(joins)}"
        if self.sheet_rel is not None:
            text += " UNION ALL " + self._sheet_select()
        return text

    def _check_columns(self) -> list[tuple[str, str, str, str]]:
        """(flag, what, column, SQL over ``xr``) of the rows SQL itself finds bad: typed or
        plain-text dates out of range, numbers that are not finite or out of range."""
        out = []
        for key, i in self.dates.items():
            _, fast = self.date_sql.get(key, (None, None))
            if key in self.schema.columns and fast is not None:
                bad = f"({fast}) IS NOT NULL AND {sql.in_range(f'({fast})')} IS NULL"
                out.append((f"vd{i}", "date", key, bad))
        for key, i in self.numbers.items():
            mapped_key, fast = self.number_sql.get(key, (None, None))
            if key not in self.schema.columns or fast is None:
                continue
            if mapped_key is None:
                out.append((f"vn{i}", "number", key, f"{self._c(key)} IS NOT NULL AND "
                                                      f"({fast}) IS NULL"))  # fmt: skip
            limits = nz.spec_range(self.sheet, key)
            if limits is not None:
                bad = f"({fast}) IS NOT NULL AND NOT ({between(f'({fast})', limits, self.d)})"
                out.append((f"wn{i}", "range", key, bad))
        return out

    # ------------------------------------------------------------------ the sheet's own rows

    def _sheet_part(self, frame: pd.DataFrame) -> str:
        """mode append: the pasted rows, resolved by the in-sheet path, as one more relation."""
        src = Source(self.sheet, frame, self.customers, self.problems)
        n = len(src.frame)
        part: dict[str, object] = {"pos": src.codes.astype(np.int64).tolist()}
        kinds = {"pos": "int"}
        for key, i in self.dates.items():
            days = src.days(key) if src.has(key) else np.full(n, nz.NAT)
            part[f"d{i}"] = [None if np.isnat(d) else int(d.astype(np.int64)) for d in days]
        for key, i in self.numbers.items():
            values = src.numbers(key) if src.has(key) else np.full(n, np.nan)
            part[f"n{i}"] = [None if np.isnan(v) else float(v) for v in values]
            kinds[f"n{i}"] = "float"
        for key, i in self.codes.items():
            part[f"k{i}"] = list(self.code_book.of(src.frame[key])) if src.has(key) else [None] * n
        for key, i in self.strings.items():
            part[f"s{i}"] = normalise_ids(src.frame[key]).tolist() if src.has(key) else [None] * n
            kinds[f"s{i}"] = "text"
        for key, i in self.texts.items():
            if src.has(key):
                raw = src.frame[key].to_numpy(dtype=object)
                present = ~pd.isna(raw)
                start = len(self.text_values)
                self.text_values += list(raw[present])
                codes = np.full(n, None, dtype=object)
                codes[present] = np.arange(start, start + int(present.sum()))
                part[f"t{i}"] = list(codes)
                texts = [str(v) if ok else None for v, ok in zip(raw, present, strict=True)]
            else:
                part[f"t{i}"] = texts = [None] * n
            if not self.d.ordered:  # the tie-break of a table without row order
                part[f"x{i}"], kinds[f"x{i}"] = texts, "text"
        part["xo"] = list(range(-n, 0))  # before every file row, in sheet order
        return self.engine.table("sheet", pd.DataFrame(part), kinds)

    def _sheet_select(self) -> str:
        d = self.d
        cols = ["CAST(pos AS BIGINT) AS pos"]
        cols += [f"CAST(d{i} AS BIGINT) AS d{i}" for i in self.dates.values()]
        cols += [f"{d.cast(f'n{i}', 'float')} AS n{i}" for i in self.numbers.values()]
        cols += [f"CAST(k{i} AS BIGINT) AS k{i}" for i in self.codes.values()]
        for i in self.strings.values():
            cols += [f"{d.cast(f's{i}', 'text')} AS s{i}", f"0 AS u{i}"]
        for i in self.texts.values():
            cols.append(f"CAST(t{i} AS BIGINT) AS t{i}")
            if not d.ordered:
                cols.append(f"{d.cast(f'x{i}', 'text')} AS x{i}")
        cols.append("CAST(xo AS BIGINT) AS xo")
        return f"SELECT {', '.join(cols)} FROM {self.sheet_rel} AS xsheet"

    def _usable_links(self) -> list[str]:
        """The columns that link rows to customers, as ``Source._resolve`` chooses them."""
        frame = self.customers.frame.columns
        out = []
        if "customer_id" in self.links:
            out.append("customer_id")
        if "email" in self.links and "email_domain" in frame:
            out.append("email")
        if "customer_name" in self.links and "customer_name" in frame:
            out.append("customer_name")
        return out
