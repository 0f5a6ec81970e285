"""The ``Sources`` config sheet: rows -> validated :class:`SourceSpec`, mistakes located.

One row per input sheet whose rows live outside the workbook::

    sheet    path                 format  encoding  mode    connection                   query
    Logins   events/*.parquet
    Support  exports/tickets.csv  csv     cp932     append
    Surveys                                                 postgresql://cs@db:5432/crm  nps

A mistake in the sheet itself (an unknown format, both ``path`` and ``connection``, a
password in a URL) blocks the refresh like every config sheet; a source that fails
while it is read (a missing file, an undecodable line, a failing query) is reported on
Checks and its sheet's metrics are skipped — see :mod:`xlhealth.inputs.sources`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from xlhealth.core.problems import Problem
from xlhealth.core.tables import iter_rows

SHEET = "Sources"
COLUMNS = ("sheet", "path", "format", "encoding", "mode", "connection", "query")
FORMATS = ("auto", "csv", "tsv", "parquet", "jsonl")
ENCODINGS = ("auto", "utf-8", "cp932")
MODES = ("replace", "append")
SOURCE_SHEETS = ("Usage", "Logins", "Support", "Surveys", "Contacts", "Onboarding")
"""Input sheets a Sources row may feed (the drop-down); another name works for a sheet that
only Metrics name. Customers and Maturity stay in the workbook: every other sheet is matched
to Customers, and Maturity is written by the questionnaire import."""
NOT_SOURCES = ("Customers", "Maturity")
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "utf8-sig": "utf-8",
    "cp932": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "s-jis": "cp932",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "auto": "auto",
}
_SCHEMES = {
    "duckdb": "duckdb",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "snowflake": "snowflake",
    "databricks": "spark",
    "spark": "spark",
    "clickhouse": "clickhouse",
    "clickhouses": "clickhouse",
    "chdb": "clickhouse",
}
_SECRETS = {"postgresql": "set PGPASSWORD or use ~/.pgpass (pgpass.conf on Windows)",
            "snowflake": "set SNOWFLAKE_PASSWORD or use the connector's connections.toml",
            "spark": "set DATABRICKS_TOKEN", "clickhouse": "set CLICKHOUSE_PASSWORD",
            "duckdb": "a DuckDB file needs none"}  # fmt: skip


@dataclass(frozen=True)
class SourceSpec:
    """One validated row of the Sources sheet."""

    sheet: str
    row: int
    path: str = ""
    format: str = "auto"
    encoding: str = "auto"
    mode: str = "replace"
    connection: str = ""
    query: str = ""

    @property
    def engine(self) -> str:
        """``files``, ``duckdb``, ``postgresql``, ``snowflake``, ``spark`` (Databricks too)
        or ``clickhouse`` (chDB too)."""
        if not self.connection:
            return "files"
        return _SCHEMES[_scheme(self.connection)]

    @property
    def what(self) -> str:
        """What the source reads, as shown on Checks (no credentials: none are allowed)."""
        if self.connection:
            query = " ".join(self.query.split())
            return f"{self.connection} : {query[:60]}{'…' if len(query) > 60 else ''}"
        return self.path

    @property
    def where(self) -> str:
        """``Sources row 3 (events/*.csv)``: how problems of this source say where it is."""
        return f"{SHEET} row {self.row} ({self.what})"

    def located(self, message: str, column: str = "path", value: object = None) -> Problem:
        """A problem about this row itself, on its Sources cell (never blocking)."""
        return Problem(SHEET, message, row=self.row, column=column, value=value)


def _scheme(url: str) -> str:
    scheme = url.split(":", 1)[0].casefold()
    return scheme.split("+", 1)[0]  # postgresql+psycopg:// as SQLAlchemy writes it


def read_sources(frame: pd.DataFrame | None, problems: list[Problem]) -> list[SourceSpec]:
    """The Sources sheet as specs; each mistake a blocking problem on its cell.

    An absent or empty sheet is no sources at all. Only the seven contract columns are
    read; anything else on the sheet (notes) is ignored.
    """
    if frame is None or frame.empty:
        return []
    keep = [c for c in frame.columns if c == "_row" or str(c).strip().casefold() in COLUMNS]
    specs: list[SourceSpec] = []
    seen: dict[str, int] = {}
    for row in iter_rows(SHEET, frame[keep], problems):
        before = len(problems)
        sheet = row.text("sheet", required=True)
        path = row.text("path")
        connection = row.text("connection")
        query = row.text("query")
        fmt = row.choice("format", FORMATS, default="auto").casefold()
        encoding = _encoding(row)
        mode = row.choice("mode", MODES, default="replace").casefold()
        canonical = {s.casefold(): s for s in (*SOURCE_SHEETS, *NOT_SOURCES)}
        sheet = canonical.get(sheet.casefold(), sheet)
        if sheet in NOT_SOURCES:
            row.problem(
                "sheet",
                f"{sheet} stays in the workbook (it cannot come from a file or database); "
                f"use one of {', '.join(SOURCE_SHEETS)}",
                sheet,
            )
        elif sheet and sheet.casefold() in seen:
            row.problem(
                "sheet",
                f"{sheet} already has a source on row {seen[sheet.casefold()]}; use one row "
                "per sheet (a glob such as events/*.csv or a folder reads several files)",
                sheet,
            )
        if path and connection:
            row.problem(
                "connection",
                "give either path (files) or connection (a database), not both",
                connection,
            )
        elif not path and not connection:
            row.problem("path", "give a path (a file, a glob or a folder) or a connection")
        if connection:
            _check_connection(row, connection, query, fmt, encoding)
        elif query:
            row.problem("query", "a query needs a connection (duckdb:/// or postgresql://)", query)
        if path and encoding != "auto" and fmt in ("parquet", "jsonl"):
            row.problem("encoding", f"{fmt} files are UTF-8 or binary; leave encoding blank",
                        encoding)  # fmt: skip
        if sheet:
            seen.setdefault(sheet.casefold(), row.sheet_row)
        if len(problems) > before:
            continue
        specs.append(
            SourceSpec(sheet, row.sheet_row, path, fmt, encoding, mode, connection, query.strip())
        )
    return specs


def _encoding(row) -> str:
    raw = row.text("encoding")
    if not raw:
        return "auto"
    found = _ENCODING_ALIASES.get(raw.strip().casefold().replace(" ", ""))
    if found is None:
        row.problem("encoding", f"unknown encoding; use one of {', '.join(ENCODINGS)}", raw)
        return "auto"
    return found


_PASSWORD_KEYS = {"password", "passwd", "pwd", "token", "access_token", "private_key",
                  "private_key_file_pwd", "secret"}  # fmt: skip


def _check_connection(row, url: str, query: str, fmt: str, encoding: str) -> None:
    scheme = _scheme(url)
    if scheme not in _SCHEMES or "://" not in url:
        row.problem(
            "connection",
            "write a database URL: duckdb:///events.duckdb (beside the workbook), "
            "postgresql://user@host:5432/db, snowflake://user@account/db/schema, "
            "databricks://token@host?http_path=…, clickhouse://user@host:8123/db",
            url,
        )
        return
    if has_password(url):
        row.problem(
            "connection",
            "remove the password from the URL: xlhealth never keeps credentials in the "
            f"workbook; {_SECRETS[_SCHEMES[scheme]]}",
            mask_password(url),
        )
    if _SCHEMES[scheme] == "duckdb" and not url.split("://", 1)[1].lstrip("/"):
        row.problem("connection", "name the DuckDB file: duckdb:///events.duckdb", url)
    if not query.strip():
        row.problem("query", "a connection needs a query: a table name or a SELECT", None)
    if fmt != "auto":
        row.problem("format", "format is for files; leave it blank with a connection", fmt)
    if encoding != "auto":
        row.problem("encoding", "encoding is for files; leave it blank with a connection",
                    encoding)  # fmt: skip


def has_password(url: str) -> bool:
    """A password in the URL: ``user:secret@host`` or ``?password=...``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc and ":" in netloc.rsplit("@", 1)[0]:
        return True
    return any(k.casefold() in _PASSWORD_KEYS for k, _ in parse_qsl(parts.query))


def mask_password(url: str) -> str:
    """The URL with any password replaced by ``***`` (for the message that reports it)."""
    url = re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)
    keys = "|".join(sorted(_PASSWORD_KEYS, key=len, reverse=True))
    return re.sub(rf"((?:{keys})=)[^&]*", r"\1***", url, flags=re.I)
