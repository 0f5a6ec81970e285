"""What the workbook shows in a real spreadsheet application (LibreOffice Calc, headless).

Each workbook the CLI writes (demo in English and Japanese, new, a refreshed
book with formula-like text) is opened by LibreOffice and saved again; the
values LibreOffice holds must be the values Python wrote.
"""

import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from tests.workbooks import cli, libreoffice_roundtrip, sheet_frame
from xlhealth.sheets.template import SHEET_ORDER

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lo")
    out = {}
    for lang in ("en", "ja"):
        path = root / f"demo-{lang}.xlsx"
        code, text = cli("demo", "--customers", "60", "--lang", lang, "-o", str(path))
        assert code == 0, text
        out[lang] = path
    out["new"] = root / "new.xlsx"
    assert cli("new", str(out["new"]))[0] == 0
    return out


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(theirs.columns) == list(ours.columns)
    assert len(theirs) == len(ours)
    for column in ours.columns:
        a, b = ours[column], theirs[column]
        numeric = pd.to_numeric(a, errors="coerce")
        if numeric.notna().sum() == a.notna().sum() and a.notna().any():
            np.testing.assert_allclose(
                pd.to_numeric(b, errors="coerce").to_numpy(float),
                numeric.to_numpy(float),
                rtol=1e-9,
                equal_nan=True,
                err_msg=column,
            )
        else:
            assert a.fillna("").astype(str).tolist() == b.fillna("").astype(str).tolist(), column


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_libreoffice_loads_the_demo_and_holds_the_same_values(books, lang, tmp_path):
    ours = books[lang]
    theirs = libreoffice_roundtrip(ours, tmp_path)
    assert openpyxl.load_workbook(theirs, read_only=True).sheetnames == list(SHEET_ORDER)
    for sheet in ("Summary", "Actions", "Segments", "History"):
        compare(sheet_frame(ours, sheet), sheet_frame(theirs, sheet))
    # Start reads the last refresh from Checks (a formula LibreOffice computes)
    start = openpyxl.load_workbook(theirs, data_only=True)["Start"]
    status = next(c.value for c in start["A"] if isinstance(c.value, str) and "60" in c.value)
    assert ("Last refresh: " if lang == "en" else "前回の更新：") in status
    # the as-of date spelled by arithmetic, not TEXT(…,"yyyy-mm-dd") (a German Excel would
    # show "yyyy-04-dd": format codes are not translated)
    as_of = openpyxl.load_workbook(ours, read_only=True)["Checks"]["B3"].value
    assert as_of.date().isoformat() in status
    formulas = openpyxl.load_workbook(ours)["Start"]
    assert not any("TEXT(" in str(c.value) for row in formulas.iter_rows() for c in row)
    # Japanese labels survive as text
    if lang == "ja":
        header = next(
            openpyxl.load_workbook(theirs, read_only=True)["Summary"].iter_rows(
                max_row=1, values_only=True
            )
        )
        assert header[:2] == ("顧客ID", "顧客名")


def test_libreoffice_keeps_formula_like_text_as_text(books, tmp_path):
    path = tmp_path / "f.xlsx"
    shutil.copy(books["new"], path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Customers"]
    for i, name in enumerate(["=1+1", "@SUM(1)", "+7", "-7"]):
        ws.append([f"C{i}"])
        ws.cell(row=i + 2, column=2, value=name).data_type = "s"
    wb.save(path)
    assert cli("refresh", str(path), "--no-backup")[0] == 0
    theirs = libreoffice_roundtrip(path, tmp_path / "lo")
    names = sheet_frame(theirs, "Summary")["customer_name"].tolist()
    assert sorted(names) == sorted(["=1+1", "@SUM(1)", "+7", "-7"])


def test_libreoffice_opens_a_new_workbook_with_its_validation(books, tmp_path):
    theirs = libreoffice_roundtrip(books["new"], tmp_path)
    wb = openpyxl.load_workbook(theirs)
    assert wb.sheetnames == list(SHEET_ORDER)
    rules = [dv for dv in wb["Surveys"].data_validations.dataValidation if dv.type == "whole"]
    assert rules and rules[0].formula1 == "0" and rules[0].formula2 == "10"
    tiers = [row for row in wb["Tiers"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert [(r[0], r[1]) for r in tiers] == [(5, 80), (4, 60), (3, 40), (2, 20), (1, 0)]
