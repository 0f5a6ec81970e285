"""The rules, pure: pandas in, pandas out — no files, no Excel, nothing above this layer.

``model`` (the Model's classes), ``config`` (config sheets -> Model; ``model_tables``: one
parser per sheet), ``aggregate``, ``scoring``, ``maturity``, ``alerts``, ``checks``,
``backtest``, ``history``, ``overrides`` and the ``engine`` that runs one scoring pass;
``problems`` (located problems and the errors that carry them), ``tables`` (sheet rows),
``text`` (the folding rule), ``exactsum``. Input rows are read through the protocols of
``rows``, which :mod:`xlhealth.inputs` implements and the caller hands in.
"""
