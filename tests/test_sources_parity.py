"""Sources give exactly the in-sheet values: every aggregate kind, filter, window, matching
rule and file format, the same rows either pasted into the sheet or read from files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.sources_data import (
    AS_OF,
    assert_same,
    customers_frame,
    events,
    full_model,
    in_sheet,
    onboarding,
    through_sources,
    usage,
    write,
)
from xlhealth.inputs.sources import SourceSpec


def specs_for(paths: dict[str, str], **extra) -> list[SourceSpec]:
    return [
        SourceSpec(sheet, row, path, **extra) for row, (sheet, path) in enumerate(paths.items(), 2)
    ]


def sheets_as_text() -> dict[str, pd.DataFrame]:
    ev = events(600)
    return {"Logins": ev, "Surveys": ev, "Usage": usage(), "Onboarding": onboarding()}


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize("case_sensitive", [False, True])
def test_text_files_every_aggregate(tmp_path, fmt, case_sensitive):
    cust = customers_frame(case_sensitive)
    sheets = sheets_as_text()
    paths = {}
    for name, frame in sheets.items():
        write(frame, tmp_path / f"{name}.{fmt}", fmt)
        paths[name] = f"{name}.{fmt}"
    model = full_model()
    expected = in_sheet(model, cust, sheets)
    got = through_sources(model, cust, specs_for(paths), tmp_path)
    assert_same(expected, got)
    assert got.values["count_all"].sum() > 0 and got.values["total"].abs().sum() > 0


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-16"])
def test_encodings_are_found(tmp_path, encoding):
    cust = customers_frame()
    sheets = sheets_as_text()
    if encoding == "cp932":  # Shift_JIS has the full-width yen sign, not U+00A5
        sheets = {k: v.replace("¥1,200", "￥1,200") for k, v in sheets.items()}
    paths = {}
    for name, frame in sheets.items():
        write(frame, tmp_path / f"{name}.csv", "csv", encoding=encoding)
        paths[name] = f"{name}.csv"
    model = full_model()
    assert_same(
        in_sheet(model, cust, sheets), through_sources(model, cust, specs_for(paths), tmp_path)
    )


def test_day_first_books_read_text_dates_day_first(tmp_path):
    cust = customers_frame()
    sheets = sheets_as_text()
    for name, frame in sheets.items():
        write(frame, tmp_path / f"{name}.csv", "csv")
    model = full_model("DMY")
    paths = {name: f"{name}.csv" for name in sheets}
    expected = in_sheet(model, cust, sheets, day_first=True)
    got = through_sources(model, cust, specs_for(paths), tmp_path, day_first=True)
    assert_same(expected, got)


def typed_events(n: int, seed: int = 3, tz: str | None = None) -> pd.DataFrame:
    """Logins-like rows with typed values, as Parquet, JSON lines and databases hold them."""
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(-3 * 86400, 200 * 86400, n), "s")
    if tz:
        stamps = stamps.tz_localize(tz)
    ids = np.array(
        ["C001", " c001", "C002", "c003", "C004", "C005", "1001", "C999", None], dtype=object
    )
    n_values = rng.normal(10, 50, n)
    n_values[rng.random(n) < 0.1] = np.nan
    n_values[rng.random(n) < 0.05] = 5e9  # outside the exact-sum chunks
    return pd.DataFrame(
        {
            "customer_id": ids[rng.integers(0, len(ids), n)],
            "date": stamps,
            "kind": np.array(["call", "Call", "meeting", None], dtype=object)[
                rng.integers(0, 4, n)
            ],
            "role": np.array(["executive", "user"], dtype=object)[rng.integers(0, 2, n)],
            "user_id": rng.integers(1, 30, n),
            "n": n_values,
            "plan": np.array(["gold", "Silver", None], dtype=object)[rng.integers(0, 3, n)],
            "nps": rng.integers(-1, 12, n).astype(float),
            "flag": rng.random(n) < 0.5,
        }
    )


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_typed_files_every_aggregate(tmp_path, fmt):
    cust = customers_frame()
    ev = typed_events(800)
    sheets = {"Logins": ev, "Surveys": ev, "Usage": usage(), "Onboarding": onboarding()}
    paths = {}
    for name, frame in sheets.items():
        write(frame, tmp_path / f"{name}.{fmt}", fmt)
        paths[name] = f"{name}.{fmt}"
    model = full_model()
    if fmt == "jsonl":  # JSON has no date type: the timestamps are ISO text
        sheets = {**sheets, "Logins": _iso(ev), "Surveys": _iso(ev)}
    assert_same(
        in_sheet(model, cust, sheets), through_sources(model, cust, specs_for(paths), tmp_path)
    )


def _iso(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy().astype(object)
    out["date"] = [v.isoformat() for v in frame["date"]]
    return out


def test_timestamps_with_a_time_zone_land_on_their_utc_day(tmp_path):
    """An instant (Parquet timestamp with a zone, PostgreSQL timestamptz) has no offset as
    written: like an epoch value it is read in UTC (the in-sheet twin: its UTC wall clock)."""
    cust = customers_frame()
    ev = typed_events(500, tz="Asia/Tokyo")
    write(ev, tmp_path / "logins.parquet", "parquet")
    model = full_model()
    got = through_sources(model, cust, specs_for({"Logins": "logins.parquet"}), tmp_path)
    assert_same(in_sheet(model, cust, {"Logins": ev}), got)


def test_folder_and_glob_read_every_file_in_name_order(tmp_path):
    cust = customers_frame()
    ev = events(900, seed=5)
    parts = np.array_split(np.arange(len(ev)), 3)
    for k, part in enumerate(parts):
        write(ev.iloc[part], tmp_path / "events" / f"part-{k}.csv", "csv")
    write(usage().iloc[:7], tmp_path / "usage" / "a.csv", "csv")
    write(usage().iloc[7:], tmp_path / "usage" / "b.csv", "csv")
    (tmp_path / "events" / "README.txt").write_text("not data")
    model = full_model()
    expected = in_sheet(model, cust, {"Logins": ev, "Usage": usage()})
    for logins in ("events", "events/part-*.csv", str(tmp_path / "events" / "*.csv")):
        specs = specs_for({"Logins": logins, "Usage": "usage"})
        assert_same(expected, through_sources(model, cust, specs, tmp_path))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_append_counts_the_pasted_rows_and_the_files(tmp_path, fmt):
    cust = customers_frame()
    ev = events(700, seed=9) if fmt == "csv" else typed_events(700, seed=9)
    pasted_part, file_part = ev.iloc[:250], ev.iloc[250:]
    us = usage()
    write(file_part, tmp_path / f"logins.{fmt}", fmt)
    write(us.iloc[5:], tmp_path / f"usage.{fmt}", fmt)
    model = full_model()
    expected = in_sheet(model, cust, {"Logins": ev, "Usage": us})
    specs = specs_for({"Logins": f"logins.{fmt}", "Usage": f"usage.{fmt}"}, mode="append")
    got = through_sources(
        model, cust, specs, tmp_path, sheets={"Logins": pasted_part, "Usage": us.iloc[:5]}
    )
    assert_same(expected, got)
    replaced = through_sources(
        model, cust, specs_for({"Logins": f"logins.{fmt}"}), tmp_path,
        sheets={"Logins": pasted_part},
    )  # fmt: skip
    assert_same(in_sheet(model, cust, {"Logins": file_part}), replaced)


def test_one_as_of_date_per_customer(tmp_path):
    cust = customers_frame()
    sheets = sheets_as_text()
    for name, frame in sheets.items():
        write(frame, tmp_path / f"{name}.csv", "csv")
    n = len(cust)
    as_of = np.array([AS_OF] * n, dtype="datetime64[D]") - np.arange(n) * 17
    as_of[2] = np.datetime64("NaT")
    model = full_model()
    paths = {name: f"{name}.csv" for name in sheets}
    expected = in_sheet(model, cust, sheets, as_of=as_of)
    assert_same(expected, through_sources(model, cust, specs_for(paths), tmp_path, as_of=as_of))
