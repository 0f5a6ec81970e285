"""Values as exports write them: dates, website domains, organisation keys, numbers.

Example tables pin every form the contract lists ("Raw exports, pasted unchanged");
hypothesis checks round trips, idempotence and that the code-point fast path for ISO
text agrees with the regex path.

Benchmark (not part of the test run): ``.venv/bin/python tests/test_values.py`` parses
1,000,000 mixed timestamps with 10,000 distinct values (ISO Z, US with AM/PM, Japanese,
epoch seconds and milliseconds, datetime cells) and, for scale, 1,000,000 all-distinct
ISO timestamps, and prints the seconds each took.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlhealth.inputs import date_text
from xlhealth.inputs import dates as dates_module
from xlhealth.inputs.dates import ParsedDates, parse_dates
from xlhealth.inputs.values import domain_from_website, organisation_key, parse_numbers

T = pd.Timestamp
NAT = pd.NaT
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JST = dt.timezone(dt.timedelta(hours=9))
CDT = dt.timezone(dt.timedelta(hours=-5))


def parse_one(value: object, **options: bool) -> pd.Timestamp:
    return parse_dates(pd.Series([value], dtype=object), **options).values.iloc[0]


def column(values: list) -> pd.Series:
    return pd.Series(values, dtype=object)


# --------------------------------------------------------------------------- dates: forms

CONTRACT_FORMS = [
    # ISO with Z or an offset: the wall clock as written (the offset is dropped)
    ("2026-09-05T08:07:00Z", T("2026-09-05 08:07:00")),
    ("2026-09-05T17:07:00+09:00", T("2026-09-05 17:07:00")),
    ("2026-09-05 08:07:00.123456+00:00", T("2026-09-05 08:07:00")),
    ("2026-09-05T08:07:00.999Z", T("2026-09-05 08:07:00")),
    ("2026-09-05T08:07Z", T("2026-09-05 08:07:00")),
    ("2026-09-05 08:07:00 +0900", T("2026-09-05 08:07:00")),
    ("2026-09-05 08:07:00 UTC", T("2026-09-05 08:07:00")),
    ("2026-09-05T08:07:00", T("2026-09-05 08:07:00")),
    ("2026-09-05", T("2026-09-05")),
    # Salesforce / HubSpot / SurveyMonkey
    ("2026/09/05 8:07", T("2026-09-05 08:07:00")),
    ("2026/9/5", T("2026-09-05")),
    ("9/5/2026 2:02 PM", T("2026-09-05 14:02:00")),
    ("9/5/2026 12:02 AM", T("2026-09-05 00:02:00")),
    ("9/5/2026 12:02 PM", T("2026-09-05 12:02:00")),
    ("09/05/2026 08:07:00 am", T("2026-09-05 08:07:00")),
    ("9/5/2026", T("2026-09-05")),
    # Jira
    ("05/Sep/26 3:42 PM", T("2026-09-05 15:42:00")),
    ("05/sep/26 3:42 pm", T("2026-09-05 15:42:00")),
    # month names
    ("Sep 5, 2026", T("2026-09-05")),
    ("September 5, 2026", T("2026-09-05")),
    ("Sept. 5 2026", T("2026-09-05")),
    ("5 Sep 2026", T("2026-09-05")),
    ("5-Sep-2026", T("2026-09-05")),
    ("5th September 2026", T("2026-09-05")),
    ("Sep 5, 2026 at 3:42 PM", T("2026-09-05 15:42:00")),
    ("Sat, Sep 5, 2026", T("2026-09-05")),
    ("2026-Sep-05", T("2026-09-05")),
    ("Sat Sep 05 2026 08:07:00 GMT+0900 (Japan Standard Time)", T("2026-09-05 08:07:00")),
    # Japanese
    ("2026年9月5日", T("2026-09-05")),
    ("2026年09月05日", T("2026-09-05")),
    ("2026年9月5日 8時07分", T("2026-09-05 08:07:00")),
    ("2026年9月5日 8時7分30秒", T("2026-09-05 08:07:30")),
    ("2026年9月5日(土) 午後2時02分", T("2026-09-05 14:02:00")),
    ("2026年9月5日 午前0時30分", T("2026-09-05 00:30:00")),
    ("2026/9/5(土)", T("2026-09-05")),
    ("2026/9/5（土） 8:07", T("2026-09-05 08:07:00")),
    ("2026/9/5 (Sat)", T("2026-09-05")),
    # European dotted: always day first
    ("31.03.2026", T("2026-03-31")),
    ("5.9.2026 08:07", T("2026-09-05 08:07:00")),
    # full width (NFKC first)
    ("２０２６－０９－０５", T("2026-09-05")),
    ("２０２６／９／５　８：０７", T("2026-09-05 08:07:00")),
    ("２０２６年９月５日", T("2026-09-05")),
    # padding, spacing, dashes
    ("  2026-09-05  ", T("2026-09-05")),
    ("2026\u20109\u20105", T("2026-09-05")),
    ("Sep  5,   2026", T("2026-09-05")),
]


@pytest.mark.parametrize(("text", "expected"), CONTRACT_FORMS)
def test_text_forms_the_contract_lists(text: str, expected: pd.Timestamp) -> None:
    assert parse_one(text) == expected


def test_the_whole_table_as_one_column() -> None:
    texts = [text for text, _ in CONTRACT_FORMS]
    got = parse_dates(column(texts))
    assert got.values.tolist() == [expected for _, expected in CONTRACT_FORMS]
    assert not got.not_a_date.any()
    assert not got.out_of_range.any()


def test_result_is_seconds_on_the_input_index() -> None:
    raw = pd.Series(["2026-09-05", None, "x"], index=[10, 20, 30], name="opened", dtype=object)
    got = parse_dates(raw)
    assert isinstance(got, ParsedDates)
    assert got.values.dtype == "datetime64[s]"
    assert got.values.index.tolist() == [10, 20, 30]
    assert got.values.name == "opened"
    for mask in (got.out_of_range, got.not_a_date, got.other_order):
        assert isinstance(mask, np.ndarray)
        assert mask.dtype == bool
        assert mask.shape == (3,)


NOT_DATES = [
    "abc",
    "n/a",
    "2026-02-30",
    "2026-13-01",
    "2026-09-05 24:00",
    "2026-09-05 08:60",
    "13:05 PM",
    "9/5/2026 13:05 PM",
    "2026-09",
    "9/5",
    "2026-09-05T08:07:00.Z",
    "2026-09-05 08:07 abc",
    "Foo 5, 2026",
    "2026年9月",
    "2026-09/05",
    "(Sat)",
    "(土)",
    dt.time(8, 7),
    dt.timedelta(days=1),
    True,
    False,
]


@pytest.mark.parametrize("value", NOT_DATES, ids=repr)
def test_not_a_date(value: object) -> None:
    got = parse_dates(column([value]))
    assert got.values.isna().all()
    assert got.not_a_date.tolist() == [True]
    assert got.out_of_range.tolist() == [False]


def test_blanks_are_neither_dates_nor_problems() -> None:
    got = parse_dates(column([None, np.nan, pd.NaT, "", "   ", "\u3000", pd.NA]))
    assert got.values.isna().all()
    assert not got.not_a_date.any()
    assert not got.out_of_range.any()


# --------------------------------------------------------------------------- day first


@pytest.mark.parametrize(
    ("text", "month_first", "day_first"),
    [
        ("9/5/2026", T("2026-09-05"), T("2026-05-09")),
        ("5/9/2026", T("2026-05-09"), T("2026-09-05")),
        ("09-05-2026", T("2026-09-05"), T("2026-05-09")),
        ("9/5/26 2:02 PM", T("2026-09-05 14:02"), T("2026-05-09 14:02")),
        ("12/12/2026", T("2026-12-12"), T("2026-12-12")),
        ("31/3/2026", NAT, T("2026-03-31")),
        ("3/31/2026", T("2026-03-31"), NAT),
        # not ambiguous, so date_order does not apply
        ("31.03.2026", T("2026-03-31"), T("2026-03-31")),
        ("2026/09/05", T("2026-09-05"), T("2026-09-05")),
        ("05/Sep/26", T("2026-09-05"), T("2026-09-05")),
        ("Sep 5, 2026", T("2026-09-05"), T("2026-09-05")),
    ],
)
def test_day_first_switch(text: str, month_first: object, day_first: object) -> None:
    assert parse_one(text) is month_first or parse_one(text) == month_first
    got = parse_one(text, day_first=True)
    assert got is day_first or got == day_first


def test_the_other_order_is_flagged_never_guessed() -> None:
    raw = column(["31/3/2026", "3/31/2026", "9/5/2026", "31/31/2026", "31.13.2026"])
    month_first = parse_dates(raw)
    assert month_first.values.isna().tolist() == [True, False, False, True, True]
    assert month_first.other_order.tolist() == [True, False, False, False, False]
    assert month_first.not_a_date.tolist() == [True, False, False, True, True]
    day_first = parse_dates(raw, day_first=True)
    assert day_first.other_order.tolist() == [False, True, False, False, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/1/00", T("2000-01-01")),
        ("1/1/68", T("2068-01-01")),
        ("1/1/69", T("1969-01-01")),
        ("1/1/99", T("1999-01-01")),
        ("01/Jan/68 1:00 AM", T("2068-01-01 01:00")),
        ("01/Jan/69 1:00 AM", T("1969-01-01 01:00")),
    ],
)
def test_two_digit_years_follow_posix(text: str, expected: pd.Timestamp) -> None:
    assert parse_one(text) == expected


# --------------------------------------------------------------------------- numbers in dates

NUMBER_RULE = [
    # Excel serials, 1900 system (with the phantom 1900-02-29)
    (0, NAT, "not"),
    (0.5, NAT, "not"),
    (1, T("1900-01-01"), "date"),
    (59, T("1900-02-28"), "date"),
    (60, NAT, "not"),
    (61, T("1900-03-01"), "date"),
    (46_270, T("2026-09-05"), "date"),
    (46_270.33819444444, T("2026-09-05 08:07:00"), "date"),
    (46_270.999999, T("2026-09-06"), "date"),  # rounded to the second
    (2_958_465, NAT, "out"),  # 9999-12-31
    (2_958_466, NAT, "not"),
    (3_000_000, NAT, "not"),
    (9_999_999, NAT, "not"),
    # YYYYMMDD
    (10_000_000, NAT, "not"),
    (20_260_905, T("2026-09-05"), "date"),
    (20_261_305, NAT, "not"),
    (20_260_905.5, NAT, "not"),
    (99_991_231, NAT, "out"),
    (18_991_231, NAT, "out"),
    # epoch seconds, ms, µs, ns (UTC)
    (99_999_999, NAT, "not"),
    (100_000_000, T("1973-03-03 09:46:40"), "date"),
    (1_788_000_000, T("2026-08-29 10:40:00"), "date"),
    (1_788_000_000.75, T("2026-08-29 10:40:00"), "date"),
    (9_224_000_000, NAT, "out"),  # 2262-04-19
    (99_999_999_999, NAT, "out"),
    (100_000_000_000, T("1973-03-03 09:46:40"), "date"),
    (1_788_000_000_000, T("2026-08-29 10:40:00"), "date"),
    (1_788_000_000_999, T("2026-08-29 10:40:00"), "date"),
    (1_788_000_000_000_000, T("2026-08-29 10:40:00"), "date"),
    (1_788_000_000_000_000_000, T("2026-08-29 10:40:00"), "date"),
    (10**20, NAT, "not"),
    (-1, NAT, "not"),
    (float("inf"), NAT, "not"),
]


@pytest.mark.parametrize(("number", "expected", "kind"), NUMBER_RULE)
def test_numbers_by_magnitude(number: float, expected: object, kind: str) -> None:
    serial = abs(number) < 10**7  # numeric text is never a serial (see the next test)
    for value in {number, str(number)} if kind != "out" and not serial else {number}:
        got = parse_dates(column([value]))
        stamp = got.values.iloc[0]
        assert stamp is expected or stamp == expected, value
        assert got.out_of_range[0] == (kind == "out"), value
        assert got.not_a_date[0] == (kind == "not"), value


def test_numbers_in_a_numeric_column() -> None:
    finite = [(n, e) for n, e, _ in NUMBER_RULE if math.isfinite(n)]
    got = parse_dates(pd.Series([n for n, _ in finite], dtype=float))
    expected = [e for _, e in finite]
    assert got.values.tolist() == expected
    ints = pd.Series([46_270, 1_788_000_000, 1_788_000_000_000, 20_260_905], dtype="int64")
    assert parse_dates(ints).values.tolist() == [
        T("2026-09-05"),
        T("2026-08-29 10:40"),
        T("2026-08-29 10:40"),
        T("2026-09-05"),
    ]
    nullable = pd.Series([46_270, None], dtype="Int64")
    got = parse_dates(nullable)
    assert got.values.iloc[0] == T("2026-09-05")
    assert got.values.isna().tolist() == [False, True]
    assert not got.not_a_date.any()


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (0, NAT),  # < 1 is a time of day in both systems
        (1, T("1904-01-02")),
        (44_808, T("2026-09-05")),
        (44_808.5, T("2026-09-05 12:00")),
        (59, T("1904-02-29")),  # no phantom day in the 1904 system
        (60, T("1904-03-01")),
    ],
)
def test_1904_serials(serial: float, expected: object) -> None:
    got = parse_one(serial, date1904=True)
    assert got is expected or got == expected


def test_numeric_text_is_an_epoch_or_yyyymmdd_never_a_serial() -> None:
    got = parse_dates(column(["46270", "1788000000", "1788000000000", "20260905", "1.788E+12"]))
    assert got.not_a_date.tolist() == [True, False, False, False, False]
    assert got.values.tolist() == [
        NAT,
        T("2026-08-29 10:40"),
        T("2026-08-29 10:40"),
        T("2026-09-05"),
        T("2026-08-29 10:40"),
    ]


# --------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-05T23:30:00-05:00", T("2026-09-05 23:30")),
        ("2026-09-05T00:30:00+09:00", T("2026-09-05 00:30")),
        ("2026-09-05T23:59:59Z", T("2026-09-05 23:59:59")),
        ("2026-09-05 23:30 JST", T("2026-09-05 23:30")),
        ("2026-09-05 23:30 GMT-5", T("2026-09-05 23:30")),
        (dt.datetime(2026, 9, 5, 23, 30, tzinfo=CDT), T("2026-09-05 23:30")),
        (dt.datetime(2026, 9, 5, 0, 30, tzinfo=JST), T("2026-09-05 00:30")),
        (T("2026-09-05 23:30", tz="America/Chicago"), T("2026-09-05 23:30")),
        (T("2026-09-05 00:30", tz="Asia/Tokyo"), T("2026-09-05 00:30")),
        # epoch values are UTC: 1788652800 is 2026-09-06 00:00:00 UTC
        (1_788_652_800, T("2026-09-06 00:00")),
        (1_788_652_799_000, T("2026-09-05 23:59:59")),
        # naive values as written
        ("2026-09-05 23:30", T("2026-09-05 23:30")),
        (dt.datetime(2026, 9, 5, 23, 30), T("2026-09-05 23:30")),
    ],
    ids=repr,
)
def test_offsets_land_on_the_written_calendar_day(value: object, expected: object) -> None:
    assert parse_one(value) == expected


def test_mixed_offsets_naive_and_aware_in_one_column() -> None:
    raw = column(
        [
            "2026-09-05T08:07:00Z",
            "2026-09-05 08:07",
            dt.datetime(2026, 9, 5, 8, 7, tzinfo=JST),
            dt.datetime(2026, 9, 5, 8, 7, tzinfo=CDT),
            dt.datetime(2026, 9, 5, 8, 7),
            T("2026-09-05 08:07", tz="UTC"),
        ]
    )
    assert parse_dates(raw).values.tolist() == [T("2026-09-05 08:07")] * 6
    aware = pd.Series(pd.to_datetime(["2026-09-05 23:30"]).tz_localize("America/Chicago"))
    assert parse_dates(aware).values.tolist() == [T("2026-09-05 23:30")]


def test_tz_aware_datetime_cells_only() -> None:
    raw = column(
        [dt.datetime(2026, 9, 5, 23, 30, tzinfo=CDT), dt.datetime(2026, 9, 5, 1, tzinfo=JST)]
    )
    assert parse_dates(raw).values.tolist() == [T("2026-09-05 23:30"), T("2026-09-05 01:00")]


# --------------------------------------------------------------------------- mixed, range


def test_mixed_type_column() -> None:
    raw = column(
        [
            dt.datetime(2026, 9, 5, 8, 7, 30, 999_999),
            dt.date(2026, 9, 5),
            T("2026-09-05 08:07:00.123456789"),
            np.datetime64("2026-09-05T08:07"),
            46_270,
            46_270.5,
            1_788_000_000,
            "2026-09-05T08:07:00Z",
            "9/5/2026 2:02 PM",
            "2026年9月5日",
            "１７８８００００００",
            True,
            1,
            None,
            float("nan"),
            "",
            "garbage",
            "9999-12-31",
        ]
    )
    got = parse_dates(raw)
    assert got.values.tolist() == [
        T("2026-09-05 08:07:30"),
        T("2026-09-05"),
        T("2026-09-05 08:07"),
        T("2026-09-05 08:07"),
        T("2026-09-05"),
        T("2026-09-05 12:00"),
        T("2026-08-29 10:40"),
        T("2026-09-05 08:07"),
        T("2026-09-05 14:02"),
        T("2026-09-05"),
        T("2026-08-29 10:40"),
        NAT,
        T("1900-01-01"),
        NAT,
        NAT,
        NAT,
        NAT,
        NAT,
    ]
    assert np.flatnonzero(got.not_a_date).tolist() == [11, 16]
    assert np.flatnonzero(got.out_of_range).tolist() == [17]


def test_true_and_one_stay_apart() -> None:
    """Python's True == 1 must not let a boolean borrow the serial 1 (or the reverse)."""
    for raw in (column([True, 1, 1.0, False, 0]), column([1, True, 0, False])):
        got = parse_dates(raw)
        ones = [v is not True and v == 1 for v in raw]
        assert (got.values.notna().to_numpy() == np.array(ones)).all()
        assert got.not_a_date.tolist() == [not one for one in ones]
    assert parse_numbers(column([True, 1, False, 0])).tolist()[1::2] == [1.0, 0.0]
    assert parse_numbers(column([True, 1, False, 0])).isna().tolist() == [
        True,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("value", "out"),
    [
        ("9999-12-31", True),
        ("0001-01-12", True),
        ("1899-12-31", True),
        ("2262-04-11", True),
        ("0000-01-01", True),
        ("12/31/9999", True),
        ("9999年12月31日", True),
        (dt.datetime(9999, 12, 31), True),
        (dt.date(1, 1, 12), True),
        (2_958_465, True),
        (9_300_000_000_000, True),  # epoch ms in 2264
        ("1900-01-01", False),
        ("2262-04-10 23:59:59", False),
        (dt.date(1900, 1, 1), False),
        (3_000_000, False),  # not a date at all
        ("１２", False),  # serial 12, 1900-01-12: a date, in range
    ],
    ids=repr,
)
def test_out_of_range_mask(value: object, out: bool) -> None:
    got = parse_dates(column([value]))
    assert got.out_of_range.tolist() == [out]
    if out:
        assert got.values.isna().all()
        assert not got.not_a_date.any()


