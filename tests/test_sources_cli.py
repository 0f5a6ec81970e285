"""End to end: ``xlhealth refresh`` on a real .xlsx whose Sources sheet reads files gives the
Summary of the same book with those rows pasted; refresh never changes the Sources sheet
or the files; mistakes are located on the Sources sheet."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest

from tests.sources_data import write
from tests.workbooks import cell_values, cli, sheet_frame
from xlhealth.demo import data as demo_data
from xlhealth.refresh import refresh
from xlhealth.sheets.template import new_workbook

AS_OF = dt.date(2026, 11, 20)
SOURCES = ["sheet", "path", "format", "encoding", "mode", "connection", "query"]


def segment_logins(logins: pd.DataFrame) -> pd.DataFrame:
    """Logins as Segment exports them (text, ISO timestamps with Z), shuffled."""
    rng = np.random.default_rng(4)
    out = pd.DataFrame(
        {
            "groupId": logins["customer_id"],
            "userId": logins["user_id"],
            "timestamp": [
                (d + pd.Timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ")
                for d, s in zip(logins["date"], rng.integers(0, 86400, len(logins)), strict=True)
            ],
            "context_traits_email": logins["email"],
        }
    ).astype(object)
    return out.where(out.notna(), None).iloc[rng.permutation(len(out))].reset_index(drop=True)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("books")
    frames = demo_data.generate(60, "en", as_of=AS_OF)
    logins = segment_logins(frames["Logins"])
    support = frames["Support"]
    pasted = tmp / "pasted.xlsx"
    new_workbook(pasted, inputs={**frames, "Logins": logins})
    folder = tmp / "sourced"
    write(logins, folder / "exports" / "logins.csv", "csv")
    half = len(support) // 2
    write(support.iloc[:half], folder / "support" / "2026-a.parquet", "parquet")
    write(support.iloc[half:], folder / "support" / "2026-b.parquet", "parquet")
    sources = pd.DataFrame(
        [["Logins", "exports/logins.csv", "", "", "", "", ""],
         ["Support", "support", "parquet", "", "replace", "", ""]],
        columns=SOURCES,
    )  # fmt: skip
    sourced = folder / "book.xlsx"
    rest = {k: v for k, v in frames.items() if k not in ("Logins", "Support")}
    new_workbook(sourced, inputs=rest, config={"Sources": sources})
    return pasted, sourced


def test_refresh_with_sources_equals_the_pasted_book(books):
    pasted, sourced = books
    files = {
        p: p.read_bytes() for p in sourced.parent.rglob("*") if p.suffix in (".csv", ".parquet")
    }
    before = cell_values(sourced, ["Sources"])
    for book in (pasted, sourced):
        code, output = cli("refresh", str(book), "--as-of", AS_OF.isoformat(), "--no-backup")
        assert code == 0, output
    a, b = sheet_frame(pasted, "Summary"), sheet_frame(sourced, "Summary")
    pd.testing.assert_frame_equal(a, b)
    assert a["score"].notna().all()
    pd.testing.assert_frame_equal(sheet_frame(pasted, "Actions"), sheet_frame(sourced, "Actions"))
    assert cell_values(sourced, ["Sources"]) == before
    assert {p: p.read_bytes() for p in files} == files
    checks = [v for row in cell_values(sourced, ["Checks"])["Checks"] for v in row]
    assert "exports/logins.csv" in checks and "support" in checks
    assert "Logins (Sources row 6)" in checks  # which header fed which field, for files too


def test_excel_refreshes_a_copy_with_paths_from_the_saved_book(books, tmp_path):
    """The Refresh button refreshes a copy in a scratch folder: paths start beside the book."""
    _, sourced = books
    copy = tmp_path / "work-book.xlsx"
    shutil.copy2(sourced, copy)
    report = refresh(copy, as_of=AS_OF, backup=False, base=sourced.parent)
    assert report.result.sources["status"].tolist() == ["ok", "ok"]
    lost = refresh(copy, as_of=AS_OF, backup=False)
    assert lost.result.sources["status"].str.startswith("failed").all()
    assert any(p.sheet == "Sources" and p.cell == "B6" for p in lost.problems)


def test_excel_module_passes_the_saved_books_folder():
    import inspect

    from xlhealth.excel import live as excel

    assert "base=saved.parent" in inspect.getsource(excel.refresh)


def sourced_book(tmp_path, rows: list[list[str]]):
    frames = demo_data.generate(10, "en", as_of=AS_OF)
    path = tmp_path / "book.xlsx"
    new_workbook(path, inputs={"Customers": frames["Customers"]},
                 config={"Sources": pd.DataFrame(rows, columns=SOURCES)})  # fmt: skip
    return path


def test_sheet_mistakes_block_with_their_cell(tmp_path):
    book = sourced_book(
        tmp_path,
        [
            ["Logins", "", "", "", "", "postgresql://cs:hunter2@db:5432/crm", "logins"],
            ["Support", "x.csv", "xlsx", "latin-9", "merge", "", ""],
            ["Customers", "c.csv", "", "", "", "", ""],
            ["Surveys", "s.csv", "", "", "", "duckdb:///s.duckdb", "surveys"],
            ["Contacts", "", "", "", "", "", "SELECT 1"],
        ],
    )
    code, output = cli("check", str(book))
    assert code == 1
    for cell, what in [
        ("Sources!F6", "remove the password"),
        ("Sources!C7", "unknown format"),
        ("Sources!D7", "unknown encoding"),
        ("Sources!E7", "unknown mode"),
        ("Sources!A8", "Customers stays in the workbook"),
        ("Sources!F9", "either path"),
        ("Sources!B10", "give a path"),
        ("Sources!G10", "a query needs a connection"),
    ]:
        assert any(cell in line and what in line for line in output.splitlines()), (cell, output)
    assert "hunter2" not in output


def test_runtime_failures_are_located_and_the_rest_is_scored(tmp_path):
    (tmp_path / "bad.csv").write_bytes(
        b"customer_id,date\nC1,2026-01-01\n" + b"C2,\x82\xa0\x81\x20\n"
    )
    (tmp_path / "events.dat").write_text("customer_id\n")
    book = sourced_book(
        tmp_path,
        [
            ["Logins", "nothere/*.csv", "", "", "", "", ""],
            ["Support", "bad.csv", "", "utf-8", "", "", ""],
            ["Surveys", "events.dat", "", "", "", "", ""],
            ["Contacts", "bad.csv", "", "", "", "", ""],
        ],
    )
    code, output = cli("refresh", str(book), "--as-of", AS_OF.isoformat(), "--no-backup")
    assert code == 0, output  # the rest is scored; the failures are on Checks
    lines = [str(p) for p in refresh(book, as_of=AS_OF, backup=False).problems]

    def said(cell: str, *words: str) -> bool:
        return any(cell in line and all(w in line for w in words) for line in lines)

    assert said("Sources!B6", "no file matches nothere/*.csv")
    assert said("Sources!D7", "line 3 is not UTF-8")
    assert said("Sources!C8", "cannot tell the format of events.dat")
    assert said("Sources!D9", "neither UTF-8 (line 3) nor cp932 (line 3)")
