"""Change a few cells of a worksheet part in place, every other byte unchanged.

``xlhealth suggest --apply`` writes weights into ``Metrics`` and nothing else: the
sheet XML is edited textually (only the ``<c>`` elements of those cells change, their
style kept), never parsed and re-serialised.
"""

from __future__ import annotations

import datetime as dt
import re
from xml.sax.saxutils import escape

from xlhealth.core.tables import column_letter
from xlhealth.xlsx.celltext import fit_cell


class CellError(Exception):
    """A cell that cannot be replaced safely (a formula, or a row that is not there)."""


def column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch.upper()) - 64
    return n - 1


def _split(ref: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Za-z]+)(\d+)", ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref}")
    return match.group(1).upper(), int(match.group(2))


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.15g}"


def set_values(
    sheet_xml: bytes, values: dict[str, object], date1904: bool = False, add_rows: bool = False
) -> bytes:
    """``sheet_xml`` with each cell of ``values`` holding that value, style kept: numbers,
    dates (as serial numbers: the cell's date format shows them), text (inline) or None
    (the cell emptied). A formula cell is refused (``CellError``). ``add_rows``: a row
    the sheet does not have yet is added (else ``CellError``)."""
    epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    text = sheet_xml.decode("utf-8")
    for ref, value in values.items():
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            value = float((value - epoch).days)
        text = _set_one(text, ref, value, add_rows)
    return text.encode("utf-8")


def set_numbers(sheet_xml: bytes, values: dict[str, float]) -> bytes:
    """``sheet_xml`` with each cell of ``values`` (``{"H5": 2.5}``) holding that number.

    The cell keeps its style (``s``); a text or boolean cell becomes a number; a cell
    missing from its row is inserted in column order. A formula cell is refused
    (``CellError``): its formula would be lost.
    """
    text = sheet_xml.decode("utf-8")
    for ref, value in values.items():
        text = _set_one(text, ref, value)
    return text.encode("utf-8")


def _content(prefix: str, value: object) -> tuple[str, str]:
    """(type attribute, inner XML) of a cell holding ``value``."""
    if value is None:
        return "", ""
    if isinstance(value, str):
        shown = escape(fit_cell(value))
        return ' t="inlineStr"', (
            f'<{prefix}is><{prefix}t xml:space="preserve">{shown}</{prefix}t></{prefix}is>'
        )
    return "", f"<{prefix}v>{_number(float(value))}</{prefix}v>"


def _set_one(text: str, ref: str, value: object, add_rows: bool = False) -> str:
    letters, row = _split(ref)
    row_open = re.search(rf'<((?:\w+:)?)row\b[^>]*?\br="{row}"[^>]*?(/?)>', text)
    if row_open is None and add_rows and value is not None:
        text = _add_row(text, row, column_index(letters))
        row_open = re.search(rf'<((?:\w+:)?)row\b[^>]*?\br="{row}"[^>]*?(/?)>', text)
    if row_open is None:
        if value is None and add_rows:
            return text  # emptying a cell of a row that is not there: nothing to do
        raise CellError(f"row {row} is not in the sheet")
    prefix = row_open.group(1)
    if row_open.group(2):  # <row r="5"/>: an empty row
        opened = row_open.group(0)[:-2] + ">"
        body_start = row_open.start() + len(opened)
        text = text[: row_open.start()] + opened + f"</{prefix}row>" + text[row_open.end() :]
        body_end = body_start
    else:
        body_start = row_open.end()
        body_end = text.index(f"</{prefix}row>", body_start)
    body = text[body_start:body_end]
    cell = re.search(
        rf'<{prefix}c\b(?=[^>]*\br="{letters}{row}")([^>]*?)(/>|>(.*?)</{prefix}c>)',
        body,
        re.DOTALL,
    )
    if cell is not None:
        inner = cell.group(3) or ""
        if re.search(rf"<{prefix}f\b", inner):
            raise CellError(f"{ref} holds a formula")
        attrs = re.sub(r'\s+t="[^"]*"', "", cell.group(1))
        kind, inner = _content(prefix, value)
        new = f"<{prefix}c{attrs}{kind}>{inner}</{prefix}c>" if inner else f"<{prefix}c{attrs}/>"
        body = body[: cell.start()] + new + body[cell.end() :]
    else:
        target = column_index(letters)
        kind, inner = _content(prefix, value)
        new = f'<{prefix}c r="{ref}"{kind}>{inner}</{prefix}c>'
        at = len(body)
        for other in re.finditer(rf'<{prefix}c\b[^>]*?\br="([A-Z]+){row}"', body):
            if column_index(other.group(1)) > target:
                at = other.start()
                break
        body = body[:at] + new + body[at:]
        text = _widen_spans(text, row_open.start(), target)
        body_start = text.index(">", row_open.start()) + 1
        body_end = text.index(f"</{prefix}row>", body_start)
    return text[:body_start] + body + text[body_end:]


