"""The Suggestions sheet: evidence per metric, suggested weights and cut points.

Written only by ``xlhealth suggest`` (never by refresh), in the Settings language.
Every gain is shown with its spread across held-out folds; a chart sets today's AUC
beside the suggested one on each fold, so nobody reads a +0.005 as a certainty.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.model import Model
from xlhealth.sheets.writer import SECTION
from xlhealth.suggest.evidence import CutSuggestion, Suggestion
from xlhealth.xlsx import charts
from xlhealth.xlsx.package import OWN_PREFIX, NewSheet, chart_sheet
from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder
from xlhealth.xlsx.styles import CellStyle, StyleBook

SHEET = "Suggestions"
STRONG = CellStyle(bold=True, color="1F4E79")

TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "Suggestions — weights and cut points from the honest back-test",
        "改善提案 — 実績前のスコアによる検証にもとづく重みと区分",
    ),
    "intro": (
        "Nothing here changes the model. Every figure comes from customers with an outcome, "
        "scored as of outcome_date − {lead} days: what the score said before the outcome.",
        "このシートはモデルを変更しません。数値はすべて、実績（解約・更新）のある顧客を "
        "outcome_date の{lead}日前の時点でスコア化したもの（実績が出る前にスコアが示していた内容）"
        "にもとづきます。",
    ),
    "made": ("Suggested on", "作成日時"),
    "based": ("Customers back-tested", "検証した顧客数"),
    "based_value": (
        "{n:,} (scored {lead} days before their outcome_date)",
        "{n:,} 社（outcome_date の{lead}日前の時点でスコア化）",
    ),
    "split": ("Churned / renewed", "解約 / 更新"),
    "split_value": ("{c:,} / {r:,}", "{c:,} 社 / {r:,} 社"),
    "others": ("Not used here", "ここで使わない顧客"),
    "others_value": (
        "{h:,} with only a History snapshot, {t:,} with only today's score "
        "(no outcome_date: they cannot be scored before the outcome)",
        "履歴スナップショットのみ {h:,} 社、今日のスコアのみ {t:,} 社"
        "（outcome_date がないため実績前の時点でスコア化できません）",
    ),
    "minimum": ("Needed to fit", "提案に必要な件数"),
    "minimum_value": (
        "{m:,} churned and {m:,} renewed (Settings suggest_min_outcomes)",
        "解約 {m:,} 社と更新 {m:,} 社（Settings の suggest_min_outcomes）",
    ),
    "cv": ("Cross-validation", "交差検証"),
    "cv_value": (
        "{k} folds × {r} repeats, stratified: weights fitted on {k1} of {k} parts of the "
        "customers, AUC measured on the part left out",
        "層化 {k} 分割 × {r} 回：顧客の {k1}/{k} で重みを推定し、残りの顧客で AUC を測定",
    ),
    "auc_all": ("AUC today, everyone", "現在の AUC（全員）"),
    "none": (
        "No customer has an outcome with an outcome_date yet: fill outcome (renewed/churned) "
        "and outcome_date on Customers, then run xlhealth suggest again.",
        "outcome_date 付きの実績がある顧客がまだいません。Customers シートの outcome"
        "（renewed/churned）と outcome_date を入力してから、もう一度 xlhealth suggest を"
        "実行してください。",
    ),
    "refusal": (
        "Not enough outcomes to suggest weights: {c:,} churned and {r:,} renewed customers "
        "have an outcome_date, and at least {m:,} of each are needed. Nothing was fitted; "
        "below is the evidence per metric only — a description, not a recommendation.",
        "重みを提案するには実績が足りません：outcome_date のある顧客は解約 {c:,} 社・更新 "
        "{r:,} 社で、それぞれ {m:,} 社以上必要です。推定は行っていません。以下は指標ごとの"
        "実績の記述であり、推奨ではありません。",
    ),
    "headline": (
        "AUC on held-out customers (mean of {n} folds, lowest–highest): today's weights "
        "{t:.3f} ({t0:.3f}–{t1:.3f}); suggested weights {s:.3f} ({s0:.3f}–{s1:.3f}).",
        "検証用に除いた顧客での AUC（{n} 回の平均、最低〜最高）：現在の重み {t:.3f}"
        "（{t0:.3f}〜{t1:.3f}）、提案の重み {s:.3f}（{s0:.3f}〜{s1:.3f}）。",
    ),
    "gain": (
        "Gain {g:+.3f} (sd {sd:.3f}, from {g0:+.3f} to {g1:+.3f}); the suggested weights did "
        "better in {better} of {n} folds.",
        "改善幅 {g:+.3f}（標準偏差 {sd:.3f}、{g0:+.3f}〜{g1:+.3f}）。提案の重みが上回ったのは "
        "{n} 回中 {better} 回。",
    ),
    "reliable": (
        "The gain is larger than its spread: on customers the fit never saw, the suggested "
        "weights ranked churners lower more often. Expect about this much — not a certainty.",
        "改善幅はばらつきより大きく、推定に使っていない顧客で提案の重みの方が解約顧客を低く"
        "評価できました。期待できるのはこの程度で、確実ではありません。",
    ),
    "unreliable": (
        "No reliable gain: the gain is within its spread across folds. Today's weights are "
        "as good as the suggested ones on this data.",
        "確かな改善はありません：改善幅は分割ごとのばらつきの範囲内です。このデータでは"
        "現在の重みで提案と同程度です。",
    ),
    "worse": (
        "The suggested weights did worse on held-out customers: keep today's weights.",
        "提案の重みは検証用の顧客で現在より悪い結果でした。現在の重みを維持してください。",
    ),
    "apply": (
        'To use the suggested weights: xlhealth suggest "{book}" --apply (writes only the '
        "weight cells of Metrics and keeps {book}.bak); then refresh.",
        '提案の重みを使うには：xlhealth suggest "{book}" --apply（Metrics の weight セル'
        "だけを書き換え、{book}.bak を残します）。その後に更新してください。",
    ),
    "applied": (
        "Applied on {when}: the suggested weights were written into the weight cells of "
        "Metrics; the previous file is {book}.bak. Refresh to score with them.",
        "{when} に適用済み：提案の重みを Metrics の weight セルに書き込みました。以前のファイルは "
        "{book}.bak です。新しい重みでスコアを出すには更新してください。",
    ),
    "nothing": (
        "No metric has data for the customers with an outcome: nothing to fit.",
        "実績のある顧客について値のある指標がないため、推定できません。",
    ),
    "metrics_title": ("Per metric: evidence and weights", "指標ごと：実績と重み"),
    "metrics_note": (
        "Metric AUC: the metric's points alone against churn (1 = every renewal above every "
        "churn, 0.5 = a coin toss, below 0.5 = backwards). Weight 0 = leave the metric out.",
        "指標の AUC：その指標の点数だけで解約を見分けられるか（1＝更新がすべて解約より上、"
        "0.5＝偶然と同じ、0.5未満＝逆向き）。重み 0 ＝ スコアから外す提案です。",
    ),
    "folds_title": ("AUC per held-out fold", "検証用の分割ごとの AUC"),
    "folds_note": (
        "Each row: weights fitted on the other customers, AUC measured on these.",
        "各行：他の顧客で重みを推定し、この顧客たちで AUC を測定。",
    ),
    "chart": ("AUC on held-out customers: today vs suggested", "検証用顧客での AUC：現在と提案"),
    "chart_axis": ("AUC (0.5 = coin toss)", "AUC（0.5＝偶然と同じ）"),
    "series_today": ("Today's weights", "現在の重み"),
    "series_new": ("Suggested weights", "提案の重み"),
    "cuts_title": (
        "Suggested cut points for numeric metrics (at most four bands)",
        "数値指標の区分の提案（最大4区分）",
    ),
    "cuts_note": (
        "Bands found on every customer with an outcome, points as the churn rates say "
        "(monotone). Effect: the model's AUC with only this metric re-banded, today's weights, "
        "cross-validated (bands found on the training customers only).",
        "区分は実績のある全顧客から求め、点数は解約率の順（単調）に付けています。効果：この指標"
        "だけ区分を変えたときのモデルの AUC の変化（現在の重み、区分は推定用の顧客だけで求めた"
        "交差検証）。",
    ),
    "cuts_none": (
        "No numeric metric splits churners from renewals clearly enough for new bands "
        "(each band needs 5% of the customers and at least 10).",
        "新しい区分を提案できるほど解約と更新をはっきり分ける数値指標はありません"
        "（各区分に顧客の5%以上かつ10社以上が必要）。",
    ),
    "cuts_detail": ("Suggested bands", "提案する区分"),
    "cuts_detail_note": (
        "A band a–b holds values from a up to, not including, b (as min and max on Rules).",
        "区分 a〜b は a 以上 b 未満の値（Rules の min と max と同じ）。",
    ),
    "bands_title": ("Churn per band (today's Rules)", "区分ごとの解約率（現在の Rules）"),
    "bands_note": (
        "A band a–b holds values from a up to, not including, b (min and max on Rules); "
        "'(no value)': customers without a value, scored as when_missing says.",
        "区分 a〜b は a 以上 b 未満の値（Rules の min と max）。「（値なし）」：値のない顧客"
        "（when_missing の設定どおりに扱われます）。",
    ),
    "better": ("gain > spread", "改善あり"),
    "not_better": ("no reliable gain", "確かな改善なし"),
    "raise": ("raise", "上げる"),
    "lower": ("lower", "下げる"),
    "keep": ("keep", "そのまま"),
    "leave_out": ("leave out (weight 0)", "外す（重み 0）"),
    "ok": ("OK", "OK"),
    "no_data": (
        "no data: no customer with an outcome has a value",
        "データなし：実績のある顧客に値がありません",
    ),
    "one_band": (
        "does not separate churners: everyone gets the same points (weight left as it is)",
        "解約を見分けない：全員が同じ点数（重みはそのまま）",
    ),
    "against": (
        "runs against outcomes: more points, more churn",
        "実績と逆：点数が高いほど解約が多い",
    ),
    "no_separation": (
        "does not separate churners (AUC near 0.5)",
        "解約を見分けない（AUC が0.5付近）",
    ),
}

LABELS: dict[str, tuple[str, str]] = {
    "metric": ("Metric", "指標"),
    "group": ("Group", "グループ"),
    "description": ("What it measures", "内容"),
    "customers_with_value": ("Customers with a value", "値のある顧客数"),
    "coverage": ("Coverage", "カバー率"),
    "weight_today": ("Weight today", "現在の重み"),
    "weight_suggested": ("Suggested weight", "提案の重み"),
    "change": ("Suggestion", "提案"),
    "metric_auc": ("Metric AUC", "指標の AUC"),
    "flag": ("Check", "判定"),
    "band": ("Band", "区分"),
    "label": ("Label", "ラベル"),
    "points": ("Points", "点数"),
    "customers": ("Customers", "顧客数"),
    "churned": ("Churned", "解約数"),
    "churn_rate": ("Churn rate", "解約率"),
    "repeat": ("Repeat", "反復"),
    "fold": ("Fold", "分割"),
    "fold_name": ("Fold", "分割"),
    "auc_today": ("AUC today", "AUC（現在）"),
    "auc_suggested": ("AUC suggested", "AUC（提案）"),
    "gain": ("Gain", "改善幅"),
    "bands": ("Suggested bands", "提案する区分"),
    "points_text": ("Points", "点数"),
    "gain_mean": ("AUC effect (mean)", "AUC への効果（平均）"),
    "gain_sd": ("Spread (sd)", "ばらつき（標準偏差）"),
    "gain_min": ("Lowest", "最低"),
    "gain_max": ("Highest", "最高"),
    "folds_found": ("Folds with a split", "区分が見つかった回数"),
    "bands_today": ("Bands today", "現在の区分数"),
    "verdict": ("Verdict", "判定"),
}
FLAG_FILLS = {
    "against": "F8CBAD",
    "no_separation": "FFF2CC",
    "one_band": "FFF2CC",
    "no_data": "EDEDED",
}


@dataclass
class Context:
    """What the sheet says the suggestion is based on."""

    book: str
    lead_days: int
    basis_counts: dict[str, int] | None = None  # customers with an outcome per basis
    made_at: dt.datetime | None = None
    applied: bool = False


def text(key: str, lang: str, **values: object) -> str:
    en, ja = TEXT[key]
    return (ja if lang == "ja" else en).format(**values)


def label(key: str, lang: str) -> str:
    en, ja = LABELS.get(key, (key, key))
    return ja if lang == "ja" else en


def range_text(lo: float | None, hi: float | None, lang: str) -> str:
    """A band [lo, hi) in few characters: "< 3", "3–7", "≥ 7" (ja: 3未満, 3〜7, 7以上)."""
    if lo is None and hi is None:
        return "すべて" if lang == "ja" else "all"
    if lo is None:
        return f"{hi:g}未満" if lang == "ja" else f"< {hi:g}"
    if hi is None:
        return f"{lo:g}以上" if lang == "ja" else f"≥ {lo:g}"
    return f"{lo:g}〜{hi:g}" if lang == "ja" else f"{lo:g}–{hi:g}"


def write_suggestions(
    s: Suggestion, model: Model, styles: StyleBook, date1904: bool, context: Context
) -> NewSheet:
    lang = model.settings.language
    b = SheetBuilder(styles, date1904)

    def col(key: str, kind: str = "text", fmt: str = "General", width: float = 12, **style):
        return Column(key, label(key, lang), kind, CellStyle(num_fmt=fmt, **style), width)

    b.text_line(text("title", lang), CellStyle(bold=True, size=16, color="1F4E79"))
    b.text_line(text("intro", lang, lead=context.lead_days))
    b.next_row += 1
    made = (context.made_at or dt.datetime.now()).replace(microsecond=0)
    pairs: list[tuple[str, object]] = [
        (text("made", lang), made.strftime("%Y-%m-%d %H:%M")),
        (text("based", lang), text("based_value", lang, n=s.customers, lead=context.lead_days)),
        (text("split", lang), text("split_value", lang, c=s.churned, r=s.renewed)),
    ]
    counts = context.basis_counts or {}
    if counts.get("history", 0) or counts.get("today", 0):
        pairs.append(
            (
                text("others", lang),
                text("others_value", lang, h=counts.get("history", 0), t=counts.get("today", 0)),
            )
        )
    pairs.append((text("minimum", lang), text("minimum_value", lang, m=s.min_outcomes)))
    if s.fitted:
        pairs.append(
            (
                text("cv", lang),
                text("cv_value", lang, k=s.n_folds, r=s.repeats, k1=s.n_folds - 1),
            )
        )
    if not np.isnan(s.auc_today_all):
        pairs.append((text("auc_all", lang), round(s.auc_today_all, 3)))
    b.pairs(pairs)
    b.next_row += 1
    for line in headline(s, lang, context):
        b.text_line(line, STRONG)
    b.next_row += 1

    _metrics_table(s, lang, b, col, styles)
    drawing = None
    if s.fitted and len(s.folds):
        drawing = _folds_and_chart(s, lang, b, col)
        _cut_points(s, model, lang, b, col)
    _bands_table(s, model, lang, b, col)
    b.tab_color = "2E75B6"
    b.landscape = True
    if drawing is None:
        return NewSheet(b.xml())
    b.drawing_rid = "rId1"
    return chart_sheet(b.xml(), DRAWING_NAME, *drawing)


DRAWING_NAME = f"{OWN_PREFIX}suggestions.xml"
CHART_NAME = f"{OWN_PREFIX}suggestions_auc.xml"


def headline(s: Suggestion, lang: str, context: Context) -> list[str]:
    """The sentences that say what the suggestion is worth (also printed by the CLI)."""
    if s.customers == 0:
        return [text("none", lang)]
    if not s.fitted:
        return [text("refusal", lang, c=s.churned, r=s.renewed, m=s.min_outcomes)]
    if not len(s.folds):
        return [text("nothing", lang)]
    t, n, g = s.cv("auc_today"), s.cv("auc_suggested"), s.cv("gain")
    better = int((s.folds["gain"] > 0).sum())
    lines = [
        text(
            "headline",
            lang,
            n=t["n"],
            t=t["mean"],
            t0=t["min"],
            t1=t["max"],
            s=n["mean"],
            s0=n["min"],
            s1=n["max"],
        ),
        text(
            "gain", lang, g=g["mean"], sd=g["sd"], g0=g["min"], g1=g["max"], better=better, n=g["n"]
        ),
        text("reliable" if s.reliable else "worse" if g["mean"] < 0 else "unreliable", lang),
    ]
    if context.applied:
        when = (context.made_at or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
        lines.append(text("applied", lang, when=when, book=context.book))
    elif s.weights():
        lines.append(text("apply", lang, book=context.book))
    return lines


def _metrics_table(s: Suggestion, lang: str, b: SheetBuilder, col, styles: StyleBook) -> None:
    m = s.metrics.copy()
    m["change"] = [
        _change(today, new, lang)
        for today, new in zip(m["weight_today"], m["weight_suggested"], strict=True)
    ]
    m["flag_key"] = m["flag"]
    m["flag"] = [text(f or "ok", lang) for f in m["flag"]]
    fills = {k: styles.xf(CellStyle(fill=v, wrap=True)) for k, v in FLAG_FILLS.items()}
    plain = styles.xf(CellStyle(wrap=True))
    keys = m["flag_key"].reset_index(drop=True)
    flag_column = Column(
        "flag",
        label("flag", lang),
        style=CellStyle(wrap=True),
        width=54,
        styles=lambda _: keys.map(fills).fillna(plain).to_numpy(dtype=np.int64),
    )
    columns = [
        col("metric", width=26, bold=True),
        col("group", width=13),
        col("coverage", "number", "0%", 11),
        col("customers_with_value", "int", "#,##0", 13),
        col("weight_today", "number", "0.0##", 10),
        col("weight_suggested", "number", "0.0##", 11, bold=True),
        col("metric_auc", "number", "0.000", 10),
        col("change", width=16, halign="center"),
        flag_column,
        col("description", width=50),
    ]
    b.block(
        Block(
            m.reset_index(drop=True),
            columns,
            title=text("metrics_title", lang),
            notes=(text("metrics_note", lang),),
            show_keys=False,
        )
    )


def _change(today: float, new: float, lang: str) -> str:
    if new != new:  # NaN: not fitted
        return ""
    if new == 0 and today != 0:
        return text("leave_out", lang)
    if abs(new - today) < 1e-9:
        return text("keep", lang)
    return text("raise" if new > today else "lower", lang)


def _folds_and_chart(
    s: Suggestion, lang: str, b: SheetBuilder, col
) -> tuple[bytes, list[tuple[str, bytes]]]:
    f = s.folds.copy()
    f["fold_name"] = [f"{r}-{k}" for r, k in zip(f["repeat"], f["fold"], strict=True)]
    columns = [
        col("fold_name", width=26),
        col("customers", "int", "#,##0", 13),
        col("churned", "int", "#,##0", 10),
        col("auc_today", "number", "0.000", 10),
        col("auc_suggested", "number", "0.000", 11),
        col("gain", "number", "+0.000;-0.000;0.000", 14),
    ]
    top = b.next_row
    layout = b.block(
        Block(
            f.reset_index(drop=True),
            columns,
            title=text("folds_title", lang),
            notes=(text("folds_note", lang),),
            show_keys=False,
        )
    )
    first, last = layout.first_row, layout.last_row

    def ref(key: str) -> str:
        letter = layout.letters[key]
        return f"'{SHEET}'!${letter}${first}:${letter}${last}"

    def name_ref(key: str) -> str:
        return f"'{SHEET}'!${layout.letters[key]}${layout.header_row}"

    lows = min(f["auc_today"].min(), f["auc_suggested"].min())
    floor = 0.5 if lows >= 0.5 else max(0.0, np.floor(lows * 10) / 10)
    chart = charts.clustered_columns(
        text("chart", lang),
        ref("fold_name"),
        f["fold_name"].tolist(),
        [
            charts.Series(
                name_ref("auc_today"),
                label("auc_today", lang),
                ref("auc_today"),
                f["auc_today"].astype(float).tolist(),
                "A5A5A5",
            ),
            charts.Series(
                name_ref("auc_suggested"),
                label("auc_suggested", lang),
                ref("auc_suggested"),
                f["auc_suggested"].astype(float).tolist(),
                "2E75B6",
            ),
        ],
        text("chart_axis", lang),
        value_range=(floor, 1.0),
        number_format="0.00",
    )
    height = max(18, last - top + 1)
    anchors = [(7, top - 1, 10, top - 1 + height)]  # columns H–J, beside the table
    return charts.drawing(anchors), [(CHART_NAME, chart)]


def _cut_points(s: Suggestion, model: Model, lang: str, b: SheetBuilder, col) -> None:
    cuts = s.cut_points
    if not cuts:
        b.text_line(text("cuts_title", lang), SECTION)
        b.text_line(text("cuts_none", lang))
        b.next_row += 1
        return
    rows = []
    detail = []
    by_name = {m.name: m for m in model.scored_metrics}
    for c in cuts:
        bounds = [None, *c.cuts.cuts, None]
        ranges = [range_text(lo, hi, lang) for lo, hi in itertools.pairwise(bounds)]
        rows.append(
            {
                "metric": c.metric,
                "bands": " | ".join(ranges),
                "points_text": " | ".join(f"{p:g}" for p in c.cuts.points),
                "gain_mean": c.gains["mean"],
                "gain_sd": c.gains["sd"],
                "gain_min": c.gains["min"],
                "gain_max": c.gains["max"],
                "verdict": _cut_verdict(c, lang),
                "folds_found": c.folds_found,
                "bands_today": len(by_name[c.metric].bands),
            }
        )
        for rng, p, n, k in zip(
            ranges, c.cuts.points, c.cuts.customers, c.cuts.churned, strict=True
        ):
            detail.append(
                {
                    "metric": c.metric,
                    "band": rng,
                    "points": p,
                    "customers": n,
                    "churned": k,
                    "churn_rate": k / n if n else np.nan,
                }
            )
    signed = "+0.000;-0.000;0.000"
    b.block(
        Block(
            pd.DataFrame(rows),
            [
                col("metric", width=26, bold=True),
                col("gain_mean", "number", signed, 13),
                col("gain_sd", "number", "0.000", 11),
                col("gain_min", "number", signed, 11),
                col("gain_max", "number", signed, 10),
                col("folds_found", "int", "0", 11),
                col("bands_today", "int", "0", 10),
                col("verdict", width=16, halign="center"),
                col("bands", width=54),
                col("points_text", width=50),
            ],
            title=text("cuts_title", lang),
            notes=(text("cuts_note", lang),),
            show_keys=False,
        )
    )
    b.block(
        Block(
            pd.DataFrame(detail),
            [
                col("metric", width=26),
                col("band", width=13),
                col("points", "number", "0.#", 11),
                col("customers", "int", "#,##0", 11),
                col("churned", "int", "#,##0", 10),
                col("churn_rate", "number", "0%", 11),
            ],
            title=text("cuts_detail", lang),
            notes=(text("cuts_detail_note", lang),),
            show_keys=False,
        )
    )


def _cut_verdict(c: CutSuggestion, lang: str) -> str:
    return text("better" if c.reliable else "not_better", lang)


def _bands_table(s: Suggestion, model: Model, lang: str, b: SheetBuilder, col) -> None:
    bands = s.bands.copy()
    if bands.empty:
        return
    by_name = {m.name: m for m in model.scored_metrics}
    words = []
    for metric, band in zip(bands["metric"], bands["band"], strict=True):
        m = by_name.get(metric)
        found = next((x for x in (m.bands if m else ()) if x.describe() == band), None)
        if found is None:
            words.append("（値なし）" if lang == "ja" and band == "(no value)" else band)
        elif found.is_text:
            words.append(f"= {found.value}")
        else:
            words.append(range_text(found.min, found.max, lang))
    bands["band"] = words
    b.block(
        Block(
            bands.reset_index(drop=True),
            [
                col("metric", width=26),
                col("band", width=13),
                col("points", "number", "0.#", 11),
                col("customers", "int", "#,##0", 11),
                col("churned", "int", "#,##0", 10),
                col("churn_rate", "number", "0%", 11),
                col("label", fmt='"   "@', width=10),  # a little air after the rate
            ],
            title=text("bands_title", lang),
            notes=(text("bands_note", lang),),
            show_keys=False,
        )
    )
