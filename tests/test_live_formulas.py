"""Summary's scores are live: classic formulas over Values and the book's config sheets.

What must hold: every formula uses functions of Excel 2010 and LibreOffice 7.4 only;
every formula cell carries what refresh computed; LibreOffice, recalculating everything,
gets exactly those numbers; and after a manager tunes the model in the book (weights,
when_missing, tier thresholds, band points and edges, the order of the Rules rows),
LibreOffice's recalculation equals what a refresh of the tuned book writes.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import zipfile

import pytest
import python_calamine

from tests.workbooks import libreoffice_recalculated
from xlhealth.demo import data as demo_data
from xlhealth.refresh import refresh
from xlhealth.sheets.formulas import FUNCTIONS, functions_in
from xlhealth.sheets.template import new_workbook
from xlhealth.sheets.values import LIVE_COLUMNS
from xlhealth.xlsx.cells import set_values
from xlhealth.xlsx.package import Package

FORMULA = re.compile(r"<f(?: [^>]*)?>([^<]*)</f>")  # a formula's text (shared: its first cell)
FORMULA_CELL = re.compile(r"<f[ >/]")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "book.xlsx"
    new_workbook(path, inputs=demo_data.generate(60))
    # a month earlier first: History then holds the previous tiers tier_hysteresis keeps
    refresh(path, as_of=demo_data.AS_OF - dt.timedelta(days=28), backup=False)
    refresh(path, as_of=demo_data.AS_OF, backup=False)
    return path


def grid(path, sheet: str) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(sheet).to_python()


def formulas(path, sheet: str) -> tuple[list[str], int]:
    """The formula texts of a sheet, and how many cells hold a formula."""
    with Package(path) as p:
        xml = p.read(p.sheet_part(sheet)).decode("utf-8")
    texts = [f.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
             for f in FORMULA.findall(xml)]  # fmt: skip
    return texts, len(FORMULA_CELL.findall(xml))


def by_customer(rows: list[list]) -> dict[str, dict[str, object]]:
    keys = rows[1]
    return {r[0]: dict(zip(keys, r, strict=False)) for r in rows[2:] if r[0]}


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-9
    return a == b


def test_every_formula_is_classic(book):
    found = {sheet: formulas(book, sheet) for sheet in ("Summary", "Values")}
    assert found["Summary"][1] >= 60 * 10 and found["Values"][1] > 60 * 10
    for sheet, (fs, _) in found.items():
        for f in fs:
            assert "_xlfn" not in f and "[" not in f, f  # nothing newer, no other workbook
            assert functions_in(f) <= FUNCTIONS, (sheet, functions_in(f) - FUNCTIONS, f)
            assert len(f) < 8192
            assert "VALUE(" not in f and "TEXT(" not in f  # numbers never through text


def test_functions_in_reads_names_outside_text():
    f = "IF(A1=\"SUM(x)\",INDEX('My (odd) sheet'!$A:$A,3),LOOKUP(2,1/(B1:B3=1),C1:C3))"
    assert functions_in(f) == {"IF", "INDEX", "LOOKUP"}


def test_each_live_cell_carries_what_refresh_computed(book):
    summary = by_customer(grid(book, "Summary"))
    history = grid(book, "History")
    latest = {r[1]: r for r in history[2:]}
    assert len(summary) == 60
    for cid, row in summary.items():
        assert same(row["score"], latest[cid][2]) or (row["score"] == "" and latest[cid][2] == "")
        assert row["tier"] == latest[cid][3] or (row["tier"] == "" and latest[cid][3] == "")
    tiers = {r[0]: r[2] for r in grid(book, "Tiers")[1:] if r[0] != ""}
    assert all(row["tier_label"] == tiers[row["tier"]] for row in summary.values() if row["tier"])


@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_live_cell_to_what_refresh_wrote(book, tmp_path):
    theirs = libreoffice_recalculated(book, tmp_path)
    for sheet in ("Values", "Summary", "Segments"):
        ours, recalculated = grid(book, sheet), grid(theirs, sheet)
        cells = [(i, j, a, b) for i, (ra, rb) in enumerate(zip(ours, recalculated, strict=True))
                 for j, (a, b) in enumerate(zip(ra, rb, strict=True))]  # fmt: skip
        differ = [c for c in cells if not same(c[2], c[3])]
        assert len(cells) > 1000 and differ == [], (sheet, differ[:5])


def table(path) -> list[list]:
    """Segments' table (to the first blank row): the points below the charts are values."""
    rows = grid(path, "Segments")
    start = next(i for i, r in enumerate(rows) if r and r[0] == "segment")
    end = next((i for i in range(start, len(rows)) if not any(rows[i])), len(rows))
    return rows[start + 1 : end]


