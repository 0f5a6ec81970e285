"""Turning what users have into core tables.

Column recognition (``columns``), export shapes (``shapes``: title rows, footers, extra
header rows), dates and numbers as exports write them (``dates``, ``values``), IDs,
e-mail domains and organisation names (``ids``, ``matching``) and ``sources`` (files and
databases, aggregated where they live). Imports only :mod:`xlhealth.core`.
"""
