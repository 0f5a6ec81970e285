"""Maturity questionnaires: one small workbook per customer, filled by a manager, imported back.

The questionnaire works without Python: each answer cell has a 1–5 drop-down
with a hint and an error alert, the characteristic averages and the weighted
CMI are native Excel formulas (the same rules as the core: mean of answered
factors, weighted mean of answered characteristics, rounded to 2 decimals, the
level rounded half up), and everything but the header values, answers and
comments is locked (sheet protection without a password).

Import validates every file before anything is written; a rejected file
contributes nothing. A blank assessment date is not a rejection: the file's
last-saved date stands in for it, else the import date, and the report says
which (see ``fallback_date``). The book's Maturity sheet — the one input sheet
the tool ever writes, and only on this command — is replaced atomically (with
NAME.bak).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
from defusedxml import ElementTree as SafeET
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from xlhealth.book.files import ensure_writable, safe_name
from xlhealth.book.read import read_workbook
from xlhealth.core.config import model_from_tables
from xlhealth.core.model import CHARACTERISTICS, Model
from xlhealth.core.problems import RefreshError
from xlhealth.core.text import normalise_one
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets.template import input_sheet
from xlhealth.xlsx.package import NewSheet, Package
from xlhealth.xlsx.sheetxml import SheetBuilder

SHEET = "Questionnaire"
FIRST_FACTOR_ROW = 11
NAMES = {
    "customer_id": "HSQ_CUSTOMER_ID",
    "customer_name": "HSQ_CUSTOMER_NAME",
    "assessor": "HSQ_ASSESSOR",
    "assessed_on": "HSQ_DATE",
    "model_version": "HSQ_VERSION",
}
TEXT = {
    "en": {
        "title": "Customer Maturity Questionnaire",
        "customer_id": "Customer ID",
        "customer_name": "Customer",
        "assessor": "Assessor",
        "assessed_on": "Date",
        "model_version": "Model version",
        "intro": "Rate each factor 1 (very low) to 5 (very high) in the yellow 'Level' cells; "
        "leave a factor blank if you cannot judge it. The index below updates as "
        "you type.",
        "headers": [
            "Characteristic",
            "Factor",
            "Facet",
            "Question",
            "1",
            "2",
            "3",
            "4",
            "5",
            "Level",
            "Comment",
        ],
        "summary": "Result",
        "weight": "Weight",
        "average": "Average level",
        "cmi": "Customer Maturity Index (CMI)",
        "level": "Maturity level",
        "hint_title": "Level 1-5",
        "hint": "Pick 1 (very low) to 5 (very high), or leave blank if you cannot judge.",
        "error": "Enter a whole number from 1 to 5.",
    },
    "ja": {
        "title": "カスタマー成熟度アンケート",
        "customer_id": "顧客ID",
        "customer_name": "顧客名",
        "assessor": "評価者",
        "assessed_on": "評価日",
        "model_version": "モデルバージョン",
        "intro": "各項目を黄色の「レベル」欄に 1（非常に低い）〜 5（非常に高い）で"
        "評価してください。判断できない項目は空欄のままで構いません。"
        "下の指数は入力に合わせて更新されます。",
        "headers": ["特性", "要素", "観点", "質問", "1", "2", "3", "4", "5", "レベル", "コメント"],
        "summary": "結果",
        "weight": "重み",
        "average": "平均レベル",
        "cmi": "カスタマー成熟度指数（CMI）",
        "level": "成熟度レベル",
        "hint_title": "レベル1〜5",
        "hint": "1（非常に低い）〜 5（非常に高い）を選択。判断できない場合は空欄。",
        "error": "1〜5 の整数を入力してください。",
    },
}
CHAR_JA = {
    "Strategy": "戦略",
    "People": "人材",
    "Process": "プロセス",
    "Technology": "テクノロジー",
}
FACET_JA = {"what": "何があるか", "how_well": "どの程度うまく", "relation": "他との関係"}
YELLOW = PatternFill("solid", fgColor="FFF2CC")
HEAD = PatternFill("solid", fgColor="1F4E79")
THIN = Side(style="thin", color="BFBFBF")


def write_questionnaire(
    path: str | Path, model: Model, lang: str = "en", customer: dict[str, object] | None = None
) -> Path:
    """One questionnaire workbook for ``customer`` (blank header values when None)."""
    path = Path(path)
    t = TEXT[lang]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = t["title"]
    ws["A1"].font = Font(bold=True, size=16, color="1F4E79")
    ws["A2"] = t["intro"]
    ws["A2"].font = Font(italic=True, color="595959")
    values = customer or {}
    version = model.settings.model_version
    for i, key in enumerate(
        ["customer_id", "customer_name", "assessor", "assessed_on", "model_version"]
    ):
        row = 3 + i
        ws.cell(row=row, column=1, value=t[key]).font = Font(bold=True)
        cell = ws.cell(
            row=row, column=2, value=version if key == "model_version" else values.get(key)
        )
        if key == "assessed_on":
            cell.number_format = "yyyy-mm-dd"
        if key != "model_version":
            cell.fill = YELLOW
            cell.protection = Protection(locked=False)
        wb.defined_names[NAMES[key]] = DefinedName(NAMES[key], attr_text=f"'{SHEET}'!$B${row}")
    date_rule = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="36526",
        allow_blank=True,
        showErrorMessage=True,
        error=t["assessed_on"] + " (yyyy-mm-dd)",
    )
    ws.add_data_validation(date_rule)
    date_rule.add("B6")

    header_row = FIRST_FACTOR_ROW - 1
    for j, text in enumerate(t["headers"], start=1):
        cell = ws.cell(row=header_row, column=j, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEAD
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    rule = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2="5",
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=t["hint_title"],
        prompt=t["hint"],
        errorTitle=t["hint_title"],
        error=t["error"],
        errorStyle="stop",
    )
    ws.add_data_validation(rule)
    rows_of: dict[str, list[int]] = {c: [] for c in CHARACTERISTICS}
    for i, f in enumerate(model.maturity.factors):
        row = FIRST_FACTOR_ROW + i
        rows_of.setdefault(f.characteristic, []).append(row)
        levels = f.levels_ja if lang == "ja" and any(f.levels_ja) else f.levels
        question = f.question_ja if lang == "ja" and f.question_ja else f.question
        cells = [
            CHAR_JA.get(f.characteristic, f.characteristic) if lang == "ja" else f.characteristic,
            f.factor,
            FACET_JA.get(f.facet, f.facet) if lang == "ja" else f.facet,
            question,
            *levels,
        ]
        for j, value in enumerate(cells, start=1):
            cell = ws.cell(row=row, column=j, value=value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = Border(bottom=THIN)
        ws.row_dimensions[row].height = 48  # wrapped level texts stay readable in print
        answer = ws.cell(row=row, column=10)
        answer.fill = YELLOW
        answer.protection = Protection(locked=False)
        answer.alignment = Alignment(horizontal="center", vertical="top")
        answer.font = Font(bold=True, size=12)
        rule.add(answer.coordinate)
        comment = ws.cell(row=row, column=11)
        comment.protection = Protection(locked=False)
        comment.alignment = Alignment(wrap_text=True, vertical="top")
        comment.fill = PatternFill("solid", fgColor="F2F2F2")
    last = FIRST_FACTOR_ROW + len(model.maturity.factors) - 1
    wb.defined_names["HSQ_ANSWERS"] = DefinedName(
        "HSQ_ANSWERS", attr_text=f"'{SHEET}'!$B${FIRST_FACTOR_ROW}:$J${last}"
    )

    # Result: per characteristic average and weight, then the weighted CMI (Excel formulas).
    top = last + 2
    ws.cell(row=top, column=1, value=t["summary"]).font = Font(bold=True, size=13, color="1F4E79")
    counted = "counted weight" if lang == "en" else "算入する重み"
    weighted = "weight × level" if lang == "en" else "重み × レベル"
    for j, text in enumerate(
        [t["headers"][0], t["weight"], t["average"], counted, weighted], start=1
    ):
        ws.cell(row=top + 1, column=j, value=text).font = Font(bold=True)
    chars = [c for c in CHARACTERISTICS if rows_of.get(c)]
    for i, c in enumerate(chars):
        row = top + 2 + i
        answers = ",".join(f"J{r}" for r in rows_of[c])
        ws.cell(row=row, column=1, value=CHAR_JA.get(c, c) if lang == "ja" else c)
        ws.cell(row=row, column=2, value=model.maturity.weights.get(c, 0))
        avg = ws.cell(row=row, column=3, value=f'=IF(COUNT({answers})=0,"",AVERAGE({answers}))')
        avg.number_format = "0.00"
        ws.cell(row=row, column=4, value=f'=IF(C{row}="",0,B{row})')
        ws.cell(row=row, column=5, value=f'=IF(C{row}="",0,B{row}*C{row})').number_format = "0.00"
    first_c, last_c = top + 2, top + 1 + len(chars)
    cmi_row = last_c + 1
    ws.cell(row=cmi_row, column=1, value=t["cmi"]).font = Font(bold=True)
    # the core's rule: weighted mean over the characteristics with an answer, 2 decimals
    cmi = ws.cell(
        row=cmi_row,
        column=3,
        value=(
            f'=IF(SUM(D{first_c}:D{last_c})=0,"",'
            f"ROUND(SUM(E{first_c}:E{last_c})/SUM(D{first_c}:D{last_c}),2))"
        ),
    )
    cmi.number_format = "0.00"
    cmi.font = Font(bold=True, size=14, color="1F4E79")
    level = ws.cell(row=cmi_row + 1, column=3, value=f'=IF(C{cmi_row}="","",ROUND(C{cmi_row},0))')
    ws.cell(row=cmi_row + 1, column=1, value=t["level"]).font = Font(bold=True)
    level.font = Font(bold=True, size=14, color="1F4E79")
    wb.defined_names["HSQ_CMI"] = DefinedName("HSQ_CMI", attr_text=f"'{SHEET}'!$C${cmi_row}")

    widths = {
        "A": 16,
        "B": 22,
        "C": 14,
        "D": 46,
        "E": 22,
        "F": 22,
        "G": 22,
        "H": 22,
        "I": 22,
        "J": 9,
        "K": 30,
    }
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{FIRST_FACTOR_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.protection.sheet = True  # no password: managers can unprotect to adjust layout
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# ----------------------------------------------------------------------------- new files


def write_templates(folder: str | Path | None = None) -> list[Path]:
    """templates/MaturityQuestionnaire.xlsx (English) and …-ja.xlsx from the default model."""
    from xlhealth.core.config import default_model
    from xlhealth.core.model import templates_dir

    base = Path(folder) if folder else templates_dir()
    model = default_model()
    return [
        write_questionnaire(base / "MaturityQuestionnaire.xlsx", model, "en"),
        write_questionnaire(base / "MaturityQuestionnaire-ja.xlsx", model, "ja"),
    ]


def book_model(book_path: Path) -> tuple[Model, pd.DataFrame, pd.DataFrame | None]:
    """The BOOK's model, its Customers table and its Maturity answers."""
    from xlhealth.core.model import CONFIG_SHEETS

    book = read_workbook(book_path, (*INPUT_SHEETS, *CONFIG_SHEETS))
    tables = book.tables()
    from xlhealth.core.problems import ConfigError

    try:
        model = model_from_tables({k: tables.get(k) for k in CONFIG_SHEETS})
    except ConfigError as error:
        raise RefreshError([book.locate(p) for p in error.problems]) from error
    if "Customers" not in tables:
        raise RefreshError(f"{book_path.name} has no Customers sheet")
    return model, tables["Customers"], tables.get("Maturity")