def test_typed_columns() -> None:
    naive = pd.Series(pd.to_datetime(["2026-09-05 08:07:00.9", None]))
    assert parse_dates(naive).values.tolist() == [T("2026-09-05 08:07"), NAT]
    text = pd.Series(["2026-09-05", None], dtype="str")
    assert parse_dates(text).values.tolist() == [T("2026-09-05"), NAT]
    flags = pd.Series([True, False])
    assert parse_dates(flags).not_a_date.tolist() == [True, True]
    assert parse_dates(pd.Series([], dtype=object)).values.dtype == "datetime64[s]"
    assert parse_dates(pd.Series([], dtype=float)).values.dtype == "datetime64[s]"


def test_parses_distinct_values_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = dates_module.read_text

    def counting(text: str, day_first: bool) -> tuple[float, ...]:
        calls.append(text)
        return original(text, day_first)

    monkeypatch.setattr(dates_module, "read_text", counting)
    raw = column(["9/5/2026 2:02 PM", "2026年9月5日", "2026-09-05T08:07:00Z"] * 10_000)
    got = parse_dates(raw)
    assert got.values.notna().all()
    assert sorted(calls) == sorted(["9/5/2026 2:02 PM", "2026年9月5日"])  # ISO: no regex


# --------------------------------------------------------------------------- properties


