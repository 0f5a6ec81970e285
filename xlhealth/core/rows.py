"""What the core needs from the rows users pasted, declared here and implemented in inputs.

The rules read input sheets through these protocols only: :mod:`xlhealth.inputs.matching`
resolves a sheet's rows to customers and reads dates and numbers the way exports write
them; :mod:`xlhealth.inputs.sources` computes the metrics of sheets whose rows live in
files or databases. The caller (``xlhealth.run``, ``book.score``) hands them in, so the
core never imports the layer that reads (the ibis shape: expressions that do not know
their backends).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from xlhealth.core.problems import Problem

if TYPE_CHECKING:
    from xlhealth.core.model import Model


class SheetRows(Protocol):
    """One input sheet resolved to customer positions (``codes``: -1 = no customer)."""

    name: str
    frame: pd.DataFrame  # normalised headers
    rows: np.ndarray  # sheet row numbers
    codes: np.ndarray
    problems: list[Problem]

    def has(self, column: str) -> bool: ...
    def days(self, column: str) -> np.ndarray: ...  # datetime64[D]; bad dates reported
    def numbers(self, column: str) -> np.ndarray: ...  # float; bad numbers reported
    def codes_of(self, column: str) -> np.ndarray: ...  # codes of the folded values
    def matches(self, column: str, values: tuple[str, ...]) -> np.ndarray: ...
    def text(self, column: str) -> pd.Series: ...  # folded values, None for blanks
    def report_duplicate_customers(self) -> None: ...


class ParsedDates(Protocol):
    """Dates read from a column, with the masks of what could not be read."""

    values: pd.Series
    out_of_range: np.ndarray
    not_a_date: np.ndarray
    other_order: np.ndarray


class Customers(Protocol):
    """The book's customers (one row per normalised ID) and the reading of its other rows."""

    frame: pd.DataFrame
    keys: pd.Index
    problems: list[Problem]
    case_sensitive: bool

    @property
    def n(self) -> int: ...
    def ids(self, values: pd.Series) -> pd.Series: ...
    def sheet(self, name: str, frame: pd.DataFrame, problems: list[Problem]) -> SheetRows: ...
    def days(self, values: pd.Series) -> np.ndarray: ...  # any date form -> datetime64[D]
    def dates(self, values: pd.Series, day_first: bool = False) -> ParsedDates: ...
    def numbers(self, values: pd.Series) -> pd.Series: ...  # 1,200 / 85% / ¥ -> float


PrepareCustomers = Callable[[pd.DataFrame], Customers]
"""The Customers sheet -> :class:`Customers` (``inputs.matching.prepare_customers``)."""


@dataclass
class Batch:
    """Metric values computed where a source's rows live, what it could not compute, Checks."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    unavailable: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    stats: pd.DataFrame | None = None


class ExternalValues(Protocol):
    """Sheets whose rows live in files or databases (``inputs.sources.open_sources``)."""

    def __len__(self) -> int: ...

    def per_customer(
        self,
        model: Model,
        customers: Customers,
        sheets: Mapping[str, pd.DataFrame],
        day: np.datetime64 | np.ndarray,
        problems: list[Problem],
    ) -> Batch: ...
