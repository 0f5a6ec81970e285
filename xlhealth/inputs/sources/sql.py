"""The portable SQL of a source: one text for DuckDB and PostgreSQL (and, later, warehouses).

Why hand-written SQL and not ibis: every per-customer value must equal the in-sheet result
exactly, so the engine must apply *our* normalisation (IDs, e-mail domains, organisation
names, dates and numbers as exports write them) — which no expression library gives for
free; two engines are all this repository can test; and ibis is a large dependency. So:

* the engine sends back the DISTINCT values of the columns that need our rules (customer
  links, filter and ``distinct`` columns, text metrics, dates and numbers written as text);
* Python normalises them with the very functions the in-sheet path uses and sends small
  mapping tables back (value -> customer position, normalised code, day, number);
* one aggregate query joins them and returns one row per customer: ``SUM(CASE WHEN ...)``,
  ``COUNT(DISTINCT CASE WHEN ...)``, ``MIN``/``MAX``, and ``ROW_NUMBER()`` for ``latest``
  and ``value``.

Forms every export writes a million times are computed in SQL, because their rule is
simple and provably the same as :mod:`xlhealth.inputs.dates` / :mod:`xlhealth.inputs.values` (tests
check both readings on generated values): zero-padded ISO dates and timestamps (only the
day matters: the first ten characters are mapped), epoch numbers (seconds, ms, µs, ns, by
magnitude), SQL dates and timestamps (``CAST AS DATE``; sessions run in UTC), plain
decimal numbers in text and typed numbers.

Sums are exact: each number is split into four integer chunks (``sign·⌊|x|⌋`` and three
31-bit pieces of the fraction) whose sums are exact in any engine and any order, then
combined in Python into the correctly rounded total (:mod:`xlhealth.core.exactsum`; the
in-sheet path sums the same way). Values outside the chunks' range (``|x| ≥ 2³¹`` or
``0 < |x| < 2⁻⁴¹``) are fetched per customer and value.

What engines spell differently (types, the regular-expression match, the day of an
instant…) comes from a :class:`~xlhealth.inputs.sources.dialects.Dialect` — every function
here takes one, and the default writes the PostgreSQL/DuckDB text; how a small table is
joined is the engine's (:mod:`xlhealth.inputs.sources.database`).
"""

from __future__ import annotations

import datetime as dt

from xlhealth.core.exactsum import BIG, SCALE, TINY
from xlhealth.core.tables import FIRST_DATE, LAST_DATE
from xlhealth.inputs.sources.dialects import BASE, Dialect

EPOCH = dt.date(1970, 1, 1)
FIRST_DAY = (FIRST_DATE - EPOCH).days
LAST_DAY = (LAST_DATE - EPOCH).days

ISO_TEXT = (
    "^[0-9]{4}(-[0-9]{2}-[0-9]{2}|/[0-9]{2}/[0-9]{2})"
    "([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]{1,9})?)?"
    "( ?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?))?)?$"
)
"""Zero-padded year-first text that :mod:`xlhealth.inputs.dates` reads by its fast path: its day is
the day of its first ten characters (time and offset never move it)."""
EPOCH_TEXT = "^[1-9][0-9]{8,18}$"
"""Whole numbers of 9 to 19 digits as text: epoch seconds, ms, µs or ns (never a serial)."""
NUMBER_TEXT = "^-?[0-9]{1,15}([.][0-9]{1,15})?$"
"""Plain decimal text: ``float(text)`` in Python and ``CAST AS DOUBLE`` in SQL agree."""
MAX_DOUBLE = "1.7976931348623157e308"


def double(x: object, d: Dialect = BASE) -> str:
    return d.cast(str(x), "float")


def matches(expr: str, pattern: str, d: Dialect = BASE) -> str:
    return d.regex(expr, pattern)


def epoch_day(x: str, d: Dialect = BASE) -> str:
    """Days since 1970 of epoch seconds / ms / µs / ns by magnitude (``x`` >= 1e8, < 1e20)."""
    divisor = (
        f"CASE WHEN {x} < {double('1e11', d)} THEN {double(1, d)} "
        f"WHEN {x} < {double('1e14', d)} THEN {double(1000, d)} "
        f"WHEN {x} < {double('1e17', d)} THEN {double(1000000, d)} "
        f"ELSE {double(1000000000, d)} END"
    )
    return f"CAST(FLOOR(FLOOR({x} / ({divisor})) / {double(86400, d)}) AS BIGINT)"


def is_epoch(x: str, d: Dialect = BASE) -> str:
    return f"({x} >= {double('1e8', d)} AND {x} < {double('1e20', d)})"


def in_range(day: str) -> str:
    return f"CASE WHEN {day} BETWEEN {FIRST_DAY} AND {LAST_DAY} THEN {day} END"


def date_tag(c: str, kind: str, d: Dialect = BASE) -> str | None:
    """For text: 1 = ISO (mapped by its first ten characters), 2 = epoch digits, 0 = other.

    Computed once per row (a column of the raw relation), so each regular expression runs
    once per row and scan, however many expressions use the tag.
    """
    if kind != "text":
        return None
    return (
        f"CASE WHEN {matches(c, ISO_TEXT, d)} THEN 1 WHEN {matches(c, EPOCH_TEXT, d)} THEN 2 "
        "ELSE 0 END"
    )


