"""``xlhealth demo --events parquet|csv``: the logins in files beside the book, same scores."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.workbooks import cell_values, cli, sheet_frame
from xlhealth.demo.events import events_folder, sources_table, write_logins

CUSTOMERS = "60"
COLUMNS = ["score", "tier", "score_change", "engagement", "adoption", "reasons", "completeness"]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    path = tmp_path_factory.mktemp("plain") / "plain.xlsx"
    code, out = cli("demo", "--customers", CUSTOMERS, "-o", str(path))
    assert code == 0, out
    return path


def summary(path):
    return sheet_frame(path, "Summary").set_index("customer_id")[COLUMNS].astype(str)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_demo_with_event_files_scores_like_the_pasted_demo(plain, tmp_path, fmt):
    book = tmp_path / "HealthScore-demo.xlsx"
    code, out = cli("demo", "--customers", CUSTOMERS, "--events", fmt, "-o", str(book))
    assert code == 0, out
    folder = tmp_path / "HealthScore-demo-events"
    assert folder == events_folder(book)
    files = sorted(folder.glob(f"logins-*.{fmt}"))
    assert len(files) > 1, "one file a month"
    # the Logins sheet is empty (its header only); its rows are the files
    assert [row for row in cell_values(book, ["Logins"])["Logins"][1:] if any(row)] == []
    sources = sheet_frame(book, "Sources")
    assert sources["sheet"].tolist() == ["Logins"]
    assert sources["path"].tolist() == ["HealthScore-demo-events"]
    assert sources["format"].tolist() == [fmt]
    # same scores, changes since last month, reasons and History as with the rows pasted
    assert summary(book).equals(summary(plain))
    history = [sheet_frame(p, "History").drop(columns=["refreshed_at"], errors="ignore")
               for p in (book, plain)]  # fmt: skip
    assert history[0].astype(str).equals(history[1].astype(str))


def test_demo_with_event_files_and_realistic_exports(plain, tmp_path):
    book = tmp_path / "exports.xlsx"
    code, out = cli(
        "demo", "--customers", CUSTOMERS, "--events", "csv", "--realistic-exports", "-o", str(book)
    )
    assert code == 0, out
    header = (tmp_path / "exports-events").glob("*.csv").__next__().read_text().splitlines()[0]
    assert "groupId" in header and "timestamp" in header  # Segment's headers, as exported
    assert summary(book).equals(summary(plain))


def test_a_second_month_replaces_the_first_files(tmp_path):
    folder = tmp_path / "events"
    first = pd.DataFrame(
        {
            "customer_id": ["A", "B", None],
            "email": [None, None, "u1@a.example"],
            "user_id": ["u1", "u2", "u1"],
            "date": pd.to_datetime(["2026-10-03", "2026-11-01", "2026-11-02"]),
        }
    )
    assert [p.name for p in write_logins(first, folder, "parquet")] == [
        "logins-2026-10.parquet",
        "logins-2026-11.parquet",
    ]
    (folder / "notes.txt").write_text("mine")
    write_logins(first.iloc[1:], folder, "csv")
    assert sorted(p.name for p in folder.iterdir()) == ["logins-2026-11.csv", "notes.txt"]
    assert (folder / "logins-2026-11.csv").read_text().splitlines()[1] == "B,,u2,2026-11-01"
    write_logins(first, folder, "parquet")
    schema = pq.read_schema(folder / "logins-2026-10.parquet")
    assert str(schema.field("email").type) in ("string", "large_string")  # all blank that month
    assert str(schema.field("date").type) == "date32[day]"


def test_sources_row_is_relative_to_the_book(tmp_path):
    book = tmp_path / "b.xlsx"
    row = sources_table(book, tmp_path / "b-events", "csv").iloc[0]
    assert (row["sheet"], row["path"], row["format"], row["mode"]) == (
        "Logins",
        "b-events",
        "csv",
        "replace",
    )
    elsewhere = sources_table(book, tmp_path.parent / "x", "parquet").iloc[0]
    assert elsewhere["path"] == str((tmp_path.parent / "x").resolve())
