"""When two texts are the same: trimmed, Unicode NFKC, Salesforce 18 -> 15, case folded.

IDs pasted from different systems differ in spacing, width (full-width digits from
Japanese input methods) and case; they are matched after this folding, and text bands
and filters compare by it. Work is done on the unique values only, so a 3-million-row
event table costs one factorize plus a few thousand string ops.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

SALESFORCE_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_15(text: str) -> str:
    """The 15-character form of an 18-character Salesforce ID; any other text unchanged.

    The 18-character form is the 15-character, case-sensitive ID plus a 3-character
    checksum of its letter case (one character per 5: bit i set when character i is an
    upper-case letter). Only text whose last three characters equal that checksum is cut,
    so an ordinary 18-character ID is left alone.
    """
    if len(text) != 18 or not text.isascii() or not text.isalnum():
        return text
    head = text[:15]
    check = "".join(
        SALESFORCE_CHECKSUM[sum(1 << i for i, c in enumerate(head[k : k + 5]) if "A" <= c <= "Z")]
        for k in (0, 5, 10)
    )
    return head if text[15:].upper() == check else text


def normalise_one(value: object, fold: bool = True) -> str | None:
    """Normalise one ID: NFKC, trim, Salesforce 18 -> 15, case fold (unless ``fold`` is off).

    ``fold=False`` is for books whose Customers hold IDs that differ only by case
    (Salesforce's 15-character IDs are case-sensitive): folding would merge two customers.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, str) and value.isascii():
        text = salesforce_15(value.strip())  # NFKC is the identity on ASCII
        return (text.lower() if fold else text) or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1001.0 from a number-formatted cell is ID "1001"
    text = salesforce_15(unicodedata.normalize("NFKC", str(value)).strip())
    return (text.casefold() if fold else text) or None


def normalised_codes(values: pd.Series, fold: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the normalised values (-1 for blanks) and the distinct normalised values.

    One factorize of the raw column, normalisation of its distinct values only,
    and a small second factorize to merge values that normalise alike.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normalised = np.array(
        [normalise_one(u, fold) for u in np.asarray(uniques, dtype=object)], dtype=object
    )
    merged, distinct = pd.factorize(normalised, use_na_sentinel=True)
    out = np.append(merged, -1)[codes]  # raw NA (code -1) picks the appended -1
    return out.astype(np.int64), np.asarray(distinct, dtype=object)


def normalise_ids(values: pd.Series, fold: bool = True) -> pd.Series:
    """Vectorised :func:`normalise_one` (object dtype; None for blanks)."""
    codes, distinct = normalised_codes(values, fold)
    return pd.Series(np.append(distinct, None)[codes], index=values.index, dtype=object)
