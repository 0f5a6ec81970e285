"""The questionnaire workbook: one sheet a manager fills in, written with openpyxl.

Its layout (``SHEET``, the header cells' defined ``NAMES``, the answer grid from
``FIRST_FACTOR_ROW``), its texts in English and Japanese, and ``write_questionnaire``.
Each answer cell has a 1-5 drop-down with a hint and an error alert; the characteristic
averages and the weighted CMI are native Excel formulas (the core's rules); everything
but the header values, answers and comments is locked. Reading a filled one back is
:mod:`xlhealth.sheets.questionnaire_answers`; the commands are :mod:`xlhealth.questionnaire`.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from xlhealth.core.model import CHARACTERISTICS, Model

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
