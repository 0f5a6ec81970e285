"""xlhealth: customer health scores, tiers and maturity for Customer Success teams.

The pure core (:mod:`xlhealth.core`) takes pandas tables and returns pandas tables;
:mod:`xlhealth.inputs` reads what users have, :mod:`xlhealth.sheets` and
:mod:`xlhealth.xlsx` write the workbook, and the front ends sit on top (README "Layout").
"""

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from xlhealth.core import engine
from xlhealth.core.config import default_model, default_tables, model_from_tables
from xlhealth.core.engine import Result
from xlhealth.core.kept import Kept
from xlhealth.core.model import Model
from xlhealth.core.problems import ConfigError, Problem
from xlhealth.core.rows import ExternalValues
from xlhealth.inputs.matching import prepare_customers

__all__ = [
    "ConfigError",
    "Model",
    "Problem",
    "Result",
    "default_model",
    "default_tables",
    "model_from_tables",
    "run",
]
__version__ = "0.1.0"


def run(
    model: Model,
    sheets: Mapping[str, pd.DataFrame | None],
    history: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
    external: ExternalValues | None = None,
    kept: Kept | None = None,
) -> Result:
    """Score every customer of ``sheets['Customers']`` as of ``as_of`` (the core engine,
    reading rows as :mod:`xlhealth.inputs` does). ``external``: ``inputs.sources.open_sources``;
    ``kept``: the book's own Summary, Actions and ActionLog (what people typed there).
    """
    return engine.run(model, sheets, history, as_of, external, prepare=prepare_customers, kept=kept)
