"""Render chosen sheets of a workbook to PNG with LibreOffice, to look at them as a user would.

    python scripts/render.py BOOK.xlsx Summary Checks -o out/   # out/BOOK-Summary-1.png ...

Each sheet is rendered alone: a temporary copy hides the other sheets, LibreOffice
converts it to PDF (soffice --headless --convert-to pdf), pdftoppm makes PNGs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlhealth.xlsx.package import Package


def hide_others(source: Path, keep: str, target: Path) -> None:
    with Package(source) as package:
        xml = package.workbook_xml

        def mark(match: re.Match) -> str:
            tag = match.group(0)
            tag = re.sub(r'\sstate="[^"]*"', "", tag)
            if f'name="{keep}"' in tag:
                return tag
            return tag.replace("<sheet ", '<sheet state="hidden" ', 1).replace(
                "<x:sheet ", '<x:sheet state="hidden" ', 1
            )

        xml = re.sub(r"<(?:\w+:)?sheet\s[^>]*/>", mark, xml)
        # the visible sheet must be the active tab
        names = re.findall(r'<(?:\w+:)?sheet\s[^>]*name="([^"]+)"', xml)
        xml = re.sub(r'activeTab="\d+"', f'activeTab="{names.index(keep)}"', xml)
        xml = re.sub(r'firstSheet="\d+"', f'firstSheet="{names.index(keep)}"', xml)
        package.workbook_xml = xml
        package.save(target)


def render(
    book: Path,
    sheets: list[str],
    out: Path,
    pages: int = 2,
    dpi: int = 70,
    crop_w: int = 0,
    crop_h: int = 0,
) -> list[Path]:
    if shutil.which("soffice") is None or shutil.which("pdftoppm") is None:
        raise SystemExit("render needs LibreOffice (soffice) and poppler-utils (pdftoppm)")
    out.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        for sheet in sheets:
            copy = Path(tmp) / f"{book.stem}-{sheet}{book.suffix}"
            hide_others(book, sheet, copy)
            subprocess.run(
                ["soffice", "--headless", "--convert-to", "pdf", "--outdir", tmp, str(copy)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            pdf = copy.with_suffix(".pdf")
            prefix = out / f"{book.stem}-{sheet}"
            crop = ["-x", "0", "-y", "0", "-W", str(crop_w), "-H", str(crop_h)] if crop_w else []
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(dpi),
                    "-l",
                    str(pages),
                    *crop,
                    str(pdf),
                    str(prefix),
                ],
                check=True,
            )
            made += sorted(out.glob(f"{book.stem}-{sheet}*.png"))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path)
    parser.add_argument("sheets", nargs="+")
    parser.add_argument("-o", "--out", type=Path, default=Path("out"))
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--dpi", type=int, default=70)
    parser.add_argument(
        "--crop",
        type=int,
        nargs=2,
        default=(0, 0),
        metavar=("W", "H"),
        help="keep only the top-left W×H pixels of each page",
    )
    args = parser.parse_args()
    for png in render(args.book, args.sheets, args.out, args.pages, args.dpi, *args.crop):
        print(png)


if __name__ == "__main__":
    main()
