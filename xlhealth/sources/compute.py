"""One source's metrics, computed where its rows are.

For each Sources row: describe the relation, recognise its columns like a pasted export,
fetch the distinct values that need the in-sheet rules (one ``GROUPING SETS`` scan),
normalise them in Python, join them back as small tables, and run one aggregate query
that returns a row per customer. Problems read like the in-sheet ones but name the
source (sheet, Sources row, file) instead of a sheet row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.aggregate import _missing_columns, date_column
from xlhealth.columns import Recogniser
from xlhealth.exactsum import combine
from xlhealth.matching import Customers, Source
from xlhealth.model import SOURCE_DATE_COLUMNS, Metric
from xlhealth.problems import Problem
from xlhealth.sources import normalise as nz
from xlhealth.sources import sql
from xlhealth.sources.database import CANONICAL, FILE_COLUMN, Engine, quote
from xlhealth.sources.files import SourceError
from xlhealth.sources.spec import SourceSpec
from xlhealth.tables import normalise_header

MAX_LISTED = 50
NOT_DATE = (
    "not a date",
    "enter a date such as 2026-03-31 — the row is ignored where the date matters",
)
OTHER_ORDER = (
    "not a date in the order set on Settings (date_order)",
    "set date_order to the order your export writes (MDY or DMY) — the row is ignored where "
    "the date matters",
)
OUT_OF_RANGE = (
    "outside the dates xlhealth handles (1900-01-01 to 2262-04-10)",
    "enter a real date or leave it blank — ignored",
)
NOT_NUMBER = ("not a number", "enter a number — these cells are ignored")


def _more(n: int) -> str:
    return f" (and {n} more rows)" if n > 0 else ""


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


class Run:
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
        self.unavailable: dict[str, tuple[str, list[str]]] = {}
        self.metrics: list[Metric] = []
        for m in metrics:
            missing = _missing_columns(m, schema)
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
        self.texts: dict[str, int] = {}
        self.sums: set[int] = set()
        self._plan()
        self.code_book = nz.Codes()
        self.text_values: list[object] = []
        self.checks: list[tuple[str, str, str]] = []  # (flag column, what, column key)
        self._prepare(sheet_frame)

    # ------------------------------------------------------------------ plan

    def _use(self, key: str, role: dict[str, int]) -> None:
        if key not in role:
            role[key] = len(role)

    def _plan(self) -> None:
        main = SOURCE_DATE_COLUMNS.get(self.sheet, "date")
        self.main_date = main if self.schema.has(main) else None
        if self.main_date:
            self._use(main, self.dates)
        for m in self.metrics:
            col = date_column(m, self.schema) if m.aggregate != "value" else None
            if col:
                self._use(col, self.dates)
            if m.filter is not None:
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
        self.links = [
            c for c in ("customer_id", "email", "customer_name") if c in self.schema.columns
        ]
        self.ordered = any(m.aggregate in ("latest", "value") for m in self.metrics)

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

    # ------------------------------------------------------------------ distinct values

    def _prepare(self, sheet_frame: pd.DataFrame | None) -> None:
        keysets: list[
            tuple[str, str, str, str | None]
        ] = []  # (map name, key expr, key kind, example)
        plain = sorted(set(self.links) | set(self.codes) | set(self.texts), key=str)
        for key in plain:
            c = self._c(key)
            if c is not None:
                keysets.append((f"p_{key}", c, self._kind(key), None))
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
                keysets.append((f"d_{key}", mapped, key_kind, c if kind == "text" else None))
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
                keysets.append((f"n_{key}", mapped, self._kind(key), None))
        self.raw_sql = self._raw_select()
        distinct = self._distinct(keysets)
        self.maps: dict[str, tuple[str, str]] = {}  # map name -> (SQL alias, relation)
        self.link_info: dict[str, tuple[list, nz.Links]] = {}
        for name, _, kind, _ in keysets:
            rows = distinct.get(name, ([], [], [], []))
            self._map(name, kind, *rows)
        self.sheet_rel = self._sheet_part(sheet_frame) if sheet_frame is not None else None
        self.wanted = {
            m.name: self.code_book.wanted(m.filter.values) for m in self.metrics if m.filter
        }
        self.prep_sql = self._prep_select()

    def _raw_select(self) -> str:
        """The relation's columns cast to the canonical types (``c{i}``), the row order
        (``xo``), the file (``xf``) and the per-row tags of the text fast paths."""
        cols = [f"CAST({quote(self.schema.columns[k][0])} AS {CANONICAL[self._kind(k)]}) AS c{i}"
                for k, i in self.raw.items()]  # fmt: skip
        cols.append("ROW_NUMBER() OVER () AS xo" if self.ordered else "0 AS xo")
        has_file = self.spec.engine == "files"
        cols.append(f"{quote(FILE_COLUMN)} AS xf" if has_file else "CAST(NULL AS VARCHAR) AS xf")
        inner = f"SELECT {', '.join(cols)} FROM {self.engine.relation}"
        if not self.tags:
            return inner
        tags = ", ".join(f"{expr} AS {name}" for name, expr in self.tags.items())
        return f"SELECT xq.*, {tags} FROM ({inner}) AS xq"

    def _distinct(self, keysets: list) -> dict[str, tuple[list, list, list, list]]:
        if not keysets:
            return {}
        inner = [f"{expr} AS k{j}" for j, (_, expr, _, _) in enumerate(keysets)]
        inner += [f"{ex} AS e{j}" for j, (*_, ex) in enumerate(keysets) if ex is not None]
        inner.append("xf")
        outer = [f"GROUPING(k{j}) AS g{j}, k{j}" for j in range(len(keysets))]
        outer += [f"MIN(e{j}) AS e{j}" for j, (*_, ex) in enumerate(keysets) if ex is not None]
        outer += ["COUNT(*) AS n", "MIN(xf) AS xf"]
        sets = ", ".join(f"(k{j})" for j in range(len(keysets)))
        text = (
            f"WITH xr AS ({self.raw_sql}) SELECT {', '.join(outer)} FROM "
            f"(SELECT {', '.join(inner)} FROM xr) AS q GROUP BY GROUPING SETS ({sets})"
        )
        got = self.engine.fetch(text)
        out: dict[str, tuple[list, list, list, list]] = {}
        for j, (name, _, _, ex) in enumerate(keysets):
            mine = np.flatnonzero((got[f"g{j}"] == 0) & pd.notna(got[f"k{j}"]).astype(bool))
            out[name] = (
                list(got[f"k{j}"][mine]),
                [int(v) for v in got["n"][mine]],
                list(got[f"e{j}"][mine]) if ex is not None else list(got[f"k{j}"][mine]),
                list(got["xf"][mine]),
            )
        return out

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
                             _range_text(limits), "fix the value — ignored")  # fmt: skip
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
                table["ep"], kinds["ep"] = list(links.present), "bool"
                self.link_info[key] = (list(values), links)
            elif key == "customer_name":
                links = nz.names(self.customers, values, self.problems)
                table["npos"], kinds["npos"] = list(links.pos), "int"
                table["np"], kinds["np"] = list(links.present), "bool"
                self.link_info[key] = (list(values), links)
        frame = pd.DataFrame({k: nz.objects(v) if k == "key" else v for k, v in table.items()})
        self.maps[name] = (f"m{len(self.maps)}", self.engine.table("map", frame, kinds))

    def _report(self, key: str, bad: np.ndarray, counts: np.ndarray, examples: list,
                files: list, head: str, tail: str) -> None:  # fmt: skip
        if not bad.any():
            return
        first = int(np.flatnonzero(bad)[0])
        more = _more(int(counts[bad].sum()) - 1)
        self.problems.append(
            Problem(
                self.sheet,
                f"{head}{more}; {tail} — in {self._where(files[first])}",
                column=key,
                value=examples[first],
            )
        )

    def _where(self, file: object = None) -> str:
        shown = self.file_names.get(str(file), "") if file else ""
        return f"{self.spec.where}" + (
            f", file {shown}" if shown and shown != self.spec.path else ""
        )

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
        for key, i in self.texts.items():
            if src.has(key):
                raw = src.frame[key].to_numpy(dtype=object)
                present = ~pd.isna(raw)
                start = len(self.text_values)
                self.text_values += list(raw[present])
                codes = np.full(n, None, dtype=object)
                codes[present] = np.arange(start, start + int(present.sum()))
                part[f"t{i}"] = list(codes)
            else:
                part[f"t{i}"] = [None] * n
        part["xo"] = list(range(-n, 0))  # before every file row, in sheet order
        return self.engine.table("sheet", pd.DataFrame(part), kinds)

    # ------------------------------------------------------------------ the rows, prepared

    def _prep_select(self) -> str:
        joins: list[str] = []
        cols: list[str] = []
        link_terms: list[str] = []
        present: list[tuple[str, str, str]] = []  # (category test, raw column, name)
        joined: set[str] = set()

        def plain(key: str) -> str:
            alias, relation = self.maps["p_" + key]
            if alias not in joined:
                joined.add(alias)
                joins.append(f"LEFT JOIN {relation} AS {alias} ON {alias}.key = {self._c(key)}")
            return alias

        for key in self._usable_links():
            column = {"customer_id": "ipos", "email": "epos", "customer_name": "npos"}[key]
            link_terms.append(f"{plain(key)}.{column}")
        for key, test in (("customer_id", "{}.ipos IS NOT NULL"),
                          ("email", "COALESCE({}.ep, FALSE)"),
                          ("customer_name", "COALESCE({}.np, FALSE)")):  # fmt: skip
            if key in self.links:
                present.append((test.format(plain(key)), self._c(key), key))
        pos = f"COALESCE({', '.join(link_terms)}, -1)" if link_terms else "-1"
        cols.append(f"CAST({pos} AS BIGINT) AS pos")
        cols.append("1 AS xs")
        for key, i in self.dates.items():
            mapped, fast = self.date_sql.get(key, (None, None))
            if key not in self.schema.columns:
                cols.append(f"CAST(NULL AS BIGINT) AS d{i}")
                cols.append(f"0 AS vd{i}")
                continue
            parts = []
            if fast is not None:
                parts.append(sql.in_range(f"({fast})"))
            if mapped is not None:
                alias, relation = self.maps["d_" + key]
                joins.append(f"LEFT JOIN {relation} AS {alias} ON {alias}.key = {mapped}")
                parts.append(f"{alias}.day")
            cols.append(f"CAST({_coalesce(parts)} AS BIGINT) AS d{i}")
            bad = (
                f"({fast}) IS NOT NULL AND {sql.in_range(f'({fast})')} IS NULL" if fast else "FALSE"
            )
            cols.append(f"CASE WHEN {bad} THEN 1 ELSE 0 END AS vd{i}")
            self.checks.append((f"vd{i}", "date", key))
        for key, i in self.numbers.items():
            mapped, fast = self.number_sql.get(key, (None, None))
            if key not in self.schema.columns:
                cols.append(f"CAST(NULL AS DOUBLE PRECISION) AS n{i}")
                cols.append(f"0 AS vn{i}")
                cols.append(f"0 AS wn{i}")
                continue
            limits = nz.spec_range(self.sheet, key)
            parts = []
            ranged = None
            if fast is not None:
                ranged = f"({fast})"
                if limits is not None:
                    ranged = f"CASE WHEN {_between(ranged, limits)} THEN {ranged} END"
                parts.append(ranged)
            if mapped is not None:
                alias, relation = self.maps["n_" + key]
                joins.append(f"LEFT JOIN {relation} AS {alias} ON {alias}.key = {mapped}")
                parts.append(f"{alias}.num")
            cols.append(f"{_coalesce(parts, 'DOUBLE PRECISION')} AS n{i}")
            c = self._c(key)
            not_number = f"{c} IS NOT NULL AND ({fast}) IS NULL" if mapped is None else "FALSE"
            cols.append(f"CASE WHEN {not_number} THEN 1 ELSE 0 END AS vn{i}")
            out = f"({fast}) IS NOT NULL AND {ranged} IS NULL" if limits and fast else "FALSE"
            cols.append(f"CASE WHEN {out} THEN 1 ELSE 0 END AS wn{i}")
            self.checks.append((f"vn{i}", "number", key))
            self.checks.append((f"wn{i}", "range", key))
        for key, i in self.codes.items():
            cols.append(f"{plain(key)}.code AS k{i}" if key in self.schema.columns
                        else f"CAST(NULL AS BIGINT) AS k{i}")  # fmt: skip
        for key, i in self.texts.items():
            cols.append(f"{plain(key)}.tcode AS t{i}" if key in self.schema.columns
                        else f"CAST(NULL AS BIGINT) AS t{i}")  # fmt: skip
        cols += ["xr.xo AS xo", "xr.xf AS xf"]
        category = " ".join(f"WHEN {test} THEN {j + 1}" for j, (test, _, _) in enumerate(present))
        cols.append(f"CASE {category} ELSE 0 END AS lc" if present else "0 AS lc")
        for j, (_, c, _key) in enumerate(present):
            cols.append(f"{c} AS l{j}")
        self.present = present
        text = f"SELECT {', '.join(cols)} FROM xr {' '.join(joins)}"
        if self.sheet_rel is not None:
            text += " UNION ALL " + self._sheet_select()
        return text

    def _sheet_select(self) -> str:
        cols = ["CAST(pos AS BIGINT) AS pos", "0 AS xs"]
        for i in self.dates.values():
            cols += [f"CAST(d{i} AS BIGINT) AS d{i}", f"0 AS vd{i}"]
        for i in self.numbers.values():
            cols += [f"CAST(n{i} AS DOUBLE PRECISION) AS n{i}", f"0 AS vn{i}", f"0 AS wn{i}"]
        for i in self.codes.values():
            cols.append(f"CAST(k{i} AS BIGINT) AS k{i}")
        for i in self.texts.values():
            cols.append(f"CAST(t{i} AS BIGINT) AS t{i}")
        cols += ["CAST(xo AS BIGINT) AS xo", "CAST(NULL AS VARCHAR) AS xf", "0 AS lc"]
        for j, (_, _c, key) in enumerate(self.present):
            cols.append(f"CAST(NULL AS {CANONICAL[self._kind(key)]}) AS l{j}")
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

    # ------------------------------------------------------------------ per as-of date

    def compute(self, day: np.datetime64 | np.ndarray, first: bool) -> Outcome:
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
        ranks = []
        for j, m in enumerate(self.metrics):
            if m.aggregate in ("latest", "value"):
                ranks.append(
                    f"ROW_NUMBER() OVER (PARTITION BY pos, f{j} ORDER BY {self._order(m)}) AS r{j}"
                )
        select = ["pos", "COUNT(*) AS rows_", "SUM(xs) AS file_rows"]
        if self.main_date:
            d = f"d{self.dates[self.main_date]}"
            select += [f"MIN(CASE WHEN xs = 1 THEN {d} END) AS first_day",
                       f"MAX(CASE WHEN xs = 1 THEN {d} END) AS last_day"]  # fmt: skip
        select += [f"SUM({flag}) AS {flag}" for flag, _, _ in self.checks]
        for j, m in enumerate(self.metrics):
            select += self._aggregates(j, m)
        text = (
            f"WITH xr AS ({self.raw_sql}), xp AS ({self.prep_sql}), xb AS ({base}), "
            f"xc AS (SELECT xb.*{''.join(', ' + f for f in flags)} FROM xb), "
            f"xk AS (SELECT xc.*{''.join(', ' + r for r in ranks)} FROM xc)"
        )
        got = self.engine.fetch(f"{text} SELECT {', '.join(select)} FROM xk GROUP BY pos")
        pos = np.array([int(p) for p in got["pos"]], dtype=np.int64)
        known = pos >= 0
        at = pos[known]
        out = Outcome(unavailable=dict(self.unavailable))
        for j, m in enumerate(self.metrics):
            out.values[m.name] = self._finish(j, m, got, known, at, day, text)
        rows = np.array([int(v) for v in got["rows_"]], dtype=np.int64)
        file_rows = np.array([int(v or 0) for v in got["file_rows"]], dtype=np.int64)
        stats = {
            "rows": int(file_rows.sum()),
            "customers": int((known & (file_rows > 0)).sum()),
            "customers_without": n - int((known & (file_rows > 0)).sum()),
            "unmatched": int(file_rows[~known].sum()),
        }
        if self.main_date:
            firsts = [v for v in got["first_day"] if v is not None]
            lasts = [v for v in got["last_day"] if v is not None]
            stats["first"] = _date(min(firsts)) if firsts else None
            stats["last"] = _date(max(lasts)) if lasts else None
        out.stats = stats
        if first:
            self._report_counts(got)
            if stats["unmatched"]:
                self._report_unmatched()
            if any(m.aggregate == "value" for m in self.metrics):
                self._report_duplicates(pos, rows)
        return out

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

    def _order(self, m: Metric) -> str:
        if m.aggregate == "value":
            return "xo ASC"
        col = date_column(m, self.schema)
        return f"d{self.dates[col]} DESC, xo DESC" if col else "xo DESC"

    def _aggregates(self, j: int, m: Metric) -> list[str]:
        f = f"f{j} = 1"
        column = normalise_header(m.column) if m.column else ""
        agg = m.aggregate
        if agg == "count":
            return [f"SUM(f{j}) AS m{j}"]
        if agg == "distinct":
            return [f"COUNT(DISTINCT CASE WHEN {f} THEN k{self.codes[column]} END) AS m{j}"]
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

    # ------------------------------------------------------------------ problems

    def _report_counts(self, got: dict) -> None:
        for flag, what, key in self.checks:
            count = sum(int(v or 0) for v in got[flag])
            if not count:
                continue
            if what == "date":
                head, tail = OUT_OF_RANGE
            elif what == "number":
                head, tail = NOT_NUMBER
            else:
                head, tail = _range_text(nz.spec_range(self.sheet, key)), "fix the value — ignored"
            self.problems.append(Problem(
                self.sheet, f"{head}{_more(count - 1)}; {tail} — in {self._where()}", column=key
            ))  # fmt: skip

    def _report_unmatched(self) -> None:
        """Unknown IDs, e-mail domains and names: one problem per distinct value, as in-sheet."""
        if not self._usable_links():
            self.problems.append(Problem(
                self.sheet,
                "no column links these rows to a customer (customer_id, email with "
                "Customers.email_domain, or customer_name); add one, or a row on the Columns "
                f"sheet naming the column that holds it — in {self._where()}",
                column="customer_id",
            ))  # fmt: skip
            return
        heads = ", ".join(f"l{j}" for j in range(len(self.present)))
        got = self.engine.fetch(
            f"WITH xr AS ({self.raw_sql}), xp AS ({self.prep_sql}) SELECT lc"
            f"{', ' + heads if heads else ''}, COUNT(*) AS n, MIN(xf) AS xf FROM xp "
            f"WHERE pos = -1 AND xs = 1 GROUP BY lc{', ' + heads if heads else ''}"
        )
        blank = sum(int(c) for lc, c in zip(got["lc"], got["n"], strict=True) if int(lc) == 0)
        if blank:
            self.problems.append(Problem(
                self.sheet,
                f"no customer ID{_more(blank - 1)}; these rows are ignored — fill in the "
                f"customer ID — in {self._where()}",
                column="customer_id",
            ))  # fmt: skip
        for j, (_, _, key) in enumerate(self.present):
            mine = np.flatnonzero(np.array([int(v) for v in got["lc"]]) == j + 1)
            if not mine.size:
                continue
            raws, links = self.link_info[key]
            normal = {_hashable(r): k for r, k in zip(raws, links.keys, strict=True)}
            groups: dict[object, list] = {}
            for i in mine:
                raw = got[f"l{j}"][i]
                group = groups.setdefault(normal.get(_hashable(raw)), [raw, 0, got["xf"][i]])
                group[1] += int(got["n"][i])
            what = {
                "customer_id": "unknown customer",
                "email": "no customer has this email domain",
                "customer_name": "no single customer has exactly this name",
            }[key]
            for raw, count, file in list(groups.values())[:MAX_LISTED]:
                self.problems.append(Problem(
                    self.sheet,
                    f"{what}{_more(count - 1)}; add it to Customers or fix it — these rows are "
                    f"ignored — in {self._where(file)}",
                    column=key,
                    value=raw,
                ))  # fmt: skip
            if len(groups) > MAX_LISTED:
                self.problems.append(Problem(
                    self.sheet, f"{len(groups) - MAX_LISTED} more unknown values not listed "
                    f"— in {self._where()}", column=key,
                ))  # fmt: skip

    def _report_duplicates(self, pos: np.ndarray, rows: np.ndarray) -> None:
        """A per-customer sheet with two rows for one customer: the first row wins (said once)."""
        known = pos >= 0
        extra = int((rows[known] - 1).clip(min=0).sum())
        if not extra:
            return
        first = int(pos[known][rows[known] > 1][0])
        column = "customer_id" if self.schema.has("customer_id") else "email"
        value = self.customers.frame["customer_id"].iloc[first]
        self.problems.append(Problem(
            self.sheet,
            f"customer appears twice{_more(extra - 1)}; the first row is used — keep one row "
            f"per customer — in {self._where()}",
            column=column,
            value=value,
        ))  # fmt: skip


def _hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _coalesce(parts: list[str], kind: str = "BIGINT") -> str:
    if not parts:
        return f"CAST(NULL AS {kind})"
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def _between(x: str, limits: tuple[float | None, float | None]) -> str:
    lo, hi = limits
    tests = []
    if lo is not None:
        tests.append(f"{x} >= {sql.double(repr(float(lo)))}")
    if hi is not None:
        tests.append(f"{x} <= {sql.double(repr(float(hi)))}")
    return " AND ".join(tests) or "TRUE"


def _range_text(limits: tuple[float | None, float | None] | None) -> str:
    lo, hi = limits or (None, None)
    if lo is not None and hi is not None:
        return f"must be between {lo:g} and {hi:g}"
    return f"must be at least {lo:g}" if lo is not None else f"must be at most {hi:g}"


def _date(day: object) -> object:
    import datetime as dt

    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


__all__ = ["Outcome", "Run", "Schema", "SourceError", "recognise"]
