"""Build ``workbook/HealthScore.xlsm`` from ``templates/``: a book that works on first open.

No "Import Functions" and no xlwings add-in needed: the standalone xlwings
module of the pinned xlwings, the UDF wrappers, the macros module, a ribbon
tab whose callbacks exist, a Refresh button on Start, named ranges for the
config tables, a Calculator sheet with example formulas and an
``xlwings.conf`` sheet are all written here, offline.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from xlhealth.core.config import default_model, default_tables
from xlhealth.core.model import GROUPS
from xlhealth.core.scoring import assign_tiers, band_points, group_scores, weighted_score
from xlhealth.core.tables import column_letter
from xlhealth.excel import vba
from xlhealth.sheets import formulas as fx
from xlhealth.sheets.template import new_workbook
from xlhealth.sheets.values import cell_xml
from xlhealth.xlsx.package import NewSheet, Package, Rel
from xlhealth.xlsx.sheetxml import NOTE, TITLE, SheetBuilder
from xlhealth.xlsx.styles import CellStyle

NAMED_RANGES = {
    "HS_METRICS": "Metrics",
    "HS_RULES": "Rules",
    "HS_TIERS": "Tiers",
    "HS_MATURITY_MODEL": "MaturityModel",
    "HS_MATRIX": "Matrix",
    "HS_ALERTS": "Alerts",
    "HS_SETTINGS": "Settings",
}
TABLE_ROWS = 500  # named ranges reach this far so managers can add rows; blanks are ignored
XLWINGS_CONF = [
    ("UDF Modules", "xlhealth.excel.udfs", "Where the worksheet functions live"),
    ("Show Console", "False", "True shows a console window for debugging"),
]
# xlwings reads this sheet from A1 down to the first blank cell in column A, and a key
# found there wins over the user's own config even when its value is blank (the
# standalone module's GetConfig): so the interpreter keys are left out, not blank, and
# `xlhealth excel-setup BOOK` adds them to the block when a book needs its own.
CONF_NOTES = {
    "Interpreter_Win": "Python on Windows: full path of pythonw.exe (xlhealth excel-setup BOOK)",
    "Interpreter_Mac": "Python on macOS: full path of python3 (xlhealth excel-setup BOOK)",
    "PYTHONPATH": "Folder holding the xlhealth package, if it is not installed",
}
CONF_HELP = [
    "Only the rows above the first empty cell of column A are settings (xlwings reads them "
    "and they win over your own xlwings config, even when blank).",
    "No interpreter is set here, so the one in your xlwings config applies: run "
    "`xlhealth excel-setup` once per computer (it writes ~/.xlwings/xlwings.conf, or "
    "~/Library/Containers/com.microsoft.Excel/Data/xlwings.conf on a Mac).",
    "To tie this workbook to one Python instead, run `xlhealth excel-setup HealthScore.xlsm` "
    "(adds Interpreter_Win or Interpreter_Mac, and PYTHONPATH if needed, above).",
]
CT_METADATA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
REL_METADATA = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"
# One XLDAPR (dynamic array properties) record: what Excel 365 writes for a formula that spills.
METADATA_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" '
    'copy="1" pasteAll="1" pasteValues="1" merge="1" splitFirst="1" rowColShift="1" '
    'clearFormats="1" clearComments="1" assign="1" coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst>'
    '<ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk>'
    "</futureMetadata>"
    '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
)
# MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF ("MUST be 0xFFFF on write"),
# Reserved2 0x00, Reserved3 0x0001 and no PerformanceCache ("MUST NOT be present on
# write") -- the 7 bytes xlwings' own quickstart_standalone.xlsm carries.
VBA_PROJECT_STREAM = bytes.fromhex("cc61ffff000100")
# (label, formula, columns it spills to): every example is written as a dynamic-array formula.
CALCULATOR_EXAMPLES = [
    ("Score", "HS_SCORE({names},{values},HS_METRICS,HS_RULES)", 1),
    ("Tier", "HS_TIER(B{score},HS_TIERS)", 1),
    ("Tier name", 'HS_TIER_LABEL(B{score},HS_TIERS,"en")', 1),
    ("Why", "HS_REASONS({names},{values},HS_METRICS,HS_RULES)", 1),
    ("DEAR groups", "HS_GROUPS({names},{values},HS_METRICS,HS_RULES)", 4),
    ("Quadrant (CMI 3.4)", "HS_QUADRANT(B{score},3.4,HS_MATRIX,HS_SETTINGS)", 1),
    ("Decision (CMI 3.4)", "HS_DECISION(B{score},3.4,HS_MATRIX,HS_SETTINGS)", 1),
]
REL_UI = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
REL_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"


def build_workbook(target: str | Path, lang: str = "en") -> Path:
    """Write the macro-enabled workbook to ``target`` (replacing it)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.stem}.build.xlsx")
    staged = target.with_name(f".{target.stem}.build.xlsm")
    for leftover in (work, staged):
        leftover.unlink(missing_ok=True)
    try:
        new_workbook(work, lang)
        with Package(work) as package:
            _add_calculator(package)
            package.set_sheet("xlwings.conf", conf_sheet(package, XLWINGS_CONF))
            _add_names(package)
            _add_ribbon(package, lang)
            _add_button(package, lang)
            package.content_types = package.content_types.replace(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            )
            package.save(staged)
        _add_vba(staged)
        shutil.move(staged, target)
    finally:
        for leftover in (work, staged):
            leftover.unlink(missing_ok=True)
    return target


