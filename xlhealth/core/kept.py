"""What people typed into the sheets refresh writes, carried into the next refresh.

Summary, Actions and ActionLog are rewritten by every refresh, but a column somebody added
(a header refresh does not write) is theirs: it stays on its row — by ``customer_id`` on
Summary, by action identity on Actions (:mod:`xlhealth.core.actions`), and into ActionLog
when an action ends. A customer that left Customers takes its Summary notes to Checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from xlhealth.core.problems import Problem, is_blank
from xlhealth.core.tables import ROW_COLUMN
from xlhealth.core.text import normalise_one

SUMMARY_COLUMNS = [  # the Summary table's columns, first in the engine's frame
    "customer_id",
    "customer_name",
    "segment",
    "owner",
    "score",
    "tier",
    "tier_label",
    "override",  # a CSM's judgement beside the computed score (xlhealth.core.overrides)
    "override_reason",
    "score_change",
    "trend",  # points per 30 days over the last 90 days of History (core.history.trend)
    "deployment",
    "engagement",
    "adoption",
    "roi",
    "cmi",
    "maturity_level",
    "quadrant",
    "decision",
    "reasons",
    "completeness",
]
SUMMARY_SHEET_COLUMNS = (
    *SUMMARY_COLUMNS,
    "matrix_actions",
    "arr",
    "renewal_date",
    "sparkline",
    *(f"spark_{k}" for k in range(1, 13)),
    "values_row",  # the customer's row on Values, when the scores are live (sheets.values)
)
"""The columns refresh writes on Summary (``sheets.outputs`` writes exactly these)."""


@dataclass
class Kept:
    """The book's own Summary, Actions and ActionLog as read before this refresh.

    ``labels``: per sheet, a column people added -> (its text in the label row, its text in
    the key row), so it is written back as they wrote it.
    """

    summary: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None
    action_log: pd.DataFrame | None = None
    labels: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


def user_columns(frame: pd.DataFrame | None, written: set[str] | tuple[str, ...]) -> list[str]:
    if frame is None:
        return []
    return [c for c in frame.columns if c not in set(written) and c != ROW_COLUMN]


def keep_summary_columns(
    summary: pd.DataFrame, previous: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[str], list[Problem]]:
    """``summary`` with the columns people added on the book's Summary, row by customer.

    Returns the frame, those columns, and one problem per customer that left Customers
    with something typed on its row (listed on Checks, never dropped).
    """
    extra = user_columns(previous, SUMMARY_SHEET_COLUMNS)
    if previous is None or not extra or "customer_id" not in previous.columns:
        return summary, [], []
    typed = previous[~previous[extra].map(is_blank).all(axis=1)]
    keys = typed["customer_id"].map(normalise_one)
    first = ~keys.duplicated()
    typed, keys = typed[first.to_numpy()], keys[first.to_numpy()]
    by_key = typed.set_index(keys.to_numpy())[extra]
    now = summary["customer_id"].map(normalise_one)
    out = summary.copy()
    for column in extra:
        out[column] = by_key[column].reindex(now.to_numpy()).to_numpy()
    problems = []
    gone = ~keys.isin(set(now)).to_numpy()
    for _, row in typed[gone].iterrows():  # the few customers that left
        said = "; ".join(f"{c}: {row[c]}" for c in extra if not is_blank(row[c]))
        problems.append(
            Problem(
                "Summary",
                f"this customer is no longer on Customers; what was typed on its Summary row "
                f"is kept here: {said}",
                column=extra[0],
                customer_id=str(row["customer_id"]),
            )
        )
    return out, extra, problems
