"""Column recognition: contract name, then the Columns sheet, then export aliases."""

from __future__ import annotations

import pandas as pd

from xlhealth.inputs.columns import (
    FIELDS,
    ColumnsRow,
    Recogniser,
    builtin_aliases,
    columns_rows,
    prepare_aliases,
)
from xlhealth.inputs.grid import sheet_from_grid

ALIASES = prepare_aliases(
    pd.DataFrame(
        [
            ("Salesforce", "Customers", "customer_id", "取引先 ID", 1),
            ("Salesforce", "Customers", "customer_name", "取引先名", 1),
            ("Salesforce", "Customers", "owner", "取引先 所有者", 1),
            ("Salesforce", "Customers", "email_domain", "Webサイト", 1),
            ("Zendesk", "Support", "opened", "Created at", 1),
            ("Zendesk", "Support", "email", "Requester email", 1),
            ("Freshdesk", "Support", "opened", "Created time", 1),
            ("Qualtrics", "Surveys", "date", "RecordedDate", 1),
            ("Qualtrics", "Surveys", "date", "StartDate", 2),
            ("Qualtrics", "Surveys", "date", "EndDate", 2),
            ("Qualtrics", "Surveys", "email", "RecipientEmail", 1),
            ("Qualtrics", "Surveys", "nps", "Q1", 2),
            ("HubSpot", "Customers", "email_domain", "Company Domain Name", 1),
        ],
        columns=["tool", "sheet", "field", "header", "rank"],
    )
)


def recognise(sheet, header, columns=()):
    problems = []
    letters = [chr(65 + j) for j in range(len(header))]
    got = Recogniser(ALIASES, tuple(columns)).recognise(sheet, header, letters, 1, problems)
    return got, problems


def test_contract_name_first_then_columns_then_alias():
    got, problems = recognise("Customers", ["取引先 ID", "取引先名", "Customer_ID", "Region"])
    assert got.names == ["取引先_id", "customer_name", "customer_id", "region"]
    assert [(m.field, m.origin) for m in got.mapped] == [
        ("customer_id", "contract"),
        ("customer_name", "Salesforce export"),
    ]
    assert not problems
    row = ColumnsRow("Customers", "customer_name", "Region", 3)
    got, _ = recognise("Customers", ["取引先 ID", "取引先名", "Region"], [row])
    assert got.names == ["customer_id", "取引先名", "customer_name"]
    assert {m.field: m.origin for m in got.mapped} == {
        "customer_id": "Salesforce export",
        "customer_name": "Columns row 3",
    }
    assert got.ignored == ["取引先名"]


def test_salesforce_japanese_needs_the_half_width_space_only_up_to_folding():
    got, _ = recognise(
        "Customers", ["取引先　ID", "取引先 所有者", "Webサイト"]
    )  # full-width space
    assert got.names == ["customer_id", "owner", "email_domain"]


def test_two_candidates_are_a_located_problem_unless_one_is_canonical():
    got, problems = recognise("Support", ["Created at", "Created time", "Requester email"])
    assert "opened" not in got.names
    assert len(problems) == 1
    text = str(problems[0])
    assert "'Created at' (A) and 'Created time' (B) could each be opened" in text
    assert "Columns sheet (sheet Support, field opened" in text
    got, problems = recognise("Surveys", ["StartDate", "EndDate", "RecordedDate", "Q1"])
    assert got.names[2] == "date" and not problems  # Qualtrics ranks RecordedDate first
    row = ColumnsRow("Support", "opened", "created time", 2)
    got, problems = recognise("Support", ["Created at", "Created time"], [row])
    assert got.names == ["created_at", "opened"] and not problems


def test_a_columns_row_naming_an_absent_header_is_located():
    row = ColumnsRow("Surveys", "nps", "How likely are you to recommend us?", 4)
    _, problems = recognise("Surveys", ["RecordedDate", "Q1"], [row])
    assert [(p.sheet, p.row, p.column) for p in problems] == [("Columns", 4, "header")]


