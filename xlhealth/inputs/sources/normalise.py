"""Distinct values of a source's columns, read with the in-sheet path's own functions.

A value in a file must count exactly as the same value pasted into the sheet: each
distinct value goes first through what the workbook reader does to a pasted cell (the
contract's number and date columns are parsed and range-checked: ``nps``,
``standard_days``, ``date``, ``opened`` …, with Settings ``date_order``), then through
what :class:`xlhealth.inputs.matching.Source` does (IDs, e-mail domains and organisation names to
customers, ``to_days``, numbers with TRUE/FALSE as 1/0, normalised codes for filters and
``distinct``). Only distinct values are handled here, never rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlhealth.core.problems import Problem
from xlhealth.core.text import normalised_codes
from xlhealth.inputs.dates import parse_dates
from xlhealth.inputs.ids import email_domains
from xlhealth.inputs.matching import Customers, domain_map, name_map
from xlhealth.inputs.specs import SPECS
from xlhealth.inputs.values import organisation_key, parse_numbers

NAT = np.datetime64("NaT", "D")


def objects(values: list | np.ndarray) -> pd.Series:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return pd.Series(out, dtype=object)


def spec_range(sheet: str, column: str) -> tuple[float | None, float | None] | None:
    spec = SPECS.get(sheet)
    return None if spec is None else spec.numbers.get(column)


def is_spec_date(sheet: str, column: str) -> bool:
    spec = SPECS.get(sheet)
    return spec is not None and column in spec.dates


def sheet_view(sheet: str, column: str, values: pd.Series, day_first: bool) -> pd.Series:
    """Distinct raw values as the workbook reader leaves them in a pasted sheet."""
    limits = spec_range(sheet, column)
    if limits is not None:
        numbers = parse_numbers(values)
        lo, hi = limits
        bad = (lo is not None and (numbers < lo)) | (hi is not None and (numbers > hi))
        return numbers.where(~np.asarray(bad, dtype=bool), np.nan)
    if is_spec_date(sheet, column):
        return parse_dates(values, day_first=day_first).values.astype("datetime64[ns]")
    return values


@dataclass
class Dates:
    days: np.ndarray  # float: days since 1970, NaN where not a date
    not_date: np.ndarray
    other_order: np.ndarray
    out_of_range: np.ndarray


def dates(sheet: str, column: str, keys: pd.Series, day_first: bool) -> Dates:
    """Days of distinct date keys, as the reader (contract date columns, with date_order)
    and then ``Source.days`` read them."""
    parsed = parse_dates(keys, day_first=day_first and is_spec_date(sheet, column))
    days = parsed.values.to_numpy().astype("datetime64[D]")
    out = np.where(np.isnat(days), np.nan, days.astype(np.int64).astype(float))
    other = parsed.not_a_date & parsed.other_order
    return Dates(out, parsed.not_a_date & ~other, other, parsed.out_of_range)


@dataclass
class Numbers:
    numbers: np.ndarray
    not_number: np.ndarray
    out_of_range: np.ndarray


def numbers(sheet: str, column: str, keys: pd.Series) -> Numbers:
    """Numbers of distinct keys as ``Source.numbers`` reads the sheet's column."""
    limits = spec_range(sheet, column)
    parsed = parse_numbers(keys).to_numpy(dtype=float, copy=True)
    text = keys.astype("string").str.strip()
    blank = (text.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
    if limits is None:  # a metric column: TRUE/FALSE count 1/0
        flags = np.array([isinstance(v, bool | np.bool_) for v in keys], dtype=bool)
        parsed[flags] = keys[flags].astype(float).to_numpy()
        return Numbers(parsed, np.isnan(parsed) & ~blank, np.zeros(len(keys), dtype=bool))
    lo, hi = limits
    with np.errstate(invalid="ignore"):
        out = (lo is not None and (parsed < lo)) | (hi is not None and (parsed > hi))
    out = np.asarray(out, dtype=bool) & ~np.isnan(parsed)
    bad = np.isnan(parsed) & ~blank
    return Numbers(np.where(out, np.nan, parsed), bad, out)


@dataclass
class Links:
    """Per distinct value of a link column: the customer position (or None) and presence."""

    pos: np.ndarray  # object: int position, -1 (unknown ID) or None
    present: np.ndarray  # bool: the value counts as given (the row is not blank here)
    keys: np.ndarray  # normalised key (for grouping unknown values in problems)


def ids(customers: Customers, values: pd.Series) -> Links:
    keys = customers.ids(values).to_numpy(dtype=object)
    present = np.array([k is not None for k in keys], dtype=bool)
    codes = customers.keys.get_indexer(np.where(present, keys, "\0no-key"))
    pos = np.where(present, codes, None).astype(object)
    return Links(pos, present, keys)


def emails(customers: Customers, values: pd.Series, problems: list[Problem]) -> Links:
    keys = email_domains(values).to_numpy(dtype=object)
    return _mapped(customers, values, keys, "email_domain", domain_map, problems)


def names(customers: Customers, values: pd.Series, problems: list[Problem]) -> Links:
    keys = organisation_key(values).to_numpy(dtype=object)
    return _mapped(customers, values, keys, "customer_name", name_map, problems)


def _mapped(
    customers: Customers,
    values: pd.Series,
    keys: np.ndarray,
    column: str,
    key_map: Callable[[Customers, list[Problem]], dict[str, str]],
    problems: list[Problem],
) -> Links:
    """Values matched through a Customers column (e-mail domain, organisation name)."""
    text = values.astype("string").str.strip()
    present = (text.notna() & (text != "")).fillna(False).to_numpy(dtype=bool)
    pos = np.full(len(values), None, dtype=object)
    if column in customers.frame.columns:
        mapped = pd.Series(keys, dtype=object).map(key_map(customers, problems))
        known = mapped.notna().to_numpy()
        pos[known] = customers.keys.get_indexer(mapped[known].to_numpy(dtype=object))
    return Links(pos, present, keys)


class Codes:
    """Normalised values (filters, ``distinct``) -> one integer code shared by every part."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def of(self, view: pd.Series) -> np.ndarray:
        """Code per value (None for blanks), as ``normalised_codes`` groups them."""
        codes, distinct = normalised_codes(view)
        mine = np.array([self.index.setdefault(d, len(self.index)) for d in distinct] + [None],
                        dtype=object)  # fmt: skip
        return mine[codes]

    def wanted(self, values: tuple[str, ...]) -> list[int]:
        from xlhealth.core.text import normalise_one

        return sorted({self.index[w] for v in values if (w := normalise_one(v)) in self.index})
