"""Books a new user builds by hand: their own model without every config sheet, a deleted
header row, values that used to crash. Every one ends in located lines, never a traceback,
and ``check`` stops exactly where ``refresh`` stops."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.workbooks import cell_values, cli, sheet_frame
from xlhealth.book.read import read_workbook
from xlhealth.core.config import default_tables, model_from_tables
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.problems import ConfigError
from xlhealth.demo.story import WEEKS

METRICS = pd.DataFrame(
    [
        {"metric": "nps", "group": "Engagement", "source": "Surveys", "column": "nps",
         "aggregate": "latest"},
        {"metric": "logins", "group": "Adoption", "source": "Logins", "aggregate": "count",
         "window_days": 30},
    ]
)  # fmt: skip
RULES = pd.DataFrame(
    [
        {"metric": "nps", "min": None, "max": 7, "points": 0, "label": "Detractor"},
        {"metric": "nps", "min": 7, "max": None, "points": 10, "label": "Promoter"},
        {"metric": "logins", "min": None, "max": 5, "points": 0, "label": "Few logins"},
        {"metric": "logins", "min": 5, "max": None, "points": 10, "label": "Logs in"},
    ]
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    code, out = cli("demo", "--customers", "40", "-o", str(path))
    assert code == 0, out
    return path


def edited(demo: Path, tmp_path: Path, edit, name: str = "book.xlsx") -> Path:
    path = tmp_path / name
    shutil.copy(demo, path)
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def checks_rows(book: Path) -> list[str]:
    """Each row of the Checks sheet as one line of text."""
    rows = cell_values(book, ["Checks"])["Checks"]
    return [" | ".join("" if v is None else str(v) for v in row) for row in rows]


def errors(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if line.startswith("error:"))


def own_model(wb, *, rules: bool = True) -> None:
    """Replace Metrics (and Rules) with the user's own two metrics; drop Alerts."""
    for name, table in (("Metrics", METRICS), ("Rules", RULES)):
        del wb[name]
        if name == "Rules" and not rules:
            continue
        ws = wb.create_sheet(name)
        ws.append(list(table.columns))
        for row in table.itertuples(index=False):
            ws.append([None if pd.isna(v) else v for v in row])
    del wb["Alerts"]


# ----------------------------------------------------------------------------- defaults adapt


def test_own_metrics_and_rules_without_alerts_scores(demo, tmp_path):
    book = edited(demo, tmp_path, own_model)
    code, out = cli("refresh", str(book))
    assert code == 0, out
    assert "unknown metric" not in out
    summary = sheet_frame(book, "Summary")
    assert summary["score"].notna().any()
    checks = " ".join(checks_rows(book))
    assert "default Alerts row(s) left out" in checks
    assert "login_days_14d" in checks and "add a sheet named Alerts" in checks


def test_own_metrics_without_rules_leaves_default_rules_out(demo, tmp_path):
    book = edited(demo, tmp_path, lambda wb: own_model(wb, rules=False))
    code, out = cli("check", str(book))
    assert code == 0, out
    assert "default Rules row(s) left out" in out and "nps_latest" in out
    assert "add a sheet named Rules" in out


def test_default_rows_about_missing_metrics_or_tiers_are_left_out():
    tiers = pd.DataFrame({"tier": [1, 2], "min_score": [0, 50], "label": ["Low", "High"]})
    model = model_from_tables({"Metrics": METRICS, "Rules": RULES, "Tiers": tiers})
    kept = {a.name for a in model.alerts}
    defaults = default_tables()["Alerts"]
    assert kept and kept < set(defaults["alert"])
    for rule in model.alerts:
        assert not rule.metric or rule.metric in set(METRICS["metric"])
        if rule.trigger in ("tier_renewal", "tier_at_most"):
            assert rule.threshold in (1, 2)
    notes = [str(w) for w in model.warnings]
    assert any("Alerts" in n and "left out" in n for n in notes), notes
    # the full default model needs no adapting: nothing left out, nothing to say
    assert not [w for w in model_from_tables({}).warnings if "left out" in w.message]


def test_a_mistake_in_a_defaulted_table_says_where_it_comes_from():
    defaults = default_tables()
    defaults["Tiers"] = pd.DataFrame({"tier": [1, 2], "min_score": [50, 0], "label": ["a", "b"]})
    with pytest.raises(ConfigError) as caught:
        model_from_tables({}, defaults=defaults)
    lines = [str(p) for p in caught.value.problems]
    assert lines and all("the book has no Tiers sheet" in line for line in lines), lines
    assert all("add a sheet named Tiers" in line for line in lines)