def test_columns_sheet_is_validated():
    frame = pd.DataFrame(
        {
            "sheet": ["Surveys", "Invoices", "Support", "Surveys"],
            "field": ["nps", "amount", "colour", "nps"],
            "header": ["Q1", "Total", "Colour", "Q2"],
        }
    )
    problems = []
    rows = columns_rows(frame, problems)
    assert rows == (ColumnsRow("Surveys", "nps", "Q1", 2),)
    assert [(p.row, p.column, p.blocking) for p in problems] == [
        (3, "sheet", True),
        (4, "field", True),
        (5, "field", True),
    ]


def test_repeated_headers_count_once_and_stay_quiet():
    got, problems = recognise("Support", ["Requester email", "Watchers", "Watchers", "Created at"])
    assert got.names == ["email", "watchers", None, "opened"]
    assert got.ignored == ["Watchers"] and not problems


def test_qualtrics_extra_header_rows_and_salesforce_footer_are_not_data():
    recogniser = Recogniser(ALIASES)
    grid = [
        ["StartDate", "RecordedDate", "RecipientEmail", "Q1"],
        ["Start Date", "Recorded Date", "Recipient Email", "How likely are you to recommend…"],
        ['{"ImportId":"startDate"}', '{"ImportId":"recordedDate"}', '{"ImportId":"x"}', "{}"],
        ["2026-09-01 10:00:00", "2026-09-01 10:05:00", "kim@alpha.co.jp", 9],
        ["2026-09-02 10:00:00", "2026-09-02 10:05:00", "lee@beta.com", 6],
    ]
    problems = []
    sheet = sheet_from_grid("Surveys", grid, problems, recogniser=recogniser)
    assert sheet.frame["_row"].tolist() == [4, 5]
    assert sheet.frame["nps"].tolist() == [9, 6]
    assert len(sheet.skipped) == 2 and not problems
    grid = [
        ["取引先 ID", "取引先名", "年間売上"],
        ["001D000000IRFma", "アルファ株式会社", 1200000],
        ["001D000000IRFmb", "ベータ株式会社", 800000],
        ["", "", ""],
        ["総計 (2 レコード)", "", ""],
        ["Confidential Information - Do Not Distribute", "", ""],
        ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.", "", ""],
    ]
    problems = []
    sheet = sheet_from_grid("Customers", grid, problems, recogniser=recogniser)
    assert sheet.frame["customer_id"].tolist() == ["001D000000IRFma", "001D000000IRFmb"]
    assert len(sheet.skipped) == 3 and not problems
    assert [m.field for m in sheet.mapped] == ["customer_id", "customer_name"]


def test_all_text_customer_rows_are_data_not_extra_headers():
    grid = [
        ["取引先 ID", "取引先名", "取引先 所有者"],
        ["001D000000IRFma", "アルファ株式会社", "佐藤"],
        ["001D000000IRFmb", "Total Wine & More", "鈴木"],
    ]
    sheet = sheet_from_grid("Customers", grid, [], recogniser=Recogniser(ALIASES))
    assert len(sheet.frame) == 2 and not sheet.skipped


def test_builtin_aliases_name_real_sheets_and_fields_and_say_where_they_come_from():
    aliases = builtin_aliases()
    assert len(aliases) > 150 and set(aliases["lang"]) == {"en", "ja"}
    for row in aliases.itertuples():
        assert row.field in FIELDS[row.sheet], row
        assert row.source.strip(), row
    tools = set(aliases["tool"])
    for tool in ("Salesforce", "HubSpot", "Zendesk", "Freshdesk", "Jira Service Management",
                 "Mixpanel", "Amplitude", "Segment", "Pendo", "Qualtrics", "SurveyMonkey",
                 "Typeform", "Delighted", "kintone"):  # fmt: skip
        assert tool in tools
    # one header never means two fields of one sheet
    pairs = aliases.groupby(["sheet", "key"])["field"].nunique()
    assert (pairs == 1).all(), pairs[pairs > 1]


def test_surveymonkey_nps_question_matches_whatever_the_company_is_called():
    recogniser = Recogniser(builtin_aliases())
    for header in (
        "How likely is it that you would recommend Acme Corp to a friend or colleague?",
        "アクメ株式会社を友人や同僚に薦める可能性はどのくらいありますか？",
    ):
        problems = []
        got = recogniser.recognise("Surveys", ["End Date", header], ["A", "B"], 1, problems)
        assert got.names == ["date", "nps"] and not problems
        assert got.mapped[1].origin == "SurveyMonkey export"