def new_questionnaires(
    book: str | Path,
    out_dir: str | Path | None = None,
    customers: tuple[str, ...] = (),
    every: bool = False,
    segment: str | None = None,
    lang: str | None = None,
) -> list[Path]:
    """Pre-filled questionnaires (customer, name, owner as assessor, the BOOK's model)."""
    book = Path(book)
    model, table, _ = book_model(book)
    lang = lang or model.settings.language
    table = table.copy()
    table["_key"] = table["customer_id"].map(normalise_one)
    if every:
        chosen = table
    elif segment:
        chosen = table[
            table.get("segment", pd.Series(dtype=object)).astype(str).str.strip().str.casefold()
            == segment.strip().casefold()
        ]
    else:
        keys = [normalise_one(c) for c in customers]
        unknown = [c for c, k in zip(customers, keys, strict=True) if k not in set(table["_key"])]
        if unknown:
            raise RefreshError(
                f"unknown customer {unknown[0]!r}; use an ID from the Customers sheet"
            )
        chosen = table[table["_key"].isin(keys)]
    if chosen.empty:
        raise RefreshError("no customers chosen: give --customer ID, --all or --segment NAME")
    out = Path(out_dir) if out_dir else book.parent / "questionnaires"
    paths = []
    for row in chosen.drop_duplicates("_key").itertuples(index=False):
        values = row._asdict()
        name = values.get("customer_name")
        stem = f"Maturity - {values['customer_id']}" + (f" - {name}" if name else "")
        paths.append(
            write_questionnaire(
                out / (safe_name(stem) + ".xlsx"),
                model,
                lang,
                {
                    "customer_id": values["customer_id"],
                    "customer_name": name,
                    "assessor": values.get("owner"),
                },
            )
        )
    return paths