def segment_keys(path) -> list[str]:
    rows = grid(path, "Segments")
    return next(r for r in rows if r and r[0] == "segment")


def tune(path, seed: int) -> dict[str, dict[str, object]]:
    """Random edits a manager could make to the model in the book (valid ones: refresh
    refuses a broken model)."""
    rng = random.Random(seed)
    metrics, rules, tiers = grid(path, "Metrics"), grid(path, "Rules"), grid(path, "Tiers")
    mcol = {k: chr(65 + i) for i, k in enumerate(metrics[0])}
    scored = {r[0] for r in rules[1:] if r[0]}
    edits: dict[str, dict[str, object]] = {"Metrics": {}, "Rules": {}, "Tiers": {}}
    for i, row in enumerate(metrics[1:], start=2):
        if row[0] in scored:
            edits["Metrics"][f"{mcol['weight']}{i}"] = float(rng.choice([0, 0.5, 1, 2, 3]))
            when = rng.choice(["skip", "zero", 2.5, "skip"])
            edits["Metrics"][f"{mcol['when_missing']}{i}"] = when
    # the Rules rows in another order, one band's points changed, one edge moved onto a value
    body = [r for r in rules[1:] if r[0]]
    rng.shuffle(body)
    k = rng.randrange(len(body))
    body[k] = [*body[k][:4], float(rng.randint(0, 10)), *body[k][5:]]
    values = by_customer(grid(path, "Values")[13:])
    numeric = [r for r in body if r[1] != "" and r[0] in scored]
    if numeric:
        band = rng.choice(numeric)
        name = band[0]
        seen = sorted({v[f"value.{name}"] for v in values.values()
                       if isinstance(v.get(f"value.{name}"), float)})  # fmt: skip
        lower = [r for r in body if r[0] == name and r[2] == band[1]]
        inside = [v for v in seen if (lower and (lower[0][1] == "" or v > lower[0][1]))
                  and (band[2] == "" or v < band[2])]  # fmt: skip
        if lower and inside:  # the edge between two bands, exactly on a customer's value
            edge = rng.choice(inside)
            lower[0][2] = edge
            band[1] = edge
    for i, row in enumerate(body, start=2):
        for j, v in enumerate(row[:7]):
            edits["Rules"][f"{chr(65 + j)}{i}"] = None if v == "" else v
    settings = grid(path, "Settings")
    at = next(i for i, r in enumerate(settings, start=1) if r and r[0] == "health_high_min")
    edits["Settings"] = {f"B{at}": float(rng.choice([45, 55, 65.5, 70]))}
    at = next(i for i, r in enumerate(settings, start=1) if r and r[0] == "tier_hysteresis")
    edits["Settings"][f"B{at}"] = float(rng.choice([0, 2.5, 5, 12]))
    mins = sorted(float(r[1]) for r in tiers[1:] if r[0] != "")
    shifted = sorted({m and m + rng.choice([-7, -3, 0, 4, 9]) for m in mins})  # tier 1: at 0
    if len(shifted) == len(mins):
        for i, row in enumerate(tiers[1:], start=2):
            if row[0] != "":
                edits["Tiers"][f"B{i}"] = shifted[int(row[0]) - 1]
    return edits


