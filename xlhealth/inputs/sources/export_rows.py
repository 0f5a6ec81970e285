"""Rows an export writes around its data in a file, left out as a pasted sheet leaves them.

The rules are the pasted sheet's (:func:`xlhealth.inputs.shapes.trim_export`), file by file:

* **extra header rows** at the top — Qualtrics' question texts and ``{"ImportId": …}`` row,
  SurveyMonkey's "Response" row: the first ≤ 3 rows, from the start of a CSV kept when it
  was streamed for its encoding (other formats: read through the engine);
* **report footers** at the bottom of a CSV/TSV — Salesforce's blank line, ``Grand Totals
  (N records)``, ``Confidential Information …``, the copyright line: the file's last lines,
  kept when the file was streamed for its encoding (:class:`~xlhealth.inputs.sources.files.Ends`;
  the engine has no cheap "last rows").

Each such row becomes a condition on the file and its values that every query of the source
adds (``Engine.skip``), and a line on Checks, so a row is never dropped silently.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from xlhealth.core.problems import Problem
from xlhealth.inputs.shapes import blank_row, extra_header_row, footer_start
from xlhealth.inputs.sources.database import FILE_COLUMN, Engine, literal, quote
from xlhealth.inputs.sources.files import TAIL, Ends, FileSet


def skip_condition(
    engine: Engine,
    fileset: FileSet,
    described: list[tuple[str, str]],
    typed_columns: list[str],
    sheet: str,
    where: str,
    problems: list[Problem],
) -> str:
    """The condition rows must meet (``""``: keep every row); lists the skipped rows."""
    names = [name for name, _ in described if name != FILE_COLUMN]
    drop = _headers(engine, fileset, described, names, typed_columns, sheet, where, problems)
    if fileset.format in ("csv", "tsv"):
        drop += _footers(fileset, set(names), sheet, where, problems)
    engine.skip_files = frozenset(i for i, _ in drop)
    return f"NOT ({' OR '.join(c for _, c in drop)})" if drop else ""


def _headers(engine: Engine, fileset: FileSet, described: list[tuple[str, str]],
             names: list[str], typed_columns: list[str], sheet: str, where: str,
             problems: list[Problem]) -> list[tuple[int, str]]:  # fmt: skip
    typed = [names.index(c) for c in typed_columns if c in names]
    kinds = dict(described)
    quoted = ", ".join(  # text as text; any other value only as "a value" (never header)
        quote(n) if kinds[n] == "text" else f"CASE WHEN {quote(n)} IS NULL THEN NULL ELSE 0 END"
        for n in names
    )
    drop = []
    for i, path in enumerate(fileset.read):
        rows = leading_rows(fileset, path, names)
        if rows is None:  # not a CSV whose start was kept: ask the engine for this file
            got = engine.fetch(
                f"SELECT {quoted} FROM {engine.relation} WHERE file_index = {i} LIMIT {LEADING}"
            )
            values = list(got.values())
            rows = [["" if v[r] is None else v[r] for v in values]
                    for r in range(len(values[0]) if values else 0)]  # fmt: skip
        for row in rows:
            if not extra_header_row(row, typed):
                break
            drop.append((i, _same_row(i, names, row)))
            problems.append(_said(sheet, "extra header row", row, where, fileset, path))
    return drop


LEADING = 3  # rows at the top of each file that may be extra header rows


def leading_rows(fileset: FileSet, path: Path, names: list[str]) -> list[list[str]] | None:
    """The first data rows of a CSV/TSV as the engine reads them (all text, in the order of
    ``names``, "" for a missing value), from the start :class:`Ends` kept while the file was
    streamed for its encoding — none when that cannot stand for the engine's reading (not a
    CSV, a header the engine named otherwise, rows longer than the kept start).

    One query per file (``WHERE file_index = i LIMIT 3``) scanned every file before file i:
    a year of weekly exports cost the square of the number of files.
    """
    ends = fileset.ends.get(str(path))
    if ends is None or fileset.format not in ("csv", "tsv"):
        return None
    text = ends.head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    cut = len(ends.head) >= TAIL  # the file goes on: only whole lines are known
    if cut:
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fileset.separator)
    records = [r for r in itertools.islice((r for r in reader if r), LEADING + 1)]
    if not records:
        return None
    header, rows = records[0], records[1:]
    if len(set(header)) < len(header) or not set(header) <= set(names):
        return None
    if cut and len(rows) < LEADING:
        return None
    at = {h: k for k, h in enumerate(header)}
    return [[row[at[n]] if n in at and at[n] < len(row) else "" for n in names] for row in rows]


def _footers(fileset: FileSet, described: set[str], sheet: str, where: str,
             problems: list[Problem]) -> list[tuple[int, str]]:  # fmt: skip
    drop = []
    for i, path in enumerate(fileset.read):
        header, rows = last_rows(fileset.ends[str(path)], fileset.separator)
        if not header or not set(header) <= described or len(set(header)) < len(header):
            continue  # columns the engine named otherwise: nothing to match rows by
        end = len(rows)
        while end > 0 and blank_row(rows[end - 1]):
            end -= 1
        for row in rows[footer_start(rows, 0, end) : end]:
            if blank_row(row):
                continue
            cells = (row + [""] * len(header))[: len(header)]
            drop.append((i, _same_row(i, header, cells)))
            problems.append(_said(sheet, "report footer", row, where, fileset, path))
    return drop


def last_rows(ends: Ends, separator: str) -> tuple[list[str], list[list[str]]]:
    """(header, the last rows) of a CSV, from what :class:`Ends` kept of it."""
    header = next(csv.reader([ends.header()], delimiter=separator), [])
    text = io.StringIO(ends.last_lines(), newline="")
    return header, list(csv.reader(text, delimiter=separator))


def _same_row(file_index: int, names: list[str], row: list) -> str:
    tests = [f"file_index = {file_index}"] + [
        f"{quote(n)} IS NOT DISTINCT FROM {literal(v) if v != '' else 'NULL'}"
        for n, v in zip(names, row, strict=True)
    ]
    return f"({' AND '.join(tests)})"


def _said(sheet: str, what: str, row: list, where: str, fileset: FileSet, path: Path) -> Problem:
    shown = next((str(v) for v in row if v != ""), "")[:40].rstrip()
    file = f", file {fileset.shown(str(path))}" if len(fileset.files) > 1 else ""
    return Problem(sheet, f"{what} skipped ({shown}) — in {where}{file}")
