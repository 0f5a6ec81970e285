"""The fast paths of a source give the in-sheet values and the true Checks figures.

* When every metric of a source has a window on one date column, the aggregate reads only
  the rows some window reaches (the scope is pushed into the scan); a later computation
  with earlier as-of dates (the honest back-test) must widen it and find values (filter
  words, text) that only older rows hold.
* Plain-ASCII values of a ``distinct`` column are normalised in SQL (their lower case);
  any other value (spaces, full-width, an 18-character Salesforce ID, a tab) sends the
  computation through Python's normalisation.
* Checks' rows, first and last day, customers matched and unmatched rows come from one
  overview query — and, for Parquet, from the files' row-group statistics.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import band, make_model
from tests.sources_data import (
    AS_OF,
    assert_same,
    customers_frame,
    events,
    metric,
    pasted,
    recogniser,
    write,
)
from xlhealth.core.aggregate import aggregate
from xlhealth.inputs.matching import prepare_customers
from xlhealth.inputs.sources import SourceSpec, open_sources

WINDOWED = [
    metric("count_30", "count", window_days=30),
    metric("count_7_5", "count", window_days=7.5),
    metric("calls_in", "count", filter="kind in call, meeting", window_days=90),
    metric("qbr_300", "count", filter="kind=QBR", window_days=300),
    metric("users_7", "distinct", column="user_id", window_days=7),
    metric("users_90", "distinct", column="user_id", window_days=90),
    metric("days_14", "active_days", window_days=14),
    metric("total_30", "sum", column="n", window_days=30),
    metric("lo", "min", column="n", window_days=60),
    metric("last_n_90", "latest", column="n", window_days=90),
    metric("last_plan_90", "latest", column="plan", window_days=90),
]
MESSY_USERS = ["u1", "U1", " u1 ", "Ｕ１", "u2", "U2\t", "", "   ", "0012000000AbCdEIAQ",
               "0012000000AbCdE", "ユーザー", "a b", "A B", None]  # fmt: skip


def model_of(metrics: list[dict]):
    text = [band(m["metric"], None, None, 5, value="gold") for m in metrics
            if m["metric"] == "last_plan_90"]  # fmt: skip
    return make_model(metrics, text)


def windowed_events(n: int = 800, seed: int = 3, users: list | None = None) -> pd.DataFrame:
    """``events`` with QBR rows only between 200 and 290 days before AS_OF."""
    frame = events(n, seed)
    rng = np.random.default_rng(seed)
    frame.loc[frame["kind"] == "QBR", "kind"] = "email"
    old = rng.choice(n, 40, replace=False)
    frame.loc[old, "kind"] = "QBR"
    frame.loc[old, "date"] = [
        (pd.Timestamp(AS_OF) - pd.Timedelta(days=int(k))).strftime("%Y-%m-%d")
        for k in rng.integers(200, 290, len(old))
    ]
    if users is not None:
        frame["user_id"] = [users[k] for k in rng.integers(0, len(users), n)]
    return frame


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The ISO rows as typed timestamps (a warehouse export); the rest dropped."""
    stamps = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    return frame.assign(date=stamps)[stamps.notna()].reset_index(drop=True)


