"""New workbooks: the Start sheet, input sheets with validation and hints, config sheets.

A skeleton with the sheets in their order comes from openpyxl; every sheet is
then written with the same sheet writer refresh uses, so a 3-million-row demo
is written in seconds and looks like the rest of the book.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import openpyxl
import pandas as pd

from xlhealth.core.config import default_model, default_tables
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.overrides import tier_choices
from xlhealth.core.tables import column_letter
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets.checks_work import OWNERS_HEADER_ROW, START_ROWS
from xlhealth.sheets.columns_sources import columns_sheet, sources_sheet
from xlhealth.sheets.input_fields import INPUT_FIELDS, Field
from xlhealth.sheets.outputs import OUTPUT_SHEETS
from xlhealth.xlsx.package import NewSheet, Package
from xlhealth.xlsx.sheetxml import NOTE, TITLE, Block, Column, SheetBuilder, validation
from xlhealth.xlsx.styles import CellStyle

SHEET_ORDER = ("Start", *OUTPUT_SHEETS, *INPUT_SHEETS, *CONFIG_SHEETS, "Columns", "Sources")
MAX_ROW = 1_048_576


CONFIG_WIDTHS = {
    "description": 50,
    "description_ja": 40,
    "label": 36,
    "label_ja": 30,
    "question": 60,
    "question_ja": 50,
    "actions": 60,
    "actions_ja": 50,
    "decision": 30,
    "decision_ja": 26,
    "action": 44,
    "action_ja": 36,
    "metric": 24,
    "filter": 20,
    "column": 22,
}
CONFIG_RULES = {
    ("Metrics", "group"): '"Deployment,Engagement,Adoption,ROI"',
    ("Metrics", "aggregate"): '"value,count,distinct,sum,mean,min,max,latest,days_since,'
    'active_days,overdue_count,ratio"',
    ("MaturityModel", "characteristic"): '"Strategy,People,Process,Technology"',
    ("MaturityModel", "facet"): '"what,how_well,relation"',
    ("Matrix", "health"): '"high,low,any"',
    ("Matrix", "maturity"): '"high,low,unknown"',
    ("Alerts", "trigger"): '"score_drop,tier_renewal,tier_at_most,metric_at_least,metric_below"',
}

START = {
    "en": [
        ("xlhealth — customer health score", TITLE),
        (
            "1. Paste your exports into the input sheets (one header row, any column order): "
            "Customers, Usage, Logins, Support, Surveys, Contacts, Onboarding.",
            None,
        ),
        (
            "2. Press Refresh (or run: xlhealth refresh THIS_FILE). Summary, Actions, Segments, "
            "History, ActionLog and Checks are rewritten — keeping the statuses, notes and "
            "columns you type there; input and config sheets are never changed.",
            None,
        ),
        (
            "3. Read Checks first: data problems with their cells, thin metrics, the exemplar "
            "check and the back-test.",
            None,
        ),
        (
            "Managers: tune Metrics, Rules, Tiers, MaturityModel, Matrix, Alerts and Settings — "
            "Summary re-scores at once, on any Excel (new data needs Refresh); maturity answers "
            "go to Maturity. CSMs: a judgement with an expiry goes to Overrides.",
            None,
        ),
    ],
    "ja": [
        ("xlhealth — カスタマーヘルススコア", TITLE),
        (
            "1. 各システムのエクスポートを入力シート（Customers, Usage, Logins, Support, Surveys, "
            "Contacts, Onboarding）に貼り付けます（見出しは1行、列の順序は自由）。",
            None,
        ),
        (
            "2. 「更新」を押します（または xlhealth refresh このファイル）。Summary, Actions, "
            "Segments, History, ActionLog, Checks が書き直されます（入力した状況・メモ・追加した"
            "列は残ります）。入力・設定シートは変更されません。",
            None,
        ),
        (
            "3. まず Checks を確認：データの問題（セル位置つき）、カバー率の低い指標、"
            "模範顧客チェック、実績による検証。",
            None,
        ),
        (
            "マネジャー：Metrics, Rules, Tiers, MaturityModel, Matrix, Alerts, Settings で重みや"
            "しきい値を調整すると、Summary はどの Excel でもすぐに再採点されます（新しいデータには"
            "更新が必要）。成熟度の回答は Maturity シートへ（アンケートの取り込み）。"
            "CSMの判断（期限つき）は Overrides シートへ。",
            None,
        ),
    ],
}
# Start shows the last refresh from Checks (B3 as of, B4 refreshed at, B5 customers, B6
# problems). INDIRECT keeps the formula valid when refresh replaces the Checks sheet.
_CHECK = 'INDIRECT("Checks!{}")'
# The as-of date spelled yyyy-mm-dd by arithmetic: TEXT's format codes are not translated,
# so TEXT(d,"yyyy-mm-dd") shows "yyyy-04-dd" in a German, French or Dutch Excel.
_AS_OF = _CHECK.format("B3")
_ISO_DAY = f'YEAR({_AS_OF})&"-"&RIGHT("0"&MONTH({_AS_OF}),2)&"-"&RIGHT("0"&DAY({_AS_OF}),2)'
STATUS = {
    "en": (
        f'IF({_CHECK.format("B4")}="","Last refresh: not yet — press Refresh",'
        f'"Last refresh: "&{_CHECK.format("B4")}&" — scores as of "&{_ISO_DAY}&", "&'
        f'{_CHECK.format("B5")}&" customers, "&'
        f'{_CHECK.format("B6")}&" data problem(s) (see Checks)")'
    ),
    "ja": (
        f'IF({_CHECK.format("B4")}="","前回の更新：未実行（「更新」を押してください）",'
        f'"前回の更新："&{_CHECK.format("B4")}&"（基準日 "&{_ISO_DAY}&"、"&'
        f'{_CHECK.format("B5")}&"社、データの問題 "&'
        f'{_CHECK.format("B6")}&"件：Checksを参照）")'
    ),
}
# Start also shows each owner's open, new and overdue actions: the table Checks holds at a
# fixed place (sheets.checks_work), read with INDIRECT like the status line.
START_OWNERS_ROW = 13  # Start: the header row; the owners follow


def owners_on_start(b: SheetBuilder, lang: str) -> None:
    b.next_row = START_OWNERS_ROW - 1
    title = {"en": "Actions per owner, open now (from Checks; updated by every Refresh)",
             "ja": "担当者別の未対応アクション（Checks から。更新のたびに変わります）"}  # fmt: skip
    b.text_line(title[lang], CellStyle(bold=True, size=12, color="1F4E79"))
    offset = START_OWNERS_ROW - OWNERS_HEADER_ROW
    header = CellStyle(bold=True, fill="1F4E79", color="FFFFFF", halign="center")
    cells = [(c, f'INDIRECT("Checks!{c}"&(ROW()-{offset}))') for c in "ABCD"]
    b.formulas([(c, f'{f}&""') for c, f in cells], header)
    styles = [CellStyle()] + [CellStyle(halign="center")] * 3
    for _ in range(START_ROWS):
        above = b.next_row - 1  # a row shows while the table goes on: a count in column B
        name = f'IF(AND($A{above}<>"",ISNUMBER({cells[1][1]})),{cells[0][1]}&"","")'
        counts = [(c, f'IF($A{above + 1}="","",{f})') for c, f in cells[1:]]
        b.formulas([("A", name), *counts], styles=styles)
    for i, width in ((1, 10), (2, 14), (3, 10)):
        b.widths[i] = width


PLACEHOLDER = {
    "en": "Press Refresh (or run xlhealth refresh) to fill this sheet.",
    "ja": "「更新」を押す（または xlhealth refresh を実行）とこのシートが作成されます。",
}


def skeleton(names: Sequence[str] = SHEET_ORDER) -> bytes:
    """An empty .xlsx with these sheets in this order (the sheet writer fills them)."""
    wb = openpyxl.Workbook()
    wb.active.title = names[0]
    for name in names[1:]:
        wb.create_sheet(name)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def input_sheet(b: SheetBuilder, name: str, frame: pd.DataFrame | None, lang: str) -> None:
    fields = list(INPUT_FIELDS[name])
    if frame is not None and fields[0].key not in frame.columns:
        fields = [Field(str(c), _kind(frame[c])) for c in frame.columns]  # an export as is
    elif frame is not None:  # extra columns in the data (Usage metrics) keep their place
        known = {f.key for f in fields}
        fields += [Field(str(c)) for c in frame.columns if c not in known]
    data = frame if frame is not None else pd.DataFrame(columns=[f.key for f in fields])
    fmt = {"number": "#,##0.##", "int": "0", "date": "yyyy-mm-dd", "text": "@"}
    columns = [
        Column(f.key, f.key, f.kind, CellStyle(num_fmt=fmt[f.kind]), f.width) for f in fields
    ]
    layout = b.block(Block(data, columns, show_keys=False))
    b.freeze = "A2"
    b.autofilter = f"A1:{column_letter(len(columns) - 1)}{max(layout.last_row, 1)}"
    for f in fields:
        letter = layout.letters[f.key]
        sqref = f"{letter}2:{letter}{MAX_ROW}"
        hint = f.hint[1] if lang == "ja" and f.hint[1] else f.hint[0]
        if f.choices == "tiers":  # suggestions only: no error alert, so any text is accepted
            listed = ",".join(tier_choices(default_model(), lang))
            b.validations.append(validation(sqref, "list", f'"{listed}"', title=f.key, prompt=hint))
        elif f.rule:
            kind, f1, f2, op = f.rule
            error = (
                "値が正しくありません。" if lang == "ja" else "This value is not valid here. "
            ) + hint
            b.validations.append(validation(sqref, kind, f1, f2, op, f.key, hint, error))
        elif hint:
            b.validations.append(validation(sqref, "none", title=f.key, prompt=hint))
    b.tab_color = "2E75B6"


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "date"
    return "number" if pd.api.types.is_numeric_dtype(values.dtype) else "text"


def _typed(values: pd.Series) -> pd.Series:
    """Numbers typed as text in the CSV defaults ("60", "0.8") become numbers on the sheet."""
    numbers = pd.to_numeric(values, errors="coerce")
    return values.astype(object).where(numbers.isna(), numbers.astype(object))


def config_sheet(b: SheetBuilder, name: str, frame: pd.DataFrame) -> None:
    frame = frame.apply(_typed)
    columns = [
        Column(
            str(c),
            str(c),
            "auto",
            CellStyle(wrap=CONFIG_WIDTHS.get(str(c), 14) > 30, valign="top"),
            CONFIG_WIDTHS.get(str(c), 14 if not str(c).startswith("level_") else 30),
        )
        for c in frame.columns
    ]
    layout = b.block(Block(frame, columns, show_keys=False))
    b.freeze = "B2"
    for (sheet, column), formula in CONFIG_RULES.items():
        if sheet == name and column in layout.letters:
            letter = layout.letters[column]
            b.validations.append(
                validation(
                    f"{letter}2:{letter}1000",
                    "list",
                    formula,
                    title=column,
                    error=f"Use one of {formula}",
                )
            )
    b.tab_color = "7030A0"


def new_workbook(
    path: str | Path,
    lang: str = "en",
    inputs: Mapping[str, pd.DataFrame] | None = None,
    config: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a new workbook at ``path`` (refusing to overwrite): config filled, inputs ready."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name or delete it first")
    if path.suffix.lower() != ".xlsx":
        raise ValueError("new workbooks are .xlsx files (the .xlsm comes from build-workbook)")
    tables = default_tables()
    tables["Settings"].loc[tables["Settings"]["key"] == "language", "value"] = lang
    tables.update(config or {})
    default_model()  # fail early if the shipped defaults were broken
    tmp = path.with_name(f".{path.name}.xlhealth-tmp")
    tmp.write_bytes(skeleton())
    out = path.with_name(f".{path.name}.xlhealth-new")
    try:
        with Package(tmp) as package:
            for name in SHEET_ORDER:
                b = SheetBuilder(package.styles, package.date1904)
                if name == "Start":
                    b.landscape = False
                    for line, style in START[lang]:
                        b.text_line(line, style or CellStyle(wrap=False))
                    b.formulas([("A", STATUS[lang])], CellStyle(bold=True, color="1F4E79"))
                    owners_on_start(b, lang)
                    b.widths[0] = 34  # the lines above overflow to the right
                    b.tab_color = "FFC000"
                elif name in OUTPUT_SHEETS:
                    b.text_line(PLACEHOLDER[lang], NOTE)
                    b.widths[0] = 80
                elif name in INPUT_SHEETS:
                    input_sheet(b, name, (inputs or {}).get(name), lang)
                elif name == "Columns":
                    columns_sheet(b, lang, (config or {}).get("Columns"))
                elif name == "Sources":
                    sources_sheet(b, lang, (config or {}).get("Sources"))
                else:
                    config_sheet(b, name, tables[name])
                package.set_sheet(name, NewSheet(b.xml()))
            package.save(out)
        os.replace(out, path)
    finally:
        for leftover in (tmp, out):
            if leftover.exists():
                leftover.unlink()
    return path


def replace_inputs(path: str | Path, inputs: Mapping[str, pd.DataFrame], lang: str = "en") -> None:
    """Rewrite the given input sheets of an existing book (the demo's second month of data)."""
    path = Path(path)
    out = path.with_name(f".{path.name}.xlhealth-new")
    try:
        with Package(path) as package:
            for name, frame in inputs.items():
                b = SheetBuilder(package.styles, package.date1904)
                input_sheet(b, name, frame, lang)
                package.set_sheet(name, NewSheet(b.xml()))
            package.save(out)
        os.replace(out, path)
    finally:
        if out.exists():
            out.unlink()
