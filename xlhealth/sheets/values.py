"""The Values sheet: what refresh read per customer, and the formulas that score it live.

One row per customer with the as-of value of every scored metric and the maturity
answers (data, written by refresh), then the points, DEAR groups, score, tier, CMI,
quadrant and decision as classic formulas over the book's own Metrics, Rules, Tiers,
MaturityModel, Matrix and Settings (:mod:`xlhealth.sheets.formulas`). Summary shows them
with ``INDEX`` by the Values row it keeps in a hidden column, so sorting Summary keeps
every customer on their own numbers. Every formula cell carries the value refresh
computed, so a viewer, Protected View or manual calculation shows the right numbers
before anything recalculates.

Above the table, one column per metric holds what the formulas read from the config
sheets (weight, max points, group, when_missing), and the Settings the matrix needs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from xlhealth.core.aggregate import normalised_text
from xlhealth.core.model import CHARACTERISTICS, GROUPS, Settings
from xlhealth.core.scoring import as_compared, band_index
from xlhealth.core.tables import column_letter
from xlhealth.inputs.grid import Sheet
from xlhealth.sheets import formulas as fx
from xlhealth.sheets.writer import SheetWriter
from xlhealth.xlsx.package import NewSheet
from xlhealth.xlsx.sheetxml import NOTE, TITLE, Block, Column, escape, fit_cell
from xlhealth.xlsx.styles import CellStyle

VALUES_SHEET = "Values"
NAME_ROW, WEIGHT_ROW, MAX_ROW, GROUP_ROW, WHEN_TEXT_ROW, WHEN_NUMBER_ROW, MISSING_ROW = range(4, 11)
SETTINGS_ROW = 12  # B: language, D: health_high_min, F: maturity_high_min, H: tier_hysteresis
LABEL_ROW, KEY_ROW = 14, 15
FIRST_ROW = 16
LIVE_COLUMNS = (  # Summary's columns that are formulas over Values, in Values' order
    "score", *(g.lower() for g in GROUPS), "tier", "tier_label", "cmi", "maturity_level",
    "quadrant", "decision", "matrix_actions",
)  # fmt: skip
TEXT_COLUMNS = ("tier_label", "quadrant", "decision", "matrix_actions", "health", "maturity")
PARAM_LABEL = CellStyle(bold=True, color="595959", fill="F2F2F2")
PARAM = CellStyle(italic=True, color="595959", fill="F2F2F2", halign="center")


@dataclass(frozen=True)
class ConfigTables:
    """The config tables the formulas read, where they are in this book."""

    metrics: fx.Table
    rules: fx.Table
    tiers: fx.Table
    settings: fx.Table
    maturity: fx.Table | None
    matrix: fx.Table | None
    matrix_rows: dict[tuple[str, str], int] | None = None  # (health, maturity) -> sheet row


def config_tables(sheets: dict[str, Sheet]) -> ConfigTables | None:
    """The book's config tables, or None when one the score needs is not in the book
    (its defaults come from templates/: nothing in the book to point a formula at)."""

    def one(name: str, *needed: str) -> fx.Table | None:
        sheet = sheets.get(name)
        if sheet is None or not all(c in sheet.letters for c in needed):
            return None
        rows = sheet.frame["_row"] if "_row" in sheet.frame and len(sheet.frame) else None
        last = int(rows.max()) if rows is not None else sheet.header_row
        return fx.table(name, sheet.letters, sheet.header_row, last)

    metrics = one("Metrics", "metric", "group", "weight", "when_missing")
    rules = one("Rules", "metric", "min", "max", "value", "points")
    tiers = one("Tiers", "tier", "min_score", "label")
    settings = one("Settings", "key", "value")
    if metrics is None or rules is None or tiers is None or settings is None:
        return None
    maturity = one("MaturityModel", "characteristic", "weight", "factor")
    matrix = one("Matrix", "health", "maturity", "quadrant", "decision", "actions")
    rows = None
    if matrix is not None:  # LOOKUP(2, 1/…) finds the last line that matches, as here
        f = sheets["Matrix"].frame
        keys = zip(_folded(f["health"]), _folded(f["maturity"]), f["_row"], strict=True)
        rows = {
            (h, m): int(row)
            for health, m, row in keys
            for h in (("high", "low") if health == "any" else (health,))
        }
    return ConfigTables(metrics, rules, tiers, settings, maturity, matrix, rows)


def _folded(values: pd.Series) -> list[str]:
    return [str(v).strip().casefold() if v is not None else "" for v in values]


@dataclass
class Layout:
    """Where Summary finds each live column on Values, and each customer's row."""

    letters: dict[str, str]
    rows: np.ndarray  # Values row of each Summary row


