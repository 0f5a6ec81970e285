"""History and ActionLog grow by what a refresh adds: deflate segments, marks, the row cache.

What must hold: an appended part is a valid zip entry that every reader sees as the whole
sheet; the row cache gives exactly the grid a full read gives, or nothing — never a
stale or half-right sheet (a lying mark, a damaged cache, an edited History, a book
LibreOffice saved).
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
import zlib

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workbooks import cli, libreoffice_roundtrip
from xlhealth.refresh import refresh
from xlhealth.xlsx.package import NewSheet, Package
from xlhealth.xlsx.rawzip import AppendOnly, Mark, segmented, write_raw
from xlhealth.xlsx.reader import BookFile
from xlhealth.xlsx.rowcache import RowCache, _decode, _encode, cache_folder

APPENDED = ("History", "ActionLog")


def grids(path, cache: bool):
    """The two sheets as read (with or without the cache), keeping the cache as a
    successful refresh does."""
    with BookFile(path, cache=cache) as f:
        got = {n: f.grid(n) for n in APPENDED}
        for pending in f.pending:
            pending.commit()
        return got, list(f.cache_hits)


def same(a, b) -> bool:
    return (
        [list(r) for r in a.values] == [list(r) for r in b.values]
        and sorted(a.errors) == sorted(b.errors)
        and a.merged == b.merged
    )


@pytest.fixture(scope="module")
def living(tmp_path_factory):
    """The demo book after its eight weekly refreshes (History and ActionLog appended to)."""
    path = tmp_path_factory.mktemp("rowcache") / "book.xlsx"
    code, out = cli("demo", "--customers", "40", "-o", str(path))
    assert code == 0, out
    return path


def fresh(living, tmp_path, name="book.xlsx"):
    path = tmp_path / name
    shutil.copy(living, path)
    cache = cache_folder(living)
    if cache.exists():
        shutil.copytree(cache, cache_folder(path))
    return path


def test_the_parts_carry_marks_that_describe_their_bytes(living):
    with zipfile.ZipFile(living) as z:
        assert z.testzip() is None  # every entry inflates to its CRC
        with Package(living) as package:
            for name in APPENDED:
                info = z.getinfo(package.sheet_part(name))
                mark = Mark.parse(info.comment)
                assert mark is not None, name
                xml = z.read(info)
                assert xml[: mark.size].endswith(b"</row>")
                assert xml[mark.size :].startswith(b"</sheetData>")
                assert zlib.crc32(xml[: mark.size]) == mark.crc
                assert b"<dimension" not in xml[:4096]  # it would go stale on the next append
    # without a dimension, readers that trust it still read every row
    frame = pd.read_excel(living, sheet_name="History", engine="openpyxl", header=None)
    with BookFile(living, cache=False) as f:
        assert len(frame) == len(f.grid("History").values)
    rows = list(openpyxl.load_workbook(living, read_only=True)["History"].iter_rows())
    assert len(rows) == len(frame)


def test_a_weekly_refresh_reads_history_through_the_cache_exactly(living, tmp_path):
    path = fresh(living, tmp_path)
    refresh(path, as_of=dt.date(2026, 12, 31), backup=False)  # reads, writes the cache
    refresh(path, as_of=dt.date(2027, 1, 7), backup=False)  # a week later: appends
    full, _ = grids(path, cache=False)
    cached, hits = grids(path, cache=True)
    assert hits == list(APPENDED)
    for name in APPENDED:
        assert same(cached[name], full[name]), name
    assert str(dt.date(2027, 1, 7)) in {str(r[0])[:10] for r in full["History"].values[-3:]}


def test_the_cache_follows_the_book_week_after_week(living, tmp_path):
    """Each refresh moves the cache up to the file it read: the next one parses only its
    own week, and a check (or a refused refresh) writes nothing beside the book."""
    path = fresh(living, tmp_path)
    shutil.rmtree(cache_folder(path))
    code, out = cli("check", str(path))
    assert code in (0, 1) and not cache_folder(path).exists(), out
    refresh(path, as_of=dt.date(2026, 12, 31), backup=False)  # no cache: reads in full
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book-cache", "book.xlsx"]
    for week in range(1, 4):
        day = dt.date(2026, 12, 31) + dt.timedelta(days=7 * week)
        with BookFile(path) as f:
            f.grid("History")
            assert f.cache_hits == ["History"]
            rows = len(f.pending[0].table) if f.pending else None
        refresh(path, as_of=day, backup=False)
        full, _ = grids(path, cache=False)
        if week > 1:  # the cache covers everything but the last refresh's rows
            assert rows == len(full["History"].values) - 40
    cached, hits = grids(path, cache=True)
    assert hits == list(APPENDED) and same(cached["History"], full["History"])


def test_a_damaged_cache_is_ignored_and_rewritten(living, tmp_path):
    path = fresh(living, tmp_path)
    grids(path, cache=True)
    for file in (cache_folder(path) / "sheets").glob("*.parquet"):
        file.write_bytes(file.read_bytes()[:100])  # truncated
    full, _ = grids(path, cache=False)
    got, hits = grids(path, cache=True)
    assert hits == []
    assert all(same(got[n], full[n]) for n in APPENDED)
    _, hits = grids(path, cache=True)  # the full read wrote it again
    assert hits == list(APPENDED)


def test_a_mark_that_lies_is_ignored(living, tmp_path):
    """A mark whose numbers do not match the bytes (any tool could have left a comment)."""
    path = fresh(living, tmp_path)
    out = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            mark = Mark.parse(info.comment)
            if mark is not None:  # same comment, but the rows were edited and recompressed
                data = data.replace(b"<v>", b"<v>1", 1)
            new = zipfile.ZipInfo(info.filename, info.date_time)
            new.comment = info.comment
            dst.writestr(new, data, zipfile.ZIP_DEFLATED)
    shutil.copytree(cache_folder(path), cache_folder(out))
    full, _ = grids(out, cache=False)
    got, hits = grids(out, cache=True)
    assert hits == []
    assert all(same(got[n], full[n]) for n in APPENDED)
    with zipfile.ZipFile(out) as z, Package(out) as package:
        info = z.getinfo(package.sheet_part("History"))
        assert AppendOnly(out, z, info).mark is None  # the writer will not trust it either


def test_a_book_libreoffice_saved_loses_its_marks_and_refreshes_in_full(living, tmp_path):
    path = fresh(living, tmp_path)
    saved = libreoffice_roundtrip(path, tmp_path / "lo")
    with zipfile.ZipFile(saved) as z:
        assert not any(Mark.parse(i.comment) for i in z.infolist())
    before, _ = grids(saved, cache=True)
    assert before["History"].values  # read in full
    refresh(saved, as_of=dt.date(2026, 12, 31), backup=False)
    full, _ = grids(saved, cache=False)
    rows = [r for r in full["History"].values if str(r[0])[:10] == "2026-12-31"]
    assert len(rows) == 40  # this refresh's snapshot, on top of everything LibreOffice kept
    assert len(full["History"].values) == len(before["History"].values) + 40
    with zipfile.ZipFile(saved) as z, Package(saved) as package:
        assert Mark.parse(z.getinfo(package.sheet_part("History")).comment) is not None


def test_an_edited_history_cell_is_read_from_the_file_not_the_cache(living, tmp_path):
    path = fresh(living, tmp_path)
    grids(path, cache=True)
    book = openpyxl.load_workbook(path)  # a person fixes a score in History (openpyxl saves)
    sheet = book["History"]
    sheet.cell(row=4, column=3).value = 12.5
    book.save(path)
    full, _ = grids(path, cache=False)
    got, hits = grids(path, cache=True)
    assert hits == [] and got["History"].values[3][2] == 12.5
    assert same(got["History"], full["History"])


def test_append_only_parts_append_like_the_whole_file_rewritten(tmp_path):
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 4))
    xml = (
        b'<?xml version="1.0"?><worksheet xmlns="x"><dimension ref="A1:A3"/><sheetData>'
        + rows.encode()
        + b'</sheetData><autoFilter ref="A1:A3"/></worksheet>'
    )
    part = segmented(xml)
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as z:
        write_raw(z, zipfile.ZipInfo("s.xml"), part)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("s.xml")
        assert z.read(info) == xml.replace(b'<dimension ref="A1:A3"/>', b"")
        opened = AppendOnly(path, z, info)
        assert opened.last_row == 3
        grown = opened.append('<row r="4"><c r="A4"><v>4</v></c></row>', 4)
    whole = zlib.decompressobj(-15).decompress(grown.data)
    assert whole.endswith(b'<row r="4"><c r="A4"><v>4</v></c></row></sheetData>'
                          b'<autoFilter ref="A1:A4"/></worksheet>')  # fmt: skip
    assert zlib.crc32(whole) == grown.crc and len(whole) == grown.size
    assert Mark.parse(grown.comment) == Mark(
        whole.index(b"</sheetData>"), Mark.parse(grown.comment).compressed, zlib.crc32(
            whole[: whole.index(b"</sheetData>")]), 4)  # fmt: skip


CELL = st.one_of(
    st.just(""),
    st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 1, 1)),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=20))
def test_the_cache_gives_back_every_value_with_its_type(rows):
    width = max((len(r) for r in rows), default=0)
    padded = [r + [""] * (width - len(r)) for r in rows]
    table, w = _encode(padded)
    back = _decode(table, len(padded), w)
    assert w == width
    assert [[(type(v), v) for v in r] for r in back.tolist()] == [
        [(type(v), v) for v in r] for r in padded
    ]


def test_a_cache_that_cannot_be_written_is_not_an_error(living, tmp_path):
    path = fresh(living, tmp_path)
    blocker = cache_folder(path)
    shutil.rmtree(blocker)
    blocker.write_text("a file where the folder would go")
    full, hits = grids(path, cache=True)
    assert hits == [] and full["History"].values
    assert isinstance(RowCache(blocker).folder, type(blocker))
    assert np.asarray(full["History"].values, dtype=object).shape[1] == 5


def test_a_number_in_a_date_column_is_written_as_the_serial_it_is(tmp_path):
    """ActionLog rewritten from rows whose dates lost their format (they read back as
    numbers) keeps the dates: 46000 is 2025-12-09, not 1970-01-01 plus 46 microseconds."""
    from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder
    from xlhealth.xlsx.styles import CellStyle

    with _blank(tmp_path) as package:
        b = SheetBuilder(package.styles, package.date1904)
        frame = pd.DataFrame(
            {"closed": pd.Series([46000.0, dt.date(2026, 1, 5), None], dtype=object)}
        )
        b.block(Block(frame, [Column("closed", "Closed", "date", CellStyle("yyyy-mm-dd"))]))
        package.set_sheet("ActionLog", NewSheet(b.xml()))
        package.save(tmp_path / "out.xlsx")
    with BookFile(tmp_path / "out.xlsx", cache=False) as f:
        column = [r[0] for r in f.grid("ActionLog").values[2:]]
    assert column[:2] == [dt.date(2025, 12, 9), dt.date(2026, 1, 5)]


def _blank(folder):
    path = folder / "blank.xlsx"
    openpyxl.Workbook().save(path)
    return Package(path)