def _twelve_hour(d: dt.datetime) -> str:
    return f"{(d.hour % 12) or 12}:{d.minute:02d} {'PM' if d.hour >= 12 else 'AM'}"


def _full_width(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def _serial(d: dt.datetime, epoch: dt.datetime) -> float:
    return (d.replace(microsecond=0) - epoch) / dt.timedelta(days=1)


EPOCH = dt.datetime(1970, 1, 1)
FORMATS: dict[str, tuple] = {
    # name: (value of d, precision, options, last year)
    "iso_z": (lambda d: f"{d:%Y-%m-%dT%H:%M:%S}Z", "s", {}, 2100),
    "iso_offset": (lambda d: f"{d:%Y-%m-%dT%H:%M:%S}+09:00", "s", {}, 2100),
    "iso_negative_offset": (lambda d: f"{d:%Y-%m-%dT%H:%M:%S}-0500", "s", {}, 2100),
    "iso_micro_utc": (lambda d: f"{d:%Y-%m-%d %H:%M:%S.%f}+00:00", "s", {}, 2100),
    "iso_naive": (lambda d: f"{d:%Y-%m-%d %H:%M:%S}", "s", {}, 2100),
    "iso_date": (lambda d: f"{d:%Y-%m-%d}", "D", {}, 2100),
    "slash_ymd_hm": (lambda d: f"{d.year}/{d:%m/%d} {d.hour}:{d:%M}", "min", {}, 2100),
    "us_12_hour": (lambda d: f"{d.month}/{d.day}/{d.year} {_twelve_hour(d)}", "min", {}, 2100),
    "us_date": (lambda d: f"{d.month}/{d.day}/{d.year}", "D", {}, 2100),
    "day_first": (lambda d: f"{d.day}/{d.month}/{d.year}", "D", {"day_first": True}, 2100),
    "jira": (lambda d: f"{d:%d/%b/%y} {_twelve_hour(d)}", "min", {}, 2068),
    "month_day_year": (lambda d: f"{d:%b} {d.day}, {d.year}", "D", {}, 2100),
    "day_month_year": (lambda d: f"{d.day} {d:%B} {d.year}", "D", {}, 2100),
    "japanese_date": (lambda d: f"{d.year}年{d.month}月{d.day}日", "D", {}, 2100),
    "japanese_time": (
        lambda d: f"{d.year}年{d.month}月{d.day}日 {d.hour}時{d:%M}分",
        "min",
        {},
        2100,
    ),
    "japanese_weekday": (
        lambda d: f"{d.year}/{d.month}/{d.day}({'月火水木金土日'[d.weekday()]})",
        "D",
        {},
        2100,
    ),
    "dotted": (lambda d: f"{d:%d.%m.%Y}", "D", {}, 2100),
    "full_width_iso": (lambda d: _full_width(f"{d:%Y-%m-%d %H:%M:%S}"), "s", {}, 2100),
    "epoch_seconds": (lambda d: int((d - EPOCH).total_seconds()), "s", {}, 2100),
    "epoch_millis": (lambda d: int((d - EPOCH).total_seconds() * 1000), "s", {}, 2100),
    "epoch_text": (lambda d: str(int((d - EPOCH).total_seconds())), "s", {}, 2100),
    # serials are rounded to the second (a float's error), so they carry whole seconds here
    "serial_1900": (lambda d: _serial(d, dt.datetime(1899, 12, 30)), "s", {}, 2100),
    "serial_1904": (
        lambda d: _serial(d, dt.datetime(1904, 1, 1)),
        "s",
        {"date1904": True},
        2100,
    ),
    "yyyymmdd": (lambda d: int(f"{d:%Y%m%d}"), "D", {}, 2100),
    "datetime_cell": (lambda d: d, "s", {}, 2100),
    "date_cell": (lambda d: d.date(), "D", {}, 2100),
    "aware_timestamp": (lambda d: T(d).tz_localize(JST), "s", {}, 2100),
}

moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 12, 31))


