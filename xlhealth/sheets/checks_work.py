"""Checks sections about the work itself: each owner's open, new and overdue actions, and
"did the work help?" over the last 90 days of ActionLog (a description, not proof)."""

from __future__ import annotations

import pandas as pd

from xlhealth.sheets.writer import LABELS, SECTION, TEXT, SheetWriter, text
from xlhealth.xlsx.sheetxml import Block, SheetBuilder

WORK_TEXT: dict[str, tuple[str, str]] = {
    "owners_title": ("Actions per owner (open now)", "担当者別のアクション（現在未対応）"),
    "owners_note": (
        "New this week: opened in the last 7 days. Overdue: past its due date and still open.",
        "今週の新規：過去7日間に発生。期限超過：期限を過ぎて未対応のもの。",
    ),
    "helped_title": (
        "Did the work help? Actions that ended in the last 90 days (ActionLog)",
        "取り組みは効いたか？ 過去90日間に終了したアクション（ActionLog）",
    ),
    "helped_note": (
        "A description, not proof of cause: done actions are not a random sample, and few "
        "actions say little. Score change = score when it ended − score when it opened.",
        "因果の証明ではなく記述です：完了したアクションは無作為に選ばれたものではなく、件数が少ない"
        "と何も言えません。スコア変化＝終了時のスコア − 発生時のスコア。",
    ),
    "helped_none": (
        "No action has ended in the last 90 days yet.",
        "過去90日間に終了したアクションはまだありません。",
    ),
}
TEXT.update(WORK_TEXT)
LABELS.update(
    {
        "open": ("Open", "未対応"),
        "new_this_week": ("New this week", "今週の新規"),
        "overdue": ("Overdue", "期限超過"),
        "done": ("Done", "完了"),
        "wont_do": ("Won't do", "対応しない"),
        "resolved": ("Resolved by itself", "自然解消"),
        "total": ("Total", "合計"),
        "actions": ("Actions", "件数"),
        "median_days_open": ("Median days open", "対応日数の中央値"),
        "mean_score_change": ("Mean score change", "スコア変化の平均"),
        "with_scores": ("With both scores", "両スコアあり"),
    }
)


OWNERS_HEADER_ROW = 12  # Checks: the per-owner table's header row; its rows follow
START_ROWS = 20  # owners the Start sheet shows


def owners(w: SheetWriter, b: SheetBuilder) -> None:
    """Each owner's open actions, at a fixed place on Checks (Start's table reads it)."""
    r = w.r.review
    frame = r.owners if r is not None else pd.DataFrame(columns=["owner"])
    if b.next_row != OWNERS_HEADER_ROW - 1:
        raise AssertionError(f"the owner table must start at Checks row {OWNERS_HEADER_ROW}")
    b.text_line(text("owners_title", w.lang), SECTION)
    b.block(
        Block(
            frame,
            [
                w.col("owner", width=18),
                w.col("open", "int", "0", 9),
                w.col("new_this_week", "int", "0", 12),
                w.col("overdue", "int", "0", 9),
            ],
            show_keys=False,
            gap_after=0,
        )
    )
    b.text_line(text("owners_note", w.lang))
    b.next_row += 1


def helped(w: SheetWriter, b: SheetBuilder) -> None:
    r = w.r.review
    if r is None:
        return
    lang = w.lang
    if r.summary.empty:
        b.text_line(text("helped_title", lang))
        b.text_line(text("helped_none", lang))
        b.next_row += 1
        return
    summary = r.summary.copy()
    summary["outcome"] = [w.col(o).label for o in summary["outcome"]]
    b.block(
        Block(
            summary,
            [
                w.col("outcome", width=18),
                w.col("actions", "int", "#,##0", 9),
                w.col("median_days_open", "number", "0", 12),
                w.col("mean_score_change", "number", '"▲ "0.0;"▼ "0.0;"– "0.0', 12),
                w.col("with_scores", "int", "#,##0", 12),
            ],
            title=text("helped_title", lang),
            notes=(text("helped_note", lang),),
            show_keys=False,
            gap_after=0,
        )
    )
    b.block(
        Block(
            r.outcomes,
            [
                w.col("owner", width=18),
                w.col("done", "int", "0", 9),
                w.col("wont_do", "int", "0", 12),
                w.col("resolved", "int", "0", 12),
                w.col("total", "int", "0", 9),
            ],
            show_keys=False,
        )
    )