def apply(path, target, edits) -> None:
    with Package(path) as p:
        for sheet, cells in edits.items():
            if cells:
                part = p.sheet_part(sheet)
                p.set_part(part, set_values(p.read(part), cells, p.date1904))
        p.save(target)


@pytest.mark.libreoffice
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tuning_the_model_in_the_book_rescores_like_a_refresh(book, tmp_path, seed):
    tuned = tmp_path / "tuned.xlsx"
    apply(book, tuned, tune(book, seed))
    recalculated = libreoffice_recalculated(tuned, tmp_path / "lo")
    again = tmp_path / "again.xlsx"
    shutil.copy(tuned, again)
    refresh(again, as_of=demo_data.AS_OF, backup=False)
    live = by_customer(grid(recalculated, "Summary"))
    fresh = by_customer(grid(again, "Summary"))
    before = by_customer(grid(book, "Summary"))
    moved = sum(not same(before[c]["score"], fresh[c]["score"]) for c in fresh)
    assert moved > 10  # the tuning changed the scores, so the comparison means something
    differ = [(c, k, live[c][k], fresh[c][k]) for c in fresh for k in LIVE_COLUMNS
              if not same(live[c][k], fresh[c][k])]  # fmt: skip
    assert differ == []
    # Segments' counts, means, medians and tier mix follow (the tier chart reads them)
    # (but the mean change, which stays History's: against a snapshot of the old model)
    live_segments, fresh_segments = table(recalculated), table(again)
    assert len(live_segments) == len(fresh_segments) >= 4
    keys = segment_keys(again)
    pairs = zip(live_segments, fresh_segments, strict=True)
    differ = [(i, k, a, b) for i, (ra, rb) in enumerate(pairs)
              for k, a, b in zip(keys, ra, rb, strict=True)
              if k != "mean_change" and not same(a, b)]  # fmt: skip
    assert differ == []
    # and so does the health × maturity chart: each tier's points, and the threshold lines
    live_chart, fresh_chart = matrix_points(tuned, recalculated), matrix_points(again, again)
    assert live_chart == fresh_chart
    assert sum(len(p) for p in live_chart.values()) > 10
    moved_tier = sum(before[c]["tier"] != fresh[c]["tier"] for c in fresh if fresh[c]["cmi"] != "")
    assert moved_tier > 0  # some points changed colour


def matrix_points(book, values) -> dict[str, list[tuple[float, float]]]:
    """What the health × maturity chart of ``book`` draws, per series: the (x, y) cells its
    references hold in ``values`` (a file saved by LibreOffice names its charts its own way)
    where both are numbers (a chart skips #N/A)."""
    with zipfile.ZipFile(book) as z:
        name = next(n for n in z.namelist() if n.endswith("segments_scatter.xml"))
        xml = z.read(name).decode("utf-8")
    rows = grid(values, "Segments")

    def cells(ref: str) -> list:
        found = re.fullmatch(r"'Segments'!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)", ref)
        col, first, last = found.groups()
        j = sum((ord(ch) - 64) * 26**k for k, ch in enumerate(reversed(col))) - 1
        return [rows[i][j] if i < len(rows) and j < len(rows[i]) else ""
                for i in range(int(first) - 1, int(last))]  # fmt: skip

    out = {}
    for k, ser in enumerate(re.findall(r"<c:ser>.*?</c:ser>", xml)):
        x_ref, y_ref = re.findall(r"<c:f>([^<]*)</c:f>", ser)[-2:]
        pairs = zip(cells(x_ref.replace("&apos;", "'")), cells(y_ref.replace("&apos;", "'")),
                    strict=True)  # fmt: skip
        out[k] = sorted((round(x, 9), round(y, 9)) for x, y in pairs
                        if isinstance(x, float) and isinstance(y, float))  # fmt: skip
    return out