@SETTINGS
@given(st.sampled_from(sorted(FORMATS)), st.lists(moments, min_size=1, max_size=20))
def test_round_trip_every_format(name: str, ds: list[dt.datetime]) -> None:
    render, precision, options, last_year = FORMATS[name]
    ds = [d for d in ds if d.year <= last_year]
    raw = column([render(d) for d in ds])
    got = parse_dates(raw, **options)
    expected = [T(d).floor(precision) for d in ds]
    assert got.values.tolist() == expected, raw.tolist()
    assert not got.not_a_date.any()


mixed_values = st.one_of(
    st.builds(lambda n, d: FORMATS[n][0](d), st.sampled_from(sorted(FORMATS)), moments),
    st.sampled_from(["", "x", "9999-12-31", "0001-01-12", "31/3/2026", None, True, 3_000_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**21), 10**21),
    st.text(max_size=12),
)


@SETTINGS
@given(st.lists(mixed_values, max_size=30), st.booleans())
def test_parse_dates_is_idempotent(raw: list, day_first: bool) -> None:
    first = parse_dates(column(raw), day_first=day_first).values
    for again in (first, first.astype(object)):
        second = parse_dates(again, day_first=day_first)
        assert second.values.tolist() == first.tolist()
        assert not second.not_a_date.any()
        assert not second.out_of_range.any()


