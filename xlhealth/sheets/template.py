"""New workbooks: the Start sheet, input sheets with validation and hints, config sheets.

A skeleton with the sheets in their order comes from openpyxl; every sheet is
then written with the same sheet writer refresh uses, so a 3-million-row demo
is written in seconds and looks like the rest of the book.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd

from xlhealth.core.config import default_model, default_tables
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.overrides import tier_choices
from xlhealth.core.tables import column_letter
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets.outputs import OUTPUT_SHEETS
from xlhealth.xlsx.package import NewSheet, Package
from xlhealth.xlsx.sheetxml import NOTE, TITLE, Block, Column, SheetBuilder, validation
from xlhealth.xlsx.styles import CellStyle

SHEET_ORDER = ("Start", *OUTPUT_SHEETS, *INPUT_SHEETS, *CONFIG_SHEETS, "Columns", "Sources")
MAX_ROW = 1_048_576


@dataclass(frozen=True)
class Field:
    """An input column: kind for formatting, a validation rule and a hint."""

    key: str
    kind: str = "text"  # text | number | int | date
    width: float = 14
    rule: tuple = ()  # (type, formula1, formula2, operator)
    hint: tuple[str, str] = ("", "")
    choices: str = ""  # "tiers": a drop-down of the tiers that still accepts other text


DATE = ("date", "DATE(2000,1,1)", "DATE(2100,12,31)", "between")
WHOLE_0 = ("whole", "0", "100000000", "between")
INPUT_FIELDS: dict[str, list[Field]] = {
    "Customers": [
        Field(
            "customer_id",
            width=14,
            hint=("Unique customer ID from your CRM (required).", "CRMの一意の顧客ID（必須）。"),
        ),
        Field("customer_name", width=28),
        Field(
            "segment",
            width=14,
            hint=(
                "Segment for benchmarks, e.g. Enterprise / SMB.",
                "ベンチマーク用のセグメント（例：エンタープライズ／SMB）。",
            ),
        ),
        Field("owner", width=16, hint=("CSM who owns the account.", "担当CSM。")),
        Field("owner_email", width=24),
        Field(
            "arr",
            "number",
            12,
            ("decimal", "0", "1E+15", "between"),
            ("Annual recurring revenue.", "年間経常収益。"),
        ),
        Field("seats", "int", 8, WHOLE_0, ("Contracted seats (licences).", "契約シート数。")),
        Field("renewal_date", "date", 12, DATE, ("Next renewal date.", "次回更新日。")),
        Field("stage", width=12),
        Field(
            "email_domain",
            width=20,
            hint=(
                "Domain used to match emails, e.g. example.com.",
                "メールで照合するドメイン（例：example.co.jp）。",
            ),
        ),
        Field(
            "exemplar",
            width=10,
            rule=("list", '"good,bad"', None, None),
            hint=(
                "good / bad: customers you know are healthy or not (checks the score).",
                "good / bad：健全／不健全と分かっている顧客（スコアの検証用）。",
            ),
        ),
        Field(
            "outcome",
            width=10,
            rule=("list", '"renewed,churned"', None, None),
            hint=(
                "renewed / churned once known (back-test).",
                "判明したら renewed / churned（実績検証用）。",
            ),
        ),
    ],
    "Usage": [
        Field("customer_id"),
        Field(
            "key_features_used",
            "int",
            18,
            WHOLE_0,
            ("Key features in regular use.", "定常的に使われている重要機能の数。"),
        ),
        Field(
            "value_realised",
            "number",
            16,
            ("decimal", "0", "1", "between"),
            ("Share of agreed success goals met, 0–1.", "合意した成功目標の達成割合（0〜1）。"),
        ),
    ],
    "Logins": [
        Field(
            "customer_id",
            hint=("Customer ID, or leave blank and give email.", "顧客ID。空欄ならemailで照合。"),
        ),
        Field("email", width=26),
        Field("user_id", width=14),
        Field("date", "date", 12, DATE, ("Login date.", "ログイン日。")),
    ],
    "Support": [
        Field("customer_id"),
        Field("email", width=26),
        Field("opened", "date", 12, DATE, ("Date the ticket was opened.", "起票日。")),
        Field(
            "category",
            width=14,
            hint=("'complaint' counts as a complaint.", "complaint はクレームとして数えます。"),
        ),
        Field("severity", width=10),
    ],
    "Surveys": [
        Field("customer_id"),
        Field("email", width=26),
        Field("date", "date", 12, DATE, ("Survey answer date.", "回答日。")),
        Field(
            "nps",
            "int",
            8,
            ("whole", "0", "10", "between"),
            ("NPS answer, 0–10.", "NPSの回答（0〜10）。"),
        ),
    ],
    "Contacts": [
        Field("customer_id"),
        Field(
            "date", "date", 12, DATE, ("Date of the meeting or call.", "打ち合わせ・電話の日付。")
        ),
        Field(
            "kind",
            width=12,
            hint=("call, meeting, qbr, ebr, email …", "call, meeting, qbr, ebr, email など。"),
        ),
        Field(
            "role",
            width=12,
            hint=("executive for contacts with an executive.", "役員との接点は executive。"),
        ),
    ],
    "Onboarding": [
        Field("customer_id"),
        Field("step", width=18),
        Field(
            "standard_days",
            "int",
            14,
            WHOLE_0,
            ("Standard duration of the step in days.", "手順の標準日数。"),
        ),
        Field("started", "date", 12, DATE),
        Field(
            "completed", "date", 12, DATE, ("Blank while the step is open.", "未完了の間は空欄。")
        ),
    ],
    "Maturity": [
        Field("customer_id"),
        Field("factor", width=22),
        Field(
            "level",
            "int",
            8,
            ("whole", "1", "5", "between"),
            ("Maturity level 1–5.", "成熟度レベル（1〜5）。"),
        ),
        Field("assessed_on", "date", 12, DATE),
        Field("assessor", width=16),
    ],
    "Overrides": [
        Field(
            "customer_id",
            hint=(
                "Customer whose computed score you overrule.",
                "算出スコアを上書きする顧客のID。",
            ),
        ),
        Field(
            "score",
            "number",
            9,
            ("decimal", "0", "100", "between"),
            (
                "Your score 0–100, or leave blank and give a tier.",
                "判断したスコア（0〜100）。空欄にして tier でも可。",
            ),
        ),
        Field(
            "tier",
            width=14,
            hint=(
                "Your tier: pick one, or type its number or name; or give a score instead.",
                "判断したティア：一覧から選ぶか番号・名前を入力。score でも可。",
            ),
            choices="tiers",
        ),
        Field(
            "reason",
            width=48,
            hint=("Why: shown on Summary beside the score.", "理由：Summaryのスコアの横に表示。"),
        ),
        Field("by", width=16, hint=("Who decided.", "判断した人。")),
        Field(
            "until",
            "date",
            12,
            DATE,
            (
                "Expiry date (required): after it the override is ignored and listed on Checks.",
                "期限（必須）：過ぎると上書きは無視され、Checksに表示されます。",
            ),
        ),
    ],
}

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
            "History and Checks are rewritten; your input and config sheets are never changed.",
            None,
        ),
        (
            "3. Read Checks first: data problems with their cells, thin metrics, the exemplar "
            "check and the back-test.",
            None,
        ),
        (
            "Managers: tune Metrics, Rules, Tiers, Alerts and Settings; maturity answers go to "
            "Maturity (import questionnaires). CSMs: a judgement with an expiry goes to Overrides.",
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
            "Segments, History, Checks が書き直されます。入力・設定シートは変更されません。",
            None,
        ),
        (
            "3. まず Checks を確認：データの問題（セル位置つき）、カバー率の低い指標、"
            "模範顧客チェック、実績による検証。",
            None,
        ),
        (
            "マネジャー：Metrics, Rules, Tiers, Alerts, Settings で重みやしきい値を調整します。"
            "成熟度の回答は Maturity シートへ（アンケートの取り込み）。"
            "CSMの判断（期限つき）は Overrides シートへ。",
            None,
        ),
    ],
}
# Start shows the last refresh from Checks (B3 as of, B4 refreshed at, B5 customers, B6
# problems). INDIRECT keeps the formula valid when refresh replaces the Checks sheet.
_CHECK = 'INDIRECT("Checks!{}")'
STATUS = {
    "en": (
        f'IF({_CHECK.format("B4")}="","Last refresh: not yet — press Refresh",'
        f'"Last refresh: "&{_CHECK.format("B4")}&" — scores as of "&TEXT('
        f'{_CHECK.format("B3")},"yyyy-mm-dd")&", "&{_CHECK.format("B5")}&" customers, "&'
        f'{_CHECK.format("B6")}&" data problem(s) (see Checks)")'
    ),
    "ja": (
        f'IF({_CHECK.format("B4")}="","前回の更新：未実行（「更新」を押してください）",'
        f'"前回の更新："&{_CHECK.format("B4")}&"（基準日 "&TEXT({_CHECK.format("B3")},'
        f'"yyyy-mm-dd")&"、"&{_CHECK.format("B5")}&"社、データの問題 "&'
        f'{_CHECK.format("B6")}&"件：Checksを参照）")'
    ),
}
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


COLUMNS_HINT = {
    "en": (
        "Columns — only for an export header xlhealth does not recognise: one row per field,",
        "e.g. sheet Surveys, field nps, header Q1. Salesforce, HubSpot, Zendesk, Freshdesk, Jira, "
        "Mixpanel, Amplitude, Segment, Pendo,",
        "Qualtrics, SurveyMonkey, Typeform, Delighted and kintone headers are known already; "
        "Checks shows which header fed which field.",
    ),
    "ja": (
        "Columns — 貼り付けたエクスポートの見出しが認識されないときだけ、項目ごとに1行書きます",
        "（例：sheet Surveys、field nps、header Q1）。Salesforce、HubSpot、Zendesk、Freshdesk、"
        "Jira、Mixpanel、Amplitude、Segment、Pendo、",
        "Qualtrics、SurveyMonkey、Typeform、Delighted、kintone の見出しは認識済みです"
        "（どの見出しがどの項目になったかはChecksに表示）。",
    ),
}


def columns_sheet(b: SheetBuilder, lang: str, rows: pd.DataFrame | None = None) -> None:
    """The Columns config sheet: a hint row, the header, drop-downs, and the fields to pick."""
    from xlhealth.inputs.columns import FIELDS

    for line in COLUMNS_HINT[lang]:  # short lines: they overflow to the right, never clip
        b.text_line(line, CellStyle(color="595959"))
    fields = list(dict.fromkeys(f for names in FIELDS.values() for f in names))
    given = rows if rows is not None else pd.DataFrame(columns=["sheet", "field", "header"])
    n = max(len(fields), len(given))
    pad = [""] * (n - len(given))
    reference = pd.DataFrame(
        {
            "sheet": [*given["sheet"], *pad],
            "field": [*given["field"], *pad],
            "header": [*given["header"], *pad],
            "fields": [*fields, *[""] * (n - len(fields))],
        }
    )
    columns = [
        Column("sheet", "sheet", "text", CellStyle(num_fmt="@"), 16),
        Column("field", "field", "text", CellStyle(num_fmt="@"), 18),
        Column("header", "header", "text", CellStyle(num_fmt="@"), 40),
        Column("fields", "fields", "text", CellStyle(color="808080"), 18),
    ]
    layout = b.block(Block(reference, columns, show_keys=False))
    first, last = layout.first_row, layout.last_row
    pick = layout.letters["fields"]
    sheets = ",".join(FIELDS)
    hint = {
        "en": ("Input sheet", "Field (list on the right; any metric column for Usage)",
               "The header exactly as your export writes it"),
        "ja": ("入力シート", "項目（右の一覧から。Usage は任意の指標列名）",
               "エクスポートに書かれている見出しそのまま"),
    }[lang]  # fmt: skip
    for key, formula, prompt in (
        ("sheet", f'"{sheets}"', hint[0]),
        ("field", f"${pick}${first}:${pick}${last}", hint[1]),
        ("header", None, hint[2]),
    ):
        letter = layout.letters[key]
        kind = "list" if formula else "none"
        error = f"Use one of {sheets}" if key == "sheet" else ""
        b.validations.append(
            validation(
                f"{letter}{first}:{letter}1000",
                kind,
                formula,
                title=key,
                prompt=prompt,
                error=error,
            )
        )
    b.freeze = f"A{first}"
    b.widths[0] = 16
    b.tab_color = "7030A0"


SOURCES_HINT = {
    "en": (
        "Sources — only for an input sheet whose rows live outside this workbook (more rows than "
        "a sheet holds, or a database). One row per sheet:",
        "path: a file, a glob (events/*.csv) or a folder, relative to this workbook; format and "
        "encoding blank = found from the file (UTF-8 or cp932);",
        "mode: replace (the default) or append to the rows pasted in the sheet. Or connection: "
        "duckdb:///events.duckdb or postgresql://user@host:5432/db",
        "with query: a table name or a SELECT. Never a password here (PGPASSWORD or ~/.pgpass). "
        "Checks shows each source's rows, dates and matches.",
    ),
    "ja": (
        "Sources — 入力シートの行がブックの外（シートに収まらない件数のファイルやデータベース）に"
        "あるときだけ、シートごとに1行書きます：",
        "path：ファイル、ワイルドカード（events/*.csv）またはフォルダー（このブックからの相対パス）。"
        "format・encoding は空欄で自動判定（UTF-8 または cp932）。",
        "mode：replace（既定）またはシートに貼り付けた行に追加する append。"
        "データベースは connection："
        "duckdb:///events.duckdb、postgresql://user@host:5432/db",
        "と query（テーブル名または SELECT）。パスワードは書かないでください（PGPASSWORD か "
        "~/.pgpass）。読んだ行数・期間・照合結果は Checks に表示。",
    ),
}


def sources_sheet(b: SheetBuilder, lang: str, rows: pd.DataFrame | None = None) -> None:
    """The Sources config sheet: hint lines, the header, drop-downs and a prompt per column."""
    from xlhealth.inputs.sources import COLUMNS, ENCODINGS, FORMATS, MODES, SOURCE_SHEETS

    for line in SOURCES_HINT[lang]:  # short lines: they overflow to the right, never clip
        b.text_line(line, CellStyle(color="595959"))
    given = rows if rows is not None else pd.DataFrame(columns=list(COLUMNS))
    table = pd.DataFrame({c: list(given[c]) if c in given else [""] * len(given) for c in COLUMNS})
    if table.empty:
        table = pd.DataFrame({c: [""] for c in COLUMNS})
    widths = {"sheet": 14, "path": 40, "format": 10, "encoding": 10, "mode": 10,
              "connection": 36, "query": 40}  # fmt: skip
    columns = [Column(c, c, "text", CellStyle(num_fmt="@"), widths[c]) for c in COLUMNS]
    layout = b.block(Block(table, columns, show_keys=False))
    first = layout.first_row
    prompts = {
        "en": {
            "sheet": "The input sheet these rows feed (Logins, Support, …)",
            "path": "A file, a glob such as events/*.csv, or a folder — relative to this workbook",
            "format": "Blank or auto: from the file name (.csv .tsv .parquet .jsonl; .csv.gz …)",
            "encoding": "CSV/TSV only. Blank or auto: UTF-8 (with or without BOM), else cp932",
            "mode": "replace (default): the file's rows instead of the sheet's; append: both",
            "connection": "duckdb:///file.duckdb (beside this book) or postgresql://user@host:5432"
            "/db — no password: PGPASSWORD or ~/.pgpass",
            "query": "With a connection: a table name or a SELECT",
        },
        "ja": {
            "sheet": "行を入れる入力シート（Logins、Support など）",
            "path": "ファイル、events/*.csv のようなワイルドカード、またはフォルダー"
            "（このブックからの相対パス）",
            "format": "空欄または auto：拡張子から判定（.csv .tsv .parquet .jsonl、"
            ".csv.gz なども）",
            "encoding": "CSV/TSV のみ。空欄または auto：UTF-8（BOM 有無とも）、それ以外は cp932",
            "mode": "replace（既定）：シートの行の代わりにファイルの行。append：両方",
            "connection": "duckdb:///file.duckdb（このブックの隣）または postgresql://user@host:5432/db"
            "（パスワードは書かない：PGPASSWORD か ~/.pgpass）",
            "query": "connection と一緒に：テーブル名または SELECT",
        },
    }[lang]
    lists = {
        "sheet": ",".join(SOURCE_SHEETS),
        "format": ",".join(FORMATS),
        "encoding": ",".join(ENCODINGS),
        "mode": ",".join(MODES),
    }
    for key in COLUMNS:
        letter = layout.letters[key]
        formula = f'"{lists[key]}"' if key in lists else None
        strict = key in ("format", "encoding", "mode")  # sheet: another name is allowed
        b.validations.append(
            validation(
                f"{letter}{first}:{letter}1000",
                "list" if formula else "none",
                formula,
                title=key,
                prompt=prompts[key],
                error=f"Use one of {lists[key]}" if strict else "",
            )
        )
    b.freeze = f"A{first}"
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
                    b.widths[0] = 120
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
