"""xlhealth: customer health scores, tiers and maturity for Customer Success teams.

The pure core (``xlhealth.core.model``, ``aggregate``, ``scoring``, ``maturity``,
``alerts``, ``checks`` and ``engine``) takes pandas tables and returns pandas
tables; the workbook adapters and front ends sit around it.
"""

from xlhealth.core.config import default_model, default_tables, model_from_tables
from xlhealth.core.engine import Result, run
from xlhealth.core.model import Model
from xlhealth.core.problems import ConfigError, Problem

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