def per_customer_days(n: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    days = np.datetime64(AS_OF, "D") - rng.integers(190, 230, n).astype("timedelta64[D]")
    days[0] = np.datetime64("NaT")
    return days


def both_ways(model, cust, frame, path, tmp_path, as_ofs):
    """In-sheet and through one opened source, for each as-of in turn (like a refresh
    followed by its back-test)."""
    customers = prepare_customers(cust)
    tables = {"Customers": cust, "Logins": pasted("Logins", frame)}
    expected = [aggregate(model, customers, tables, a) for a in as_ofs]
    spec = SourceSpec("Logins", 2, path.name)
    with open_sources([spec], tmp_path, recogniser()) as external:
        got = [
            aggregate(model, customers, {"Customers": cust}, a, external=external) for a in as_ofs
        ]
        run = next(iter(external["Logins"]._runs.values()))
    for _ in ("cold", "warm"):  # through the per-file cache: the same, as-of by as-of
        with open_sources([spec], tmp_path, recogniser(), cache=tmp_path / "cache") as external:
            for a, plain in zip(as_ofs, got, strict=True):
                assert_same(plain, aggregate(model, customers, {"Customers": cust}, a,
                                             external=external))  # fmt: skip
    return expected, got, run


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_windowed_metrics_read_only_their_days_and_widen_for_the_backtest(tmp_path, fmt):
    cust = customers_frame()
    frame = windowed_events()
    if fmt == "parquet":
        frame = typed(frame)
    path = write(frame, tmp_path / f"logins.{fmt}", fmt)
    model = model_of(WINDOWED)
    as_ofs = [AS_OF, per_customer_days(len(cust)), AS_OF]
    expected, got, run = both_ways(model, cust, frame, path, tmp_path, as_ofs)
    for e, g in zip(expected, got, strict=True):
        assert_same(e, g)
    assert run.scope_key == "date" and run.reach == 300
    earliest = int(as_ofs[1][1:].min().astype(np.int64))
    assert run.covered[0] == earliest - 299  # widened for the back-test's dates
    assert got[0].values["qbr_300"].sum() > 0 and got[1].values["calls_in"].sum() > 0


def test_a_filter_word_only_older_rows_hold_is_found_when_the_scope_widens(tmp_path):
    cust = customers_frame()
    frame = windowed_events()
    path = write(frame, tmp_path / "logins.csv", "csv")
    model = model_of([metric("qbr_30", "count", filter="kind=QBR", window_days=30),
                        metric("count_30", "count", window_days=30)])  # fmt: skip
    older = np.array([np.datetime64(AS_OF, "D") - 230] * len(cust))
    expected, got, _ = both_ways(model, cust, frame, path, tmp_path, [AS_OF, older])
    assert got[0].values["qbr_30"].sum() == 0  # today: no QBR within 30 days
    assert got[1].values["qbr_30"].sum() > 0  # 230 days back: the QBR rows count
    for e, g in zip(expected, got, strict=True):
        assert_same(e, g)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_messy_user_ids_count_as_the_sheet_counts_them(tmp_path, fmt):
    cust = customers_frame()
    frame = windowed_events(users=MESSY_USERS)
    if fmt == "parquet":
        frame = typed(frame)
    path = write(frame, tmp_path / f"logins.{fmt}", fmt)
    model = model_of([*WINDOWED, metric("users_all", "distinct", column="user_id")])
    expected, got, run = both_ways(model, cust, frame, path, tmp_path, [AS_OF])
    assert_same(expected[0], got[0])
    assert run.unclean and "s_user_id" in run.maps  # Python normalised the messy ones
    # u1, U1, " u1 " and the full-width form are one user; "a b"/"A B" another
    assert got[0].values["users_all"].max() <= 8


def test_plain_user_ids_need_no_python(tmp_path):
    """Clean IDs: the distinct count is SQL's alone (no lookup of the users' values)."""
    cust = customers_frame()
    frame = windowed_events(users=["u1", "U1", "u2", "USER-3", "user-3", None])
    path = write(frame, tmp_path / "logins.csv", "csv")
    model = model_of(WINDOWED)
    customers = prepare_customers(cust)
    with open_sources([SourceSpec("Logins", 2, path.name)], tmp_path, recogniser()) as ext:
        got = aggregate(model, customers, {"Customers": cust}, AS_OF, external=ext)
        run = next(iter(ext["Logins"]._runs.values()))
        assert run.strings and not run.unclean and "s_user_id" not in run.maps
    expected = aggregate(model, customers, {"Customers": cust,
                                            "Logins": pasted("Logins", frame)}, AS_OF)  # fmt: skip
    assert_same(expected, got)


# ----------------------------------------------------------------------------- Checks


def expected_checks(frame: pd.DataFrame, known: set[str]) -> dict:
    ids = frame["customer_id"]
    matched = ids.isin(known)
    days = pd.to_datetime(frame["date"]).dt.date
    return {
        "rows": len(frame),
        "first": days.min(),
        "last": days.max(),
        "customers": ids[matched].nunique(),
        "unmatched": int((~matched).sum()),
    }


def stamped(n: int = 3000, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{k:03d}" for k in range(1, 41)] + ["X1", "X2"])
    start = np.datetime64("2025-03-01T00:00:00")
    seconds = rng.integers(0, 600 * 86400, n)
    return pd.DataFrame({
        "customer_id": ids[rng.integers(0, len(ids), n)],
        "user_id": [f"u{k}" for k in rng.integers(0, 50, n)],
        "date": start + seconds.astype("timedelta64[s]"),
    })  # fmt: skip


@pytest.mark.parametrize("how", ["parquet-statistics", "parquet-no-statistics", "csv"])
def test_checks_figures_of_a_source(tmp_path, how):
    frame = stamped()
    cust = pd.DataFrame({"customer_id": [f"C{k:03d}" for k in range(1, 46)], "seats": 10})
    if how == "csv":
        path = tmp_path / "logins.csv"
        frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path, index=False)
    else:
        path = tmp_path / "logins.parquet"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, path, row_group_size=500,
                       write_statistics=how == "parquet-statistics")  # fmt: skip
        groups = pq.ParquetFile(path).metadata
        has = groups.row_group(0).column(2).statistics is not None
        assert has == (how == "parquet-statistics")
    model = model_of([metric("days_14", "active_days", window_days=14)])
    with open_sources([SourceSpec("Logins", 2, path.name)], tmp_path, recogniser()) as ext:
        got = aggregate(model, prepare_customers(cust), {"Customers": cust},
                        dt.date(2026, 10, 1), external=ext)  # fmt: skip
    row = got.sources.iloc[0]
    want = expected_checks(frame, set(cust["customer_id"]))
    assert {k: row[k] for k in want} == want
    assert row["customers_without"] == len(cust) - want["customers"]
    assert any("unknown customer" in p.message and p.value in ("X1", "X2")
               for p in got.problems)  # fmt: skip


