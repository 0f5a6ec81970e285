"""Worksheet XML written column-wise from DataFrames: values, and formulas with their cached values.

Text goes out as inline strings, so text from inputs that starts with ``=``,
``+``, ``-`` or ``@`` stays text by construction. Cells are built a column at
a time with numpy object arrays (no Python loop over cells).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from xlhealth.core.tables import SHEET_ROWS, column_letter
from xlhealth.xlsx.celltext import escape_text, fit_cell, number_texts, plain_text
from xlhealth.xlsx.styles import CellStyle, StyleBook

__all__ = ["escape_text", "fit_cell"]  # the cell text helpers, where writers found them

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
EPOCH_1900 = np.datetime64("1899-12-30", "D")
EPOCH_1904 = np.datetime64("1904-01-01", "D")

HEADER = CellStyle(
    bold=True, color="FFFFFF", fill="1F4E79", wrap=True, valign="center", border_bottom="FFFFFF"
)
KEYS = CellStyle(italic=True, color="7F7F7F", size=8, fill="DDE6F0")
TITLE = CellStyle(bold=True, size=14, color="1F4E79")
NOTE = CellStyle(italic=True, color="595959")


@dataclass
class Column:
    """One output column: stable key, label shown to people, kind and look."""

    key: str
    label: str
    kind: str = "text"  # text | number | int | date | bool
    style: CellStyle = field(default_factory=CellStyle)
    width: float = 12
    styles: Callable[[pd.Series], np.ndarray] | None = None  # per-cell xf override
    shown_key: str | None = None  # the key row's text when it is not ``key`` (people's columns)
    hidden: bool = False  # bookkeeping refresh needs and people do not
    formula: str | None = None  # a formula with ``{r}`` for the row; the values are its cache
    array: bool = False  # an array formula (one per cell: MEDIAN(IF(…)) needs it before 365)
    na: bool = False  # a formula's missing value is NA() (a chart skips it), not ""


@dataclass
class Block:
    """A table on a sheet: optional title and note lines, a label row, a key row, data."""

    frame: pd.DataFrame
    columns: Sequence[Column]
    title: str | None = None
    notes: Sequence[str] = ()
    show_keys: bool = True
    gap_after: int = 1


@dataclass
class Layout:
    """Where a block landed (1-based rows) and each column's letter."""

    header_row: int
    first_row: int
    last_row: int  # == first_row - 1 when the block has no data
    letters: dict[str, str]

    def range_of(self, key: str) -> str:
        col = self.letters[key]
        return f"{col}{self.first_row}:{col}{max(self.last_row, self.first_row)}"


