"""Each tool's sample export, pasted into its sheet as the user would, is read without a problem.

The CSV files in ``tests/data/exports`` are written the way each tool writes its export: the
quoting, the encoding (cp932 for Japanese Salesforce and kintone, a BOM for Typeform), the extra
header rows and the footers (see the README there). Each file is read the way a paste lands in a
sheet: it is decoded and parsed with the ``csv`` module, and cells that are plain numbers become
numbers, as Excel makes them. Everything else stays text. The sheet is then read with the built-in
aliases only.

Every expected value here is written by hand from ``templates/aliases.csv`` and
``xlhealth/dates.py``. A date that carries an offset keeps its wall clock, an epoch is UTC, and a
naive date is taken as written. Known product gaps are strict xfails: each one names the header or
value involved and what should happen instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from xlhealth.core.problems import Problem
from xlhealth.core.tables import normalise_header
from xlhealth.inputs.columns import Recogniser, builtin_aliases
from xlhealth.inputs.grid import Sheet, sheet_from_grid

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"


@dataclass(frozen=True)
class Export:
    file: str
    sheet: str
    encoding: str  # "utf-8", "utf-8-sig" (with BOM) or "cp932"
    fields: dict[str, str]  # field <- header, exactly as the export writes the header
    rows: int  # data rows
    skipped: tuple[int, ...] = ()  # sheet rows that are not data (extra headers, footers)
    dates: dict[str, dt.datetime] = field(default_factory=dict)  # first data row
    nps: tuple[float, ...] = ()


FIXTURES = [
    Export(
        "salesforce-account-report.csv",
        "Customers",
        "utf-8",
        {
            "customer_id": "Account ID",
            "customer_name": "Account Name",
            "owner": "Account Owner",
            "segment": "Account Type",  # rank 1; Industry is rank 2
            "email_domain": "Website",
        },
        rows=2,
        skipped=(5, 7, 8),  # Grand Totals, Confidential Information, Copyright
    ),
    Export(
        "salesforce-account-report-ja.csv",
        "Customers",
        "cp932",
        {
            "customer_id": "取引先 ID",
            "customer_name": "取引先名",
            "owner": "取引先 所有者",
            "segment": "種別",
            "email_domain": "Webサイト",
            "renewal_date": "契約終了日",
        },
        rows=2,
        skipped=(5, 6),  # 機密情報 - 配布禁止, Copyright
        dates={"renewal_date": dt.datetime(2026, 9, 30)},
    ),
    Export(
        "salesforce-dataloader-accounts.csv",
        "Customers",
        "utf-8",
        {
            "customer_id": "Id",
            "customer_name": "Name",
            "owner": "OwnerId",
            "segment": "Type",
            "email_domain": "Website",
        },
        rows=2,
    ),
    Export(
        "hubspot-companies.csv",
        "Customers",
        "utf-8",
        {
            "customer_id": "Record ID",
            "customer_name": "Company name",
            "email_domain": "Company Domain Name",
            "owner": "Company owner",
            "stage": "Lifecycle Stage",
            "segment": "Type",  # rank 1; Industry is rank 2
        },
        rows=2,
    ),
    Export(
        "hubspot-companies-ja.csv",
        "Customers",
        "utf-8",
        {
            "customer_id": "レコードID",
            "customer_name": "会社名",
            "email_domain": "会社のドメイン名",  # rank 1; ウェブサイトURL is rank 2
            "owner": "会社の所有者",
            "stage": "ライフサイクルステージ",
            "segment": "業種",  # the only ja segment alias (rank 2)
        },
        rows=2,
    ),
    Export(
        "kintone-customers.csv",
        "Customers",
        "cp932",
        {
            "customer_id": "レコード番号",
            "customer_name": "会社名",
            "owner": "担当者",
            "email_domain": "メールアドレス",
        },
        rows=2,
    ),
    Export(
        "zendesk-legacy-tickets.csv",
        "Support",
        "utf-8",
        {
            "opened": "Created at",
            "email": "Requester email",  # rank 1; Requester domain is rank 2
            "customer_name": "Organization",
            "category": "Ticket type",
            "severity": "Priority",
        },
        rows=2,
        dates={"opened": dt.datetime(2026, 9, 5, 8, 7, 12)},  # "… +0900": wall clock kept
    ),
    Export(
        "zendesk-explore-tickets.csv",
        "Support",
        "utf-8",
        {
            "opened": "Ticket created - Date",
            "severity": "Ticket priority",
            "category": "Ticket type",
            "customer_name": "Ticket organization name",
            "email": "Requester email",
        },
        rows=2,
        dates={"opened": dt.datetime(2026, 9, 5)},
    ),
    Export(
        "freshdesk-tickets.csv",
        "Support",
        "utf-8",
        {
            "opened": "Created time",
            "category": "Type",
            "severity": "Priority",
            "email": "Requester email",
            "customer_name": "Company Name",
        },
        rows=2,
        dates={"opened": dt.datetime(2026, 9, 5, 8, 7, 12)},
    ),
    Export(
        "jira-service-management-issues.csv",
        "Support",
        "utf-8",
        {
            "opened": "Created",
            "severity": "Priority",
            "category": "Custom field (Customer Request Type)",  # rank 1; Issue Type is rank 2
            "customer_name": "Custom field (Organizations)",
        },
        rows=2,
        dates={"opened": dt.datetime(2026, 9, 5, 15, 42)},  # 05/Sep/26 3:42 PM
    ),
    Export(
        "mixpanel-events.csv",
        "Logins",
        "utf-8",
        {"user_id": "distinct_id", "date": "time", "email": "$email"},
        rows=2,
        dates={"date": dt.datetime(2026, 9, 5, 8, 7, 12)},  # epoch 1788595632, UTC
    ),
    Export(
        "amplitude-events.csv",
        "Logins",
        "utf-8",
        {"user_id": "user_id", "date": "event_time"},  # rank 1 over amplitude_id, client time
        rows=2,
        dates={"date": dt.datetime(2026, 9, 5, 8, 7, 12)},  # .345000 truncated
    ),
    Export(
        "segment-tracks.csv",
        "Logins",
        "utf-8",
        {
            "user_id": "userId",  # rank 1; anonymousId is rank 2
            "customer_id": "groupId",
            "date": "timestamp",
            "email": "context.traits.email",
        },
        rows=2,
        dates={"date": dt.datetime(2026, 9, 5, 8, 7, 12)},  # "…T08:07:12.345Z": wall clock
    ),
    Export(
        "pendo-visitors.csv",
        "Logins",
        "utf-8",
        {"user_id": "Visitor ID", "customer_id": "Account ID", "date": "Last visit"},
        rows=2,
        dates={"date": dt.datetime(2026, 9, 5, 14, 2)},  # "Sep 5, 2026 2:02 PM"
    ),
    Export(
        "qualtrics-responses.csv",
        "Surveys",
        "utf-8",
        {
            "date": "RecordedDate",  # rank 1 over EndDate (2) and StartDate (3)
            "email": "RecipientEmail",
            "customer_id": "ExternalReference",
            "nps": "Q1",
        },
        rows=2,
        skipped=(2, 3),  # question texts, {"ImportId": …}
        dates={"date": dt.datetime(2026, 9, 5, 8, 3, 41)},  # naive, in row 3's Asia/Tokyo
        nps=(9, 4),
    ),
    Export(
        "surveymonkey-responses.csv",
        "Surveys",
        "utf-8",
        {
            "date": "End Date",  # rank 1; Start Date is rank 2
            "email": "Email Address",
            "nps": "How likely is it that you would recommend Acme to a friend or colleague?",
        },
        rows=2,
        skipped=(2,),  # the "Response" row
        dates={"date": dt.datetime(2026, 9, 5, 8, 3, 40)},  # 09/05/2026 08:03:40 AM
        nps=(9, 4),
    ),
    Export(
        "typeform-responses.csv",
        "Surveys",
        "utf-8-sig",
        {
            "date": "Submit Date (UTC)",
            "email": "email",
            "nps": "How likely are you to recommend Acme to a friend or colleague?",
        },
        rows=2,
        dates={"date": dt.datetime(2026, 9, 4, 23, 3, 40)},
        nps=(9, 4),
    ),
    Export(
        "delighted-responses.csv",
        "Surveys",
        "utf-8",
        {"nps": "Score", "email": "Email", "date": "Created At", "customer_name": "Company"},
        rows=2,
        dates={"date": dt.datetime(2026, 9, 5, 8, 3, 41)},  # "… +0900": wall clock kept
        nps=(9, 4),
    ),
]
BY_FILE = {f.file: f for f in FIXTURES}

GAPS: dict[tuple[str, str], str] = {}  # product gaps found here, as strict xfails (none left)


def cases(test: str, selected: list[Export] | None = None) -> list:
    out = []
    for fixture in FIXTURES if selected is None else selected:
        reason = GAPS.get((test, fixture.file))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(fixture.file, id=fixture.file.removesuffix(".csv"), marks=marks))
    return out


PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def cell(text: str) -> object:
    """A cell as Excel makes it on paste: plain numbers become numbers, the rest stays text."""
    if PLAIN_NUMBER.match(text):
        return float(text) if "." in text else int(text)
    return text


def grid_of(export: Export) -> list[list]:
    text = (EXPORTS / export.file).read_bytes().decode(export.encoding)
    rows = [[cell(v) for v in row] for row in csv.reader(io.StringIO(text, newline=""))]
    width = max(map(len, rows))
    return [row + [""] * (width - len(row)) for row in rows]


@functools.cache
def pasted(file: str) -> tuple[Sheet | None, tuple[Problem, ...]]:
    export = BY_FILE[file]
    problems: list[Problem] = []
    sheet = sheet_from_grid(
        export.sheet, grid_of(export), problems, recogniser=Recogniser(builtin_aliases())
    )
    return sheet, tuple(problems)


def read(file: str) -> Sheet:
    sheet, problems = pasted(file)
    assert sheet is not None, [str(p) for p in problems]
    return sheet


def test_every_fixture_is_tested_and_documented():
    on_disk = {p.name for p in EXPORTS.glob("*.csv")}
    assert on_disk == set(BY_FILE)
    readme = (EXPORTS / "README.md").read_text(encoding="utf-8")
    for name in on_disk:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("file", cases("encoding"))
def test_fixture_is_encoded_as_the_tool_writes_it(file):
    export = BY_FILE[file]
    raw = (EXPORTS / file).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (export.encoding == "utf-8-sig")
    if export.encoding == "cp932":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    text = raw.decode(export.encoding)
    for header in export.fields.values():
        assert header in text.splitlines()[0], header


@pytest.mark.parametrize("file", cases("fields"))
def test_expected_fields_are_recognised(file):
    sheet = read(file)
    assert {m.field: m.header for m in sheet.mapped} == BY_FILE[file].fields
    for m in sheet.mapped:  # "Email" is the contract name itself; other headers are aliases
        contract = normalise_header(m.header) == m.field
        assert (m.origin == "contract") if contract else m.origin.endswith(" export"), m


@pytest.mark.parametrize("file", cases("rows"))
def test_data_rows_and_rows_that_are_not_data(file):
    export = BY_FILE[file]
    sheet = read(file)
    assert len(sheet.frame) == export.rows, sheet.frame
    skipped = [int(re.match(r"row (\d+):", s).group(1)) for s in sheet.skipped]
    assert tuple(skipped) == export.skipped, sheet.skipped
    first = 2  # header on row 1; extra header rows push the first data row down
    while first in export.skipped:
        first += 1
    assert sheet.frame["_row"].iloc[0] == first


@pytest.mark.parametrize("file", cases("problems"))
def test_no_problems(file):
    _, problems = pasted(file)
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("file", cases("dates", [f for f in FIXTURES if f.dates]))
def test_dates_parse_to_the_written_calendar_time(file):
    sheet = read(file)
    for name, first in BY_FILE[file].dates.items():
        assert sheet.frame[name].notna().all(), sheet.frame[name]
        assert sheet.frame[name].iloc[0] == pd.Timestamp(first), name


@pytest.mark.parametrize("file", cases("nps", [f for f in FIXTURES if f.nps]))
def test_nps_values_are_numbers_from_0_to_10(file):
    sheet = read(file)
    assert "nps" in sheet.frame.columns, (sheet.mapped, sheet.ignored)
    nps = sheet.frame["nps"]
    assert pd.api.types.is_numeric_dtype(nps)
    assert nps.between(0, 10).all()
    assert tuple(nps) == BY_FILE[file].nps


def test_an_export_with_no_customer_link_is_read_and_says_what_is_missing():
    """Amplitude writes user_id and event_time but nothing that names the customer."""
    from xlhealth.inputs.matching import Source, prepare_customers

    sheet = read("amplitude-events.csv")
    assert sheet.header_row == 1 and len(sheet.frame) > 0
    problems: list[Problem] = []
    customers = prepare_customers(pd.DataFrame({"customer_id": ["A"]}))
    Source("Logins", sheet.frame, customers, problems)
    assert any("no column links these rows to a customer" in p.message for p in problems)
    assert any("Columns sheet" in p.message for p in problems)