ISO_TAILS = [
    *("", "Z", "z", "+09:00", "+0900", "+09", "-05:00", " +09:00", " UTC", "UTC", " Z"),
    *("-5", "x", "+9:00", "+09:0", " ", "+09:00Z", "GMT"),
]
iso_like = st.builds(
    lambda y, m, d, sep, time, tail: f"{y:04d}{sep}{m:02d}{sep}{d:02d}{time}{tail}",
    st.integers(0, 9999),
    st.integers(0, 14),
    st.integers(0, 33),
    st.sampled_from(["-", "/", "."]),
    st.one_of(
        st.just(""),
        st.builds(
            lambda t, h, mi, s, f: f"{t}{h:02d}:{mi:02d}{s}{f}",
            st.sampled_from(["T", " ", "t", "  "]),
            st.integers(0, 25),
            st.integers(0, 61),
            st.sampled_from(["", ":00", ":59", ":60", ":5"]),
            st.sampled_from(["", ".1", ".123456", ".123456789", ".1234567890", ",5", "."]),
        ),
    ),
    st.sampled_from(ISO_TAILS),
)


@SETTINGS
@given(st.lists(iso_like, min_size=1, max_size=30))
def test_fast_iso_path_agrees_with_the_regex_path(texts: list[str]) -> None:
    raw = np.array(texts, dtype=object)
    fast_stamps, fast = date_text.iso_fast(raw)
    rows = np.array([date_text.read_text(t, False) for t in texts], dtype=float)
    slow_stamps, slow = date_text.assemble(*rows[:, 1:7].T)
    slow &= rows[:, 0] == date_text.FORM_FIELDS
    assert not (fast & ~slow).any(), raw[fast & ~slow]
    assert (fast_stamps[fast] == slow_stamps[fast]).all()
    in_grammar = np.array([FAST_GRAMMAR.fullmatch(t) is not None for t in texts])
    assert (fast == (in_grammar & slow)).all(), raw[fast != (in_grammar & slow)]


