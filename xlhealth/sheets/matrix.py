"""Segments' health × maturity chart: the maturity article's 2×2 matrix of customers.

Every cell the chart reads is on Segments (the points, the threshold lines, the corner
helpers carrying the quadrant names), so the sheet can be copied whole (the in-Excel
Refresh does). In a live book (one with Values) the points and lines are formulas: each
tier's series reads a column that holds a customer's score when the customer is in that
tier and ``NA()`` otherwise (charts skip ``#N/A``; conditional formatting hides it), and
the lines read the thresholds Values reads from Settings — so a tuned weight recolours the
points and a changed ``health_high_min`` moves its line, on any Excel, without a Refresh.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.sheets import formulas as fx
from xlhealth.sheets.values import SETTINGS_ROW, VALUES_SHEET, by_values_row
from xlhealth.sheets.values import Layout as ValuesAt
from xlhealth.sheets.writer import SheetWriter, label, text
from xlhealth.xlsx import charts
from xlhealth.xlsx.cells import column_letter
from xlhealth.xlsx.sheetxml import Block, Column, Layout, SheetBuilder
from xlhealth.xlsx.styles import CellStyle

X_RANGE, Y_RANGE = (1.0, 5.0), (0.0, 100.0)
MATRIX_HEIGHT = 26  # rows the chart covers
MAX_CACHED_POINTS = 5000  # cached points for previewers; Excel reads the cells


def write_matrix(
    w: SheetWriter, b: SheetBuilder, values: ValuesAt | None, segments: Layout
) -> tuple[bytes, int]:
    """Writes the matrix's cells from ``b.next_row`` on; returns the chart part and the
    0-based row its drawing starts on (the line saying who is not on the chart above it).

    ``values``: where Values holds each customer (None: a book without live formulas);
    ``segments``: the segment table above, whose tier headers name the legend's series."""
    lang = w.lang
    people = w.r.summary.reset_index(drop=True)
    score = pd.to_numeric(people["score"], errors="coerce")
    cmi = pd.to_numeric(people["cmi"], errors="coerce")
    on_chart = (score.notna() & cmi.notna()).to_numpy()
    no_cmi, no_score = int(cmi.isna().sum()), int(score.isna().sum())

    off = text("off_chart", lang, n=f"{no_cmi:,}", s="" if no_cmi == 1 else "s")
    if no_score:
        off += text("off_chart_score", lang, n=f"{no_score:,}")
    top = b.text_line(off, CellStyle(bold=True, color="595959"))  # 0-based: the next row
    b.next_row = top + MATRIX_HEIGHT + 2

    lines, corners, corner_texts = _helpers(w, b, values is not None)

    # The points, grouped by tier (best first) as refresh computed them.
    tiers = sorted(w.model.tiers, key=lambda t: -t.tier)
    tier_no = pd.to_numeric(people["tier"], errors="coerce")
    plotted = people.loc[on_chart].assign(_tier=tier_no[on_chart], _score=score[on_chart])
    plotted = plotted.sort_values(["_tier", "_score"], ascending=False, kind="stable")
    frame = plotted.drop(columns=["_tier", "_score"]).reset_index(drop=True)
    live = values is not None and {"cmi", "score", "tier"} <= values.letters.keys()
    columns = _point_columns(w)
    if live:
        assert values is not None
        columns = _live_points(w, columns, values, tiers)
        frame["values_row"] = values.rows[plotted.index.to_numpy()]
        for t in tiers:  # the chart's y per tier: the score in its tier's column, else #N/A
            frame[f"y_{t.tier}"] = plotted["_score"].where(plotted["_tier"] == t.tier).to_numpy()
    pts = b.block(
        Block(frame, columns, title=text("matrix_points", lang, n=f"{len(frame):,}"),
              show_keys=False)
    )  # fmt: skip
    if live and len(frame):  # tiers a formula changed in their new colours
        w.tier_colors(b, [pts.range_of("tier"), pts.range_of("tier_label")],
                      f"${pts.letters['tier']}{pts.first_row}")  # fmt: skip
        # #N/A is what the chart needs; people need not see it
        dxf = w.styles.dxf(color="FFFFFF")
        first = f"{pts.letters[f'y_{tiers[0].tier}']}{pts.first_row}"
        b.add_conditional(
            " ".join(pts.range_of(f"y_{t.tier}") for t in tiers),
            f'<cfRule type="expression" dxfId="{dxf}" priority="{{priority}}">'
            f"<formula>ISNA({first})</formula></cfRule>",
        )
    off_rows = people.loc[~on_chart].reset_index(drop=True)
    if len(off_rows):
        b.block(
            Block(
                off_rows,
                _point_columns(w),
                title=text("off_chart_title", lang, n=f"{len(off_rows):,}"),
                show_keys=False,
            )
        )

    def ref(key: str, first: int, last: int) -> str:
        col = pts.letters[key]
        return f"'Segments'!${col}${first}:${col}${max(last, first)}"

    small = len(frame) <= MAX_CACHED_POINTS
    points = []
    for t in tiers:
        if live:  # every tier's series spans all the rows; other tiers' rows are #N/A
            first, last, y_key, rows = pts.first_row, pts.last_row, f"y_{t.tier}", frame
        else:  # the tier's own block of rows
            at = np.flatnonzero(plotted["_tier"].to_numpy(dtype=float) == t.tier)
            if len(at):
                first, last = pts.first_row + int(at[0]), pts.first_row + int(at[-1])
            else:  # no customer of this tier on the chart: a blank cell keeps the legend
                first = last = pts.last_row + 1
            y_key, rows = "score", frame.iloc[at]
        rows = rows if small else rows.iloc[:0]
        points.append(
            charts.XY(
                name=f"{t.tier} {t.text(lang)}",
                name_ref=_tier_name_ref(segments, t.tier),
                x_ref=ref("cmi", first, last),
                xs=rows["cmi"].astype(float).tolist(),
                y_ref=ref(y_key, first, last),
                ys=rows[y_key].astype(float).tolist(),
                color=(t.color or "#999999").lstrip("#").upper(),
            )
        )
    chart = charts.matrix(
        text("matrix_title", lang, n=f"{len(frame):,}"),
        points,
        lines,
        corners,
        corner_texts,
        text("cmi_axis", lang),
        text("score_axis", lang),
        lang=lang,
        x_range=X_RANGE,
        y_range=Y_RANGE,
    )
    return chart, top


