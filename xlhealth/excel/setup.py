"""``xlhealth excel-setup [BOOK]``: tell xlwings in Excel which Python has xlhealth.

The workbook ships without an interpreter on its ``xlwings.conf`` sheet, so the
user's own xlwings config applies (xlwings' defaults otherwise: a bare ``python``,
which on a Mac is Apple's stub without xlhealth and on Windows needs Python and
the xlwings DLL on PATH, which a virtual environment never gives).

* Without BOOK: what ``xlwings config create`` does, but updating an existing
  file: ``INTERPRETER_WIN`` (``pythonw.exe`` beside the running Python) or
  ``INTERPRETER_MAC`` (the running Python), and ``PYTHONPATH`` where xlhealth is
  not importable without it, in ``~/.xlwings/xlwings.conf`` (Windows) or
  ``~/Library/Containers/com.microsoft.Excel/Data/xlwings.conf`` (Mac).
* With BOOK: the same keys on the book's ``xlwings.conf`` sheet (inside the block
  xlwings reads), for a book that must use one Python whatever the user's config.
"""

from __future__ import annotations

import csv
import io
import locale
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import xlwings

CONF_SHEET = "xlwings.conf"
WINDOWS, MAC = "win32", "darwin"


class SetupError(Exception):
    """A one-line reason excel-setup cannot do its job."""


@dataclass
class Setup:
    settings: dict[str, str]
    target: Path
    notes: list[str] = field(default_factory=list)


def interpreter(platform: str = sys.platform, executable: str = sys.executable) -> str:
    """The Python Excel should start: pythonw.exe beside python.exe on Windows (no console)."""
    path = Path(executable)
    if platform == WINDOWS:
        quiet = path.with_name("pythonw.exe")
        return str(quiet if quiet.exists() else path)
    return str(path)


def needs_pythonpath(python: str) -> str | None:
    """The folder to put on PYTHONPATH if ``python`` cannot import xlhealth on its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", "import xlhealth, xlwings"],
        cwd=Path.home(),
        env=env,
        capture_output=True,
        timeout=60,
    )
    if result.returncode == 0:
        return None
    import xlhealth

    return str(Path(xlhealth.__file__).resolve().parents[1])


def settings_for(platform: str = sys.platform, executable: str = sys.executable) -> dict[str, str]:
    if platform not in (WINDOWS, MAC):
        raise SetupError(
            "excel-setup configures Excel on Windows or macOS: run it there, with the Python "
            "that has xlhealth installed"
        )
    python = interpreter(platform, executable)
    key = "INTERPRETER_WIN" if platform == WINDOWS else "INTERPRETER_MAC"
    settings = {key: python}
    extra = needs_pythonpath(python)
    if extra:
        settings["PYTHONPATH"] = extra
    return settings


def user_config_file(platform: str = sys.platform, home: Path | None = None) -> Path:
    """Where xlwings' VBA reads the user's config (its GetConfigFilePath)."""
    home = home or Path.home()
    if platform == MAC:
        return home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
    return home / ".xlwings" / "xlwings.conf"


def conf_encoding() -> str:
    """The encoding xlwings' VBA reads xlwings.conf in: ``Open … For Input`` uses the ANSI
    code page (cp1252, cp932 …), which is what ``xlwings config create`` writes with."""
    return locale.getpreferredencoding(False)


def read_user_config(path: Path, encoding: str | None = None) -> list[list[str]]:
    """The rows of an xlwings.conf file, written in the code page or (by xlhealth before
    0.9, or by hand) in UTF-8: both are read."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # code-page text with non-ASCII is rarely UTF-8
    except UnicodeDecodeError:
        text = data.decode(encoding or conf_encoding(), errors="replace")
    return [r for r in csv.reader(io.StringIO(text)) if r]


