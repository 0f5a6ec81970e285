"""The config sheets -> a validated :class:`~xlhealth.core.model.Model`.

An absent table takes its default from ``templates/model``; a present one replaces the
default entirely (default Rules/Alerts rows about metrics the book's own Metrics do not
define are left out, and listed). Every mistake is reported at once, each naming table,
row and column; blocking ones raise :class:`ConfigError`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from xlhealth.core import model_tables as parse
from xlhealth.core.model import CONFIG_SHEETS, Model, templates_dir
from xlhealth.core.problems import ConfigError, Problem


def default_tables() -> dict[str, pd.DataFrame]:
    """The default config tables (``templates/model/*.csv``), as the config sheets hold them."""
    return {name: table.copy() for name, table in _read_default_tables().items()}


@functools.cache
def _read_default_tables() -> dict[str, pd.DataFrame]:
    folder = templates_dir() / "model"
    return {
        name: pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""])
        for name in CONFIG_SHEETS
    }


def default_model() -> Model:
    return model_from_tables({})


# ----------------------------------------------------------------------------- parsing


def model_from_tables(
    tables: Mapping[str, pd.DataFrame | None],
    defaults: Mapping[str, pd.DataFrame] | None = None,
) -> Model:
    """Build and validate a Model; raise ConfigError listing every blocking problem."""
    fallback = default_tables() if defaults is None else defaults
    defaulted = {name for name in CONFIG_SHEETS if tables.get(name) is None}
    chosen = {
        name: fallback.get(name) if name in defaulted else tables[name] for name in CONFIG_SHEETS
    }
    problems: list[Problem] = []
    metrics = parse.parse_metrics(chosen["Metrics"], problems)
    names = {m.name for m in metrics}
    if "Metrics" not in defaulted and "Rules" in defaulted:
        chosen["Rules"] = _adapt_default(chosen["Rules"], "Rules", names, problems)
    metrics = parse.attach_bands(metrics, chosen["Rules"], problems)
    tiers = parse.parse_tiers(chosen["Tiers"], problems)
    maturity = parse.parse_maturity(chosen["MaturityModel"], problems)
    matrix = parse.parse_matrix(chosen["Matrix"], problems)
    settings = parse.parse_settings(chosen["Settings"], problems)
    if "Alerts" in defaulted and not {"Metrics", "Tiers"} <= defaulted:
        chosen["Alerts"] = _adapt_default(
            chosen["Alerts"], "Alerts", names, problems, {t.tier for t in tiers}
        )
    alerts = parse.parse_alerts(chosen["Alerts"], names, tiers, problems)
    problems = [_from_defaults(p) if p.sheet in defaulted else p for p in problems]
    blocking = [p for p in problems if p.blocking]
    if blocking:
        raise ConfigError(blocking)
    return Model(
        metrics=tuple(metrics),
        tiers=tuple(tiers),
        maturity=maturity,
        matrix=matrix,
        alerts=tuple(alerts),
        settings=settings,
        warnings=tuple(p for p in problems if not p.blocking),
    )


TAKE_CONTROL = (
    "the book has no {sheet} sheet, so the default {sheet} table applies; to change it, "
    "add a sheet named {sheet} (xlhealth new shows its shape)"
)


def _from_defaults(problem: Problem) -> Problem:
    """A problem in a defaulted table names where it comes from and how to take control."""
    if TAKE_CONTROL.format(sheet=problem.sheet) in problem.message:
        return problem  # already says it (the "left out" information line)
    return replace(
        problem,
        message=f"{problem.message} — {TAKE_CONTROL.format(sheet=problem.sheet)}",
        row=None,
    )


def _adapt_default(
    df: pd.DataFrame | None,
    sheet: str,
    metrics: set[str],
    problems: list[Problem],
    tiers: set[int] | None = None,
) -> pd.DataFrame | None:
    """Leave out default rows about metrics (or tiers) the book's own model does not have.

    A default table must never block a book for naming what the user's Metrics or Tiers
    do not define; what was left out is listed (information) so nothing disappears silently.
    """
    if df is None or "metric" not in df.columns:
        return df
    metric = df["metric"].fillna("").astype(str).str.strip()
    keep = (metric == "") | metric.isin(metrics)
    if tiers is not None and {"trigger", "threshold"} <= set(df.columns):
        on_tier = df["trigger"].astype(str).str.strip().isin(["tier_renewal", "tier_at_most"])
        threshold = pd.to_numeric(df["threshold"], errors="coerce")
        keep &= ~on_tier | threshold.isin(list(tiers))
    dropped = df[~keep]
    if dropped.empty:
        return df
    what = ", ".join(
        dict.fromkeys(
            m if m and m not in metrics else f"{row.get('trigger')} tier {row.get('threshold')}"
            for m, (_, row) in zip(metric[~keep], dropped.iterrows(), strict=True)
        )
    )
    problems.append(
        Problem(
            sheet,
            f"{len(dropped)} default {sheet} row(s) left out: they refer to what your own "
            f"Metrics/Tiers sheets do not define ({what}); " + TAKE_CONTROL.format(sheet=sheet),
        )
    )
    return df[keep].reset_index(drop=True)
