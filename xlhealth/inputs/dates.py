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

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from xlhealth.core.tables import FIRST_DATE, LAST_DATE

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
_NAT = np.datetime64("NaT", "s")

# Statuses of a distinct value.
_BLANK, _DATE, _NOT_DATE, _OTHER_ORDER = 0, 1, 2, 3

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-"))
_WEEKDAY = r"(?:[月火水木金土日]|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?)"
_TZ = r"z|(?:utc|gmt)?\s?[+-]\d{1,2}(?::?\d{2})?|utc|gmt|(?-i:[A-Z]{3,5})"
_TIME = (
    r"(?:(?:\s*,\s*|\s+at\s+|\s*t\s*|\s+)"
    r"(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:[.,]\d{1,9})?)?"
    r"(?:\s*(?P<AP>[ap])\.?\s?m\.?)?"
    rf"(?:\s*(?:{_TZ}))?)?$"
)
_MON = r"(?P<mon>[a-z]{3,9})\.?"
_DAY = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<Y>\d{4}|\d{2})"
_FAMILIES = {  # tried in this order; every pattern ends with the optional time and offset
    "ymd": rf"^(?P<Y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TIME}",
    "num": rf"^(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep){_YEAR}{_TIME}",
    "dmony": rf"^{_DAY}(?:[-/ ]|\. ?)?{_MON}(?:[-/ ]|, ?){_YEAR}{_TIME}",
    "mondy": rf"^{_MON}[ -]{_DAY}(?:, ?| )(?P<Y>\d{{4}}){_TIME}",
    "ymond": rf"^(?P<Y>\d{{4}})[-/ ]{_MON}[-/ ](?P<d>\d{{1,2}}){_TIME}",
}
_PATTERNS = {family: re.compile(pattern, re.I) for family, pattern in _FAMILIES.items()}
_NUMERIC = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.I)


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


# --------------------------------------------------------------------------- distinct values