def write_user_config(path: Path, settings: dict[str, str], encoding: str | None = None) -> None:
    """Set ``settings`` in an xlwings.conf file ("KEY","VALUE" lines), keeping other keys,
    in the code page xlwings' VBA reads it in (:func:`conf_encoding`). A value that code
    page cannot hold is refused: xlwings would read it garbled ("Could not find
    Interpreter!")."""
    encoding = encoding or conf_encoding()
    rows = read_user_config(path, encoding) if path.exists() else []
    wanted = {k.upper(): (k, v) for k, v in settings.items()}
    out = []
    for row in rows:
        if row[0].upper() in wanted:
            key, value = wanted.pop(row[0].upper())
            out.append([key, value])
        else:
            out.append(row)
    out += [[k, v] for k, v in wanted.values()]
    for key, *values in out:
        value = ",".join(values)
        try:
            value.encode(encoding)
        except UnicodeEncodeError as error:
            bad = value[error.start : error.end]
            raise SetupError(
                f"{key} = {value}: '{bad}' cannot be written in {encoding}, the code page "
                "Excel's xlwings reads its settings in, so Excel could not find Python. "
                "Install Python (or the virtual environment) in a folder whose path has only "
                "characters of that code page (e.g. C:\\Python\\xlhealth), then run "
                "xlhealth excel-setup again."
            ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(",".join(f'"{c}"' for c in row) + "\n" for row in out)
    path.write_bytes(text.encode(encoding))


def read_book_conf(book: Path) -> list[tuple[str, str, str]]:
    """The block xlwings reads from the book's xlwings.conf sheet: A1 down to the first blank."""
    import python_calamine

    wb = python_calamine.CalamineWorkbook.from_path(str(book))
    if CONF_SHEET not in wb.sheet_names:
        return []
    rows = wb.get_sheet_by_name(CONF_SHEET).to_python(skip_empty_area=False)
    block = []
    for row in rows:
        cells = [("" if c is None else str(c)) for c in [*row, "", "", ""]][:3]
        if not cells[0].strip():
            break
        block.append((cells[0], cells[1], cells[2]))
    return block


OLD_MODULES = ("xlhealth.udfs",)  # where the worksheet functions lived before


def write_book_conf(book: Path, settings: dict[str, str]) -> None:
    """Put ``settings`` into the book's xlwings.conf block (VBA, ribbon and button kept)."""
    from xlhealth.excel.build import CONF_NOTES, conf_sheet
    from xlhealth.excel.udfs import MODULE
    from xlhealth.xlsx.package import Package

    names = {"INTERPRETER_WIN": "Interpreter_Win", "INTERPRETER_MAC": "Interpreter_Mac"}
    stale = {"UDF MODULES": OLD_MODULES}  # a book built before the functions moved
    rows = [
        (k, MODULE, n) if v.strip() in stale.get(k.strip().upper(), ()) else (k, v, n)
        for k, v, n in read_book_conf(book)
    ]
    for key, value in settings.items():
        shown = names.get(key, key)
        note = CONF_NOTES.get(shown, "")
        for i, (k, _, n) in enumerate(rows):
            if k.strip().upper() == key:
                rows[i] = (k, value, n or note)
                break
        else:
            rows.append((shown, value, note))
    staged = book.with_name(f".{book.name}.setup")
    try:
        with Package(book) as package:
            package.set_sheet(CONF_SHEET, conf_sheet(package, rows))
            package.save(staged)
        os.replace(staged, book)
    finally:
        staged.unlink(missing_ok=True)


def excel_setup(
    book: Path | None = None,
    platform: str = sys.platform,
    executable: str = sys.executable,
    home: Path | None = None,
) -> Setup:
    settings = settings_for(platform, executable)
    if book is not None:
        if not book.exists():
            raise SetupError(f"no workbook {book}")
        write_book_conf(book, settings)
        setup = Setup(settings, book)
    else:
        target = user_config_file(platform, home)
        write_user_config(target, settings)
        setup = Setup(settings, target)
        setup.notes.append(
            "A workbook whose xlwings.conf sheet names an interpreter uses that one instead "
            "(HealthScore.xlsm names none)."
        )
    python = settings.get("INTERPRETER_WIN") or settings.get("INTERPRETER_MAC", "")
    if platform == WINDOWS:
        dll = f"xlwings64-{xlwings.__version__}.dll"
        folders = [Path(python).parent, Path(python).parent.parent]
        if not any((f / dll).exists() for f in folders):
            setup.notes.append(
                f"{dll} is not beside {python} or in its parent folder: the worksheet "
                f"functions need it (reinstall with: pip install xlwings=={xlwings.__version__})."
            )
    if platform == MAC:
        script = (
            (home or Path.home())
            / "Library/Application Scripts/com.microsoft.Excel"
            / f"xlwings-{xlwings.__version__}.applescript"
        )
        if not script.exists():
            setup.notes.append("Run `xlwings runpython install` once, so Excel can call Python.")
    return setup
