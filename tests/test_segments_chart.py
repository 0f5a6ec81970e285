"""The health × maturity chart on Segments: the maturity article's 2×2 matrix.

One scatter series per tier in the tier's colour, the two threshold lines at the
Settings values, the four quadrant names in the corners (en/ja), and the customers
without a CMI counted beside the chart. The chart reads only cells of Segments, and
LibreOffice draws it (the labels are in the PDF it prints).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import posixpath
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import range_boundaries

from tests.workbooks import cli, sheet_frame, soffice
from xlhealth.core.model import Model
from xlhealth.refresh import check
from xlhealth.sheets.outputs import OutputWriter
from xlhealth.xlsx.package import Package, parse_rels

NS = {
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}
ROOT = Path(__file__).resolve().parents[1]
NOTE = {
    "en": r"Not on the chart: ([\d,]+) customers?",
    "ja": r"チャート外: 成熟度未評価 ([\d,]+) 社",
}
AXES = {
    "en": ("Customer Maturity Index (CMI)", "Health score"),
    "ja": ("顧客成熟度指数 (CMI)", "ヘルススコア"),
}
# (health, maturity) of each corner: the chart's top-left, top-right, bottom-left, bottom-right
CORNERS = {
    ("high", "low"): ("left", "top"),
    ("high", "high"): ("right", "top"),
    ("low", "low"): ("left", "bottom"),
    ("low", "high"): ("right", "bottom"),
}


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("segments")
    out = {}
    for lang in ("en", "ja"):
        path = root / f"demo-{lang}.xlsx"
        code, text = cli("demo", "--customers", "120", "--lang", lang, "-o", str(path))
        assert code == 0, text
        out[lang] = path
    return out


# ---------------------------------------------------------------------- helpers


def _rels_of(package: Package, part: str) -> list:
    folder, name = posixpath.split(part)
    return parse_rels(package.read(posixpath.join(folder, "_rels", name + ".rels")))


def segments_charts(path: Path) -> tuple[dict[str, ET.Element], ET.Element]:
    """The charts the Segments sheet's drawing shows (by kind), and that drawing."""
    with Package(path) as package:
        sheet = package.sheet_part("Segments")
        drawing_rel = next(r for r in _rels_of(package, sheet) if r.type.endswith("/drawing"))
        drawing = posixpath.normpath(posixpath.join(posixpath.dirname(sheet), drawing_rel.target))
        charts = {}
        for rel in _rels_of(package, drawing):
            part = posixpath.normpath(posixpath.join(posixpath.dirname(drawing), rel.target))
            root = ET.fromstring(package.read(part))
            kind = "matrix" if root.find(".//c:scatterChart", NS) is not None else "bar"
            charts[kind] = root
        return charts, ET.fromstring(package.read(drawing))


def matrix_chart(path: Path) -> ET.Element:
    return segments_charts(path)[0]["matrix"]


def series(chart: ET.Element) -> list[ET.Element]:
    return chart.findall(".//c:scatterChart/c:ser", NS)


def name_of(ser: ET.Element) -> str:
    return "".join(t.text or "" for t in ser.findall("c:tx//c:v", NS))


def cached(ser: ET.Element, axis: str) -> list[float]:
    return [float(v.text) for v in ser.findall(f"c:{axis}Val//c:pt/c:v", NS)]


def cached_points(ser: ET.Element) -> list[tuple[float, float]]:
    """The (x, y) pairs the chart's cache draws: a point missing on either axis is not drawn
    (a live book caches #N/A for the rows of other tiers)."""

    def by_index(axis: str) -> dict[int, float]:
        pts = ser.findall(f"c:{axis}Val//c:pt", NS)
        return {int(p.get("idx")): float(p.find("c:v", NS).text) for p in pts}

    xs, ys = by_index("x"), by_index("y")
    return [(xs[i], ys[i]) for i in sorted(xs.keys() & ys.keys())]


def is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def ref(ser: ET.Element, axis: str) -> str:
    return ser.find(f"c:{axis}Val/c:numRef/c:f", NS).text


def cells(path: Path, reference: str) -> list:
    """Values of a one-column range like 'Segments'!$C$10:$C$20 (openpyxl: as saved, a
    formula's cached value)."""
    sheet, _, area = reference.rpartition("!")
    assert sheet == "'Segments'", reference
    c1, r1, c2, r2 = range_boundaries(area.replace("$", ""))
    assert c1 == c2, reference
    ws = openpyxl.load_workbook(path, read_only=True, data_only=True)["Segments"]
    return [
        row[0]
        for row in ws.iter_rows(min_row=r1, max_row=r2, min_col=c1, max_col=c1, values_only=True)
    ]


def is_line(ser: ET.Element) -> bool:
    return ser.find("c:spPr/a:ln/a:prstDash", NS) is not None


