"""Checks' stability section: how many customers changed tier since the previous snapshot
and since the one four weeks earlier, how many of those sit at a tier boundary, and the
``tier_hysteresis`` in force (``core.stability``)."""

from __future__ import annotations

import pandas as pd

from xlhealth.core.stability import EARLIER_DAYS, NEAR_POINTS, Horizon
from xlhealth.sheets.writer import LABELS, SECTION, TEXT, SheetWriter, text
from xlhealth.xlsx.sheetxml import Block, SheetBuilder

STABILITY_TEXT: dict[str, tuple[str, str]] = {
    "stability_title": ("Tier stability", "ティアの安定性"),
    "stability_none": (
        "No earlier snapshot in History yet: the next refresh shows how many tiers changed.",
        "Historyにまだ過去のスナップショットがありません。次回の更新で変化を表示します。",
    ),
    "stability_note": (
        "A tier that changes on a count's week-to-week wobble teaches people to ignore the "
        "colours. 'Near a boundary': the score is within {near:g} points of a tier's minimum. "
        "tier_hysteresis (Settings) = {h:g}: a customer keeps the previous tier until the score "
        "passes the boundary by {h:g} points{held}.",
        "件数の週ごとの揺れでティアが変わると、色が信用されなくなります。「境界付近」：スコアが"
        "ティアの最低点から{near:g}ポイント以内。tier_hysteresis（Settings）＝{h:g}：スコアが"
        "境界を{h:g}ポイント越えるまで前回のティアを維持します{held}。",
    ),
    "stability_held": (
        " (now {n:,} customers keep it although the score is just across)",
        "（現在、スコアが境界をわずかに越えたがティアを維持している顧客：{n:,}社）",
    ),
    "stability_since_previous": ("Since the previous snapshot", "前回のスナップショットから"),
    "stability_since_earlier": (
        "Since the snapshot {days} days earlier",
        "{days}日以上前のスナップショットから",
    ),
}
TEXT.update(STABILITY_TEXT)
LABELS.update(
    {
        "compared_with": ("Compared with", "比較対象"),
        "snapshot": ("Snapshot", "スナップショット"),
        "compared": ("Customers compared", "比較した顧客数"),
        "tier_changed": ("Tier changed", "ティア変化"),
        "changed_share": ("Share changed", "変化した割合"),
        "near_boundary": ("Of which near a boundary", "うち境界付近"),
    }
)


def stability(w: SheetWriter, b: SheetBuilder) -> None:
    s = w.r.stability
    lang = w.lang
    if s is None or not (s.previous.compared or s.earlier.compared):
        b.text_line(text("stability_title", lang), SECTION)
        b.text_line(text("stability_none", lang))
        b.next_row += 1
        return
    rows = []
    for key, h in (("stability_since_previous", s.previous),
                   ("stability_since_earlier", s.earlier)):  # fmt: skip
        rows.append(_row(text(key, lang, days=EARLIER_DAYS), h))
    held = text("stability_held", lang, n=s.held) if s.margin > 0 and s.held else ""
    b.block(
        Block(
            pd.DataFrame(rows),
            [
                w.col("compared_with", width=30),
                w.col("snapshot", "date", "yyyy-mm-dd", 12),
                w.col("compared", "int", "#,##0", 12),
                w.col("tier_changed", "int", "#,##0", 11),
                w.col("changed_share", "number", "0.0%", 12),
                w.col("near_boundary", "int", "#,##0", 14),
            ],
            title=text("stability_title", lang),
            notes=(text("stability_note", lang, near=NEAR_POINTS, h=s.margin, held=held),),
            show_keys=False,
        )
    )


def _row(label: str, h: Horizon) -> dict[str, object]:
    return {
        "compared_with": label,
        "snapshot": pd.Timestamp(h.since) if h.since else None,
        "compared": h.compared,
        "tier_changed": h.changed,
        "changed_share": h.share if h.compared else None,
        "near_boundary": h.near,
    }