# ----------------------------------------------------------------------------- check == refresh


@pytest.mark.parametrize("sheet", [*CONFIG_SHEETS, "Columns", "Sources"])
def test_deleted_header_row_blocks_check_and_refresh_alike(demo, tmp_path, sheet):
    def delete_header(wb) -> None:  # Columns and Sources have hint rows above their header
        ws = wb[sheet]
        header = next(r for r in range(1, 10) if ws.cell(r, 1).value in ("sheet", "key",
                      "metric", "tier", "characteristic", "health", "alert"))  # fmt: skip
        ws.delete_rows(header)

    book = edited(demo, tmp_path, delete_header)
    before = book.read_bytes()
    check_code, check_out = cli("check", str(book))
    refresh_code, refresh_out = cli("refresh", str(book))
    assert check_code == refresh_code == 1, (check_out, refresh_out)
    assert errors(check_out) == errors(refresh_out) != []
    assert all(sheet in line for line in errors(check_out)), check_out
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


# ----------------------------------------------------------------------------- values that crashed


@pytest.mark.parametrize("text", ["@SUM(A1)", "最終エグゼクティブ接触日の列名がここに入ります" * 8])
def test_a_metrics_column_that_the_source_lacks_is_located(demo, tmp_path, text):
    def edit(wb):
        ws = wb["Metrics"]
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            if row[header.index("metric")].value == "days_since_exec_contact":
                row[header.index("column")].value = text
                return row[0].row
        raise AssertionError("demo has no days_since_exec_contact metric")

    book = edited(demo, tmp_path, edit)
    code, out = cli("refresh", str(book))
    assert code == 0, out
    assert "unexpected" not in out
    assert "Metrics!D14, row 14, column column" in out
    assert "days_since_exec_contact' cannot be computed" in out


def _set(wb, sheet: str, column: str, row: int, value) -> None:
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    ws.cell(row, header.index(column) + 1).value = value


def test_as_of_9999_is_refused_on_its_cell(demo, tmp_path):
    book = edited(
        demo, tmp_path, lambda wb: _set(wb, "Settings", "value", 2, dt.date(9999, 12, 31))
    )
    before = book.read_bytes()
    code, out = cli("refresh", str(book))
    assert code == 1 and "unexpected" not in out, out
    assert errors(out) == [
        "error: Settings!B2, row 2, column value (9999-12-31): is outside the dates xlhealth "
        "handles (1900-01-01 to 2262-04-10); enter a real date or leave the cell blank"
    ]
    assert book.read_bytes() == before
    code, out = cli("check", str(demo), "--as-of", "9999-12-31")
    assert code == 1 and "error: --as-of 9999-12-31: use a date from 1900-01-01" in out


def test_full_width_and_far_dates_in_data_are_located_warnings(demo, tmp_path):
    def edit(wb):
        _set(wb, "Customers", "renewal_date", 3, "１２")
        _set(wb, "Customers", "renewal_date", 4, "12")
        _set(wb, "Customers", "renewal_date", 5, dt.date(9999, 12, 31))
        _set(wb, "Customers", "renewal_date", 6, "２０２７/１/５")
        _set(wb, "Maturity", "assessed_on", 3, "１２")

    book = edited(demo, tmp_path, edit)
    code, out = cli("refresh", str(book))
    assert code == 0 and "unexpected" not in out, out
    lines = checks_rows(book)
    located = {
        cell: [line for line in lines if f"| {cell} |" in line] for cell in ("H3", "H4", "H5", "D3")
    }
    assert all(located.values()), located
    assert "is not a date" in located["H3"][0] and "is not a date" in located["H4"][0]
    assert "is not a date" in located["D3"][0] and "Maturity" in located["D3"][0]
    assert "outside the dates xlhealth handles" in located["H5"][0]
    customers = read_workbook(book).sheets["Customers"].frame
    renewal = customers.loc[customers["_row"] == 6, "renewal_date"].iloc[0]
    assert renewal == pd.Timestamp("2027-01-05")


def test_checks_says_how_history_and_change_work(demo):
    text = " ".join(checks_rows(demo))
    assert "one snapshot per as-of date" in text
    history = sheet_frame(demo, "History")
    dates = sorted(set(pd.to_datetime(history["as_of"]).dt.date))
    assert len(dates) == WEEKS  # the living demo refreshes weekly
    assert str(dates[-2]) in text  # the snapshot Change compares with: the latest earlier one


