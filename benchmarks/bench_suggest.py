"""Benchmark of ``xlhealth suggest``: evidence, weight fit, 5 × 4 cross-validation, cut points.

Two figures per size, each in a fresh subprocess (peak memory belongs to that size):

* ``core``: :func:`xlhealth.suggest.evidence.suggest` on N customers *all with an outcome* ×
  20 numeric metrics (bands 0/5/10, a fifth of the values missing), churn drawn from a
  weighted score — the worst case, every customer in every fit;
* ``book``: the whole pipeline on the demo generator's N customers with the 20-metric
  benchmark model (engine run with the honest back-test, then suggest on the customers
  with an outcome_date — about a quarter of them).

Target on a 2-core machine: 100k customers × 20 metrics in ≤ 60 s.

    python benchmarks/bench_suggest.py                  # 1k, 10k, 100k
    python benchmarks/bench_suggest.py --sizes 1000 5000 --no-book
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

METRICS = 20


def core_inputs(n: int, k: int = METRICS, seed: int = 0):
    import dataclasses

    import numpy as np
    import pandas as pd

    from xlhealth.core import scoring
    from xlhealth.core.config import default_tables, model_from_tables

    rng = np.random.default_rng(seed)
    names = [f"m{i:02d}" for i in range(k)]
    tables = default_tables()
    tables["Metrics"] = pd.DataFrame(
        {
            "metric": names,
            "group": "Adoption",
            "source": "Usage",
            "column": names,
            "aggregate": "value",
            "weight": 1,
        }
    )
    tables["Rules"] = pd.DataFrame(
        [
            {"metric": nm, "min": lo, "max": hi, "points": p, "label": f"{nm} {p}"}
            for nm in names
            for lo, hi, p in ((None, 30, 0), (30, 70, 5), (70, None, 10))
        ]
    )
    tables["Alerts"] = pd.DataFrame(columns=["alert", "trigger", "action", "priority"])
    model = model_from_tables(tables)
    values = pd.DataFrame(rng.uniform(0, 100, (n, k)).round(1), columns=names)
    values = values.mask(rng.random((n, k)) < 0.2)
    points = scoring.band_points(model, values).points
    true = rng.gamma(2.0, 1.0, k)
    truth = [
        dataclasses.replace(m, weight=w) for m, w in zip(model.scored_metrics, true, strict=True)
    ]
    score = scoring.weighted_score(points, truth)
    churned = rng.random(n) < 1 / (1 + np.exp(-(2.0 - 5 * score / 100)))
    return model, points, values, churned


def measure(n: int, book: bool) -> dict[str, float]:
    from xlhealth.suggest.evidence import inputs_from_honest, suggest

    model, points, values, churned = core_inputs(n)
    t0 = time.perf_counter()
    s = suggest(model, points, values, churned)
    t_core = time.perf_counter() - t0
    out = {
        "customers": n,
        "metrics": len(model.scored_metrics),
        "core_s": t_core,
        "cv_auc_today": s.cv("auc_today")["mean"],
        "cv_auc_suggested": s.cv("auc_suggested")["mean"],
        "cut_points": len(s.cut_points),
    }
    if book:
        import xlhealth as engine  # run: the core engine reading rows as inputs does
        from benchmarks.synthetic import benchmark_tables
        from xlhealth.core.config import model_from_tables
        from xlhealth.demo.data import AS_OF, generate

        model = model_from_tables(benchmark_tables())
        sheets = generate(n)
        t0 = time.perf_counter()
        result = engine.run(model, sheets, as_of=AS_OF)
        t_run = time.perf_counter() - t0
        t0 = time.perf_counter()
        if result.honest is not None:
            points, values, churned = inputs_from_honest(result.honest)
            suggest(model, points, values, churned)
        out.update(
            book_run_s=t_run,
            book_suggest_s=time.perf_counter() - t0,
            book_outcomes=len(churned) if result.honest is not None else 0,
        )
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--no-book", action="store_true", help="core figures only")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, not args.no_book)))
        return
    print(
        f"{'customers':>10} {'metrics':>7} {'core s':>7} {'AUC today':>9} {'suggested':>9} "
        f"{'cuts':>4} {'| book: outcomes':>16} {'run s':>6} {'suggest s':>9} {'peak MB':>8}"
    )
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(n)] + (["--no-book"] if args.no_book else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        book = (
            f"{r['book_outcomes']:>16,} {r['book_run_s']:>6.1f} {r['book_suggest_s']:>9.1f}"
            if "book_run_s" in r
            else f"{'-':>16} {'-':>6} {'-':>9}"
        )
        print(
            f"{r['customers']:>10,} {r['metrics']:>7} {r['core_s']:>7.1f} "
            f"{r['cv_auc_today']:>9.3f} {r['cv_auc_suggested']:>9.3f} {r['cut_points']:>4} "
            f"{book} {r['peak_mb']:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