class SheetBuilder:
    """Accumulates blocks and sheet-level settings; ``xml()`` gives the worksheet part."""

    def __init__(self, styles: StyleBook, date1904: bool = False):
        self.styles = styles
        self.epoch = EPOCH_1904 if date1904 else EPOCH_1900
        self.rows: list[str] = []
        self.next_row = 1
        self.widths: dict[int, float] = {}
        self.max_col = 0
        self.conditional: list[str] = []
        self.freeze: str | None = None
        self.autofilter: str | None = None
        self.tab_color: str | None = None
        self.drawing_rid: str | None = None
        self.landscape = True
        self.validations: list[str] = []
        self.hidden: set[int] = set()  # column indexes
        self.extensions: list[str] = []  # <ext> elements of the sheet's extLst (sparklines)
        self._shared = 0  # shared-formula indexes used (``si``)
        self._cf_priority = 1

    # ------------------------------------------------------------------ content

    def text_line(self, text: str, style: CellStyle = NOTE) -> int:
        """A single text cell in column A on its own row; returns the row number."""
        row = self.next_row
        xf = self.styles.xf(style)
        value = escape_text(np.array([text], dtype=object))[0]
        self.rows.append(
            f'<row r="{row}"><c r="A{row}" s="{xf}" t="inlineStr"><is>'
            f'<t xml:space="preserve">{value}</t></is></c></row>'
        )
        self.next_row += 1
        return row

    def formulas(
        self,
        cells: Sequence[tuple[str, str]],
        style: CellStyle | None = None,
        styles: Sequence[CellStyle] | None = None,
    ) -> int:
        """One row of formula cells, e.g. [("B", "HS_TIER(A5,HS_TIERS)")]; ``styles``: one
        per cell instead of one for the row."""
        row = self.next_row
        xf = self.styles.xf(style or CellStyle(bold=True, fill="FFF2CC"))
        xfs = [self.styles.xf(s) for s in styles] if styles else [xf] * len(cells)
        body = "".join(
            f'<c r="{col}{row}" s="{x}"><f>{escape(f)}</f></c>'
            for (col, f), x in zip(cells, xfs, strict=True)
        )
        self.rows.append(f'<row r="{row}">{body}</row>')
        self.next_row += 1
        return row

    def pairs(
        self,
        items: Sequence[tuple[str, object]],
        label_style: CellStyle | None = None,
        value_style: CellStyle | None = None,
    ) -> int:
        """Label/value lines (A: label, B: value); returns the first row."""
        first = self.next_row
        frame = pd.DataFrame({"label": [k for k, _ in items], "value": [v for _, v in items]})
        self._data_rows(
            frame,
            [
                Column("label", "", style=label_style or CellStyle(bold=True)),
                Column("value", "", kind="auto", style=value_style or CellStyle(halign="left")),
            ],
        )
        return first

    def block(self, block: Block) -> Layout:
        if block.title:
            self.text_line(block.title, TITLE)
        for note in block.notes:
            self.text_line(note, NOTE)
        header = self.next_row
        self._text_row([c.label for c in block.columns], HEADER, height=30)
        if block.show_keys:
            keys = [c.key if c.shown_key is None else c.shown_key for c in block.columns]
            self._text_row(keys, KEYS)
            header = self.next_row - 1
        first = self.next_row
        frame, left_out = block.frame, 0
        room = SHEET_ROWS - first  # a row kept for the line that says what did not fit
        if len(frame) > room + 1:  # the last resort: History moves out before this
            frame, left_out = frame.iloc[:room], len(frame) - room
        self._data_rows(frame, block.columns)
        last = self.next_row - 1
        if left_out:
            self.text_line(
                f"… {left_out:,} more rows not shown: an Excel sheet holds {SHEET_ROWS:,} rows",
                NOTE,
            )
        for i, c in enumerate(block.columns):
            self.widths[i] = max(self.widths.get(i, 0), c.width)
            if c.hidden:
                self.hidden.add(i)
        self.next_row += block.gap_after
        letters = {c.key: column_letter(i) for i, c in enumerate(block.columns)}
        return Layout(header, first, last, letters)

    def _text_row(self, texts: Sequence[object], style: CellStyle, height: float | None = None):
        """One row of text cells (a table's label or key row): one row, so built directly."""
        row = self.next_row
        xf = self.styles.xf(style)
        shown = escape_text(np.array([plain_text(t) if t is not None else "" for t in texts],
                                     dtype=object))  # fmt: skip
        cells = "".join(
            f'<c r="{column_letter(j)}{row}" s="{xf}" t="inlineStr"><is><t xml:space="preserve">'
            f"{text}</t></is></c>"
            if text
            else f'<c r="{column_letter(j)}{row}" s="{xf}"/>'
            for j, text in enumerate(shown)
        )
        ht = f' ht="{height:g}" customHeight="1"' if height else ""
        self.rows.append(f'<row r="{row}"{ht}>{cells}</row>')
        self.max_col = max(self.max_col, len(texts))
        self.next_row += 1

    def data_rows(self, frame: pd.DataFrame, columns: Sequence[Column], first_row: int) -> str:
        """Only the ``<row>`` elements of ``frame`` from ``first_row`` on (for appending to a
        sheet that is never rewritten, see :func:`append_rows`)."""
        self.next_row, start = first_row, len(self.rows)
        self._data_rows(frame, columns)
        return "".join(self.rows[start:])

    def _data_rows(
        self, frame: pd.DataFrame, columns: Sequence[Column], height: float | None = None
    ) -> None:
        n = len(frame)
        if n == 0:
            return
        numbers = np.arange(self.next_row, self.next_row + n).astype(str).astype(object)
        cells = np.full(n, "", dtype=object)
        for i, col in enumerate(columns):
            values = frame[col.key] if col.key in frame.columns else pd.Series([None] * n)
            cells = cells + self._cells(
                column_letter(i), numbers, values.reset_index(drop=True), col
            )
        self.max_col = max(self.max_col, len(columns))
        if height:
            ht: np.ndarray | str = f' ht="{height:g}" customHeight="1"'
        else:
            ht = _wrapped_heights(frame, columns)
        self.rows.extend(('<row r="' + numbers + '"' + ht + ">" + cells + "</row>").tolist())
        self.next_row += n

    def _cells(
        self, letter: str, numbers: np.ndarray, values: pd.Series, col: Column
    ) -> np.ndarray:
        n = len(values)
        kind = col.kind
        if col.formula is not None:
            return self._formula_cells(letter, numbers, values, col)
        if kind == "auto":
            return self._auto_cells(letter, numbers, values, col)
        base_xf = self.styles.xf(col.style)
        xf = (col.styles(values) if col.styles is not None else np.full(n, base_xf)).astype(str)
        refs = ' r="' + letter + numbers + '" s="' + xf.astype(object) + '"'
        if kind in ("number", "int", "date", "bool"):
            if kind == "date":
                # a plain number in a date column is already a serial date (a row read back
                # from a sheet whose date format was lost), not nanoseconds since 1970
                serial = (
                    values.map(type).isin([int, float, np.float64, np.int64]).to_numpy()
                    if values.dtype == object
                    else np.zeros(n, dtype=bool)
                )
                stamp = pd.to_datetime(values.where(~serial, None), errors="coerce")
                days = (
                    stamp.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]") - self.epoch
                ).astype(float)
                frac = (stamp - stamp.dt.normalize()).dt.total_seconds().to_numpy() / 86400
                x = days + np.nan_to_num(frac)
                x[np.isnat(stamp.to_numpy(dtype="datetime64[ns]"))] = np.nan
                if serial.any():
                    x[serial] = values[serial].to_numpy(dtype=float)
            else:
                x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            ok, text = number_texts(x)
            if kind == "bool":
                out = "<c" + refs + ' t="b"><v>' + text + "</v></c>"
            else:
                out = "<c" + refs + "><v>" + text + "</v></c>"
            if not ok.all():
                out[~ok] = "<c" + refs[~ok] + "/>"
            return out
        present = values.notna().to_numpy() & (values.astype(str).str.len() > 0).to_numpy()
        text = escape_text(
            values.astype(object)
            .map(plain_text, na_action="ignore")
            .astype(object)  # an all-blank str column maps to float64
            .fillna("")
            .to_numpy(dtype=object)
        )
        out = "<c" + refs + ' t="inlineStr"><is><t xml:space="preserve">' + text + "</t></is></c>"
        return np.where(present, out, "<c" + refs + "/>")

    def _formula_cells(
        self, letter: str, numbers: np.ndarray, values: pd.Series, col: Column
    ) -> np.ndarray:
        """Formula cells carrying ``values`` as their cached results (a number, or text;
        a blank value is the empty text a formula's ``""`` gives)."""
        n = len(values)
        base = self.styles.xf(col.style)
        xf = (col.styles(values) if col.styles is not None else np.full(n, base)).astype(str)
        refs = ' r="' + letter + numbers + '" s="' + xf.astype(object) + '"'
        assert col.formula is not None
        # one shared formula per column (Excel's own form): the first cell holds the text
        # for its row, the others say "the same, moved down" — a tenth of the bytes
        parts = escape(col.formula).split("{r}")
        if col.array:  # array formulas are not shared: each cell holds its own
            text = np.full(n, parts[0], dtype=object)
            for part in parts[1:]:
                text = text + numbers + part
            formula = '<f t="array" ref="' + letter + numbers + '">' + text + "</f>"
        else:
            first = parts[0] + "".join(numbers[0] + part for part in parts[1:]) if n else ""
            index = self._shared
            self._shared += 1
            formula = np.full(n, f'<f t="shared" si="{index}"/>', dtype=object)
            if n:
                ref = f"{letter}{numbers[0]}:{letter}{numbers[-1]}"
                formula[0] = f'<f t="shared" ref="{ref}" si="{index}">{first}</f>'
        return self._formula_values(refs, formula, values, col)

    @staticmethod
    def _formula_values(refs, formula, values: pd.Series, col: Column) -> np.ndarray:
        if col.kind in ("number", "int"):
            ok, shown = number_texts(pd.to_numeric(values, errors="coerce").to_numpy(float))
            out = "<c" + refs + ">" + formula + "<v>" + shown + "</v></c>"
            if not ok.all():  # the blanks spelled for themselves only
                missing = ~ok
                blank = ' t="e">' if col.na else ' t="str">'
                value = "<v>#N/A</v></c>" if col.na else "<v></v></c>"
                out[missing] = "<c" + refs[missing] + blank + formula[missing] + value
            return out
        text = escape_text(values.astype(object).fillna("").map(plain_text).to_numpy(dtype=object))
        return "<c" + refs + ' t="str">' + formula + "<v>" + text + "</v></c>"

    def _auto_cells(
        self, letter: str, numbers: np.ndarray, values: pd.Series, col: Column
    ) -> np.ndarray:
        """Mixed label/value rows: numbers as numbers, dates as dates, the rest as text.

        One pass per kind over the whole column, not one per cell (people's own Summary
        columns run to 100k rows).
        """

        def kind_of(v: object) -> str:
            if isinstance(v, dt.date | pd.Timestamp):
                return "date"
            if isinstance(v, int | float | np.number) and not isinstance(v, bool):
                return "number"
            return "text"

        values = values.reset_index(drop=True)
        kinds = values.map(kind_of).to_numpy(dtype=object)
        out = np.full(len(values), "", dtype=object)
        for kind in ("text", "number", "date"):
            mask = kinds == kind
            if not mask.any():
                continue
            style = CellStyle(num_fmt="yyyy-mm-dd", halign="left") if kind == "date" else col.style
            one = Column(col.key, col.label, kind=kind, style=style)
            part = values.where(mask, None) if kind == "text" else values.where(mask)
            out = np.where(mask, self._cells(letter, numbers, part, one), out)
        return out

    # ------------------------------------------------------------------ sheet settings

    def add_conditional(self, sqref: str, rule: str) -> None:
        """``rule`` is a cfRule XML with ``{priority}`` where the priority goes."""
        self.conditional.append(
            f'<conditionalFormatting sqref="{sqref}">'
            + rule.format(priority=self._cf_priority)
            + "</conditionalFormatting>"
        )
        self._cf_priority += 1

    def xml(self) -> bytes:
        last_col = column_letter(max(self.max_col, 1) - 1)
        last_row = max(self.next_row - 1, 1)
        parts = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
            f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">',
            "<sheetPr>",
            f'<tabColor rgb="FF{self.tab_color}"/>' if self.tab_color else "",
            '<pageSetUpPr fitToPage="1"/></sheetPr>',
            f'<dimension ref="A1:{last_col}{last_row}"/>',
            '<sheetViews><sheetView workbookViewId="0" zoomScale="100">',
            self._pane(),
            "</sheetView></sheetViews>",
            '<sheetFormatPr defaultRowHeight="15"/>',
        ]
        if self.widths:
            parts.append(
                "<cols>"
                + "".join(
                    f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"'
                    + (' hidden="1"/>' if i in self.hidden else "/>")
                    for i, w in sorted(self.widths.items())
                )
                + "</cols>"
            )
        parts.append("<sheetData>")
        parts.extend(self.rows)
        parts.append("</sheetData>")
        if self.autofilter:
            parts.append(f'<autoFilter ref="{self.autofilter}"/>')
        parts.extend(self.conditional)
        if self.validations:
            parts.append(
                f'<dataValidations count="{len(self.validations)}">'
                + "".join(self.validations)
                + "</dataValidations>"
            )
        parts.append(
            '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        )
        orientation = "landscape" if self.landscape else "portrait"
        parts.append(
            f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
        )
        if self.drawing_rid:
            parts.append(f'<drawing r:id="{self.drawing_rid}"/>')
        if self.extensions:
            parts.append("<extLst>" + "".join(self.extensions) + "</extLst>")
        parts.append("</worksheet>")
        return "".join(parts).encode("utf-8")

    def _pane(self) -> str:
        if not self.freeze:
            return '<selection activeCell="A1" sqref="A1"/>'
        match = re.fullmatch(r"([A-Z]+)(\d+)", self.freeze)
        assert match, self.freeze
        col = 0
        for ch in match.group(1):
            col = col * 26 + ord(ch) - 64
        x, y = col - 1, int(match.group(2)) - 1
        pane = "bottomRight" if x and y else ("bottomLeft" if y else "topRight")
        split = (f' xSplit="{x}"' if x else "") + (f' ySplit="{y}"' if y else "")
        return (
            f'<pane{split} topLeftCell="{self.freeze}" activePane="{pane}" state="frozen"/>'
            f'<selection pane="{pane}" activeCell="{self.freeze}" sqref="{self.freeze}"/>'
        )


LINE_HEIGHT = 15.0  # points per line of 11-point text


def _wrapped_heights(frame: pd.DataFrame, columns: Sequence[Column]) -> np.ndarray | str:
    """Row heights that fit wrapped text (``ht`` attributes, '' where one line fits).

    Excel grows a wrapped row when it opens the file, LibreOffice does not, so long
    messages would overlap the next rows; the lines are estimated from the text length
    per column width (East Asian characters count twice).
    """
    lines = np.ones(len(frame))
    for col in columns:
        if not (col.style and col.style.wrap) or col.key not in frame.columns:
            continue
        text = frame[col.key].astype("string").fillna("")
        wide = text.str.count(r"[\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFF60]")
        length = (text.str.len() + wide).to_numpy(dtype=float)
        per_line = max(col.width * 1.1, 1.0)
        lines = np.maximum(lines, np.ceil(length / per_line))
    if (lines <= 1).all():
        return ""
    heights = (lines * LINE_HEIGHT).astype(int).astype(str).astype(object)
    return np.where(lines > 1, ' ht="' + heights + '" customHeight="1"', "")


def validation(
    sqref: str,
    kind: str,
    formula1: str | None = None,
    formula2: str | None = None,
    operator: str | None = None,
    title: str = "",
    prompt: str = "",
    error: str = "",
) -> str:
    """A dataValidation element (list, whole, decimal, date, textLength) with hint and alert."""

    def attr(text: str, limit: int) -> str:
        return quoteattr(text[:limit])

    attrs = [f'type="{kind}"', 'allowBlank="1"', 'showInputMessage="1"']
    if operator:
        attrs.append(f'operator="{operator}"')
    if error:
        attrs += [
            'showErrorMessage="1"',
            'errorStyle="stop"',
            f"error={attr(error, 225)}",
            f"errorTitle={attr(title, 32)}",
        ]
    if prompt:
        attrs += [f"promptTitle={attr(title, 32)}", f"prompt={attr(prompt, 255)}"]
    body = ""
    if formula1 is not None:
        body += f"<formula1>{escape(formula1)}</formula1>"
    if formula2 is not None:
        body += f"<formula2>{escape(formula2)}</formula2>"
    return f'<dataValidation {" ".join(attrs)} sqref="{sqref}">{body}</dataValidation>'
