"""The ``xlhealth`` command line: a thin front end over the library.

Every user error is one line per problem (``error: Sheet!C17, row 17, column nps (11):
must be between 0 and 10``) and exit code 1; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
import pandas as pd

from xlhealth.core.problems import ConfigError, Problem, RefreshError
from xlhealth.demo import data as demo_data
from xlhealth.refresh import Report, check, refresh
from xlhealth.sheets.template import new_workbook, replace_inputs


def _progress(message: str) -> None:
    click.echo(f"… {message}", err=True)


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
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Workbook to write [default: HealthScore-demo.xlsx, or "
    "HealthScore-demo-ja.xlsx with --lang ja].",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option(
    "--realistic-exports",
    is_flag=True,
    help="Fill the input sheets the way Salesforce, Segment, Zendesk and Qualtrics export them "
    "(Checks then shows which header fed which field).",
)
@click.option(
    "--events",
    type=click.Choice(["parquet", "csv"]),
    default=None,
    help="Write the logins as Parquet or CSV files in a folder beside the workbook "
    "(NAME-events/), read through a Sources row, instead of into the Logins sheet.",
)
@click.pass_context
def demo(
    ctx: click.Context,
    customers: int,
    lang: str,
    output: Path | None,
    force: bool,
    realistic_exports: bool,
    events: str | None,
) -> None:
    """Build a demo workbook in use: realistic synthetic data refreshed weekly for eight weeks,
    with a CS team working the Action list in between."""
    from xlhealth.demo.events import events_folder, sources_table, write_logins
    from xlhealth.demo.exports import as_exports, columns_table
    from xlhealth.demo.living import LIVING_MAX, living_demo

    def shaped(frames: dict) -> dict:
        frames = as_exports(frames, lang) if realistic_exports else frames
        if events:  # the logins go to files beside the book, read through the Sources sheet
            write_logins(frames.pop("Logins"), events_folder(path), events)
        return frames

    with _user_errors(ctx):
        path = output or Path(
            "HealthScore-demo-ja.xlsx" if lang == "ja" else "HealthScore-demo.xlsx"
        )
        if not path.parent.is_dir():
            raise RefreshError(
                f"folder {path.parent} does not exist; create it or choose another -o"
            )
        if path.exists():
            if not force:
                raise RefreshError(
                    f"{path} already exists; use --force to overwrite it or -o "
                    "to choose another name"
                )
            path.unlink()
        config = ({"Columns": columns_table(lang)} if realistic_exports else {}) | (
            {"Sources": sources_table(path, events_folder(path), events)} if events else {}
        )
        if customers <= LIVING_MAX:
            _progress(f"Generating {customers:,} customers and a year of their history")
            report = living_demo(path, customers, lang, shaped, config, _progress)
            _summary_after_write(report)
            return
        today = dt.date.today()
        earlier = today - dt.timedelta(days=28)
        _progress(f"Generating {customers:,} customers with ~30 events each")
        new_workbook(
            path,
            lang,
            inputs=shaped(demo_data.generate(customers, lang, as_of=earlier, drift=1)),
            config=({"Columns": columns_table(lang)} if realistic_exports else {})
            | ({"Sources": sources_table(path, events_folder(path), events)} if events else {}),
        )
        if events:
            _progress(f"Logins in {events_folder(path).name}/ ({events}), read through Sources")
        _progress(f"Refreshing as of {earlier} (last month's snapshot for History)")
        refresh(path, as_of=earlier, backup=False)
        replace_inputs(path, shaped(demo_data.generate(customers, lang, as_of=today)), lang)
        _progress(f"Refreshing as of {today}")
        report = refresh(path, as_of=today, backup=False, progress=_progress)
        _summary_after_write(report)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@click.pass_context
def new(ctx: click.Context, path: Path, lang: str) -> None:
    """Create an empty workbook: config sheets with the default model, input sheets ready."""
    with _user_errors(ctx):
        if not path.parent.is_dir():
            raise RefreshError(f"folder {path.parent} does not exist; create it first")
        try:
            new_workbook(path, lang)
        except (FileExistsError, ValueError) as error:
            raise RefreshError(str(error)) from error
        click.echo(
            f"Created {path}. Paste your exports into its input sheets, then run: "
            f"xlhealth refresh {path}"
        )


@main.command(name="refresh")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Score as of this date (default: Settings as_of, else today).",
)
@click.option("--no-backup", is_flag=True, help="Do not keep NAME.bak of the previous file.")
@click.option("--no-cache", is_flag=True, help="Read CSV sources afresh (not NAME-cache/sources/).")
@click.pass_context
def refresh_cmd(ctx: click.Context, path: Path, as_of: dt.datetime | None, **flags: bool) -> None:
    """Score the workbook and rewrite its output sheets, keeping what people typed there."""
    with _user_errors(ctx):
        report = refresh(path, as_of=as_of.date() if as_of else None, progress=_progress,
                         backup=not flags["no_backup"], cache=not flags["no_cache"])  # fmt: skip
        _summary_after_write(report)


@main.command(name="suggest")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--apply",
    is_flag=True,
    help="Also write the suggested weights into the weight cells of Metrics (keeps NAME.bak).",
)
@click.option(
    "--cuts",
    is_flag=True,
    help="With --apply: also write the suggested cut points and points into Rules, for the "
    "metrics whose re-banding shows a reliable gain.",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Today for the back-test (default: Settings as_of, else today).",
)
@click.pass_context
def suggest_cmd(
    ctx: click.Context, path: Path, apply: bool, cuts: bool, as_of: dt.datetime | None
) -> None:
    """Write the Suggestions sheet: evidence per metric, weights and cut points from the
    honest back-test, cross-validated. Changes the model only with --apply."""
    from xlhealth.suggest_book import suggest_book, summary_lines

    if cuts and not apply:
        click.echo("error: --cuts writes into Rules, so it needs --apply too; nothing was written")
        sys.exit(2)
    with _user_errors(ctx):
        report = suggest_book(
            path,
            apply=apply,
            as_of=as_of.date() if as_of else None,
            cuts=cuts,
            progress=_progress,
        )
        for line in summary_lines(report):
            click.echo(line)


@main.command(name="check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.pass_context
def check_cmd(ctx: click.Context, path: Path, as_of: dt.datetime | None) -> None:
    """Validate config and data without writing; exit code 1 when a refresh would stop."""
    with _user_errors(ctx):
        result, problems = check(path, as_of.date() if as_of else None, progress=_progress)
        for problem in problems:
            kind = "error" if problem.blocking else "warning"
            click.echo(f"{kind}: {problem}")
        blocking = [p for p in problems if p.blocking]
        if result is not None:
            click.echo(
                f"{len(result.summary):,} customers can be scored; {len(problems)} "
                f"problem(s), {len(blocking)} blocking."
            )
        if blocking or result is None:
            sys.exit(1)


@main.command(name="export")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the files [default: 'BOOK export' beside BOOK].",
)
@click.option(
    "--by",
    type=click.Choice(["owner", "segment"]),
    default=None,
    help="One file per owner (or segment), each with only its customers.",
)
@click.option(
    "--sheets",
    default="Summary,Actions,Segments,Checks",
    show_default=True,
    help="Sheets to include, comma-separated.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "ja"]),
    default=None,
    help="Labels in this language [default: the workbook's].",
)
@click.option("--no-all", is_flag=True, help="With --by: no file with all customers.")
@click.option("--drafts", is_flag=True, help="Also write an unsent e-mail draft (.eml) per file.")
@click.pass_context
def export_cmd(
    ctx: click.Context,
    book: Path,
    out_dir: Path | None,
    by: str | None,
    sheets: str,
    lang: str | None,
    no_all: bool,
    drafts: bool,
) -> None:
    """Write macro-free, value-only .xlsx files (and drafts) to send by e-mail."""
    from xlhealth.export import export

    with _user_errors(ctx):
        chosen = tuple(s.strip() for s in sheets.split(",") if s.strip())
        files = export(book, out_dir, by, chosen, lang, include_all=not no_all, drafts=drafts)
        for item in files:
            extra = f" + {item.draft.name}" if item.draft else ""
            click.echo(f"  {item.path}  ({item.customers:,} customers){extra}")
        click.echo(f"Wrote {len(files)} file(s). Nothing was sent.")


@main.command(name="collect")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-backup", is_flag=True, help="Do not keep BOOK.bak.")
@click.pass_context
def collect_cmd(ctx: click.Context, book: Path, files: tuple[Path, ...], no_backup: bool) -> None:
    """Take status, note and snooze_until from owners' copies (export --by owner) back
    into BOOK's Actions; conflicts keep the book's value and are listed."""
    from xlhealth.collect import collect

    with _user_errors(ctx):
        done = collect(book, list(files), backup=not no_backup)
        for problem in done.problems:
            click.echo(f"  {problem}")
        click.echo(
            f"Took {done.changed} cell(s) from {len(done.files)} file(s) into {book.name}"
            + (f"; refused {len(done.refused)} file(s)" if done.refused else "")
            + (f"; previous version kept as {done.backup.name}" if done.backup else "")
        )
        if done.refused:
            ctx.exit(1)


@main.group()
def questionnaire() -> None:
    """Maturity questionnaires: write one per customer, import the filled ones."""


@questionnaire.command(name="new")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--customer", "customers", multiple=True, help="Customer ID (repeatable).")
@click.option("--all", "every", is_flag=True, help="Every customer on Customers.")
@click.option("--segment", default=None, help="Every customer of this segment.")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder [default: 'questionnaires' beside BOOK].",
)
@click.option("--lang", type=click.Choice(["en", "ja"]), default=None)
@click.pass_context
def questionnaire_new(
    ctx: click.Context,
    book: Path,
    customers: tuple[str, ...],
    every: bool,
    segment: str | None,
    out_dir: Path | None,
    lang: str | None,
) -> None:
    """Write pre-filled questionnaires from BOOK's MaturityModel."""
    from xlhealth.questionnaire import new_questionnaires

    with _user_errors(ctx):
        paths = new_questionnaires(book, out_dir, customers, every, segment, lang)
        for path in paths:
            click.echo(f"  {path}")
        click.echo(f"Wrote {len(paths)} questionnaire(s).")


