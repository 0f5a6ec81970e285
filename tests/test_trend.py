"""Summary's trend (points per 30 days over 90 days of History) and its sparklines."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
import python_calamine

from tests.workbooks import cli, libreoffice_roundtrip
from xlhealth.core.history import spark_points, trend
from xlhealth.core.tables import column_letter
from xlhealth.inputs.matching import prepare_customers

DAY = dt.date(2026, 12, 6)


def history(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(DAY - dt.timedelta(days=d), c, s) for c, d, s in rows],
        columns=["as_of", "customer_id", "score"],
    )


def test_trend_is_the_least_squares_slope_per_30_days_over_90_days():
    customers = prepare_customers(pd.DataFrame({"customer_id": ["A", "B", "C"]}))
    earlier = history(
        [
            ("A", 60, 10.0), ("A", 30, 20.0),  # with today's 30: +10 per 30 days
            ("B", 200, 90.0), ("B", 7, 50.0),  # the 200-day-old point is outside the window
            ("c", 30, 40.0), ("c", 14, 45.0),  # IDs are folded like everywhere
        ]
    )  # fmt: skip
    got = trend(earlier, customers, DAY, np.array([30.0, 50.0, 47.0]))
    assert got[0] == 10.0
    assert np.isnan(got[1])  # two snapshots in 90 days: too few
    x = np.array([-30, -14, 0]) / 30
    assert got[2] == round(np.polyfit(x, [40.0, 45.0, 47.0], 1)[0], 1)
    sparks = spark_points(earlier, customers, DAY, np.array([30.0, 50.0, 47.0]))
    assert sparks.shape == (3, 12)
    assert list(sparks[0, -3:]) == [10.0, 20.0, 30.0] and np.isnan(sparks[0, :-3]).all()
    assert list(sparks[1, -3:]) == [90.0, 50.0, 50.0]


def test_no_history_no_trend():
    customers = prepare_customers(pd.DataFrame({"customer_id": ["A"]}))
    assert np.isnan(trend(None, customers, DAY, np.array([50.0]))).all()


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    path = tmp_path_factory.mktemp("trend") / "book.xlsx"
    code, out = cli("demo", "--customers", "30", "-o", str(path))
    assert code == 0, out
    grid = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("History")
    last = max(r[0] for r in grid.to_python()[2:])
    for k in (1, 2, 3):
        code, out = cli("refresh", str(path), "--as-of", (last + dt.timedelta(7 * k)).isoformat())
        assert code == 0, out
    return path, last + dt.timedelta(days=21)


def sheet(path, name):
    grid = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
    rows = grid.to_python(skip_empty_area=False)
    return pd.DataFrame(rows[2:], columns=[str(k) for k in rows[1]])


def test_summary_trend_matches_an_independent_fit_of_history(weekly):
    path, day = weekly
    summary = sheet(path, "Summary").set_index("customer_id")
    h = sheet(path, "History")
    h["days"] = [(d - day).days for d in h["as_of"]]
    recent = h[h["days"] > -90]
    checked = 0
    for cid, rows in recent.groupby("customer_id"):
        if len(rows) < 3 or rows["score"].eq("").any():
            continue
        slope = np.polyfit(rows["days"] / 30, rows["score"].astype(float), 1)[0]
        assert summary.loc[cid, "trend"] == pytest.approx(round(slope, 1), abs=0.051)
        last12 = [float(s) for s in h[h["customer_id"] == cid]["score"].tail(12)]
        sparks = [summary.loc[cid, f"spark_{k}"] for k in range(13 - len(last12), 13)]
        assert sparks == last12
        checked += 1
    assert checked >= 20


@pytest.mark.libreoffice
def test_every_summary_row_has_a_sparkline_libreoffice_keeps(weekly, tmp_path):
    path, _ = weekly
    with zipfile.ZipFile(path) as z:
        names = {n for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
        xml = next(z.read(n) for n in sorted(names) if b"customer_id" in z.read(n)
                   and b"x14:sparkline" in z.read(n))  # fmt: skip
    found = rb"<xm:f>Summary!([A-Z]+)(\d+):([A-Z]+)(\d+)</xm:f><xm:sqref>([A-Z]+)(\d+)"
    lines = re.findall(found, xml)
    summary = sheet(path, "Summary")
    letter = {k: column_letter(i).encode() for i, k in enumerate(summary.columns)}
    assert len(lines) == len(summary)
    for first, r1, last, r2, target, r3 in lines:
        assert r1 == r2 == r3
        assert (first, last, target) == (letter["spark_1"], letter["spark_12"], letter["sparkline"])
    copy = tmp_path / "copy.xlsx"
    shutil.copy(path, copy)
    saved = libreoffice_roundtrip(copy, tmp_path / "lo")
    with zipfile.ZipFile(saved) as z:
        kept = sum(z.read(n).count(b"<x14:sparkline>") for n in z.namelist()
                   if n.startswith("xl/worksheets/"))  # fmt: skip
    assert kept == len(summary)
