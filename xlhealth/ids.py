"""Customer-ID and email-domain normalisation.

IDs pasted from different systems differ in spacing, width (full-width
digits from Japanese input methods) and case; they are matched after trimming,
Unicode NFKC and case folding. Work is done on the unique values only, so a
3-million-row event table costs one factorize plus a few thousand string ops.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd


def normalise_one(value: object) -> str | None:
    """Normalise one ID: NFKC, trim, case fold; None for blanks."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, str) and value.isascii():
        text = value.strip().lower()  # NFKC and casefold are the identity/lower() on ASCII
        return text or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1001.0 from a number-formatted cell is ID "1001"
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    return text or None


def normalised_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the normalised values (-1 for blanks) and the distinct normalised values.

    One factorize of the raw column, normalisation of its distinct values only,
    and a small second factorize to merge values that normalise alike.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normalised = np.array(list(map(normalise_one, np.asarray(uniques, dtype=object))), dtype=object)
    merged, distinct = pd.factorize(normalised, use_na_sentinel=True)
    out = np.append(merged, -1)[codes]  # raw NA (code -1) picks the appended -1
    return out.astype(np.int64), np.asarray(distinct, dtype=object)


def normalise_ids(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_one` (object dtype; None for blanks)."""
    codes, distinct = normalised_codes(values)
    return pd.Series(np.append(distinct, None)[codes], index=values.index, dtype=object)


def normalise_domain(value: object) -> str | None:
    """``@Example.CO.JP `` -> ``example.co.jp``; also accepts a whole address."""
    text = normalise_one(value)
    if text is None:
        return None
    return text.rsplit("@", 1)[-1].strip() or None


def email_domains(values: pd.Series) -> pd.Series:
    """The normalised domain of each email address (None where there is none)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    domains = []
    for u in np.asarray(uniques, dtype=object):
        text = normalise_one(u)
        domains.append(text.rsplit("@", 1)[1].strip() or None if text and "@" in text else None)
    out = np.array([*domains, None], dtype=object)
    return pd.Series(out[codes], index=values.index, dtype=object)
