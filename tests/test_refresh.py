"""End to end through the CLI on real workbook files: demo, new, refresh, check."""

import datetime as dt
import os
import re
import shutil
import stat
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.workbooks import cell_values, cli, part_bytes, sheet_frame
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.demo.story import WEEKS
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.refresh import RefreshError, check, refresh
from xlhealth.sheets.outputs import OUTPUT_SHEETS
from xlhealth.sheets.template import SHEET_ORDER
from xlhealth.xlsx.package import Package

UNTOUCHED = [*INPUT_SHEETS, *CONFIG_SHEETS, "Start"]


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    code, out = cli("demo", "--customers", "80", "-o", str(path))
    assert code == 0, out
    return path


@pytest.fixture
def book(demo_book, tmp_path) -> Path:
    copy = tmp_path / "book.xlsx"
    shutil.copy(demo_book, copy)
    return copy


def test_demo_writes_every_sheet_and_prints_a_summary(demo_book, tmp_path):
    with Package(demo_book) as p:
        assert p.sheet_names == list(SHEET_ORDER)
    code, out = cli("demo", "--customers", "30", "-o", str(tmp_path / "d.xlsx"))
    assert code == 0
    assert "30 customers scored" in out and "Top actions" in out
    code, out = cli("demo", "--customers", "30", "-o", str(tmp_path / "d.xlsx"))
    assert code == 1 and "already exists" in out and "Traceback" not in out


def test_summary_on_the_sheet_equals_the_core(demo_book):
    summary = sheet_frame(demo_book, "Summary")
    result, _ = check(demo_book, as_of=dt.date.today())
    expected = result.summary
    assert summary["customer_id"].tolist() == expected["customer_id"].tolist()
    assert summary["score"].astype(float).tolist() == pytest.approx(
        expected["score"].tolist(), nan_ok=True
    )
    assert summary["tier"].astype(float).tolist() == expected["tier"].astype(float).tolist()
    assert summary["reasons"].fillna("").tolist() == expected["reasons"].tolist()
    history = sheet_frame(demo_book, "History")
    assert history["as_of"].nunique() == WEEKS  # the living demo's weekly snapshots
    assert summary["score_change"].notna().all()


def test_refresh_never_changes_input_or_config_sheets(book):
    before_cells = cell_values(book, UNTOUCHED)
    before_parts = part_bytes(book)
    with Package(book) as p:
        untouched_parts = [p.sheet_part(n) for n in UNTOUCHED]
    code, out = cli("refresh", str(book), "--as-of", "2026-12-01")
    assert code == 0, out
    assert cell_values(book, UNTOUCHED) == before_cells
    after = part_bytes(book)
    for part in untouched_parts:
        assert after[part] == before_parts[part], part
    bak = book.with_name(book.name + ".bak")
    assert part_bytes(bak) == before_parts  # the previous file, kept whole


def test_history_is_appended_and_one_snapshot_per_date(book):
    before = sheet_frame(book, "History")
    refresh(book, as_of=dt.date(2027, 1, 5))
    refresh(book, as_of=dt.date(2027, 1, 5))  # same date again: replaces that date only
    after = sheet_frame(book, "History")
    assert len(after) == len(before) + 80
    pd.testing.assert_frame_equal(
        after.iloc[: len(before)].reset_index(drop=True), before.reset_index(drop=True)
    )
    refresh(book, as_of=dt.date(2027, 2, 5))
    assert len(sheet_frame(book, "History")) == len(before) + 160


def test_refuses_when_open_in_excel_or_read_only(book):
    before = book.read_bytes()
    lock = book.with_name("~$" + book.name)
    lock.write_text("owner")
    code, out = cli("refresh", str(book))
    assert code == 1 and "open in Excel" in out and "Traceback" not in out
    lock.unlink()
    book.chmod(stat.S_IREAD)
    try:
        code, out = cli("refresh", str(book))
        assert code == 1 and "read-only" in out
    finally:
        book.chmod(stat.S_IREAD | stat.S_IWRITE)
    assert book.read_bytes() == before


