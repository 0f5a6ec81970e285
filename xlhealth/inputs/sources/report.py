"""A source's problems, worded like the in-sheet ones but located on the source.

A pasted sheet names the row of a bad cell; a file has millions of rows, so each problem
names the value, how many more rows share it, the Sources row and the file. Everything
here reads the small results of the overview query (one row per distinct customer link)
and of the distinct-value lookups — never rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.core.problems import Problem
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.sources import normalise as nz

MAX_LISTED = 50
NOT_DATE = (
    "not a date",
    "enter a date such as 2026-03-31 — the row is ignored where the date matters",
)
OTHER_ORDER = (
    "not a date in the order set on Settings (date_order)",
    "set date_order to the order your export writes (MDY or DMY) — the row is ignored where "
    "the date matters",
)
OUT_OF_RANGE = (
    "outside the dates xlhealth handles (1900-01-01 to 2262-04-10)",
    "enter a real date or leave it blank — ignored",
)
NOT_NUMBER = ("not a number", "enter a number — these cells are ignored")
UNKNOWN = {
    "customer_id": "unknown customer",
    "email": "no customer has this email domain",
    "customer_name": "no single customer has exactly this name",
}


def more(n: int) -> str:
    return f" (and {n} more rows)" if n > 0 else ""


def range_text(limits: tuple[float | None, float | None] | None) -> str:
    lo, hi = limits or (None, None)
    if lo is not None and hi is not None:
        return f"must be between {lo:g} and {hi:g}"
    return f"must be at least {lo:g}" if lo is not None else f"must be at most {hi:g}"


def hashable(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class Reports:
    """Problem reporting of ``compute.Run`` (a mixin: shares its state)."""

    sheet: str
    problems: list[Problem]

    def _where(self, file: object = None) -> str:
        """``Sources row N (path)``, and the file when a folder or glob holds several."""
        if file is not None and not isinstance(file, str):
            try:
                file = self.file_order[int(file)]
            except (IndexError, TypeError, ValueError):
                file = None
        shown = self.file_names.get(str(file), "") if file else ""
        return f"{self.spec.where}" + (
            f", file {shown}" if shown and shown != self.spec.path else ""
        )

    def _report(self, key: str, bad: np.ndarray, counts: np.ndarray, examples: list,
                files: list, head: str, tail: str) -> None:  # fmt: skip
        """Distinct values that fail a rule: the first one shown, the rows of all counted."""
        if not bad.any():
            return
        # the engine returns distinct values in no set order: the first file, then the text
        first = min((int(j) for j in np.flatnonzero(bad)),
                    key=lambda j: (files[j] is None, files[j] or 0, str(examples[j])))  # fmt: skip
        rest = more(int(counts[bad].sum()) - 1)
        self.problems.append(
            Problem(
                self.sheet,
                f"{head}{rest}; {tail} — in {self._where(files[first])}",
                column=key,
                value=examples[first],
            )
        )

    def _report_counts(self, totals: dict[str, int]) -> None:
        """Rows whose typed date or number SQL found out of range or not a number."""
        for flag, what, key in self.checks:
            count = totals.get(flag, 0)
            if not count:
                continue
            if what == "date":
                head, tail = OUT_OF_RANGE
            elif what == "number":
                head, tail = NOT_NUMBER
            else:
                head, tail = range_text(nz.spec_range(self.sheet, key)), "fix the value — ignored"
            self.problems.append(Problem(
                self.sheet, f"{head}{more(count - 1)}; {tail} — in {self._where()}", column=key
            ))  # fmt: skip

    def _report_unmatched(self, links: pd.DataFrame) -> None:
        """Unknown IDs, e-mail domains and names: one problem per distinct value, as in-sheet.

        ``links``: the overview's rows (one per distinct combination of the link columns)
        with ``pos`` (-1: no customer), ``lc`` (which link column the row is judged by,
        0: none given), ``n`` rows and ``xf`` (first file).
        """
        if not self._usable_links():
            self.problems.append(Problem(
                self.sheet,
                "no column links these rows to a customer (customer_id, email with "
                "Customers.email_domain, or customer_name); add one, or a row on the Columns "
                f"sheet naming the column that holds it — in {self._where()}",
                column="customer_id",
            ))  # fmt: skip
            return
        unknown = links[links["pos"] == -1]
        blank = int(unknown.loc[unknown["lc"] == 0, "n"].sum())
        if blank:
            self.problems.append(Problem(
                self.sheet,
                f"no customer ID{more(blank - 1)}; these rows are ignored — fill in the "
                f"customer ID — in {self._where()}",
                column="customer_id",
            ))  # fmt: skip
        for j, key in enumerate(self.links):
            mine = unknown[unknown["lc"] == j + 1]
            if mine.empty:
                continue
            # the engine returns groups in no set order: the first file, then the text, lead
            mine = mine.assign(_text=mine[f"l{j}"].map(str)).sort_values(["xf", "_text"])
            raws, found = self.link_info[key]
            normal = {hashable(r): k for r, k in zip(raws, found.keys, strict=True)}
            groups: dict[object, list] = {}
            for raw, n, file in zip(mine[f"l{j}"], mine["n"], mine["xf"], strict=True):
                group = groups.setdefault(normal.get(hashable(raw)), [raw, 0, file])
                group[1] += int(n)
            for raw, count, file in list(groups.values())[:MAX_LISTED]:
                self.problems.append(Problem(
                    self.sheet,
                    f"{UNKNOWN[key]}{more(count - 1)}; add it to Customers or fix it — these "
                    f"rows are ignored — in {self._where(file)}",
                    column=key,
                    value=raw,
                ))  # fmt: skip
            if len(groups) > MAX_LISTED:
                self.problems.append(Problem(
                    self.sheet, f"{len(groups) - MAX_LISTED} more unknown values not listed "
                    f"— in {self._where()}", column=key,
                ))  # fmt: skip

    def _report_duplicates(self, pos: np.ndarray, rows: np.ndarray) -> None:
        """A per-customer sheet with two rows for one customer: the first row wins (said once)."""
        known = pos >= 0
        extra = int((rows[known] - 1).clip(min=0).sum())
        if not extra:
            return
        first = int(pos[known][rows[known] > 1][0])
        column = "customer_id" if self.schema.has("customer_id") else "email"
        value = self.customers.frame["customer_id"].iloc[first]
        used = ("the first row is used" if self.d.ordered else
                "the table has no row order, so each metric takes the greatest value")  # fmt: skip
        self.problems.append(Problem(
            self.sheet,
            f"customer appears twice{more(extra - 1)}; {used} — keep one row "
            f"per customer — in {self._where()}",
            column=column,
            value=value,
        ))  # fmt: skip

    def _report_ties(self, got: dict, known: np.ndarray) -> None:
        """A table without row order: customers whose ``latest`` day holds different values
        (one line per metric; ``value`` repeats are said by :meth:`_report_duplicates`)."""
        for j, m in enumerate(self.metrics):
            if f"tq{j}" not in got or m.aggregate != "latest":
                continue
            tied = np.array([int(v or 0) > 1 for v in got[f"tq{j}"]], dtype=bool) & known
            if not tied.any():
                continue
            first = int(got["pos"][np.flatnonzero(tied)[0]])
            self.problems.append(Problem(
                self.sheet,
                f"metric {m.name}: {int(tied.sum())} customer(s) have different values on their "
                f"latest day; the table has no row order, so the greatest value is used — add "
                f"the time of day to the date column to decide — in {self._where()}",
                column=normalise_header(m.column),
                value=self.customers.frame["customer_id"].iloc[first],
            ))  # fmt: skip
