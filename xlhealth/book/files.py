"""The workbook file as the front ends find it: refuse one Excel holds open or that cannot
be written, and make file names every OS accepts.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from xlhealth.core.problems import RefreshError


def lock_file(path: Path) -> Path | None:
    """Excel's owner file (``~$NAME``) beside the workbook, if Excel has it open."""
    for name in (f"~${path.name}", f"~${path.name[2:]}"):
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    return None


def ensure_writable(path: Path) -> None:
    if not path.exists():
        raise RefreshError(f"{path} does not exist; create one with: xlhealth new {path.name}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise RefreshError(f"{path.name} is not an .xlsx or .xlsm workbook")
    lock = lock_file(path)
    if lock is not None:
        raise RefreshError(
            f"{path.name} is open in Excel ({lock.name} exists); close it in "
            "Excel and run the refresh again"
        )
    read_only = not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if read_only or not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise RefreshError(
            f"{path.name} is read-only (or its folder is); make it writable or "
            "copy it to a folder you can write to"
        )


def safe_name(text: str, limit: int = 80) -> str:
    """A file name every OS accepts: no <>:"/\\|?* or control characters; Japanese kept."""
    text = unicodedata.normalize("NFC", str(text))
    text = re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", text).strip(" .")
    return (text or "_")[:limit]
