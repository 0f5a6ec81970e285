"""The forms computed in SQL read exactly as inputs.dates / inputs.values read them.

Each fast path of :mod:`xlhealth.inputs.sources.sql` is checked against the Python rule on
generated values, in DuckDB (PostgreSQL runs the same SQL text in test_sources_db.py):
zero-padded ISO text is mapped by its first ten characters (the time and offset never move
the day, and an impossible date stays impossible), 9-19 digit text and typed numbers of
1e8 and more are epoch values by magnitude, plain decimal text is the float Python reads,
SQL timestamps land on their calendar day, and exact sums are the correctly rounded sum.
"""

from __future__ import annotations

import math
import re

import duckdb
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlhealth.core.exactsum import exact_sums
from xlhealth.inputs.dates import parse_dates
from xlhealth.inputs.sources import sql
from xlhealth.inputs.values import parse_numbers

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day_of(values: list[object], day_first: bool = False) -> list[float]:
    days = parse_dates(pd.Series(values, dtype=object), day_first=day_first).values
    days = days.to_numpy().astype("datetime64[D]")
    return [math.nan if np.isnat(d) else float(d.astype(np.int64)) for d in days]


def sql_days(values: list[object], kind: str) -> list[float]:
    """Day per value the way a source computes it: SQL fast path, else Python on the key."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sql_type = {"text": "VARCHAR", "float": "DOUBLE", "timestamp": "TIMESTAMP"}[kind]
    con.register("v", pd.DataFrame({"x": pd.Series(values, dtype=object)}))
    mapped, fast = sql.date_parts("c", kind)
    rows = con.execute(
        f"SELECT {mapped or 'NULL'} AS k, {sql.in_range(f'({fast})') if fast else 'NULL'} AS d "
        f"FROM (SELECT CAST(x AS {sql_type}) AS c FROM v)"
    ).fetchall()
    keys = [k for k, _ in rows]
    from_keys = (
        day_of([k for k in keys if k is not None]) if any(k is not None for k in keys) else []
    )
    it = iter(from_keys)
    return [
        float(d) if d is not None else (next(it) if k is not None else math.nan) for k, d in rows
    ]


def same(a: list[float], b: list[float]) -> bool:
    return all((x == y) or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


two = st.integers(0, 99).map(lambda v: f"{v:02d}")
iso = st.builds(
    lambda y, m, d, sep, time, frac, space, tz: f"{y:04d}{sep}{m}{sep}{d}{time}{frac}{space}{tz}",
    st.integers(1890, 2300),
    two,
    two,
    st.sampled_from(["-", "/"]),
    st.one_of(
        st.just(""),
        st.builds(
            lambda t, h, mi, s: f"{t}{h}:{mi}{s}",
            st.sampled_from(["T", " "]),
            two,
            two,
            st.one_of(st.just(""), two.map(lambda v: ":" + v)),
        ),
    ),
    st.sampled_from(["", ".5", ",123456789", ".1234567890"]),
    st.sampled_from(["", " "]),
    st.sampled_from(["", "Z", "UTC", "+09", "-0530", "+09:00", "z", "JST", "+9"]),
)


@SETTINGS
@given(st.lists(iso, min_size=1, max_size=40))
def test_iso_text_is_read_by_its_first_ten_characters(texts):
    assert same(sql_days(texts, "text"), day_of(texts))
    for t in texts:  # and the SQL pattern is what Python's regex says it is
        fast = re.fullmatch(sql.ISO_TEXT.strip("^$"), t) is not None
        if fast:
            assert same(day_of([t]), day_of([t[:10]]))


digits = st.integers(1, 10**19 - 1).map(str)


@SETTINGS
@given(st.lists(st.one_of(digits, st.integers(0, 10**9).map(lambda v: f"{v:012d}")), min_size=1))
def test_epoch_text_by_magnitude(texts):
    assert same(sql_days(texts, "text"), day_of(texts))


numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e21, max_value=1e21),
    st.floats(min_value=1e8, max_value=1e20),
    st.integers(1, 3_000_000).map(float),
    st.integers(10**7, 10**8).map(float),
    st.sampled_from([60.0, 61.0, 59.99999, 2958465.0, 2958466.0, 1e20, 99999999.0, 1e11 - 0.5]),
)


@SETTINGS
@given(st.lists(numbers, min_size=1, max_size=40))
def test_numbers_in_a_date_column(values):
    assert same(sql_days(values, "float"), day_of(values))


@SETTINGS
@given(st.lists(st.datetimes(min_value=pd.Timestamp("1890-01-01").to_pydatetime(),
                             max_value=pd.Timestamp("2262-12-31").to_pydatetime()),
                min_size=1))  # fmt: skip
def test_sql_timestamps_land_on_their_calendar_day(stamps):
    assert same(sql_days(stamps, "timestamp"), day_of(stamps))


decimal = st.builds(
    lambda sign, whole, frac: f"{sign}{whole}{frac}",
    st.sampled_from(["", "-"]),
    st.integers(0, 10**15 - 1).map(str),
    st.one_of(st.just(""), st.integers(0, 10**15 - 1).map(lambda v: "." + str(v).zfill(3))),
)


@SETTINGS
@given(st.lists(decimal, min_size=1, max_size=50))
def test_decimal_text_is_the_number_python_reads(texts):
    con = duckdb.connect()
    con.register("v", pd.DataFrame({"c": pd.Series(texts, dtype=object)}))
    _, fast = sql.number_parts("c", "text", True)
    got = [r[0] for r in con.execute(f"SELECT {fast} FROM v").fetchall()]
    expected = parse_numbers(pd.Series(texts, dtype=object)).tolist()
    for t, g, e in zip(texts, got, expected, strict=True):
        if re.fullmatch(sql.NUMBER_TEXT.strip("^$"), t):
            assert g == e, t
        else:
            assert g is None


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.one_of(
            st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
            st.floats(min_value=-1e-12, max_value=1e-12, allow_nan=False),
            st.integers(-10**6, 10**6).map(float),
        )),
        min_size=1,
        max_size=200,
    )
)  # fmt: skip
def test_exact_sums_are_the_correctly_rounded_sum_in_python_and_sql(pairs):
    pos = np.array([p for p, _ in pairs])
    x = np.array([v for _, v in pairs])
    expected = [math.fsum(x[pos == p]) for p in range(6)]
    assert exact_sums(pos, x, 6).tolist() == expected
    con = duckdb.connect()
    con.register("v", pd.DataFrame({"pos": pos, "n": x}))
    chunks = ", ".join(sql.chunk_columns("n", 0))
    rows = con.execute(
        "SELECT pos, CAST(SUM(h0) AS BIGINT), CAST(SUM(g1_0) AS BIGINT), "
        "CAST(SUM(g2_0) AS BIGINT), CAST(SUM(g3_0) AS BIGINT), SUM(o0) "
        f"FROM (SELECT pos, n, {chunks} FROM v) GROUP BY pos"
    ).fetchall()
    from xlhealth.core.exactsum import combine

    for p, h, g1, g2, g3, o in rows:
        outliers = {}
        if o:
            mine = x[(pos == p)]
            a = np.abs(mine)
            odd = mine[~((mine == 0) | ((a >= 2.0**-41) & (a < 2.0**31)))]
            values, counts = np.unique(odd, return_counts=True)
            outliers = {0: list(zip(values.tolist(), counts.tolist(), strict=True))}
        assert combine([h or 0], [g1 or 0], [g2 or 0], [g3 or 0], outliers)[0] == expected[p]


email_like = st.one_of(
    st.text(st.sampled_from("aB.-_+@ ｘé9"), max_size=12),
    st.builds(lambda a, b: f"{a}@{b}", st.text(st.characters(min_codepoint=33, max_codepoint=126),
              min_size=1, max_size=8), st.text(st.characters(min_codepoint=32, max_codepoint=126),
              max_size=8)),
)  # fmt: skip


@SETTINGS
@given(st.lists(email_like, min_size=1, max_size=40))
def test_an_email_reduced_in_sql_has_the_domain_python_reads(texts):
    """Warehouses send e-mail links as ``@domain`` where SQL can tell it: the in-sheet domain
    of the reduced text is the in-sheet domain of the address (the rest is left as it is)."""
    from xlhealth.inputs.ids import email_domains

    con = duckdb.connect()
    con.register("v", pd.DataFrame({"c": pd.Series(texts, dtype=object)}))
    reduced = [r[0] for r in con.execute(f"SELECT {sql.email_domain('c')} FROM v").fetchall()]
    original = email_domains(pd.Series(texts, dtype=object)).tolist()
    assert email_domains(pd.Series(reduced, dtype=object)).tolist() == original
    assert any(r != t for r, t in zip(reduced, texts, strict=True)) or not any(
        re.fullmatch(sql.EMAIL_TEXT.strip("^$"), t) for t in texts
    )


@SETTINGS
@given(st.lists(st.integers(-(2**53), 2**53), min_size=1, max_size=40))
def test_an_integer_counted_distinct_is_its_own_text_code(values):
    """A warehouse counts an integer column's distinct values by ``CAST(x AS text)``: two
    integers share that text exactly when the sheet's normalisation merges them."""
    from xlhealth.core.text import normalise_one

    con = duckdb.connect()
    con.register("v", pd.DataFrame({"c": pd.Series(values, dtype="int64")}))
    got = [r[0] for r in con.execute("SELECT CAST(c AS VARCHAR) FROM v").fetchall()]
    assert got == [normalise_one(v) for v in values]  # as typed integers
    assert got == [normalise_one(float(v)) for v in values]  # as a sheet's numbers
