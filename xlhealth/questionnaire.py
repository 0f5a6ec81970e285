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

This module holds the commands; the questionnaire workbook's layout and writer live in
:mod:`xlhealth.sheets.questionnaire`, reading a filled one back in
:mod:`xlhealth.sheets.questionnaire_answers`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlhealth.book.files import ensure_writable, safe_name
from xlhealth.book.read import read_workbook
from xlhealth.core.config import model_from_tables
from xlhealth.core.model import Model
from xlhealth.core.problems import RefreshError
from xlhealth.core.text import normalise_one
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets.questionnaire import write_questionnaire
from xlhealth.sheets.questionnaire_answers import Filled, NotFilled, Rejected, read_filled
from xlhealth.sheets.template import input_sheet
from xlhealth.xlsx.package import NewSheet, Package
from xlhealth.xlsx.sheetxml import SheetBuilder

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
class ImportReport:
    imported: list[Filled] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (customer, old date)
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    # information, not problems: e.g. which date stood in for a blank assessment date
    notes: list[tuple[Path, str]] = field(default_factory=list)
    backup: Path | None = None


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
