"""Sources: file shapes exports come in — gzip-compressed text, semicolon-separated CSV
(Excel in locales whose decimal mark is a comma) — read exactly as their plain twins."""

from __future__ import annotations

import csv
import gzip
import io
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sources_data import (
    assert_same,
    customers_frame,
    events,
    full_model,
    in_sheet,
    through_sources,
    write,
)
from xlhealth.inputs.sources import SourceSpec
from xlhealth.inputs.sources.database import quote
from xlhealth.inputs.sources.files import SourceError, prepare_text, resolve, separator_of


def _gzip(path, target=None):
    target = target or path.with_name(path.name + ".gz")
    with open(path, "rb") as f, gzip.open(target, "wb") as out:
        shutil.copyfileobj(f, out)
    path.unlink()
    return target


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("customer_id,date,n", ","),
        ("customer_id;date;n", ";"),
        ("customer_id\tdate\tn", "\t"),
        ('"Name, full";id;date', ";"),  # the comma is inside quotes
        ('"a;b",c', ","),
        ("customer_id", ","),  # one column: nothing to tell, a comma
        ("a;b,c", ","),  # a tie: the comma
    ],
)
def test_the_separator_is_the_header_lines(header, expected):
    assert separator_of(header) == expected


def test_semicolon_csv_reads_as_its_comma_twin(tmp_path):
    """Values holding commas ("1,200", "Sep 5, 2026") stay whole: only ';' separates."""
    frame = events(300, seed=5)
    cust = customers_frame()
    model = full_model()
    expected = in_sheet(model, cust, {"Logins": frame})
    frame.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    got = through_sources(model, cust, [SourceSpec("Logins", 2, "semi.csv")], tmp_path)
    assert not [p for p in got.problems if p.sheet == "Sources"]
    assert got.sources["rows"].iloc[0] == len(frame)
    assert_same(expected, got)
    sjis = frame.replace("¥1,200", "￥1,200")  # cp932 has only the full-width yen
    sjis.to_csv(tmp_path / "semi-sjis.csv", index=False, sep=";", encoding="cp932")
    got = through_sources(model, cust, [SourceSpec("Logins", 2, "semi-sjis.csv")], tmp_path)
    assert_same(in_sheet(model, cust, {"Logins": sjis}), got)


@pytest.mark.parametrize(("fmt", "encoding"), [("csv", "utf-8"), ("csv", "cp932"),
                                               ("tsv", "utf-8"), ("jsonl", "utf-8")])  # fmt: skip
def test_gzip_files_read_as_their_plain_twins(tmp_path, fmt, encoding):
    frame = events(300, seed=6)
    cust = customers_frame()
    model = full_model()
    plain = tmp_path / "plain" / f"events.{fmt}"
    if encoding == "cp932":
        frame = frame.replace("¥1,200", "￥1,200")
    write(frame, plain, fmt, encoding)
    packed = tmp_path / "packed" / f"events.{fmt}"
    write(frame, packed, fmt, encoding)
    _gzip(packed)
    expected = through_sources(model, cust, [SourceSpec("Logins", 2, "plain")], tmp_path)
    got = through_sources(model, cust, [SourceSpec("Logins", 2, "packed")], tmp_path)
    assert not [p for p in got.problems if p.sheet == "Sources"]
    assert got.sources["rows"].iloc[0] == len(frame)
    assert_same(expected, got)
    if fmt != "jsonl":  # text in a cell: the same as pasting the file's text
        assert_same(in_sheet(model, cust, {"Logins": frame}), got)


def test_a_folder_mixing_plain_and_gzip_csv_is_one_source(tmp_path):
    frame = events(200, seed=7)
    write(frame.iloc[:120], tmp_path / "in" / "a.csv", "csv")
    _gzip(write(frame.iloc[120:], tmp_path / "in" / "b.csv", "csv"))
    fileset = resolve("in", "auto", tmp_path)
    assert fileset.format == "csv" and [p.name for p in fileset.files] == ["a.csv", "b.csv.gz"]
    cust = customers_frame()
    got = through_sources(full_model(), cust, [SourceSpec("Logins", 2, "in")], tmp_path)
    assert got.sources["rows"].iloc[0] == 200
    assert_same(in_sheet(full_model(), cust, {"Logins": frame}), got)


def test_gzip_parquet_is_not_a_format(tmp_path):
    (tmp_path / "x.parquet.gz").write_bytes(b"")
    with pytest.raises(SourceError, match=r"cannot tell the format of x\.parquet\.gz"):
        resolve("x.parquet.gz", "auto", tmp_path)


def test_a_truncated_gzip_file_is_one_line(tmp_path):
    path = write(events(2000, seed=8), tmp_path / "e.csv", "csv")
    packed = _gzip(path)
    packed.write_bytes(packed.read_bytes()[:-200])
    with pytest.raises(SourceError, match=r"^e\.csv\.gz: cannot unpack it .*whole \.gz file$"):
        prepare_text(resolve("e.csv.gz", "auto", tmp_path), "auto", tmp_path, tmp_path)
    specs = [SourceSpec("Logins", 2, "e.csv.gz")]
    got = through_sources(full_model(), customers_frame(), specs, tmp_path)
    [p] = [p for p in got.problems if p.sheet == "Sources"]
    assert p.row == 2 and p.column == "path" and "cannot unpack" in p.message


