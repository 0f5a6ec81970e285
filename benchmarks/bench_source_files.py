"""A Sources folder of weekly CSV exports: the number of files, and the weekly refresh.

CS teams' product-analytics exports arrive as a folder that grows by one CSV a week. The
same events (``bench_sources.write_events``) as 1, 12, 52 or 260 files behind one Sources
row of a demo book; each refresh in a fresh process, best of ``--repeat``:

* **no cache** — ``refresh --no-cache``: every CSV parsed by every refresh (as before the
  per-file cache);
* **first** — the first refresh with the cache (``NAME-cache/sources/`` emptied before
  each run): reads every CSV once and writes its typed, tagged Parquet copy;
* **cached** — a refresh when no file changed: every file from its cache file;
* **Parquet** — the same rows as the same number of Parquet files (typed timestamps).

Then the weekly case: 52 weekly files, refreshed once; a 53rd file arrives; refresh again
— beside the same 52 → 53 files as Parquet. Targets (2-core machine): the refresh after a
new file ≤ 1.3 × the Parquet refresh; the first refresh ≤ 1.1 × the refresh without the
cache; cache on disk ≤ the CSVs' size; refresh time does not grow with the number of files.

    python benchmarks/bench_source_files.py                      # 1M rows, 10k customers
    python benchmarks/bench_source_files.py --events 10M --files 1 12 52 260
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import bench_sources as bs  # noqa: E402


def split(source: Path, folder: Path, parts: int, fmt: str = "csv", extra: int = 0) -> int:
    """``source`` (one CSV) as ``parts`` files of about equal rows in ``folder``; with
    ``extra``, that many more rows (of the same export) arrive as one more file later —
    returned: the rows of each file."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = pacsv.read_csv(source)
    size = -(-(table.num_rows - extra) // parts)
    for k in range(parts + (1 if extra else 0)):
        chunk = table.slice(k * size, size if k < parts else extra)
        name = folder / f"week-{k:03d}.{fmt}"
        if fmt == "csv":
            pacsv.write_csv(chunk, name)
        else:
            pq.write_table(chunk, name, compression="zstd")
    return size


def refresh(book: Path, step: str, repeat: int, cold: bool = False) -> dict:
    """Best of ``repeat`` refreshes of ``book`` (``cold``: its cache emptied before each)."""
    cache = book.with_name(f"{book.stem}-cache")
    runs = []
    for _ in range(max(1, repeat)):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        runs.append(bs.run_step(step, book, book.with_suffix(".scores.csv")))
    fastest = min(runs, key=lambda r: r["s"])
    return fastest | {"peak_mb": max(r["peak_mb"] for r in runs)}


def megabytes(folder: Path, pattern: str) -> float:
    return sum(p.stat().st_size for p in folder.glob(pattern)) / 1e6


def files_axis(root: Path, source: Path, args: argparse.Namespace) -> list[dict]:
    rows = []
    for k in args.files:
        csv_folder, pq_folder = root / f"csv-{k}", root / f"parquet-{k}"
        split(source, csv_folder, k)
        split(source, pq_folder, k, "parquet")
        book, pq_book = root / f"book-{k}.xlsx", root / f"pq-book-{k}.xlsx"
        bs.run_step("book", book, args.customers, csv_folder, "csv")
        bs.run_step("book", pq_book, args.customers, pq_folder, "parquet")
        plain = refresh(book, "refresh-no-cache", args.repeat)
        first = refresh(book, "refresh", args.repeat, cold=True)
        cached = refresh(book, "refresh", args.repeat)
        parquet = refresh(pq_book, "refresh", args.repeat)
        cache = book.with_name(f"{book.stem}-cache") / "sources"
        rows.append({
            "files": k, "plain": plain, "first": first, "cached": cached, "parquet": parquet,
            "csv_mb": megabytes(csv_folder, "*.csv"), "cache_mb": megabytes(cache, "*.parquet"),
        })  # fmt: skip
        print(f"  {k} files done", file=sys.stderr)
    return rows


def weekly(root: Path, source: Path, args: argparse.Namespace) -> dict:
    """52 weekly files, then a 53rd: the refresh a CS team runs every week."""
    import pyarrow.csv as pacsv

    total = pacsv.read_csv(source).num_rows
    extra = total // 53
    out = {}
    for fmt in ("csv", "parquet"):
        folder = root / f"weekly-{fmt}"
        split(source, folder, 52, fmt, extra)
        new = folder / f"week-052.{fmt}"
        held = new.rename(new.with_suffix(".later"))
        book = root / f"weekly-{fmt}.xlsx"
        bs.run_step("book", book, args.customers, folder, fmt)
        out[f"{fmt}_52"] = refresh(book, "refresh", 1, cold=True)
        held.rename(new)
        out[f"{fmt}_53"] = refresh(book, "refresh", 1)  # the cache of 52 files, one new file
        if args.repeat > 1:  # again, as a fresh week: 52 cached, the 53rd read
            runs = [out[f"{fmt}_53"]]
            cache = book.with_name(f"{book.stem}-cache") / "sources"
            for _ in range(args.repeat - 1):
                if fmt == "csv":  # the newest week's cache file goes: it is new again
                    newest = max(cache.glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns)
                    newest.unlink()
                runs.append(refresh(book, "refresh", 1))
            out[f"{fmt}_53"] = min(runs, key=lambda r: r["s"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="1M")
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--files", type=int, nargs="+", default=[1, 12, 52, 260])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-weekly", action="store_true")
    args = parser.parse_args()
    events = bs.parse_size(args.events)
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        root = Path(tmp)
        one = root / "one"
        bs.run_step("generate", one, args.customers, events, "csv")
        (source,) = sorted(one.glob("*.csv"))
        rows = files_axis(root, source, args)
        week = None if args.no_weekly else weekly(root, source, args)
    print(f"{bs.label(events)} login rows, {args.customers:,} customers; refresh seconds "
          f"(best of {args.repeat}), peak memory of the cached refresh")  # fmt: skip
    print(
        "| files | no cache | first (writes cache) | cached | Parquet | cached ÷ Parquet "
        "| first ÷ no cache | CSV MB | cache MB | peak MB (no cache → cached) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        p, f, c, q = (r[k]["s"] for k in ("plain", "first", "cached", "parquet"))
        print(f"| {r['files']} | {p:.1f} | {f:.1f} | {c:.1f} | {q:.1f} | {c / q:.2f} | "
              f"{f / p:.2f} | {r['csv_mb']:,.0f} | {r['cache_mb']:,.0f} | "
              f"{r['plain']['peak_mb']:,.0f} → {r['cached']['peak_mb']:,.0f} |")  # fmt: skip
    if week:
        c52, c53 = week["csv_52"]["s"], week["csv_53"]["s"]
        p52, p53 = week["parquet_52"]["s"], week["parquet_53"]["s"]
        print("\nWeekly: 52 files, then a 53rd arrives")
        print("| | CSV (cache) | Parquet | CSV ÷ Parquet |")
        print("|---|---:|---:|---:|")
        print(f"| first refresh, 52 files | {c52:.1f} | {p52:.1f} | {c52 / p52:.2f} |")
        print(f"| after the 53rd file | {c53:.1f} | {p53:.1f} | {c53 / p53:.2f} |")


if __name__ == "__main__":
    main()
