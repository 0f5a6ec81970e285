"""Data beyond the workbook: input sheets whose rows live in files or a database.

A book declares a source with one row of its ``Sources`` sheet (``sheet``, ``path``,
``format``, ``encoding``, ``mode``, ``connection``, ``query``; see
:mod:`xlhealth.inputs.sources.spec`). The metrics that read that sheet are then computed where
the rows are — DuckDB in-process for CSV/TSV/Parquet/JSON-lines files, the database
itself for a ``connection`` — and only one row per customer comes back: raw events are
never loaded into pandas, so memory grows with customers × metrics (and the distinct
values of the columns that need xlhealth's own rules), not with events. Every value
equals what the same rows pasted into the sheet give (tests/test_sources_*.py).

Python use::

    from xlhealth import run
    from xlhealth.inputs.sources import open_sources

    with open_sources(sources_table, base=Path("book folder")) as external:
        result = run(model, sheets, external=external)

``run`` (and ``aggregate``) take ``external``: sheet name -> :class:`ExternalSource`.
``xlhealth refresh`` and the Refresh button do this from the book's Sources sheet, with
paths relative to the workbook's folder.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from xlhealth.core.model import Metric, Model
from xlhealth.core.problems import Problem
from xlhealth.core.rows import Batch
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.columns import Recogniser
from xlhealth.inputs.matching import Customers
from xlhealth.inputs.sources.cachedfiles import CachedFilesEngine, files_engine
from xlhealth.inputs.sources.compute import Outcome, Run, Schema, recognise
from xlhealth.inputs.sources.database import DuckDBEngine, Engine, PostgresEngine
from xlhealth.inputs.sources.export_rows import skip_condition
from xlhealth.inputs.sources.filecache import SourceCache
from xlhealth.inputs.sources.files import FileSet, SourceError, resolve
from xlhealth.inputs.sources.spec import (
    COLUMNS,
    ENCODINGS,
    FORMATS,
    MODES,
    SOURCE_SHEETS,
    SourceSpec,
    read_sources,
)

__all__ = [
    "COLUMNS",
    "ENCODINGS",
    "FORMATS",
    "MODES",
    "SOURCES_COLUMNS",
    "SOURCE_SHEETS",
    "Batch",
    "ExternalSource",
    "SourceError",
    "SourceSpec",
    "Sources",
    "external_values",
    "open_sources",
    "read_sources",
]

SOURCES_COLUMNS = [
    "sheet",
    "row",
    "what",
    "files",
    "rows",
    "first",
    "last",
    "customers",
    "customers_without",
    "unmatched",
    "seconds",
    "status",
    "cached",
    "fresh",
    "cache_mb",
]
"""Columns of ``Result.sources`` (one row per Sources row; Checks shows them). ``cached`` /
``fresh``: files read from their cache file / from the file itself (None: no cache)."""


def warehouse_engine(spec: SourceSpec, base: Path) -> Engine:
    """The engine of a warehouse connection; its client is imported only when used."""
    if spec.engine == "snowflake":
        from xlhealth.inputs.sources.snowflake import SnowflakeEngine

        return SnowflakeEngine(spec.connection, spec.query)
    if spec.engine == "spark":
        from xlhealth.inputs.sources.spark import SparkEngine

        return SparkEngine(spec.connection, spec.query)
    from xlhealth.inputs.sources.clickhouse import ClickHouseEngine

    return ClickHouseEngine(spec.connection, spec.query, base)


class ExternalSource:
    """One Sources row, opened lazily and reused by every aggregation of one run.

    ``base`` is the workbook's folder (relative paths and ``duckdb:///name`` start there).
    ``cache``: the folder of the typed per-file cache of CSV/TSV files
    (:mod:`xlhealth.inputs.sources.filecache`); None reads every file as it is.
    """

    def __init__(
        self,
        spec: SourceSpec,
        base: Path,
        recogniser: Recogniser | None = None,
        day_first: bool = False,
        cache: Path | None = None,
    ):
        self.spec = spec
        self.cache = SourceCache(cache) if cache is not None else None
        self.cache_notes: list[str] = []  # why the cache was not (fully) used: Checks lines
        self.base = Path(base)
        self.recogniser = recogniser
        self.day_first = day_first
        self.engine: Engine | None = None
        self.fileset: FileSet | None = None
        self.described: list[tuple[str, str]] | None = None
        self.recognised = None
        self.error: SourceError | None = None
        self.seconds = 0.0
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._runs: dict[tuple, Run] = {}

    def open(self) -> None:
        """Find the files (or connect) and describe the columns; raises SourceError."""
        if self.error is not None:
            raise self.error
        if self.engine is not None:
            return
        try:
            spec = self.spec
            if spec.engine == "files":
                fileset = resolve(spec.path, spec.format, self.base)
                self._tmp = tempfile.TemporaryDirectory(prefix="xlhealth-source-")
                self.fileset = fileset
                self.engine, self.cache_notes = files_engine(
                    fileset, spec, self.cache, Path(self._tmp.name), self.base, self.day_first
                )
            elif spec.engine == "duckdb":
                self.engine = DuckDBEngine.for_database(self.duckdb_path(), spec.query)
            elif spec.engine == "postgresql":
                self.engine = PostgresEngine(spec.connection, spec.query)
            else:
                self.engine = warehouse_engine(spec, self.base)
            self.described = self.engine.describe()
        except SourceError as error:
            self.error = error
            self.close()
            raise

    def cache_lines(self) -> list[Problem]:
        """One information line per reason the cache was not (fully) used."""
        return [Problem(self.spec.sheet, line) for line in self.cache_notes]

    def cache_stats(self) -> dict[str, object]:
        engine = self.engine
        if not isinstance(engine, CachedFilesEngine):
            return {}
        size = engine.cache.size(engine.entries)
        return {"cached": len(engine.entries) - engine.fresh, "fresh": engine.fresh,
                "cache_mb": round(size / 1e6, 2)}  # fmt: skip

    def duckdb_path(self) -> Path:
        rest = self.spec.connection.split("://", 1)[1]
        rest = rest[1:] if rest.startswith("/") else rest  # duckdb:///x -> x, ////abs -> /abs
        path = Path(rest)
        return path if path.is_absolute() else self.base / path

    def run(
        self,
        metrics: list[Metric],
        customers: Customers,
        sheet_frame: pd.DataFrame | None,
        problems: list[Problem],
    ) -> tuple[Run, bool]:
        """The prepared run for these customers (built on first use); (run, first time)."""
        key = (id(customers), tuple(m.name for m in metrics))
        if key in self._runs:
            return self._runs[key], False
        self.open()
        try:
            assert self.engine is not None and self.described is not None
            columns, self.recognised = recognise(
                self.spec.sheet, self.described, self.recogniser, problems, self.spec.where
            )
            sheet_columns = set()
            if sheet_frame is not None:
                sheet_columns = {normalise_header(c) for c in sheet_frame.columns if c != "_row"}
            schema = Schema(self.spec.sheet, columns, sheet_columns)
            if not self._runs:
                problems += self.cache_lines()
            if self.recogniser is not None and self.fileset is not None:
                self._skip_export_rows(columns, problems)
            names = self.fileset.names if self.fileset is not None else {}
            run = Run(
                self.spec, self.engine, schema, metrics, customers, sheet_frame,
                self.day_first, problems, names,
            )  # fmt: skip
        except SourceError as error:
            self.error = error
            raise
        self._runs[key] = run
        return run, True

    def _skip_export_rows(self, columns: dict[str, tuple[str, str]],
                          problems: list[Problem]) -> None:  # fmt: skip
        """Extra header rows atop a file and report footers below it, skipped as a pasted
        sheet skips them (:mod:`xlhealth.inputs.sources.export_rows`)."""
        from xlhealth.inputs.specs import SPECS

        assert self.engine is not None and self.fileset is not None and self.described
        if self.engine.skip:
            return
        spec = SPECS.get(self.spec.sheet)
        contract = (*spec.numbers, *spec.dates) if spec is not None else ()
        typed = [columns[c][0] for c in contract if c in columns]
        self.engine.skip = skip_condition(self.engine, self.fileset, self.described, typed,
                                          self.spec.sheet, self.spec.where, problems)  # fmt: skip

    def close(self) -> None:
        if self.engine is not None:
            with contextlib.suppress(Exception):
                self.engine.close()
            self.engine = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._runs.clear()


class Sources(dict):
    """Sheet name -> :class:`ExternalSource`; closes them all when the ``with`` block ends."""

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for source in self.values():
            source.close()

    def per_customer(
        self,
        model: Model,
        customers: Customers,
        sheets: Mapping[str, pd.DataFrame],
        day: np.datetime64 | np.ndarray,
        problems: list[Problem],
    ) -> Batch:
        """What the core asks for (:class:`xlhealth.core.rows.ExternalValues`)."""
        return external_values(model, customers, self, sheets, day, problems)


def open_sources(
    sources: pd.DataFrame | list[SourceSpec] | None,
    base: str | Path = ".",
    recogniser: Recogniser | None = None,
    day_first: bool = False,
    problems: list[Problem] | None = None,
    cache: Path | None = None,
) -> Sources:
    """The sources a Sources table (or validated specs) declares, keyed by sheet.

    Nothing is read yet: each source opens when a metric first needs it. Mistakes in the
    table go to ``problems`` (blocking ones: the caller should stop, as refresh does).
    ``cache``: a folder for the per-file cache of CSV/TSV files (refresh uses
    ``NAME-cache/sources/`` beside the book); None reads every file as it is.
    """
    found: list[Problem] = [] if problems is None else problems
    if sources is None or isinstance(sources, pd.DataFrame):
        specs = read_sources(sources, found)
    else:
        specs = list(sources)
    return Sources({s.sheet: ExternalSource(s, Path(base), recogniser, day_first, cache)
                    for s in specs})  # fmt: skip


def external_values(
    model: Model,
    customers: Customers,
    external: Mapping[str, ExternalSource],
    sheets: Mapping[str, pd.DataFrame],
    day: np.datetime64 | np.ndarray,
    problems: list[Problem],
) -> Batch:
    """Every metric whose source sheet has a Sources row, one batch per source.

    ``sheets`` are the pasted sheets by name (``mode`` ``append`` adds their rows).
    Problems are reported on the first computation of a run only (the back-test computes
    again with one as-of date per customer).
    """
    batch = Batch()
    rows = []
    by_sheet = {k.casefold(): v for k, v in sheets.items() if v is not None}
    for name, source in external.items():
        spec = source.spec
        metrics = [
            m
            for m in model.metrics
            if m.aggregate != "ratio" and m.source.casefold() == name.casefold()
        ]
        pasted = by_sheet.get(name.casefold())
        frame = pasted if spec.mode == "append" else None
        start = time.perf_counter()
        status = "ok"
        outcome: Outcome | None = None
        first = False
        try:
            run, first = source.run(metrics, customers, frame, problems)
            outcome = run.compute(day, first)
        except SourceError as error:
            first = not getattr(source, "_reported", False)
            source._reported = True
            status = f"failed: {error.message}"
            if first:
                problems.append(
                    spec.located(
                        f"{spec.sheet}: {error.message} — its metrics are skipped for every "
                        "customer",
                        error.column,
                        error.value,
                    )
                )
            for m in metrics:
                batch.unavailable[m.name] = (
                    f"its source (Sources row {spec.row}) could not be read",
                    [],
                )
        if outcome is not None:
            batch.values.update(outcome.values)
            batch.unavailable.update(outcome.unavailable)
            if first and spec.mode == "replace" and pasted is not None and len(pasted):
                problems.append(
                    Problem(
                        spec.sheet,
                        f"{len(pasted):,} pasted rows are not used: {spec.where} replaces "
                        "them (mode replace); set mode to append to count both",
                    )
                )
            if not metrics:
                status = f"no metric reads {spec.sheet}"
        source.seconds += time.perf_counter() - start  # every computation of this run
        stats = outcome.stats if outcome is not None else {}
        cache = source.cache_stats()  # one stat of each cache file per source
        fileset = source.fileset
        rows.append(
            {
                "sheet": spec.sheet,
                "row": spec.row,
                "what": spec.what,
                "files": len(fileset.files) if fileset is not None else None,
                "rows": stats.get("rows"),
                "first": stats.get("first"),
                "last": stats.get("last"),
                "customers": stats.get("customers"),
                "customers_without": stats.get("customers_without"),
                "unmatched": stats.get("unmatched"),
                "seconds": round(source.seconds, 2),
                "status": status,
                **{k: cache.get(k) for k in ("cached", "fresh", "cache_mb")},
            }
        )
    batch.stats = pd.DataFrame(rows, columns=SOURCES_COLUMNS)
    return batch


def book_sources(
    specs: list[SourceSpec],
    tables: Mapping[str, pd.DataFrame | None],
    model: Model,
    base: Path,
    cache: Path | None = None,
) -> Sources:
    """A book's sources: its Columns rows recognise their headers, Settings date_order
    reads their dates, paths start in ``base`` (the workbook's folder). ``cache``: the
    per-file cache folder, unless Settings ``source_cache`` says no."""
    from xlhealth.inputs.columns import builtin_aliases, columns_rows

    recogniser = Recogniser(builtin_aliases(), columns_rows(tables.get("Columns"), []))
    day_first = model.settings.date_order.casefold() == "dmy"
    if not cache_wanted(model):
        cache = None
    return open_sources(specs, base, recogniser, day_first, cache=cache)


NO = ("no", "false", "off", "0", "いいえ", "しない")


def cache_wanted(model: Model) -> bool:
    """Settings ``source_cache``: yes (default) keeps the per-file cache of CSV sources."""
    value = str(model.settings.extra.get("source_cache", "") or "").strip().casefold()
    return value not in NO


def source_columns(
    mapping: pd.DataFrame | None, external: Mapping[str, ExternalSource], model: Model
) -> pd.DataFrame | None:
    """Checks' header -> field table with each source's columns added (sheet shown with its
    Sources row)."""
    from xlhealth.inputs.columns import mapping_rows

    rows = []
    for source in external.values():
        recognised = source.recognised
        if recognised is None:
            continue
        read_by: dict[str, list[str]] = {}
        for m in model.metrics:
            if m.source.casefold() != source.spec.sheet.casefold():
                continue
            used = [m.column if m.aggregate != "ratio" else "", m.date_column]
            used.append(m.filter.column if m.filter else "")
            for column in filter(None, used):
                read_by.setdefault(normalise_header(column), []).append(m.name)
        shown = f"{source.spec.sheet} (Sources row {source.spec.row})"
        rows += mapping_rows(shown, recognised.mapped, recognised.ignored, [], read_by)
    if not rows:
        return mapping
    extra = pd.DataFrame(rows, columns=["sheet", "field", "header", "kind", "detail"])
    return (
        extra
        if mapping is None or mapping.empty
        else pd.concat([mapping, extra], ignore_index=True)
    )
