"""Customer IDs that differ only by case, and e-mail domains.

The folding rule itself (trim, NFKC, Salesforce 18 -> 15, case fold) is the core's
(:mod:`xlhealth.core.text`): text bands and filters compare by it too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.core.text import normalise_one


def case_variants(exact: pd.Series) -> list[tuple[int, int]]:
    """Positions of pairs of distinct IDs that only case folding would make equal."""
    frame = pd.DataFrame({"exact": exact.to_numpy(dtype=object)}).dropna()
    frame = frame.drop_duplicates("exact")
    frame["folded"] = frame["exact"].map(str.casefold)
    clash = frame[frame["folded"].duplicated(keep=False)]
    return [
        (int(group.index[0]), int(group.index[1]))
        for _, group in clash.groupby("folded", sort=False)
    ]


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