FAST_GRAMMAR = re.compile(
    r"\d{4}([-/])\d{2}\1\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?: ?(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))?)?"
)
"""What the code-point fast path reads: exactly these, and the same as the regex path."""


# --------------------------------------------------------------------------- domains

DOMAINS = [
    ("https://www.alpha.co.jp/", "alpha.co.jp"),
    ("http://Alpha.CO.JP/about?x=1", "alpha.co.jp"),
    ("www.beta.com", "beta.com"),
    ("beta.com", "beta.com"),
    ("beta.com/", "beta.com"),
    ("someone@gamma.jp", "gamma.jp"),
    ("Someone@Gamma.JP", "gamma.jp"),
    ("mailto:someone@gamma.jp", "gamma.jp"),
    ("Taro Yamada <taro@gamma.jp>", "gamma.jp"),
    ("ｈｔｔｐｓ：／／ｗｗｗ．ｄｅｌｔａ．ｊｐ／", "delta.jp"),
    ("ｓｏｍｅｏｎｅ＠ｇａｍｍａ．ｊｐ", "gamma.jp"),
    ("https://user:pw@host.example.org:8080/a#b", "host.example.org"),
    ("//cdn.example.com/x", "cdn.example.com"),
    ("  https://www.alpha.co.jp  ", "alpha.co.jp"),
    ("alpha.co.jp.", "alpha.co.jp"),
    ("www.com", "www.com"),  # www. is dropped only when a domain remains
    ("www2.beta.com", "www2.beta.com"),
    ("shop.www.beta.com", "shop.www.beta.com"),
    ("https://日本語.jp/", "日本語.jp"),
    ("xn--wgv71a119e.jp", "xn--wgv71a119e.jp"),
    ("", None),
    ("   ", None),
    ("n/a", None),
    ("-", None),
    ("TBD", None),
    ("localhost", None),
    ("http://", None),
    ("192.168.0.1", None),
    ("alpha.co.jp; beta.com", None),
    ("alpha_beta.com", None),
    ("-alpha.com", None),
    (None, None),
    (float("nan"), None),
    (12, None),
    (True, None),
]