def _tier_name_ref(segments: Layout, tier: int) -> str:
    """The tier's header cell in the segment table above (the legend reads it)."""
    letter = segments.letters[f"tier_{tier}"]
    return f"'Segments'!${letter}${segments.header_row - 1}"


def _point_columns(w: SheetWriter) -> list[Column]:
    return [
        w.col("customer_id", width=20),
        w.col("customer_name", width=26),
        w.col("cmi", "number", "0.00", 9),
        w.col("score", "number", "0.0", 10),
        w.tier_column("tier", "int", 10, lambda v: v),
        w.col("tier_label", width=11),
    ]


def _live_points(w: SheetWriter, columns: list[Column], values: ValuesAt, tiers) -> list[Column]:
    """The point columns as formulas over Values by each customer's row there (a column of
    its own, so a sort of this table keeps every row right; one shared formula per column,
    which the in-Excel Refresh enters in one step), and one y column per tier for the chart."""
    out = by_values_row(columns, values, f"${column_letter(len(columns))}{{r}}")
    muted = CellStyle(num_fmt="0", halign="center", color="A6A6A6", size=8)
    out.append(Column("values_row", label("values_row", w.lang), "int", muted, 7))
    at = {c.key: f"${column_letter(i)}{{r}}" for i, c in enumerate(columns)}
    for t in tiers:
        out.append(
            Column(
                f"y_{t.tier}",
                f"{text('on_chart', w.lang)}: {t.tier} {t.text(w.lang)}",
                "number",
                CellStyle(num_fmt="0.0", halign="center", color="7F7F7F"),
                10,
                formula=f"IF(AND(ISNUMBER({at['cmi']}),ISNUMBER({at['score']}),"
                f"{at['tier']}={t.tier}),{at['score']},NA())",
                na=True,
            )
        )
    return out


