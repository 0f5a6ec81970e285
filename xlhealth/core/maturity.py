"""Customer Maturity Index (CMI) and the health × maturity matrix.

A characteristic's level is the mean of its answered factors; CMI is the
weighted mean of the characteristics that have at least one answer; the
maturity level is CMI rounded half up. Health alone misleads (the seed's
maturity-index article): the matrix turns (health, maturity) into a decision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlhealth.core.model import CHARACTERISTICS, Model
from xlhealth.core.problems import Problem
from xlhealth.core.rows import Customers, SheetRows
from xlhealth.core.scoring import round_half_up

CMI_DECIMALS = 2
LEVEL_COLUMNS = {c: c.lower() for c in CHARACTERISTICS}


def answers(
    model: Model, customers: Customers, maturity: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Valid answers, latest per (customer, factor): columns pos, factor, level, assessed_on."""
    problems: list[Problem] = []
    empty = pd.DataFrame(
        {
            "pos": pd.Series(dtype="int64"),
            "factor": pd.Series(dtype=object),
            "level": pd.Series(dtype=float),
            "assessed_on": pd.Series(dtype="datetime64[s]"),
        }
    )
    if maturity is None or maturity.empty:
        return empty, problems
    src = customers.sheet("Maturity", maturity, problems)
    for column in ("factor", "level"):
        if not src.has(column):
            problems.append(
                Problem(
                    "Maturity",
                    f"required column {column!r} is missing; add it to the header row",
                    row=1,
                    column=column,
                )
            )
            return empty, problems
    level = src.numbers("level")
    factor_key = src.text("factor")
    known = {f.factor.casefold(): f.factor for f in model.maturity.factors}
    factor = factor_key.map(known)
    valid = src.codes >= 0
    bad_factor = valid & factor.isna().to_numpy() & factor_key.notna().to_numpy()
    _report(
        problems,
        src,
        bad_factor,
        "factor",
        "unknown factor; use a factor name from the MaturityModel sheet",
    )
    bad_level = valid & ~np.isnan(level) & ((level < 1) | (level > 5) | (level != np.round(level)))
    _report(problems, src, bad_level, "level", "level must be a whole number from 1 to 5")
    keep = valid & factor.notna().to_numpy() & ~np.isnan(level) & ~bad_level
    dated = (
        src.days("assessed_on")
        if src.has("assessed_on")
        else np.full(len(level), "NaT", dtype="datetime64[D]")
    )
    table = pd.DataFrame(
        {
            "pos": src.codes[keep],
            "factor": factor.to_numpy(dtype=object)[keep],
            "level": level[keep],
            "assessed_on": dated[keep],
            "order": np.arange(len(level))[keep],
        }
    )
    # Latest assessment wins; undated answers count as oldest; same date: the lower row wins.
    table = table.sort_values(["assessed_on", "order"], na_position="first", kind="stable")
    table = table.drop_duplicates(["pos", "factor"], keep="last").drop(columns="order")
    return table.reset_index(drop=True), problems


def _report(
    problems: list[Problem], src: SheetRows, bad: np.ndarray, column: str, what: str
) -> None:
    for i in np.flatnonzero(bad)[:50]:
        problems.append(
            Problem(
                "Maturity",
                what + " — this answer is ignored",
                row=int(src.rows[i]),
                column=column,
                value=src.frame[column].iloc[i],
            )
        )
    if bad.sum() > 50:
        problems.append(
            Problem(
                "Maturity", f"{int(bad.sum()) - 50} more such answers not listed", column=column
            )
        )


def cmi(model: Model, table: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per customer: characteristic levels, cmi, maturity_level, assessed_on, answered."""
    chars = [c for c in CHARACTERISTICS if c in model.maturity.weights]
    char_of = model.maturity.characteristic_of()
    out = pd.DataFrame(index=range(n))
    if table.empty:
        for c in chars:
            out[LEVEL_COLUMNS[c]] = np.nan
        out["cmi"] = np.nan
        out["maturity_level"] = pd.array([pd.NA] * n, dtype="Int64")
        out["assessed_on"] = pd.NaT
        out["answered"] = 0
        return out
    t = table.assign(characteristic=table["factor"].map(char_of))
    levels = t.pivot_table(index="pos", columns="characteristic", values="level", aggfunc="mean")
    levels = levels.reindex(index=range(n), columns=chars)
    w = np.array([model.maturity.weights[c] for c in chars])
    lv = levels.to_numpy(dtype=float)
    answered = ~np.isnan(lv) & (w > 0)
    num = np.where(answered, lv * w, 0.0).sum(axis=1)
    den = np.where(answered, w, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    value = round_half_up(value, CMI_DECIMALS)
    for c in chars:
        out[LEVEL_COLUMNS[c]] = round_half_up(levels[c].to_numpy(dtype=float), CMI_DECIMALS)
    out["cmi"] = value
    level = np.floor(value + 0.5)
    out["maturity_level"] = pd.array(np.where(np.isnan(level), 0, level).astype(int), dtype="Int64")
    out.loc[np.isnan(level), "maturity_level"] = pd.NA
    grouped = t.groupby("pos")
    out["assessed_on"] = grouped["assessed_on"].max().reindex(range(n))
    out["answered"] = grouped["factor"].size().reindex(range(n)).fillna(0).astype(int)
    return out


def quadrants(model: Model, score: np.ndarray, cmi_values: np.ndarray) -> pd.DataFrame:
    """Health high/low × maturity high/low/unknown -> quadrant, decision, actions.

    A customer without a score has no health, so no quadrant: Checks says why.
    """
    s = model.settings
    score = np.asarray(score, dtype=float)
    cmi_values = np.asarray(cmi_values, dtype=float)
    health = np.where(np.isnan(score), "", np.where(score >= s.health_high_min, "high", "low"))
    maturity = np.where(
        np.isnan(cmi_values),
        "unknown",
        np.where(cmi_values >= s.maturity_high_min, "high", "low"),
    )
    keys = pd.Series(list(zip(health, maturity, strict=True)), dtype=object)
    out = pd.DataFrame({"health": health, "maturity": maturity})
    for what in ("quadrant", "decision", "actions"):
        mapping = {k: cell.text(what, s.language) for k, cell in model.matrix.items()}
        out[what] = keys.map(mapping).fillna("").to_numpy(dtype=object)
    return out
