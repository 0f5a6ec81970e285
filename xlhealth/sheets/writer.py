"""What every sheet writer shares: labels in the model's language, section style, and the
:class:`SheetWriter` base (one refresh's Result, the book's styles, column helpers).

The output sheets (``outputs``) and the Checks sheet (``checks``) both build on it, so
neither imports the other's internals.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from xlhealth.core.engine import Result
from xlhealth.core.model import Model
from xlhealth.xlsx.sheetxml import Column, SheetBuilder
from xlhealth.xlsx.styles import CellStyle, StyleBook

LABELS: dict[str, tuple[str, str]] = {
    "customer_id": ("Customer ID", "顧客ID"),
    "customer_name": ("Customer", "顧客名"),
    "segment": ("Segment", "セグメント"),
    "owner": ("Owner", "担当者"),
    "score": ("Health score", "ヘルススコア"),
    "tier": ("Tier", "ティア"),
    "tier_label": ("Tier name", "ティア名"),
    "override": ("Override (CSM)", "上書き（CSM判断）"),
    "override_reason": ("Override: why, by whom, until", "上書きの理由・設定者・期限"),
    "reason": ("Reason", "理由"),
    "by": ("By", "設定者"),
    "until": ("Until", "期限"),
    "score_change": ("Change", "前回比"),
    "trend": ("Trend / 30 days", "傾向／30日"),
    "sparkline": ("Last 12 refreshes", "直近12回"),
    "deployment": ("Deployment", "導入"),
    "engagement": ("Engagement", "エンゲージメント"),
    "adoption": ("Adoption", "活用"),
    "roi": ("ROI", "ROI"),
    "cmi": ("Maturity index (CMI)", "成熟度指数 (CMI)"),
    "maturity_level": ("Maturity level", "成熟度レベル"),
    "quadrant": ("Quadrant", "象限"),
    "decision": ("Decision", "方針"),
    "reasons": ("Why (biggest point losses)", "理由（失点の大きい順）"),
    "completeness": ("Data completeness", "データ充足率"),
    "matrix_actions": ("Suggested actions", "推奨アクション"),
    "arr": ("ARR", "ARR"),
    "renewal_date": ("Renewal", "更新日"),
    "priority": ("Priority", "優先度"),
    "trigger": ("Trigger", "トリガー"),
    "action": ("Action", "アクション"),
    "due": ("Due", "期限"),
    "alert": ("Alert", "アラート"),
    "opened": ("Opened", "発生日"),
    "status": ("Status", "状況"),
    "snooze_until": ("Snooze until", "保留期限"),
    "score_opened": ("Score when opened", "発生時のスコア"),
    "trigger_opened": ("Trigger when opened", "発生時のトリガー"),
    "closed_on": ("Closed on (seen by refresh)", "完了日（更新時に確認）"),
    "status_seen": ("Status refresh read", "更新時の状況"),
    "closed": ("Closed", "終了日"),
    "outcome": ("Outcome", "結果"),
    "trigger_closed": ("Last trigger", "最後のトリガー"),
    "score_closed": ("Score when closed", "終了時のスコア"),
    "as_of": ("As of", "基準日"),
    "customers": ("Customers", "顧客数"),
    "scored": ("Scored", "スコア算出"),
    "mean_score": ("Mean score", "平均スコア"),
    "median_score": ("Median score", "中央値"),
    "mean_change": ("Mean change", "平均変化"),
    "sheet": ("Sheet", "シート"),
    "cell": ("Cell", "セル"),
    "row": ("Row", "行"),
    "column": ("Column", "列"),
    "value": ("Value", "値"),
    "message": ("What to do", "対処"),
    "metric": ("Metric", "指標"),
    "group": ("Group", "グループ"),
    "source": ("Source sheet", "元シート"),
    "customers_with_value": ("Customers with a value", "値のある顧客数"),
    "coverage": ("Coverage", "カバー率"),
    "flag": ("Check", "判定"),
    "note": ("Note", "備考"),
    "good_id": ("Good exemplar", "優良例"),
    "good_score": ("Its score", "スコア"),
    "bad_id": ("Bad exemplar", "不良例"),
    "bad_score": ("Its score", "スコア"),
    "churned": ("Churned", "解約数"),
    "churn_rate": ("Churn rate", "解約率"),
    "chart_item": ("Chart element", "チャートの要素"),
    "values_row": ("Row on Values", "Valuesの行"),
    "maturity_x": ("Maturity line: CMI", "成熟度の線: CMI"),
    "maturity_y": ("Maturity line: score", "成熟度の線: スコア"),
    "health_x": ("Health line: CMI", "ヘルスの線: CMI"),
    "health_y": ("Health line: score", "ヘルスの線: スコア"),
    "field": ("Field", "項目"),
    "header": ("Header in the sheet", "シートの見出し"),
    "origin": ("Recognised as", "認識の根拠"),
}
TEXT = {
    "tier_mix": ("Tier mix by segment", "セグメント別ティア構成"),
    "share": ("Share of customers", "顧客の割合"),
    "scatter": ("Health × maturity", "ヘルス × 成熟度"),
    "matrix_title": ("Health × maturity: {n} customers", "ヘルス × 成熟度：{n} 社"),
    "cmi_axis": ("Customer Maturity Index (CMI)", "顧客成熟度指数 (CMI)"),
    "score_axis": ("Health score", "ヘルススコア"),
    "off_chart": (
        "Not on the chart: {n} customer{s} without a maturity assessment (CMI)",
        "チャート外: 成熟度未評価 {n} 社",
    ),
    "off_chart_score": ("; {n} without a health score", "、スコア未算出 {n} 社"),
    "matrix_cells": (
        "Health × maturity chart: threshold lines (Settings) and quadrant names (Matrix)",
        "ヘルス × 成熟度チャート：しきい値の線（Settings）と象限名（Matrix）",
    ),
    "line_maturity": ("Line: maturity_high_min = {v:g}", "線: maturity_high_min = {v:g}"),
    "line_health": ("Line: health_high_min = {v:g}", "線: health_high_min = {v:g}"),
    "quadrants": ("Quadrants", "象限"),
    "on_chart": ("Chart", "チャート"),
    "matrix_points": (
        "Health × maturity: the {n} customers on the chart, by tier",
        "ヘルス × 成熟度：チャート上の顧客 {n} 社（ティア順）",
    ),
    "off_chart_title": (
        "Not on the chart: {n} customers without a CMI or a score",
        "チャート外：CMIまたはスコアのない顧客 {n} 社",
    ),
    "segments_title": ("Segments — benchmarks by segment", "セグメント — セグメント別ベンチマーク"),
    "summary_note": (
        "One row per customer. Tier colours follow the Tiers sheet; "
        "'Why' lists the bands that cost the most points.",
        "顧客ごとに1行。ティアの色はTiersシートに従います。「理由」は失点の大きい項目です。",
    ),
}
SECTION = CellStyle(bold=True, size=14, color="1F4E79")


def label(key: str, language: str) -> str:
    en, ja = LABELS.get(key, (key, key))
    return ja if language == "ja" else en


def text(key: str, language: str, **values: object) -> str:
    en, ja = TEXT[key]
    return (ja if language == "ja" else en).format(**values)


def contrast(color: str) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    return "000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "FFFFFF"


class SheetWriter:
    """One refresh's Result and one workbook's styles, with the column helpers every sheet uses."""

    def __init__(
        self,
        result: Result,
        styles: StyleBook,
        date1904: bool = False,
        refreshed_at: dt.datetime | None = None,
    ):
        self.r = result
        self.model: Model = result.model
        self.lang = self.model.settings.language
        self.styles = styles
        self.date1904 = date1904
        self.refreshed_at = refreshed_at or dt.datetime.now().replace(microsecond=0)

    def builder(self) -> SheetBuilder:
        return SheetBuilder(self.styles, self.date1904)

    def col(
        self, key: str, kind: str = "text", fmt: str = "General", width: float = 12, **style: object
    ) -> Column:
        return Column(key, label(key, self.lang), kind, CellStyle(num_fmt=fmt, **style), width)

    def tier_styles(self, base: CellStyle) -> dict[int, int]:
        out = {}
        for t in self.model.tiers:
            color = (t.color or "#DDDDDD").lstrip("#").upper()
            out[t.tier] = self.styles.xf(
                CellStyle(
                    num_fmt=base.num_fmt,
                    fill=color,
                    color=contrast(color),
                    bold=True,
                    halign="center",
                )
            )
        return out

    def tier_column(self, key: str, kind: str, width: float, tiers_of) -> Column:
        base = CellStyle(halign="center")
        by_tier = self.tier_styles(base)
        plain = self.styles.xf(base)

        def styles(values: pd.Series) -> np.ndarray:
            tiers = pd.Series(tiers_of(values)).astype("Float64")
            return (
                tiers.map({float(k): v for k, v in by_tier.items()})
                .fillna(plain)
                .to_numpy(dtype=np.int64)
            )

        return Column(key, label(key, self.lang), kind, base, width, styles)

    def tier_colors(self, b: SheetBuilder, ranges: list[str], tier_cell: str) -> None:
        """Each tier's colour as conditional formatting: a tier a formula changes is shown
        in its new colour (the cells' own fill is the tier refresh computed)."""
        for t in self.model.tiers:
            color = (t.color or "#DDDDDD").lstrip("#").upper()
            dxf = self.styles.dxf(fill=color, color=contrast(color), bold=True)
            rule = (f'<cfRule type="expression" dxfId="{dxf}" priority="{{priority}}">'
                    f"<formula>{tier_cell}={t.tier}</formula></cfRule>")  # fmt: skip
            b.add_conditional(" ".join(ranges), rule)
