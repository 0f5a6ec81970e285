"""Benchmark of the honest back-test: what scoring every outcome before it happened costs.

Every customer gets an outcome dated over the last two years (hundreds of distinct
as-of dates). The engine run with those outcomes (today's scores + the honest
back-test in one pass per sheet) is compared with the same run without outcomes.
Target on a 2-core machine: ≤ 2× one refresh for 10k customers.

    python benchmarks/bench_backtest.py            # 1k, 10k
    python benchmarks/bench_backtest.py --sizes 10000 50000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def measure(n: int, repeat: int) -> dict[str, float]:
    import xlhealth as engine  # run: the core engine reading rows as inputs does
    from benchmarks.synthetic import benchmark_tables
    from xlhealth.core.config import model_from_tables
    from xlhealth.demo.data import AS_OF, event_count, generate

    model = model_from_tables(benchmark_tables())
    sheets = generate(n)
    rng = np.random.default_rng(1)
    customers = sheets["Customers"].copy()
    customers["outcome"] = np.where(rng.random(n) < 0.25, "churned", "renewed")
    customers["outcome_date"] = np.datetime64(AS_OF, "D") - rng.integers(0, 730, n).astype(
        "timedelta64[D]"
    )
    with_outcomes = {**sheets, "Customers": customers}
    without = {**sheets, "Customers": customers.assign(outcome=None, outcome_date=None)}

    plain, _ = best_of(repeat, lambda: engine.run(model, without, as_of=AS_OF))
    honest, result = best_of(repeat, lambda: engine.run(model, with_outcomes, as_of=AS_OF))
    return {
        "customers": n,
        "events": event_count(sheets),
        "as_of_dates": int(result.honest.frame["as_of"].nunique()),
        "refresh_s": plain,
        "with_backtest_s": honest,
        "ratio": honest / plain,
        "honest_auc": result.honest_backtest.auc,
        "today_auc": result.backtest.auc,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'customers':>10} {'events':>10} {'dates':>6} {'refresh s':>10} "
        f"{'+backtest s':>12} {'ratio':>6}  target ≤ 2.0"
    )
    for n in args.sizes:
        r = measure(n, args.repeat)
        print(
            f"{r['customers']:>10,} {r['events']:>10,} {r['as_of_dates']:>6} "
            f"{r['refresh_s']:>10.2f} {r['with_backtest_s']:>12.2f} {r['ratio']:>6.2f}"
        )


if __name__ == "__main__":
    main()
