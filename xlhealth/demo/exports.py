"""The demo's input sheets the way the tools export them, so the demo shows the recognition.

Customers as a Salesforce account report (English or Japanese UI, website URLs, dates as the
UI writes them), Logins as a Segment track export (``groupId``, ISO timestamps with ``Z``),
Support as a Zendesk legacy export (``Summation column``, ``+0900``/``-0500`` timestamps,
the organisation *name* instead of an ID), Surveys as Qualtrics (``ExternalReference``,
``RecordedDate``, ``Q1``), Contacts as Salesforce activities. Fields no tool exports (ARR,
seats, exemplar, outcome) keep custom-field headers that the book's ``Columns`` sheet maps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HEADERS = {
    "Customers": {
        "en": {
            "customer_id": "Account ID",
            "customer_name": "Account Name",
            "owner": "Account Owner",
            "segment": "Account Type",
            "email_domain": "Website",
            "renewal_date": "Contract End Date",
            "stage": "Stage",
            "arr": "ARR (USD)",
            "seats": "Licensed Seats",
        },
        "ja": {
            "customer_id": "取引先 ID",
            "customer_name": "取引先名",
            "owner": "取引先 所有者",
            "segment": "種別",
            "email_domain": "Webサイト",
            "renewal_date": "契約終了日",
            "stage": "フェーズ",
            "arr": "年間契約額",
            "seats": "契約ライセンス数",
        },
    },
    "Logins": {"customer_id": "groupId", "email": "context.traits.email", "user_id": "userId",
               "date": "timestamp"},
    "Support": {"opened": "Created at", "category": "Ticket type", "severity": "Priority"},
    "Surveys": {"customer_id": "ExternalReference", "date": "RecordedDate", "nps": "Q1"},
    "Contacts": {"customer_id": "Account ID", "date": "ActivityDate", "kind": "Type",
                 "role": "Title"},
}  # fmt: skip
COLUMNS = [  # the Columns rows the demo needs: fields no export names by itself
    ("Customers", "arr", "ARR (USD)", "年間契約額"),
    ("Customers", "seats", "Licensed Seats", "契約ライセンス数"),
]


def columns_table(lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, f, ja if lang == "ja" else en) for s, f, en, ja in COLUMNS],
        columns=["sheet", "field", "header"],
    )


def as_exports(frames: dict[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """The same rows with the tools' headers and value formats (nothing else changes)."""
    out = dict(frames)
    customers = frames["Customers"].copy()
    renewal = pd.to_datetime(customers["renewal_date"])
    customers["renewal_date"] = renewal.dt.strftime("%Y/%m/%d" if lang == "ja" else "%-m/%-d/%Y")
    customers["email_domain"] = "https://www." + customers["email_domain"].astype(str) + "/"
    out["Customers"] = customers.rename(columns=HEADERS["Customers"][lang])

    logins = frames["Logins"].copy()
    stamp = pd.to_datetime(logins["date"]) + pd.to_timedelta(
        (np.arange(len(logins)) * 7919) % 36_000 + 8 * 3600, unit="s"
    )
    logins["date"] = stamp.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    logins.insert(0, "event", "Signed In")
    logins.insert(0, "type", "track")
    out["Logins"] = logins.rename(columns=HEADERS["Logins"])

    support = frames["Support"].copy()
    names = frames["Customers"].set_index("customer_id")["customer_name"]
    opened = pd.to_datetime(support["opened"]) + pd.Timedelta(hours=10)
    offset = " +0900" if lang == "ja" else " -0500"
    zendesk = pd.DataFrame(
        {
            "Summation column": np.arange(1, len(support) + 1),
            "Id": np.arange(4101, 4101 + len(support)),
            "Subject": "—",
            "Status": "open",
            "Priority": support["severity"].map({1: "Urgent", 2: "High", 3: "Normal"}),
            "Ticket type": support["category"],
            "Created at": opened.dt.strftime("%Y-%m-%d %H:%M:%S") + offset,
            "Organization": support["customer_id"].map(names),
        }
    )
    out["Support"] = zendesk

    surveys = frames["Surveys"].copy()
    recorded = pd.to_datetime(surveys["date"]) + pd.Timedelta(hours=9, minutes=41)
    surveys["date"] = recorded.dt.strftime("%Y-%m-%d %H:%M:%S")
    out["Surveys"] = surveys.rename(columns=HEADERS["Surveys"])

    out["Contacts"] = frames["Contacts"].rename(columns=HEADERS["Contacts"])
    return out
