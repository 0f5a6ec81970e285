import string

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xlhealth.core.text import normalise_ids, normalise_one, salesforce_15
from xlhealth.inputs.ids import email_domains, normalise_domain
from xlhealth.inputs.matching import Source, prepare_customers


def test_trim_nfkc_and_casefold():
    assert normalise_one("  ＡＣＭＥ-００１ ") == "acme-001"
    assert normalise_one("Straße") == "strasse"
    assert normalise_one("   ") is None
    assert normalise_one(None) is None
    assert normalise_one(1001.0) == "1001"


def test_vectorised_matches_one_by_one():
    raw = pd.Series(["A-1", " a-1", "Ａ-1", None, "B", float("nan"), 7.0])
    got = normalise_ids(raw).tolist()
    assert got == ["a-1", "a-1", "a-1", None, "b", None, "7"]


def test_email_domains():
    s = pd.Series(["Kim@Example.CO.JP", "no-at-sign", None, "x@ｅｘａｍｐｌｅ.jp "])
    assert email_domains(s).tolist() == ["example.co.jp", None, None, "example.jp"]
    assert normalise_domain("@Example.com ") == "example.com"
    assert normalise_domain("someone@example.com") == "example.com"


def test_salesforce_18_character_ids_match_their_15_character_form():
    # Salesforce's own documented pair, and one computed by hand from the checksum rule
    assert salesforce_15("001D000000IRFmaIAH") == "001D000000IRFma"
    assert salesforce_15("001d000000irfmaiah") == "001d000000irfmaiah"  # checksum no longer fits
    assert salesforce_15("ABCDEFGHIJKLMNOPQR") == "ABCDEFGHIJKLMNOPQR"  # not an ID
    assert normalise_one("001D000000IRFmaIAH", fold=False) == "001D000000IRFma"
    assert normalise_one(" 001D000000IRFmaIAH ") == normalise_one("001D000000IRFma")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits, min_size=15, max_size=15))
def test_every_15_character_id_is_recovered_from_its_18_character_form(head):
    checksum = "".join(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[
            sum(1 << i for i, c in enumerate(head[k : k + 5]) if c.isupper())
        ]
        for k in (0, 5, 10)
    )
    assert salesforce_15(head + checksum) == head
    assert salesforce_15(head + checksum.lower()) == head  # exports sometimes lower-case it


def test_case_only_variants_make_matching_case_sensitive():
    ids = ["001A000001abcDE", "001A000001ABCde", "001A000001xyzQQ"]
    customers = prepare_customers(pd.DataFrame({"customer_id": ids}))
    assert customers.case_sensitive and customers.n == 3
    assert any("differ only by case" in p.message for p in customers.problems)
    events = pd.DataFrame(
        {
            "customer_id": [
                "001A000001abcDE",
                "001A000001ABCde",
                "001A000001ABCde",
                "001a000001xyzqq",
            ]
        }
    )
    source = Source("Logins", events, customers, problems := [])
    assert source.codes.tolist() == [0, 1, 1, -1]  # the folded one is unknown, never merged
    assert any("unknown customer" in p.message for p in problems)


def test_without_case_variants_ids_still_fold():
    customers = prepare_customers(pd.DataFrame({"customer_id": ["ACME-1", "Beta-2"]}))
    assert not customers.case_sensitive
    source = Source(
        "Logins", pd.DataFrame({"customer_id": ["acme-1", "ＢＥＴＡ-2"]}), customers, []
    )
    assert source.codes.tolist() == [0, 1]
