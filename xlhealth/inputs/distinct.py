"""Distinct values of a column: what kind each is, and text cleaned for reading.

The shared first step of :mod:`xlhealth.inputs.dates` and :mod:`xlhealth.inputs.values`:
a column is factorized and only its distinct values are read, each by its kind (text,
number, bool, datetime, ...). Kept apart so both readers use one definition of a kind and
of clean text (NFKC, one kind of dash, collapsed whitespace).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd

__all__ = ["DASHES", "clean_text", "distinct_values"]

DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-"))


def distinct_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes (-1 for NA), the distinct values as an object array, and their kinds.

    Kinds: 'text', 'number', 'bool', 'datetime', 'date', 'datetime64' or 'other'. Python's
    ``True == 1`` lets factorize merge a boolean with the number 1 (or ``False`` with 0);
    such rows are split again so each distinct value keeps its type.
    """
    codes, index = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(index, dtype=object)
    kinds = _kinds(uniques, pd.api.types.infer_dtype(index, skipna=True))
    if values.dtype != object:
        return codes, uniques, kinds
    suspects = np.flatnonzero(kinds == "bool")
    if (number := kinds == "number").any():
        as_float = uniques[number].astype(float)
        suspects = np.union1d(suspects, np.flatnonzero(number)[(as_float == 0) | (as_float == 1)])
    if not suspects.size:
        return codes, uniques, kinds
    raw = values.to_numpy(dtype=object)
    extra: list[object] = []
    for k in suspects:
        rows = np.flatnonzero(codes == k)
        is_bool = np.fromiter(
            (isinstance(raw[i], bool | np.bool_) for i in rows), dtype=bool, count=rows.size
        )
        odd = rows[is_bool != (kinds[k] == "bool")]
        if odd.size:
            codes[odd] = len(uniques) + len(extra)
            extra.append(raw[odd[0]])
    if extra:
        more = np.empty(len(extra), dtype=object)
        more[:] = extra
        uniques = np.concatenate([uniques, more])
        kinds = np.concatenate([kinds, _kinds(more, "mixed")])
    return codes, uniques, kinds


def _kinds(uniques: np.ndarray, inferred: str) -> np.ndarray:
    """The kind of each distinct value (see :func:`distinct_values`); ``inferred`` from pandas."""
    uniform = {
        "string": "text",
        "empty": "text",
        "integer": "number",
        "floating": "number",
        "mixed-integer-float": "number",
        "decimal": "number",
        "boolean": "bool",
        "datetime": "datetime",
        "datetime64": "datetime64",
    }
    if inferred in uniform:
        return np.full(len(uniques), uniform[inferred], dtype=object)

    def kind(t: type) -> str:
        if issubclass(t, str):
            return "text"
        if issubclass(t, bool | np.bool_):
            return "bool"
        if issubclass(t, int | float | np.integer | np.floating | Decimal):
            return "number"
        if issubclass(t, dt.datetime):
            return "datetime"
        if issubclass(t, dt.date):
            return "date"
        if issubclass(t, np.datetime64):
            return "datetime64"
        return "other"

    types = np.fromiter(map(type, uniques), dtype=object, count=len(uniques))
    type_codes, distinct_types = pd.factorize(types)
    return np.array([kind(t) for t in distinct_types], dtype=object)[type_codes]


def clean_text(values: np.ndarray) -> pd.Series:
    """NFKC, dashes as ``-``, trimmed, inner whitespace collapsed (object dtype)."""
    s = pd.Series(values, dtype=object).str.normalize("NFKC").str.translate(DASHES)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()