@pytest.mark.parametrize(
    ("sheet", "column", "value", "message"),
    [
        ("Metrics", "window_days", "nan", "is not a number"),
        ("Metrics", "window_days", 1e308, "must be at most"),
        ("Alerts", "due_days", "nan", "is not a number"),
        ("Alerts", "label", "Score fell {value points", "a { or } without its pair"),
    ],
)
def test_config_values_that_crashed_are_located(demo, tmp_path, sheet, column, value, message):
    book = edited(demo, tmp_path, lambda wb: _set(wb, sheet, column, 2, value))
    before = book.read_bytes()
    check_code, check_out = cli("check", str(book))
    code, out = cli("refresh", str(book))
    assert code == check_code == 1 and "unexpected" not in out, out
    assert errors(out) == errors(check_out)
    assert any(line.startswith(f"error: {sheet}!") and message in line for line in errors(out))
    assert book.read_bytes() == before


# ----------------------------------------------------------------------------- the new-book path


def _paste(ws, frame: pd.DataFrame) -> None:
    """Replace a sheet's contents with ``frame`` (header row first), as a user pastes."""
    ws.delete_rows(1, ws.max_row)
    ws.append(list(frame.columns))
    for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
        ws.append([v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in row])


def test_new_then_own_metrics_then_refresh_works(tmp_path):
    """Issue 23.1: ``new`` writes Rules and Alerts with the default rows; a user who then
    writes their own Metrics must get a refresh, with the rows about metrics they do not
    have left out and located — not "unknown metric" errors about rows they never wrote."""
    from xlhealth.demo import data as demo_data

    path = tmp_path / "mine.xlsx"
    code, out = cli("new", str(path))
    assert code == 0, out
    inputs = demo_data.generate(30)
    wb = openpyxl.load_workbook(path)
    _paste(wb["Customers"], inputs["Customers"])
    _paste(wb["Surveys"], inputs["Surveys"])
    _paste(wb["Logins"], inputs["Logins"])
    _paste(wb["Metrics"], METRICS)
    rules = wb["Rules"]
    header = [c.value for c in rules[1]]
    for row in RULES.itertuples(index=False):
        rules.append([getattr(row, h, None) if h in RULES.columns else None for h in header])
    wb.save(path)
    code, out = cli("refresh", str(path))
    assert code == 0, out
    assert not errors(out)
    summary = sheet_frame(path, "Summary")
    assert summary["score"].notna().sum() > 10
    checks = " ".join(checks_rows(path))
    assert "not a metric on the Metrics sheet, so this row is left out" in checks
    assert "'onboarding_overdue'" in checks  # a default Rules/Alerts row, named
    assert "Rules" in checks and "Alerts" in checks


def test_a_misspelt_metric_on_rules_is_caught_on_its_metrics_row(tmp_path, demo):
    """A Rules row whose name is one letter off leaves that metric without bands: that is
    the mistake that matters, located on the Metrics row, not a warning lost on Checks."""

    def misspell(wb):
        ws = wb["Rules"]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == "nps_latest":
                row[0].value = "nps_lastest"

    book = edited(demo, tmp_path, misspell)
    code, out = cli("check", str(book))
    assert code != 0
    (line,) = [x for x in errors(out) if "nps_latest" in x]
    assert line.startswith("error: Metrics!A") and "'nps_lastest'" in line


def test_new_books_carry_outcome_date_with_date_validation_and_a_hint(tmp_path):
    """Issue 23.2: the honest back-test needs outcome_date; a new book asks for it."""
    path = tmp_path / "new.xlsx"
    assert cli("new", str(path))[0] == 0
    built = Path(__file__).resolve().parents[1] / "workbook" / "HealthScore.xlsm"
    for book in (path, built):
        ws = openpyxl.load_workbook(book)["Customers"]
        header = [c.value for c in ws[1]]
        assert "outcome" in header and "outcome_date" in header, book.name
        letter = openpyxl.utils.get_column_letter(header.index("outcome_date") + 1)
        rules = [v for v in ws.data_validations.dataValidation
                 if str(v.sqref).startswith(f"{letter}2:")]  # fmt: skip
        assert len(rules) == 1 and rules[0].type == "date", book.name
        assert "back-test" in rules[0].prompt and "flatters" in rules[0].prompt
