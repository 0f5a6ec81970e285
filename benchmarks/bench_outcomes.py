"""Benchmark of a renewal history: every decision on the ``Outcomes`` sheet back-tested.

A book of 15,000 demo customers whose login events (18M rows, Parquet, one ``Sources``
row: ``bench_sources.write_events``) live beside it, and an ``Outcomes`` sheet of about
33,000 monthly renewal decisions over five months (1–5 per customer, the churned ones
stop). Three runs, each in the same process after a warm-up:

* refresh  — the book without Outcomes: today's scores only (the baseline);
* +outcomes — refresh with the Outcomes sheet: the honest back-test scores every
              decision as of ``outcome_date − backtest_lead_days`` (round k scores every
              customer's k-th decision in one pass over the events);
* suggest  — ``xlhealth suggest`` with the Outcomes sheet: scoring, back-test, evidence,
             weight fit with folds split by customer, cut points, Suggestions sheet.

Target on a 2-core machine: suggest ≤ 2× refresh.

    python benchmarks/bench_outcomes.py                    # 15k customers, 18M events
    python benchmarks/bench_outcomes.py --customers 2000 --events 2M
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.bench_sources import book_sheets, parse_size, write_events  # noqa: E402


def outcomes_rows(customers: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """Monthly decisions over the five months before the as-of date (renewed until churned)."""
    from xlhealth.demo import data as demo_data

    rng = np.random.default_rng(seed)
    today = np.datetime64(demo_data.AS_OF, "D")
    n = len(customers)
    # the month each customer's history starts in: ~2.2 decisions a customer, as in the
    # churn simulation (32,848 renewal decisions of 14,641 accounts)
    first = rng.choice(5, n, p=[0.1, 0.1, 0.15, 0.25, 0.4])
    month = np.arange(5)
    ids, outcome, day = [], [], []
    for k in month:  # column-wise per month: who is decided this month, who churns
        who = np.flatnonzero(first <= k)
        churn = rng.random(who.size) < 0.06
        ids.append(customers["customer_id"].to_numpy()[who])
        outcome.append(np.where(churn, "churned", "renewed"))
        day.append(np.full(who.size, today - np.timedelta64(30 * (5 - k), "D")))
        first[who[churn]] = 99  # no later decisions
    return pd.DataFrame(
        {
            "customer_id": np.concatenate(ids),
            "outcome": np.concatenate(outcome),
            "outcome_date": np.concatenate(day),
        }
    )


def build(path: Path, customers: int, folder: Path, outcomes: bool) -> int:
    from xlhealth.demo.events import sources_table
    from xlhealth.sheets.template import new_workbook

    sheets = book_sheets(customers)
    n = 0
    if outcomes:
        sheets["Outcomes"] = outcomes_rows(sheets["Customers"])
        n = len(sheets["Outcomes"])
    new_workbook(path, inputs=sheets, config={"Sources": sources_table(path, folder, "parquet")})
    return n


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=15_000)
    parser.add_argument("--events", default="18M")
    args = parser.parse_args()
    from xlhealth.demo import data as demo_data
    from xlhealth.refresh import refresh
    from xlhealth.suggest_book import suggest_book

    events = parse_size(args.events)
    work = Path(tempfile.mkdtemp(prefix="xlhealth-outcomes-"))
    try:
        folder = work / "events"
        made = write_events(folder, args.customers, events, "parquet")
        plain, history = work / "plain.xlsx", work / "history.xlsx"
        build(plain, args.customers, folder, outcomes=False)
        n = build(history, args.customers, folder, outcomes=True)
        copy = work / "suggest.xlsx"
        shutil.copy(history, copy)
        refresh(plain, as_of=demo_data.AS_OF, backup=False)  # warm-up (imports, caches)
        t_plain, _ = timed(lambda: refresh(plain, as_of=demo_data.AS_OF, backup=False))
        t_out, report = timed(lambda: refresh(history, as_of=demo_data.AS_OF, backup=False))
        t_sug, _ = timed(lambda: suggest_book(copy, as_of=demo_data.AS_OF))
        honest = report.result.honest
        print(
            f"{args.customers:,} customers, {events:,} events ({made['files']} Parquet file(s), "
            f"{made['data_mb']:.0f} MB), {n:,} decisions of {honest.customers:,} customers, "
            f"{int(honest.frame['churned'].sum()):,} churned"
        )
        print(f"{'run':<12} {'s':>7} {'× refresh':>10}")
        for name, t in (("refresh", t_plain), ("+outcomes", t_out), ("suggest", t_sug)):
            print(f"{name:<12} {t:>7.2f} {t / t_plain:>10.2f}")
        print("target: suggest ≤ 2.0× refresh")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
