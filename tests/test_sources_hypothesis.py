"""Generated event tables (hypothesis), stored as CSV and Parquet: the values through a
Sources row equal the in-sheet values, for every event aggregate and one as-of per customer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sources_data import (
    AS_OF,
    DATE_TEXTS,
    ID_FORMS,
    KINDS,
    NUMBER_TEXTS,
    assert_same,
    customers_frame,
    full_model,
    in_sheet,
    through_sources,
    write,
)
from xlhealth.inputs.sources import SourceSpec

text_dates = st.one_of(
    st.sampled_from(DATE_TEXTS),
    st.integers(-30, 400).map(lambda k: (AS_OF - dt.timedelta(days=k)).isoformat()),
    st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2026, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    ),
    st.integers(1_700_000_000, 1_800_000_000).map(str),
)
ROW = ("customer_id", "date", "kind", "role", "user_id", "n", "plan", "nps")
row = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(ID_FORMS),
        "date": text_dates,
        "kind": st.sampled_from(KINDS),
        "role": st.sampled_from(["executive", "user", None]),
        "user_id": st.one_of(st.none(), st.integers(0, 12).map(lambda k: f"u{k}")),
        "n": st.one_of(
            st.sampled_from(NUMBER_TEXTS),
            st.floats(-1e6, 1e6, allow_nan=False).map(repr),
            st.integers(-5, 5).map(str),
        ),
        "plan": st.sampled_from(["gold", "Silver", None]),
        "nps": st.sampled_from(["0", "7", "10", "11", "x", None]),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(rows=st.lists(row, min_size=1, max_size=80), per_customer=st.booleans())
def test_generated_events_csv_and_parquet(tmp_path_factory, rows, per_customer):
    tmp = tmp_path_factory.mktemp("gen")
    frame = pd.DataFrame(rows, columns=list(ROW)).astype(object)
    frame = frame.where(frame.notna(), None)
    cust = customers_frame()
    model = full_model()
    as_of = AS_OF
    if per_customer:
        as_of = np.array([AS_OF] * len(cust), dtype="datetime64[D]") - np.arange(len(cust)) * 9
        as_of[-1] = np.datetime64("NaT")
    expected = in_sheet(model, cust, {"Logins": frame, "Surveys": frame}, as_of=as_of)
    for fmt in ("csv", "parquet"):
        write(frame, tmp / f"logins.{fmt}", fmt)
        specs = [
            SourceSpec("Logins", 2, f"logins.{fmt}"),
            SourceSpec("Surveys", 3, f"logins.{fmt}"),
        ]
        got = through_sources(model, cust, specs, tmp, as_of=as_of)
        assert_same(expected, got)


TYPED = ("customer_id", "date", "kind", "user_id", "n")
typed_row = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["C001", "c002 ", "C004", "C999", "1001", None]),
        "date": st.datetimes(dt.datetime(2025, 6, 1), dt.datetime(2026, 12, 31)),
        "kind": st.sampled_from(["call", "Call", None]),
        "user_id": st.integers(0, 9),
        "n": st.one_of(
            st.floats(-1e12, 1e12, allow_nan=False),
            st.floats(-1e-15, 1e-15),
            st.integers(-100, 100).map(float),
            st.just(float("nan")),
        ),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(rows=st.lists(typed_row, min_size=1, max_size=120))
def test_generated_typed_events_parquet(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("typed")
    frame = pd.DataFrame(rows, columns=list(TYPED))
    frame["customer_id"] = frame["customer_id"].astype(object)
    frame["kind"] = frame["kind"].astype(object)
    cust = customers_frame()
    model = full_model()
    write(frame, tmp / "logins.parquet", "parquet")
    got = through_sources(model, cust, [SourceSpec("Logins", 2, "logins.parquet")], tmp)
    assert_same(in_sheet(model, cust, {"Logins": frame}), got)
