"""Fuzz: random damage to a demo book's config and input sheets must not break the contract.

Each case (a seed) copies a small demo book, applies 1-3 random damages with openpyxl
(wrong types, broken headers, deleted sheets, bad Rules bands, unknown names, formulas, huge
strings, merged cells, chart sheets, ID and date variants, extreme numbers) and runs
``xlhealth check BOOK`` and ``xlhealth refresh BOOK``. The reliability contract
(../shared/DESIGN.md "Reliability rules"):

1. exit code 0 or 1, no uncaught exception, no "Traceback"/"unexpected" in the output;
2. every ``error:`` line names a sheet (or the file itself, e.g. "book.xlsx is
   password-protected"), and a non-zero exit says why in at least one ``error:`` line;
3. a refused refresh leaves the file byte-identical, with nothing beside it (no temp file,
   no NAME.bak);
4. a successful refresh leaves input and config sheets unchanged, cell by cell;
5. check and refresh agree: check exits 1 exactly when refresh does, and then both print
   the same set of ``error:`` lines.

Damage is deterministic per seed (``random.Random(seed)``). Reproduce one case:

    .venv/bin/python -m tests.test_fuzz 17            # demo book + damage + check + refresh
    .venv/bin/python -m tests.test_fuzz 17 --debug    # ... with tracebacks for crashes
    .venv/bin/python -m tests.test_fuzz 17 --keep DIR # ... and keep the damaged book in DIR
    .venv/bin/python -c "from tests.test_fuzz import damage; print(damage('book.xlsx', 17))"

``XLHEALTH_FUZZ_SEEDS=500 pytest tests/test_fuzz.py`` runs more seeds (default 64,
about two minutes).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.workbooks import cell_values
from xlhealth.cli import main
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets.template import SHEET_ORDER

SEEDS = range(int(os.environ.get("XLHEALTH_FUZZ_SEEDS", "64")))
DEMO_CUSTOMERS = "40"
DAMAGED = (*CONFIG_SHEETS, *INPUT_SHEETS)
UNTOUCHED = (*INPUT_SHEETS, *CONFIG_SHEETS)

# What kind of value each column of the demo book holds (unlisted columns are text).
DATE_COLUMNS = {"date", "opened", "started", "completed", "assessed_on", "renewal_date"}
NUMBER_COLUMNS = {
    "arr", "seats", "nps", "level", "key_features_used", "value_realised", "standard_days",
    "severity", "min", "max", "points", "weight", "window_days", "threshold", "days",
    "priority", "due_days", "tier", "min_score",
}  # fmt: skip

WRONG_TYPES: list[object] = [
    "abc", "十二", " 12 ", "1,234", "12%", 12345.5, -7, 0,
    dt.datetime(2026, 1, 5), True, False, dt.time(12, 30),
]  # fmt: skip
STRANGE_DATES: list[object] = [
    "１２", "２０２６/１/５", "２０２６年１１月２０日", "2026-02-30", "9999-12-31", "1900-01-01",
    dt.datetime(9999, 12, 31), dt.datetime(1900, 1, 1), 0, -1, 2958466, 1e308,
]  # fmt: skip
STRANGE_NUMBERS: list[object] = [
    1e308, -1e308, 1e308, -1e308, 2**63, 1e15, -5, 0, 0.1,
    "#N/A", "#DIV/0!", "NaN", "nan", "inf", "-inf", "1e308", "１２",
]  # fmt: skip
CONFIG_NUMBERS = {
    "Metrics": {"window_days", "weight"},
    "Rules": {"min", "max", "points"},
    "Tiers": {"tier", "min_score"},
    "Alerts": {"threshold", "days", "priority", "due_days"},
    "MaturityModel": {"weight"},
}
JAPANESE_300 = ("顧客健康指標の列名" * 34)[:300]
TEXT_LIKE_FORMULAS = [
    "=1/0", "=SUM(A1:A3)", "+81 3 1234 5678", "-foo", "@mention", "=cmd|'/C calc'!A0",
]  # fmt: skip


# --------------------------------------------------------------------------- damage


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}…<{len(str(value)):,} chars>"


def _worksheets(wb: Workbook, names: tuple[str, ...]) -> list[Worksheet]:
    return [wb[n] for n in names if n in wb.sheetnames and isinstance(wb[n], Worksheet)]


def _headers(ws: Worksheet) -> dict[str, int]:
    """Header name -> column number, from row 1 (where every sheet of the demo has it)."""
    return {
        str(c.value).strip(): c.column
        for c in ws[1]
        if isinstance(c.value, str) and c.value.strip()
    }


def _data_row(ws: Worksheet, rng: random.Random) -> int:
    return rng.randint(2, max(ws.max_row, 2))


def _set(ws: Worksheet, row: int, col: int, value: object, as_text: bool = False) -> str:
    cell = ws.cell(row, col)
    if type(cell).__name__ == "MergedCell":  # covered by an earlier merge: write its anchor
        for merged in ws.merged_cells.ranges:
            if cell.coordinate in merged:
                row, col = merged.min_row, merged.min_col
                cell = ws.cell(row, col)
                break
    old = cell.value
    cell.value = value
    if as_text:
        cell.data_type = "s"
    kept = cell.value
    stored = f" (stored {len(kept):,} chars)" if isinstance(kept, str) and len(kept) > 100 else ""
    how = " as text" if as_text else ""
    where = f"{ws.title}!{get_column_letter(col)}{row}"
    return f"{where} = {_short(value)}{how}{stored} (was {_short(old)})"


def _column(ws: Worksheet, rng: random.Random, kinds: set[str] | None = None) -> int:
    """A column of ``ws`` whose header is in ``kinds`` if it has one, else any column."""
    headers = _headers(ws)
    wanted = [c for h, c in headers.items() if kinds is None or h in kinds]
    if wanted:
        return rng.choice(sorted(wanted))
    return rng.randint(1, max(ws.max_column, 1))


def _rows_with(ws: Worksheet, header: str, keep: Callable[[object], bool]) -> list[int]:
    col = _headers(ws).get(header)
    if col is None:
        return []
    return [r for r in range(2, ws.max_row + 1) if keep(ws.cell(r, col).value)]


def wrong_type(wb: Workbook, rng: random.Random) -> str | None:
    sheets = _worksheets(wb, DAMAGED)
    if not sheets:
        return None
    ws = rng.choice(sheets)
    return "wrong type: " + _set(ws, _data_row(ws, rng), _column(ws, rng), rng.choice(WRONG_TYPES))


def header_damage(wb: Workbook, rng: random.Random) -> str | None:
    sheets = _worksheets(wb, DAMAGED)
    if not sheets:
        return None
    ws = rng.choice(sheets)
    how = rng.choice(["delete cell", "rename", "rename", "delete row", "clear row"])
    if how == "delete row":
        ws.delete_rows(1)
        return f"deleted header row: {ws.title} row 1"
    if how == "clear row":
        for cell in ws[1]:
            if type(cell).__name__ != "MergedCell":
                cell.value = None
        return f"cleared header row: {ws.title} row 1"
    headers = _headers(ws)
    if not headers:
        return None
    name = rng.choice(sorted(headers))
    col = headers[name]
    if how == "delete cell":
        return "deleted header cell: " + _set(ws, 1, col, None)
    others = sorted(set(headers) - {name}) or [name]
    new = rng.choice(
        ["renamed_column", name.upper(), f" {name} ", _fullwidth(name), "列", rng.choice(others)]
    )
    return "renamed header: " + _set(ws, 1, col, new)


def delete_sheet(wb: Workbook, rng: random.Random) -> str | None:
    names = [n for n in DAMAGED if n in wb.sheetnames]
    if not names:
        return None
    name = rng.choice(names)
    del wb[name]
    return f"deleted sheet {name}"


def rules_band(wb: Workbook, rng: random.Random) -> str | None:
    (ws,) = _worksheets(wb, ("Rules",)) or (None,)
    if ws is None:
        return None
    headers = _headers(ws)
    bound = rng.choice(["min", "max"])
    if bound not in headers:
        return None
    rows = _rows_with(ws, bound, lambda v: isinstance(v, int | float))
    if not rows:
        return None
    row = rng.choice(rows)
    old = ws.cell(row, headers[bound]).value
    new = rng.choice([old + 1, old - 1, old * 2, old / 2, -old, old + 1000, None])
    return "Rules band overlap/gap: " + _set(ws, row, headers[bound], new)


def unknown_name(wb: Workbook, rng: random.Random) -> str | None:
    sheet, column, values = rng.choice(
        [
            ("Rules", "metric", ["no_such_metric", "ＮＰＳ＿ｌａｔｅｓｔ"]),
            ("Alerts", "metric", ["no_such_metric"]),
            ("Alerts", "trigger", ["no_such_trigger"]),
            ("Alerts", "if_missing", ["sometimes"]),
            ("Metrics", "group", ["Nonsense", "ＲＯＩ"]),
            ("Metrics", "aggregate", ["median_of_nothing", "SUM"]),
            ("Metrics", "source", ["NoSuchSheet", "Summary", "Settings", "Rules"]),
            ("Metrics", "column", ["@SUM(A1)", JAPANESE_300, "no_such_column", "=A1"]),
            ("Metrics", "column", ["active_users_30d/no_such_metric", "seats/0", "/"]),
            ("Metrics", "filter", ["no_such_column=1", "category=", "garbage", "kind in"]),
            ("Metrics", "filter", ["=", " in ", "role in executive,", "category==x", "a=b=c"]),
            ("Alerts", "label", ["{no_such_field}", "{value", "{0}", "{value:%Y}", "}{"]),
            ("Alerts", "action", ["{score", "{renewal_date:%d}"]),
            ("Metrics", "when_missing", ["sometimes", "1e308"]),
            ("Metrics", "metric", ["licence_activation", "seats", ""]),  # duplicates/blank
            ("Tiers", "label", [None, "Champion"]),
            ("Matrix", "health", ["medium", None]),
            ("MaturityModel", "facet", ["why"]),
            ("MaturityModel", "factor", ["strategy_goals"]),  # duplicate factor
            ("Settings", "key", ["no_such_key", "AS_OF"]),
        ]
    )
    (ws,) = _worksheets(wb, (sheet,)) or (None,)
    if ws is None:
        return None
    col = _headers(ws).get(column)
    if col is None:
        return None
    return "unknown name: " + _set(ws, _data_row(ws, rng), col, rng.choice(values))


def formula_or_long_text(wb: Workbook, rng: random.Random) -> str | None:
    sheets = _worksheets(wb, DAMAGED)
    if not sheets:
        return None
    ws = rng.choice(sheets)
    row = 1 if rng.random() < 0.15 else _data_row(ws, rng)
    col = _column(ws, rng)
    how = rng.choice(["formula", "text", "long"])
    if how == "formula":
        value = rng.choice(["=1/0", "=SUM(A1:A3)", "=NA()", '="CUST-"&"00001"', "=A1"])
        return "real formula: " + _set(ws, row, col, value)
    if how == "text":
        return "formula-like text: " + _set(ws, row, col, rng.choice(TEXT_LIKE_FORMULAS), True)
    # openpyxl keeps at most 32,767 characters (Excel's cell limit) of the 40,000
    return "long text: " + _set(ws, row, col, rng.choice(["x", "長", "=", "-"]) * 40_000, True)


def merge(wb: Workbook, rng: random.Random) -> str | None:
    sheets = _worksheets(wb, DAMAGED)
    if not sheets:
        return None
    ws = rng.choice(sheets)
    col = rng.randint(1, max(ws.max_column, 1))
    if rng.random() < 0.4:
        first, last = 1, rng.choice([1, 2])
    else:
        first = _data_row(ws, rng)
        last = first + rng.randint(0, 2)
    span = f"{get_column_letter(col)}{first}:{get_column_letter(col + rng.randint(1, 2))}{last}"
    ws.merge_cells(span)
    return f"merged {ws.title}!{span}"


def chart_sheet(wb: Workbook, rng: random.Random) -> str | None:
    names = [n for n in DAMAGED if n in wb.sheetnames and isinstance(wb[n], Worksheet)]
    if not names:
        return None
    name = rng.choice(names)
    index = wb.sheetnames.index(name)
    del wb[name]
    chart = BarChart()
    source = wb.worksheets[0]
    chart.add_data(Reference(source, min_col=1, min_row=1, max_row=5), titles_from_data=True)
    wb.create_chartsheet(name, index).add_chart(chart)
    return f"chart sheet instead of table: {name}"


def id_variant(wb: Workbook, rng: random.Random) -> str | None:
    sheets = [ws for ws in _worksheets(wb, INPUT_SHEETS) if "customer_id" in _headers(ws)]
    if not sheets:
        return None
    ws = rng.choice(sheets)
    col = _headers(ws)["customer_id"]
    rows = _rows_with(ws, "customer_id", lambda v: isinstance(v, str) and v.strip())
    if len(rows) < 2:
        return None
    row = rng.choice(rows)
    old = ws.cell(row, col).value
    how = rng.choice(["duplicate", "lower", "fullwidth", "spaces"])
    if how == "duplicate":
        new = ws.cell(rng.choice([r for r in rows if r != row]), col).value
    else:
        new = {"lower": old.lower(), "fullwidth": _fullwidth(old), "spaces": f" {old}\u3000"}[how]
    return f"ID {how}: " + _set(ws, row, col, new)


def date_variant(wb: Workbook, rng: random.Random) -> str | None:
    value = rng.choice(STRANGE_DATES)
    (settings,) = _worksheets(wb, ("Settings",)) or (None,)
    if settings is not None and rng.random() < 0.35:
        rows = _rows_with(settings, "key", lambda v: v == "as_of")
        col = _headers(settings).get("value")
        if rows and col:
            return "Settings as_of: " + _set(settings, rows[0], col, value)
    sheets = [ws for ws in _worksheets(wb, INPUT_SHEETS) if set(_headers(ws)) & DATE_COLUMNS]
    if not sheets:
        return None
    ws = rng.choice(sheets)
    return "date: " + _set(ws, _data_row(ws, rng), _column(ws, rng, DATE_COLUMNS), value)


def number_variant(wb: Workbook, rng: random.Random) -> str | None:
    value = rng.choice(STRANGE_NUMBERS)
    where = rng.random()
    (settings,) = _worksheets(wb, ("Settings",)) or (None,)
    if settings is not None and where < 0.2:
        rows = _rows_with(settings, "key", lambda v: v not in (None, "as_of", "language"))
        col = _headers(settings).get("value")
        if rows and col:
            return "Settings value: " + _set(settings, rng.choice(rows), col, value)
    if where < 0.65:  # a number the model reads: weights, windows, bands, thresholds, days
        sheets = _worksheets(wb, tuple(CONFIG_NUMBERS))
        if sheets:
            ws = rng.choice(sheets)
            col = _column(ws, rng, CONFIG_NUMBERS[ws.title])
            return "config number: " + _set(ws, _data_row(ws, rng), col, value)
    sheets = [ws for ws in _worksheets(wb, INPUT_SHEETS) if set(_headers(ws)) & NUMBER_COLUMNS]
    if not sheets:
        return None
    ws = rng.choice(sheets)
    return "number: " + _set(ws, _data_row(ws, rng), _column(ws, rng, NUMBER_COLUMNS), value)


DAMAGES: dict[Callable[[Workbook, random.Random], str | None], int] = {
    wrong_type: 3,  # damage -> weight: the kinds with the most variety come up more often
    header_damage: 2,
    delete_sheet: 1,
    rules_band: 1,
    unknown_name: 3,
    formula_or_long_text: 2,
    merge: 1,
    chart_sheet: 1,
    id_variant: 1,
    date_variant: 2,
    number_variant: 3,
}


def damage(book_path: str | Path, seed: int) -> list[str]:
    """Apply 1-3 random damages (deterministic per seed) to the book, in place; what was done."""
    rng = random.Random(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: "Data Validation extension is not supported"
        wb = openpyxl.load_workbook(book_path)
        done: list[str] = []
        for _ in range(rng.randint(1, 3)):
            for _attempt in range(20):
                (kind,) = rng.choices(list(DAMAGES), weights=list(DAMAGES.values()))
                what = kind(wb, rng)
                if what is not None:
                    done.append(what)
                    break
        wb.save(book_path)
    return done


# --------------------------------------------------------------------------- contract


@dataclass
class Case:
    seed: int
    damages: list[str]
    check: Result
    refresh: Result
    violations: list[str] = field(default_factory=list)

    def report(self) -> str:
        return "\n".join(
            [
                f"fuzz seed {self.seed}; damages:",
                *(f"  - {d}" for d in self.damages),
                "violations:",
                *(f"  * {v}" for v in self.violations),
                f"check exit {self.check.exit_code}:",
                _output(self.check),
                f"refresh exit {self.refresh.exit_code}:",
                _output(self.refresh),
                f"reproduce: .venv/bin/python -m tests.test_fuzz {self.seed} [--debug]",
            ]
        )


def _output(result: Result, limit: int = 300) -> str:
    lines = [
        line if len(line) <= limit else line[:limit] + "…" for line in result.output.splitlines()
    ]
    text = "\n".join(f"    | {line}" for line in lines[:60])
    if len(lines) > 60:
        text += f"\n    | … {len(lines) - 60} more lines"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += "\n" + "".join(traceback.format_exception(*result.exc_info))
    return text


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def _names_a_sheet(line: str, sheets: set[str], book: Path) -> bool:
    if book.name in line:  # about the whole file ("book.xlsx is password-protected")
        return True
    return any(re.search(rf"(?<![\w.]){re.escape(s)}(?![\w])", line) for s in sheets)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def run_case(demo: Path, folder: Path, seed: int, debug: bool = False) -> Case:
    """Copy ``demo`` into the empty ``folder``, damage it, run check and refresh, judge.

    ``debug`` runs them with ``--debug``, so a crash shows its traceback in the report.
    """
    book = folder / "book.xlsx"
    shutil.copy(demo, book)
    damages = damage(book, seed)
    before_bytes = book.read_bytes()
    reader = openpyxl.load_workbook(book, read_only=True)
    sheet_names = set(reader.sheetnames)
    tables = [ws.title for ws in reader.worksheets if ws.title in UNTOUCHED]
    reader.close()
    before_cells = cell_values(book, tables)

    runner = CliRunner()
    flags = ["--debug"] if debug else []
    checked = runner.invoke(main, [*flags, "check", str(book)], catch_exceptions=True)
    refreshed = runner.invoke(main, [*flags, "refresh", str(book)], catch_exceptions=True)
    case = Case(seed, damages, checked, refreshed)
    bad = case.violations

    for name, result in (("check", checked), ("refresh", refreshed)):
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            bad.append(f"{name}: uncaught {type(result.exception).__name__}: {result.exception}")
        if result.exit_code not in (0, 1):
            bad.append(f"{name}: exit code {result.exit_code}")
        for word in ("Traceback", "unexpected"):
            if word in result.output:
                bad.append(f"{name}: {word!r} in the output")
        errors = _error_lines(result)
        if result.exit_code != 0 and not errors:
            bad.append(f"{name}: exit {result.exit_code} without any 'error:' line")
        for line in errors:
            if not _names_a_sheet(line, sheet_names | set(SHEET_ORDER), book):
                bad.append(f"{name}: error line names no sheet: {line[:200]}")

    if refreshed.exit_code != 0:
        if book.read_bytes() != before_bytes:
            bad.append("refused refresh changed the file")
        if _listing(folder) != [book.name]:
            bad.append(f"refused refresh left files beside the book: {_listing(folder)}")
    else:
        extra = set(_listing(folder)) - {book.name, book.name + ".bak", f"{book.stem}-cache"}
        if extra:
            bad.append(f"refresh left files beside the book: {sorted(extra)}")
        after = cell_values(book, tables)
        for sheet in tables:
            if after.get(sheet) != before_cells.get(sheet):
                bad.append(f"successful refresh changed input/config sheet {sheet}")

    if (checked.exit_code == 1) != (refreshed.exit_code == 1):
        bad.append(
            f"check and refresh disagree: check exit {checked.exit_code}, "
            f"refresh exit {refreshed.exit_code}"
        )
    elif checked.exit_code == 1 and set(_error_lines(checked)) != set(_error_lines(refreshed)):
        only_check = set(_error_lines(checked)) - set(_error_lines(refreshed))
        only_refresh = set(_error_lines(refreshed)) - set(_error_lines(checked))
        bad.append(
            "check and refresh print different error lines: only check "
            f"{sorted(x[:150] for x in only_check)}, only refresh "
            f"{sorted(x[:150] for x in only_refresh)}"
        )
    return case


@pytest.fixture(scope="session")
def fuzz_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-demo") / "demo.xlsx"
    code, out = _demo(path)
    assert code == 0, out
    return path


def _demo(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["demo", "--customers", DEMO_CUSTOMERS, "-o", str(path)], catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_damaged_book_keeps_the_reliability_contract(fuzz_demo, tmp_path, seed):
    case = run_case(fuzz_demo, tmp_path, seed)
    if case.violations:
        pytest.fail(case.report(), pytrace=False)


def test_damage_is_deterministic_per_seed(fuzz_demo, tmp_path):
    books = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        books.append(tmp_path / name / "book.xlsx")
        shutil.copy(fuzz_demo, books[-1])
    assert damage(books[0], 12345) == damage(books[1], 12345)
    assert cell_values(books[0], list(DAMAGED)) == cell_values(books[1], list(DAMAGED))


def _main(argv: list[str]) -> int:
    """``python -m tests.test_fuzz SEED... [--debug] [--keep DIR]``: run cases, print reports."""
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    keep = None
    if "--keep" in argv:
        at = argv.index("--keep")
        keep = Path(argv[at + 1])
        del argv[at : at + 2]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo.xlsx"
        code, out = _demo(demo)
        if code != 0:
            print(out)
            return 2
        for seed in (int(a) for a in argv):
            folder = Path(tmp) / f"seed{seed}"
            folder.mkdir()
            case = run_case(demo, folder, seed, debug)
            failed += bool(case.violations)
            print(case.report() if case.violations else f"seed {seed}: ok {case.damages}")
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(demo, keep / f"seed{seed}.xlsx")
                damage(keep / f"seed{seed}.xlsx", seed)
                print(f"damaged book kept as {keep / f'seed{seed}.xlsx'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