@questionnaire.command(name="template")
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder [default: the templates/ folder].",
)
@click.pass_context
def questionnaire_template(ctx: click.Context, folder: Path | None) -> None:
    """Regenerate the blank questionnaire templates (English and Japanese)."""
    from xlhealth.questionnaire import write_templates

    with _user_errors(ctx):
        for path in write_templates(folder):
            click.echo(f"Wrote {path}")


@questionnaire.command(name="import")
@click.argument("book", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def questionnaire_import(ctx: click.Context, book: Path, paths: tuple[Path, ...]) -> None:
    """Import filled questionnaires (files or folders) into BOOK's Maturity sheet."""
    from xlhealth.questionnaire import import_questionnaires

    with _user_errors(ctx):
        report = import_questionnaires(book, paths)
        for f in report.imported:
            note = f"; unanswered: {', '.join(f.unanswered)}" if f.unanswered else ""
            click.echo(
                f"imported: {f.path.name} — {f.customer_id}, {f.assessed_on}, "
                f"{len(f.answers)} answers{note}"
            )
        for customer, old in report.replaced:
            click.echo(f"replaced: earlier assessment of {customer}" + (f" ({old})" if old else ""))
        for _, why in report.skipped:
            click.echo(f"skipped: {why}")
        for _, why in report.notes:
            click.echo(f"note: {why}")
        for _, why in report.rejected:
            click.echo(f"rejected: {why}")
        click.echo(
            f"{len(report.imported)} imported, {len(report.replaced)} replaced, "
            f"{len(report.rejected)} rejected."
        )
        if report.rejected:
            sys.exit(1)


@main.command(name="build-workbook")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("workbook/HealthScore.xlsm"),
    show_default=True,
)
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@click.pass_context
def build_workbook_cmd(ctx: click.Context, output: Path, lang: str) -> None:
    """Generate the macro-enabled workbook (VBA, ribbon, UDF wrappers) from templates/."""
    from xlhealth.excel.build import build_workbook

    with _user_errors(ctx):
        path = build_workbook(output, lang)
        click.echo(f"Wrote {path}")