def distinct_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes (-1 for NA), the distinct values as an object array, and their kinds.

    Kinds: 'text', 'number', 'bool', 'datetime', 'date', 'datetime64' or 'other'. Python's
    ``True == 1`` lets factorize merge a boolean with the number 1 (or ``False`` with 0);
    such rows are split again so each distinct value keeps its type.
    """
    codes, index = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(index, dtype=object)
    kinds = _kinds(uniques, pd.api.types.infer_dtype(index, skipna=True))
    if values.dtype != object:
        return codes, uniques, kinds
    suspects = np.flatnonzero(kinds == "bool")
    if (number := kinds == "number").any():
        as_float = uniques[number].astype(float)
        suspects = np.union1d(suspects, np.flatnonzero(number)[(as_float == 0) | (as_float == 1)])
    if not suspects.size:
        return codes, uniques, kinds
    raw = values.to_numpy(dtype=object)
    extra: list[object] = []
    for k in suspects:
        rows = np.flatnonzero(codes == k)
        is_bool = np.fromiter(
            (isinstance(raw[i], bool | np.bool_) for i in rows), dtype=bool, count=rows.size
        )
        odd = rows[is_bool != (kinds[k] == "bool")]
        if odd.size:
            codes[odd] = len(uniques) + len(extra)
            extra.append(raw[odd[0]])
    if extra:
        more = np.empty(len(extra), dtype=object)
        more[:] = extra
        uniques = np.concatenate([uniques, more])
        kinds = np.concatenate([kinds, _kinds(more, "mixed")])
    return codes, uniques, kinds


def _kinds(uniques: np.ndarray, inferred: str) -> np.ndarray:
    """The kind of each distinct value (see :func:`distinct_values`); ``inferred`` from pandas."""
    uniform = {
        "string": "text",
        "empty": "text",
        "integer": "number",
        "floating": "number",
        "mixed-integer-float": "number",
        "decimal": "number",
        "boolean": "bool",
        "datetime": "datetime",
        "datetime64": "datetime64",
    }
    if inferred in uniform:
        return np.full(len(uniques), uniform[inferred], dtype=object)

    def kind(t: type) -> str:
        if issubclass(t, str):
            return "text"
        if issubclass(t, bool | np.bool_):
            return "bool"
        if issubclass(t, int | float | np.integer | np.floating | Decimal):
            return "number"
        if issubclass(t, dt.datetime):
            return "datetime"
        if issubclass(t, dt.date):
            return "date"
        if issubclass(t, np.datetime64):
            return "datetime64"
        return "other"

    types = np.fromiter(map(type, uniques), dtype=object, count=len(uniques))
    type_codes, distinct_types = pd.factorize(types)
    return np.array([kind(t) for t in distinct_types], dtype=object)[type_codes]


def clean_text(values: np.ndarray) -> pd.Series:
    """NFKC, dashes as ``-``, trimmed, inner whitespace collapsed (object dtype)."""
    s = pd.Series(values, dtype=object).str.normalize("NFKC").str.translate(_DASHES)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


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
    stamps = np.append(stamps_u, _NAT)[codes]
    status = np.append(status_u, np.int8(_BLANK))[codes]
    return _result(values, stamps, status)


_NUMBERS_INFERRED = ("integer", "floating", "mixed-integer-float")


def _result(values: pd.Series, stamps: np.ndarray, status: np.ndarray) -> ParsedDates:
    is_date = status == _DATE
    day = stamps.astype("datetime64[D]")
    with np.errstate(invalid="ignore"):
        inside = is_date & (day >= _FIRST) & (day <= _LAST)
    out = np.where(inside, stamps, _NAT).astype("datetime64[s]")
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
    stamps = np.full(len(uniques), _NAT, dtype="datetime64[s]")
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
    stamps = np.full(x.size, _NAT, dtype="datetime64[s]")
    ok = ~np.isnan(seconds)
    stamps[ok] = seconds[ok].astype(np.int64).astype("datetime64[s]")
    if compact.any():
        ymd = x[compact]
        part, valid = _assemble(ymd // 10_000, ymd // 100 % 100, ymd % 100)
        stamps[compact] = part
        ok[compact] = valid
    return stamps, np.where(ok, _DATE, _NOT_DATE).astype(np.int8)


def _from_text(
    texts: np.ndarray, *, date1904: bool, day_first: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Dates in text: zero-padded ISO by array arithmetic, other forms one regex each."""
    stamps = np.full(len(texts), _NAT, dtype="datetime64[s]")
    status = np.full(len(texts), _NOT_DATE, dtype=np.int8)
    fast_stamps, fast = _iso_fast(texts)
    stamps[fast] = fast_stamps[fast]
    status[fast] = _DATE
    slow = np.flatnonzero(~fast)
    if not slow.size:
        return stamps, status
    rows = np.array([_read_text(t, day_first) for t in texts[slow]], dtype=float)
    rows = rows.reshape(slow.size, 8)
    form = rows[:, 0]
    status[slow[form == _FORM_BLANK]] = _BLANK
    if (number := form == _FORM_NUMBER).any():
        # Numeric *text* is an epoch or YYYYMMDD (as CSV exports write them), never an Excel
        # serial: spreadsheets store serials as numbers, and "12" typed as text is a mistake
        # to report, not 1900-01-12.
        x = rows[number, 7]
        x = np.where(np.abs(x) >= 10**7, x, np.nan)
        stamps[slow[number]], status[slow[number]] = _from_numbers(x, date1904)
    if (fields := (form == _FORM_FIELDS) | (form == _FORM_SWAPPABLE)).any():
        part = rows[fields]
        y, m, d, hour, minute, second = part[:, 1:7].T
        found, valid = _assemble(y, m, d, hour, minute, second)
        _, swapped = _assemble(y, d, m, hour, minute, second)
        other = ~valid & swapped & (part[:, 0] == _FORM_SWAPPABLE)
        stamps[slow[fields]] = found
        status[slow[fields]] = np.where(valid, _DATE, np.where(other, _OTHER_ORDER, _NOT_DATE))
    return stamps, status


_ISO_WIDTH = 40
_ISO_CHUNK = 1 << 16


