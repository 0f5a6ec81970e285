"""Shared builders for the Sources tests: a model using every aggregate kind, messy customers
and events, files in every format, and the two computations to compare.

"In-sheet" means: the same rows put in a sheet grid and read by the workbook reader
(``sheet_from_grid``: header recognition, the contract's date and number columns) and then
aggregated by :func:`xlhealth.core.aggregate.aggregate`. "Source" means: the rows written to a
file (or database) and aggregated through a ``Sources`` row. A CSV/TSV file holds text, so
its in-sheet twin holds the same text; Parquet, JSON lines and databases hold typed values
(numbers, booleans, timestamps), pasted as such.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from tests.conftest import band, make_model
from xlhealth.core.aggregate import Aggregated, aggregate
from xlhealth.core.model import Model
from xlhealth.core.problems import Problem
from xlhealth.inputs.columns import Recogniser, builtin_aliases
from xlhealth.inputs.grid import sheet_from_grid
from xlhealth.inputs.matching import prepare_customers
from xlhealth.inputs.sources import SourceSpec, open_sources

AS_OF = dt.date(2026, 11, 20)


def metric(name: str, aggregate: str, source: str = "Logins", **extra) -> dict:
    return {"metric": name, "group": "Adoption", "source": source, "aggregate": aggregate, **extra}


EVENT_METRICS = [
    metric("count_all", "count"),
    metric("count_30", "count", window_days=30),
    metric("count_7_5", "count", window_days=7.5),
    metric("calls", "count", filter="kind=Call"),
    metric("calls_in", "count", filter="kind in call, meeting", window_days=90),
    metric("nobody", "count", filter="kind=nothing-like-this"),
    metric("users", "distinct", column="user_id"),
    metric("users_7", "distinct", column="user_id", window_days=7),
    metric("days_14", "active_days", window_days=14),
    metric("days_all", "active_days"),
    metric("since", "days_since"),
    metric("since_exec", "days_since", filter="role=executive"),
    metric("total", "sum", column="n"),
    metric("total_30", "sum", column="n", window_days=30),
    metric("avg", "mean", column="n"),
    metric("lo", "min", column="n", window_days=60),
    metric("hi", "max", column="n"),
    metric("last_n", "latest", column="n"),
    metric("last_n_90", "latest", column="n", window_days=90),
    metric("last_plan", "latest", column="plan"),
    metric("nps_last", "latest", column="nps"),
    metric("nps_avg", "mean", column="nps"),
    metric("share", "ratio", column="users_7/users"),
    # a date column outside the contract: read like Source.days reads it (no date_order)
    metric("seen_30", "count", date_column="seen", window_days=30),
    metric("seen_since", "days_since", column="seen"),
]
SURVEY_METRICS = [  # nps is a contract number column of Surveys: 0-10, TRUE/FALSE refused
    metric("s_nps", "latest", source="Surveys", column="nps"),
    metric("s_avg", "mean", source="Surveys", column="nps", window_days=365),
    metric("s_lo", "min", source="Surveys", column="nps"),
    metric("s_count", "count", source="Surveys", filter="kind=call"),
]
USAGE_METRICS = [
    metric("u_value", "value", source="Usage", column="n"),
    metric("u_plan", "value", source="Usage", column="plan"),
    metric("u_filtered", "value", source="Usage", column="n", filter="kind=call"),
]
ONBOARDING_METRICS = [
    metric("overdue", "overdue_count", source="Onboarding"),
    metric("overdue_30", "overdue_count", source="Onboarding", window_days=30),
]
TEXT_METRICS = ("last_plan", "u_plan")


def full_model(date_order: str = "MDY") -> Model:
    metrics = EVENT_METRICS + SURVEY_METRICS + USAGE_METRICS + ONBOARDING_METRICS
    rules = [band(m, None, None, 5, value="gold") for m in TEXT_METRICS]
    return make_model(metrics, rules, {"date_order": date_order} if date_order != "MDY" else None)


def customers_frame(case_sensitive: bool = False) -> pd.DataFrame:
    ids = ["C001", "C002", "c003", "C004", "C005", "C006", "1001", "0012000000AbCdE"]
    if case_sensitive:
        ids.append("0012000000aBcDe")  # a Salesforce 15-character ID that differs by case only
    n = len(ids)
    names = ["Alpha Inc", "株式会社 ベータ", "Gamma", "Gamma", "Delta", "", "Epsilon", "Zeta"]
    domains = ["alpha.com", "https://www.beta.co.jp/", "gamma.io", "gamma.io", None, "f.org",
               "EPS.com", "zeta.net"]  # fmt: skip
    return pd.DataFrame(
        {
            "customer_id": ids,
            "customer_name": (names + ["Eta"] * n)[:n],
            "email_domain": (domains + ["eta.dev"] * n)[:n],
            "seats": [10] * n,
        }
    )


ID_FORMS = ["C001", " c001 ", "Ｃ００１", "C002", "c003", "C003", "C004", "c005", "C006", "1001",
            "1001.0", "0012000000AbCdE", "0012000000AbCdEIAQ", "0012000000abcde", "C999", None,
            "  "]  # fmt: skip
EMAILS = ["a@alpha.com", "B@Beta.CO.JP", "x@gamma.io", "y@eps.com", "z@nowhere.org", "bad", None,
          " ", "q@zeta.net"]  # fmt: skip
NAMES = [
    "Alpha Inc",
    "alpha  inc",
    "株式会社ベータ",
    "Gamma",
    "Delta",
    "Nobody",
    None,
    "ｅｐｓｉｌｏｎ",
]
DATE_TEXTS = [
    "2026-11-20", "2026-11-20T23:59:59Z", "2026-11-19T08:07:00+09:00", "2026-11-13 8:07",
    "2026/11/12 08:07:30.123", "11/1/2026 2:02 PM", "1/11/2026", "31/10/2026", "05/Nov/26 3:42 PM",
    "2026年10月5日", "Sep 5, 2026", "1788000000", "1788000000000", "20261101", "2026-02-30",
    "2026-11-21", "9999-12-31", "not a date", "", None, " 2026-11-02 ", "2026-11-18T24:00",
    "2026/11/17 23:59 UTC", "2026-11-16 00:00:00 +0900",
]  # fmt: skip
NUMBER_TEXTS = ["1", "2.5", "1,200", "85%", "¥1,200", "(1,200)", "-3", "x", "", None, "TRUE",
                "0.1", "1e3", "３", "12.", "3000000000", "1e-15", "007"]  # fmt: skip
KINDS = ["call", "Call ", "meeting", "ＣＡＬＬ", "email", None, "QBR"]
ROLES = ["executive", "Executive", "user", None]
PLANS = ["gold", "Silver", " GOLD ", None, "bronze"]
NPS = ["9", "10", "11", "-1", "7", "", "x", "8.5"]


def events(n: int, seed: int = 0) -> pd.DataFrame:
    """Messy Logins-like rows as text (what a CSV holds)."""
    rng = np.random.default_rng(seed)

    def pick(options: list) -> list:
        return [options[i] for i in rng.integers(0, len(options), n)]

    days = rng.integers(-5, 400, n)
    iso = [(pd.Timestamp(AS_OF) - pd.Timedelta(days=int(k))).strftime("%Y-%m-%d") for k in days]
    dates = [t if rng.random() < 0.6 else o for t, o in zip(iso, pick(DATE_TEXTS), strict=True)]
    return pd.DataFrame(
        {
            "customer_id": pick(ID_FORMS),
            "email": pick(EMAILS),
            "customer_name": pick(NAMES),
            "date": dates,
            "kind": pick(KINDS),
            "role": pick(ROLES),
            "user_id": [f"u{k}" if k < 20 else None for k in rng.integers(0, 22, n)],
            "n": pick(NUMBER_TEXTS),
            "plan": pick(PLANS),
            "nps": pick(NPS),
            "seen": pick(DATE_TEXTS),
        }
    )


def usage(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [*ID_FORMS[:12], "C002", "C004"]  # C002, C004 twice: the first row counts
    return pd.DataFrame(
        {
            "customer_id": ids,
            "n": [NUMBER_TEXTS[i] for i in rng.integers(0, len(NUMBER_TEXTS), len(ids))],
            "plan": [PLANS[i] for i in rng.integers(0, len(PLANS), len(ids))],
            "kind": [KINDS[i] for i in rng.integers(0, len(KINDS), len(ids))],
        }
    )


def onboarding() -> pd.DataFrame:
    day = pd.Timestamp(AS_OF)
    rows = []
    for k, cid in enumerate(["C001", "C002", "c003", "C004", "C005", "C999", "C001", "C002"]):
        started = (day - pd.Timedelta(days=10 * k + 5)).strftime("%Y-%m-%d")
        completed = None if k % 3 else (day - pd.Timedelta(days=k)).strftime("%Y/%m/%d")
        standard = ["7", "30", "x", "-1", "14", "3", "100", "0"][k]
        rows.append({"customer_id": cid, "step": f"s{k}", "standard_days": standard,
                     "started": started, "completed": completed})  # fmt: skip
    rows.append({"customer_id": "C006", "step": "late", "standard_days": "1",
                 "started": "2026-12-01", "completed": None})  # fmt: skip
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- computing


def recogniser() -> Recogniser:
    return Recogniser(builtin_aliases(), ())


def grid_value(v: object) -> object:
    """A value as a spreadsheet cell holds it ('' = empty)."""
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        v = v.astimezone(dt.UTC).replace(tzinfo=None)  # an instant lands on its UTC day
    if isinstance(v, int) and not isinstance(v, bool):
        v = float(v)  # spreadsheets hold numbers as floats
    return v


def pasted(sheet: str, frame: pd.DataFrame, day_first: bool = False) -> pd.DataFrame:
    """``frame`` as the workbook reader reads it once pasted into ``sheet``."""
    grid = [list(frame.columns)] + [
        [grid_value(v) for v in row] for row in frame.itertuples(index=False)
    ]
    problems: list[Problem] = []
    read = sheet_from_grid(sheet, grid, problems, recogniser=recogniser(), day_first=day_first)
    assert read is not None
    return read.frame


def in_sheet(model: Model, cust: pd.DataFrame, sheets: dict[str, pd.DataFrame], as_of=AS_OF,
             day_first: bool = False) -> Aggregated:  # fmt: skip
    tables = {"Customers": cust}
    tables.update({k: pasted(k, v, day_first) for k, v in sheets.items()})
    return aggregate(model, prepare_customers(cust), tables, as_of)


def through_sources(
    model: Model,
    cust: pd.DataFrame,
    specs: list[SourceSpec],
    base: Path,
    sheets: dict[str, pd.DataFrame] | None = None,
    as_of=AS_OF,
    day_first: bool = False,
) -> Aggregated:
    """The aggregate through the sources — and, for CSV/TSV files, the same again through
    a cold and then a warm per-file cache (``filecache``): all three must be identical."""
    tables = {"Customers": cust}
    tables.update({k: pasted(k, v, day_first) for k, v in (sheets or {}).items()})

    def once(cache: Path | None) -> Aggregated:
        with open_sources(specs, base, recogniser(), day_first, cache=cache) as external:
            return aggregate(model, prepare_customers(cust), tables, as_of, external=external)

    plain = once(None)
    if any(s.engine == "files" for s in specs):
        with tempfile.TemporaryDirectory(prefix="xlhealth-test-cache-") as folder:
            for _ in ("cold", "warm"):
                assert_same_run(plain, once(Path(folder)))
    return plain


CACHE_COLUMNS = ["seconds", "cached", "fresh", "cache_mb"]


def _said(result: Aggregated) -> list[str]:
    """The problems, without the cache's own information lines."""
    own = ("not from the cache", "the cache folder")
    return [p.message for p in result.problems if not any(o in p.message for o in own)]


