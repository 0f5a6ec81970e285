"""History snapshots: one per as_of date; the latest earlier one gives ``score_change``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.rows import Customers

HISTORY_COLUMNS = ["as_of", "customer_id", "score", "tier", "cmi"]


TREND_DAYS = 90  # the window the trend is measured over
TREND_MIN_SNAPSHOTS = 3
SPARK_POINTS = 12  # snapshots in a Summary sparkline
NOISE_WEEKS = 8  # the weeks of History a customer's score noise is measured over
NOISE_MIN_CHANGES = 3  # week-to-week changes needed before the noise counts


@dataclass
class Snapshots:
    """A book's History read once per run (IDs matched, dates parsed): one row per earlier
    snapshot of a known customer, in sheet order — Change, score_drop, trend and sparklines
    all look at it."""

    rows: pd.DataFrame  # pos (customer position), day (datetime64[D]), score
    n: int

    @classmethod
    def of(cls, history: pd.DataFrame | None, customers: Customers) -> Snapshots:
        if history is None or history.empty or not {"customer_id", "as_of"} <= set(history):
            empty = pd.DataFrame({"pos": np.array([], dtype=np.int64),
                                  "day": np.array([], dtype="datetime64[D]"),
                                  "score": np.array([], dtype=float),
                                  "tier": np.array([], dtype=float)})  # fmt: skip
            return cls(empty, customers.n)
        # a year of weekly snapshots repeats each ID 52 times and each date 10,000 times:
        # fold and parse the distinct values once
        codes, uniques = pd.factorize(history["customer_id"], use_na_sentinel=True)
        ids = customers.ids(pd.Series(uniques)).to_numpy(dtype=object)
        found = np.append(customers.keys.get_indexer(ids), -1)  # code -1 (blank) -> -1
        day_codes, day_uniques = pd.factorize(history["as_of"], use_na_sentinel=True)
        days = customers.days(pd.Series(day_uniques))
        days = np.append(np.asarray(days, dtype="datetime64[D]"), np.datetime64("NaT"))
        rows = pd.DataFrame(
            {
                "pos": found[codes],
                "day": days[day_codes],
                "score": pd.to_numeric(history.get("score"), errors="coerce").to_numpy(float),
                "tier": pd.to_numeric(history["tier"], errors="coerce").to_numpy(float)
                if "tier" in history
                else np.full(len(history), np.nan),
            }
        )
        rows = rows[(rows["pos"] >= 0).to_numpy() & ~np.isnat(rows["day"].to_numpy())]
        return cls(rows.reset_index(drop=True), customers.n)

    def before(self, as_of: dt.date) -> pd.DataFrame:
        """Each customer's latest snapshot dated strictly before ``as_of`` (score, tier,
        as_of)."""
        h = self.rows[(self.rows["day"] < np.datetime64(as_of, "D")).to_numpy()]
        last = h.sort_values("day", kind="stable").drop_duplicates("pos", keep="last")
        score = np.full(self.n, np.nan)
        tier = np.full(self.n, np.nan)
        day = np.full(self.n, np.datetime64("NaT"), dtype="datetime64[s]")
        score[last["pos"].to_numpy()] = last["score"].to_numpy()
        tier[last["pos"].to_numpy()] = last["tier"].to_numpy()
        day[last["pos"].to_numpy()] = last["day"].to_numpy().astype("datetime64[s]")
        return pd.DataFrame({"score": score, "tier": tier, "as_of": day})

    def noise(self, before: dt.date, weeks: int = NOISE_WEEKS) -> np.ndarray:
        """Each customer's week-to-week score noise: the standard deviation of the changes
        between weekly snapshots dated in the ``weeks`` weeks before ``before`` (the last
        snapshot of each week, so daily refreshes do not shrink it); NaN with fewer than
        ``NOISE_MIN_CHANGES`` changes."""
        end = np.datetime64(before, "D")
        day = self.rows["day"].to_numpy()
        h = self.rows[(day < end) & (day >= end - np.timedelta64(7 * weeks, "D"))]
        h = h.dropna(subset=["score"])
        week = (end - h["day"].to_numpy()).astype("timedelta64[D]").astype(np.int64) // 7
        h = h.assign(week=week).sort_values(["pos", "day"], kind="stable")
        h = h.drop_duplicates(["pos", "week"], keep="last")
        change = h.groupby("pos")["score"].diff()
        g = change.groupby(h["pos"])
        sd = g.std(ddof=1).where(g.count() >= NOISE_MIN_CHANGES)
        return sd.reindex(np.arange(self.n)).to_numpy(dtype=float)

    def tiers_before(self, pos: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The tier of customer ``pos[i]``'s latest snapshot dated before ``days[i]`` (NaN:
        none), for many (customer, date) pairs at once — the back-test's previous tiers."""
        out = np.full(len(pos), np.nan)
        rows = self.rows.dropna(subset=["tier"])
        ok = ~np.isnat(days)
        if rows.empty or not ok.any():
            return out
        left = pd.DataFrame({"pos": pos[ok], "day": days[ok].astype("datetime64[ns]"),
                             "i": np.flatnonzero(ok)}).sort_values("day")  # fmt: skip
        right = rows.assign(day=rows["day"].to_numpy().astype("datetime64[ns]"))
        right = right.sort_values("day", kind="stable")[["pos", "day", "tier"]]
        got = pd.merge_asof(left, right, on="day", by="pos", allow_exact_matches=False)
        out[got["i"].to_numpy()] = got["tier"].to_numpy(dtype=float)
        return out

    def _with(self, as_of: dt.date, scores: np.ndarray) -> pd.DataFrame:
        """Earlier snapshots dated before ``as_of`` plus this run's scores: (pos, day, score)."""
        now = pd.DataFrame({"pos": np.arange(self.n), "day": np.datetime64(as_of, "D"),
                            "score": scores})  # fmt: skip
        earlier = self.rows[(self.rows["day"] < np.datetime64(as_of, "D")).to_numpy()]
        earlier = earlier.drop_duplicates(["pos", "day"], keep="last")
        return pd.concat([earlier, now], ignore_index=True)

    def trend(self, as_of: dt.date, scores: np.ndarray) -> np.ndarray:
        """Each customer's score slope in points per 30 days over the last 90 days'
        snapshots (least squares; this run's score is the newest point); NaN with fewer
        than 3."""
        s = self._with(as_of, scores).dropna(subset=["score"])
        s = s[s["day"] > np.datetime64(as_of, "D") - np.timedelta64(TREND_DAYS, "D")]
        x = (s["day"] - np.datetime64(as_of, "D")).dt.days.to_numpy(dtype=float)
        y = s["score"].to_numpy(dtype=float)
        sums = pd.DataFrame({"pos": s["pos"], "n": 1.0, "x": x, "y": y, "xx": x * x,
                             "xy": x * y})  # fmt: skip
        g = sums.groupby("pos").sum()
        n = g["n"]
        var = g["xx"] - g["x"] ** 2 / n
        slope = (g["xy"] - g["x"] * g["y"] / n) / var.where(var > 0)
        slope = (slope * 30).round(1).where(n >= TREND_MIN_SNAPSHOTS)
        return slope.reindex(np.arange(self.n)).to_numpy(dtype=float)

    def sparks(self, as_of: dt.date, scores: np.ndarray) -> np.ndarray:
        """Up to the last 12 scores per customer, oldest first, right-aligned (n x 12)."""
        s = self._with(as_of, scores).sort_values(["pos", "day"])
        s["k"] = s.groupby("pos").cumcount(ascending=False)  # 0 = newest
        s = s[s["k"] < SPARK_POINTS]
        out = np.full((self.n, SPARK_POINTS), np.nan)
        out[s["pos"].to_numpy(), SPARK_POINTS - 1 - s["k"].to_numpy()] = s["score"].to_numpy()
        return out


