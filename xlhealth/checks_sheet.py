"""The Checks sheet: what a user must know before trusting the numbers.

Split from ``outputs`` by concern: each section is a function of the writer and the
sheet builder, in the order the sheet shows them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.columns import origin_text
from xlhealth.outputs import SECTION, TEXT, OutputWriter, text
from xlhealth.problems import Problem, problems_frame
from xlhealth.xlsx.package import NewSheet
from xlhealth.xlsx.sheetxml import Block, SheetBuilder
from xlhealth.xlsx.styles import CellStyle

CHECKS_TEXT: dict[str, tuple[str, str]] = {
    "checks_title": ("Checks — read before trusting the numbers", "チェック — 数値を使う前に確認"),
    "status": ("Refresh status", "更新状況"),
    "as_of": ("Scores as of", "基準日"),
    "refreshed": ("Refreshed at", "更新日時"),
    "customers": ("Customers scored", "スコア算出顧客数"),
    "problems": ("Data problems", "データの問題"),
    "model": ("Model version", "モデルバージョン"),
    "change_vs": ("Change compared with", "前回比の比較対象"),
    "mapping_title": (
        "Pasted columns: which header fed which field",
        "貼り付けた列：どの見出しをどの項目として読んだか",
    ),
    "mapping_note": (
        "Fields are found by contract name, then the Columns sheet, then the headers of common "
        "exports. A wrong guess? Add a row to Columns (sheet, field, header).",
        "項目は規定の列名、Columnsシート、主要ツールのエクスポート見出しの順に探します。"
        "違っていれば Columns に行（sheet, field, header）を追加してください。",
    ),
    "change_first": (
        "(no earlier snapshot: first refresh)",
        "（以前のスナップショットなし: 初回）",
    ),
    "history_rule": (
        "History keeps one snapshot per as-of date; a refresh for a date already in History "
        "replaces that date's snapshot, other dates are never rewritten. Change = score now "
        "− score in the latest earlier snapshot (blank when there is none).",
        "履歴は基準日ごとに1つのスナップショットを保存します。履歴にある日付で再更新すると"
        "その日付のスナップショットだけを置き換え、他の日付は書き換えません。"
        "前回比 = 現在のスコア − それより前の最新スナップショットのスコア（なければ空欄）。",
    ),
    "problems_title": (
        "Data problems (sheet, cell, what to do)",
        "データの問題（シート・セル・対処）",
    ),
    "no_problems": ("No data problems found.", "データの問題は見つかりませんでした。"),
    "coverage_title": ("Metric coverage", "指標のカバー率"),
    "coverage_note": (
        "A metric few customers have says little; below {min:.0%} is flagged.",
        "一部の顧客しか持たない指標はあまり意味を持ちません。{min:.0%}未満に印を付けます。",
    ),
    "low": ("LOW", "低い"),
    "exemplar_title": (
        "Exemplar check: do good customers score above bad ones?",
        "模範顧客チェック：優良例は不良例より高いか？",
    ),
    "exemplar_none": (
        "No exemplars yet: mark a few customers good or bad on Customers.",
        "模範顧客が未設定です。Customersシートのexemplar列にgood/badを入力してください。",
    ),
    "exemplar_result": (
        "{ok} of {pairs} good/bad pairs in the right order.",
        "{pairs}組中{ok}組が正しい順序です。",
    ),
    "exemplar_wrong": (
        "These pairs are out of order (the good one does not score higher):",
        "次の組は順序が逆です（優良例のスコアが高くない）：",
    ),
    "backtest_title": ("Back-test against outcomes", "実績（解約・更新）による検証"),
    "backtest_none": (
        "No outcomes yet: fill outcome (renewed/churned) on Customers.",
        "実績がありません。Customersシートのoutcome列にrenewed/churnedを入力してください。",
    ),
    "backtest_result": (
        "{n} customers with an outcome, {churned} churned ({rate:.0%}). AUC {auc:.2f} "
        "(1.0 = the score ranks every renewal above every churn; 0.5 = a coin toss). "
        "Lowest tier churns {lift:.1f}× the average.",
        "実績のある顧客{n}社、うち解約{churned}社（{rate:.0%}）。AUC {auc:.2f}"
        "（1.0＝スコアが全ての更新を解約より上位に並べる、0.5＝偶然と同じ）。"
        "最下位ティアの解約率は平均の{lift:.1f}倍。",
    ),
}
TEXT.update(CHECKS_TEXT)


def _previous_as_of(w: OutputWriter) -> object:
    """The date of the snapshot Change compares with (the latest before as_of)."""
    dates = pd.to_datetime(w.r.summary["previous_as_of"], errors="coerce").dropna()
    return dates.max().date() if len(dates) else text("change_first", w.lang)


def _column_mapping(w: OutputWriter, b: SheetBuilder) -> None:
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


def write_checks(w: OutputWriter, problems: list[Problem]) -> NewSheet:
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


def _coverage(w: OutputWriter, b: SheetBuilder) -> None:
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


def _exemplars(w: OutputWriter, b: SheetBuilder) -> None:
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


def _backtest(w: OutputWriter, b: SheetBuilder) -> None:
    lang = w.lang
    bt = w.r.backtest
    if bt is None:
        b.text_line(text("backtest_title", lang), SECTION)
        b.text_line(text("backtest_none", lang))
    else:
        result = text(
            "backtest_result",
            lang,
            n=bt.customers,
            churned=bt.churned,
            rate=bt.churn_rate,
            auc=bt.auc,
            lift=bt.lift,
        )
        tiers = bt.by_tier.copy()
        names = {t.tier: t.text(lang) for t in w.model.tiers}
        tiers["tier_label"] = tiers["tier"].map(names)
        b.block(
            Block(
                tiers,
                [
                    w.col("tier", "int", "0", 13),
                    w.col("tier_label", width=16),
                    w.col("customers", "int", "#,##0", 18),
                    w.col("churned", "int", "#,##0", 12),
                    w.col("churn_rate", "number", "0%", 10),
                ],
                title=text("backtest_title", lang),
                notes=(result,),
                show_keys=False,
            )
        )


# Checks sections after the data problems, in the order the sheet shows them.
SECTIONS = (_column_mapping, _coverage, _exemplars, _backtest)