def _add_names(package: Package) -> None:
    tables = default_tables()
    names = []
    for name, sheet in NAMED_RANGES.items():
        last = column_letter(len(tables[sheet].columns) - 1)
        names.append(
            f"<definedName name=\"{name}\">'{sheet}'!$A$1:${last}${TABLE_ROWS}</definedName>"
        )
    xml = package.workbook_xml
    block = "<definedNames>" + "".join(names) + "</definedNames>"
    xml = re.sub(r"<definedNames\s*/>", "", xml)
    if "<definedNames>" in xml:
        xml = xml.replace("<definedNames>", "<definedNames>" + "".join(names), 1)
    else:
        xml = (
            re.sub(r"(<calcPr\b)", block + r"\1", xml, count=1)
            if "<calcPr" in xml
            else xml.replace("</workbook>", block + "</workbook>")
        )
    package.workbook_xml = xml


def _add_ribbon(package: Package, lang: str) -> None:
    package.set_part("customUI/customUI14.xml", vba.ribbon_xml(lang).encode("utf-8"))
    root = package.read("_rels/.rels").decode("utf-8")
    if REL_UI not in root:
        root = root.replace(
            "</Relationships>",
            f'<Relationship Id="rIdXlhealthUI" '
            f'Type="{REL_UI}" Target="customUI/customUI14.xml"/></Relationships>',
        )
    package.set_part("_rels/.rels", root.encode("utf-8"))


def _add_button(package: Package, lang: str) -> None:
    """A Refresh button (a shape running the Refresh macro) on the Start sheet."""
    text = "更新（Refresh）" if lang == "ja" else "Refresh"
    drawing = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<xdr:twoCellAnchor editAs="absolute"><xdr:from><xdr:col>0</xdr:col><xdr:colOff>0'
        "</xdr:colOff><xdr:row>7</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to>"
        "<xdr:col>0</xdr:col><xdr:colOff>1800000</xdr:colOff><xdr:row>10</xdr:row>"
        '<xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="[0]!Refresh" textlink="">'
        '<xdr:nvSpPr><xdr:cNvPr id="2" name="RefreshButton" descr="Runs the Refresh macro"/>'
        '<xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr><a:prstGeom prst="roundRect"><a:avLst/>'
        '</a:prstGeom><a:solidFill><a:srgbClr val="1F4E79"/></a:solidFill></xdr:spPr>'
        '<xdr:txBody><a:bodyPr anchor="ctr"/><a:lstStyle/><a:p><a:pPr algn="ctr"/><a:r>'
        '<a:rPr lang="en-US" sz="1400" b="1"><a:solidFill><a:srgbClr val="FFFFFF"/>'
        f"</a:solidFill></a:rPr><a:t>{text}</a:t></a:r></a:p></xdr:txBody></xdr:sp>"
        "<xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>"
    )
    part = "xl/drawings/xlhealth_start.xml"
    package.set_part(part, drawing.encode("utf-8"), CT_DRAWING)
    start = package.sheet_part("Start")
    assert start is not None
    xml = package.read(start).decode("utf-8")
    xml = xml.replace("</worksheet>", '<drawing r:id="rIdButton"/></worksheet>')
    sheet = NewSheet(
        xml.encode("utf-8"), [Rel("rIdButton", REL_DRAWING, "../drawings/xlhealth_start.xml")]
    )
    package.set_sheet("Start", sheet)