def trend(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date, scores: np.ndarray
) -> np.ndarray:
    return Snapshots.of(history, customers).trend(as_of, scores)


def spark_points(
    history: pd.DataFrame | None, customers: Customers, as_of: dt.date, scores: np.ndarray
) -> np.ndarray:
    return Snapshots.of(history, customers).sparks(as_of, scores)


def merge_history(earlier: pd.DataFrame | None, new: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Earlier snapshots kept as they are, this run's rows appended.

    One snapshot per as_of date: re-running a date replaces only that date's rows.
    """
    if earlier is None or earlier.empty:
        return new
    keep = earlier.reindex(columns=HISTORY_COLUMNS)
    day = pd.to_datetime(keep["as_of"], errors="coerce").dt.normalize()
    keep = keep[(day != pd.Timestamp(as_of)).to_numpy()]
    return pd.concat([keep, new], ignore_index=True)


AFTER_MOVE = 0.9  # a History that overflows keeps at most this share of the sheet after


def overflow(frame: pd.DataFrame, capacity: int, as_of: dt.date) -> np.ndarray:
    """Which History rows move out of a sheet that holds ``capacity`` rows: none when all
    fit; else whole snapshots, oldest first (rows without a readable date before them), until
    the rest fills at most ``AFTER_MOVE`` of the sheet — so the next refreshes append again
    instead of moving one snapshot each time. This run's snapshot never moves."""
    moving = np.zeros(len(frame), dtype=bool)
    if len(frame) <= capacity:
        return moving
    day = pd.to_datetime(frame["as_of"], errors="coerce").dt.normalize()
    older = (day < pd.Timestamp(as_of)).to_numpy() | day.isna().to_numpy()
    counts = day[older].value_counts(dropna=False).sort_index(na_position="first")
    excess = len(frame) - int(capacity * AFTER_MOVE)
    before = counts.cumsum() - counts  # rows moved before each date's snapshot
    dates = counts.index[(before < excess).to_numpy()]
    moving = day.isin(dates[dates.notna()]).to_numpy()
    if dates.isna().any():
        moving |= day.isna().to_numpy()
    return moving


def with_archive(archived: pd.DataFrame | None, sheet: pd.DataFrame | None) -> pd.DataFrame | None:
    """The whole History: the archived snapshots, then the sheet's. A date in both (a
    refresh that stopped after archiving, or a date refreshed again) is the sheet's."""
    if archived is None or archived.empty:
        return sheet
    if sheet is None or sheet.empty:
        return archived.reindex(columns=HISTORY_COLUMNS)
    on_sheet = pd.to_datetime(sheet["as_of"], errors="coerce").dt.normalize()
    archived_day = pd.to_datetime(archived["as_of"], errors="coerce").dt.normalize()
    keep = archived[~archived_day.isin(set(on_sheet.dropna())).to_numpy()]
    return pd.concat([keep.reindex(columns=HISTORY_COLUMNS), sheet], ignore_index=True)
