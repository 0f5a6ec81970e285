"""Whole-workbook operations the front ends share (placeholder)."""
