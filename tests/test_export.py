"""Email-ready export: macro-free, value-only files per owner, and unsent drafts."""

import datetime as dt
import email
import re
import shutil
import zipfile
from email import policy
from pathlib import Path

import openpyxl
import pytest

from tests.workbooks import cli, libreoffice_roundtrip, sheet_frame
from xlhealth.book.files import safe_name
from xlhealth.export import export
from xlhealth.refresh import RefreshError, refresh


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    demo = root / "demo.xlsx"
    assert cli("demo", "--customers", "60", "-o", str(demo))[0] == 0
    return demo


@pytest.fixture(scope="module")
def exported(book, tmp_path_factory):
    out = tmp_path_factory.mktemp("files")
    code, text = cli("export", str(book), "-o", str(out), "--by", "owner", "--drafts")
    assert code == 0 and "Nothing was sent" in text, text
    return out


def test_one_file_per_owner_holds_only_that_owner(book, exported):
    summary = sheet_frame(book, "Summary")
    owners = sorted(summary["owner"].unique())
    files = sorted(exported.glob("*.xlsx"))
    assert len(files) == len(owners) + 1  # plus the all-customers file
    for owner in owners:
        path = exported / (safe_name(f"HealthScore {_as_of(book)} - {owner}") + ".xlsx")
        mine = sheet_frame(path, "Summary")
        expected = summary[summary["owner"] == owner]
        assert mine["customer_id"].tolist() == expected["customer_id"].tolist()
        assert mine["score"].tolist() == expected["score"].tolist()
        actions = sheet_frame(path, "Actions")
        assert set(actions["customer_id"]) <= set(expected["customer_id"])


def _as_of(book: Path) -> str:
    return str(sheet_frame(book, "History")["as_of"].max().date())


def test_files_are_macro_free_values_only_and_self_contained(exported):
    for path in exported.glob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            assert not any("vbaProject" in n or "externalLink" in n for n in names)
            types = z.read("[Content_Types].xml").decode()
            assert "spreadsheetml.sheet.main+xml" in types and "macroEnabled" not in types
            workbook = z.read("xl/workbook.xml").decode()
            assert 'state="hidden"' not in workbook and "veryHidden" not in workbook
            for name in names:
                if name.startswith("xl/worksheets/sheet"):
                    xml = z.read(name).decode()
                    assert "<f>" not in xml and "<f " not in xml, (path.name, name)
        sheets = openpyxl.load_workbook(path, read_only=True).sheetnames
        assert sheets == ["Cover", "Summary", "Actions", "Segments", "Checks"]


def test_drafts_parse_and_carry_the_file(book, exported):
    summary = sheet_frame(book, "Summary")
    customers = sheet_frame(book, "Customers")
    drafts = sorted(exported.glob("*.eml"))
    assert len(drafts) == len(list(exported.glob("*.xlsx")))
    for draft in drafts:
        msg = email.message_from_bytes(draft.read_bytes(), policy=policy.default)
        assert msg["X-Unsent"] == "1"
        attachments = list(msg.iter_attachments())
        assert len(attachments) == 1
        attached = attachments[0]
        xlsx = draft.with_suffix(".xlsx")
        assert attached.get_filename() == xlsx.name
        assert attached.get_content() == xlsx.read_bytes()
        body = msg.get_body(("plain",)).get_content()
        assert "Customers per tier" in body and "has not been sent" in body
        owner = draft.stem.split(" - ", 1)[1]
        if owner in set(summary["owner"]):
            address = customers.loc[customers["owner"] == owner, "owner_email"].iloc[0]
            assert msg["To"] == address
        else:
            assert msg["To"] is None  # the all-customers file goes to whoever you choose


def test_stale_or_unrefreshed_workbooks_are_refused(book, tmp_path):
    stale = tmp_path / "stale.xlsx"
    shutil.copy(book, stale)
    wb = openpyxl.load_workbook(stale)
    for _ in range(4):  # four complaints today: the score Summary shows is no longer right
        wb["Support"].append(["CUST-00001", None, dt.date.today(), "complaint", 3])
    wb.save(stale)
    with pytest.raises(RefreshError, match="changed since the last refresh"):
        export(stale, tmp_path / "out")
    refresh(stale, backup=False)
    assert export(stale, tmp_path / "out")  # after a refresh it exports
    fresh = tmp_path / "fresh.xlsx"
    assert cli("new", str(fresh))[0] == 0
    code, out = cli("export", str(fresh))
    assert code == 1 and "has not been refreshed" in out and "Traceback" not in out


def test_sheet_choice_language_and_formula_like_text(tmp_path):
    path = tmp_path / "f.xlsx"
    assert cli("new", str(path))[0] == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["Customers"]
    for i, name in enumerate(["=1+1", "@cmd", "株式会社テスト"]):
        ws.append([f"C{i}", None, "SMB", "佐藤/花子"])
        ws.cell(row=i + 2, column=2, value=name).data_type = "s"
    wb.save(path)
    refresh(path, backup=False)
    files = export(
        path, tmp_path / "out", by="owner", sheets=("Summary",), lang="ja", include_all=False
    )
    assert [f.path.name for f in files] == [files[0].path.name]
    assert "佐藤_花子" in files[0].path.name  # the slash cannot be in a file name
    book = openpyxl.load_workbook(files[0].path)
    assert book.sheetnames == ["Cover", "Summary"]
    assert book["Summary"]["A1"].value == "顧客ID"
    names = [c.value for c in book["Summary"]["B"][2:]]
    assert sorted(names) == sorted(["=1+1", "@cmd", "株式会社テスト"])
    assert re.match(r"カスタマーヘルス", book["Cover"]["A1"].value)


def test_safe_names():
    assert safe_name('a/b:c*?"<>|d') == "a_b_c______d"
    assert safe_name("株式会社さくら") == "株式会社さくら"
    assert safe_name("  .hidden. ") == "hidden"


@pytest.mark.libreoffice
def test_libreoffice_opens_an_export_with_the_same_values(exported, tmp_path):
    path = sorted(exported.glob("*.xlsx"))[1]
    theirs = libreoffice_roundtrip(path, tmp_path)
    for sheet in ("Summary", "Actions"):
        ours, lo = sheet_frame(path, sheet), sheet_frame(theirs, sheet)
        assert list(lo.columns) == list(ours.columns) and len(lo) == len(ours)
        assert lo["customer_id"].astype(str).tolist() == ours["customer_id"].astype(str).tolist()
        assert lo["score"].astype(float).tolist() == pytest.approx(
            ours["score"].astype(float).tolist(), nan_ok=True
        )


def test_owner_addresses_from_an_owners_sheet(book, tmp_path):
    path = tmp_path / "owners.xlsx"
    shutil.copy(book, path)
    wb = openpyxl.load_workbook(path)
    wb["Customers"].delete_cols(5)  # drop owner_email: the Owners sheet must supply it
    owners = wb.create_sheet("Owners")
    owners.append(["owner", "email"])
    owners.append(["Maria Lopez", "maria@example.org"])
    wb.save(path)
    refresh(path, backup=False)
    files = export(path, tmp_path / "out", by="owner", drafts=True, include_all=False)
    maria = next(f for f in files if f.who == "Maria Lopez")
    msg = email.message_from_bytes(maria.draft.read_bytes(), policy=policy.default)
    assert msg["To"] == "maria@example.org"
    other = next(f for f in files if f.who != "Maria Lopez")
    assert email.message_from_bytes(other.draft.read_bytes(), policy=policy.default)["To"] is None
