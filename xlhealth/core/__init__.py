"""The rules, pure: pandas in, pandas out — no files, no Excel, nothing above this layer.

``model`` (+ ``model_tables``: one parser per config sheet), ``aggregate``, ``scoring``,
``maturity``, ``alerts``, ``checks``, ``backtest``, ``history``, ``overrides`` and the
``engine`` that runs one scoring pass; ``problems`` (located problems), ``tables`` (sheet
rows), ``exactsum``. Rows of input sheets are read through the protocol in ``rows``, which
:mod:`xlhealth.inputs` implements and the caller hands in.
"""
