"""Dates written as text: the per-form parsers behind :func:`xlhealth.inputs.dates.parse_dates`.

Zero-padded ISO text is read by :func:`iso_fast` as a matrix of code points; every other
text form (year first, numeric day and month, month names, Japanese, with optional time
and offset; the rules are in :mod:`xlhealth.inputs.dates`) by :func:`read_text`, one regex
per form and one call per distinct value. :func:`assemble` turns calendar fields into
timestamps and checks them, vectorised. Kept apart from the dispatch by kind in
:mod:`xlhealth.inputs.dates`, which uses these.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from xlhealth.inputs.distinct import DASHES

__all__ = [
    "FORM_BLANK",
    "FORM_FIELDS",
    "FORM_NUMBER",
    "FORM_SWAPPABLE",
    "NAT",
    "assemble",
    "iso_fast",
    "read_text",
]

NAT = np.datetime64("NaT", "s")

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


_ISO_WIDTH = 40
_ISO_CHUNK = 1 << 16


def iso_fast(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stamps, matched) of zero-padded year-first text, without a Python step per value.

    ``2026-09-05``, ``2026/09/05``, then optionally ``T`` or a space, ``08:07``, ``:00``, a
    fraction ``.123456`` (truncated) and ``Z``, ``±09``, ``±0900``, ``±09:00`` or ``UTC``
    (optionally after a space) — the forms an event export writes a million times. The
    strings are read as a matrix of code points (one row per string, zero-padded);
    anything else is left to :func:`read_text`, which reads these forms identically.
    """
    n = len(texts)
    stamps = np.full(n, NAT, dtype="datetime64[s]")
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
    """Code-point matrix (a zero column at the end) → (stamps, matched); see iso_fast."""
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
    stamps, valid = assemble(*(np.where(ok, c, 1).astype(float) for c in ymd), hour, minute, second)
    ok &= valid
    return np.where(ok, stamps, NAT), ok


FORM_BLANK, FORM_NUMBER, FORM_FIELDS, FORM_SWAPPABLE, _FORM_NONE = 0, 1, 2, 3, 4
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


def read_text(text: str, day_first: bool) -> tuple[float, ...]:
    """(form, year, month, day, hour, minute, second, number) of one distinct text value.

    Called once per distinct value that :func:`iso_fast` did not read; the calendar
    checks (31 April, 29 February) are left to :func:`assemble`, vectorised.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(DASHES)
        if not text.isascii():
            for pattern, replacement in _JAPANESE:
                text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if not text:
        return (FORM_BLANK, *(np.nan,) * 7)
    if "(" in text:
        text = _PAREN.sub(" ", text).strip() or "("  # "(Sat)" alone is no date
    if text[0].isalpha():
        text = _LEADING_WEEKDAY.sub("", text)
    if _NUMERIC.match(text):
        return (FORM_NUMBER, *(np.nan,) * 6, float(text))
    for family, pattern in _PATTERNS.items():
        match = pattern.match(text)
        if match is None:
            continue
        g = match.groupdict()
        year = g["Y"]
        y = float(year)
        if len(year) == 2:
            y += 2000 if y <= 68 else 1900
        form = FORM_FIELDS
        if family == "num":
            a, b = float(g["a"]), float(g["b"])
            if g["sep"] == "." or day_first:
                m, d = b, a
            else:
                m, d = a, b
            form = FORM_FIELDS if g["sep"] == "." else FORM_SWAPPABLE
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


def assemble(
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
    return np.where(ok, stamps, NAT), ok