@pytest.mark.libreoffice
def test_segments_spelled_differently_count_together_in_refresh_and_formulas(tmp_path):
    """Excel's "=" ignores letter case and the formulas TRIM runs of spaces: refresh groups
    segments the same way (under the first spelling), so both count the same customers."""
    inputs = demo_data.generate(40)
    seg = inputs["Customers"]["segment"].astype(object).copy()
    seg.iloc[0:12:3] = seg.iloc[0:12:3].str.upper()
    seg.iloc[1:12:3] = "  " + seg.iloc[1:12:3].str.lower() + " "
    seg.iloc[2] = None
    seg.iloc[5] = "Mid  market"
    seg.iloc[8] = "mid market"
    inputs["Customers"] = inputs["Customers"].assign(segment=seg)
    path = tmp_path / "book.xlsx"
    new_workbook(path, inputs=inputs)
    refresh(path, as_of=demo_data.AS_OF, backup=False)
    ours = table(path)
    names = [r[0] for r in ours]
    assert len({n.lower() for n in names}) == len(names)  # one row per segment, any spelling
    assert "Mid market" in names and "mid market" not in names
    recalculated = table(libreoffice_recalculated(path, tmp_path / "lo"))
    differ = [(i, a, b) for i, (ra, rb) in enumerate(zip(ours, recalculated, strict=True))
              for a, b in zip(ra, rb, strict=True) if not same(a, b)]  # fmt: skip
    assert differ == []
    by_name = {r[0]: r[1] for r in ours}
    assert by_name[names[-1]] == 40 == sum(by_name[n] for n in names[:-1])


def test_exports_stay_values_only(book, tmp_path):
    from tests.workbooks import cli

    out = tmp_path / "exported"
    code, text = cli("export", str(book), "-o", str(out))
    assert code == 0, text
    files = sorted(out.glob("*.xlsx"))
    assert files
    for path in files:
        with zipfile.ZipFile(path) as z:
            sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
            assert not any(b"<f>" in z.read(n) for n in sheets), path.name
        assert "Values" not in python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names


@pytest.mark.libreoffice
def test_text_bands_typed_full_width_match_live_as_in_refresh(tmp_path):
    """Rules typed in full-width Japanese input mode (ＥＮＴＥＲＰＲＩＳＥ, Ｍｉｄ－ｍａｒｋｅｔ):
    refresh folds both sides; Values holds each value as its band is typed, so Excel's
    case-blind ``=`` finds the same band — and LibreOffice agrees after recalculating."""
    import pandas as pd

    from xlhealth.core.model import templates_dir

    model = templates_dir() / "model"
    metrics = pd.read_csv(model / "Metrics.csv", dtype=object)
    rules = pd.read_csv(model / "Rules.csv", dtype=object)
    fit = {"metric": "segment_fit", "group": "ROI", "source": "Customers", "column": "segment",
           "aggregate": "value", "weight": "2", "when_missing": "zero"}  # fmt: skip
    metrics = pd.concat([metrics, pd.DataFrame([fit])], ignore_index=True)
    rules = pd.concat([rules, pd.DataFrame([
        {"metric": "segment_fit", "value": "ＥＮＴＥＲＰＲＩＳＥ", "points": "10"},
        {"metric": "segment_fit", "value": "Ｍｉｄ－ｍａｒｋｅｔ", "points": "5"},
        {"metric": "segment_fit", "value": "smb", "points": "0"},
    ])], ignore_index=True)  # fmt: skip
    path = tmp_path / "book.xlsx"
    new_workbook(path, inputs=demo_data.generate(40), config={"Metrics": metrics, "Rules": rules})
    refresh(path, as_of=demo_data.AS_OF, backup=False)
    values = by_customer(grid(path, "Values")[13:])
    segments = by_customer(grid(path, "Customers")[0:1] + grid(path, "Customers"))
    points = {c: v["points.segment_fit"] for c, v in values.items()}
    expected = {"Enterprise": 10.0, "Mid-market": 5.0, "SMB": 0.0}
    assert {points[c] for c in points} == {10.0, 5.0, 0.0}
    assert all(points[c] == expected[segments[c]["segment"]] for c in points)
    theirs = libreoffice_recalculated(path, tmp_path / "lo")
    for sheet in ("Values", "Summary"):
        ours, recalculated = grid(path, sheet), grid(theirs, sheet)
        differ = [(i, a, b) for i, (ra, rb) in enumerate(zip(ours, recalculated, strict=True))
                  for a, b in zip(ra, rb, strict=True) if not same(a, b)]  # fmt: skip
        assert differ == [], (sheet, differ[:5])


