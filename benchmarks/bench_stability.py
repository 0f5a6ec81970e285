"""Tier stability against honest AUC: weekly refreshes of steady customers with noisy counts.

``xlhealth.demo.steady``: customers whose behaviour rates are stable, counted over 28 days
(so each count wobbles by its square root from week to week), a known 8% who really fall,
monthly renewal decisions. Each ``tier_hysteresis`` is replayed over the same weeks with
History growing as in a real book; printed per setting: the share of customers whose tier
changed week on week and over four weeks, the honest AUC of the score and of the tier as
shown at each decision, and ``score_drop``'s precision and recall against the generator's
truth (a real fall in the 35 days before).

    python benchmarks/bench_stability.py                  # 2,000 customers, 16 weeks
    python benchmarks/bench_stability.py --customers 5000 --margins 0 1 2 3 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=24)
    parser.add_argument("--margins", type=float, nargs="+", default=[0, 2, 5])
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    from xlhealth.demo.steady import WARM_UP, replay, steady

    st = steady(args.customers, args.weeks, seed=args.seed)
    churned = int((st.outcomes["outcome"] == "churned").sum())
    print(f"{args.customers:,} customers, {len(st.logins):,} events, {args.weeks} weekly "
          f"refreshes, {int((~np.isnat(st.fall_day)).sum()):,} real fallers, "
          f"{len(st.outcomes):,} monthly decisions ({churned:,} churned)")  # fmt: skip
    print(f"measured over the last {args.weeks - WARM_UP} weeks (after {WARM_UP} weeks of History)")
    print(f"{'h':>4} {'tier chg/wk':>11} {'4 wk':>6} {'AUC score':>9} {'AUC tier':>8} "
          f"{'tier fell ≤14d':>14} {'≤28d':>6} {'drop fired':>10} {'precision':>9} {'recall':>7} "
          f"{'s':>6}")  # fmt: skip
    from xlhealth.core import alerts

    noise_z = alerts.NOISE_Z
    runs = [(h, noise_z) for h in args.margins] + [(0.0, 0.0)]  # last: no noise rule
    for h, z in runs:
        alerts.NOISE_Z = z
        t0 = time.perf_counter()
        r = replay(st, h)
        name = f"{h:g}" if z else f"{h:g}*"
        print(
            f"{name:>4} {np.mean(r.tier_changes):>11.1%} {np.mean(r.tier_changes_4w):>6.1%} "
            f"{r.auc:>9.3f} {r.tier_auc:>8.3f} "
            f"{f'{r.tier_followed}/{r.fallers}':>14} {r.tier_followed_28:>6} "
            f"{r.drops_fired:>10,} "
            f"{r.drops_true / max(r.drops_fired, 1):>9.0%} "
            f"{r.fallers_caught / max(r.fallers, 1):>7.0%} {time.perf_counter() - t0:>6.1f}"
        )
    alerts.NOISE_Z = noise_z
    print(f"* score_drop without the noise rule (NOISE_Z = {noise_z:g} in the others)")


if __name__ == "__main__":
    main()
