"""Exact, order-independent sums: the correctly rounded sum of a customer's numbers.

Floating-point addition depends on order, and a database adds in whatever order its
threads meet the rows; so ``sum`` and ``mean`` are defined as the *correctly rounded*
exact sum, which the in-sheet path (numpy) and every SQL engine compute alike:

each number ``x`` with ``2⁻⁴¹ <= |x| < 2³¹`` (or 0) is split — with operations that are
exact in IEEE double arithmetic — into ``sign·⌊|x|⌋`` and three 31-bit integer chunks of
its fraction, so that ``x·2⁹³`` is an integer; integer sums are exact in any order, and
Python rounds the exact total once. Numbers outside that range (rare: a magnitude of two
billion or more, or below 5·10⁻¹³) are added exactly as fractions.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import numpy as np
import pandas as pd

SCALE = 2.0**31
TINY = 2.0**-41
BIG = 2.0**31
_SHIFT = 93


def chunks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(in range, h, g1, g2, g3) with ``x = h + (g1 + (g2 + g3·2⁻³¹)·2⁻³¹)·2⁻³¹`` exactly."""
    a = np.abs(x)
    ok = (x == 0) | ((a >= TINY) & (a < BIG))
    sign = np.sign(x)
    whole = np.floor(a)
    y = (a - whole) * SCALE
    g1 = np.floor(y)
    z = (y - g1) * SCALE
    g2 = np.floor(z)
    g3 = (z - g2) * SCALE
    parts = [np.where(ok, sign * p, 0).astype(np.int64) for p in (whole, g1, g2, g3)]
    return ok, *parts


def combine(
    h: Iterable[int], g1: Iterable[int], g2: Iterable[int], g3: Iterable[int],
    outliers: dict[int, list[tuple[float, int]]] | None = None,
) -> np.ndarray:  # fmt: skip
    """Correctly rounded totals from exact chunk sums (and out-of-range values with counts)."""
    h, g1, g2, g3 = (np.asarray([int(v) for v in p], dtype=object) for p in (h, g1, g2, g3))
    outliers = outliers or {}
    out = np.empty(len(h), dtype=float)
    for i in range(len(h)):
        if not (g1[i] or g2[i] or g3[i]) and i not in outliers and abs(h[i]) < 2**53:
            out[i] = float(h[i])  # whole numbers: the common case
            continue
        total = ((h[i] * 2**31 + g1[i]) * 2**31 + g2[i]) * 2**31 + g3[i]
        exact = Fraction(total, 2**_SHIFT)
        for value, count in outliers.get(i, ()):
            exact += Fraction(value) * count
        try:
            out[i] = float(exact)
        except OverflowError:
            out[i] = np.inf if exact > 0 else -np.inf
    return out


def exact_sums(pos: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """Per-position correctly rounded sums of finite ``x`` (0 where a position has none)."""
    ok, h, g1, g2, g3 = chunks(x)
    frame = pd.DataFrame({"pos": pos, "h": h, "g1": g1, "g2": g2, "g3": g3})
    sums = frame.groupby("pos").sum()  # int64: exact
    full = sums.reindex(range(n), fill_value=0)
    outliers: dict[int, list[tuple[float, int]]] = {}
    if not ok.all():
        odd = pd.DataFrame({"pos": pos[~ok], "x": x[~ok]}).value_counts().reset_index()
        for p, value, count in odd.itertuples(index=False):
            outliers.setdefault(int(p), []).append((float(value), int(count)))
    return combine(full["h"], full["g1"], full["g2"], full["g3"], outliers)