def _add_calculator(package: Package) -> None:
    """Example UDF formulas (they calculate in Windows Excel with Python installed)."""
    b = SheetBuilder(package.styles, package.date1904)
    b.text_line("Calculator — the worksheet functions (Windows Excel)", TITLE)
    b.text_line(
        "Each function works on one row or a whole range and spills a column. They "
        "take the config tables as the named ranges HS_METRICS, HS_RULES, HS_TIERS, "
        "HS_MATURITY_MODEL, HS_MATRIX, HS_SETTINGS.",
        NOTE,
    )
    b.next_row += 1
    names = [m for m in pd.unique(default_tables()["Rules"]["metric"])]
    sample = {
        "onboarding_overdue": 0,
        "licence_activation": 0.8,
        "weekly_active_rate": 0.4,
        "login_days_14d": 8,
        "monthly_use": 15,
        "key_features_used": 2,
        "nps_latest": 7,
        "complaints_90d": 1,
        "contacts_90d": 2,
        "days_since_exec_contact": 120,
        "days_since_value_review": 60,
        "value_realised": 0.7,
    }
    header_row = b.next_row
    frame = pd.DataFrame([[sample.get(n) for n in names]], columns=names)
    from xlhealth.xlsx.sheetxml import Block, Column

    b.block(
        Block(
            frame,
            [Column(n, n, "number", CellStyle(halign="center"), 16) for n in names],
            show_keys=False,
            gap_after=1,
        )
    )
    last = column_letter(len(names) - 1)
    names_ref = f"A{header_row}:{last}{header_row}"
    values_ref = f"A{header_row + 1}:{last}{header_row + 1}"
    score_row = b.next_row
    for text, formula, width in CALCULATOR_EXAMPLES:
        row = b.next_row
        b.formulas([("B", formula.format(names=names_ref, values=values_ref, score=score_row))])
        # A dynamic-array formula, as Excel 365 writes one: cm="1" points at the XLDAPR
        # record of xl/metadata.xml and ref is the spill range. Without it Excel reads a
        # legacy formula, shows =@HS_GROUPS(...) and only the first value.
        spill = f"B{row}:{column_letter(width)}{row}" if width > 1 else f"B{row}"
        b.rows[-1] = re.sub(
            rf'(<c r="B{row}" s="\d+")><f>',
            rf'\1 cm="1"><f t="array" ref="{spill}">',
            b.rows[-1],
        ).replace(
            f'<row r="{row}">',
            f'<row r="{row}"><c r="A{row}" '
            f's="{package.styles.xf(CellStyle(bold=True))}" '
            f't="inlineStr"><is><t>{text}</t></is></c>',
            1,
        )
    _classic_calculator(b, names, frame, header_row)
    _add_metadata(package)
    b.widths[0] = 22
    b.tab_color = "FFC000"
    package.set_sheet("Calculator", NewSheet(b.xml()))


def _classic_calculator(b: SheetBuilder, names: list[str], frame: pd.DataFrame, header: int):
    """The same score with classic formulas over the config sheets — what Summary and Values
    use, so it calculates in every Excel (Mac and the web too) and in LibreOffice."""
    tables = default_tables()
    sheet = {n: fx.table(n, {c: column_letter(i) for i, c in enumerate(t.columns)}, 1,
                         len(t) + 1) for n, t in tables.items()}  # fmt: skip
    model = default_model()
    values = frame.astype(float)
    pts = band_points(model, values)
    by_metric = {m.name: m for m in model.scored_metrics}
    b.next_row += 1
    b.text_line("The same with classic formulas — every Excel (Mac and the web too) and "
                "LibreOffice; Summary's live scores are built the same way", TITLE)  # fmt: skip
    b.text_line("Change a weight on Metrics, a band on Rules or a threshold on Tiers: these "
                "cells (and Summary) re-score at once.", NOTE)  # fmt: skip
    last = column_letter(len(names) - 1)
    rows = {}
    param = CellStyle(halign="center", italic=True, color="595959")
    for what in ("points", "weight", "max points", "group"):
        rows[what] = row = b.next_row
        cells = []
        for j, n in enumerate(names):
            col = column_letter(j)
            name, value = f"{col}${header}", f"{col}${header + 1}"
            m = by_metric[n]
            if what == "points":
                when = fx.metric_param(sheet["Metrics"], name, "when_missing", True)
                number = fx.metric_param(sheet["Metrics"], name, "when_missing")
                f = fx.points(sheet["Rules"], name, value, fx.missing_points(when, number), False)
                v = pts.points[n].iloc[0]
            elif what == "weight":
                f, v = fx.metric_param(sheet["Metrics"], name, "weight"), m.weight
            elif what == "max points":
                f, v = fx.max_points(sheet["Rules"], name), m.max_points
            else:
                f, v = fx.metric_param(sheet["Metrics"], name, "group", True), m.group
            cells.append(cell_xml(f"{col}{row}", b.styles.xf(param), f, v))
        label = cell_xml(f"{column_letter(len(names))}{row}", b.styles.xf(NOTE), None,
                         f"← {what}")  # fmt: skip
        b.rows.append(f'<row r="{row}">{"".join(cells)}{label}</row>')
        b.next_row += 1
    b.next_row += 1
    ranges = {k: f"$A${r}:${last}${r}" for k, r in rows.items()}
    score = weighted_score(pts.points, model.scored_metrics)[0]
    groups = group_scores(pts.points, model).iloc[0]
    tier = assign_tiers([score], model.tiers).iloc[0]
    label = {t.tier: t.label for t in model.tiers}.get(int(tier), "") if tier == tier else ""
    score_cell = f"$B${b.next_row}"
    lines = [
        ("Score", fx.score(ranges["points"], ranges["weight"], ranges["max points"]), score),
        ("Tier", fx.tier(sheet["Tiers"], score_cell), tier),
        (
            "Tier name",
            fx.labelled(
                sheet["Tiers"],
                "tier",
                f"$B${b.next_row + 1}",
                "label",
                fx.setting(sheet["Settings"], "language", '"en"'),
            ),
            label,
        ),
    ]
    for g in GROUPS:
        mask = f"{ranges['group']}={fx.text(g)}"
        lines.append((g, fx.score(ranges["points"], ranges["weight"], ranges["max points"], mask),
                      groups[g.lower()]))  # fmt: skip
    bold = b.styles.xf(CellStyle(bold=True))
    result = b.styles.xf(CellStyle(bold=True, fill="E2EFDA", halign="center"))
    for text, f, v in lines:
        row = b.next_row
        b.rows.append(f'<row r="{row}">{cell_xml(f"A{row}", bold, None, text)}'
                      f'{cell_xml(f"B{row}", result, f, v)}</row>')  # fmt: skip
        b.next_row += 1


