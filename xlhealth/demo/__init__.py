"""Synthetic books for the demo and the benchmarks: ``data`` (the sheets), ``events``
(logins as Parquet/CSV files), ``exports`` (the sheets as Salesforce, Zendesk… write them).
"""
