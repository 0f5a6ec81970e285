"""Benchmark of the pure core: aggregation and scoring at 1k, 10k and 100k customers.

Each size runs in a fresh subprocess so peak memory (max RSS) belongs to that
size alone. Targets on a 2-core machine: 100k customers × 20 metrics scored in
≤ 2 s; aggregation of 3M events in ≤ 10 s.

    python benchmarks/bench_core.py            # 1k, 10k, 100k
    python benchmarks/bench_core.py --sizes 1000 5000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def measure(n: int) -> dict[str, float]:
    import xlhealth as engine  # run: the core engine reading rows as inputs does
    from benchmarks.synthetic import benchmark_tables
    from xlhealth.core import scoring
    from xlhealth.core.aggregate import aggregate
    from xlhealth.core.config import model_from_tables
    from xlhealth.demo.data import AS_OF, event_count, generate
    from xlhealth.inputs.matching import prepare_customers

    model = model_from_tables(benchmark_tables())
    sheets = generate(n)
    events = event_count(sheets)

    t0 = time.perf_counter()
    customers = prepare_customers(sheets["Customers"])
    agg = aggregate(model, customers, sheets, AS_OF)
    t_agg = time.perf_counter() - t0

    t0 = time.perf_counter()
    pts = scoring.band_points(model, agg.values, set(agg.unavailable))
    score = scoring.weighted_score(pts.points, model.scored_metrics)
    scoring.group_scores(pts.points, model)
    scoring.assign_tiers(score, model.tiers)
    scoring.completeness(pts.state)
    scoring.reasons(pts, model)
    t_score = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine.run(model, sheets, as_of=AS_OF)
    t_run = time.perf_counter() - t0

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "customers": n,
        "metrics": len(model.scored_metrics),
        "events": events,
        "aggregate_s": t_agg,
        "score_s": t_score,
        "run_s": t_run,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    header = (
        f"{'customers':>10} {'metrics':>7} {'events':>10} {'aggregate s':>11} "
        f"{'events/s':>11} {'score s':>8} {'customers/s':>12} {'full run s':>10} "
        f"{'peak MB':>8}"
    )
    print(header)
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], check=True, capture_output=True, text=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['customers']:>10,} {r['metrics']:>7} {r['events']:>10,} "
            f"{r['aggregate_s']:>11.2f} {r['events'] / r['aggregate_s']:>11,.0f} "
            f"{r['score_s']:>8.3f} {r['customers'] / r['score_s']:>12,.0f} "
            f"{r['run_s']:>10.2f} {r['peak_mb']:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
