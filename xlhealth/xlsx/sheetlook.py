"""What a sheet looks like beyond its cells: frozen panes, AutoFilter, tab colour, page
setup — read from a worksheet part.

The in-Excel Refresh copies a refreshed sheet's cells into the open book, and a copy of
cells carries none of these (they belong to the window and the worksheet): it reads them
here from the refreshed file and sets them itself (``excel.livebook.LiveBook.set_look``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PANE = re.compile(rb'<(?:\w+:)?pane\b[^>]*\btopLeftCell="([A-Z]+\d+)"[^>]*\bstate="frozen')
_PANE_OTHER = re.compile(rb'<(?:\w+:)?pane\b[^>]*\bstate="frozen"[^>]*\btopLeftCell="([A-Z]+\d+)"')
_TAB = re.compile(rb'<(?:\w+:)?tabColor\b[^>]*\brgb="(?:FF)?([0-9A-Fa-f]{6})"')
_FILTER = re.compile(rb'<(?:\w+:)?autoFilter\b[^>]*\bref="([A-Z]+\d+:[A-Z]+\d+)"')
_ORIENTATION = re.compile(rb'<(?:\w+:)?pageSetup\b[^>]*\borientation="(\w+)"')
_FIT = re.compile(rb'<(?:\w+:)?pageSetUpPr\b[^>]*\bfitToPage="(?:1|true)"')
_FIT_WIDE = re.compile(rb'<(?:\w+:)?pageSetup\b[^>]*\bfitToWidth="(\d+)"')


@dataclass(frozen=True)
class SheetLook:
    freeze: str | None = None  # the first scrolling cell ("C3": rows 1-2, columns A-B frozen)
    autofilter: str | None = None  # "A1:X101"
    tab_color: str | None = None  # "1F4E79"
    landscape: bool | None = None
    fit_width: int | None = None  # pages wide when the sheet is fitted to pages


def sheet_look(xml: bytes) -> SheetLook:
    """The look of worksheet part ``xml`` (only its head and tail are searched: the rows
    in between can be hundreds of megabytes)."""
    end = xml.find(b"<sheetData")
    head = xml[: end if end >= 0 else 4096]
    tail_at = xml.rfind(b"</sheetData>")
    tail = xml[tail_at:] if tail_at >= 0 else b""

    def first(pattern: re.Pattern, text: bytes) -> str | None:
        found = pattern.search(text)
        return found.group(1).decode() if found else None

    orientation = first(_ORIENTATION, tail)
    fit = first(_FIT_WIDE, tail) if _FIT.search(head) else None
    return SheetLook(
        freeze=first(_PANE, head) or first(_PANE_OTHER, head),
        autofilter=first(_FILTER, tail),
        tab_color=(first(_TAB, head) or "").upper() or None,
        landscape=None if orientation is None else orientation == "landscape",
        fit_width=None if fit is None else int(fit),
    )


def split_of(cell: str) -> tuple[int, int]:
    """(columns, rows) frozen above and left of ``cell``: "C3" -> (2, 2)."""
    letters, row = re.fullmatch(r"([A-Z]+)(\d+)", cell).groups()  # type: ignore[union-attr]
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col - 1, int(row) - 1
