"""The output sheets (Summary, Actions, Segments, History, Checks) as worksheet parts.

Pure presentation: a scoring Result in, formatted sheets out, labels in the
model's language. Tier colours come from the Tiers sheet; the score gets a
colour scale; the change column shows arrows; actions are tinted by priority.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from xlhealth.core.engine import ALL_SEGMENTS, NO_SEGMENT
from xlhealth.core.history import merge_history, overflow
from xlhealth.core.model import GROUPS
from xlhealth.core.problems import Problem
from xlhealth.core.tables import SHEET_ROWS
from xlhealth.sheets import formulas as fx
from xlhealth.sheets.checks import write_checks
from xlhealth.sheets.matrix import MATRIX_HEIGHT, write_matrix
from xlhealth.sheets.values import ConfigTables, Layout, live_summary, write_values
from xlhealth.sheets.work import hidden, people_column, write_action_log, write_actions
from xlhealth.sheets.writer import SheetWriter, text
from xlhealth.xlsx import charts
from xlhealth.xlsx.charts import sparklines
from xlhealth.xlsx.package import OWN_PREFIX, NewSheet, chart_sheet
from xlhealth.xlsx.rawzip import AppendOnly
from xlhealth.xlsx.sheetxml import Block, Column, SheetBuilder
from xlhealth.xlsx.sheetxml import Layout as Layout_
from xlhealth.xlsx.styles import CellStyle, StyleBook

HISTORY_CAPACITY = SHEET_ROWS - 2  # a label row and a key row above the snapshots
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
    history_moved: pd.DataFrame | None = None  # History rows that no longer fit the sheet
    archive: tuple[str, int] | None = None  # (NAME-history.parquet, rows in it before)

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
        b.next_row = chart_row + bar_height + 2
        sc, matrix_top = write_matrix(self, b, self.values, layout)
        b.drawing_rid = "rId1"
        return chart_sheet(
            b.xml(),
            f"{OWN_PREFIX}segments.xml",
            charts.drawing(
                [
                    (0, chart_row, 9, chart_row + bar_height),
                    (0, matrix_top, 9, matrix_top + MATRIX_HEIGHT),
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
        moving = overflow(frame, HISTORY_CAPACITY, self.r.as_of)
        if moving.any():  # the oldest snapshots go to NAME-history.parquet (book.archive)
            self.history_moved = frame[moving].reset_index(drop=True)
            frame = frame[~moving].reset_index(drop=True)
        b = self.builder()
        columns = [
            self.col("as_of", "date", "yyyy-mm-dd", 11),
            self.col("customer_id", width=14),
            self.col("score", "number", "0.0", 9),
            self.col("tier", "int", "0", 6),
            self.col("cmi", "number", "0.00", 8),
        ]
        end = previous.last_row if previous is not None else None
        kept = (
            earlier is not None
            and len(earlier)
            and len(frame) == len(earlier) + len(self.r.history_rows)
        )  # no snapshot of this date was replaced, none moved out
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