def test_typed_dates_outside_the_range_are_counted_and_left_out_of_first_last(tmp_path):
    frame = stamped(200)
    frame.loc[:2, "date"] = np.datetime64("1850-01-01T00:00:00")
    cust = pd.DataFrame({"customer_id": [f"C{k:03d}" for k in range(1, 41)], "seats": 10})
    path = tmp_path / "logins.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    model = model_of([metric("days_14", "active_days", window_days=14)])
    with open_sources([SourceSpec("Logins", 2, path.name)], tmp_path, recogniser()) as ext:
        got = aggregate(model, prepare_customers(cust), {"Customers": cust},
                        dt.date(2026, 10, 1), external=ext)  # fmt: skip
    row = got.sources.iloc[0]
    assert row["first"] == pd.to_datetime(frame["date"][3:]).dt.date.min()
    outside = [p for p in got.problems if "outside the dates" in p.message]
    assert len(outside) == 1 and "(and 2 more rows)" in outside[0].message


# ----------------------------------------------------------------------------- extra headers


def test_extra_header_rows_of_a_survey_export_are_skipped_as_in_the_sheet(tmp_path):
    """Qualtrics writes the question texts and an ImportId row under the header: pasted,
    the sheet skips them; read from files (one per month), each file's are skipped too."""
    cust = customers_frame()
    questions = {"customer_id": "Customer ID", "date": "Recorded Date", "nps": "How likely…",
                 "kind": "Type"}  # fmt: skip
    ids = {"customer_id": '{"ImportId":"QID1"}', "date": '{"ImportId":"recordedDate"}',
           "nps": '{"ImportId":"QID2"}', "kind": '{"ImportId":"QID3"}'}  # fmt: skip
    answers = [
        {"customer_id": c, "date": f"2026-{m:02d}-{d:02d}", "nps": str(n), "kind": "call"}
        for c, m, d, n in [("C001", 10, 3, 9), ("C002", 10, 9, 4), ("C001", 11, 2, 10),
                           ("c003", 11, 15, 7), ("C999", 11, 16, 8)]
    ]  # fmt: skip
    frame = pd.DataFrame([questions, ids, *answers])
    model = model_of([metric("s_nps", "latest", source="Surveys", column="nps"),
                      metric("s_n", "count", source="Surveys")])  # fmt: skip
    customers = prepare_customers(cust)
    tables = {"Customers": cust, "Surveys": pasted("Surveys", frame)}
    expected = aggregate(model, customers, tables, AS_OF)
    folder = tmp_path / "surveys"
    write(pd.DataFrame([questions, ids, *answers[:2]]), folder / "october.csv", "csv")
    write(pd.DataFrame([questions, ids, *answers[2:]]), folder / "november.csv", "csv")
    with open_sources([SourceSpec("Surveys", 2, "surveys")], tmp_path, recogniser()) as ext:
        got = aggregate(model, customers, {"Customers": cust}, AS_OF, external=ext)
    assert_same(expected, got)
    assert got.values["s_n"].sum() == 4  # five answers, one of an unknown customer
    assert got.sources["rows"].iloc[0] == 5
    skipped = [p.message for p in got.problems if "extra header row skipped" in p.message]
    assert len(skipped) == 4 and any("november.csv" in m for m in skipped)
    assert not any("not a date" in p.message for p in got.problems)