def test_domain_from_website() -> None:
    raw = pd.Series([v for v, _ in DOMAINS], index=range(100, 100 + len(DOMAINS)), dtype=object)
    got = domain_from_website(raw)
    assert got.tolist() == [expected for _, expected in DOMAINS]
    assert got.index.equals(raw.index)
    assert got.dtype == object


labels = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda names, tld: ".".join([*names, tld]),
    st.lists(labels, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,6}", fullmatch=True),
)


@SETTINGS
@given(domains)
def test_domain_round_trip(dom: str) -> None:
    raw = column(
        [
            f"https://www.{dom}/path",
            f"http://WWW.{dom.upper()}:8080/x?y=1",
            f"someone@{dom}",
            _full_width(f"https://www.{dom}/"),
        ]
    )
    assert domain_from_website(raw).tolist() == [dom] * 4


# --------------------------------------------------------------------------- organisations


def test_organisation_key_folds_width_case_and_spaces() -> None:
    raw = column(
        [
            "株式会社 アルファ",
            "株式会社アルファ",
            "株式会社\u3000アルファ",
            " 株式会社  アルファ ",
            "ｶﾌﾞｼｷｶﾞｲｼｬ ｱﾙﾌｧ",
            "カブシキガイシャアルファ",
            "Alpha Inc.",
            "ALPHA\u00a0INC.",
            "ａｌｐｈａ ｉｎｃ．",
            "Straße GmbH",
            "STRASSE GMBH",
            "Al\u200bpha Inc.",
        ]
    )
    keys = organisation_key(raw).tolist()
    assert keys[:4] == ["株式会社アルファ"] * 4
    assert keys[4] == keys[5] == "カブシキガイシャアルファ"
    assert keys[6:9] == ["alphainc."] * 3
    assert keys[9] == keys[10] == "strassegmbh"
    assert keys[11] == "alphainc."


def test_organisation_key_is_exact_otherwise() -> None:
    raw = column(
        ["株式会社アルファ", "アルファ", "Alpha Inc.", "Alpha", "Alpha, Inc.", "Alpha Inc"]
    )
    keys = organisation_key(raw).tolist()
    assert len(set(keys)) == len(keys)  # legal suffixes and punctuation are kept
    assert keys[0] == "株式会社アルファ"


