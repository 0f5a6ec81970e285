"""Dates as exports write them: one column of cells in, calendar timestamps out.

Pure functions over pandas Series (no file I/O) for the cells that Salesforce, HubSpot,
Zendesk, Freshdesk, Jira, Mixpanel, Amplitude, Segment, Pendo, Qualtrics, SurveyMonkey,
Typeform, Delighted and kintone write. Text is read after Unicode NFKC, so full-width
digits, letters, parentheses and ``％``/``￥`` typed by Japanese input methods read like
ASCII.

Cost: a column is never walked row by row in Python. Text and mixed columns are
factorized and only their distinct values parsed; a column of one kind is converted whole
(numbers by arithmetic, datetime cells by ``pd.to_datetime``); zero-padded ISO text is read
as a matrix of code points, without a Python step per value. Measured (pandas 3.1): a
million mixed timestamps with 10,000 distinct values ~0.35 s; a million *distinct* ISO
timestamps ~1.5 s; other text forms cost ~5-10 µs per distinct value.

This module holds :func:`parse_dates` and the reading of each kind of value (datetime cells,
numbers, text); the per-form text parsers live in :mod:`xlhealth.inputs.date_text`, the
factorizing into distinct values and their kinds in :mod:`xlhealth.inputs.distinct`.

Dates (:func:`parse_dates`)
---------------------------
Result: naive ``datetime64[s]`` timestamps on the customer's *calendar as written*;
sub-second digits of text and datetimes are truncated (never rounded into the next day);
serial numbers are rounded to the nearest second (their fraction carries float error).

Time zones — one rule, so a timestamp always lands on one calendar day:

* a value that carries an offset (``Z``, ``+09:00``, ``+0900``, ``GMT+9``, ``UTC``, an
  upper-case zone abbreviation such as ``JST``, or a tz-aware ``datetime``/``Timestamp``)
  keeps its wall-clock time *in that offset*, and the offset is dropped:
  ``2026-09-05T23:30:00-05:00`` is 2026-09-05 23:30 and ``2026-09-05T08:07:00Z`` is
  2026-09-05 08:07. The exporting tool chose the offset (the account's or the user's
  zone); converting to another zone would need a zone the contract does not have, and
  would move late-evening events to another day depending on where the book is opened;
* Unix epoch values are instants with no offset written: they are read as UTC;
* anything else (naive text, Excel date cells, serial numbers) is taken as written.

Columns that mix these (some ISO ``Z``, some naive, some epoch) are fine: each value
follows its own rule.

Numbers and numeric text in a date column — by magnitude ``x`` (rules are disjoint, so
every number has exactly one reading):

=============================  ============================================================
``x < 1`` or negative          not a date (a time of day, or a blank formula's 0)
``1 <= x < 2_958_466``         Excel serial day number (the fraction is the time of day,
                               rounded to the second): 1900 system by default — with
                               Excel's phantom 1900-02-29 (serial 60 is not a date; serials
                               below it are Jan/Feb 1900) — or the 1904 system
                               (``date1904=True``, serial 1 = 1904-01-02, no phantom
                               day). 2,958,465 is 9999-12-31 (out of range, see below).
``2_958_466 <= x < 10**7``     not a date
``10**7 <= x < 10**8``         an integer ``YYYYMMDD`` (``20260905``, as GA4/BigQuery write
                               ``event_date``); a non-integer or an impossible month/day is
                               not a date
``10**8 <= x < 10**11``        Unix epoch seconds (UTC): 1973-03-03 to 5138
``10**11 <= x < 10**14``       epoch milliseconds
``10**14 <= x < 10**17``       epoch microseconds
``10**17 <= x < 10**20``       epoch nanoseconds
``x >= 10**20``, NaN, inf      not a date
=============================  ============================================================

Epoch values before 1973-03-03 are therefore not readable (they would collide with
serials and ``YYYYMMDD``); no Customer Success export holds them. Numeric *text* is read
by the same rule but never as a serial (``"1788000000000"`` and ``"20260905"`` are dates,
``"12"`` or ``"45905"`` typed as text are reported): spreadsheets store serials as numbers.
Booleans are never dates. Caveat: a bare year typed as a *number* in a date column
(``2026``) is serial 2026, 1905-07-18 — exactly what Excel shows for it.

Text forms (after NFKC, trimming and collapsing whitespace; a weekday such as ``(土)``,
``（Sat）`` or a leading ``Saturday,`` and a trailing ``(Japan Standard Time)`` are
ignored; each date may be followed by a time ``8:07``, ``8:07:00``, ``8:07:00.123456``,
``2:02 PM``, ``8時07分``, ``午後2時02分``, then an optional offset as above):

* year first: ``2026-09-05``, ``2026/09/05 8:07``, ``2026.9.5``, ISO ``2026-09-05T08:07:00Z``,
  ``2026年9月5日``, ``2026年9月5日 8時07分``, ``2026/9/5(土)``;
* numeric day and month: ``9/5/2026 2:02 PM`` is month first unless ``day_first`` (Settings
  ``date_order`` = ``DMY``), ``5/9/2026`` day first with ``day_first``; the same with ``-``.
  There is no guessing from the numbers: with month first, ``31/3/2026`` is *not a date*
  (reported, with :attr:`ParsedDates.other_order` set so the message can suggest
  ``date_order``), never silently read day first. Dotted dates (``31.03.2026``) are always
  day first — no locale writes them month first;
* month names (English, abbreviated or full, any case): ``05/Sep/26 3:42 PM`` (Jira),
  ``5 Sep 2026``, ``5-Sep-2026``, ``Sep 5, 2026``, ``September 5 2026``, ``2026-Sep-05``;
* two-digit years (``9/5/26``, ``05/Sep/26``) follow POSIX ``%y``: 00–68 are 20xx,
  69–99 are 19xx.

Not read (reported as not a date): Japanese era years (``令和8年``), month names in other
languages, a time or a month without a day, ``2026-09-05 08:07 abc``.

Range: values that are dates but fall outside ``FIRST_DATE``..``LAST_DATE`` (1900-01-01 to
2262-04-10: Excel's calendar and pandas' nanosecond timestamps) — ``9999-12-31`` as "no
end date", ``0001-01-12`` from a typo, serial 2,958,465 — are NaT in the values and set in
:attr:`ParsedDates.out_of_range`, so the reader reports them apart from text that is not a
date at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.tables import FIRST_DATE, LAST_DATE
from xlhealth.inputs.date_text import (
    FORM_BLANK,
    FORM_FIELDS,
    FORM_NUMBER,
    FORM_SWAPPABLE,
    NAT,
    assemble,
    iso_fast,
    read_text,
)
from xlhealth.inputs.distinct import distinct_values

__all__ = ["ParsedDates", "parse_dates"]

SERIAL_END = 2_958_466
"""First number that is not an Excel serial (2,958,465 is 9999-12-31 in the 1900 system)."""
COMPACT_START, EPOCH_START = 10**7, 10**8
EPOCH_SCALES = ((10**11, 1), (10**14, 10**3), (10**17, 10**6), (10**20, 10**9))
"""(upper bound, divisor to seconds) of epoch seconds, ms, µs and ns."""
DAYS_1970_FROM_1900 = 25_569  # 1899-12-30 .. 1970-01-01: serial 61 and up (after 1900-02-29)
DAYS_1970_FROM_1904 = 24_107  # 1904-01-01 .. 1970-01-01

_FIRST = np.datetime64(FIRST_DATE, "D")
_LAST = np.datetime64(LAST_DATE, "D")

# Statuses of a distinct value.
_BLANK, _DATE, _NOT_DATE, _OTHER_ORDER = 0, 1, 2, 3


@dataclass(frozen=True)
class ParsedDates:
    """What :func:`parse_dates` read; the three masks are numpy booleans aligned with the input.

    ``values``: ``datetime64[s]`` on the input's index, NaT where blank, not a date or out of
    range. ``out_of_range``: a date outside ``FIRST_DATE``..``LAST_DATE``. ``not_a_date``: a
    non-blank value that is no date (whitespace-only text counts as blank).
    ``other_order``: the part of ``not_a_date`` that would be a date with the other
    ``date_order`` (``31/3/2026`` read month first).
    """

    values: pd.Series
    out_of_range: np.ndarray
    not_a_date: np.ndarray
    other_order: np.ndarray


# --------------------------------------------------------------------------- dates


def parse_dates(
    values: pd.Series, *, date1904: bool = False, day_first: bool = False
) -> ParsedDates:
    """Dates and timestamps as exports write them (see the module docstring for the rules).

    ``values`` is what a spreadsheet reader gives: python ``datetime``/``date``, pandas
    ``Timestamp``, ``np.datetime64``, int/float (Excel serials, epoch, ``YYYYMMDD``), text;
    any dtype, mixed types allowed. ``date1904`` selects the workbook's 1904 serial system;
    ``day_first`` reads ``5/9/2026`` as 5 September (Settings ``date_order`` = ``DMY``).

    A column of one kind is converted whole (datetimes by ``pd.to_datetime``, numbers by
    arithmetic); text and mixed columns are parsed once per distinct value.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
        values.dtype
    ):
        stamps = values.dt.tz_localize(None) if values.dt.tz is not None else values
        return _result(values, *_datetime_status(np.asarray(stamps.to_numpy())))
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if values.dtype != bool and (
        pd.api.types.is_numeric_dtype(values.dtype) or inferred in _NUMBERS_INFERRED
    ):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        stamps, status = _from_numbers(numbers, date1904)
        return _result(values, stamps, np.where(np.isnan(numbers), _BLANK, status))
    if inferred in ("datetime", "date", "datetime64"):
        return _result(values, *_from_datetimes(values.to_numpy(dtype=object)))
    codes, uniques, kinds = distinct_values(values)
    stamps_u, status_u = _parse_distinct(uniques, kinds, date1904=date1904, day_first=day_first)
    stamps = np.append(stamps_u, NAT)[codes]
    status = np.append(status_u, np.int8(_BLANK))[codes]
    return _result(values, stamps, status)