def _summary(report: Report) -> None:
    result = report.result
    model = result.model
    s = result.summary
    click.echo(
        f"{report.path}: {len(s):,} customers scored as of {result.as_of}, "
        f"mean score {s['score'].mean():.1f}"
    )
    counts = s["tier"].value_counts()
    for tier in sorted(model.tiers, key=lambda t: -t.tier):
        n = int(counts.get(tier.tier, 0))
        bar = "█" * round(30 * n / max(len(s), 1))
        click.echo(f"  {tier.tier} {_pad(tier.text(model.settings.language), 10)} {n:>7,} {bar}")
    actions = result.actions
    if "status_seen" in actions:  # the open ones; done, snoozed and declined stay on the sheet
        actions = actions[(actions["status_seen"] == "open").to_numpy()]
    if len(actions):
        click.echo(f"Top actions ({len(actions):,} open, see the Actions sheet):")
        for row in actions.head(5).itertuples():
            due = pd.Timestamp(row.due).strftime("%Y-%m-%d") if pd.notna(row.due) else "-"
            priority = "-" if pd.isna(row.priority) else int(row.priority)
            click.echo(
                f"  P{priority} {due} {row.customer_name} "
                f"({row.owner}): {row.trigger} → {row.action}"
            )
    if report.problems:
        click.echo(f"{len(report.problems)} data problem(s) listed on the Checks sheet, e.g.:")
        for problem in report.problems[:3]:
            click.echo(f"  {problem}")
    if report.backup:
        click.echo(f"Previous version kept as {report.backup.name}")


