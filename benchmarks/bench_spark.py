"""Refresh with login events in Spark (a ``Sources`` row ``spark://local``) against Spark's
own GROUP BY over the same table.

The book is ``bench_sources.py``'s: 10,000 demo customers without outcomes, their
``Logins`` rows (``customer_id``, ``user_id``, ``timestamp``; random order) in Parquet files
registered in a local Spark session (``local[2]``, ANSI mode) as the view ``logins`` — the
same SQL Databricks runs. Everything runs in one process (the view lives in the session),
Spark warmed up by one untimed query first; each figure is the fastest of ``--repeat``.

* floor   — Spark's own GROUP BY for the four scored Logins values (``bench_sources``'s
            ``FLOOR_SQL`` in Spark SQL), collected: the least any reader of this table spends;
* refresh — ``xlhealth.refresh.refresh`` of the book whose Sources row reads ``logins``;
* pasted  — the same book with those four values pasted (everything but the events);
* ``events s`` = refresh − pasted: what reading the warehouse adds; ``÷ floor`` is the
  target (≤ 2); ``queries`` / ``scans``: statements sent to Spark per refresh, and how many
  of them read every row of the table (the rest read only the metrics' window).

    python benchmarks/bench_spark.py                     # 10M events, 10k customers
    python benchmarks/bench_spark.py --events 1M --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.bench_sources import (  # noqa: E402
    LOGIN_METRICS,
    book_sheets,
    build_pasted,
    label,
    parse_size,
    write_events,
)

FLOOR_SPARK = """
WITH e AS (
    SELECT customer_id, user_id, CAST(`timestamp` AS DATE) AS day
    FROM logins
    WHERE `timestamp` >= TIMESTAMP_NTZ '{start} 00:00:00'
      AND `timestamp` < TIMESTAMP_NTZ '{end} 00:00:00'
),
by_user AS (SELECT customer_id, max(day) AS last FROM e GROUP BY customer_id, user_id),
by_day AS (SELECT DISTINCT customer_id, day FROM e),
users AS (
    SELECT customer_id,
        count(*) AS active_users_30d,
        count(*) FILTER (WHERE last > DATE_SUB(DATE '{as_of}', 7)) AS active_users_7d
    FROM by_user GROUP BY customer_id
),
days AS (
    SELECT customer_id,
        count(*) FILTER (WHERE day > DATE_SUB(DATE '{as_of}', 14)) AS login_days_14d,
        count(*) AS monthly_use
    FROM by_day GROUP BY customer_id
)
SELECT * FROM users JOIN days USING (customer_id)
"""


def session():
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]").appName("xlhealth-bench")
        .config("spark.ui.enabled", "false").config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.shuffle.partitions", "4").config("spark.driver.memory", "4g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def floor(spark, values_csv: Path) -> float:
    from xlhealth.demo import data as demo_data

    as_of = demo_data.AS_OF
    sql = FLOOR_SPARK.format(
        as_of=as_of.isoformat(),
        start=(as_of - dt.timedelta(days=29)).isoformat(),
        end=(as_of + dt.timedelta(days=1)).isoformat(),
    )
    t0 = time.perf_counter()
    rows = spark.sql(sql).collect()
    seconds = time.perf_counter() - t0
    import pandas as pd

    pd.DataFrame([r.asDict() for r in rows]).to_csv(values_csv, index=False)
    return seconds


def refreshed(book: Path) -> tuple[float, object]:
    from xlhealth.demo import data as demo_data
    from xlhealth.refresh import refresh

    t0 = time.perf_counter()
    report = refresh(book, as_of=demo_data.AS_OF, backup=False)
    return time.perf_counter() - t0, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="10M")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--data", type=Path, help="keep (and reuse) the Parquet files here")
    args = parser.parse_args()

    import pandas as pd

    from xlhealth.inputs.sources.spark import SparkEngine
    from xlhealth.inputs.sources.spec import COLUMNS
    from xlhealth.sheets.template import new_workbook

    n = parse_size(args.events)
    tmp = Path(tempfile.mkdtemp(prefix="xlhealth-bench-spark-"))
    data = args.data or tmp / "events"
    folder = data / f"parquet-{label(n)}"
    if not folder.is_dir():
        print(f"writing {label(n)} events to {folder} …", flush=True)
        write_events(folder, args.customers, n, "parquet")
    spark = session()
    spark.read.parquet(str(folder)).createOrReplaceTempView("logins")
    values = tmp / "floor.csv"
    floor(spark, values)  # warm-up (JIT, file listing), untimed
    floor_s = min(floor(spark, values) for _ in range(args.repeat))

    book = tmp / "spark-book.xlsx"
    row = {c: "" for c in COLUMNS} | {"sheet": "Logins", "connection": "spark://local",
                                       "query": "logins"}  # fmt: skip
    new_workbook(book, inputs=book_sheets(args.customers),
                 config={"Sources": pd.DataFrame([row], columns=list(COLUMNS))})  # fmt: skip
    pasted = tmp / "pasted.xlsx"
    build_pasted(pasted, args.customers, values)

    sent: list[str] = []
    timed: list[float] = []
    fetch = SparkEngine.fetch

    def counted(self, sql):
        t0 = time.perf_counter()
        got = fetch(self, sql)
        sent.append(sql)
        timed.append(time.perf_counter() - t0)
        return got

    SparkEngine.fetch = counted  # type: ignore[method-assign]
    runs = []
    for _ in range(args.repeat):
        sent.clear()
        timed.clear()
        seconds, report = refreshed(book)
        print("queries:", " + ".join(f"{t:.2f} s" for t in timed), flush=True)
        runs.append(seconds)
    queries = list(sent)
    pasted_s = min(refreshed(pasted)[0] for _ in range(args.repeat))
    refresh_s = min(runs)
    status = report.result.sources["status"].tolist()
    scans = sum(1 for q in queries if "FROM logins WHERE" not in q)
    a = report.result.summary.set_index("customer_id")["score"]
    b = refreshed(pasted)[1].result.summary.set_index("customer_id")["score"].reindex(a.index)
    same = bool(((a - b).abs().fillna(0) < 1e-9).all() and (a.isna() == b.isna()).all())
    events_s = refresh_s - pasted_s
    print(f"{args.customers:,} customers, {label(n)} events in local Spark (2 cores); "
          f"metrics {', '.join(LOGIN_METRICS)}")  # fmt: skip
    print(
        "| events | floor (Spark GROUP BY) | refresh | pasted | events s | events ÷ floor "
        "| queries | full scans | same scores | status |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    print(f"| {label(n)} | {floor_s:.1f} s | {refresh_s:.1f} s | {pasted_s:.1f} s "
          f"| {events_s:.1f} s | {events_s / floor_s:.2f} | {len(queries)} | {scans} "
          f"| {'yes' if same else 'no'} | {status[0]} |")  # fmt: skip


if __name__ == "__main__":
    main()
