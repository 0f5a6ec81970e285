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
from xlhealth.excel import build, vba
from xlhealth.excel.build import NAMED_RANGES, build_workbook
from xlhealth.excel.udfs import REGISTRY

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


def xlwings_generate_vba_wrapper():
    """xlwings' own generator, taken from the text of xlwings/udfs.py.

    The module imports pythoncom at the top (Windows only), so the one function is
    compiled on its own; it needs nothing but VBAWriter.
    """
    import ast

    import xlwings
    from xlwings.utils import VBAWriter

    path = Path(xlwings.__file__).with_name("udfs.py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    (node,) = [n for n in tree.body if getattr(n, "name", "") == "generate_vba_wrapper"]
    namespace = {"VBAWriter": VBAWriter}
    exec(compile(ast.Module([node], []), str(path), "exec"), namespace)
    return namespace["generate_vba_wrapper"]


def test_udf_module_is_exactly_what_xlwings_import_functions_writes(built):
    """Line for line the output of xlwings.udfs.generate_vba_wrapper for our UDFs.

    What ``udfs.udf`` declares: ``@xw.func(call_in_wizard=False)`` (so xlwings writes its
    CommandBars guard: the Insert Function dialog does not run the function at each
    keystroke), volatile=False, sub=False; an argument with a default gets "optional".
    """
    import io
    import types

    from xlhealth.excel.udfs import MODULE

    fake = types.SimpleNamespace()
    for spec in REGISTRY:

        def fn():
            pass

        fn.__xlfunc__ = {
            "name": spec.name,
            "call_in_wizard": False,
            "volatile": False,
            "sub": False,
            "args": [
                {"name": a, "vba": None, "vararg": False}
                | ({"optional": None} if a in spec.optional else {})
                for a in spec.args
            ],
        }
        setattr(fake, spec.name, fn)
    out = io.StringIO()
    xlwings_generate_vba_wrapper()(
        MODULE, fake, out, types.SimpleNamespace(Name="HealthScore.xlsm")
    )

    def blocks(text: str) -> dict[str, str]:
        parts = re.split(r"(?m)^(?=Function )", text)
        return {re.match(r"Function (\w+)", p).group(1): p for p in parts if p.strip()}

    assert blocks(vba.udf_wrappers()) == blocks(out.getvalue())
    source = modules(built)[vba.UDF_MODULE]
    assert source.replace("\r\n", "\n").endswith(vba.udf_wrappers())
    assert vba.UDF_MODULE == "xlwings_udfs"  # the module Import Functions replaces
    assert source.count("CommandBars") == len(REGISTRY)  # one guard per function
    udfs_py = (Path(vba.__file__).parent / "udfs.py").read_text()
    assert "xw.func(call_in_wizard=False)" in udfs_py and "err_to_str=True" in udfs_py


def test_generated_vba_is_ascii_with_crlf_line_ends(built):
    source = modules(built)
    for name in (vba.UDF_MODULE, vba.MACRO_MODULE, "ThisWorkbook"):
        text = source[name]
        text.encode("ascii")  # no "x" turning into a half-width katakana on Japanese Windows
        assert "\r\r" not in text and "\n" not in text.replace("\r\n", ""), name
        assert max(len(line) for line in text.split("\r\n")) < 1024, name  # VBA's line limit
    assert "×" not in source[vba.MACRO_MODULE] and "Health x maturity" in source[vba.MACRO_MODULE]


def test_insert_function_help_in_english_and_japanese(built):
    """Workbook_Open registers MacroOptions (category xlhealth) for every UDF and argument."""
    source = modules(built)
    assert re.search(
        r"Private Sub Workbook_Open\(\)\r\n\s+xlhealth_macros\.RegisterFunctionHelp\r\nEnd Sub",
        source["ThisWorkbook"],
    )
    macros = source[vba.MACRO_MODULE]
    assert 'Category:="xlhealth", ArgumentDescriptions:=args' in macros
    assert "Application.LanguageSettings.LanguageID(2) = 1041" in macros
    decode = lambda codes: "".join(chr(int(codes[i : i + 4], 16)) for i in range(0, len(codes), 4))  # noqa: E731
    for spec in REGISTRY:
        call = re.search(
            rf'HSRegister "{spec.name}", "((?:[^"]|"")*)", HSText\("([0-9A-F]+)"\), ja, args',
            macros,
        )
        assert call, spec.name
        assert call.group(1) == vba.ascii_text(spec.description) and len(call.group(1)) <= 255
        assert decode(call.group(2)) == vba.FUNCTION_HELP_JA[spec.name]
        block = macros[: call.start()].rsplit("ReDim args", 1)[1]
        assert block.startswith(f"(0 To {len(spec.args) - 1})")
        for i, arg in enumerate(spec.args):
            en, ja = vba.ARGUMENT_HELP[arg]
            line = re.search(
                rf'If ja Then args\({i}\) = HSText\("([0-9A-F]+)"\) '
                rf'Else args\({i}\) = "((?:[^"]|"")*)"',
                block,
            )
            assert line and decode(line.group(1)) == ja and line.group(2) == en.replace('"', '""')
            assert len(en) <= 255 and len(ja) <= 255


def test_calculator_examples_are_dynamic_array_formulas(built):
    """Excel 365 reads a plain formula as legacy (=@HS_GROUPS(...), first value only)."""
    with zipfile.ZipFile(built) as z:
        metadata = z.read("xl/metadata.xml").decode()
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        from xlhealth.xlsx.package import Package

        with Package(built) as package:
            sheet = package.read(package.sheet_part("Calculator")).decode()
    assert 'name="XLDAPR"' in metadata and 'fDynamic="1"' in metadata
    assert '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata>' in metadata
    assert 'PartName="/xl/metadata.xml"' in types and "sheetMetadata+xml" in types
    assert 'relationships/sheetMetadata" Target="metadata.xml"' in rels
    cells = re.findall(
        r'<c r="(B\d+)"[^>]*?( cm="1")?><f( t="array" ref="([^"]+)")?>(HS_\w+)', sheet
    )
    assert len(cells) == len(build.CALCULATOR_EXAMPLES)
    for cell, cm, array, ref, fn in cells:
        assert cm and array, cell
        if fn == "HS_GROUPS":
            assert ref == f"{cell}:E{cell[1:]}"  # the four DEAR groups spill right
        else:
            assert ref == cell


def test_vba_project_stream_is_the_spec_form(built):
    """MS-OVBA 2.3.4.1: Version MUST be 0xFFFF on write, no PerformanceCache."""
    import io

    import olefile

    with zipfile.ZipFile(built) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    stream = ole.openstream("VBA/_VBA_PROJECT").read()
    assert stream == bytes.fromhex("cc61ffff000100")
    import xlwings

    with zipfile.ZipFile(Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")) as z:
        theirs = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    assert theirs.openstream("VBA/_VBA_PROJECT").read() == stream  # as xlwings' own file


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


def test_what_the_workbook_calls_in_python_exists(built):
    """Every RunPython in the shipped VBA and the UDF Modules entry name importable Python."""
    import importlib

    import openpyxl

    macros = modules(built)[vba.MACRO_MODULE]
    calls = re.findall(r'HSRun "import ([\w.]+); \1\.(\w+)\(\)"', macros)
    assert len(calls) >= 4
    for module, function in calls:
        assert callable(getattr(importlib.import_module(module), function)), (module, function)
    sheet = openpyxl.load_workbook(built)["xlwings.conf"]
    conf = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    udfs = importlib.import_module(conf["UDF Modules"])
    assert {spec.name for spec in REGISTRY} <= set(dir(udfs))


def test_buttons_give_back_excels_settings_and_clear_the_status_line(built):
    """Issue 22.7/12: after RunPython returns (Windows) the macro restores calculation,
    screen updating, events and alerts as they were, whatever Python did, and clears the
    success text from the status bar 20 seconds later; MacroOptions doubles an apostrophe
    in the book's name (Bob's HealthScore.xlsm)."""
    macros = modules(built)[vba.MACRO_MODULE]
    run = re.search(r"Private Sub HSRun\(code As String\)\r\n(.*?)\r\nEnd Sub", macros, re.S)
    assert run
    body = run.group(1)
    saved = body.index("calc = Application.Calculation")
    called = body.index("RunPython code")
    assert saved < called
    for setting, name in (("Calculation", "calc"), ("ScreenUpdating", "updating"),
                          ("EnableEvents", "events"), ("DisplayAlerts", "alerts")):  # fmt: skip
        assert body.index(f"{name} = Application.{setting}") < called
        assert body.index(f"Application.{setting} = {name}") > called
    assert body.index("#If Not Mac Then") > called  # a Mac run is asynchronous
    assert "HSClearStatus" in body and re.search(r"^Sub HSClearStatus\(\)", macros, re.M)
    assert 'Replace(ThisWorkbook.Name, "\'", "\'\'")' in body
    assert 'Macro:="\'" & Replace(ThisWorkbook.Name, "\'", "\'\'") & "\'!" & fn' in macros
    # every button goes through HSRun: its call is the only RunPython statement
    assert re.findall(r"^\s*RunPython .*$", macros, re.M) == ["    RunPython code\r"]


def test_sheets_conf_and_calculator(built):
    import openpyxl

    wb = openpyxl.load_workbook(built, keep_vba=True)
    assert {"Start", "Summary", "Customers", "Metrics", "Calculator", "xlwings.conf"} <= set(
        wb.sheetnames
    )
    conf = {r[0]: r[1] for r in wb["xlwings.conf"].iter_rows(values_only=True)}
    assert conf["UDF Modules"] == "xlhealth.excel.udfs"
    assert not {"Interpreter_Win", "Interpreter_Mac"} & set(conf)  # see test_excel_setup.py
    formulas = [
        c.value.text
        for row in wb["Calculator"].iter_rows()
        for c in row
        if hasattr(c.value, "text") and c.value.text.startswith("=HS_")
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
