"""One source's metrics, computed where its rows are.

For each Sources row: describe the relation, recognise its columns like a pasted export
(:func:`recognise`), plan the columns each metric reads (:mod:`.plan`), then three kinds
of query, each returning small results:

1. the *overview* (every row, once per run; :mod:`.overview`): one row per distinct
   combination of the customer link columns — rows, first file, first and last day, rows
   SQL finds bad — plus the distinct values of dates and numbers SQL cannot read itself.
   Python reads those values with the in-sheet functions and sends them back as small
   mapping tables; the Checks figures and the located problems come from this query alone;
2. the *scoped lookups* (rows inside the metrics' windows; :mod:`.lookups`): distinct
   values of filter columns, text metrics and ``distinct`` columns that are not plain
   ASCII (plain ones are normalised in SQL: their code is their lower case) — only when a
   metric needs them;
3. the *aggregate* per as-of date (here, :meth:`Run.compute`): one row per customer.

:class:`Run` joins the mixins that hold each part and their shared state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core.aggregate import missing_columns
from xlhealth.core.model import Metric
from xlhealth.core.problems import Problem
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.columns import Recogniser
from xlhealth.inputs.matching import Customers
from xlhealth.inputs.sources import normalise as nz
from xlhealth.inputs.sources import sql
from xlhealth.inputs.sources.database import FILE_COLUMN, Engine
from xlhealth.inputs.sources.files import SourceError
from xlhealth.inputs.sources.lookups import Lookups
from xlhealth.inputs.sources.metric_sql import MetricSQL
from xlhealth.inputs.sources.overview import Overview
from xlhealth.inputs.sources.plan import Plan
from xlhealth.inputs.sources.report import Reports
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


class Run(Plan, Overview, Lookups, Rows, MetricSQL, Reports):
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
        self.d = engine.dialect
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
        self.held_tags: dict[str, str] = {}  # tag column -> the engine's column holding it
        self.iso: dict[str, str] = {}  # date key -> held ISO-day tag column
        self.clean: dict[str, str] = {}  # string key -> its "plain ASCII" test
        self.dates: dict[str, int] = {}
        self.numbers: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        self.strings: dict[str, int] = {}  # distinct columns normalised in SQL (s{i})
        self.string_sql: dict[str, str] = {}  # ... and their code's SQL where clean
        self.reduced: dict[str, str] = {}  # link columns reduced in SQL (e-mail -> @domain)
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
        self._declare_reads()
        self._overview()
        self.sheet_rel = self._sheet_part(sheet_frame) if sheet_frame is not None else None
        self.covered: Scope | str = "nothing"  # the days the scoped lookups have read
        self.unclean = False  # a distinct column holds values SQL cannot normalise
        self.prep_sql = ""

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
            self._report_ties(got, known)
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
        chunks = [c for i in sorted(self.sums) for c in sql.chunk_columns(f"n{i}", i, self.d)]
        base = f"SELECT xp.*, {a} AS a{''.join(', ' + c for c in chunks)} FROM xp{joins}"
        flags = [f"CASE WHEN {self._condition(m)} THEN 1 ELSE 0 END AS f{j}"
                 for j, m in enumerate(self.metrics)]  # fmt: skip
        ranks = [
            f"ROW_NUMBER() OVER (PARTITION BY pos, f{j} ORDER BY {self._order(m)}) AS r{j}"
            for j, m in enumerate(self.metrics)
            if m.aggregate in ("latest", "value")
        ]
        ranks += [
            f"RANK() OVER (PARTITION BY pos, f{j} ORDER BY {self._order(m, tie=False)}) AS q{j}"
            for j, m in enumerate(self.metrics)
            if self._ties(j, m)
        ]
        select = ["pos", "COUNT(*) AS rows_"]
        select += [f"SUM(u{i}) AS u{i}" for i in self.strings.values()]
        counted: dict[str, list[int]] = {}  # distinct counts: value -> metrics counting it
        for j, m in enumerate(self.metrics):
            value = self._counted(m) if self.d.materialized() else None
            if value is None:
                select += self._aggregates(j, m) + self._ties(j, m)
            else:
                counted.setdefault(value, []).append(j)
        text = (
            f"WITH xr AS ({self._raw_select(scope, self.ordered)}), xp AS ({self.prep_sql}), "
            f"xb AS ({base}), "
            f"xc AS (SELECT xb.*{''.join(', ' + f for f in flags)} FROM xb), "
            f"xk AS {self.d.materialized() if counted else ''}"
            f"(SELECT xc.*{''.join(', ' + r for r in ranks)} FROM xc WHERE pos >= 0)"
        )
        # COUNT(DISTINCT CASE WHEN f THEN v END) as two GROUP BYs: (customer, value) with
        # "any row counts", then per customer — the same number, and faster than a set of
        # values per customer and metric, where ``xk`` is computed once (MATERIALIZED); a
        # warehouse would compute it again for each reference: one pass there instead
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


__all__ = ["FILE_COLUMN", "Outcome", "Run", "Schema", "SourceError", "recognise"]
