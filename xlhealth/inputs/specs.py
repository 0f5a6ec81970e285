"""What each known sheet holds: the keys that find its header row, its number, date and
choice columns. Shared by the sheet reader (``grid``), Sources and the templates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pandas as pd

INPUT_SHEETS = (
    "Customers",
    "Usage",
    "Logins",
    "Support",
    "Surveys",
    "Contacts",
    "Onboarding",
    "Maturity",
    "Overrides",
    "Outcomes",
)


@dataclass(frozen=True)
class Spec:
    """What a known sheet's columns hold: keys that identify its header, numbers, dates."""

    keys: tuple[str, ...]
    numbers: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    dates: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labelled: bool = True  # a label row may sit above the key row (our output sheets)
    min_keys: int = 1  # how many key headers a row needs to be the header row
    words: dict[str, str] = field(default_factory=dict)  # choice column -> its word table


SPECS: dict[str, Spec] = {
    "Customers": Spec(
        ("customer_id",),
        {"arr": (0, None), "seats": (0, None)},
        ("renewal_date", "outcome_date"),
        {"exemplar": ("good", "bad"), "outcome": ("renewed", "churned")},
        words={"outcome": "outcome_values.csv"},
    ),
    "Usage": Spec(("customer_id",)),
    "Logins": Spec(("customer_id", "email"), dates=("date",)),
    "Support": Spec(("customer_id", "email"), dates=("opened",)),
    "Surveys": Spec(("customer_id", "email"), {"nps": (0, 10)}, ("date",)),
    "Contacts": Spec(("customer_id",), dates=("date",)),
    "Onboarding": Spec(("customer_id",), {"standard_days": (0, None)}, ("started", "completed")),
    "Maturity": Spec(("customer_id",), dates=("assessed_on",)),
    "Overrides": Spec(("customer_id",)),  # score, tier, until: core.overrides
    "Outcomes": Spec(
        ("customer_id",),
        dates=("outcome_date",),
        choices={"outcome": ("renewed", "churned")},
        words={"outcome": "outcome_values.csv"},
    ),
    "Metrics": Spec(("metric",)),
    "Rules": Spec(("metric",)),
    "Tiers": Spec(("tier",)),
    "MaturityModel": Spec(("factor",)),
    "Matrix": Spec(("health",)),
    "Alerts": Spec(("trigger",)),
    "Settings": Spec(("key",)),
    "History": Spec(("customer_id",), dates=("as_of",)),
    "Summary": Spec(("customer_id",)),
    "Owners": Spec(("owner",)),
    "Columns": Spec(("field",)),
    "Sources": Spec(("sheet",)),
}


@functools.cache
def choice_words(name: str) -> dict[str, str]:
    """A word table of ``templates/`` (``value``, ``outcome`` columns): folded text -> the
    choice it means, ``""`` for "not decided yet" (left blank without a warning).

    ``outcome_values.csv``: Japanese words and the stages of a Salesforce renewal
    opportunity (Closed Won / Closed Lost; open stages are no outcome yet).
    """
    from xlhealth.core.model import templates_dir
    from xlhealth.core.text import normalise_ids

    table = pd.read_csv(templates_dir() / name, dtype=str, keep_default_na=False)
    keys = normalise_ids(table["value"])
    return dict(zip(keys, table["outcome"], strict=True))