def write_values(w: SheetWriter, t: ConfigTables) -> tuple[NewSheet, Layout]:
    """The Values sheet for this refresh, and where Summary's formulas find its columns."""
    model = w.model
    metrics = list(model.scored_metrics)
    factors = list(model.maturity.factor_names) if t.maturity is not None else []
    chars = [c for c in CHARACTERISTICS if c in model.maturity.weights] if factors else []
    k, nf, nc = len(metrics), len(factors), len(chars)
    v0, p0, a0, l0 = 1, 1 + k, 1 + 2 * k, 1 + 2 * k + nf  # 0-based first columns
    live = [c for c in LIVE_COLUMNS if _available(c, t)]
    helpers = ["health", "maturity", "matrix_row"] if "quadrant" in live else []
    letters = {c: column_letter(l0 + nc + i)
               for i, c in enumerate([*live, *helpers, "previous_tier"])}  # fmt: skip

    b = w.builder()
    ja = w.lang == "ja"
    title = (
        "Values — 前回の更新で読んだ値と、それを採点する数式"
        if ja
        else "Values — what the last refresh read, and the formulas that score it"
    )
    b.text_line(title, TITLE)
    b.text_line(
        "Summaryはこの数値を表示します。Metrics・Rules・Tiers・MaturityModel・Matrix・Settingsを"
        "変えるとすぐに再採点されます（どのExcelでも）。新しいデータには更新が必要です。"
        if ja
        else "Summary shows these numbers. Change Metrics, Rules, Tiers, MaturityModel, Matrix "
        "or Settings and they re-score at once, on any Excel; new data needs Refresh.",
        NOTE,
    )
    for row in _parameters(b, t, model, metrics, factors, chars, v0, p0, a0, l0):
        b.rows.append(row)
    b.next_row = LABEL_ROW
    frame, columns = _table(w, t, metrics, factors, chars, live, helpers, letters,
                            (v0, p0, a0, l0))  # fmt: skip
    b.block(Block(frame, columns))
    b.freeze = f"B{FIRST_ROW}"
    b.tab_color = "BFBFBF"
    for i in range(len(columns)):
        b.widths[i] = 12 if i else 14
    rows = np.arange(FIRST_ROW, FIRST_ROW + len(frame))
    return NewSheet(b.xml()), Layout({c: letters[c] for c in live}, rows)


def live_summary(
    columns: list[Column], builtin: int, frame: pd.DataFrame, layout: Layout
) -> tuple[list[Column], pd.DataFrame]:
    """Summary's columns with the live ones as ``INDEX`` into Values by the row kept in a
    hidden ``values_row`` column (after the built-in columns, before people's own)."""
    frame = frame.assign(values_row=layout.rows)
    row_column = Column("values_row", "values_row", "int", CellStyle(num_fmt="0"), 6, hidden=True)
    columns = [*columns[:builtin], row_column, *columns[builtin:]]
    return by_values_row(columns, layout, f"${column_letter(builtin)}{{r}}"), frame


def by_values_row(columns: list[Column], layout: Layout, row_cell: str) -> list[Column]:
    """Each column Values computes as an ``INDEX`` into Values by the row in ``row_cell``
    (a column of the table itself, so a sort of the table keeps every row right)."""
    return [
        replace(c, formula=fx.from_values(VALUES_SHEET, layout.letters[c.key], row_cell))
        if c.key in layout.letters
        else c
        for c in columns
    ]


def _available(column: str, t: ConfigTables) -> bool:
    if column in ("cmi", "maturity_level"):
        return t.maturity is not None
    if column in ("quadrant", "decision", "matrix_actions"):
        return t.matrix is not None and t.maturity is not None
    return True


