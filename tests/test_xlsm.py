"""workbook/HealthScore.xlsm: generated, committed, and working on first open."""

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser
from pyopenvba import ExcelFile

from tests.workbooks import cli, libreoffice_roundtrip, part_bytes
from xlhealth import vba
from xlhealth.build import NAMED_RANGES, build_workbook
from xlhealth.udfs import REGISTRY

COMMITTED = Path(__file__).resolve().parents[1] / "workbook" / "HealthScore.xlsm"
VOLATILE = {"docProps/core.xml", "xl/vbaProject.bin"}  # timestamps; VBA compared as source


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("xlsm") / "HealthScore.xlsm")


def modules(path: Path) -> dict[str, str]:
    with ExcelFile(path) as book:
        return book.vba_modules()


def test_committed_workbook_matches_the_build(built):
    assert COMMITTED.exists(), "run: xlhealth build-workbook (and commit workbook/)"
    ours, theirs = part_bytes(built), part_bytes(COMMITTED)
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        if name not in VOLATILE:
            assert ours[name] == theirs[name], f"{name} differs: rebuild and commit the workbook"
    assert modules(built) == modules(COMMITTED)


def test_macro_enabled_package(built):
    with zipfile.ZipFile(built) as z:
        types = z.read("[Content_Types].xml").decode()
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
        assert "vbaProject" in types
        root = z.read("_rels/.rels").decode()
        assert "ui/extensibility" in root and "customUI/customUI14.xml" in root
        workbook = z.read("xl/workbook.xml").decode()
    for name in NAMED_RANGES:
        assert f'<definedName name="{name}">' in workbook


def test_vba_reads_back_with_pyopenvba_and_olevba(built):
    source = modules(built)
    assert {"xlwings", "Dictionary", vba.UDF_MODULE, vba.MACRO_MODULE} <= set(source)
    assert "'Version: 0.37.8" in source["xlwings"]
    import xlwings

    assert xlwings.__version__ == "0.37.8"  # the Python side matches the VBA module
    parser = VBA_Parser(str(built))
    found = {stream.split("/")[-1]: code for _, stream, _, code in parser.extract_macros()}
    parser.close()
    assert vba.UDF_MODULE in found and "XLPy.CallUDF" in found[vba.UDF_MODULE]
    assert '#Const App = "Microsoft Excel"' in found[vba.UDF_MODULE]


def test_every_udf_has_its_wrapper(built):
    udf_source = modules(built)[vba.UDF_MODULE]
    for spec in REGISTRY:
        signature = re.search(rf"^Function {spec.name}\(([^)]*)\)", udf_source, re.M)
        assert signature, spec.name
        params = [p.replace("Optional ", "").strip() for p in signature.group(1).split(",")]
        assert params == list(spec.args)
        assert f'"{spec.name}", Array({", ".join(spec.args)})' in udf_source
        assert f"Attribute {spec.name}.VB_Description" in udf_source


def test_ribbon_callbacks_and_button_macro_exist(built):
    macros = modules(built)[vba.MACRO_MODULE]
    subs = set(re.findall(r"^Sub (\w+)\(", macros, re.M))
    with zipfile.ZipFile(built) as z:
        ribbon = ElementTree.fromstring(z.read("customUI/customUI14.xml"))
        drawing = z.read("xl/drawings/xlhealth_start.xml").decode()
    actions = {el.get("onAction") for el in ribbon.iter() if el.get("onAction")}
    assert actions and actions <= subs
    for action in actions:
        assert re.search(rf"^Sub {action}\(control As IRibbonControl\)", macros, re.M)
    button = re.search(r'macro="\[0\]!(\w+)"', drawing)
    assert button and button.group(1) in subs
    assert {"Refresh", "ExportForEmail", "ImportQuestionnaires"} <= subs


def test_sheets_conf_and_calculator(built):
    import openpyxl

    wb = openpyxl.load_workbook(built, keep_vba=True)
    assert {"Start", "Summary", "Customers", "Metrics", "Calculator", "xlwings.conf"} <= set(
        wb.sheetnames
    )
    conf = {r[0]: r[1] for r in wb["xlwings.conf"].iter_rows(values_only=True)}
    assert conf["UDF Modules"] == "xlhealth.udfs" and "Interpreter_Win" in conf
    formulas = [
        c.value
        for row in wb["Calculator"].iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=HS_")
    ]
    used = {re.match(r"=(HS_\w+)\(", f).group(1) for f in formulas}
    assert {"HS_SCORE", "HS_TIER", "HS_REASONS", "HS_QUADRANT"} <= used


def test_headless_refresh_keeps_vba_ribbon_button_names_and_validation(built, tmp_path):
    copy = tmp_path / "HealthScore.xlsm"
    shutil.copy(built, copy)
    demo = tmp_path / "demo.xlsx"
    assert cli("demo", "--customers", "40", "-o", str(demo))[0] == 0
    # paste the demo's Customers rows into the macro-enabled book with openpyxl (as a user would)
    import openpyxl

    source = openpyxl.load_workbook(demo, read_only=True)
    book = openpyxl.load_workbook(copy, keep_vba=True)
    for row in list(source["Customers"].iter_rows(min_row=2, values_only=True)):
        book["Customers"].append(list(row))
    book.save(copy)
    before = part_bytes(copy)
    code, out = cli("refresh", str(copy), "--no-backup")
    assert code == 0, out
    after = part_bytes(copy)
    for part in ("xl/vbaProject.bin", "customUI/customUI14.xml", "_rels/.rels"):
        assert after[part] == before[part], part
    wbxml = after["xl/workbook.xml"].decode()
    assert all(f'<definedName name="{n}">' in wbxml for n in NAMED_RANGES)
    wb = openpyxl.load_workbook(copy, keep_vba=True)
    assert wb["Surveys"].data_validations.dataValidation
    assert len(list(wb["Summary"].iter_rows(min_row=3))) == 40


@pytest.mark.libreoffice
def test_libreoffice_opens_the_macro_workbook(built, tmp_path):
    converted = libreoffice_roundtrip(built, tmp_path)
    import openpyxl

    names = openpyxl.load_workbook(converted, read_only=True).sheetnames
    assert {"Start", "Calculator", "xlwings.conf", "Metrics"} <= set(names)
