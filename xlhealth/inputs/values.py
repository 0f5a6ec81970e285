"""Values as exports write them: website domains, organisation names and numbers.

Pure functions over pandas Series (no file I/O). Text is read after Unicode NFKC, so
full-width digits, letters and ``％``/``￥`` typed by Japanese input methods read like
ASCII; each distinct value is parsed once (a column is never walked row by row). Dates
live in :mod:`xlhealth.inputs.dates`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from xlhealth.inputs.distinct import clean_text, distinct_values

__all__ = ["domain_from_website", "organisation_key", "parse_numbers"]


# --------------------------------------------------------------------------- the others


def _per_distinct(
    values: pd.Series, texts: Callable[[pd.Series], np.ndarray], fill: object, dtype: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes, distinct values, their kinds, result per distinct value) — text ones filled."""
    codes, uniques, kinds = distinct_values(values)
    out = np.full(len(uniques), fill, dtype=dtype)
    text = kinds == "text"
    if text.any():
        out[text] = texts(clean_text(uniques[text]))
    return codes, uniques, kinds, out


def domain_from_website(values: pd.Series) -> pd.Series:
    """The domain a website, URL or email address names, for matching rows by domain.

    NFKC, case-folded, scheme/``mailto:``/user/port/path/query dropped, one leading
    ``www.`` label removed (only when two labels remain): ``https://www.alpha.co.jp/`` and
    ``someone@Alpha.CO.JP`` are both ``alpha.co.jp``. ``Name <a@b.jp>`` reads the
    address. A value that is not a domain of two or more labels ending in a letter
    top-level label (blanks, ``n/a``, IP addresses, ``localhost``, lists such as
    ``a.com; b.com``) is None. Object dtype, input index.
    """

    def domains(s: pd.Series) -> np.ndarray:
        s = s.str.casefold()
        s = s.str.replace(r"^.*<([^<>]+)>.*$", r"\1", regex=True).str.strip()
        s = s.str.replace(r"^(?:mailto:|[a-z][a-z0-9+.\-]*://|//)", "", regex=True)
        host = s.str.extract(r"^([^/?#\s]*)", expand=False)
        host = host.str.replace(r"^.*@", "", regex=True)
        host = host.str.replace(r":\d*$", "", regex=True).str.rstrip(".")
        host = host.str.replace(r"^www\.(?=[^.]+\.)", "", regex=True)
        label = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
        valid = host.str.fullmatch(rf"(?:{label}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{1,59}})")
        return host.where(valid.fillna(False).astype(bool), None).to_numpy(dtype=object)

    codes, _, _, out = _per_distinct(values, domains, None, object)
    return pd.Series(np.append(out, None)[codes], index=values.index, dtype=object)


def organisation_key(values: pd.Series) -> pd.Series:
    """The key of exact organisation-name matching: NFKC, case folding, no whitespace.

    Unicode's NFKC_Casefold (NFKC, casefold, NFKC) and then every whitespace character
    (ASCII, ideographic U+3000, no-break) and zero-width character removed — not
    collapsed, because Japanese names are written with or without a space after
    ``株式会社``: ``株式会社 アルファ``, ``株式会社アルファ`` and half-width ``ｶﾌﾞｼｷｶﾞｲｼｬ…`` forms
    meet. Nothing else is removed (legal suffixes, punctuation stay: the match is
    exact). Whole numbers (``1001`` or ``1001.0`` from a number cell) read as their digits.
    Blank → None. Object dtype, input index.
    """

    def keys(s: pd.Series) -> np.ndarray:
        s = s.str.casefold().str.normalize("NFKC")
        s = s.str.replace(r"[\s\u200b-\u200d\u2060\ufeff]+", "", regex=True)
        return s.where(s != "", None).to_numpy(dtype=object)

    codes, uniques, kinds, out = _per_distinct(values, keys, None, object)
    for k in np.flatnonzero(kinds == "number"):
        u = uniques[k]
        if np.isfinite(float(u)):
            out[k] = str(int(u)) if float(u).is_integer() else str(u)
    return pd.Series(np.append(out, None)[codes], index=values.index, dtype=object)


_CURRENCY_CODES = "usd|jpy|eur|gbp|aud|cad|chf|cny|hkd|inr|krw|nzd|sgd|twd"
_NUMBER_TEXT = re.compile(
    r"""^(?P<open>\()?\s*(?P<s1>[-+])?\s*
    (?:[$¥€£₩₹]|(?:CODES)\s?)?\s*
    (?P<s2>[-+])?\s*
    (?P<num>\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)(?P<exp>e[+-]?\d+)?
    \s*(?:円|(?:CODES))?\s*(?P<pct>%)?\s*(?P<close>\))?$""".replace("CODES", _CURRENCY_CODES),
    re.I | re.X,
)


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers as exports write them; float64 on the input's index, NaN where not a number.

    Numbers pass through (booleans and non-finite values are NaN). Text, after NFKC
    (``１２００``, ``￥``, ``％``): optional sign (``-``, ``+``, ``−``, or Japanese ``▲``/``△``
    for negative), optional currency (``$ ¥ € £ ₩ ₹``, ``円``, or a code such as ``USD``/``JPY``
    before or after), digits with ``,`` thousands separators in groups of three (``1,200``;
    ``1,2`` is not a number — it could be a European decimal) and ``.`` as the decimal
    point, an optional exponent (``1.2E+03``), a trailing ``%`` dividing by 100
    (``85%`` → 0.85), and accounting parentheses for negatives (``(1,200)`` → -1200).
    Blank text is NaN.
    """

    def numbers(s: pd.Series) -> np.ndarray:
        s = s.str.replace(r"^[▲△]\s*", "-", regex=True)
        parts = s.str.extract(_NUMBER_TEXT)
        opened, closed = parts["open"].notna(), parts["close"].notna()
        signs = parts["s1"].notna().astype(int) + parts["s2"].notna().astype(int)
        ok = (opened == closed) & (signs <= 1) & ~(opened & (signs > 0))
        number = pd.to_numeric(
            parts["num"].str.replace(",", "", regex=False) + parts["exp"].fillna(""),
            errors="coerce",
        )
        negative = opened | (parts["s1"] == "-") | (parts["s2"] == "-")
        number = number.where(~negative, -number) / np.where(parts["pct"].notna(), 100, 1)
        return number.where(ok).to_numpy(dtype=float)

    codes, uniques, kinds, out = _per_distinct(values, numbers, np.nan, float)
    if (number := kinds == "number").any():
        part = uniques[number].astype(float)
        out[number] = np.where(np.isfinite(part), part, np.nan)
    out = np.append(out, np.nan)[codes]
    return pd.Series(out, index=values.index, name=values.name, dtype=float)
