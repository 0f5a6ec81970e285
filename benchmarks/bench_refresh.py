"""End-to-end refresh of generated workbooks at 1k, 10k and 100k customers, against the I/O floor.

For each size a workbook is built (``xlhealth.sheets.template.new_workbook`` with
``xlhealth.demo.data``: ~45 logins and ~10 other events per customer); then, each in a
fresh process so peak memory belongs to it alone:

* refresh  — ``xlhealth.refresh.refresh`` (read, score, write, atomic replace);
* floor    — the I/O alone: read every sheet with calamine (the fastest reader here)
             and any event files with pyarrow, and write the same output tables as plain
             cells straight to sheet XML in a new .xlsx (no formatting, no charts).

Where the events go: a book nobody could open in Excel is no benchmark. When the Logins
rows exceed a worksheet (1,048,576 rows: at 100k customers there are ~4.5M), the book
holds the customers and the small sheets (Customers, Usage, Support, Surveys, Contacts,
Onboarding, Maturity, Overrides: each under the limit) and the logins go to Parquet
files beside it (one a month, ``xlhealth.demo.events``), read through a ``Sources``
row — the way such a team would set it up. Smaller sizes keep every row in the book, as
before, so their figures stay comparable; ``--events-in book|files`` forces one layout.
(Until the Sources sheet existed the 100k book held all 2.9M events in its sheets.)

Targets on a 2-core machine: 10k customers ≤ 20 s and ≤ 2× the floor; 100k customers
≤ 3 min and ≤ 2 GB peak memory.

    python benchmarks/bench_refresh.py                 # 1k, 10k, 100k
    python benchmarks/bench_refresh.py --sizes 1000 5000
    python benchmarks/bench_refresh.py --sizes 10000 --events-in files
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


EXCEL_ROWS = 1_048_576  # rows of a worksheet, the header included


def build(n: int, path: Path, events_in: str = "auto") -> dict:
    from xlhealth.demo import data as demo_data
    from xlhealth.demo.events import events_folder, sources_table, write_logins
    from xlhealth.sheets.template import new_workbook

    t0 = time.perf_counter()
    sheets = demo_data.generate(n)
    events = demo_data.event_count(sheets)
    files = events_in == "files" or (events_in == "auto" and len(sheets["Logins"]) >= EXCEL_ROWS)
    if files:
        write_logins(sheets.pop("Logins"), events_folder(path), "parquet")
    sources = sources_table(path, events_folder(path), "parquet") if files else None
    new_workbook(path, inputs=sheets, config={"Sources": sources} if files else None)
    return {
        "build_s": time.perf_counter() - t0,
        "events": events,
        "mb": path.stat().st_size / 1e6,
        "in": "files" if files else "book",
    }


def do_refresh(path: Path) -> dict:
    from xlhealth.demo import data as demo_data
    from xlhealth.refresh import refresh

    t0 = time.perf_counter()
    refresh(path, as_of=demo_data.AS_OF, backup=False)
    return {"refresh_s": time.perf_counter() - t0, "refresh_peak_mb": peak_mb()}


def floor(path: Path, out: Path) -> dict:
    """Read all sheets with calamine; write the output tables as plain sheet XML."""
    import pyarrow.parquet as pq
    import python_calamine

    from xlhealth.book.read import read_workbook
    from xlhealth.book.score import score_workbook
    from xlhealth.demo import data as demo_data
    from xlhealth.demo.events import events_folder
    from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder
    from xlhealth.xlsx.styles import StyleBook

    # the tables to write come from an untimed scoring run
    result, _ = score_workbook(read_workbook(path), demo_data.AS_OF)
    tables = {
        "Summary": result.summary,
        "Actions": result.actions,
        "Segments": result.segments,
        "History": result.history_rows,
        "Checks": result.coverage,
    }

    t0 = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = 0
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        cells += sum(len(r) for r in rows)
    folder = events_folder(path)
    if folder.is_dir():  # the logins in Parquet files beside the book
        events = pq.read_table(folder)
        cells += events.num_rows * events.num_columns
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    styles = StyleBook(
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main"><fonts count="1"><font/></fonts></styleSheet>'
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i, frame in enumerate(tables.values(), start=1):
            b = SheetBuilder(styles)
            kinds = {
                c: (
                    "number"
                    if frame[c].dtype.kind in "fiu"
                    else "date"
                    if frame[c].dtype.kind == "M"
                    else "text"
                )
                for c in frame.columns
            }
            b.block(
                Block(
                    frame,
                    [Column(str(c), str(c), kinds[c]) for c in frame.columns],
                    show_keys=False,
                )
            )
            z.writestr(f"xl/worksheets/sheet{i}.xml", b.xml())
    t_write = time.perf_counter() - t0
    return {"floor_read_s": t_read, "floor_write_s": t_write, "cells_read": cells}


def one(n: int, step: str, path: Path, events_in: str = "auto") -> dict:
    if step == "build":
        return build(n, path, events_in)
    if step == "refresh":
        return do_refresh(path)
    return floor(path, path.with_suffix(".floor.xlsx"))


def run_step(n: int, step: str, path: Path, events_in: str = "auto") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(n), step, str(path), "--events-in", events_in],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument(
        "--events-in",
        choices=["auto", "book", "files"],
        default="auto",
        help="where the logins go: auto = Parquet files once they outgrow a worksheet",
    )
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        n, step, path = args.one
        print(json.dumps(one(int(n), step, Path(path), args.events_in)))
        return
    print(
        f"{'customers':>10} {'events':>10} {'logins in':>9} {'file MB':>8} {'refresh s':>10} "
        f"{'peak MB':>8} {'floor s':>8} {'(read':>7} {'write)':>7} {'ratio':>6}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"book{n}.xlsx"
            b = run_step(n, "build", path, args.events_in)
            f = run_step(n, "floor", path)
            r = run_step(n, "refresh", path)
            floor_s = f["floor_read_s"] + f["floor_write_s"]
            print(
                f"{n:>10,} {b['events']:>10,} {b['in']:>9} {b['mb']:>8.1f} {r['refresh_s']:>10.2f} "
                f"{r['refresh_peak_mb']:>8.0f} {floor_s:>8.2f} {f['floor_read_s']:>7.2f} "
                f"{f['floor_write_s']:>7.2f} {r['refresh_s'] / floor_s:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
