"""What the live formulas cost: refresh time and file size with and without them, and the
time LibreOffice takes to load and recalculate every formula.

A demo book of each size is built once; copies are refreshed in their own processes, once
as refresh writes them (Summary's scores as formulas over Values) and once with the live
formulas turned off (values only, as before). Target (issue 21): the refresh stays within
1.2× of the values-only one.

    python benchmarks/bench_live.py
    python benchmarks/bench_live.py --customers 1000 10000 --libreoffice
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CODE = """
import sys, time
sys.path.insert(0, sys.argv[3])
import xlhealth.refresh as r
from xlhealth.demo import data
if sys.argv[2] == "values":
    r.config_tables = lambda sheets: None  # no Values sheet: Summary holds values only
t = time.perf_counter()
r.refresh(sys.argv[1], as_of=data.AS_OF, backup=False)
print(time.perf_counter() - t)
"""


def timed(path: Path, mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", CODE, str(path), mode, str(ROOT)],
                         check=True, capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def recalculated_in_libreoffice(path: Path, folder: Path) -> tuple[float, float]:
    from tests.workbooks import libreoffice_recalculated, libreoffice_roundtrip

    start = time.perf_counter()
    libreoffice_roundtrip(path, folder / "cached")
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    libreoffice_recalculated(path, folder / "recalculated")
    return loaded, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--libreoffice", action="store_true", help="also time LibreOffice")
    args = parser.parse_args()
    from xlhealth.demo import data as demo_data
    from xlhealth.sheets.template import new_workbook

    print(f"{'customers':>10} {'values s':>9} {'live s':>7} {'ratio':>6} {'values MB':>10} "
          f"{'live MB':>8}" + (f" {'LO load s':>10} {'LO recalc s':>12}" if args.libreoffice
                               else "") + "   target ≤ 1.2")  # fmt: skip
    for n in args.customers:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            base = folder / "base.xlsx"
            new_workbook(base, inputs=demo_data.generate(n))
            times, sizes = {}, {}
            for mode in ("values", "live"):
                best = float("inf")
                for k in range(args.repeat):
                    copy = folder / f"{mode}-{k}.xlsx"
                    shutil.copy(base, copy)
                    best = min(best, timed(copy, mode))
                times[mode], sizes[mode] = best, copy.stat().st_size / 1e6
            line = (f"{n:>10,} {times['values']:>9.2f} {times['live']:>7.2f} "
                    f"{times['live'] / times['values']:>6.2f} {sizes['values']:>10.1f} "
                    f"{sizes['live']:>8.1f}")  # fmt: skip
            if args.libreoffice:
                loaded, recalculated = recalculated_in_libreoffice(copy, folder / "lo")
                line += f" {loaded:>10.1f} {recalculated:>12.1f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
