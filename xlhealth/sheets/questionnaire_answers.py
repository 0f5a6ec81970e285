"""A filled questionnaire read back: one file -> its customer, date, assessor and answers.

Found by the layout of :mod:`xlhealth.sheets.questionnaire` (its sheet and defined names),
checked against the book's model and customers; a file that cannot be imported raises
``Rejected`` naming file and cell, one with no answer yet ``NotFilled``. A blank date
takes the file's last-saved date, else the import date (``fallback_date``).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from defusedxml import ElementTree as SafeET

from xlhealth.core.model import Model
from xlhealth.core.text import normalise_one
from xlhealth.sheets.questionnaire import NAMES, SHEET


@dataclass
class Filled:
    path: Path
    customer_id: str
    key: str
    assessed_on: dt.date
    assessor: str
    answers: dict[str, int]
    unanswered: list[str]
    date_note: str | None = None  # set when the date cell was blank: which date stood in


class Rejected(Exception):
    """One questionnaire file cannot be imported; the message names file and cell."""


class NotFilled(Exception):
    """A questionnaire with no answer yet: nothing to import, nothing wrong."""


CORE_XML = "docProps/core.xml"
DCTERMS_MODIFIED = "{http://purl.org/dc/terms/}modified"


def saved_date(path: Path) -> dt.date | None:
    """The date of ``docProps/core.xml`` ``dcterms:modified`` (Excel writes it on save).

    The value is W3CDTF, e.g. ``2026-11-20T09:15:00Z``. With ``Z`` or an offset
    the date is the calendar date of that instant in UTC (``…T23:30:00-05:00``
    gives the next day); without a zone it is the date as written. None when
    the part or the element is missing, empty or not a full date.
    """
    try:
        with zipfile.ZipFile(path) as z:
            root = SafeET.fromstring(z.read(CORE_XML))
    except (KeyError, OSError, zipfile.BadZipFile, SafeET.ParseError, ValueError):
        return None
    element = root.find(DCTERMS_MODIFIED)
    text = (element.text or "").strip() if element is not None else ""
    if len(text) < 10:  # W3CDTF also allows "2026" and "2026-11": not a date
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.date()


def fallback_date(path: Path, ref: str, today: dt.date) -> tuple[dt.date, str]:
    """The date for a questionnaire whose date cell ``ref`` is blank, and the report line.

    The file's last-saved date (``saved_date``), else ``today`` (the import date).
    """
    head = f"{path.name}: no assessment date in {ref}; used"
    saved = saved_date(path)
    if saved is not None:
        return saved, f"{head} the file's last-saved date {saved}"
    return today, f"{head} today's date {today} (the file has no saved date)"


def read_filled(path: Path, model: Model, known: set[str], today: dt.date | None = None) -> Filled:
    """Validate one returned questionnaire; raise Rejected with a located reason.

    A blank date cell takes ``fallback_date`` (``today`` defaults to the current
    date); a date cell holding anything else that is not a date is rejected.
    """
    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        head = path.read_bytes()[:8] if path.exists() else b""
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise Rejected(
                f"{path.name}: password-protected or not an .xlsx; save it without a password"
            ) from error
        raise Rejected(f"{path.name}: not a questionnaire or damaged ({error})") from error
    missing = [n for n in (*NAMES.values(), "HSQ_ANSWERS") if n not in wb.defined_names]
    if SHEET not in wb.sheetnames or missing:
        raise Rejected(
            f"{path.name}: not an xlhealth maturity questionnaire (made with "
            "'xlhealth questionnaire new')"
        )
    ws = wb[SHEET]

    def cell(name: str):
        ref = wb.defined_names[name].attr_text.split("!")[1].replace("$", "")
        return ref, ws[ref].value

    ref, version = cell(NAMES["model_version"])
    if str(version or "") != str(model.settings.model_version or ""):
        raise Rejected(
            f"{path.name}!{ref}: model version {version!r} differs from the "
            f"workbook's {model.settings.model_version!r}; send a new questionnaire"
        )
    ref, customer = cell(NAMES["customer_id"])
    key = normalise_one(customer)
    if key is None:
        raise Rejected(f"{path.name}!{ref}: the customer ID is blank; fill it in")
    if key not in known:
        raise Rejected(
            f"{path.name}!{ref}: unknown customer {customer!r}; use an ID from the Customers sheet"
        )
    _, assessor = cell(NAMES["assessor"])
    area = wb.defined_names["HSQ_ANSWERS"].attr_text.split("!")[1].replace("$", "")
    rows = list(ws[area])
    factors = [str(r[0].value).strip() if r[0].value is not None else "" for r in rows]
    if sorted(factors) != sorted(model.maturity.factor_names):
        raise Rejected(
            f"{path.name}!{area}: its factors differ from the workbook's "
            "MaturityModel (another model); send a new questionnaire"
        )
    answers: dict[str, int] = {}
    unanswered: list[str] = []
    for factor, row in zip(factors, rows, strict=True):
        level_cell = row[-1]
        value = level_cell.value
        if value is None or (isinstance(value, str) and not value.strip()):
            unanswered.append(factor)
            continue
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or number not in (1, 2, 3, 4, 5):
            raise Rejected(
                f"{path.name}!{level_cell.coordinate}: level {value!r} for {factor} "
                "is not a whole number from 1 to 5; correct it and import again"
            )
        answers[factor] = int(number)
    if not answers:
        raise NotFilled(f"{path.name}: no answers yet")
    ref, when = cell(NAMES["assessed_on"])
    note = None
    if when is None or (isinstance(when, str) and not when.strip()):
        when, note = fallback_date(path, ref, today or dt.date.today())
    if isinstance(when, dt.datetime):
        when = when.date()
    if not isinstance(when, dt.date):
        raise Rejected(
            f"{path.name}!{ref}: the date {when!r} is not a date; enter it as yyyy-mm-dd"
        )
    return Filled(
        path,
        str(customer).strip(),
        key,
        when,
        str(assessor or "").strip(),
        answers,
        unanswered,
        note,
    )