@pytest.mark.libreoffice
def test_the_calculator_scores_with_classic_formulas_everywhere(tmp_path):
    """The Calculator of HealthScore.xlsm shows the same score with classic formulas (for
    Mac and the web); LibreOffice computes what the core computed for its sample row."""
    from pathlib import Path

    book = tmp_path / "HealthScore.xlsm"
    shutil.copy(Path(__file__).resolve().parents[1] / "workbook" / "HealthScore.xlsm", book)
    texts, _ = formulas(book, "Calculator")
    classic = [f for f in texts if "HS_" not in f]
    assert len(classic) >= 4 * 12 + 7
    assert all(functions_in(f) <= FUNCTIONS and "_xlfn" not in f for f in classic)
    recalculated = libreoffice_recalculated(book, tmp_path / "lo")
    ours, theirs = grid(book, "Calculator"), grid(recalculated, "Calculator")
    start = next(i for i, r in enumerate(ours) if str(r[0]).startswith("The same with classic"))
    wanted = ("Score", "Tier", "Tier name", "Deployment", "Engagement", "Adoption", "ROI")
    cached = {r[0]: r[1] for r in ours[start:] if r and r[0] in wanted}
    computed = {r[0]: r[1] for r in theirs[start:] if r and r[0] in wanted}
    assert len(cached) == len(wanted) and isinstance(cached["Score"], float)
    assert computed == cached


@pytest.mark.libreoffice
def test_tier_hysteresis_holds_tiers_in_the_formulas_as_in_refresh(book, tmp_path):
    """Issue 23.5: with tier_hysteresis the Values tier formula keeps the previous
    snapshot's tier (a value refresh wrote) unless the score passed the boundary by the
    margin — after a tuning, exactly the tiers a refresh of the tuned book gives, and some
    of them differ from the plain tier of the score (the rule is really at work)."""
    from xlhealth.core.config import default_model
    from xlhealth.core.scoring import assign_tiers

    edits = tune(book, 2)
    settings = grid(book, "Settings")
    at = next(i for i, r in enumerate(settings, start=1) if r and r[0] == "tier_hysteresis")
    edits["Settings"][f"B{at}"] = 12.0
    edits["Tiers"] = {}  # the default tiers, so the plain tier below is the book's
    tuned = tmp_path / "tuned.xlsx"
    apply(book, tuned, edits)
    recalculated = libreoffice_recalculated(tuned, tmp_path / "lo")
    again = tmp_path / "again.xlsx"
    shutil.copy(tuned, again)
    refresh(again, as_of=demo_data.AS_OF, backup=False)
    live, fresh = by_customer(grid(recalculated, "Summary")), by_customer(grid(again, "Summary"))
    keys = ("score", "tier", "tier_label")
    differ = [(c, k, live[c][k], fresh[c][k]) for c in fresh for k in keys
              if not same(live[c][k], fresh[c][k])]  # fmt: skip
    assert differ == []
    scores = [fresh[c]["score"] for c in fresh if isinstance(fresh[c]["score"], float)]
    plain = assign_tiers(scores, default_model().tiers).astype(float).tolist()
    shown = [float(fresh[c]["tier"]) for c in fresh if isinstance(fresh[c]["score"], float)]
    held = sum(a != b for a, b in zip(plain, shown, strict=True))
    assert held > 0
