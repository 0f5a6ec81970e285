"""The per-file cache of CSV/TSV sources (``NAME-cache/sources/``): exact, and never stale.

Every parity test of the sources already runs three ways (``through_sources``: no cache,
a cold cache, a warm one). Here: each cause that must make a file be read again, a cache
that cannot be written, a killed write, tags added later from the cache itself, the ISO
day tag against the in-sheet reading, and the refresh command end to end.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sources_data import (
    AS_OF,
    assert_same,
    assert_same_run,
    customers_frame,
    events,
    full_model,
    recogniser,
)
from xlhealth.core.aggregate import aggregate
from xlhealth.inputs.matching import prepare_customers
from xlhealth.inputs.sources import SourceSpec, filecache, open_sources
from xlhealth.inputs.sources import normalise as nz


def _run(tmp_path: Path, cache: Path | None, day_first: bool = False, model=None, path="in"):
    cust = customers_frame()
    model = model or full_model()
    with open_sources([SourceSpec("Logins", 2, path)], tmp_path, recogniser(), day_first,
                      cache=cache) as external:  # fmt: skip
        return aggregate(model, prepare_customers(cust), {"Customers": cust}, AS_OF,
                         external=external)  # fmt: skip


def _weeks(tmp_path: Path, n: int = 3) -> list[Path]:
    frame = events(600, seed=11)
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    size = -(-len(frame) // n)
    for k in range(n):
        paths.append(folder / f"week-{k}.csv")
        frame.iloc[k * size : (k + 1) * size].to_csv(paths[-1], index=False)
    return paths


def _stats(result) -> tuple[int, int]:
    row = result.sources.iloc[0]
    return int(row["cached"]), int(row["fresh"])


def _lines(result) -> list[str]:
    return [p.message for p in result.problems if "from the cache" in p.message
            or "cache folder" in p.message]  # fmt: skip


def test_a_refresh_reads_only_the_files_that_changed(tmp_path):
    paths = _weeks(tmp_path)
    cache = tmp_path / "book-cache" / "sources"
    first = _run(tmp_path, cache)
    assert _stats(first) == (0, 3)
    assert len(list(cache.glob("*.parquet"))) == 3
    assert not list(cache.glob("*.tmp"))
    again = _run(tmp_path, cache)
    assert _stats(again) == (3, 0)
    assert_same_run(_run(tmp_path, None), again)
    assert again.sources.iloc[0]["cache_mb"] >= 0
    extra = events(100, seed=12)  # a fourth week arrives
    extra.to_csv(paths[0].with_name("week-3.csv"), index=False)
    after = _run(tmp_path, cache)
    assert _stats(after) == (3, 1)
    assert_same_run(_run(tmp_path, None), after)
    assert not _lines(after)  # a new or changed file is no doubt: no line on Checks


def _rewrite_same_size_and_time(path: Path) -> None:
    """Change one value of the file, keeping its size and modification time."""
    stat = path.stat()
    text = path.read_text()
    row = text.splitlines()[5]
    digit = next(i for i, ch in enumerate(row) if ch.isdigit())
    changed = row[:digit] + str((int(row[digit]) + 1) % 10) + row[digit + 1 :]
    path.write_text(text.replace(row, changed, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


@pytest.mark.parametrize("change", ["size", "time", "content"])
def test_a_changed_file_is_read_again(tmp_path, change):
    paths = _weeks(tmp_path)
    cache = tmp_path / "c"
    _run(tmp_path, cache)
    target = paths[1]
    if change == "size":
        with open(target, "a") as f:
            f.write("CUST-1,u1,2026-11-20\n")
    elif change == "time":
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    else:
        _rewrite_same_size_and_time(target)
    got = _run(tmp_path, cache)
    assert _stats(got) == (2, 1)
    assert_same_run(_run(tmp_path, None), got)
    assert _stats(_run(tmp_path, cache)) == (3, 0)


def test_same_size_and_time_but_new_content_changes_the_values(tmp_path):
    """The content hash is what catches it: the values follow the new text."""
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "e.csv"
    events(200, seed=13).to_csv(path, index=False)
    cache = tmp_path / "c"
    before = _run(tmp_path, cache)
    stat = path.stat()
    path.write_text(path.read_text().replace(",C001,", ",C002,").replace("\nC001,", "\nC002,"))
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _run(tmp_path, cache)
    assert _stats(after) == (0, 1)
    assert_same_run(_run(tmp_path, None), after)
    assert not before.values.equals(after.values)


@pytest.mark.parametrize("doubt", ["version", "rules", "settings", "truncated", "garbage"])
def test_any_doubt_reads_the_file_again_with_one_line(tmp_path, monkeypatch, doubt):
    _weeks(tmp_path)
    cache = tmp_path / "c"
    _run(tmp_path, cache)
    day_first = False
    if doubt == "version":
        monkeypatch.setattr(filecache, "FORMAT", filecache.FORMAT + 1)
    elif doubt == "rules":
        monkeypatch.setattr(filecache, "rules", lambda: "other rules")
    elif doubt == "settings":
        day_first = True  # Settings date_order DMY
    else:
        victim = sorted(cache.glob("*.parquet"))[0]
        data = victim.read_bytes()
        victim.write_bytes(data[: len(data) // 2] if doubt == "truncated" else b"\0" * len(data))
    got = _run(tmp_path, cache, day_first=day_first)
    reason = {"truncated": "unreadable", "garbage": "unreadable"}.get(doubt, doubt)
    n = 1 if doubt in ("truncated", "garbage") else 3
    assert _stats(got) == (3 - n, n)
    assert _lines(got) == [
        f"Sources row 2 (in): {n} file{'s' if n > 1 else ''} read afresh, not from the cache — "
        f"{filecache.DOUBTS[reason]}; it was rewritten"
    ]
    assert_same_run(_run(tmp_path, None, day_first=day_first), got)
    assert _stats(_run(tmp_path, cache, day_first=day_first)) == (3, 0)  # rewritten, trusted


def test_a_killed_write_leaves_nothing_trusted(tmp_path):
    """A write goes to a temporary name first: a leftover one is never read, and a cache
    file cut short at its final name has lost its footer (a doubt, read again)."""
    _weeks(tmp_path, 1)
    cache = tmp_path / "c"
    _run(tmp_path, cache)
    (parquet,) = cache.glob("*.parquet")
    leftover = parquet.with_name(parquet.name + ".999-0.tmp")
    leftover.write_bytes(b"PAR1 half")
    parquet.unlink()
    got = _run(tmp_path, cache)
    assert _stats(got) == (0, 1) and not _lines(got)
    assert_same_run(_run(tmp_path, None), got)


def test_cache_files_no_refresh_used_for_a_month_are_deleted(tmp_path):
    """An export removed from the folder leaves its cache file; it goes after 30 days
    unused (the files a refresh uses are marked used), and so do stray temporary files."""
    paths = _weeks(tmp_path)
    cache = tmp_path / "c"
    _run(tmp_path, cache)
    files = sorted(cache.glob("*.parquet"))
    month = 31 * 86_400
    for f in files:
        os.utime(f, (f.stat().st_atime - month, f.stat().st_mtime - month))
    stray = cache / "x.parquet.1-0.tmp"
    stray.write_bytes(b"half")
    os.utime(stray, (stray.stat().st_atime - 2 * 86_400, stray.stat().st_mtime - 2 * 86_400))
    paths[0].unlink()  # week 0 is gone from the folder
    got = _run(tmp_path, cache)
    assert _stats(got) == (2, 0)
    assert len(list(cache.glob("*.parquet"))) == 2 and not stray.exists()


def test_a_cache_that_cannot_be_written_reads_the_files(tmp_path):
    _weeks(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    got = _run(tmp_path, blocker / "sources")
    assert got.sources.iloc[0]["cached"] is None or pd.isna(got.sources.iloc[0]["cached"])
    assert len(_lines(got)) == 1 and "cannot be written" in _lines(got)[0]
    assert_same(got, _run(tmp_path, None))


def test_tags_wanted_later_come_from_the_cache_file(tmp_path):
    """A model that reads fewer columns writes fewer tags; a later model that needs more
    adds them to the cache files from those files, not from the CSVs."""
    _weeks(tmp_path)
    cache = tmp_path / "c"
    full = full_model()
    counts = tuple(m for m in full.metrics if m.aggregate in ("count", "count_all"))
    small = replace(full, metrics=counts)
    _run(tmp_path, cache, model=small)
    before = {p: set(pq_names(p)) for p in cache.glob("*.parquet")}
    got = _run(tmp_path, cache, model=full)
    assert _stats(got) == (3, 0)
    after = {p: set(pq_names(p)) for p in cache.glob("*.parquet")}
    assert all(after[p] > before[p] for p in before)  # more tag columns, same files
    assert_same_run(_run(tmp_path, None, model=full), got)


def test_a_date_column_read_later_as_text_is_read_again_in_full(tmp_path):
    """A column read only as a date keeps its text in the cache file only where its ISO
    day is not held (smaller, faster); a model that then reads its text (a distinct count
    of it) has those files read again from the CSVs, and counts exactly as without."""
    _weeks(tmp_path)
    cache = tmp_path / "c"
    full = full_model()
    assert _stats(_run(tmp_path, cache, model=full)) == (0, 3)
    users = next(m for m in full.metrics if m.name == "users")
    seen = replace(users, name="seen_values", column="seen")
    wider = replace(full, metrics=(*full.metrics, seen))
    got = _run(tmp_path, cache, model=wider)
    assert _stats(got) == (0, 3)
    assert_same_run(_run(tmp_path, None, model=wider), got)
    assert _stats(_run(tmp_path, cache, model=wider)) == (3, 0)
    assert _stats(_run(tmp_path, cache, model=full)) == (3, 0)  # whole text serves both


def pq_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_schema(path).names


ISO_LIKE = st.builds(
    lambda y, m, d, sep, time: f"{y:04d}{sep}{m:02d}{sep}{d:02d}{time}",
    st.integers(0, 9999),
    st.integers(0, 19),
    st.integers(0, 39),
    st.sampled_from(["-", "/"]),
    st.sampled_from(["", " 12:30", "T23:59:59", " 00:00:00.123+09:00", "Z", "T25:00"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ISO_LIKE, min_size=1, max_size=40))
def test_the_iso_day_tag_is_the_in_sheet_day(values):
    """The ``v`` tag (a real day in range, else NULL and read by Python as before) equals
    the day the in-sheet reader gives the same text, for any zero-padded year-first text."""
    con = duckdb.connect()
    con.register("t", pd.DataFrame({"c": pd.Series(values, dtype=object)}))
    got = [r[0] for r in con.execute(f"SELECT {filecache.tag_sql('v', 'c')} FROM t").fetchall()]
    keys = pd.Series([v[:10] for v in values], dtype=object)
    read = nz.dates("Logins", "date", keys, False)
    tag = [r[0] for r in con.execute(f"SELECT {filecache.tag_sql('z', 'c')} FROM t").fetchall()]
    for value, day, expected, form in zip(values, got, read.days, tag, strict=True):
        if day is not None:
            assert form == 1 and day == expected, value
        elif form == 1 and not np.isnan(expected):
            pytest.fail(f"{value}: SQL left out a day Python reads ({expected})")


def test_refresh_keeps_the_cache_beside_the_book_and_no_cache_skips_it(tmp_path):
    """The CLI end to end: the first refresh writes NAME-cache/sources/, the second reads
    it (Checks says so), ``--no-cache`` and Settings ``source_cache`` no read the CSV."""
    from tests.sources_data import write
    from tests.workbooks import cell_values, cli, sheet_frame
    from xlhealth.demo import data as demo_data
    from xlhealth.sheets.template import new_workbook

    as_of = dt.date(2026, 11, 20)
    frames = demo_data.generate(40, "en", as_of=as_of)
    write(frames["Logins"], tmp_path / "exports" / "logins.csv", "csv")
    sources = pd.DataFrame([["Logins", "exports/*.csv", "", "", "", "", ""]],
                           columns=["sheet", "path", "format", "encoding", "mode", "connection",
                                    "query"])  # fmt: skip
    book = tmp_path / "book.xlsx"
    rest = {k: v for k, v in frames.items() if k != "Logins"}
    new_workbook(book, inputs=rest, config={"Sources": sources})
    folder = tmp_path / "book-cache" / "sources"

    def refresh(*extra: str) -> tuple[pd.DataFrame, list]:
        code, output = cli("refresh", str(book), "--as-of", as_of.isoformat(), "--no-backup",
                           *extra)  # fmt: skip
        assert code == 0, output
        checks = cell_values(book, ["Checks"])["Checks"]
        header = next(r for r in checks if "Files from cache" in r)
        row = checks[checks.index(header) + 1]
        return sheet_frame(book, "Summary"), dict(zip(header, row, strict=False))

    code, output = cli("check", str(book), "--as-of", as_of.isoformat())
    assert code == 0, output
    assert not folder.exists()  # check writes nothing, not even beside the book
    first, said = refresh()
    assert len(list(folder.glob("*.parquet"))) == 1
    assert (said["Files from cache"], said["Files read afresh"]) == (0, 1)
    second, said = refresh()
    assert (said["Files from cache"], said["Files read afresh"]) == (1, 0)
    assert said["Cache MB"] is not None
    pd.testing.assert_frame_equal(first, second)
    write(frames["Logins"].iloc[:5], tmp_path / "exports" / "week-2.csv", "csv")
    third, said = refresh()
    assert (said["Files from cache"], said["Files read afresh"]) == (1, 1)
    stamp = {p: p.stat().st_mtime_ns for p in folder.glob("*.parquet")}
    plain, said = refresh("--no-cache")
    assert said["Files from cache"] in (None, "") and said["Files read afresh"] in (None, "")
    pd.testing.assert_frame_equal(third, plain)
    assert {p: p.stat().st_mtime_ns for p in folder.glob("*.parquet")} == stamp  # untouched


def test_settings_source_cache_no_turns_it_off():
    from xlhealth.inputs.sources import cache_wanted

    model = full_model()
    assert cache_wanted(model)
    for value in ("no", "No", "false", "いいえ"):
        off = replace(model, settings=replace(model.settings, extra={"source_cache": value}))
        assert not cache_wanted(off)
    on = replace(model, settings=replace(model.settings, extra={"source_cache": "yes"}))
    assert cache_wanted(on)


HEADER_NAME = st.one_of(
    st.text(alphabet=st.sampled_from(list("abcXYZ_ 1é日,;\t\"'#.-")), max_size=8),
    st.sampled_from(["ID", "id", "Date", "date", "user id", "column0", "a_1"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(HEADER_NAME, min_size=1, max_size=6), st.sampled_from([",", ";", "\t"]))
def test_header_names_are_what_duckdb_names_the_columns(tmp_path_factory, names, separator):
    """A new file's columns come from its header line without asking DuckDB only when
    DuckDB would name them exactly so (a DESCRIBE per file cost ~15 ms; 52 files a year)."""
    import csv
    import io

    from xlhealth.inputs.sources.cachedfiles import header_names
    from xlhealth.inputs.sources.database import FILE_COLUMN, csv_reader, literal

    text = io.StringIO()
    writer = csv.writer(text, delimiter=separator, lineterminator="\n")
    writer.writerow(names)
    writer.writerow(["1"] * len(names))
    path = tmp_path_factory.mktemp("h") / "h.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    header = text.getvalue().split("\n", 1)[0]
    fast = header_names(header, separator)
    if fast is None:
        return
    con = duckdb.connect()
    reader = csv_reader(f"[{literal(str(path))}]", separator)
    described = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    assert fast == [n for n in described if n != FILE_COLUMN]


def test_ordinary_headers_take_the_fast_path():
    from xlhealth.inputs.sources.cachedfiles import header_names

    assert header_names('"customer_id","user_id","timestamp"', ",") == [
        "customer_id", "user_id", "timestamp"]  # fmt: skip
    assert header_names("Account ID;Close Date;Stage", ";") == ["Account ID", "Close Date", "Stage"]
    assert header_names("取引先 ID\t完了予定日", "\t") == ["取引先 ID", "完了予定日"]
    for odd in ("id,ID", "a,,b", " a,b", 'a,"b', "a,a"):
        assert header_names(odd, ",") is None, odd  # DuckDB is asked


def test_two_sources_on_the_same_files_never_lose_each_others_tags(tmp_path):
    """Two engines over the same CSVs, interleaved as a refresh and its back-test
    interleave sources: each adds the tags it needs, one reads a date column in full after
    the other kept it in part — every query of both keeps working, on the same values."""
    from xlhealth.inputs.sources.cachedfiles import files_engine
    from xlhealth.inputs.sources.filecache import SourceCache
    from xlhealth.inputs.sources.files import resolve

    _weeks(tmp_path)
    cache = SourceCache(tmp_path / "c")
    spec = SourceSpec("Logins", 2, "in")

    def engine(folder: str):
        fileset = resolve("in", "auto", tmp_path)
        work = tmp_path / folder
        work.mkdir(exist_ok=True)
        return files_engine(fileset, spec, cache, work, tmp_path, False)[0]

    def days(e) -> list:
        v = e.derived("date", "v")
        z = e.derived("date", "z")
        got = e.fetch(f"SELECT COUNT({v}) AS n, SUM({z}) AS z FROM {e.relation}")
        return [int(got["n"][0]), int(got["z"][0])]

    def plain(e) -> int:
        w = e.derived("user_id", "w")
        got = e.fetch(f"SELECT COUNT(*) AS n FROM {e.relation} WHERE {w}")
        return int(got["n"][0])

    def dates(e) -> int:
        got = e.fetch(f'SELECT COUNT(DISTINCT "date") AS n FROM {e.relation}')
        return int(got["n"][0])

    one = engine("one")
    one.reads({"user_id", "n"}, {"date"})
    first = days(one)
    assert first[0] > 0
    two = engine("two")  # opened after one wrote: its files are held
    two.reads({"user_id"}, set())  # reads no date: a file keeping it in part serves it
    assert two.fresh == 0
    users = plain(two)
    assert two.fresh == 0
    assert days(one) == first  # one reads on: two kept its tags
    full = engine("three")  # reads "date" in full: the files are read again
    full.reads({"date"}, set())
    full.derived("date", "z")
    n_dates = dates(full)
    assert days(one) == first and plain(two) == users  # nobody lost a tag
    assert full.fresh == 3
    import duckdb as db

    con = db.connect()
    direct = con.execute(f"SELECT COUNT(DISTINCT date) FROM read_csv('{tmp_path}/in/*.csv', "
                         "all_varchar = true)").fetchone()[0]  # fmt: skip
    assert n_dates == direct
    for e in (one, two, full):
        e.close()
