"""Cost of one UDF call over a whole range (target: 10,000 rows in ≤ 100 ms in Python).

The model is parsed once per distinct config (cached), so the figure is the
per-call cost once a workbook is open: rows in, column out.

    python benchmarks/bench_udfs.py [--rows 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from xlhealth import run
    from xlhealth.core.config import default_model, default_tables
    from xlhealth.demo import data as demo_data
    from xlhealth.excel import udfs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    tables = {
        k: [list(v.columns), *v.astype(object).where(v.notna(), None).values.tolist()]
        for k, v in default_tables().items()
    }
    print(
        f"{'rows':>8} {'HS_SCORE ms':>12} {'HS_REASONS ms':>14} {'HS_TIER ms':>11} "
        f"{'HS_CMI ms':>10}"
    )
    for n in args.rows:
        sheets = demo_data.generate(n)
        result = run(default_model(), sheets, as_of=demo_data.AS_OF)
        names = [m.name for m in result.model.scored_metrics]
        frame = result.values[names]
        rows = frame.astype(object).where(frame.notna(), None).values.tolist()
        scores = [[v] for v in result.summary["score"]]
        answers = sheets["Maturity"].pivot_table(
            index="customer_id", columns="factor", values="level", aggfunc="last"
        )
        levels = answers.astype(object).where(answers.notna(), None).values.tolist()
        udfs.HS_SCORE([names], rows[:2], tables["Metrics"], tables["Rules"])  # warm the cache

        def ms(fn, *a) -> float:
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                fn(*a)
                best = min(best, (time.perf_counter() - t0) * 1000)
            return best

        print(
            f"{n:>8,} {ms(udfs.HS_SCORE, [names], rows, tables['Metrics'], tables['Rules']):>12.1f}"
            f" {ms(udfs.HS_REASONS, [names], rows, tables['Metrics'], tables['Rules']):>14.1f}"
            f" {ms(udfs.HS_TIER, scores, tables['Tiers']):>11.1f}"
            f" {ms(udfs.HS_CMI, [list(answers.columns)], levels, tables['MaturityModel']):>10.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
