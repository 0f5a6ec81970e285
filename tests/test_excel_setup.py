"""``xlhealth excel-setup [BOOK]``: the interpreter xlwings in Excel uses, written for the user."""

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.workbooks import cli
from xlhealth.excel import setup as es
from xlhealth.excel.build import build_workbook
from xlhealth.excel.setup import excel_setup, read_book_conf

REAL_NEEDS_PYTHONPATH = es.needs_pythonpath
COMMITTED = Path(__file__).resolve().parents[1] / "workbook" / "HealthScore.xlsm"


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    """By default the interpreter imports xlhealth without help (installed)."""
    monkeypatch.setattr(es, "needs_pythonpath", lambda python: None)


def fake_windows_python(tmp_path: Path) -> Path:
    scripts = tmp_path / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (scripts / name).write_text("")
    (tmp_path / "venv" / "xlwings64-0.37.8.dll").write_text("")
    return scripts / "python.exe"


def test_the_shipped_book_names_no_interpreter():
    """A key on the sheet wins over the user's config even when blank: so none is there."""
    block = read_book_conf(COMMITTED)
    keys = {k.upper() for k, _, _ in block}
    assert keys == {"UDF MODULES", "SHOW CONSOLE"}
    assert not keys & {"INTERPRETER", "INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH"}
    wb = openpyxl.load_workbook(COMMITTED, read_only=True)
    rows = list(wb["xlwings.conf"].iter_rows(values_only=True))
    assert rows[len(block)][0] is None  # the blank A cell that ends what xlwings reads
    assert any("excel-setup" in str(r[2]) for r in rows[len(block) :])


def test_user_config_on_windows_is_pythonw_beside_the_running_python(tmp_path):
    python = fake_windows_python(tmp_path)
    home = tmp_path / "home"
    conf = home / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('"INTERPRETER_WIN","python"\n"SHOW CONSOLE","True"\n')
    setup = excel_setup(None, "win32", str(python), home)
    assert setup.target == conf
    assert conf.read_text().splitlines() == [
        f'"INTERPRETER_WIN","{python.with_name("pythonw.exe")}"',
        '"SHOW CONSOLE","True"',
    ]
    assert not any("dll" in n for n in setup.notes)  # the venv root has the DLL


def test_user_config_on_mac_is_in_excels_container_and_mentions_runpython(tmp_path):
    home = tmp_path / "home"
    setup = excel_setup(None, "darwin", "/Users/me/venv/bin/python3", home)
    conf = home / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
    assert setup.target == conf
    assert conf.read_text() == '"INTERPRETER_MAC","/Users/me/venv/bin/python3"\n'
    assert any("xlwings runpython install" in n for n in setup.notes)


