"""The output sheets (Summary, Actions, Segments, History, Checks) as worksheet parts.

Pure presentation: a scoring Result in, formatted sheets out, labels in the
model's language. Tier colours come from the Tiers sheet; the score gets a
colour scale; the change column shows arrows; actions are tinted by priority.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from xlhealth.core.engine import ALL_SEGMENTS, NO_SEGMENT
from xlhealth.core.history import merge_history
from xlhealth.core.model import GROUPS
from xlhealth.core.problems import Problem
from xlhealth.sheets import formulas as fx
from xlhealth.sheets.checks import write_checks
from xlhealth.sheets.values import ConfigTables, Layout, live_summary, write_values
from xlhealth.sheets.work import hidden, people_column, write_action_log, write_actions
from xlhealth.sheets.writer import SheetWriter, contrast, text
from xlhealth.xlsx import charts
from xlhealth.xlsx.charts import sparklines
from xlhealth.xlsx.package import OWN_PREFIX, NewSheet, chart_sheet
from xlhealth.xlsx.rawzip import AppendOnly
from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder
from xlhealth.xlsx.sheetxml import Layout as Layout_
from xlhealth.xlsx.styles import CellStyle, StyleBook

OUTPUT_SHEETS = ("Summary", "Actions", "Segments", "History", "ActionLog", "Checks", "Values")

SCORE_SCALE = (
    '<cfRule type="colorScale" priority="{priority}"><colorScale>'
    '<cfvo type="num" val="0"/><cfvo type="num" val="50"/><cfvo type="num" val="100"/>'
    '<color rgb="FFF8696B"/><color rgb="FFFFEB84"/><color rgb="FF63BE7B"/>'
    "</colorScale></cfRule>"
)
CHANGE_FORMAT = '"▲ "0.0;"▼ "0.0;"– "0.0'
TREND_FORMAT = '"↗ "0.0;"↘ "0.0;"→ "0.0'  # points per 30 days


def change_colors(b: SheetBuilder, styles: StyleBook, sqref: str) -> None:
    """Green up-arrows, red down-arrows (conditional font colour, works in every viewer)."""
    for op, color in (("greaterThan", "2E7D32"), ("lessThan", "C00000")):
        dxf = styles.dxf(color=color, bold=True)
        b.add_conditional(
            sqref,
            f'<cfRule type="cellIs" dxfId="{dxf}" priority="{{priority}}" '
            f'operator="{op}"><formula>0</formula></cfRule>',
        )


class OutputWriter(SheetWriter):
    """Builds every output sheet of one refresh for one workbook's styles."""

    values: Layout | None = None  # set by values_sheet(): Summary's scores become formulas
    summary_at: Layout_ | None = None  # where summary() put its table (Segments reads it)

    # ------------------------------------------------------------------ Summary

    def summary_columns(self) -> list[Column]:
        tier_of_row = self.r.summary["tier"].reset_index(drop=True)
        override_tier = self.r.summary.get("override_tier", pd.Series(dtype="Int64"))
        override_tier = override_tier.reset_index(drop=True)
        return [
            self.col("customer_id", width=13),
            self.col("customer_name", width=26),
            self.col("segment", width=13),
            self.col("owner", width=14),
            self.col("score", "number", "0.0", 9, bold=True, halign="center"),
            self.tier_column("tier", "int", 6, lambda v: v),
            self.tier_column("tier_label", "text", 11, lambda v: tier_of_row),
            # a CSM's override beside the computed score, in its tier's colour (overrides.py)
            self.tier_column("override", "text", 15, lambda v: override_tier.reindex(v.index)),
            self.col("override_reason", width=40, italic=True, color="595959"),
            self.col("score_change", "number", CHANGE_FORMAT, 9, halign="center"),
            self.col("trend", "number", TREND_FORMAT, 10, halign="center"),
            self.col("sparkline", width=16),  # Excel's own sparkline of the spark_ columns
            *(self.col(g.lower(), "number", "0", 13, halign="center") for g in GROUPS),
            self.col("cmi", "number", "0.00", 10, halign="center"),
            self.col("maturity_level", "int", "0", 9, halign="center"),
            self.col("quadrant", width=18),
            self.col("decision", width=30),
            self.col("reasons", width=70),
            self.col("completeness", "number", "0%", 11, halign="center"),
            self.col("matrix_actions", width=60),
            self.col("arr", "number", "#,##0", 11),
            self.col("renewal_date", "date", "yyyy-mm-dd", 11),
            *(hidden(self.col(f"spark_{k}", "number", "0.0", 6)) for k in range(1, 13)),
        ]

    def summary(self) -> NewSheet:
        b = self.builder()
        mine = [people_column(self, "Summary", c) for c in self.r.user_columns.get("Summary", [])]
        builtin = self.summary_columns()
        columns = builtin + mine
        frame = self.r.summary.reset_index(drop=True)
        if self.values is not None:  # the scores as formulas over Values (sheets.values)
            columns, frame = live_summary(columns, len(builtin), frame, self.values)
        layout = b.block(Block(frame, columns))
        self.summary_at = layout
        b.freeze = f"C{layout.first_row}"
        b.autofilter = f"A{layout.header_row}:{layout.letters[columns[-1].key]}{layout.last_row}"
        b.add_conditional(layout.range_of("score"), SCORE_SCALE)
        change_colors(b, self.styles, layout.range_of("score_change"))
        change_colors(b, self.styles, layout.range_of("trend"))
        if layout.last_row >= layout.first_row:
            b.extensions.append(
                sparklines(
                    "Summary",
                    layout.letters["sparkline"],
                    layout.letters["spark_1"],
                    layout.letters["spark_12"],
                    layout.first_row,
                    layout.last_row,
                )
            )
        if self.values is not None:
            self.tier_colors(b, [layout.range_of("tier"), layout.range_of("tier_label")],
                             f"${layout.letters['tier']}{layout.first_row}")  # fmt: skip
        b.tab_color = "1F4E79"
        return NewSheet(b.xml())

    def tier_colors(self, b: SheetBuilder, ranges: list[str], tier_cell: str) -> None:
        """Each tier's colour as conditional formatting: a tier a formula changes is shown
        in its new colour (the cells' own fill is the tier refresh computed)."""
        for t in self.model.tiers:
            color = (t.color or "#DDDDDD").lstrip("#").upper()
            dxf = self.styles.dxf(fill=color, color=contrast(color), bold=True)
            rule = (f'<cfRule type="expression" dxfId="{dxf}" priority="{{priority}}">'
                    f"<formula>{tier_cell}={t.tier}</formula></cfRule>")  # fmt: skip
            b.add_conditional(" ".join(ranges), rule)

    def live_segments(self, columns: list[Column], at: Layout_) -> list[Column]:
        """Segments' counts, means, medians and tier mix as formulas over Summary's live
        scores (the tier chart moves with them); the mean change stays History's."""

        def summary(key: str) -> str:
            letter = at.letters[key]
            return f"'Summary'!${letter}${at.first_row}:${letter}${max(at.last_row, at.first_row)}"

        member = fx.in_segment(summary("segment"), "$A{r}", ALL_SEGMENTS[self.lang],
                               NO_SEGMENT[self.lang])  # fmt: skip
        score, made = summary("score"), {}
        made["customers"] = fx.segment_count(member)
        made["scored"] = fx.segment_count(member, score)
        made["mean_score"] = fx.segment_mean(member, score, 1)
        made["median_score"] = fx.segment_median(member, score)
        for t in self.model.tiers:
            made[f"tier_{t.tier}"] = fx.segment_tier(member, summary("tier"), t.tier)
        for g in GROUPS:
            if g.lower() in at.letters:
                made[g.lower()] = fx.segment_mean(member, summary(g.lower()), 1)
        if "cmi" in self.values.letters:
            made["cmi"] = fx.segment_mean(member, summary("cmi"), 2)
        return [
            replace(c, formula=made[c.key], array=c.key == "median_score") if c.key in made else c
            for c in columns
        ]

    def values_sheet(self, tables: ConfigTables) -> NewSheet:
        """The Values sheet; Summary's scores become formulas over it (``sheets.values``)."""
        sheet, self.values = write_values(self, tables)
        return sheet

    # ------------------------------------------------------------------ Actions

    def actions(self) -> NewSheet:
        """The work list (``sheets.work``): statuses, notes and people's columns kept."""
        return write_actions(self)

    def action_log(self, previous: AppendOnly | None = None) -> NewSheet:
        """Every action that ended, appended to the book's ActionLog (``sheets.work``)."""
        return write_action_log(self, previous)

    # ------------------------------------------------------------------ Segments

    def segments(self) -> NewSheet:
        seg = self.r.segments.reset_index(drop=True)
        b = self.builder()
        tiers = sorted(self.model.tiers, key=lambda t: -t.tier)
        columns = [
            self.col("segment", width=20, bold=True),
            self.col("customers", "int", "#,##0", 10),
            self.col("scored", "int", "#,##0", 9),
            self.col("mean_score", "number", "0.0", 10),
            self.col("median_score", "number", "0.0", 10),
            *(
                Column(
                    f"tier_{t.tier}",
                    f"{t.tier} {t.text(self.lang)}",
                    "int",
                    CellStyle(num_fmt="#,##0", halign="center"),
                    10,
                )
                for t in tiers
            ),
            *(self.col(g.lower(), "number", "0.0", 13) for g in GROUPS),
            self.col("mean_change", "number", CHANGE_FORMAT, 10),
            self.col("cmi", "number", "0.00", 9),
        ]
        if self.values is not None and self.summary_at is not None:
            columns = self.live_segments(columns, self.summary_at)
        layout = b.block(Block(seg, columns, title=text("segments_title", self.lang)))
        b.add_conditional(layout.range_of("mean_score"), SCORE_SCALE)
        change_colors(b, self.styles, layout.range_of("mean_change"))
        b.freeze = f"B{layout.first_row}"
        b.tab_color = "548235"

        # Charts below the table: tier mix per segment, and health × maturity per customer.
        chart_row = layout.last_row + 2
        cat_ref = (
            f"'Segments'!${layout.letters['segment']}${layout.first_row}:"
            f"${layout.letters['segment']}${layout.last_row}"
        )
        series = []
        for t in tiers:
            letter = layout.letters[f"tier_{t.tier}"]
            series.append(
                charts.Series(
                    name_ref=f"'Segments'!${letter}${layout.header_row - 1}",
                    name=f"{t.tier} {t.text(self.lang)}",
                    values_ref=f"'Segments'!${letter}${layout.first_row}:${letter}${layout.last_row}",
                    values=seg[f"tier_{t.tier}"].astype(float).tolist(),
                    color=(t.color or "#999999").lstrip("#").upper(),
                )
            )
        bar = charts.stacked_bar(
            text("tier_mix", self.lang),
            cat_ref,
            seg["segment"].astype(str).tolist(),
            series,
            text("share", self.lang),
        )
        bar_height = max(14, 2 * len(seg) + 6)

        # Health × maturity drawn as the maturity article's 2×2 matrix, below the tier mix.
        # Every cell a chart reads is on this sheet (points, lines and corner helpers below
        # the charts), so the sheet can be copied whole (the in-Excel refresh does).
        lang = self.lang
        health_min = float(self.model.settings.health_high_min)
        maturity_min = float(self.model.settings.maturity_high_min)
        people = self.r.summary.reset_index(drop=True)
        score = pd.to_numeric(people["score"], errors="coerce")
        cmi = pd.to_numeric(people["cmi"], errors="coerce")
        tier_no = pd.to_numeric(people["tier"], errors="coerce")
        on_chart = (score.notna() & cmi.notna()).to_numpy()
        no_cmi, no_score = int(cmi.isna().sum()), int(score.isna().sum())

        # Who is not on the chart, in words beside (just above) it.
        b.next_row = chart_row + bar_height + 2
        off = text("off_chart", lang, n=f"{no_cmi:,}", s="" if no_cmi == 1 else "s")
        if no_score:
            off += text("off_chart_score", lang, n=f"{no_score:,}")
        matrix_top = b.text_line(off, CellStyle(bold=True, color="595959"))  # 0-based: next row
        matrix_height = 26
        b.next_row = matrix_top + matrix_height + 2

        # Threshold lines (Settings) and the corner helpers carrying the quadrant names.
        def quadrant(health: str, maturity: str) -> str:
            cell = self.model.matrix.get((health, maturity))
            return cell.text("quadrant", lang) if cell else f"{health} × {maturity}"

        x_lo, x_hi, y_lo, y_hi = 1.0, 5.0, 0.0, 100.0
        corners = [  # (x, y, label side, quadrant, quadrant exists)
            (1.04, 96.0, "r", quadrant("high", "low"), maturity_min > x_lo and health_min < y_hi),
            (4.96, 96.0, "l", quadrant("high", "high"), maturity_min < x_hi and health_min < y_hi),
            (1.04, 4.0, "r", quadrant("low", "low"), maturity_min > x_lo and health_min > y_lo),
            (4.96, 4.0, "l", quadrant("low", "high"), maturity_min < x_hi and health_min > y_lo),
        ]
        corners = [c for c in corners if c[4]]
        line_m = text("line_maturity", lang, v=maturity_min)
        line_h = text("line_health", lang, v=health_min)
        helper = pd.DataFrame(
            {
                "cmi": [maturity_min, maturity_min, x_lo, x_hi, *(c[0] for c in corners)],
                "score": [y_lo, y_hi, health_min, health_min, *(c[1] for c in corners)],
                "chart_item": [line_m, line_m, line_h, line_h, *(c[3] for c in corners)],
            }
        )
        hl = b.block(
            Block(
                helper,
                [
                    self.col("cmi", "number", "0.00", 20),
                    self.col("score", "number", "0.0", 10),
                    self.col("chart_item", width=9),
                ],
                title=text("matrix_cells", lang),
                show_keys=False,
            )
        )

        # The points, grouped by tier (best first) so each tier is one block of rows.
        plotted = people.loc[on_chart].assign(_tier=tier_no[on_chart], _score=score[on_chart])
        plotted = plotted.sort_values(["_tier", "_score"], ascending=False, kind="stable")
        plotted = plotted.reset_index(drop=True)
        point_columns = [
            self.col("customer_id", width=20),
            self.col("customer_name", width=26),
            self.col("cmi", "number", "0.00", 9),
            self.col("score", "number", "0.0", 10),
            self.tier_column("tier", "int", 10, lambda v: v),
            self.col("tier_label", width=11),
        ]
        pts = b.block(
            Block(
                plotted.drop(columns=["_tier", "_score"]),
                point_columns,
                title=text("matrix_points", lang, n=f"{len(plotted):,}"),
                show_keys=False,
            )
        )
        off_rows = people.loc[~on_chart].reset_index(drop=True)
        if len(off_rows):
            b.block(
                Block(
                    off_rows,
                    point_columns,
                    title=text("off_chart_title", lang, n=f"{len(off_rows):,}"),
                    show_keys=False,
                )
            )

        def ref(key: str, layout_, first: int, last: int) -> str:
            col = layout_.letters[key]
            return f"'Segments'!${col}${first}:${col}${last}"

        small = len(plotted) <= 5000  # cached points for previewers; Excel reads the cells
        tier_series = []
        for t in tiers:
            at = np.flatnonzero(plotted["_tier"].to_numpy(dtype=float) == t.tier)
            if len(at):
                first, last = pts.first_row + int(at[0]), pts.first_row + int(at[-1])
            else:  # no customer of this tier on the chart: a blank cell keeps the legend
                first = last = pts.last_row + 1
            rows = plotted.iloc[at] if small else plotted.iloc[:0]
            letter = layout.letters[f"tier_{t.tier}"]
            tier_series.append(
                charts.XY(
                    name=f"{t.tier} {t.text(lang)}",
                    name_ref=f"'Segments'!${letter}${layout.header_row - 1}",
                    x_ref=ref("cmi", pts, first, last),
                    xs=rows["cmi"].astype(float).tolist(),
                    y_ref=ref("score", pts, first, last),
                    ys=rows["_score"].astype(float).tolist(),
                    color=(t.color or "#999999").lstrip("#").upper(),
                )
            )
        r0 = hl.first_row
        lines = [
            charts.XY(
                line_m,
                ref("cmi", hl, r0, r0 + 1),
                helper["cmi"][0:2].tolist(),
                ref("score", hl, r0, r0 + 1),
                helper["score"][0:2].tolist(),
                color="808080",
            ),
            charts.XY(
                line_h,
                ref("cmi", hl, r0 + 2, r0 + 3),
                helper["cmi"][2:4].tolist(),
                ref("score", hl, r0 + 2, r0 + 3),
                helper["score"][2:4].tolist(),
                color="808080",
            ),
        ]
        last_corner = max(r0 + 3 + len(corners), r0 + 4)
        corner_series = charts.XY(
            text("quadrants", lang),
            ref("cmi", hl, r0 + 4, last_corner),
            helper["cmi"][4:].tolist(),
            ref("score", hl, r0 + 4, last_corner),
            helper["score"][4:].tolist(),
        )
        sc = charts.matrix(
            text("matrix_title", lang, n=f"{len(plotted):,}"),
            tier_series,
            lines,
            corner_series,
            [charts.Corner(c[3], c[2]) for c in corners],
            text("cmi_axis", lang),
            text("score_axis", lang),
            lang=lang,
            x_range=(x_lo, x_hi),
            y_range=(y_lo, y_hi),
        )
        b.drawing_rid = "rId1"
        return chart_sheet(
            b.xml(),
            f"{OWN_PREFIX}segments.xml",
            charts.drawing(
                [
                    (0, chart_row, 9, chart_row + bar_height),
                    (0, matrix_top, 9, matrix_top + matrix_height),
                ]
            ),
            [(f"{OWN_PREFIX}segments_tiers.xml", bar), (f"{OWN_PREFIX}segments_scatter.xml", sc)],
        )

    # ------------------------------------------------------------------ History

    def history(
        self, earlier: pd.DataFrame | None, previous: AppendOnly | None = None
    ) -> tuple[NewSheet, pd.DataFrame]:
        """Earlier snapshots kept as they are, this refresh's rows appended.

        One snapshot per as_of date: re-running a date replaces only that date's rows.
        ``previous``: the book's History part; when it holds no snapshot of this date, the
        new rows are appended to it and the rows already there are copied byte for byte
        (a year of weekly snapshots costs a refresh what it adds).
        """
        frame = merge_history(earlier, self.r.history_rows, self.r.as_of)
        b = self.builder()
        columns = [
            self.col("as_of", "date", "yyyy-mm-dd", 11),
            self.col("customer_id", width=14),
            self.col("score", "number", "0.0", 9),
            self.col("tier", "int", "0", 6),
            self.col("cmi", "number", "0.00", 8),
        ]
        end = previous.last_row if previous is not None else None
        kept = earlier is not None and len(earlier) and len(frame) == len(earlier) + len(
            self.r.history_rows
        )  # no snapshot of this date was replaced
        if kept and previous is not None and end is not None and end >= 3:
            rows = b.data_rows(self.r.history_rows, columns, end + 1)
            raw = previous.append(rows, end + len(self.r.history_rows))
            return NewSheet(b"", raw=raw), frame
        layout = b.block(Block(frame, columns))
        b.freeze = f"A{layout.first_row}"
        b.autofilter = f"A{layout.header_row}:E{max(layout.last_row, layout.header_row)}"
        b.tab_color = "7F7F7F"
        b.landscape = False
        return NewSheet(b.xml(), append_only=True), frame

    # ------------------------------------------------------------------ Checks

    def checks(self, problems: list[Problem]) -> NewSheet:
        """The Checks sheet (built in ``sheets.checks``: it is long and grows by section)."""
        return write_checks(self, problems)