_NUMBERS_INFERRED = ("integer", "floating", "mixed-integer-float")


def _result(values: pd.Series, stamps: np.ndarray, status: np.ndarray) -> ParsedDates:
    is_date = status == _DATE
    day = stamps.astype("datetime64[D]")
    with np.errstate(invalid="ignore"):
        inside = is_date & (day >= _FIRST) & (day <= _LAST)
    out = np.where(inside, stamps, NAT).astype("datetime64[s]")
    return ParsedDates(
        values=pd.Series(out, index=values.index, name=values.name),
        out_of_range=is_date & ~inside,
        not_a_date=(status == _NOT_DATE) | (status == _OTHER_ORDER),
        other_order=status == _OTHER_ORDER,
    )


def _parse_distinct(
    uniques: np.ndarray, kinds: np.ndarray, *, date1904: bool, day_first: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[s], status) of each distinct value; range is checked by the caller."""
    stamps = np.full(len(uniques), NAT, dtype="datetime64[s]")
    status = np.full(len(uniques), _NOT_DATE, dtype=np.int8)
    if (mask := (kinds == "datetime") | (kinds == "date") | (kinds == "datetime64")).any():
        stamps[mask], status[mask] = _from_datetimes(uniques[mask])
    if (mask := kinds == "number").any():
        stamps[mask], status[mask] = _from_numbers(uniques[mask].astype(float), date1904)
    if (mask := kinds == "text").any():
        stamps[mask], status[mask] = _from_text(
            uniques[mask], date1904=date1904, day_first=day_first
        )
    return stamps, status


def _datetime_status(stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stamps = stamps.astype("datetime64[s]")  # floors sub-second digits
    return stamps, np.where(np.isnat(stamps), _BLANK, _DATE).astype(np.int8)


def _from_datetimes(objects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock time of datetime/date/datetime64 objects; a tz-aware one keeps its clock."""
    try:
        stamps = pd.to_datetime(objects)
    except (TypeError, ValueError):  # offsets differ, or aware and naive mixed
        naive = np.fromiter(
            (v.replace(tzinfo=None) if getattr(v, "tzinfo", None) else v for v in objects),
            dtype=object,
            count=len(objects),
        )
        try:
            stamps = pd.to_datetime(naive)
        except (TypeError, ValueError):  # pandas < 3: years outside 1677..2262
            return _datetime_status(naive.astype("datetime64[us]"))
    if stamps.tz is not None:
        stamps = stamps.tz_localize(None)
    return _datetime_status(np.asarray(stamps))


