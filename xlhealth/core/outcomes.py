"""Renewal decisions as observations: one per row of the ``Outcomes`` sheet, or the
``Customers.outcome`` shortcut (one per customer).

A monthly or yearly subscription is decided again at every renewal, so a renewal history
holds several outcomes per customer; each is one observation for the honest back-test,
scored as the customer stood before it. A customer with rows on both sheets is counted
from ``Outcomes`` only (with a located problem), never twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.problems import Problem
from xlhealth.core.rows import Customers
from xlhealth.core.tables import ROW_COLUMN

SHEET = "Outcomes"
OUTCOMES = ("churned", "renewed")
NAT = np.datetime64("NaT", "D")


@dataclass
class Observations:
    """One row per renewal decision, sorted by customer and date."""

    customer: np.ndarray  # customer positions (rows of Customers order)
    churned: np.ndarray  # bool
    date: np.ndarray  # datetime64[D]; NaT only for the Customers shortcut without a date
    sheet: np.ndarray  # "Customers" or "Outcomes" (object)
    sheet_row: np.ndarray  # the row that said it, on that sheet

    @property
    def n(self) -> int:
        return len(self.customer)

    @classmethod
    def of(cls, parts: list[dict[str, np.ndarray]]) -> Observations:
        joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.lexsort((joined["sheet_row"], joined["date"], joined["customer"]))
        return cls(**{k: v[order] for k, v in joined.items()})


def outcomes(summary: pd.DataFrame) -> pd.Series:
    """``churned`` / ``renewed`` per customer (trimmed, case folded), NA otherwise."""
    out = summary["outcome"].astype("string").str.strip().str.casefold()
    return out.where(out.isin(OUTCOMES).fillna(False))


def observations(
    customers: Customers, outcome: pd.Series, frame: pd.DataFrame | None
) -> tuple[Observations, list[Problem]]:
    """Every renewal decision the book records, each once.

    ``outcome``: ``Customers.outcome`` per customer (:func:`outcomes`); ``frame``: the
    ``Outcomes`` sheet, if any.
    """
    problems: list[Problem] = []
    sheet = _outcomes_sheet(customers, frame, problems)
    known = outcome.notna().to_numpy()
    listed_per = np.bincount(sheet["customer"], minlength=customers.n)
    both = known & (listed_per > 0)
    rows = customers.frame[ROW_COLUMN].to_numpy()
    for i in np.flatnonzero(both):  # one located line per customer said twice
        listed = int(listed_per[i])
        problems.append(
            Problem(
                "Customers",
                f"this customer also has {listed:,} row(s) on the Outcomes sheet; those rows are "
                "used and this outcome is left out (never counted twice) — clear one of them",
                row=int(rows[i]),
                column="outcome",
                value=outcome.iloc[i],
                customer_id=str(customers.frame["customer_id"].iloc[i]),
            )
        )
    short = np.flatnonzero(known & ~both)
    dates = outcome_dates(customers, problems)
    shortcut = {
        "customer": short,
        "churned": outcome.to_numpy(dtype=object)[short] == "churned",
        "date": dates[short],
        "sheet": np.full(short.size, "Customers", dtype=object),
        "sheet_row": rows[short].astype(np.int64),
    }
    return Observations.of([shortcut, sheet]), problems


def _outcomes_sheet(
    customers: Customers, frame: pd.DataFrame | None, problems: list[Problem]
) -> dict[str, np.ndarray]:
    """The ``Outcomes`` rows that are a decided outcome of a known customer, with a date."""
    empty = {
        "customer": np.zeros(0, np.int64),
        "churned": np.zeros(0, bool),
        "date": np.zeros(0, "datetime64[D]"),
        "sheet": np.zeros(0, object),
        "sheet_row": np.zeros(0, np.int64),
    }
    if frame is None or frame.empty:
        return empty
    src = customers.sheet(SHEET, frame, problems)  # blank and unknown IDs reported there
    missing = [c for c in ("outcome", "outcome_date") if not src.has(c)]
    if missing:
        problems.append(
            Problem(
                SHEET,
                f"required column {' and '.join(missing)} is missing; add it to the header row "
                "(customer_id, outcome, outcome_date) — the sheet is not used",
                row=1,
                column=missing[0],
            )
        )
        return empty
    words = src.frame["outcome"].astype("string").str.strip().str.casefold()
    decided = words.isin(OUTCOMES).fillna(False).to_numpy(dtype=bool)
    said = words.to_numpy(dtype=object, na_value=None)
    days = src.days("outcome_date")
    dated = ~np.isnat(days)
    mine = src.codes >= 0
    _report(src, mine & decided & ~dated, "outcome_date",
            "has no outcome_date that reads as a date; enter the day the renewal was decided "
            "— the row is left out", problems)  # fmt: skip
    keep = np.flatnonzero(mine & decided & dated)
    table = pd.DataFrame({"c": src.codes[keep], "d": days[keep], "o": said[keep]})
    twice = table.duplicated(["c", "d"], keep="first").to_numpy()
    if twice.any():
        first = table.drop_duplicates(["c", "d"]).set_index(["c", "d"])["o"]
        clash = twice & (
            table.set_index(["c", "d"]).index.map(first).to_numpy(dtype=object) != table["o"]
        )
        size = len(src.codes)
        repeat = "repeats an earlier row (same customer, same date); counted once"
        _report(src, _at(keep, twice & ~clash, size), "outcome_date", repeat, problems)
        contradicts = (
            "contradicts an earlier row for the same customer and date; the first row is "
            "used — correct one of them"
        )
        _report(src, _at(keep, clash, size), "outcome", contradicts, problems)
        keep = keep[~twice]
    return {
        "customer": src.codes[keep].astype(np.int64),
        "churned": said[keep] == "churned",
        "date": days[keep],
        "sheet": np.full(keep.size, SHEET, dtype=object),
        "sheet_row": src.rows[keep].astype(np.int64),
    }


def _at(index: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, bool)
    out[index[mask]] = True
    return out


def _report(src, bad: np.ndarray, column: str, message: str, problems: list[Problem]) -> None:
    """One located problem for the first such row, with how many more there are."""
    if not bad.any():
        return
    first = int(np.argmax(bad))
    more = int(bad.sum()) - 1
    problems.append(
        Problem(
            SHEET,
            message + (f" (and {more:,} more rows)" if more else ""),
            row=int(src.rows[first]),
            column=column,
            value=None if column not in src.frame else src.frame[column].iloc[first],
        )
    )


def outcome_dates(customers: Customers, problems: list[Problem]) -> np.ndarray:
    """``Customers.outcome_date`` as days; a value that is not a date is reported once."""
    f = customers.frame
    if "outcome_date" not in f.columns:
        return np.full(customers.n, NAT)
    raw = f["outcome_date"]
    days = customers.days(raw)
    text = raw.astype("string").str.strip()
    bad = np.isnat(days) & (text.notna() & (text != "")).fillna(False).to_numpy()
    if bad.any():
        first = int(np.argmax(bad))
        more = int(bad.sum()) - 1
        problems.append(
            Problem(
                "Customers",
                "outcome_date is not a date"
                + (f" (and {more} more rows)" if more else "")
                + "; enter the date the customer renewed or churned, such as 2026-03-31 — "
                "without it the back-test falls back to History or today's score",
                row=int(f[ROW_COLUMN].iloc[first]),
                column="outcome_date",
                value=raw.iloc[first],
            )
        )
    return days