def test_files_with_different_separators_are_refused(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C001"], "date": ["2026-11-01"]})
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_csv(tmp_path / "b.csv", index=False, sep=";")
    with pytest.raises(SourceError, match=r"different separators: a comma \(a\.csv\), a "
                                          r"semicolon \(b\.csv\)"):  # fmt: skip
        prepare_text(resolve("*.csv", "auto", tmp_path), "auto", tmp_path, tmp_path)


def _salesforce_report(frame: pd.DataFrame, records: int | None = None) -> bytes:
    """``frame`` as Salesforce writes a report: every cell quoted, CRLF, then its footer."""
    body = frame.to_csv(index=False, quoting=1, lineterminator="\r\n")
    n = len(frame) if records is None else records
    footer = (f'\r\n"Grand Totals ({n} records)"\r\n\r\n"Confidential Information - Do Not '
              'Distribute"\r\n"Copyright (c) 2000-2026 salesforce.com, inc. All rights '
              'reserved."\r\n')  # fmt: skip
    return (body + footer).encode("utf-8")


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("n", [40, 4000])  # the footer inside / far beyond the first 64 KB
def test_report_footers_are_skipped_and_said(tmp_path, n, packed):
    frame = events(n, seed=9)
    path = tmp_path / "report.csv"
    path.write_bytes(_salesforce_report(frame))
    if packed:
        path = _gzip(path)
    cust = customers_frame()
    got = through_sources(full_model(), cust, [SourceSpec("Logins", 2, path.name)], tmp_path)
    assert got.sources["rows"].iloc[0] == n
    said = [p.message for p in got.problems if "report footer skipped" in p.message]
    assert said == [
        f"report footer skipped ({text}) — in Sources row 2 ({path.name})"
        for text in (
            f"Grand Totals ({n} records)",
            "Confidential Information - Do Not Distri",
            "Copyright (c) 2000-2026 salesforce.com,",
        )
    ]
    assert_same(in_sheet(full_model(), cust, {"Logins": frame}), got)


def test_a_last_data_row_that_reads_like_a_footer_is_kept(tmp_path):
    """Without the blank line before it, "Total…" is data (a customer named so)."""
    frame = pd.DataFrame({"customer_id": ["C001", "Total", "C002"], "date": ["2026-11-01"] * 3})
    body = frame.to_csv(index=False) + "Total\n"  # a short last row, no blank line before
    (tmp_path / "l.csv").write_text(body)
    got = through_sources(full_model(), customers_frame(), [SourceSpec("Logins", 2, "l.csv")],
                          tmp_path)  # fmt: skip
    assert got.sources["rows"].iloc[0] == 4
    assert not [p for p in got.problems if "footer" in p.message]


# ---------------------------------------------------------------- the first rows of each file

_CELL = st.one_of(
    st.sampled_from(["", "a", "x,y", 'say "hi"', "顧客", " spaced ", "12", "2026-01-05"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=6),
)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=0, max_size=6),
    tsv=st.booleans(),
    bom=st.booleans(),
    pad=st.integers(0, 2),
)
def test_the_kept_start_of_a_csv_is_what_the_engine_reads(tmp_path_factory, rows, tsv, bom, pad):
    """Issue 24: the leading rows of each file come from the start kept while it was
    streamed, not from one query per file (which scanned every file before it): exactly
    what DuckDB reads — quoting, separators, a BOM, Japanese, empty values."""
    from xlhealth.inputs.sources.database import DuckDBEngine
    from xlhealth.inputs.sources.export_rows import LEADING, leading_rows

    tmp = tmp_path_factory.mktemp("lead")
    sep = "\t" if tsv else ","
    header = ["customer_id", "note", "date"]
    for k in range(2):  # two files: the second's rows must not come from the first
        body = [header, *([[f"f{k}", *r[1:]] for r in rows]), *([[""] * 3] * pad)]
        text = io.StringIO(newline="")
        csv.writer(text, delimiter=sep, lineterminator="\r\n").writerows(body)
        data = text.getvalue().encode("utf-8")
        (tmp / f"{k}.{'tsv' if tsv else 'csv'}").write_bytes(
            (b"\xef\xbb\xbf" if bom else b"") + data
        )
    fileset = resolve(str(tmp / ("*.tsv" if tsv else "*.csv")), "tsv" if tsv else "csv", tmp)
    prepare_text(fileset, "auto", tmp, tmp)
    engine = DuckDBEngine.for_files(fileset)
    try:
        names = [n for n, _ in engine.describe() if not n.startswith("_xlhealth")]
        for i, path in enumerate(fileset.read):
            kept = leading_rows(fileset, path, names)
            got = engine.fetch(
                f"SELECT {', '.join(quote(n) for n in names)} FROM {engine.relation} "
                f"WHERE file_index = {i} LIMIT {LEADING}"
            )
            values = list(got.values())
            theirs = [["" if v[r] is None else v[r] for v in values]
                      for r in range(len(values[0]) if values else 0)]  # fmt: skip
            assert kept == theirs
    finally:
        engine.close()