def _iso_fast(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stamps, matched) of zero-padded year-first text, without a Python step per value.

    ``2026-09-05``, ``2026/09/05``, then optionally ``T`` or a space, ``08:07``, ``:00``, a
    fraction ``.123456`` (truncated) and ``Z``, ``±09``, ``±0900``, ``±09:00`` or ``UTC``
    (optionally after a space) — the forms an event export writes a million times. The
    strings are read as a matrix of code points (one row per string, zero-padded);
    anything else is left to :func:`_read_text`, which reads these forms identically.
    """
    n = len(texts)
    stamps = np.full(n, _NAT, dtype="datetime64[s]")
    matched = np.zeros(n, dtype=bool)
    width = _ISO_WIDTH + 1  # one more: longer strings are seen as too long, never cut
    for start in range(0, n, _ISO_CHUNK):
        chunk = texts[start : start + _ISO_CHUNK].astype(f"U{width}")
        length = np.char.str_len(chunk)
        take = np.flatnonzero((length >= 10) & (length <= _ISO_WIDTH))
        points = chunk[take].view(np.uint32).reshape(take.size, width)
        stamps[start + take], matched[start + take] = _iso_points(points, length[take])
    return stamps, matched


def _iso_points(cp: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code-point matrix (a zero column at the end) → (stamps, matched); see _iso_fast."""
    rows = np.arange(len(cp))
    last = cp.shape[1] - 1

    def at(position: np.ndarray | int) -> np.ndarray:
        return cp[rows, np.minimum(position, last)] if np.ndim(position) else cp[:, position]

    def digit(position: np.ndarray | int) -> np.ndarray:
        c = at(position)
        return (c >= 48) & (c <= 57)

    def digits(first: int, end: int) -> np.ndarray:
        return np.logical_and.reduce([digit(i) for i in range(first, end)])

    def number(first: int, end: int) -> np.ndarray:
        out = np.zeros(len(cp), dtype=np.int64)
        for i in range(first, end):
            out = out * 10 + at(i).astype(np.int64) - 48
        return out

    sep = at(4)
    ok = digits(0, 4) & digits(5, 7) & digits(8, 10) & ((sep == 45) | (sep == 47)) & (at(7) == sep)
    has_time = (length > 10) & ((at(10) == 84) | (at(10) == 32))  # "T" or " "
    has_time &= digits(11, 13) & (at(13) == 58) & digits(14, 16)
    ok &= (length == 10) | has_time
    has_seconds = has_time & (at(16) == 58) & digits(17, 19)
    q = np.where(has_seconds, 19, np.where(has_time, 16, 10))  # where the tail starts
    fraction = has_seconds & ((at(19) == 46) | (at(19) == 44))  # "." or ","
    tail = cp[:, 20:]
    run = np.argmax((tail < 48) | (tail > 57), axis=1)  # digits after the point
    ok &= ~fraction | ((run >= 1) & (run <= 9))
    q = np.where(fraction, 20 + run, q)
    q = np.where(has_time & (at(q) == 32) & (length > q + 1), q + 1, q)  # " +0900", " UTC"
    rest = length - q
    hours = ((at(q) == 43) | (at(q) == 45)) & digit(q + 1) & digit(q + 2)  # "+09"
    tail_ok = (
        (rest == 0)
        | ((rest == 1) & (at(q) == 90))  # Z
        | ((rest == 3) & (at(q) == 85) & (at(q + 1) == 84) & (at(q + 2) == 67))  # UTC
        | ((rest == 3) & hours)
        | ((rest == 5) & hours & digit(q + 3) & digit(q + 4))
        | ((rest == 6) & hours & (at(q + 3) == 58) & digit(q + 4) & digit(q + 5))
    )
    ok &= tail_ok
    hour = np.where(has_time, number(11, 13), 0)
    minute = np.where(has_time, number(14, 16), 0)
    second = np.where(has_seconds, number(17, 19), 0)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    ymd = [number(0, 4), number(5, 7), number(8, 10)]
    stamps, valid = _assemble(
        *(np.where(ok, c, 1).astype(float) for c in ymd), hour, minute, second
    )
    ok &= valid
    return np.where(ok, stamps, _NAT), ok