def _summary_after_write(report: Report) -> None:
    """The workbook is already written: a failure to print the summary must not say otherwise."""
    try:
        _summary(report)
    except Exception as error:  # the refresh itself succeeded
        click.echo(
            f"{report.path} was refreshed; the summary could not be printed here "
            f"({type(error).__name__}: {error}) — open the workbook",
            err=True,
        )


def _pad(text: str, width: int) -> str:
    """Pad for the terminal, counting East Asian wide characters as two columns."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


class _user_errors:
    """Turn expected failures into one line per problem and exit 1 (tracebacks with --debug)."""

    def __init__(self, ctx: click.Context):
        self.debug = bool(ctx.obj and ctx.obj.get("debug"))

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if error is None or isinstance(error, click.exceptions.Exit | SystemExit):
            return False
        if self.debug:
            return False
        problems: list[Problem] | None = None
        if isinstance(error, RefreshError | ConfigError):
            problems = error.problems
        if problems is not None:
            for problem in problems:
                click.echo(f"error: {problem}", err=True)
        elif isinstance(error, KeyboardInterrupt):
            click.echo("interrupted; the workbook was not changed", err=True)
        elif isinstance(error, PermissionError | OSError):
            click.echo(f"error: {error.strerror or error}: {error.filename or ''}", err=True)
        else:
            click.echo(
                f"error: unexpected {type(error).__name__}: {error} — the workbook was "
                "not changed; run with --debug and report it",
                err=True,
            )
        sys.exit(1)


@main.command(name="excel-setup")
@click.argument("book", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def excel_setup_cmd(ctx: click.Context, book: Path | None) -> None:
    """Tell xlwings in Excel to use this Python (user config, or BOOK's xlwings.conf sheet)."""
    from xlhealth.excel.setup import SetupError, excel_setup

    with _user_errors(ctx):
        try:
            setup = excel_setup(book)
        except SetupError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        for key, value in setup.settings.items():
            click.echo(f"{key} = {value}")
        click.echo(f"Wrote {setup.target}")
        for note in setup.notes:
            click.echo(f"note: {note}")