def test_organisation_key_blanks_and_numbers() -> None:
    raw = pd.Series(["", "  ", None, float("nan"), 1001, 1001.0, 3.5, True], index=list("abcdefgh"))
    got = organisation_key(raw)
    assert got.tolist() == [None, None, None, None, "1001", "1001", "3.5", None]
    assert got.index.tolist() == list("abcdefgh")


# --------------------------------------------------------------------------- numbers

NUMBERS = [
    ("1,200", 1200.0),
    ("1200", 1200.0),
    ("1,234,567.89", 1234567.89),
    ("85%", 0.85),
    ("12.5 %", 0.125),
    ("８５％", 0.85),
    ("¥1,200", 1200.0),
    ("￥１，２００", 1200.0),
    ("1,200円", 1200.0),
    ("$1,200.50", 1200.5),
    ("-$1,200.50", -1200.5),
    ("$-1,200.50", -1200.5),
    ("€ 99", 99.0),
    ("USD 1,200", 1200.0),
    ("1,200 JPY", 1200.0),
    ("１２００", 1200.0),
    ("(1,200)", -1200.0),
    ("($1,200.50)", -1200.5),
    ("(5%)", -0.05),
    ("−1,200", -1200.0),
    ("▲1,200", -1200.0),
    ("△ 500", -500.0),
    ("+7", 7.0),
    (".5", 0.5),
    ("1.2E+03", 1200.0),
    ("  42  ", 42.0),
    ("", np.nan),
    ("   ", np.nan),
    ("1,2", np.nan),
    ("1,20,000", np.nan),
    ("12,00", np.nan),
    ("1.200,50", np.nan),
    ("abc", np.nan),
    ("-", np.nan),
    ("(1,200", np.nan),
    ("-(1,200)", np.nan),
    ("+-3", np.nan),
    ("100 pts", np.nan),
    ("N/A", np.nan),
    (7, 7.0),
    (2.5, 2.5),
    (np.int64(3), 3.0),
    (True, np.nan),
    (float("inf"), np.nan),
    (None, np.nan),
    (dt.date(2026, 9, 5), np.nan),
]


def test_parse_numbers() -> None:
    raw = pd.Series([v for v, _ in NUMBERS], dtype=object, name="arr")
    got = parse_numbers(raw)
    assert got.dtype == float
    assert got.name == "arr"
    np.testing.assert_array_equal(got.to_numpy(), np.array([e for _, e in NUMBERS], dtype=float))


def test_parse_numbers_typed_columns() -> None:
    assert parse_numbers(pd.Series([1, 2, None], dtype="Int64")).tolist()[:2] == [1.0, 2.0]
    assert parse_numbers(pd.Series([1.5, np.inf])).tolist()[0] == 1.5
    assert parse_numbers(pd.Series(["1,200", None], dtype="str")).tolist()[0] == 1200.0
    assert parse_numbers(pd.Series([True])).isna().all()


# --------------------------------------------------------------------------- benchmark


def _benchmark_column(rows: int = 1_000_000, distinct: int = 10_000) -> pd.Series:
    rng = np.random.default_rng(0)
    seconds = rng.integers(0, 2 * 365 * 86_400, distinct)
    start = dt.datetime(2025, 1, 1)
    forms = []
    for i, s in enumerate(seconds):
        d = start + dt.timedelta(seconds=int(s))
        epoch = int((d - EPOCH).total_seconds())
        forms.append(
            [
                f"{d:%Y-%m-%dT%H:%M:%S}Z",
                f"{d.month}/{d.day}/{d.year} {_twelve_hour(d)}",
                f"{d.year}年{d.month}月{d.day}日 {d.hour}時{d:%M}分",
                epoch,
                epoch * 1000,
                d,
            ][i % 6]
        )
    picks = rng.integers(0, distinct, rows)
    return pd.Series(np.array(forms, dtype=object)[picks], dtype=object)


if __name__ == "__main__":
    mixed = _benchmark_column()
    for _ in range(3):
        began = time.perf_counter()
        result = parse_dates(mixed)
        took = time.perf_counter() - began
        print(f"1,000,000 mixed timestamps, 10,000 distinct: {took:.3f} s")
    assert result.values.notna().all()
    rng = np.random.default_rng(1)
    stamps = np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 10**8, 1_000_000).astype(
        "timedelta64[s]"
    )
    distinct = pd.Series([f"{s}Z" for s in stamps.astype(str)], dtype=object)
    began = time.perf_counter()
    result = parse_dates(distinct)
    print(f"1,000,000 ISO timestamps, all distinct: {time.perf_counter() - began:.3f} s")
    assert result.values.notna().all()