_FORM_BLANK, _FORM_NUMBER, _FORM_FIELDS, _FORM_SWAPPABLE, _FORM_NONE = 0, 1, 2, 3, 4
_NONE = (_FORM_NONE, *(np.nan,) * 7)
_PAREN = re.compile(rf"\s*\((?:{_WEEKDAY}|[a-z ]+)\)\s*", re.I)
_LEADING_WEEKDAY = re.compile(rf"^{_WEEKDAY},?\s+", re.I)
_JAPANESE = [
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), r"\1-\2-\3"),
    (re.compile(r"(\d{1,2})\s*時\s*(\d{1,2})\s*分\s*(\d{1,2})\s*秒"), r"\1:\2:\3"),
    (re.compile(r"(\d{1,2})\s*時\s*(\d{1,2})\s*分"), r"\1:\2"),
    (re.compile(r"(\d{1,2})\s*時(?!\d)"), r"\1:00"),
    (re.compile(r"午前\s*(\d{1,2}:\d{1,2}(?::\d{1,2})?)"), r"\1 AM"),
    (re.compile(r"午後\s*(\d{1,2}:\d{1,2}(?::\d{1,2})?)"), r"\1 PM"),
    (re.compile(r"(\d{1,2}:\d{1,2}(?::\d{1,2})?)\s*午前"), r"\1 AM"),
    (re.compile(r"(\d{1,2}:\d{1,2}(?::\d{1,2})?)\s*午後"), r"\1 PM"),
]


def _read_text(text: str, day_first: bool) -> tuple[float, ...]:
    """(form, year, month, day, hour, minute, second, number) of one distinct text value.

    Called once per distinct value that :func:`_iso_fast` did not read; the calendar
    checks (31 April, 29 February) are left to :func:`_assemble`, vectorised.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_DASHES)
        if not text.isascii():
            for pattern, replacement in _JAPANESE:
                text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if not text:
        return (_FORM_BLANK, *(np.nan,) * 7)
    if "(" in text:
        text = _PAREN.sub(" ", text).strip() or "("  # "(Sat)" alone is no date
    if text[0].isalpha():
        text = _LEADING_WEEKDAY.sub("", text)
    if _NUMERIC.match(text):
        return (_FORM_NUMBER, *(np.nan,) * 6, float(text))
    for family, pattern in _PATTERNS.items():
        match = pattern.match(text)
        if match is None:
            continue
        g = match.groupdict()
        year = g["Y"]
        y = float(year)
        if len(year) == 2:
            y += 2000 if y <= 68 else 1900
        form = _FORM_FIELDS
        if family == "num":
            a, b = float(g["a"]), float(g["b"])
            if g["sep"] == "." or day_first:
                m, d = b, a
            else:
                m, d = a, b
            form = _FORM_FIELDS if g["sep"] == "." else _FORM_SWAPPABLE
        elif family == "ymd":
            m, d = float(g["m"]), float(g["d"])
        else:
            m, d = float(_MONTHS.get(g["mon"].lower(), np.nan)), float(g["d"])
        hour = float(g["H"] or 0)
        minute, second = float(g["M"] or 0), float(g["S"] or 0)
        if g["AP"]:
            if hour > 12:
                return _NONE
            hour = hour % 12 + (12 if g["AP"] in "pP" else 0)
        if hour > 23 or minute > 59 or second > 59:
            return _NONE
        return (form, y, m, d, hour, minute, second, np.nan)
    return _NONE


def _assemble(
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    hour: np.ndarray | float = 0,
    minute: np.ndarray | float = 0,
    second: np.ndarray | float = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``datetime64[s]`` from float components and whether they name a real calendar date."""
    with np.errstate(invalid="ignore"):
        ok = (
            ~np.isnan(year)
            & (year >= 0)
            & (year <= 9999)
            & (month >= 1)
            & (month <= 12)
            & (day >= 1)
            & (day <= 31)
        )
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype(np.int64)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    days = first + np.where(ok, day - 1, 0).astype(np.int64)
    ok &= days.astype("datetime64[M]") == months.astype("datetime64[M]")
    offset = np.asarray(hour * 3600 + minute * 60 + second, dtype=float)
    offset = np.broadcast_to(np.where(np.isnan(offset), 0, offset), ok.shape)
    stamps = days.astype("datetime64[s]") + offset.astype(np.int64)
    return np.where(ok, stamps, _NAT), ok
