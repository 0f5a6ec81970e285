"""A Sources folder of weekly CSV exports: the same rows in 1, 13 or 52 files.

CS teams' product-analytics exports arrive as a folder that grows by one CSV a week. The
refresh must cost what the rows cost, not the square of the number of files: each file's
first rows (the extra-header-row check) used to come from one query per file that scanned
every file in front of it (10k customers, 10M rows: 6 s as one CSV, 54–57 s as 52).

The events of ``bench_sources.write_events`` (one CSV), split into ``k`` files of equal
rows, behind one Sources row of a demo book; each refresh in a fresh process, best of
``--repeat``. ``ratio`` = refresh with k files ÷ refresh with one file (target: close to
1; the files' own overhead — one header each, one encoding pass each — is all it adds).

    python benchmarks/bench_source_files.py                      # 1M rows: 1, 13, 52 files
    python benchmarks/bench_source_files.py --events 10M --customers 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import bench_sources as bs  # noqa: E402


def split(source: Path, folder: Path, parts: int) -> None:
    """``source`` (one CSV) as ``parts`` CSV files of about equal rows in ``folder``."""
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    table = pacsv.read_csv(source)
    size = -(-table.num_rows // parts)
    for k in range(parts):
        chunk = table.slice(k * size, size)
        pacsv.write_csv(chunk, folder / f"week-{k:03d}.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="1M")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--files", type=int, nargs="+", default=[1, 13, 52])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    events = bs.parse_size(args.events)
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        root = Path(tmp)
        one = root / "one"
        bs.run_step("generate", one, args.customers, events, "csv")
        (source,) = sorted(one.glob("*.csv"))
        rows = []
        base = None
        for k in args.files:
            folder = root / f"files-{k}"
            split(source, folder, k)
            book = root / f"book-{k}.xlsx"
            bs.run_step("book", book, args.customers, folder, "csv")
            result = bs.best_of(args.repeat, "refresh", book, root / f"scores-{k}.csv")
            base = base or result["s"]
            rows.append((k, result["s"], result["s"] / base))
        print(f"{bs.label(events)} login rows, {args.customers:,} customers, CSV")
        print("| files | refresh s | ratio to one file |")
        print("|---:|---:|---:|")
        for k, seconds, ratio in rows:
            print(f"| {k} | {seconds:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
