"""Drive real desktop Excel through xlwings (Windows/macOS): open the workbook, run Refresh.

Run on a machine with Excel and Python (xlhealth installed):
    pytest -m excel tests/excel
They are skipped here and wherever Excel is absent — they are not counted as passing.
"""

import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.excel

WORKBOOK = Path(__file__).resolve().parents[2] / "workbook" / "HealthScore.xlsm"


def excel_available() -> bool:
    if sys.platform not in ("win32", "darwin"):
        return False
    try:
        import xlwings as xw

        return bool(xw.apps.count is not None)
    except Exception:
        return False


@pytest.mark.skipif(not excel_available(), reason="needs desktop Excel (Windows/macOS)")
def test_refresh_macro_fills_summary(tmp_path):
    import openpyxl
    import xlwings as xw

    from xlhealth import demo_data

    book_path = tmp_path / "HealthScore.xlsm"
    shutil.copy(WORKBOOK, book_path)
    wb = openpyxl.load_workbook(book_path, keep_vba=True)
    customers = demo_data.generate(20)["Customers"]
    for row in customers.itertuples(index=False):
        wb["Customers"].append([None if v != v else v for v in row])
    wb.save(book_path)
    app = xw.App(visible=False)
    try:
        book = app.books.open(book_path)
        book.macro("Refresh")()
        values = book.sheets["Summary"].range("A3").expand("down").value
        assert len(values) == 20
        score = book.sheets["Summary"].range("E3").value
        assert 0 <= score <= 100
        book.close()
    finally:
        app.quit()