def _parameters(b, t, model, metrics, factors, chars, v0, p0, a0, l0) -> list[str]:
    """The rows above the table: per metric what the formulas read from the config sheets,
    per factor its characteristic, per characteristic its weight; the Settings used."""
    cells: dict[int, list[tuple[int, str | None, object]]] = {}

    def put(row: int, col: int, formula: str | None, value: object) -> None:
        cells.setdefault(row, []).append((col, formula, value))

    put(NAME_ROW, 0, None, "metric / factor")
    for j, m in enumerate(metrics):
        put(NAME_ROW, v0 + j, None, m.name)
        put(NAME_ROW, p0 + j, None, m.name)
    for j, x in enumerate(factors):
        put(NAME_ROW, a0 + j, None, x)
    for j, c in enumerate(chars):
        put(NAME_ROW, l0 + j, None, c)
    for row, text in ((WEIGHT_ROW, "weight"), (MAX_ROW, "max points"), (GROUP_ROW, "group"),
                      (WHEN_TEXT_ROW, "when_missing"), (WHEN_NUMBER_ROW, "when_missing (number)"),
                      (MISSING_ROW, "points when missing")):  # fmt: skip
        put(row, 0, None, text)
    for j, m in enumerate(metrics):
        col = p0 + j
        name = f"{column_letter(col)}${NAME_ROW}"
        when = m.when_missing
        put(WEIGHT_ROW, col, fx.metric_param(t.metrics, name, "weight"), m.weight)
        put(MAX_ROW, col, fx.max_points(t.rules, name), m.max_points)
        put(GROUP_ROW, col, fx.metric_param(t.metrics, name, "group", True), m.group)
        put(WHEN_TEXT_ROW, col, fx.metric_param(t.metrics, name, "when_missing", True),
            when if isinstance(when, str) else "")  # fmt: skip
        put(WHEN_NUMBER_ROW, col, fx.metric_param(t.metrics, name, "when_missing"),
            0.0 if isinstance(when, str) else float(when))  # fmt: skip
        missing = "" if when == "skip" else 0.0 if when == "zero" else float(when)
        put(MISSING_ROW, col, fx.missing_points(f"{column_letter(col)}${WHEN_TEXT_ROW}",
            f"{column_letter(col)}${WHEN_NUMBER_ROW}"), missing)  # fmt: skip
    if t.maturity is not None:
        mm = t.maturity
        char_of = model.maturity.characteristic_of()
        for j, x in enumerate(factors):
            col = a0 + j
            found = (f"INDEX({mm.col('characteristic')},MATCH({column_letter(col)}${NAME_ROW},"
                     f"{mm.col('factor')},0))&\"\"")  # fmt: skip
            put(GROUP_ROW, col, f'IFERROR({found},"")', char_of.get(x, ""))
        for j, c in enumerate(chars):
            col = l0 + j
            found = (f"INDEX({mm.col('weight')},MATCH({column_letter(col)}${NAME_ROW},"
                     f"{mm.col('characteristic')},0))")  # fmt: skip
            put(WEIGHT_ROW, col, f"IFERROR(N({found}),0)", model.maturity.weights[c])
    s = model.settings
    put(SETTINGS_ROW, 0, None, "language")
    put(SETTINGS_ROW, 1, fx.setting(t.settings, "language", '"en"'), s.language)
    put(SETTINGS_ROW, 2, None, "health_high_min")
    put(SETTINGS_ROW, 3, fx.setting(t.settings, "health_high_min", "60"), s.health_high_min)
    put(SETTINGS_ROW, 4, None, "maturity_high_min")
    put(SETTINGS_ROW, 5, fx.setting(t.settings, "maturity_high_min", "3"), s.maturity_high_min)
    put(SETTINGS_ROW, 6, None, "tier_hysteresis")
    default = f"{Settings.tier_hysteresis:g}"
    put(SETTINGS_ROW, 7, fx.setting(t.settings, "tier_hysteresis", default), s.tier_hysteresis)
    label, param = b.styles.xf(PARAM_LABEL), b.styles.xf(PARAM)
    out = []
    for row in sorted(cells):
        body = "".join(
            cell_xml(f"{column_letter(col)}{row}", param if formula else label, formula, value)
            for col, formula, value in sorted(cells[row], key=lambda c: c[0])
        )
        out.append(f'<row r="{row}">{body}</row>')
    return out


