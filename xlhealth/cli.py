"""The ``xlhealth`` command line (front end; thin)."""

from __future__ import annotations

import sys

import click


@click.group()
@click.version_option(package_name="xlhealth")
def main() -> None:
    """Customer health scores, tiers and maturity for Customer Success teams."""


@main.command()
@click.option("--customers", default=300, show_default=True, help="How many customers.")
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@click.option("-o", "--output", default="HealthScore-demo.xlsx", show_default=True)
def demo(customers: int, lang: str, output: str) -> None:
    """Build a complete demo workbook with realistic synthetic data and refresh it."""
    click.echo("xlhealth demo: not yet — the demo workbook arrives with the workbook pipeline.")
    sys.exit(0)
