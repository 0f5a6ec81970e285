"""Exports pasted as the tools write them score exactly like the same data under contract names.

One set of customers and events is written twice into a new book: once with the contract's
column names and cell types, once the way the tools export it — a Japanese Salesforce
account report with its footer and website URLs, a Mixpanel event export (epoch seconds,
``$email``), a Zendesk legacy ticket export (``Summation column``, ``+0900`` timestamps,
rows with only an organisation name) and a Qualtrics survey export (three header rows).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from tests.workbooks import cell_values, cli, sheet_frame

AS_OF = dt.date(2026, 9, 20)
JST = dt.timezone(dt.timedelta(hours=9))

CUSTOMERS = [  # id, name, owner, website, domain, renewal
    ("001D000000IRFma", "株式会社アルファ", "山田 太郎", "https://www.alpha.co.jp/", "alpha.co.jp",
     dt.date(2026, 11, 30)),
    ("001D000000IRFmA", "ベータ株式会社", "佐藤 花子", "http://beta.co.jp/about", "beta.co.jp",
     dt.date(2027, 3, 31)),
    ("001D000000KxYzQ", "ガンマ合同会社", "鈴木 一郎", "www.gamma.jp", "gamma.jp",
     dt.date(2026, 10, 15)),
]  # fmt: skip
# the first two IDs differ only by case: two Salesforce records, never one customer


def _logins() -> list[tuple[str, dt.datetime]]:
    out = []
    for k, (_, _, _, _, domain, _) in enumerate(CUSTOMERS):
        for day in range(0, 14 - 4 * k, 1 + k):
            when = dt.datetime(2026, 9, 19, 22, 30, tzinfo=JST) - dt.timedelta(days=day)
            out.append((f"user{k}@{domain}", when))
    return out


TICKETS = [  # customer index or None, email or '', organisation, type, created (JST)
    (0, "kim@alpha.co.jp", "株式会社アルファ", "incident", dt.datetime(2026, 9, 5, 8, 7, 12)),
    (1, "", "ベータ株式会社", "question", dt.datetime(2026, 8, 1, 14, 2, 44)),  # name only
    (2, "lee@gamma.jp", "ガンマ合同会社", "incident", dt.datetime(2026, 6, 10, 9, 0, 0)),
]
SURVEYS = [  # customer index, nps, recorded (JST wall clock)
    (0, 9, dt.datetime(2026, 9, 1, 10, 5)),
    (1, 4, dt.datetime(2026, 9, 2, 10, 5)),
    (2, 7, dt.datetime(2026, 8, 2, 10, 5)),
    (2, 10, dt.datetime(2026, 9, 12, 10, 5)),
]


def contract_sheets() -> dict[str, list[list]]:
    return {
        "Customers": [
            ["customer_id", "customer_name", "owner", "email_domain", "renewal_date"],
            *[[i, n, o, d, r] for i, n, o, _, d, r in CUSTOMERS],
        ],
        "Logins": [
            ["email", "user_id", "date"],
            *[[e, e.split("@")[0], w.replace(tzinfo=None)] for e, w in _logins()],
        ],
        "Support": [
            ["customer_id", "email", "opened", "category"],
            *[[CUSTOMERS[c][0], e or None, when, kind] for c, e, _, kind, when in TICKETS],
        ],
        "Surveys": [
            ["customer_id", "date", "nps"],
            *[[CUSTOMERS[c][0], when, nps] for c, nps, when in SURVEYS],
        ],
    }


def export_sheets() -> dict[str, list[list]]:
    salesforce = [
        ["取引先 ID", "取引先名", "取引先 所有者", "種別", "Webサイト", "契約終了日"],
        *[[i, n, o, "顧客", w, f"{r:%Y/%m/%d}"] for i, n, o, w, _, r in CUSTOMERS],
        [],
        [f"総計 ({len(CUSTOMERS)} レコード)"],
        ["機密情報 - 配布禁止"],
        ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."],
    ]
    mixpanel = [
        ["event", "distinct_id", "$email", "time", "mp_processing_time_ms"],
        *[
            ["Login", e.split("@")[0], e, int(w.timestamp()), int(w.timestamp() * 1000) + 321]
            for e, w in _logins()
        ],
    ]  # fmt: skip
    zendesk = [
        ["Summation column", "Id", "Requester", "Requester email", "Subject", "Status",
         "Priority", "Ticket type", "Created at", "Updated at", "Organization"],
        *[
            [k + 1, 4100 + k, "Requester", e, "Subject", "open", "Normal", kind,
             f"{when:%Y-%m-%d %H:%M:%S} +0900", f"{when:%Y-%m-%d %H:%M:%S} +0900", org]
            for k, (_, e, org, kind, when) in enumerate(TICKETS)
        ],
    ]  # fmt: skip
    question = "How likely are you to recommend us to a friend or colleague?"
    qualtrics = [
        ["StartDate", "EndDate", "Status", "RecordedDate", "ResponseId", "ExternalReference",
         "Q1", "Q1_NPS_GROUP"],
        ["Start Date", "End Date", "Response Type", "Recorded Date", "Response ID",
         "External Data Reference", question, f"{question} - Group"],
        ['{"ImportId":"startDate","timeZone":"Asia/Tokyo"}', '{"ImportId":"endDate"}',
         '{"ImportId":"status"}', '{"ImportId":"recordedDate","timeZone":"Asia/Tokyo"}',
         '{"ImportId":"_recordId"}', '{"ImportId":"externalDataReference"}',
         '{"ImportId":"QID1"}', '{"ImportId":"QID1_NPS_GROUP"}'],
        *[
            [f"{w - dt.timedelta(minutes=4):%Y-%m-%d %H:%M:%S}", f"{w:%Y-%m-%d %H:%M:%S}",
             "IP Address", f"{w:%Y-%m-%d %H:%M:%S}", f"R_{k}", CUSTOMERS[c][0], nps,
             "Promoter" if nps >= 9 else "Detractor" if nps <= 6 else "Passive"]
            for k, (c, nps, w) in enumerate(SURVEYS)
        ],
    ]  # fmt: skip
    return {"Customers": salesforce, "Logins": mixpanel, "Support": zendesk, "Surveys": qualtrics}


def book_with(path: Path, sheets: dict[str, list[list]]) -> Path:
    assert cli("new", str(path))[0] == 0
    wb = openpyxl.load_workbook(path)
    for name, rows in sheets.items():
        ws = wb[name]
        ws.delete_rows(1, ws.max_row)
        ws.data_validations.dataValidation = []
        for row in rows:
            ws.append(row)
    settings = wb["Settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "as_of":
            row[1].value = AS_OF
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("exports")
    contract = book_with(folder / "contract.xlsx", contract_sheets())
    exports = book_with(folder / "exports.xlsx", export_sheets())
    for path in (contract, exports):
        code, out = cli("refresh", str(path))
        assert code == 0, out
    return contract, exports


def test_exports_score_exactly_like_contract_columns(books):
    contract, exports = books
    a = sheet_frame(contract, "Summary").set_index("customer_id")
    b = sheet_frame(exports, "Summary").set_index("customer_id")
    assert list(b.index) == [c[0] for c in CUSTOMERS]  # case-only variants stay two customers
    columns = ["score", "tier", "engagement", "adoption", "reasons", "completeness"]
    assert b[columns].astype(str).equals(a[columns].astype(str)), (a[columns], b[columns])
    assert b["score"].notna().all()


def test_checks_show_which_header_fed_which_field(books):
    _, exports = books
    lines = [
        " | ".join("" if v is None else str(v) for v in row)
        for row in cell_values(exports, ["Checks"])["Checks"]
    ]
    text = "\n".join(lines)
    for expected in (
        "Customers | customer_id | 取引先 ID | Salesforce export",
        "Customers | email_domain | Webサイト | Salesforce export",
        "Logins | date | time | Mixpanel export",
        "Support | opened | Created at | Zendesk export",
        "Support | customer_name | Organization | Zendesk export",
        "Surveys | date | RecordedDate | Qualtrics export",
        "Surveys | nps | Q1 | Qualtrics export",
        "Support |  | Summation column | ignored",
        "not data: row 2: extra header row",
        "not data: row 6: report footer",
    ):
        assert any(expected in line for line in lines), f"{expected!r} not on Checks:\n{text}"
    assert "differ only by case" in text
    assert "not a date" not in text and "unknown customer" not in text, text


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_demo_with_realistic_exports_scores_like_the_contract_demo(tmp_path, lang):
    plain, exports = tmp_path / "plain.xlsx", tmp_path / "exports.xlsx"
    assert cli("demo", "--customers", "60", "--lang", lang, "-o", str(plain))[0] == 0
    code, out = cli(
        "demo", "--customers", "60", "--lang", lang, "--realistic-exports", "-o", str(exports)
    )
    assert code == 0, out
    headers = [c for c in cell_values(exports, ["Customers"])["Customers"][0] if c]
    assert ("取引先 ID" if lang == "ja" else "Account ID") in headers
    assert "customer_id" not in headers
    a = sheet_frame(plain, "Summary").set_index("customer_id")
    b = sheet_frame(exports, "Summary").set_index("customer_id")
    columns = ["score", "tier", "score_change", "engagement", "cmi", "reasons", "completeness"]
    assert b[columns].astype(str).equals(a[columns].astype(str))
    code, out = cli("check", str(exports))
    assert code == 0 and "0 problem(s)" in out, out
    checks = "\n".join(" | ".join(str(v) for v in row if v) for row in
                       cell_values(exports, ["Checks"])["Checks"])  # fmt: skip
    assert "Support | customer_name | Organization | " in checks
    assert "Customers | arr | " in checks and "Columns" in checks


@pytest.mark.parametrize("when", ["05/Nov/26 3:42 PM", "9/5/2026 2:02 PM", "2026年9月5日"])
def test_a_first_row_dated_with_words_is_data_not_an_extra_header(when):
    """Found by the sources hypothesis test: a one-row Jira paste was dropped as a header."""
    from xlhealth.inputs.grid import sheet_from_grid

    grid = [["customer_id", "date", "kind"], ["C001", when, "call"], ["C002", "2026-11-01", "x"]]
    problems: list = []
    read = sheet_from_grid("Logins", grid, problems)
    assert read.frame["customer_id"].tolist() == ["C001", "C002"]
    assert not read.skipped