def test_pythonpath_is_added_only_where_xlhealth_is_not_importable(tmp_path, monkeypatch):
    monkeypatch.setattr(es, "needs_pythonpath", lambda python: "/src/xlhealth-repo")
    home = tmp_path / "home"
    excel_setup(None, "darwin", "/usr/local/bin/python3", home)
    text = (home / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf").read_text()
    assert '"PYTHONPATH","/src/xlhealth-repo"' in text


def test_needs_pythonpath_asks_the_interpreter_itself():
    import sys

    assert REAL_NEEDS_PYTHONPATH(sys.executable) is None  # this venv has xlhealth installed


def test_book_setup_writes_the_block_and_keeps_vba_ribbon_and_button(tmp_path, monkeypatch):
    book = build_workbook(tmp_path / "HealthScore.xlsm")
    python = fake_windows_python(tmp_path)
    monkeypatch.setattr(es, "needs_pythonpath", lambda p: r"C:\src\xlhealth")
    with zipfile.ZipFile(book) as z:
        before = {n: z.read(n) for n in z.namelist()}
    excel_setup(book, "win32", str(python))
    block = read_book_conf(book)
    assert [(k, v) for k, v, _ in block] == [
        ("UDF Modules", "xlhealth.excel.udfs"),
        ("Show Console", "False"),
        ("Interpreter_Win", str(python.with_name("pythonw.exe"))),
        ("PYTHONPATH", r"C:\src\xlhealth"),
    ]
    with zipfile.ZipFile(book) as z:
        after = {n: z.read(n) for n in z.namelist()}
    for part in ("xl/vbaProject.bin", "customUI/customUI14.xml", "xl/drawings/xlhealth_start.xml"):
        assert after[part] == before[part], part
    excel_setup(book, "win32", str(python))  # again: updated in place, not repeated
    assert len(read_book_conf(book)) == 4


def test_book_setup_points_an_older_book_at_the_moved_worksheet_functions(tmp_path):
    """Books built before the layering name ``xlhealth.udfs``; excel-setup BOOK repoints them."""
    book = build_workbook(tmp_path / "HealthScore.xlsm")
    es.write_book_conf(book, {})
    old_name = "xlhealth.udfs"
    rows = [(k, old_name if k == "UDF Modules" else v, n) for k, v, n in read_book_conf(book)]
    from xlhealth.excel.build import conf_sheet
    from xlhealth.xlsx.package import Package

    with Package(book) as package:
        package.set_sheet(es.CONF_SHEET, conf_sheet(package, rows))
        package.save(tmp_path / "old.xlsm")
    old = tmp_path / "old.xlsm"
    assert dict((k, v) for k, v, _ in read_book_conf(old))["UDF Modules"] == "xlhealth.udfs"
    excel_setup(old, "win32", str(fake_windows_python(tmp_path)))
    assert dict((k, v) for k, v, _ in read_book_conf(old))["UDF Modules"] == "xlhealth.excel.udfs"


def test_cli_excel_setup_on_linux_says_where_to_run_it(tmp_path):
    code, out = cli("excel-setup", str(tmp_path / "x.xlsm"))
    assert code == 1 and "Windows or macOS" in out and "Traceback" not in out


def test_cli_excel_setup_book(tmp_path, monkeypatch):
    book = tmp_path / "HealthScore.xlsm"
    shutil.copy(COMMITTED, book)
    monkeypatch.setattr(es, "settings_for", lambda *a: {"INTERPRETER_MAC": "/opt/py"})
    code, out = cli("excel-setup", str(book))
    assert code == 0 and "INTERPRETER_MAC = /opt/py" in out
    assert ("Interpreter_Mac", "/opt/py") in [(k, v) for k, v, _ in read_book_conf(book)]


JAPANESE_PYTHON = "C:\\Users\\山田\\venv\\Scripts\\pythonw.exe"


def test_user_config_is_written_in_the_code_page_xlwings_reads(tmp_path, monkeypatch):
    """Issue 22.4: xlwings' VBA reads xlwings.conf with Open … For Input, in the ANSI code
    page: a Japanese user name written as UTF-8 would read as garbage."""
    monkeypatch.setattr(es, "conf_encoding", lambda: "cp932")
    conf = tmp_path / "xlwings.conf"
    es.write_user_config(conf, {"INTERPRETER_WIN": JAPANESE_PYTHON})
    data = conf.read_bytes()
    assert data.decode("cp932") == f'"INTERPRETER_WIN","{JAPANESE_PYTHON}"\n'
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    # written again: read back in the code page, the other keys kept
    es.write_user_config(conf, {"SHOW CONSOLE": "True"})
    assert conf.read_bytes().decode("cp932").splitlines() == [
        f'"INTERPRETER_WIN","{JAPANESE_PYTHON}"',
        '"SHOW CONSOLE","True"',
    ]


def test_a_utf8_config_from_before_is_read_and_rewritten_in_the_code_page(tmp_path, monkeypatch):
    monkeypatch.setattr(es, "conf_encoding", lambda: "cp932")
    conf = tmp_path / "xlwings.conf"
    conf.write_bytes('"PYTHONPATH","C:\\\\プロジェクト"\n"INTERPRETER_WIN","python"\n'.encode())
    es.write_user_config(conf, {"INTERPRETER_WIN": JAPANESE_PYTHON})
    assert conf.read_bytes().decode("cp932").splitlines() == [
        '"PYTHONPATH","C:\\\\プロジェクト"',
        f'"INTERPRETER_WIN","{JAPANESE_PYTHON}"',
    ]


def test_a_path_the_code_page_cannot_hold_is_refused_in_words(tmp_path, monkeypatch):
    monkeypatch.setattr(es, "conf_encoding", lambda: "cp1252")
    python = tmp_path / "山田" / "Scripts" / "python.exe"
    python.parent.mkdir(parents=True)
    for name in ("python.exe", "pythonw.exe"):
        (python.parent / name).write_text("")
    home = tmp_path / "home"
    with pytest.raises(es.SetupError) as refused:
        excel_setup(None, "win32", str(python), home)
    message = str(refused.value)
    assert "INTERPRETER_WIN" in message and "'山田'" in message and "cp1252" in message
    assert not (home / ".xlwings" / "xlwings.conf").exists()  # nothing half-written