def _helpers(
    w: SheetWriter, b: SheetBuilder, live: bool
) -> tuple[list[charts.XY], charts.XY, list]:
    """The threshold lines (Settings; live in a live book) and the corner helpers that carry
    the quadrant names (Matrix, as of the refresh)."""
    lang = w.lang
    health_min = float(w.model.settings.health_high_min)
    maturity_min = float(w.model.settings.maturity_high_min)
    (x_lo, x_hi), (y_lo, y_hi) = X_RANGE, Y_RANGE

    def quadrant(health: str, maturity: str) -> str:
        cell = w.model.matrix.get((health, maturity))
        return cell.text("quadrant", lang) if cell else f"{health} × {maturity}"

    corners = [  # (x, y, label side, quadrant, quadrant exists)
        (1.04, 96.0, "r", quadrant("high", "low"), maturity_min > x_lo and health_min < y_hi),
        (4.96, 96.0, "l", quadrant("high", "high"), maturity_min < x_hi and health_min < y_hi),
        (1.04, 4.0, "r", quadrant("low", "low"), maturity_min > x_lo and health_min > y_lo),
        (4.96, 4.0, "l", quadrant("low", "high"), maturity_min < x_hi and health_min > y_lo),
    ]
    corners = [c for c in corners if c[4]]
    line_m = text("line_maturity", lang, v=maturity_min)
    line_h = text("line_health", lang, v=health_min)
    setting = lambda col: f"{fx.quote(VALUES_SHEET)}!${col}${SETTINGS_ROW}" if live else None  # noqa: E731
    lines = pd.DataFrame(
        {
            "maturity_x": [maturity_min, maturity_min],
            "maturity_y": [y_lo, y_hi],
            "health_x": [x_lo, x_hi],
            "health_y": [health_min, health_min],
        }
    )
    number = CellStyle(num_fmt="0.##", halign="center")
    at = b.block(
        Block(
            lines,
            [
                Column(
                    "maturity_x", label("maturity_x", lang), "number", number, formula=setting("F")
                ),
                Column("maturity_y", label("maturity_y", lang), "number", number),
                Column("health_x", label("health_x", lang), "number", number),
                Column("health_y", label("health_y", lang), "number", number, formula=setting("D")),
            ],
            title=text("matrix_cells", lang),
            show_keys=False,
        )
    )
    helper = pd.DataFrame(
        {
            "cmi": [c[0] for c in corners] or [np.nan],
            "score": [c[1] for c in corners] or [np.nan],
            "chart_item": [c[3] for c in corners] or [""],
        }
    )
    hl = b.block(
        Block(
            helper,
            [w.col("cmi", "number", "0.00", 20), w.col("score", "number", "0.0", 10),
             w.col("chart_item", width=9)],
            show_keys=False,
        )
    )  # fmt: skip

    def ref(key: str, layout: Layout) -> str:
        col, last = layout.letters[key], max(layout.last_row, layout.first_row)
        return f"'Segments'!${col}${layout.first_row}:${col}${last}"

    grey = "808080"
    line_series = [
        charts.XY(line_m, ref("maturity_x", at), lines["maturity_x"].tolist(),
                  ref("maturity_y", at), lines["maturity_y"].tolist(), color=grey),
        charts.XY(line_h, ref("health_x", at), lines["health_x"].tolist(),
                  ref("health_y", at), lines["health_y"].tolist(), color=grey),
    ]  # fmt: skip
    corner_series = charts.XY(
        text("quadrants", lang),
        ref("cmi", hl),
        helper["cmi"].tolist(),
        ref("score", hl),
        helper["score"].tolist(),
    )
    return line_series, corner_series, [charts.Corner(c[3], c[2]) for c in corners]
