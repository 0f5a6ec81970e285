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
from xlhealth.sheets.suggestions_text import label, range_text, text
from xlhealth.sheets.writer import SECTION
from xlhealth.suggest.evidence import CutSuggestion, Suggestion
from xlhealth.xlsx import charts
from xlhealth.xlsx.package import OWN_PREFIX, NewSheet, chart_sheet
from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder
from xlhealth.xlsx.styles import CellStyle, StyleBook

SHEET = "Suggestions"
STRONG = CellStyle(bold=True, color="1F4E79")

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
    if 0 < s.distinct_customers < s.customers:
        pairs.append(
            (
                text("grouped", lang),
                text("grouped_value", lang, n=s.customers, k=s.distinct_customers),
            )
        )
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
    m["auc_interval"] = [
        f"{lo:.3f}–{hi:.3f}" if lo == lo and hi == hi else ""
        for lo, hi in zip(m.get("auc_low", np.nan * m["metric_auc"]),
                          m.get("auc_high", np.nan * m["metric_auc"]), strict=True)
    ]  # fmt: skip
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
        col("auc_interval", width=13, halign="center"),
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