def cell_xml(ref: str, xf: int, formula: str | None, value: object) -> str:
    """One cell: a formula with its cached value, or a plain value."""
    number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if number and not np.isfinite(float(value)):  # type: ignore[arg-type]
        value, number = "", False
    shown = repr(float(value)) if number else escape(fit_cell(str("" if value is None else value)))
    if number and float(value).is_integer():  # type: ignore[arg-type]
        shown = str(int(value))  # type: ignore[call-overload]
    if formula is None:
        if number:
            return f'<c r="{ref}" s="{xf}"><v>{shown}</v></c>'
        if not shown:
            return f'<c r="{ref}" s="{xf}"/>'
        return (f'<c r="{ref}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">{shown}'
                "</t></is></c>")  # fmt: skip
    f = escape(formula)
    if number:
        return f'<c r="{ref}" s="{xf}"><f>{f}</f><v>{shown}</v></c>'
    return f'<c r="{ref}" s="{xf}" t="str"><f>{f}</f><v>{shown}</v></c>'


def _table(w, t, metrics, factors, chars, live, helpers, letters, starts):
    """The per-customer table: its cached values and its columns (formulas with ``{r}``)."""
    v0, p0, a0, l0 = starts
    r = w.r
    n = len(r.summary)
    k, nf, nc = len(metrics), len(factors), len(chars)
    rel = lambda c0, c1: f"${column_letter(c0)}{{r}}:${column_letter(c1)}{{r}}"  # noqa: E731
    fixed = lambda c0, c1, row: f"${column_letter(c0)}${row}:${column_letter(c1)}${row}"  # noqa: E731
    cell = lambda name: f"${letters[name]}{{r}}"  # noqa: E731
    lang = f"$B${SETTINGS_ROW}"
    high_health, high_maturity = f"$D${SETTINGS_ROW}", f"$F${SETTINGS_ROW}"
    margin = f"$H${SETTINGS_ROW}"  # tier_hysteresis
    data: dict[str, object] = {"customer_id": r.summary["customer_id"].to_numpy(dtype=object)}
    columns = [Column("customer_id", "customer_id", "text", width=14)]
    values = r.values.reset_index(drop=True)
    pts = r.points.reset_index(drop=True)
    dec = CellStyle(num_fmt="0.##", halign="center")
    for m in metrics:
        key = f"value.{m.name}"
        raw = values[m.name] if m.name in values else pd.Series([None] * n)
        if m.is_text:
            data[key] = _as_rules_spell_it(m, raw)
            columns.append(Column(key, m.name, "text"))
        else:
            data[key] = as_compared(pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float))
            columns.append(Column(key, m.name, "number", dec))
    for j, m in enumerate(metrics):
        key = f"points.{m.name}"
        p = column_letter(p0 + j)
        data[key] = pts[m.name].to_numpy(dtype=float) if m.name in pts else np.full(n, np.nan)
        formula = fx.points(t.rules, f"{p}${NAME_ROW}", f"${column_letter(v0 + j)}{{r}}",
                            f"{p}${MISSING_ROW}", m.is_text)  # fmt: skip
        columns.append(Column(key, f"points · {m.name}", "number", dec, formula=formula))
    answers = _answers(r, factors, n)
    for x in factors:
        key = f"answer.{x}"
        data[key] = answers[x]
        columns.append(Column(key, x, "number", dec))
    levels = _levels(answers, factors, w.model.maturity.characteristic_of(), chars)
    for j, c in enumerate(chars):
        key = f"level.{c}"
        data[key] = levels[c]
        formula = fx.level(fixed(a0, a0 + nf - 1, GROUP_ROW), f"{column_letter(l0 + j)}${NAME_ROW}",
                           rel(a0, a0 + nf - 1))  # fmt: skip
        columns.append(Column(key, f"level · {c}", "number", dec, formula=formula))
    s = r.summary.reset_index(drop=True)
    pts_row = rel(p0, p0 + k - 1)
    weights, maxes = fixed(p0, p0 + k - 1, WEIGHT_ROW), fixed(p0, p0 + k - 1, MAX_ROW)
    groups = fixed(p0, p0 + k - 1, GROUP_ROW)
    made = {
        "score": fx.score(pts_row, weights, maxes),
        **{g.lower(): fx.score(pts_row, weights, maxes, f"{groups}={fx.text(g)}") for g in GROUPS},
        "tier": fx.tier_kept(t.tiers, cell("score"), cell("previous_tier"), margin),
        "tier_label": fx.labelled(t.tiers, "tier", cell("tier"), "label", lang),
    }
    if "cmi" in live:
        made["cmi"] = fx.cmi(rel(l0, l0 + nc - 1), fixed(l0, l0 + nc - 1, WEIGHT_ROW))
        made["maturity_level"] = fx.maturity_level(cell("cmi"))
    if helpers:
        assert t.matrix is not None
        made["health"] = fx.health(cell("score"), high_health)
        made["maturity"] = fx.maturity(cell("cmi"), high_maturity)
        made["matrix_row"] = fx.matrix_row(t.matrix, cell("health"), cell("maturity"))
        for what in ("quadrant", "decision"):
            made[what] = fx.matrix_text(t.matrix, cell("matrix_row"), what, lang)
        made["matrix_actions"] = fx.matrix_text(t.matrix, cell("matrix_row"), "actions", lang)
    kinds = {"score": "0.0", "tier": "0", "cmi": "0.00", "maturity_level": "0", "matrix_row": "0",
             **{g.lower(): "0" for g in GROUPS}}  # fmt: skip
    for name in [*live, *helpers]:
        data[name] = _cached(name, s, w.model, t)
        fmt = kinds.get(name)
        style = CellStyle(num_fmt=fmt, halign="center") if fmt else CellStyle()
        columns.append(Column(name, name, "number" if fmt else "text", style, formula=made[name]))
    # the previous snapshot's tier, as a value: what the tier formula's hysteresis keeps
    previous = s["previous_tier"] if "previous_tier" in s else pd.Series(np.nan, index=s.index)
    data["previous_tier"] = pd.to_numeric(previous, errors="coerce").to_numpy(dtype=float)
    columns.append(Column("previous_tier", "previous_tier", "number",
                          CellStyle(num_fmt="0", halign="center")))  # fmt: skip
    return pd.DataFrame(data), columns