def corner_labels(chart: ET.Element) -> tuple[ET.Element, list[str]]:
    ser = next(s for s in series(chart) if s.find("c:dLbls/c:dLbl", NS) is not None)
    texts = [
        "".join(t.text for t in d.findall("c:tx/c:rich//a:t", NS))
        for d in ser.findall("c:dLbls/c:dLbl", NS)
    ]
    return ser, texts


def deleted_legend_entries(chart: ET.Element) -> set[int]:
    return {
        int(e.find("c:idx", NS).get("val"))
        for e in chart.findall("c:chart/c:legend/c:legendEntry", NS)
        if e.find("c:delete", NS).get("val") == "1"
    }


def model_of(path: Path) -> Model:
    result, _ = check(path, as_of=dt.date.today())
    return result.model


def set_settings(path: Path, **values: float) -> None:
    wb = openpyxl.load_workbook(path)
    for row in wb["Settings"].iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    wb.save(path)


def off_chart_note(path: Path, lang: str) -> tuple[int, int]:
    """(row, count) of the 'not on the chart' line on Segments."""
    ws = openpyxl.load_workbook(path, read_only=True)["Segments"]
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and (m := re.match(NOTE[lang], c.value)):
                return c.row, int(m.group(1).replace(",", ""))
    raise AssertionError("no 'not on the chart' line on Segments")


def assert_corners(chart: ET.Element, model: Model, lang: str) -> list[str]:
    """The four quadrant names, each in its own quadrant's corner; the names."""
    ser, texts = corner_labels(chart)
    expected = {model.matrix[key].text("quadrant", lang): key for key in CORNERS}
    assert sorted(texts) == sorted(expected)
    # the helper points carrying the names are invisible and out of the legend
    assert ser.find("c:marker/c:symbol", NS).get("val") == "none"
    assert ser.find("c:spPr/a:ln/a:noFill", NS) is not None
    assert int(ser.find("c:idx", NS).get("val")) in deleted_legend_entries(chart)
    h, m = model.settings.health_high_min, model.settings.maturity_high_min
    for text, x, y in zip(texts, cached(ser, "x"), cached(ser, "y"), strict=True):
        side, edge = CORNERS[expected[text]]
        assert (x < m and x < 1.5) if side == "left" else (x >= m and x > 4.5), text
        assert (y >= h and y > 90) if edge == "top" else (y < h and y < 10), text
    return texts


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_segments_matrix_has_one_series_per_tier_in_the_tier_colour(books, lang):
    path = books[lang]
    model = model_of(path)
    chart = matrix_chart(path)
    tiers = sorted(model.tiers, key=lambda t: -t.tier)
    points = [s for s in series(chart) if s.find("c:marker/c:symbol", NS).get("val") != "none"]
    assert [name_of(s) for s in points] == [f"{t.tier} {t.text(lang)}" for t in tiers]
    colours = [s.find("c:marker/c:spPr/a:solidFill/a:srgbClr", NS).get("val") for s in points]
    assert colours == [t.color.lstrip("#").upper() for t in tiers]
    # every formula of the chart reads Segments itself (the in-Excel refresh copies it whole)
    formulas = [f.text for f in chart.findall(".//c:f", NS)]
    assert formulas and all(f.startswith("'Segments'!") for f in formulas)

    summary = sheet_frame(path, "Summary")
    score = pd.to_numeric(summary["score"], errors="coerce")
    cmi = pd.to_numeric(summary["cmi"], errors="coerce")
    tier = pd.to_numeric(summary["tier"], errors="coerce")
    plotted = 0
    for t, ser in zip(tiers, points, strict=True):
        mine = score.notna() & cmi.notna() & (tier == t.tier)
        expected = sorted(zip(cmi[mine].round(6), score[mine].round(6), strict=True))
        xs, ys = cells(path, ref(ser, "x")), cells(path, ref(ser, "y"))
        drawn = sorted(  # a chart skips a point whose x or y is not a number (#N/A)
            (round(x, 6), round(y, 6))
            for x, y in zip(xs, ys, strict=True)
            if is_number(x) and is_number(y)
        )
        assert drawn == expected, t.tier
        cache = cached_points(ser)
        assert sorted((round(x, 6), round(y, 6)) for x, y in cache) == expected, t.tier
        plotted += len(drawn)
    assert plotted == int((score.notna() & cmi.notna()).sum()) > 0
    # axes: CMI 1–5 across, score 0–100 up, titled in the book's language
    axes = chart.findall(".//c:plotArea/c:valAx", NS)
    bounds = [
        (
            float(a.find("c:scaling/c:min", NS).get("val")),
            float(a.find("c:scaling/c:max", NS).get("val")),
        )
        for a in axes
    ]
    assert bounds == [(1, 5), (0, 100)]
    titles = tuple("".join(t.text for t in a.findall("c:title//a:t", NS)) for a in axes)
    assert titles == AXES[lang]


