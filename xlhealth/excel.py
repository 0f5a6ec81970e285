"""Inside Excel: the RunPython entry points behind the Refresh, Export and Import buttons.

``refresh()`` runs the same pipeline as ``xlhealth refresh`` on the open
workbook (``xw.Book.caller()``): it reads the input and config sheets through
:class:`LiveBook`, scores with the core, builds every output table, and only
then writes — so an error leaves the workbook as it was and ends in one
message box. The adapter is the only code that touches xlwings; it offers the
same few operations as the file adapter (sheet names, a sheet's values, write
a table) and is tested against a small fake of the xlwings objects it uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from xlhealth.alerts import ACTION_COLUMNS
from xlhealth.engine import HISTORY_COLUMNS, SUMMARY_COLUMNS, merge_history
from xlhealth.model import CONFIG_SHEETS
from xlhealth.outputs import OUTPUT_SHEETS, label
from xlhealth.problems import Problem
from xlhealth.refresh import RefreshError, score_workbook
from xlhealth.xlsx.reader import INPUT_SHEETS, Sheet, Workbook, sheet_from_grid
from xlhealth.xlsx.sheetxml import column_letter

EXCEL_ERRORS = {
    "#N/A",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#GETTING_DATA",
    "#FIELD!",
    "#BLOCKED!",
    "#UNKNOWN!",
}


class LiveBook:
    """The operations refresh needs, on a workbook open in Excel (thin over xlwings)."""

    def __init__(self, book: Any):
        self.book = book

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def values(self, name: str) -> list[list]:
        """The sheet's cells from A1 as rows; errors as text such as '#N/A'."""
        sheet = self.book.sheets[name]
        used = sheet.used_range
        grid = used.options(ndim=2, err_to_str=True).value or []
        top, left = used.row - 1, used.column - 1
        width = left + (len(grid[0]) if grid else 0)
        padded = [[""] * width for _ in range(top)]
        padded += [[""] * left + ["" if v is None else v for v in row] for row in grid]
        return padded

    def write(self, name: str, rows: Sequence[Sequence[Any]]) -> None:
        """Replace the values of sheet ``name`` (formatting pre-installed on it stays)."""
        if name not in self.sheet_names():
            self.book.sheets.add(name, after=self.book.sheets[len(self.book.sheets) - 1])
        sheet = self.book.sheets[name]
        sheet.used_range.clear_contents()
        if rows:
            sheet.range("A1").value = [list(r) for r in rows]

    def alert(self, text: str, title: str = "xlhealth") -> None:
        self.book.app.alert(text, title=title)


def read_live(live: LiveBook) -> Workbook:
    """Input, config and History sheets as tables, with the file reader's rules."""
    problems: list[Problem] = []
    sheets: dict[str, Sheet] = {}
    present = {n.casefold(): n for n in live.sheet_names()}
    for name in (*INPUT_SHEETS, *CONFIG_SHEETS, "History"):
        actual = present.get(name.casefold())
        if actual is None:
            continue
        grid = live.values(actual)
        errors = []
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if isinstance(value, str) and value in EXCEL_ERRORS:
                    errors.append((column_letter(c), r + 1, value))
                    row[c] = ""
        sheet = sheet_from_grid(name, grid, problems, errors=errors)
        if sheet is not None:
            sheets[name] = sheet
    return Workbook(sheets, problems, False, live.sheet_names())


def _rows(frame: pd.DataFrame, keys: list[str], language: str) -> list[list]:
    """A label row, a key row, then values (dates as dates, blanks as None)."""
    body = frame.reindex(columns=keys).astype(object)
    body = body.where(body.notna(), None).values.tolist()
    return [[label(k, language) for k in keys], list(keys), *body]


def output_tables(live: LiveBook, as_of: dt.date | None = None) -> dict[str, list[list]]:
    """Everything refresh will write, computed before anything is written."""
    book = read_live(live)
    result, problems = score_workbook(book, as_of)
    lang = result.model.settings.language
    earlier = book.sheets["History"].frame if "History" in book.sheets else None
    history = merge_history(earlier, result.history_rows, result.as_of)
    summary_keys = [*SUMMARY_COLUMNS, "matrix_actions", "arr", "renewal_date"]
    action_keys = [c for c in ACTION_COLUMNS if c != "alert"]
    problem_rows = [
        [p.sheet, p.cell or "", p.row, p.column, p.customer_id, p.message] for p in problems
    ]
    checks = [
        ["Checks", f"as of {result.as_of}", f"{len(problems)} problem(s)"],
        ["sheet", "cell", "row", "column", "customer_id", "message"],
        *problem_rows,
    ]
    return {
        "Summary": _rows(result.summary, summary_keys, lang),
        "Actions": _rows(result.actions, action_keys, lang),
        "Segments": _rows(result.segments, list(result.segments.columns), lang),
        "History": _rows(history, HISTORY_COLUMNS, lang),
        "Checks": checks,
    }


def refresh(book: Any = None) -> None:
    """The Refresh button: compute everything first, then write the five output sheets."""
    import xlwings as xw

    live = LiveBook(book if book is not None else xw.Book.caller())
    try:
        tables = output_tables(live)
    except RefreshError as error:
        live.alert(
            "Refresh stopped — nothing was changed:\n"
            + "\n".join(str(p) for p in error.problems[:15])
        )
        return
    for name in OUTPUT_SHEETS:
        live.write(name, tables[name])


def export_for_email(book: Any = None) -> None:
    """The Export for email button (the export itself arrives with the export feature)."""
    import xlwings as xw

    LiveBook(book if book is not None else xw.Book.caller()).alert(
        "Export for email is not available in this version yet; use File > Save a Copy."
    )


def import_questionnaires(book: Any = None) -> None:
    """The Import questionnaires button (arrives with the questionnaire feature)."""
    import xlwings as xw

    LiveBook(book if book is not None else xw.Book.caller()).alert(
        "Importing questionnaires is not available in this version yet."
    )
