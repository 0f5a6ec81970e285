"""CSV/TSV files read through their cache files (:mod:`xlhealth.inputs.sources.filecache`).

The engine's relation is the files' cache files in the files' order, so ``file_index``,
row order and every value are what DuckDB's CSV reader gives; the tags the plan asks for
(:meth:`CachedFilesEngine.derived`) are columns of those files. Cache files are written
just before the first query: every file not held yet is read once from its CSV (two at a
time: a small file keeps one core busy), and a held file that lacks a tag the plan now
wants gets it from its own cache file, never from the CSV again.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from xlhealth.inputs.sources.database import (
    FILE_COLUMN,
    JSON_HINT,
    DuckDBEngine,
    csv_hint,
    csv_reader,
    duckdb_kind,
    json_reader,
    literal,
    path_list,
    quote,
)
from xlhealth.inputs.sources.filecache import (
    CACHED_FORMATS,
    DOUBTS,
    META_KEY,
    PREFIX,
    Entry,
    SourceCache,
    tag_column,
    tag_sql,
)
from xlhealth.inputs.sources.files import Ends, FileSet, SourceError, prepare_one, prepare_text
from xlhealth.inputs.sources.spec import SourceSpec

THREADS = 2


_PLAIN_NAME = re.compile(r'^[^\s"\x00-\x1f\x7f](?:[^"\x00-\x1f\x7f]*[^\s"\x00-\x1f\x7f])?$')


def header_names(header: str, separator: str) -> list[str] | None:
    """A CSV's column names from its header line, when DuckDB's reader names the columns
    exactly so — plain names, no two alike in any case (DuckDB renames those) — else None
    (then DuckDB is asked). Spares a DESCRIBE per new file (a year of weekly files: 52)."""
    if header.count('"') % 2:
        return None
    names = next(csv.reader([header], delimiter=separator), [])
    if not names or not all(_PLAIN_NAME.match(n) for n in names):
        return None
    if len({n.casefold() for n in names}) < len(names) or not all(n.isprintable() for n in names):
        return None
    return names


def files_engine(fileset: FileSet, spec: SourceSpec, cache: SourceCache | None, tmp: Path,
                 base: Path, day_first: bool) -> tuple[DuckDBEngine, list[str]]:  # fmt: skip
    """DuckDB over a source's files — through their cache files when ``cache`` is given,
    the files are text and the cache folder can be written — and the lines Checks shows
    about the cache: why it was not used, or why cache files there were not trusted."""
    if cache is None or fileset.format not in CACHED_FORMATS:
        prepare_text(fileset, spec.encoding, tmp, base)
        return DuckDBEngine.for_files(fileset), []
    if not cache.writable():
        prepare_text(fileset, spec.encoding, tmp, base)
        return DuckDBEngine.for_files(fileset), [
            f"{spec.where}: the cache folder {cache.folder} cannot be written — the files are "
            "read as they are"
        ]
    settings: dict[str, object] = {
        "format": fileset.format,
        "encoding": spec.encoding,
        "date_order": "DMY" if day_first else "MDY",
    }
    json = None
    if fileset.format == "jsonl":  # the set's columns and types: a change rereads all
        probe = DuckDBEngine()
        try:
            json = probe.json_columns(path_list(fileset.files))
        finally:
            probe.close()
        settings["columns"] = [list(c) for c in json]
    entries = [cache.entry(path, settings) for path in fileset.files]
    cache.prune(entries)
    doubts: dict[str, int] = {}
    for e in entries:
        if e.reason in DOUBTS:
            doubts[e.reason] = doubts.get(e.reason, 0) + 1
    held = {i: e.ends() for i, e in enumerate(entries) if e.held}
    prepare_text(fileset, spec.encoding, tmp, base, held)

    def reread(i: int) -> Path:
        return prepare_one(fileset, i, spec.encoding, tmp, base)[0]

    notes = [f"{spec.where}: {n} file{'s' if n != 1 else ''} read afresh, not from the cache — "
             f"{DOUBTS[reason]}; it was rewritten" for reason, n in doubts.items()]  # fmt: skip
    return CachedFilesEngine(fileset, cache, entries, settings, reread, json), notes


class CachedFilesEngine(DuckDBEngine):
    """DuckDB over a source's cache files (written on first use).

    ``reread(i)``: the UTF-8 file to read file ``i`` from again — a held cache file that
    kept only part of a column's text the plan now reads in full.
    """

    def __init__(self, fileset: FileSet, cache: SourceCache, entries: list[Entry],
                 settings: dict[str, object], reread: Callable[[int], Path],
                 json: list[tuple[str, str]] | None = None):  # fmt: skip
        super().__init__()
        self.fileset, self.cache, self.entries, self.settings = fileset, cache, entries, settings
        self.reread, self.json = reread, json  # json: JSON lines' columns and types
        self.hint = JSON_HINT if json is not None else csv_hint(fileset)
        files = path_list([e.parquet for e in entries])
        self.relation = f"read_parquet({files}, union_by_name = true, filename = '{FILE_COLUMN}')"
        self.wanted: set[tuple[str, str]] = set()  # (tag, column)
        self.partial: set[str] = set()  # columns whose text is read only where v is NULL
        self.full: set[str] | None = None  # columns read as text (None: any, as yet)
        self.own: dict[int, list[str]] = {}  # file -> its columns (files read from the CSV)
        self.fresh = sum(not e.held for e in entries)  # files read from the CSV this run
        self.write_seconds = 0.0

    def derived(self, column: str, tag: str) -> str | None:
        self.wanted.add((tag, column))
        return quote(tag_column(tag, column))

    def reads(self, full: set[str], partial: set[str]) -> None:
        self.full, self.partial = set(full), set(partial)

    def describe(self) -> list[tuple[str, str]]:
        """Every file's columns in file order, first appearance first — what DuckDB's
        ``union_by_name`` gives over the CSVs — all text, as the CSV reader reads them."""
        if self.json is not None:  # the reader is told every column and its type
            return [(n, duckdb_kind(t)) for n, t in self.json] + [(FILE_COLUMN, "text")]
        names: dict[str, None] = {}
        for i, entry in enumerate(self.entries):
            names.update(dict.fromkeys(entry.columns() if entry.held else self._columns(i)))
        return [(n, "text") for n in names] + [(FILE_COLUMN, "text")]

    def _columns(self, i: int, read: Path | None = None, con: Any = None) -> list[str]:
        """File ``i``'s own columns (``con``: the cursor of the thread asking)."""
        if self.json is not None:
            return [n for n, _ in self.json]
        ends = self.fileset.ends.get(str(self.fileset.read[i]))
        if i not in self.own and ends is not None:  # the header line, when DuckDB keeps it as is
            names = header_names(ends.header(), self.fileset.separator)
            if names is not None:
                self.own[i] = names
        if i not in self.own:
            reader = self._reader(read or self.fileset.read[i])
            try:
                rows = (con or self.con).execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
            except self.duckdb.Error as error:
                raise SourceError(self._message(error)) from None
            self.own[i] = [name for name, *_ in rows if name != FILE_COLUMN]
        return self.own[i]

    def _reader(self, path: Path) -> str:
        files = f"[{literal(str(path))}]"
        if self.json is not None:
            return json_reader(files, self.json)
        return csv_reader(files, self.fileset.separator)

    def fetch(self, sql: str) -> dict[str, np.ndarray]:
        self._materialise()
        return super().fetch(sql)

    def _materialise(self) -> None:
        """Write the cache files the next query needs: files not held, held files without
        a wanted tag (from the cache file itself), held files that kept only part of a
        text the plan reads in full (from the file again). Each is written to a temporary
        name and renamed into place."""
        todo = [i for i, e in enumerate(self.entries) if not self._usable(i, e)]
        if not todo:
            return
        self.fresh += sum(self.entries[i].held and not self._whole(i, self.entries[i])
                          for i in todo)  # fmt: skip
        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(self._write, todo))
        self.write_seconds += time.perf_counter() - start

    def _usable(self, i: int, entry: Entry) -> bool:
        return entry.held and not self._missing(entry) and self._whole(i, entry)

    def _partial(self, i: int) -> set[str]:
        """Columns file ``i`` may keep only in part: none where rows are skipped by their
        values (export header rows, footers: matched on every column's text), none in JSON
        lines (their first rows are read from the relation for that check)."""
        if i in self.skip_files or self.json is not None or self.full is None:
            return set()
        return self.partial

    def _whole(self, i: int, entry: Entry) -> bool:
        """Every column whose text this plan reads is whole in the cache file."""
        if self.full is None or i in self.skip_files or self.json is not None:
            return not entry.residual
        return not entry.residual & self.full

    def _missing(self, entry: Entry) -> list[tuple[str, str]]:
        return sorted(w for w in self.wanted if tag_column(*w) not in entry.tags)

    def _write(self, i: int) -> None:
        entry = self.entries[i]
        if entry.held:  # another source reading the same file may have added tags since
            self.cache.reload(entry)
            if self._usable(i, entry):
                return
        con = self.con.cursor()
        if entry.held and self._whole(i, entry):  # tags added from the cache file itself
            columns, meta, partial = entry.columns(), dict(entry.meta or {}), entry.residual
            source = f"read_parquet({literal(str(entry.parquet))})"
            select, added = self._select(entry, columns, source, set())
        else:  # from the file: new, changed, or its text wanted in full again
            kept: set[tuple[str, str]] = set()  # tags the cache file had (other sources')
            if entry.held:
                read, ends = self.reread(i), entry.ends()
                kept = {(t[len(PREFIX)], t[len(PREFIX) + 2 :]) for t in entry.tags}
                entry.tags, entry.residual = set(), set()
            else:
                read = self.fileset.read[i]
                ends = self.fileset.ends.get(str(read)) or Ends()  # JSON lines: none
            columns = self._columns(i, read, con)
            source = self._reader(read)
            meta = self.cache.meta(entry, ends, self.settings)
            partial = {c for t, c in self.wanted if t == "v" and c in self._partial(i)}
            partial &= set(columns)
            select, added = self._select(entry, columns, source, partial, kept)
        meta["residual"] = sorted(partial)
        tmp = entry.parquet.with_name(f"{entry.parquet.name}.{os.getpid()}-{i}.tmp")
        text = json.dumps(meta)
        try:
            con.execute(
                f"COPY ({select}) TO {literal(str(tmp))} "
                f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{META_KEY}: {literal(text)}}})"
            )
            os.replace(tmp, entry.parquet)
        except self.duckdb.Error as error:
            raise SourceError(self._message(error)) from None
        finally:
            con.close()
            if tmp.exists():
                tmp.unlink()
        entry.meta, entry.names, entry.residual = meta, columns, set(partial)
        entry.tags |= added

    def _select(self, entry: Entry, columns: list[str], source: str, partial: set[str],
                kept: set[tuple[str, str]] | None = None) -> tuple[str, set[str]]:  # fmt: skip
        """The rows of a cache file: its columns, the tags it holds, the tags wanted now
        (the ISO day from the date-form tag, computed one level below it: the regular
        expressions run once per row). A tag of a column the file lacks is the tag of NULL,
        as the query would compute it. ``partial``: columns kept only where their ISO day
        is NULL (the plan reads nothing else of them; the cache file is then smaller)."""
        have = set(columns)
        old = {k for k in kept or () if tag_column(*k) not in entry.tags}
        missing = sorted(set(self._missing(entry)) | old)
        inner = [(t, c) for t, c in missing if t != "v"]
        inner += [("z", c) for t, c in missing if t == "v" and ("z", c) not in inner
                  and tag_column("z", c) not in entry.tags]  # fmt: skip

        def value(c: str) -> str:
            return quote(c) if c in have else "CAST(NULL AS VARCHAR)"

        keep = [quote(c) for c in columns] + [quote(t) for t in sorted(entry.tags)]
        below = keep + [f"{tag_sql(t, value(c))} AS {quote(tag_column(t, c))}" for t, c in inner]
        above = keep + [quote(tag_column(t, c)) for t, c in inner]
        above += [f"{tag_sql(t, value(c), quote(tag_column('z', c)))} AS {quote(tag_column(t, c))}"
                  for t, c in missing if t == "v"]  # fmt: skip
        select = f"SELECT {', '.join(above)} FROM (SELECT {', '.join(below)} FROM {source}) AS xs"
        if partial:
            texts = ", ".join(f"CASE WHEN {quote(tag_column('v', c))} IS NULL THEN {quote(c)} END "
                              f"AS {quote(c)}" for c in sorted(partial))  # fmt: skip
            select = f"SELECT * REPLACE ({texts}) FROM ({select}) AS xt"
        return select, {tag_column(t, c) for t, c in inner + missing}