def test_segments_matrix_threshold_lines_move_with_settings(books, tmp_path):
    def lines(path: Path) -> list[tuple[list[float], list[float]]]:
        chart = matrix_chart(path)
        found = [s for s in series(chart) if is_line(s)]
        assert len(found) == 2
        for s in found:  # grey dashed lines without markers, not in the legend
            assert s.find("c:marker/c:symbol", NS).get("val") == "none"
            assert int(s.find("c:idx", NS).get("val")) in deleted_legend_entries(chart)
            # the cells hold what the cache says
            assert cells(path, ref(s, "x")) == pytest.approx(cached(s, "x"))
            assert cells(path, ref(s, "y")) == pytest.approx(cached(s, "y"))
        return [(cached(s, "x"), cached(s, "y")) for s in found]

    assert lines(books["en"]) == [([3, 3], [0, 100]), ([1, 5], [60, 60])]

    moved = tmp_path / "moved.xlsx"
    shutil.copy(books["en"], moved)
    set_settings(moved, health_high_min=72.5, maturity_high_min=2.4)
    code, out = cli("refresh", str(moved))
    assert code == 0, out
    assert lines(moved) == [([2.4, 2.4], [0, 100]), ([1, 5], [72.5, 72.5])]
    # the quadrant names stay in their corners, on the right side of the moved lines
    model = model_of(moved)
    assert_corners(matrix_chart(moved), model, "en")
    # and Summary's quadrants follow the same thresholds
    summary = sheet_frame(moved, "Summary")
    assert model.settings.health_high_min == 72.5 and model.settings.maturity_high_min == 2.4
    score = pd.to_numeric(summary["score"], errors="coerce")
    cmi = pd.to_numeric(summary["cmi"], errors="coerce")
    high_high = (score >= 72.5) & (cmi >= 2.4)
    assert set(summary.loc[high_high, "quadrant"]) <= {model.matrix[("high", "high")].quadrant}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_segments_matrix_names_the_four_quadrants_in_their_corners(books, lang):
    path = books[lang]
    model = model_of(path)
    chart = matrix_chart(path)
    texts = assert_corners(chart, model, lang)
    if lang == "en":
        assert set(texts) == {"Let go", "Fix health", "Maintain & consult", "Expand & co-create"}
    else:
        assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t) for t in texts)
    # the legend keeps exactly the tiers
    assert len(series(chart)) - len(deleted_legend_entries(chart)) == len(model.tiers)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_segments_counts_customers_without_cmi_beside_the_matrix(books, lang):
    path = books[lang]
    summary = sheet_frame(path, "Summary")
    blank_cmi = int(pd.to_numeric(summary["cmi"], errors="coerce").isna().sum())
    assert blank_cmi > 0  # the demo leaves some customers unassessed
    row, count = off_chart_note(path, lang)
    assert count == blank_cmi
    # the line is just above the matrix (the chart's top-left anchor is the next row)
    _, drawing = segments_charts(path)
    anchors = drawing.findall("xdr:twoCellAnchor", NS)
    tops = [int(a.find("xdr:from/xdr:row", NS).text) for a in anchors]
    assert row in tops  # a 0-based anchor row equal to the note's 1-based row: the next row


def test_segments_counts_customers_without_a_score_too(books):
    path = books["en"]
    result, _ = check(path, as_of=dt.date.today())
    summary = result.summary.copy()
    unscored = summary.index[:3]
    summary.loc[unscored, "score"] = np.nan
    summary.loc[summary.index[3:5], "cmi"] = np.nan
    result = dataclasses.replace(result, summary=summary)
    with Package(path) as package:
        sheet = OutputWriter(result, package.styles, package.date1904).segments()
    xml = sheet.xml.decode()
    no_cmi = int(summary["cmi"].isna().sum())
    assert f"Not on the chart: {no_cmi} customers without a maturity assessment (CMI); " in xml
    assert "3 without a health score" in xml
    chart = next(
        ET.fromstring(data)
        for name, (data, _) in sheet.parts.items()
        if name.startswith("xl/charts/") and b"scatterChart" in data
    )
    drawn = sum(len(cached(s, "y")) for s in series(chart)[: len(result.model.tiers)])
    assert drawn == int((summary["score"].notna() & summary["cmi"].notna()).sum())


def _hide_other_sheets(book: Path, target: Path) -> None:
    spec = importlib.util.spec_from_file_location("render", ROOT / "scripts" / "render.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    render.hide_others(book, "Segments", target)


@pytest.mark.libreoffice
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_libreoffice_prints_the_segments_matrix(books, lang, tmp_path):
    exe = soffice()
    book = tmp_path / f"segments-{lang}.xlsx"
    _hide_other_sheets(books[lang], book)
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(book),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    pdf = book.with_suffix(".pdf")
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) missing: cannot look for the labels in the PDF")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    model = model_of(books[lang])
    # each quadrant name is printed twice: as the chart's corner label and in its helper cell
    for key in CORNERS:
        name = model.matrix[key].text("quadrant", lang)
        assert text.count(name) >= 2, name
    for axis in AXES[lang]:
        assert axis in text
    assert re.search(NOTE[lang], text)