def _from_numbers(x: np.ndarray, date1904: bool) -> tuple[np.ndarray, np.ndarray]:
    """Excel serials, ``YYYYMMDD`` and epoch values by magnitude (module docstring)."""
    seconds = np.full(x.size, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        serial = (x >= 1) & (x < SERIAL_END)
        if date1904:
            seconds = np.where(serial, np.round((x - DAYS_1970_FROM_1904) * 86_400), seconds)
        else:
            late = serial & (x >= 61)
            early = serial & (x < 60)  # Jan/Feb 1900, before Excel's phantom 1900-02-29
            seconds = np.where(late, np.round((x - DAYS_1970_FROM_1900) * 86_400), seconds)
            seconds = np.where(early, np.round((x - DAYS_1970_FROM_1900 + 1) * 86_400), seconds)
        low = EPOCH_START
        for high, divisor in EPOCH_SCALES:
            band = (x >= low) & (x < high)
            seconds = np.where(band, np.floor(x / divisor), seconds)
            low = high
        compact = (x >= COMPACT_START) & (x < EPOCH_START) & (x == np.floor(x))
    stamps = np.full(x.size, NAT, dtype="datetime64[s]")
    ok = ~np.isnan(seconds)
    stamps[ok] = seconds[ok].astype(np.int64).astype("datetime64[s]")
    if compact.any():
        ymd = x[compact]
        part, valid = assemble(ymd // 10_000, ymd // 100 % 100, ymd % 100)
        stamps[compact] = part
        ok[compact] = valid
    return stamps, np.where(ok, _DATE, _NOT_DATE).astype(np.int8)


def _from_text(
    texts: np.ndarray, *, date1904: bool, day_first: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Dates in text: zero-padded ISO by array arithmetic, other forms one regex each."""
    stamps = np.full(len(texts), NAT, dtype="datetime64[s]")
    status = np.full(len(texts), _NOT_DATE, dtype=np.int8)
    fast_stamps, fast = iso_fast(texts)
    stamps[fast] = fast_stamps[fast]
    status[fast] = _DATE
    slow = np.flatnonzero(~fast)
    if not slow.size:
        return stamps, status
    rows = np.array([read_text(t, day_first) for t in texts[slow]], dtype=float)
    rows = rows.reshape(slow.size, 8)
    form = rows[:, 0]
    status[slow[form == FORM_BLANK]] = _BLANK
    if (number := form == FORM_NUMBER).any():
        # Numeric *text* is an epoch or YYYYMMDD (as CSV exports write them), never an Excel
        # serial: spreadsheets store serials as numbers, and "12" typed as text is a mistake
        # to report, not 1900-01-12.
        x = rows[number, 7]
        x = np.where(np.abs(x) >= 10**7, x, np.nan)
        stamps[slow[number]], status[slow[number]] = _from_numbers(x, date1904)
    if (fields := (form == FORM_FIELDS) | (form == FORM_SWAPPABLE)).any():
        part = rows[fields]
        y, m, d, hour, minute, second = part[:, 1:7].T
        found, valid = assemble(y, m, d, hour, minute, second)
        _, swapped = assemble(y, d, m, hour, minute, second)
        other = ~valid & swapped & (part[:, 0] == FORM_SWAPPABLE)
        stamps[slow[fields]] = found
        status[slow[fields]] = np.where(valid, _DATE, np.where(other, _OTHER_ORDER, _NOT_DATE))
    return stamps, status