def _add_row(text: str, row: int, column: int) -> str:
    """An empty ``<row r="N"/>`` in row order (rows below the table people's data may
    reach), and the sheet's ``dimension`` widened to hold it."""
    data = re.search(r"<((?:\w+:)?)sheetData\b[^>]*?(/?)>", text)
    if data is None:
        raise CellError(f"row {row}: the sheet has no sheetData")
    prefix = data.group(1)
    if data.group(2):  # <sheetData/>: no rows at all
        opened = data.group(0)[:-2] + ">"
        text = text[: data.start()] + opened + f"</{prefix}sheetData>" + text[data.end() :]
        data = re.search(r"<((?:\w+:)?)sheetData\b[^>]*?>", text)
        assert data is not None
    end = text.index(f"</{prefix}sheetData>", data.end())
    at = end
    for other in re.finditer(rf'<{prefix}row\b[^>]*?\br="(\d+)"', text[data.end() : end]):
        if int(other.group(1)) > row:
            at = data.end() + other.start()
            break
    text = text[:at] + f'<{prefix}row r="{row}"/>' + text[at:]
    dim = re.search(r'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', text)
    if dim is not None:
        first = f"{dim.group(1)}{dim.group(2)}"
        last_col = max(column_index(dim.group(3) or dim.group(1)), column)
        last_row = max(int(dim.group(4) or dim.group(2)), row)
        ref = f"{first}:{column_letter(last_col)}{last_row}"
        text = text[: dim.start(1)] + ref + text[dim.end(4 if dim.group(4) else 2) :]
    return text


def _widen_spans(text: str, row_at: int, column: int) -> str:
    """A row's ``spans`` hint ("1:8") must include a cell added beyond it."""
    end = text.index(">", row_at)
    tag = text[row_at:end]
    match = re.search(r'\bspans="(\d+):(\d+)"', tag)
    if match is None:
        return text
    lo, hi = int(match.group(1)), int(match.group(2))
    wanted = column + 1
    if lo <= wanted <= hi:
        return text
    fixed = tag.replace(match.group(0), f'spans="{min(lo, wanted)}:{max(hi, wanted)}"')
    return text[:row_at] + fixed + text[end:]


__all__ = ["CellError", "column_index", "column_letter", "set_numbers", "set_values"]


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"[^>]*>(<f(?: [^>]*)?>)([^<]*)</f>')
_REF = re.compile(r'\bref="([A-Z]+\d+:[A-Z]+\d+)"')
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&"}


def formula_blocks(sheet_xml: bytes) -> list[tuple[str, list[str]]]:
    """Every formula of a sheet part, as (range, formulas of its first row) — a shared
    formula's block (``E16:E10015``, the text of E16), or a run of single formula cells
    side by side in one row (``N5:Y5``, one text each). What a person must enter to
    recreate them: the first row of each block, then fill it down."""
    text = sheet_xml.decode("utf-8")
    blocks: list[tuple[str, list[str]]] = []
    run: list[tuple[str, int, str]] = []  # single cells of the current row run

    def flush() -> None:
        if run:
            first, last = run[0], run[-1]
            ref = f"{first[0]}{first[1]}" + (f":{last[0]}{last[1]}" if len(run) > 1 else "")
            blocks.append((ref, [f for _, _, f in run]))
            run.clear()

    for m in _FORMULA_CELL.finditer(text):
        letter, row, tag, body = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        formula = re.sub("&(lt|gt|quot|apos|amp);", lambda e: _ENTITIES[e.group(0)], body)
        shared = _REF.search(tag)
        if shared:
            flush()
            blocks.append((shared.group(1), [formula]))
            continue
        if 't="shared"' in tag:
            continue  # a shared formula's other cells: its block says them
        if run and (run[-1][1] != row or column_index(run[-1][0]) + 1 != column_index(letter)):
            flush()
        run.append((letter, row, formula))
    flush()
    return blocks
