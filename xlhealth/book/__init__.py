"""Whole-workbook operations the front ends share: ``read`` (a book file -> tables through
``xlsx`` and ``inputs``), ``score`` (config -> Model, Sources, the core engine, located
problems) and ``files`` (refuse a book Excel holds open; safe file names). Imports
``sheets`` and below, never a front end.
"""
