"""The Columns and Sources config sheets of a new book: a hint, the header, drop-downs and
the choices (contract fields; source formats, modes, encodings) a user picks from.
"""

from __future__ import annotations

import pandas as pd

from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder, validation
from xlhealth.xlsx.styles import CellStyle

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
        "encoding blank = found from the file (UTF-8 or cp932); mode: replace (the default) or "
        "append to the rows pasted in the sheet.",
        "Or connection: duckdb:///events.duckdb, postgresql://user@host:5432/db, "
        "snowflake://user@account/db/schema, databricks://token@host?http_path=…, "
        "clickhouse://user@host:8123/db",
        "with query: a table name or a SELECT. Never a password here (PGPASSWORD, "
        "SNOWFLAKE_PASSWORD, DATABRICKS_TOKEN…). Checks shows each source's rows, dates, matches.",
    ),
    "ja": (
        "Sources — 入力シートの行がブックの外（シートに収まらない件数のファイルやデータベース）に"
        "あるときだけ、シートごとに1行書きます：",
        "path：ファイル、ワイルドカード（events/*.csv）またはフォルダー（このブックからの相対パス）。"
        "format・encoding は空欄で自動判定（UTF-8 または cp932）。mode：replace（既定）または"
        "シートに貼り付けた行に追加する append。",
        "データベースは connection：duckdb:///events.duckdb、postgresql://user@host:5432/db、"
        "snowflake://user@account/db/schema、databricks://token@host?http_path=…、"
        "clickhouse://user@host:8123/db",
        "と query（テーブル名または SELECT）。パスワードは書かないでください（PGPASSWORD、"
        "SNOWFLAKE_PASSWORD、DATABRICKS_TOKEN など）。読んだ行数・期間・照合結果は Checks に表示。",
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
            "connection": "duckdb:///file.duckdb, postgresql://user@host:5432/db, "
            "snowflake://user@account/db/schema, databricks://token@host?http_path=…, "
            "clickhouse://user@host:8123/db — no password (environment variables)",
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
            "connection": "duckdb:///file.duckdb、postgresql://user@host:5432/db、"
            "snowflake://…、databricks://…、clickhouse://…（パスワードは書かない：環境変数）",
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