def date_parts(c: str, kind: str, tag: str | None = None, iso: str | None = None,
               d: Dialect = BASE) -> tuple[str | None, str | None]:  # fmt: skip
    """(key mapped by Python, day computed in SQL) of a date column; either may be None.

    ``tag``: the column holding :func:`date_tag` (text columns); ``iso``: a column holding
    the day of ISO text already read (a cached file's ``v`` tag: the day of the first ten
    characters when it is a real day in range, else NULL — those go to Python as before).
    """
    if kind in ("date", "timestamp", "timestamptz"):
        return None, d.day(c, kind)
    if kind in ("int", "float"):
        x = double(c, d)
        return (
            f"CASE WHEN {is_epoch(x, d)} THEN NULL ELSE {x} END",
            f"CASE WHEN {is_epoch(x, d)} THEN {epoch_day(x, d)} END",
        )
    if kind == "text":
        tag = tag or date_tag(c, kind, d)
        if iso is not None:
            return (
                f"CASE WHEN {iso} IS NOT NULL THEN NULL WHEN {tag} = 1 THEN SUBSTR({c}, 1, 10) "
                f"WHEN {tag} = 2 THEN NULL ELSE {c} END",
                f"CASE WHEN {iso} IS NOT NULL THEN {iso} WHEN {tag} = 2 THEN "
                f"{epoch_day(double(c, d), d)} END",
            )
        return (
            f"CASE WHEN {tag} = 1 THEN SUBSTR({c}, 1, 10) WHEN {tag} = 2 THEN NULL ELSE {c} END",
            f"CASE WHEN {tag} = 2 THEN {epoch_day(double(c, d), d)} END",
        )
    return c, None  # booleans: never dates (Python says so, with the count)


def number_tag(c: str, kind: str, d: Dialect = BASE) -> str | None:
    """For text: 1 = plain decimal text (read in SQL), 0 = other (mapped by Python)."""
    return f"CASE WHEN {matches(c, NUMBER_TEXT, d)} THEN 1 ELSE 0 END" if kind == "text" else None


def number_parts(
    c: str, kind: str, flags: bool, tag: str | None = None, d: Dialect = BASE
) -> tuple[str | None, str | None]:
    """(key mapped by Python, number computed in SQL) of a number column.

    ``flags``: TRUE/FALSE count 1/0 (the in-sheet rule for metric columns; the contract's
    own number columns such as ``nps`` refuse them). ``tag``: the :func:`number_tag` column.
    """
    if kind in ("int", "float"):
        x = double(c, d)
        return None, f"CASE WHEN {x} BETWEEN -{MAX_DOUBLE} AND {MAX_DOUBLE} THEN {x} END"
    if kind == "bool":
        if not flags:
            return None, d.null("float")
        return None, f"CASE WHEN {c} THEN {double(1, d)} WHEN NOT {c} THEN {double(0, d)} END"
    if kind == "text":
        tag = tag or number_tag(c, kind, d)
        return (
            f"CASE WHEN {tag} = 1 THEN NULL ELSE {c} END",
            f"CASE WHEN {tag} = 1 THEN {double(c, d)} END",
        )
    return None, d.null("float")  # a date is not a number


def chunk_columns(n: str, i: int, d: Dialect = BASE) -> list[str]:
    """Exact-sum chunks of number ``n`` as ``h{i}, g1_{i}, g2_{i}, g3_{i}, o{i}`` columns."""
    s, tiny, big = double(SCALE, d), double(repr(TINY), d), double(BIG, d)
    a = f"ABS({n})"
    ok = f"({n} = {double(0, d)} OR ({a} >= {tiny} AND {a} < {big}))"
    r = f"({a} - FLOOR({a}))"
    y = f"({r} * {s})"
    z = f"(({y} - FLOOR({y})) * {s})"
    g3 = f"(({z} - FLOOR({z})) * {s})"

    def signed(x: str) -> str:
        return f"CASE WHEN {ok} THEN CAST(SIGN({n}) * {x} AS BIGINT) END"

    return [
        f"{signed(f'FLOOR({a})')} AS h{i}",
        f"{signed(f'FLOOR({y})')} AS g1_{i}",
        f"{signed(f'FLOOR({z})')} AS g2_{i}",
        f"{signed(g3)} AS g3_{i}",
        f"CASE WHEN {n} IS NOT NULL AND NOT {ok} THEN 1 ELSE 0 END AS o{i}",
    ]


CLEAN_TEXT = "^[!-~]([ -~]*[!-~])?$"
"""Printable ASCII with no space at either end: the in-sheet normalisation of such a value
(:func:`xlhealth.inputs.ids.normalise_one`: NFKC and strip are the identity on it) is its lower
case, unless it is 18 characters long (a Salesforce ID may lose its checksum)."""


EMAIL_TEXT = "^[!-?A-~]+@[!-?A-~]+$"
"""Printable ASCII with one ``@`` and no space: its in-sheet domain
(:func:`xlhealth.inputs.ids.email_domains`) is the lower case of what follows the ``@``."""


def email_domain(x: str, d: Dialect = BASE) -> str:
    """An e-mail link reduced to ``@domain`` where SQL can tell its domain (the in-sheet
    reading of ``@domain`` is that same domain), else as it is: the values that travel
    are domains, not addresses."""
    return (f"CASE WHEN {matches(x, EMAIL_TEXT, d)} THEN "
            f"'@' || LOWER(SUBSTR({x}, POSITION('@' IN {x}) + 1)) ELSE {x} END")  # fmt: skip


def clean_text(c: str, d: Dialect = BASE) -> str:
    """True where ``LOWER(c)`` is the value's normalised code: no Python needed for it."""
    return f"({matches(c, CLEAN_TEXT, d)} AND LENGTH({c}) <> 18)"