def assert_same_run(expected: Aggregated, got: Aggregated) -> None:
    """Values, problems and the Sources figures identical (timings and cache counts aside)."""
    assert_same(expected, got)
    assert got.unavailable == expected.unavailable
    assert _said(got) == _said(expected)
    drop = [c for c in CACHE_COLUMNS if c in expected.sources.columns]
    pd.testing.assert_frame_equal(got.sources.drop(columns=drop),
                                  expected.sources.drop(columns=drop))  # fmt: skip


def write(frame: pd.DataFrame, path: Path, fmt: str, encoding: str = "utf-8") -> Path:
    """``frame`` as a file: text formats hold what the frame holds (None = empty field)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "tsv"):
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",", encoding=encoding)
    elif fmt == "parquet":
        con = duckdb.connect()
        con.register("frame", frame)
        con.execute(f"COPY (SELECT * FROM frame) TO '{path}' (FORMAT PARQUET)")
        con.close()
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for row in frame.to_dict("records"):
                clean = {k: (None if grid_value(v) == "" else _json(v)) for k, v in row.items()}
                f.write(json.dumps(clean, ensure_ascii=False) + "\n")
    else:
        raise ValueError(fmt)
    return path


def _json(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return v


def assert_same(expected: Aggregated, got: Aggregated) -> None:
    """Every metric value equal (NaN where NaN), and the same metrics unavailable."""
    assert set(got.unavailable) == set(expected.unavailable), (
        got.unavailable,
        expected.unavailable,
    )
    assert list(got.values.columns) == list(expected.values.columns)
    for column in expected.values.columns:
        e = expected.values[column].to_numpy()
        g = got.values[column].to_numpy()
        if e.dtype == object or g.dtype == object:
            assert [None if _na(v) else v for v in g] == [None if _na(v) else v for v in e], column
        else:
            np.testing.assert_array_equal(g, e, err_msg=column)


def _na(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
