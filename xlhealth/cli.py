"""The ``xlhealth`` command line: a thin front end over the core.

Errors reach the user as one line per problem; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import datetime as dt
import sys

import click
import pandas as pd

from xlhealth import demo_data
from xlhealth.engine import Result, run
from xlhealth.model import default_tables, model_from_tables
from xlhealth.problems import ConfigError


@click.group()
@click.version_option(package_name="xlhealth")
@click.option("--debug", is_flag=True, help="Show full tracebacks (for bug reports).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Customer health scores, tiers and maturity for Customer Success teams."""
    ctx.obj = {"debug": debug}


@main.command()
@click.option(
    "--customers",
    default=300,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many synthetic customers.",
)
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@click.option(
    "-o", "--output", default=None, help="Workbook to write (arrives with the workbook pipeline)."
)
@click.pass_context
def demo(ctx: click.Context, customers: int, lang: str, output: str | None) -> None:
    """Score realistic synthetic customers with the default model and print what matters."""
    with _user_errors(ctx):
        tables = default_tables()
        tables["Settings"] = pd.concat(
            [tables["Settings"], pd.DataFrame({"key": ["language"], "value": [lang]})]
        ).drop_duplicates("key", keep="last")
        model = model_from_tables(tables)
        click.echo(f"Generating {customers:,} customers with ~30 events each …", err=True)
        sheets = demo_data.generate(customers, lang=lang)
        earlier = demo_data.AS_OF - dt.timedelta(days=28)
        first = run(model, sheets, as_of=earlier)
        result = run(model, sheets, history=first.history_rows, as_of=demo_data.AS_OF)
        _print_result(result)
        if output:
            click.echo(
                f"\nNot yet: writing the workbook {output} arrives with the workbook "
                "pipeline; the numbers above are what it will show."
            )


def _print_result(result: Result) -> None:
    s = result.summary
    model = result.model
    click.echo(
        f"As of {result.as_of:%Y-%m-%d}: {len(s):,} customers, mean score {s['score'].mean():.1f}"
    )
    click.echo("\nCustomers per tier")
    counts = s["tier"].value_counts()
    for tier in sorted(model.tiers, key=lambda t: -t.tier):
        n = int(counts.get(tier.tier, 0))
        bar = "#" * round(40 * n / max(len(s), 1))
        click.echo(f"  {tier.tier} {tier.text(model.settings.language):<10} {n:>7,}  {bar}")
    click.echo("\nTop actions")
    for row in result.actions.head(8).itertuples():
        click.echo(
            f"  P{row.priority} due {row.due:%Y-%m-%d}  {row.customer_name} "
            f"({row.owner}): {row.trigger} -> {row.action}"
        )
    click.echo(f"  … {len(result.actions):,} actions in all")
    ex = result.exemplars
    click.echo(f"\nExemplar check: {ex.in_order} of {ex.pairs} good/bad pairs in the right order")
    if result.backtest is not None:
        bt = result.backtest
        click.echo(
            f"Back-test: {bt.customers:,} outcomes, churn {bt.churn_rate:.0%}, "
            f"AUC {bt.auc:.2f}, lowest tier churns {bt.lift:.1f}× the average"
        )
    thin = result.coverage[result.coverage["flag"]]
    for row in thin.itertuples():
        click.echo(
            f"Coverage warning: {row.metric} has a value for {row.coverage:.0%} of customers"
        )


class _user_errors:
    """Turn ConfigError into one line per problem and exit 1; keep tracebacks for --debug."""

    def __init__(self, ctx: click.Context):
        self.debug = bool(ctx.obj and ctx.obj.get("debug"))

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None or self.debug or isinstance(error, click.exceptions.Exit | SystemExit):
            return False
        if isinstance(error, ConfigError):
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
        elif isinstance(error, KeyboardInterrupt):
            click.echo("interrupted", err=True)
        else:
            click.echo(f"error: {error} (run with --debug for details)", err=True)
        sys.exit(1)
