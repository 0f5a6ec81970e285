"""Maturity questionnaires: generate, fill like a manager, import, refresh; LibreOffice formulas."""

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from tests.workbooks import cli, libreoffice_roundtrip, part_bytes, sheet_frame
from xlhealth.core.config import default_model
from xlhealth.core.maturity import cmi
from xlhealth.questionnaire import import_questionnaires, write_templates
from xlhealth.refresh import check
from xlhealth.sheets.questionnaire import FIRST_FACTOR_ROW, SHEET, write_questionnaire
from xlhealth.sheets.questionnaire_answers import saved_date
from xlhealth.xlsx.package import Package

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FACTORS = [f.factor for f in default_model().maturity.factors]


@pytest.fixture
def book(tmp_path) -> Path:
    path = tmp_path / "book.xlsx"
    assert cli("demo", "--customers", "30", "-o", str(path))[0] == 0
    return path


def fill(path: Path, levels: list, when=dt.date(2026, 11, 2), **cells) -> None:
    """What a manager does: type the date and a level per factor (and maybe break things)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    ws["B6"] = when
    for i, level in enumerate(levels):
        ws.cell(row=FIRST_FACTOR_ROW + i, column=10, value=level)
    for ref, value in cells.items():
        ws[ref] = value
    wb.save(path)


def set_saved(path: Path, modified: str | None) -> None:
    """Rewrite dcterms:modified in docProps/core.xml (None: drop the element).

    openpyxl stamps ``modified`` with the current time on every save, so the
    part is rewritten in the zip afterwards, as Excel would have left it.
    """
    with zipfile.ZipFile(path) as z:
        parts = {info: z.read(info) for info in z.infolist()}
    core = next(info for info in parts if info.filename == "docProps/core.xml")
    text = parts[core].decode()
    start, end = text.index("<dcterms:modified"), text.index("</dcterms:modified>")
    element = text[start : end + len("</dcterms:modified>")]
    new = (
        ""
        if modified is None
        else f'<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
    )
    parts[core] = text.replace(element, new).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts.items():
            z.writestr(info, data)


def expected_cmi(levels: list) -> float:
    import pandas as pd

    rows = pd.DataFrame(
        {"pos": 0, "factor": FACTORS, "level": levels, "assessed_on": pd.NaT}
    ).dropna(subset=["level"])
    return float(cmi(default_model(), rows, 1)["cmi"].iloc[0])


def test_generate_fill_import_refresh(book, tmp_path):
    out = tmp_path / "q"
    code, text = cli(
        "questionnaire",
        "new",
        str(book),
        "--customer",
        "CUST-00001",
        "--customer",
        "cust-00002",
        "--customer",
        "CUST-00003",
        "-o",
        str(out),
    )
    assert code == 0 and "Wrote 3" in text, text
    files = sorted(out.glob("*.xlsx"))
    good = [4, 3, 5, 2, 3, None, 4, 4, 3, 2, 1, 5]  # one factor unanswered
    fill(files[0], good)
    fill(files[1], [3] * 12)
    fill(files[2], [3] * 11 + [7])  # a level of 7
    before = part_bytes(book)
    with Package(book) as p:
        other_parts = [p.sheet_part(n) for n in ("Customers", "Logins", "Metrics", "Summary")]
    code, text = cli("questionnaire", "import", str(book), str(out))
    assert code == 1
    assert "2 imported" in text and "1 rejected" in text
    assert "J22: level 7 for tech_integration is not a whole number from 1 to 5" in text
    assert "unanswered: people_change" in text
    after = part_bytes(book)
    for part in other_parts:
        assert after[part] == before[part]  # only Maturity is written
    assert book.with_name(book.name + ".bak").exists()
    answers = sheet_frame(book, "Maturity")
    mine = answers[answers["customer_id"] == "CUST-00001"]
    assert len(mine) == 11 and set(mine["assessed_on"].dt.date) == {dt.date(2026, 11, 2)}
    assert (
        "CUST-00003" not in set(answers["customer_id"])
        or not (
            answers.loc[answers["customer_id"] == "CUST-00003", "assessed_on"].dt.date
            == dt.date(2026, 11, 2)
        ).any()
    )  # nothing from the rejected file
    result, _ = check(book, as_of=dt.date.today())
    s = result.summary.set_index("customer_id")
    assert s.loc["CUST-00001", "cmi"] == pytest.approx(expected_cmi(good))
    assert s.loc["CUST-00001", "maturity_level"] == int(np.floor(expected_cmi(good) + 0.5))
    assert s.loc["CUST-00002", "cmi"] == 3.0
    high = s.loc["CUST-00002", "score"] >= 60
    assert s.loc["CUST-00002", "quadrant"] == ("Expand & co-create" if high else "Fix health")


def test_rejections_are_located_and_latest_assessment_wins(book, tmp_path, data):
    model = default_model()
    out = tmp_path / "q"
    out.mkdir()
    base = {"customer_id": "CUST-00004", "customer_name": "x", "assessor": "kim"}
    newer, older, dup = out / "newer.xlsx", out / "older.xlsx", out / "dup.xlsx"
    for path in (newer, older, dup):
        write_questionnaire(path, model, "en", base)
    fill(newer, [4] * 12, dt.date(2026, 11, 10))
    fill(older, [1] * 12, dt.date(2026, 1, 10))
    fill(dup, [2] * 12, dt.date(2026, 11, 10))
    stranger, version = out / "stranger.xlsx", out / "version.xlsx"
    write_questionnaire(stranger, model, "en", {**base, "customer_id": "NOPE-1"})
    fill(stranger, [3] * 12)
    write_questionnaire(version, model, "en", base)
    fill(version, [3] * 12, B7="1999.1")
    other = out / "other.xlsx"
    openpyxl.Workbook().save(other)
    damaged = out / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really")
    shutil.copy(data / "messy" / "calamine-pass_protected.xlsx", out / "locked.xlsx")
    code, text = cli("questionnaire", "import", str(book), str(out))
    assert code == 1, text
    assert "stranger.xlsx!B3: unknown customer 'NOPE-1'" in text
    assert "version.xlsx!B7: model version '1999.1' differs" in text
    assert "other.xlsx: not an xlhealth maturity questionnaire" in text
    assert "damaged.xlsx: not a questionnaire or damaged" in text
    assert "locked.xlsx: password-protected" in text
    assert "a second file for CUST-00004 dated 2026-11-10" in text
    assert "older.xlsx: a later assessment of CUST-00004 (2026-11-10) wins" in text
    answers = sheet_frame(book, "Maturity")
    mine = answers[answers["customer_id"] == "CUST-00004"]
    # dup.xlsx comes first (folder order), so newer.xlsx is the rejected second file
    assert "newer.xlsx: a second file for CUST-00004 dated 2026-11-10 (first: dup.xlsx)" in text
    assert set(mine["level"]) == {2} and len(mine) == 12
    # importing the older one again later: the workbook's newer assessment stays
    code, text = cli("questionnaire", "import", str(book), str(older))
    assert "already has a later assessment (2026-11-10)" in text


def test_template_is_committed_protected_validated_and_printable(tmp_path):
    fresh = write_templates(tmp_path)
    for path in fresh:
        committed = TEMPLATES / path.name
        assert committed.exists(), f"run: xlhealth questionnaire template ({path.name})"
        ours, theirs = part_bytes(path), part_bytes(committed)
        assert {k for k in ours if k != "docProps/core.xml"} == {
            k for k in theirs if k != "docProps/core.xml"
        }
        for name in ours:
            if name != "docProps/core.xml":
                assert ours[name] == theirs[name], f"{name}: regenerate the template"
    wb = openpyxl.load_workbook(TEMPLATES / "MaturityQuestionnaire.xlsx")
    ws = wb[SHEET]
    assert ws.protection.sheet and not ws.protection.password
    answer = ws.cell(row=FIRST_FACTOR_ROW, column=10)
    assert not answer.protection.locked and not ws["B3"].protection.locked
    assert ws.cell(row=FIRST_FACTOR_ROW, column=4).protection.locked and ws["B7"].protection.locked
    rules = [dv for dv in ws.data_validations.dataValidation if dv.type == "whole"]
    assert rules and rules[0].formula1 == "1" and rules[0].formula2 == "5"
    assert rules[0].prompt and rules[0].error and rules[0].showErrorMessage
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    ja = openpyxl.load_workbook(TEMPLATES / "MaturityQuestionnaire-ja.xlsx")[SHEET]
    assert ja["A1"].value == "カスタマー成熟度アンケート"
    assert ja.cell(row=FIRST_FACTOR_ROW, column=4).value.endswith("？")
    with zipfile.ZipFile(TEMPLATES / "MaturityQuestionnaire.xlsx") as z:
        assert "xl/vbaProject.bin" not in z.namelist()


@pytest.mark.libreoffice
@pytest.mark.parametrize(
    "levels",
    [
        [4, 3, 5, 2, 3, None, 4, 4, 3, 2, 1, 5],
        [1, None, None, None, None, None, None, None, None, None, None, None],
        [5, 5, 4, 4, 4, 4, 3, 3, 3, 2, 2, 1],
    ],
)
def test_the_sheets_own_cmi_formula_agrees_with_the_core(tmp_path, levels):
    path = tmp_path / "q.xlsx"
    shutil.copy(TEMPLATES / "MaturityQuestionnaire.xlsx", path)
    fill(path, levels)
    recalculated = libreoffice_roundtrip(path, tmp_path / "lo")
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    ws = wb[SHEET]
    values = {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=3).value
        for r in range(1, ws.max_row + 1)
    }
    assert values["Customer Maturity Index (CMI)"] == pytest.approx(expected_cmi(levels))
    assert values["Maturity level"] == int(np.floor(expected_cmi(levels) + 0.5))


def questionnaires(folder: Path, customer: str, *names: str) -> list[Path]:
    model, base = default_model(), {"customer_id": customer, "customer_name": "Alpha"}
    paths = [folder / name for name in names]
    for path in paths:
        write_questionnaire(path, model, "en", {**base, "assessor": "kim"})
    return paths


def test_blank_date_takes_the_files_last_saved_date(book, tmp_path):
    out = tmp_path / "q"
    blank, older = questionnaires(
        out, "CUST-00005", "Maturity - CUST-00005 - Alpha.xlsx", "older.xlsx"
    )
    fill(blank, [4] * 12, when=None)
    set_saved(blank, "2026-11-20T09:15:00Z")
    with zipfile.ZipFile(blank) as z:
        assert b">2026-11-20T09:15:00Z</dcterms:modified>" in z.read("docProps/core.xml")
    assert openpyxl.load_workbook(blank)[SHEET]["B6"].value is None
    fill(older, [1] * 12, dt.date(2026, 11, 2))
    report = import_questionnaires(book, (out,), today=dt.date(2026, 11, 23))
    assert not report.rejected
    assert [f.path for f in report.imported] == [blank]
    assert [why for _, why in report.notes] == [
        "Maturity - CUST-00005 - Alpha.xlsx: no assessment date in B6; "
        "used the file's last-saved date 2026-11-20"
    ]
    # latest wins with the stand-in date: the dated 2026-11-02 file loses to it
    assert any(
        "older.xlsx: a later assessment of CUST-00005 (2026-11-20) wins" in why
        for _, why in report.skipped
    )
    answers = sheet_frame(book, "Maturity")
    mine = answers[answers["customer_id"] == "CUST-00005"]
    assert len(mine) == 12 and set(mine["level"]) == {4}
    assert set(mine["assessed_on"].dt.date) == {dt.date(2026, 11, 20)}
    code, text = cli("questionnaire", "import", str(book), str(blank))  # the CLI accepts it too
    assert code == 0 and "rejected: " not in text and "1 imported" in text, text
    assert "note: " in text and "used the file's last-saved date 2026-11-20" in text, text


def test_blank_date_without_a_saved_date_takes_the_import_date(book, tmp_path):
    out = tmp_path / "q"
    first, second = questionnaires(out, "CUST-00006", "a.xlsx", "b.xlsx")
    for path in (first, second):
        fill(path, [3] * 12, when=None)
        set_saved(path, None)
        with zipfile.ZipFile(path) as z:
            assert b"dcterms:modified" not in z.read("docProps/core.xml")
    report = import_questionnaires(book, (out,), today=dt.date(2026, 11, 23))
    assert [why for _, why in report.notes] == [
        f"{name}: no assessment date in B6; used today's date 2026-11-23 "
        "(the file has no saved date)"
        for name in ("a.xlsx", "b.xlsx")
    ]
    # two files for one customer on the same stand-in date: the second is still caught
    assert [why for _, why in report.rejected] == [
        "b.xlsx: a second file for CUST-00006 dated 2026-11-23 (first: a.xlsx); keep one"
    ]
    answers = sheet_frame(book, "Maturity")
    mine = answers[answers["customer_id"] == "CUST-00006"]
    assert len(mine) == 12 and set(mine["assessed_on"].dt.date) == {dt.date(2026, 11, 23)}


def test_a_date_that_is_not_a_date_is_still_rejected(book, tmp_path):
    (path,) = questionnaires(tmp_path, "CUST-00007", "q.xlsx")
    fill(path, [3] * 12, when="next week")
    code, text = cli("questionnaire", "import", str(book), str(path))
    assert code == 1, text
    assert "rejected: q.xlsx!B6: the date 'next week' is not a date; enter it as yyyy-mm-dd" in text
    assert "0 imported" in text and "1 rejected" in text


@pytest.mark.parametrize(
    ("modified", "expected"),
    [
        ("2026-11-20T09:15:00Z", dt.date(2026, 11, 20)),
        ("2026-11-20T23:30:00-05:00", dt.date(2026, 11, 21)),  # the date in UTC
        ("2026-11-20T08:00:00+09:00", dt.date(2026, 11, 19)),
        ("2026-11-20T09:15:00", dt.date(2026, 11, 20)),  # no zone: as written
        ("2026-11-20", dt.date(2026, 11, 20)),
        ("2026-11", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_saved_date_reads_core_xml_modified(tmp_path, modified, expected):
    path = tmp_path / "q.xlsx"
    write_questionnaire(path, default_model())
    set_saved(path, modified)
    assert saved_date(path) == expected