# ----------------------------------------------------------------------------- import


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


@dataclass
class ImportReport:
    imported: list[Filled] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (customer, old date)
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    # information, not problems: e.g. which date stood in for a blank assessment date
    notes: list[tuple[Path, str]] = field(default_factory=list)
    backup: Path | None = None


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


def _paths(items: tuple[str | Path, ...]) -> list[Path]:
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            out += sorted(p for p in item.glob("*.xlsx") if not p.name.startswith(("~$", ".")))
        else:
            out.append(item)
    return out


def import_questionnaires(
    book: str | Path, paths: tuple[str | Path, ...], today: dt.date | None = None
) -> ImportReport:
    """Validate every file, then write the accepted answers into BOOK's Maturity sheet.

    ``today`` is the import date (default: the current date), the last resort for
    a blank assessment date; ``report.notes`` lists each file whose date stood in.
    """
    book = Path(book)
    ensure_writable(book)
    model, customers, maturity = book_model(book)
    known = {k for k in customers["customer_id"].map(normalise_one) if k}
    today = today or dt.date.today()
    report = ImportReport()
    accepted: dict[tuple[str, dt.date], Filled] = {}
    for path in _paths(paths):
        try:
            filled = read_filled(path, model, known, today)
        except Rejected as why:
            report.rejected.append((path, str(why)))
            continue
        except NotFilled as why:
            report.skipped.append((path, str(why)))
            continue
        if filled.date_note:
            report.notes.append((path, filled.date_note))
        slot = (filled.key, filled.assessed_on)
        if slot in accepted:
            report.rejected.append(
                (
                    path,
                    f"{path.name}: a second file for {filled.customer_id} "
                    f"dated {filled.assessed_on} (first: "
                    f"{accepted[slot].path.name}); keep one",
                )
            )
            continue
        accepted[slot] = filled
    latest: dict[str, Filled] = {}
    for filled in sorted(accepted.values(), key=lambda f: f.assessed_on):
        if filled.key in latest:
            older = latest[filled.key]
            report.skipped.append(
                (
                    older.path,
                    f"{older.path.name}: a later assessment of "
                    f"{older.customer_id} ({filled.assessed_on}) wins",
                )
            )
        latest[filled.key] = filled
    existing = _existing(maturity)
    for key, filled in list(latest.items()):
        mine = existing[existing["_key"] == key]
        if not mine.empty:
            newest = pd.to_datetime(mine["assessed_on"], errors="coerce").max()
            if pd.notna(newest) and newest.date() > filled.assessed_on:
                report.skipped.append(
                    (
                        filled.path,
                        f"{filled.path.name}: the workbook already "
                        f"has a later assessment ({newest.date()})",
                    )
                )
                del latest[key]
                continue
            old = "" if pd.isna(newest) else str(newest.date())
            report.replaced.append((filled.customer_id, old))
    if not latest:
        return report
    keep = existing[~existing["_key"].isin(set(latest))].drop(columns="_key")
    rows = [
        {
            "customer_id": f.customer_id,
            "factor": factor,
            "level": level,
            "assessed_on": pd.Timestamp(f.assessed_on),
            "assessor": f.assessor,
        }
        for f in latest.values()
        for factor, level in f.answers.items()
    ]
    frame = pd.concat([keep, pd.DataFrame(rows)], ignore_index=True)
    report.backup = _write_maturity(book, frame, model.settings.language)
    report.imported = list(latest.values())
    return report


def _existing(maturity: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["customer_id", "factor", "level", "assessed_on", "assessor"]
    if maturity is None or maturity.empty:
        frame = pd.DataFrame(columns=columns)
    else:
        frame = maturity.reindex(columns=columns)
    frame = frame.copy()
    frame["_key"] = frame["customer_id"].map(normalise_one)
    return frame


def _write_maturity(book: Path, frame: pd.DataFrame, lang: str) -> Path:
    """Replace the Maturity sheet atomically; every other part stays byte for byte."""
    tmp = book.with_name(f".{book.name}.xlhealth-tmp")
    bak = book.with_name(book.name + ".bak")
    try:
        with Package(book) as package:
            b = SheetBuilder(package.styles, package.date1904)
            input_sheet(b, "Maturity", frame, lang)
            package.set_sheet("Maturity", NewSheet(b.xml()))
            package.save(tmp)
        shutil.copy2(book, bak)
        os.replace(tmp, book)
    finally:
        if tmp.exists():
            tmp.unlink()
    return bak
