"""Distinct values read in SQL, read by Python, and sent back as mapping tables.

The values SQL cannot read like the sheet does (dates and numbers of the overview, filter
columns, text metrics, distinct values that are not plain ASCII inside the metrics'
windows) are fetched once each, read with the in-sheet functions, reported when bad,
and registered as small ``map`` relations the prepared rows join on. The scoped lookups
remember the days they have read, so later as-of dates inside them cost no query.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.core.text import normalise_one
from xlhealth.inputs.sources import normalise as nz
from xlhealth.inputs.sources.plan import Keyset
from xlhealth.inputs.sources.report import (
    NOT_DATE,
    NOT_NUMBER,
    OTHER_ORDER,
    OUT_OF_RANGE,
    range_text,
)
from xlhealth.inputs.sources.rows import Scope


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


class Lookups:
    """Lookups of :class:`xlhealth.inputs.sources.compute.Run` (a mixin: shares its state)."""

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
                keysets.append((f"s_{key}", f"CASE WHEN NOT {self.clean[key]} THEN {c} END",
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