def test_a_failure_while_writing_leaves_the_workbook_whole(book, monkeypatch):
    before = book.read_bytes()

    def broken_save(self, target):
        Path(target).write_bytes(b"half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Package, "save", broken_save)
    with pytest.raises(OSError):
        refresh(book)
    assert book.read_bytes() == before
    assert not list(book.parent.glob(".*xlhealth-tmp"))
    code, out = cli("refresh", str(book))
    assert code == 1 and "No space left" in out and "Traceback" not in out
    assert book.read_bytes() == before


def test_formula_like_text_is_written_as_text(tmp_path):
    path = tmp_path / "f.xlsx"
    assert cli("new", str(path))[0] == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["Customers"]
    names = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", '=HYPERLINK("http://x","y")']
    for i, name in enumerate(names):
        ws.append([f"C{i}", None, "SMB", "kim"])
        cell = ws.cell(row=i + 2, column=2, value=name)
        cell.data_type = "s"  # pasted text, as a CRM export arrives — not a formula
    wb.save(path)
    assert cli("refresh", str(path), "--no-backup")[0] == 0
    with Package(path) as p:
        for sheet in OUTPUT_SHEETS:
            xml = p.read(p.sheet_part(sheet)).decode()
            formulas = re.findall(r"<f(?: [^>]*)?>([^<]*)</f>", xml)  # the live scores' own
            assert not any(n[1:].replace('"', "&quot;") in f for f in formulas for n in names)
            live = {
                "Summary": ("INDEX('Values'",),
                # the segment table over Summary; the chart's points, lines and per-tier y
                "Segments": ("'Summary'!", "'Values'!", ",NA())"),
            }.get(sheet, ())
            if sheet != "Values":  # the live scores' formulas, and nothing else
                assert all(any(x in f for x in live) for f in formulas), sheet
    summary = sheet_frame(path, "Summary")
    assert sorted(summary["customer_name"]) == sorted(names)


def test_check_exit_codes_and_located_config_errors(book, tmp_path):
    code, out = cli("check", str(book))
    assert code == 0 and "80 customers can be scored" in out
    wb = openpyxl.load_workbook(book)
    wb["Tiers"]["B3"] = 90  # tier 4 above tier 5's 80
    wb["Surveys"]["D2"] = 11
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    code, out = cli("check", str(broken))
    assert code == 1
    assert re.search(r"error: Tiers!B\d, row \d, column min_score", out)
    code, out = cli("refresh", str(broken))
    assert code == 1 and "min_score must increase" in out
    wb["Tiers"]["B3"] = 60
    wb.save(broken)
    code, out = cli("check", str(broken))
    assert code == 0 and "warning: Surveys!D2, row 2, column nps (11)" in out


def test_unreadable_files_give_one_line(tmp_path, data):
    protected = data / "messy" / "calamine-pass_protected.xlsx"
    code, out = cli("check", str(protected))
    assert code == 1 and "password-protected" in out and "Traceback" not in out
    copy = tmp_path / "p.xlsx"
    shutil.copy(protected, copy)
    copy.chmod(stat.S_IREAD | stat.S_IWRITE)
    code, out = cli("refresh", str(copy))
    assert code == 1 and "password-protected" in out
    code, out = cli("refresh", str(tmp_path / "missing.xlsx"))
    assert code == 1 and "does not exist" in out
    messy = tmp_path / "deaths.xlsx"
    shutil.copy(data / "messy" / "readxl-deaths.xlsx", messy)
    messy.chmod(stat.S_IREAD | stat.S_IWRITE)
    code, out = cli("refresh", str(messy))
    assert code == 1 and "Customers sheet is missing" in out


def test_new_workbook_has_config_defaults_and_validated_inputs(tmp_path):
    path = tmp_path / "new.xlsx"
    code, out = cli("new", str(path), "--lang", "ja")
    assert code == 0 and "Created" in out
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEET_ORDER)
    settings = {r[0]: r[1] for r in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["language"] == "ja" and settings["coverage_min"] == 0.8
    surveys = wb["Surveys"]
    assert [c.value for c in surveys[1]] == ["customer_id", "email", "date", "nps"]
    rules = {str(dv.sqref): dv for dv in surveys.data_validations.dataValidation}
    nps = rules["D2:D1048576"]
    assert (nps.type, nps.formula1, nps.formula2) == ("whole", "0", "10")
    assert nps.prompt == "NPSの回答（0〜10）。"
    assert cli("new", str(path))[0] == 1


def test_xlsm_keeps_vba_ribbon_names_and_validation(book, tmp_path):
    xlsm = tmp_path / "book.xlsm"
    _make_macro_enabled(book, xlsm)
    before = part_bytes(xlsm)
    code, out = cli("refresh", str(xlsm), "--no-backup")
    assert code == 0, out
    after = part_bytes(xlsm)
    for part in ("xl/vbaProject.bin", "customUI/customUI14.xml", "_rels/.rels"):
        assert after[part] == before[part], part
    assert "macroEnabled.main+xml" in after["[Content_Types].xml"].decode()
    assert 'name="HS_TIERS"' in after["xl/workbook.xml"].decode()
    wb = openpyxl.load_workbook(xlsm, keep_vba=True)
    assert wb["Surveys"].data_validations.dataValidation
    assert wb.vba_archive is not None


def _make_macro_enabled(source: Path, target: Path) -> None:
    """An .xlsm with a VBA part, a ribbon and a defined name, built at the package level."""
    import zipfile

    parts = part_bytes(source)
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    ct = ct.replace(
        "</Types>",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    parts["[Content_Types].xml"] = ct.encode()
    rels = (
        parts["xl/_rels/workbook.xml.rels"]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
            'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
        )
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    parts["xl/vbaProject.bin"] = os.urandom(2048)
    parts["customUI/customUI14.xml"] = (
        b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"><ribbon><tabs>'
        b'<tab id="xlhealth" label="Health"/></tabs></ribbon></customUI>'
    )
    root_rels = (
        parts["_rels/.rels"]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdUI" Type="http://schemas.microsoft.com/office/'
            '2007/relationships/ui/extensibility" Target="customUI/customUI14.xml"/>'
            "</Relationships>",
        )
    )
    parts["_rels/.rels"] = root_rels.encode()
    wbxml = parts["xl/workbook.xml"].decode()
    wbxml = re.sub(r"<definedNames\s*/>|<definedNames>", "<definedNames>", wbxml, count=1)
    if "<definedNames>" not in wbxml:
        wbxml = wbxml.replace("<calcPr", "<definedNames></definedNames><calcPr", 1)
    wbxml = wbxml.replace(
        "<definedNames>",
        '<definedNames><definedName name="HS_TIERS">Tiers!$A$1:$E$6</definedName>',
        1,
    )
    if "</definedNames>" not in wbxml:
        wbxml = wbxml.replace(
            "Tiers!$A$1:$E$6</definedName>", "Tiers!$A$1:$E$6</definedName></definedNames>", 1
        )
    parts["xl/workbook.xml"] = wbxml.encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_refresh_error_for_api_users(tmp_path):
    with pytest.raises(RefreshError, match="does not exist"):
        refresh(tmp_path / "nope.xlsx")


def test_repeated_refreshes_do_not_grow_styles_or_parts(book):
    refresh(book, as_of=dt.date(2027, 3, 1), backup=False)
    first = part_bytes(book)
    refresh(book, as_of=dt.date(2027, 3, 1), backup=False)
    second = part_bytes(book)
    assert second["xl/styles.xml"] == first["xl/styles.xml"]
    assert sorted(second) == sorted(first)  # old drawings/charts replaced, not piled up
    assert sum(1 for n in second if n.startswith("xl/charts/")) == 2


def test_new_and_demo_into_a_missing_folder_say_so(tmp_path):
    missing = tmp_path / "no-such-folder" / "book.xlsx"
    for args in (("new", str(missing)), ("demo", "-o", str(missing))):
        code, out = cli(*args)
        assert code == 1
        assert f"folder {missing.parent} does not exist" in out
        assert "Traceback" not in out and not missing.parent.exists()
