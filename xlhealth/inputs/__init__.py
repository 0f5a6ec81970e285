"""Turning what users have into core tables. Imports only :mod:`xlhealth.core`.

``specs`` (what each known sheet holds), ``grid`` (a sheet's grid of values -> a typed,
located table), ``shapes`` (title rows, extra header rows, report footers), ``columns``
(which pasted header feeds which field), ``dates``/``date_text``/``distinct``/``values``
(dates and numbers as exports write them), ``ids`` and ``matching`` (rows -> customers by
ID, e-mail domain or organisation name: the core's ``rows.Customers``), ``sources`` (files
and databases aggregated where they live: the core's ``rows.ExternalValues``).
"""
