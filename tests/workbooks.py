"""Helpers for workbook tests: build books through the CLI, read sheets back, run LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from xlhealth.book.read import read_workbook
from xlhealth.cli import main


def cli(*args: str) -> tuple[int, str]:
    """Run ``xlhealth ARGS``; (exit code, stdout + stderr)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def sheet_frame(path: Path, sheet: str) -> pd.DataFrame:
    wb = read_workbook(path, aliases={sheet: sheet})
    return wb.sheets[sheet].frame.drop(columns="_row")


def cell_values(path: Path, sheets: list[str]) -> dict[str, list[tuple]]:
    """Every cell value of ``sheets`` as openpyxl sees them (for before/after comparisons)."""
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {
        name: [tuple(c for c in row) for row in wb[name].iter_rows(values_only=True)]
        for name in sheets
        if name in wb.sheetnames
    }
    wb.close()
    return out


def part_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.fail(
            "LibreOffice is NOT installed (no soffice on PATH): these tests open the "
            "workbooks in a real spreadsheet application. Install it (scripts/test does "
            "on Debian/Ubuntu: apt-get install libreoffice-calc-nogui) or deselect "
            "them with -m 'not libreoffice'."
        )
    return exe


def libreoffice_roundtrip(path: Path, out_dir: Path) -> Path:
    """Open ``path`` in LibreOffice headless and save it again as .xlsx; the saved copy."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "lo-profile"
    subprocess.run(
        [
            soffice(),
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out_dir),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    converted = out_dir / (path.stem + ".xlsx")
    assert converted.exists(), f"LibreOffice did not convert {path.name}"
    return converted


RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def libreoffice_recalculated(path: Path, out_dir: Path) -> Path:
    """``path`` opened in LibreOffice with every formula recalculated on load (not the
    cached values refresh wrote), saved again as .xlsx: what a person on LibreOffice, or
    Excel after a change, sees."""
    out_dir.mkdir(parents=True, exist_ok=True)
    user = out_dir / "lo-profile" / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    return libreoffice_roundtrip(path, out_dir)