def _as_rules_spell_it(metric, raw: pd.Series) -> np.ndarray:
    """A text value as the band that holds it is typed on Rules (refresh matched it folded:
    width, case, inner spaces), so Excel's ``=`` finds the same band; a value no band
    holds stays as read (folded), and finds none there either."""
    idx, _ = band_index(metric, raw)
    typed = np.array([b.value for b in metric.bands] + [None], dtype=object)
    folded = normalised_text(raw.astype(object)).to_numpy(dtype=object)
    return np.where(idx >= 0, typed[np.where(idx >= 0, idx, -1)], folded)


def _answers(r, factors: list[str], n: int) -> dict[str, np.ndarray]:
    out = {x: np.full(n, np.nan) for x in factors}
    table = r.answers
    if table is None or table.empty:
        return out
    for x in factors:
        rows = table[table["factor"] == x]
        out[x][rows["pos"].to_numpy(dtype=int)] = rows["level"].to_numpy(dtype=float)
    return out


def _levels(answers, factors, char_of, chars) -> dict[str, np.ndarray]:
    out = {}
    for c in chars:
        mine = [answers[x] for x in factors if char_of.get(x) == c]
        if not mine:
            out[c] = np.full(len(next(iter(answers.values()), [])), np.nan)
            continue
        stack = np.vstack(mine)
        answered = (~np.isnan(stack)).sum(axis=0)
        total = np.nansum(stack, axis=0)
        out[c] = np.where(answered > 0, total / np.maximum(answered, 1), np.nan)
    return out


def _cached(name: str, s: pd.DataFrame, model, t: ConfigTables) -> np.ndarray:
    """What the formula in column ``name`` computes, from this refresh's own numbers."""
    if name in s.columns:
        col = s[name]
        if name in TEXT_COLUMNS:
            return col.astype(object).where(col.notna(), "").to_numpy(dtype=object)
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    st = model.settings
    score = s["score"].to_numpy(dtype=float)
    cmi = s["cmi"].to_numpy(dtype=float)
    health = np.where(np.isnan(score), "", np.where(score >= st.health_high_min, "high", "low"))
    high = np.where(cmi >= st.maturity_high_min, "high", "low")
    maturity = np.where(np.isnan(cmi), "unknown", high)
    if name == "health":
        return health.astype(object)
    if name == "maturity":
        return maturity.astype(object)
    rows = t.matrix_rows if t.matrix_rows else {}
    return np.array([rows.get((h, m), np.nan) if h else np.nan
                     for h, m in zip(health, maturity, strict=True)], dtype=float)  # fmt: skip
