"""The Checks sheet: what a user must know before trusting the numbers.

Split from ``outputs`` by concern: each section is a function of the writer and the
sheet builder, in the order the sheet shows them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.core.problems import Problem, problems_frame
from xlhealth.inputs.columns import origin_text
from xlhealth.sheets.checks_stability import stability
from xlhealth.sheets.checks_text import CHECKS_TEXT
from xlhealth.sheets.checks_work import helped, owners
from xlhealth.sheets.writer import LABELS, SECTION, TEXT, SheetWriter, text
from xlhealth.xlsx.package import NewSheet
from xlhealth.xlsx.sheetxml import Block, SheetBuilder
from xlhealth.xlsx.styles import CellStyle

TEXT.update(CHECKS_TEXT)
LABELS.update(
    {
        "customers_honest": ("Customers (honest)", "顧客数（公正）"),
        "churned_honest": ("Churned (honest)", "解約数（公正）"),
        "churn_rate_honest": ("Churn rate (honest)", "解約率（公正）"),
        "customers_today": ("Customers (today)", "顧客数（今日）"),
        "churned_today": ("Churned (today)", "解約数（今日）"),
        "churn_rate_today": ("Churn rate (today)", "解約率（今日）"),
    }
)


def _previous_as_of(w: SheetWriter) -> object:
    """The date of the snapshot Change compares with (the latest before as_of)."""
    dates = pd.to_datetime(w.r.summary["previous_as_of"], errors="coerce").dropna()
    return dates.max().date() if len(dates) else text("change_first", w.lang)


def _column_mapping(w: SheetWriter, b: SheetBuilder) -> None:
    """Which pasted header fed which field, per input sheet, and what was left unused."""
    mapping = w.r.columns
    if mapping is None or mapping.empty:
        return
    frame = mapping.copy()
    frame["origin"] = [
        origin_text(k, d, w.lang) for k, d in zip(frame["kind"], frame["detail"], strict=True)
    ]
    b.block(
        Block(
            frame[["sheet", "field", "header", "origin"]].reset_index(drop=True),
            [
                w.col("sheet", width=26),
                w.col("field", width=14),
                w.col("header", width=22),
                w.col("origin", width=40),
            ],
            title=text("mapping_title", w.lang),
            notes=(text("mapping_note", w.lang),),
            show_keys=False,
        )
    )


def archive_line(w: SheetWriter, b: SheetBuilder) -> None:
    """Where the History snapshots that no longer fit the sheet are, when there are any."""
    archive = getattr(w, "archive", None)
    moved = getattr(w, "history_moved", None)
    if archive is None:
        return
    name, before = archive
    lang, style = w.lang, CellStyle(bold=True, color="9C5700")
    if moved is not None and len(moved):
        days = pd.to_datetime(moved["as_of"], errors="coerce").dropna()
        first, last = (f"{d:%Y-%m-%d}" for d in (days.min(), days.max()))
        b.text_line(text("history_moved", lang, rows=len(moved), n=days.nunique(), first=first,
                         last=last, file=name, total=before + len(moved)), style)  # fmt: skip
    elif before:
        b.text_line(text("history_archived", lang, total=before, file=name), style)


def write_checks(w: SheetWriter, problems: list[Problem]) -> NewSheet:
    """Status, data problems, pasted columns, coverage, exemplars and the back-tests."""
    lang = w.lang
    b = w.builder()
    b.text_line(text("checks_title", lang), CellStyle(bold=True, size=16, color="1F4E79"))
    b.next_row += 1
    b.pairs(
        [
            (text("as_of", lang), w.r.as_of),
            (text("refreshed", lang), w.refreshed_at.strftime("%Y-%m-%d %H:%M")),
            (text("customers", lang), len(w.r.summary)),
            (text("problems", lang), len(problems)),
            (text("model", lang), w.model.settings.model_version or "-"),
            (text("change_vs", lang), _previous_as_of(w)),
        ]
    )
    b.text_line(text("history_rule", lang))
    b.next_row += 1
    owners(w, b)  # at a fixed place: Start shows it (OWNERS_FIRST_ROW)
    archive_line(w, b)
    frame = problems_frame(problems)
    frame["cell"] = [p.cell or "" for p in problems] if problems else []
    columns = [
        w.col("sheet", width=26),
        w.col("cell", width=8),
        w.col("row", "int", "0", 6),
        w.col("column", width=16),
        w.col("customer_id", width=13),
        w.col("value", width=18),
        w.col("message", width=80, wrap=True),
    ]
    if problems:
        b.block(Block(frame, columns, title=text("problems_title", lang), show_keys=False))
    else:
        b.text_line(text("problems_title", lang), SECTION)
        b.text_line(text("no_problems", lang))
        b.next_row += 1
    for section in SECTIONS:
        section(w, b)
    b.tab_color = "BF8F00"
    b.landscape = True
    return NewSheet(b.xml())


def _coverage(w: SheetWriter, b: SheetBuilder) -> None:
    lang = w.lang
    cov = w.r.coverage[w.r.coverage["scored"]].copy()
    cov["flag"] = np.where(cov["flag"], text("low", lang), "OK")
    cov_cols = [
        w.col("metric", width=26),
        w.col("group", width=16),
        w.col("source", width=18),
        w.col("customers_with_value", "int", "#,##0", 12),
        w.col("coverage", "number", "0%", 10),
        w.col("flag", width=8),
        w.col("note", width=40),
    ]
    layout = b.block(
        Block(
            cov.reset_index(drop=True),
            cov_cols,
            title=text("coverage_title", lang),
            notes=(text("coverage_note", lang, min=w.model.settings.coverage_min),),
            show_keys=False,
        )
    )
    if len(cov):
        dxf = w.styles.dxf(fill="F8CBAD", bold=True, color="9C0006")
        b.add_conditional(
            layout.range_of("flag"),
            f'<cfRule type="cellIs" dxfId="{dxf}" priority="{{priority}}" '
            f'operator="equal"><formula>"{text("low", lang)}"</formula>'
            "</cfRule>",
        )


def _exemplars(w: SheetWriter, b: SheetBuilder) -> None:
    lang = w.lang
    ex = w.r.exemplars
    if ex.pairs == 0 or len(ex.out_of_order) == 0:
        b.text_line(text("exemplar_title", lang), SECTION)
        b.text_line(
            text("exemplar_none", lang)
            if ex.pairs == 0
            else text("exemplar_result", lang, ok=ex.in_order, pairs=ex.pairs)
        )
        b.next_row += 1
    else:
        notes = [text("exemplar_result", lang, ok=ex.in_order, pairs=ex.pairs)]
        if len(ex.out_of_order):
            notes.append(text("exemplar_wrong", lang))
        b.block(
            Block(
                ex.out_of_order,
                [
                    w.col("good_id", width=13),
                    w.col("good_score", "number", "0.0", 16),
                    w.col("bad_id", width=13),
                    w.col("bad_score", "number", "0.0", 16),
                ],
                title=text("exemplar_title", lang),
                notes=notes,
                show_keys=False,
            )
        )


def _backtest(w: SheetWriter, b: SheetBuilder) -> None:
    """Churn per tier: honest (scored before each outcome) beside scored today (optimistic)."""
    lang = w.lang
    bt, fair, honest = w.r.backtest, w.r.honest_backtest, w.r.honest
    if bt is None or fair is None or honest is None:
        b.text_line(text("backtest_title", lang), SECTION)
        b.text_line(text("backtest_none", lang))
        b.next_row += 1
        return
    counts = honest.counts()
    many = len(honest.frame) > honest.customers  # a renewal history: several per customer
    notes = [
        text(
            "backtest_honest_many" if many else "backtest_honest",
            lang,
            n=fair.customers,
            customers=honest.customers,
            lead=honest.lead_days,
            churned=fair.churned,
            rate=fair.churn_rate,
            auc=fair.auc,
            low=fair.auc_low,
            high=fair.auc_high,
            lift=fair.lift,
        ),
        text("backtest_basis", lang, **counts, lead=honest.lead_days),
        text("backtest_today", lang, auc=bt.auc, low=bt.auc_low, high=bt.auc_high, lift=bt.lift),
    ]
    if counts["today"]:
        notes.append(text("backtest_fallback_today", lang, n=counts["today"]))
    honest_cols = {c: f"{c}_honest" for c in ("customers", "churned", "churn_rate")}
    tiers = (
        fair.by_tier.rename(columns=honest_cols)
        .merge(
            bt.by_tier.rename(
                columns={
                    "customers": "customers_today",
                    "churned": "churned_today",
                    "churn_rate": "churn_rate_today",
                }
            ),
            on="tier",
            how="outer",
        )
        .sort_values("tier")
    )
    names = {t.tier: t.text(lang) for t in w.model.tiers}
    tiers["tier_label"] = tiers["tier"].map(names)
    b.block(
        Block(
            tiers.reset_index(drop=True),
            [
                w.col("tier", "int", "0", 13),
                w.col("tier_label", width=16),
                w.col("customers_honest", "int", "#,##0", 14),
                w.col("churned_honest", "int", "#,##0", 12),
                w.col("churn_rate_honest", "number", "0%", 14),
                w.col("customers_today", "int", "#,##0", 14),
                w.col("churned_today", "int", "#,##0", 12),
                w.col("churn_rate_today", "number", "0%", 14),
            ],
            title=text("backtest_title", lang),
            notes=tuple(notes),
            show_keys=False,
        )
    )


OVERRIDES_TEXT: dict[str, tuple[str, str]] = {
    "overrides_title": (
        "Overrides: a CSM's judgement with an expiry",
        "上書き：CSMの判断（期限つき）",
    ),
    "overrides_none": (
        "No overrides. To show your judgement beside a computed score, add a row to the "
        "Overrides sheet (customer_id, score or tier, reason, by, until).",
        "上書きはありません。算出スコアの横に判断を示すには、Overridesシートに行を追加します"
        "（customer_id, score または tier, reason, by, until）。",
    ),
    "overrides_active": (
        "{n} active as of {as_of}: shown on Summary beside the computed score (column "
        "Override) and used as the tier of the Action list, marked (override). Score, tier, "
        "History, Segments and the back-tests use the computed scores only.",
        "基準日 {as_of} 時点で有効な上書き {n}件：Summaryの算出スコアの横（上書き列）に表示し、"
        "アクションリストのティアに使います（「上書き」と表示）。スコア・ティア・履歴・"
        "セグメント・実績検証は算出スコアのみを使います。",
    ),
    "overrides_expired": (
        "{n} expired (until has passed), so ignored: delete the row on Overrides, or set a "
        "new until if the judgement still holds.",
        "期限切れ {n}件（until を過ぎたため無視）：Overridesの行を削除するか、"
        "判断が今も正しければ until を更新してください。",
    ),
    "overrides_no_expired": ("No expired overrides.", "期限切れの上書きはありません。"),
}
CHECKS_TEXT.update(OVERRIDES_TEXT)
TEXT.update(OVERRIDES_TEXT)


def _overrides(w: SheetWriter, b: SheetBuilder) -> None:
    """How many overrides are active, and the expired ones (ignored) to delete or renew."""
    from xlhealth.core.overrides import expired_rows

    lang = w.lang
    chosen = w.r.overrides
    active = int(w.r.summary["override"].notna().sum()) if "override" in w.r.summary else 0
    expired = expired_rows(chosen, w.r.summary, w.model) if chosen is not None else pd.DataFrame()
    if not active and expired.empty:
        b.text_line(text("overrides_title", lang), SECTION)
        b.text_line(text("overrides_none", lang))
        b.next_row += 1
        return
    notes = [text("overrides_active", lang, n=active, as_of=w.r.as_of)]
    if expired.empty:
        b.text_line(text("overrides_title", lang), SECTION)
        for note in (*notes, text("overrides_no_expired", lang)):
            b.text_line(note)
        b.next_row += 1
        return
    notes.append(text("overrides_expired", lang, n=len(expired)))
    b.block(
        Block(
            expired.reset_index(drop=True),
            [
                w.col("customer_id", width=13),
                w.col("customer_name", width=26),
                w.col("override", width=16),
                w.col("reason", width=44),
                w.col("by", width=14),
                w.col("until", "date", "yyyy-mm-dd", 11),
                w.col("row", "int", "0", 6),
            ],
            title=text("overrides_title", lang),
            notes=tuple(notes),
            show_keys=False,
        )
    )


# Checks sections after the data problems, in the order the sheet shows them.
SECTIONS = (_column_mapping, _coverage, _exemplars, _backtest, stability, _overrides)


SOURCES_TEXT: dict[str, tuple[str, str]] = {
    "sources_title": (
        "Sources: rows read from files and databases (the Sources sheet)",
        "ソース：ファイル・データベースから読んだ行（Sourcesシート）",
    ),
    "sources_note": (
        "Each source's metrics are computed where its rows are and equal the same rows pasted "
        "into the sheet. A failed source names its Sources row; its metrics are skipped. CSV, "
        "TSV and JSON-lines files are kept as typed Parquet copies in NAME-cache/sources/ "
        "beside the book: a file is read again only when it changed (delete the folder at "
        "any time).",
        "各ソースの指標はデータのある場所で集計され、同じ行をシートに貼り付けた場合と一致します。"
        "失敗したソースは Sources の行を示し、その指標はスキップされます。CSV・TSV・JSON Lines は"
        "ブックの隣の NAME-cache/sources/ に型付きの Parquet として保存され、変更されたファイル"
        "だけが読み直されます（フォルダーはいつでも削除できます）。",
    ),
    "source_ok": ("OK", "正常"),
    "source_failed": (
        "FAILED — Sources row {row}: {message}",
        "失敗 — Sources {row}行目：{message}",
    ),
    "source_unused": ("no metric reads {sheet}", "{sheet} を使う指標なし"),
}
CHECKS_TEXT.update(SOURCES_TEXT)
TEXT.update(SOURCES_TEXT)
LABELS.update(
    {
        "source_row": ("Sources row", "Sources行"),
        "source_what": ("Reads", "読み込み元"),
        "source_files": ("Files", "ファイル数"),
        "source_rows": ("Rows read", "読んだ行数"),
        "source_first": ("First date", "最初の日付"),
        "source_last": ("Last date", "最後の日付"),
        "source_customers": ("Customers matched", "一致した顧客"),
        "source_without": ("Customers without rows", "行のない顧客"),
        "source_unmatched": ("Unmatched rows", "一致しない行"),
        "source_seconds": ("Seconds", "秒"),
        "source_cached": ("Files from cache", "キャッシュから"),
        "source_fresh": ("Files read afresh", "読み直したファイル"),
        "source_cache_mb": ("Cache MB", "キャッシュMB"),
        "source_status": ("Status", "状態"),
    }
)


def _sources(w: SheetWriter, b: SheetBuilder) -> None:
    """Each Sources row: what it read, how many rows and customers, how long, and if it failed."""
    stats = w.r.sources if hasattr(w.r, "sources") else None
    if stats is None or stats.empty:
        return
    lang = w.lang

    def status(row: pd.Series) -> str:
        value = str(row["status"])
        if value == "ok":
            return text("source_ok", lang)
        if value.startswith("failed: "):
            return text("source_failed", lang, row=row["row"], message=value[len("failed: ") :])
        return text("source_unused", lang, sheet=row["sheet"])

    frame = pd.DataFrame(  # long texts in the sheet's wide columns (D, G), counts after them
        {
            "sheet": stats["sheet"],
            "source_row": stats["row"],
            "source_rows": stats["rows"],
            "source_what": stats["what"],
            "source_first": pd.to_datetime(stats["first"]),
            "source_last": pd.to_datetime(stats["last"]),
            "source_status": [status(r) for _, r in stats.iterrows()],
            "source_customers": stats["customers"],
            "source_without": stats["customers_without"],
            "source_unmatched": stats["unmatched"],
            "source_files": stats["files"],
            "source_seconds": stats["seconds"],
            "source_cached": stats.get("cached"),
            "source_fresh": stats.get("fresh"),
            "source_cache_mb": stats.get("cache_mb"),
        }
    ).reset_index(drop=True)
    layout = b.block(
        Block(
            frame,
            [
                w.col("sheet", width=12),
                w.col("source_row", "int", "0", 9),
                w.col("source_rows", "int", "#,##0", 12),
                w.col("source_what", width=34, wrap=True),
                w.col("source_first", "date", "yyyy-mm-dd", 11),
                w.col("source_last", "date", "yyyy-mm-dd", 11),
                w.col("source_status", width=40, wrap=True),
                w.col("source_customers", "int", "#,##0", 12),
                w.col("source_without", "int", "#,##0", 14),
                w.col("source_unmatched", "int", "#,##0", 12),
                w.col("source_files", "int", "#,##0", 7),
                w.col("source_seconds", "number", "0.0", 8),
                w.col("source_cached", "int", "#,##0", 10),
                w.col("source_fresh", "int", "#,##0", 10),
                w.col("source_cache_mb", "number", "0.00", 9),
            ],
            title=text("sources_title", lang),
            notes=(text("sources_note", lang),),
            show_keys=False,
        )
    )
    failed = text("source_failed", lang, row="", message="").split("—")[0].strip()
    dxf = w.styles.dxf(fill="F8CBAD", bold=True, color="9C0006")
    b.add_conditional(
        layout.range_of("source_status"),
        f'<cfRule type="beginsWith" dxfId="{dxf}" priority="{{priority}}" operator="beginsWith" '
        f'text="{failed}"><formula>LEFT({layout.range_of("source_status").split(":")[0]},'
        f'{len(failed)})="{failed}"</formula></cfRule>',
    )


SECTIONS = (*SECTIONS, _sources, helped)