def conf_sheet(package: Package, rows: list[tuple[str, str, str]]) -> NewSheet:
    """The ``xlwings.conf`` sheet: the settings block from A1 down, a gap, then help text."""
    b = SheetBuilder(package.styles, package.date1904)
    frame = pd.DataFrame(rows, columns=["key", "value", "note"])
    from xlhealth.xlsx.sheetxml import Column, escape_text

    b._data_rows(
        frame,
        [
            Column("key", "key", width=20),  # xlwings reads A1 down: no header
            Column("value", "value", width=24),
            Column("note", "note", style=NOTE, width=70),
        ],
    )
    b.next_row += 1  # the blank A cell that ends what xlwings reads
    xf = package.styles.xf(NOTE)
    for text in CONF_HELP:
        row = b.next_row
        value = escape_text(np.array([text], dtype=object))[0]
        b.rows.append(
            f'<row r="{row}"><c r="C{row}" s="{xf}" t="inlineStr"><is>'
            f'<t xml:space="preserve">{value}</t></is></c></row>'
        )
        b.next_row += 1
    b.max_col = 3
    for i, w in enumerate((20, 24, 70)):
        b.widths[i] = w
    b.tab_color = "808080"
    return NewSheet(b.xml())


def _add_metadata(package: Package) -> None:
    """``xl/metadata.xml`` with the dynamic-array record the Calculator's ``cm="1"`` cells use."""
    package.set_part("xl/metadata.xml", METADATA_XML.encode("utf-8"), CT_METADATA)
    if REL_METADATA not in package.workbook_rels_xml:
        package.workbook_rels_xml = package.workbook_rels_xml.replace(
            "</Relationships>",
            f'<Relationship Id="rIdXlhealthMeta" Type="{REL_METADATA}" '
            'Target="metadata.xml"/></Relationships>',
        )


def _add_vba(path: Path) -> None:
    """The VBA project: standalone xlwings + Dictionary, UDF wrappers, macros, Workbook_Open."""
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    modules = vba.standalone_xlwings_modules()
    tmp = path.with_name(path.name + ".vba")
    with ExcelFile(path) as book:
        project = book.add_vba_project()
        project.add_module("xlwings", modules["xlwings"])
        project.add_module("Dictionary", modules["Dictionary"], kind=VBAModuleKind.other)
        project.add_module(vba.UDF_MODULE, vba.udf_module())
        project.add_module(vba.MACRO_MODULE, vba.macro_module())
        book.set_module("ThisWorkbook", vba.workbook_module_code())
        book.save(tmp)
    _write_spec_vba_project_stream(tmp)
    os.replace(tmp, path)


def _write_spec_vba_project_stream(path: Path) -> None:
    """Rewrite ``VBA/_VBA_PROJECT`` as MS-OVBA 2.3.4.1 requires (pyopenvba keeps a zeroed cache).

    Version 0xFFFF tells Office the performance caches are not its own, so it compiles
    the modules from their source on first open instead of trusting stale p-code.
    """
    from pyopenvba.cfb import CFB

    entry = "xl/vbaProject.bin"
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        data = {info.filename: z.read(info) for info in infos}
    cfb = CFB.from_bytes(data[entry])
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    data[entry] = cfb.to_bytes()
    staged = path.with_name(path.name + ".cfb")
    with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as out:
        for info in infos:
            fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.writestr(fresh, data[info.filename], compress_type=info.compress_type)
    os.replace(staged, path)
