import pandas as pd

from xlhealth.ids import email_domains, normalise_domain, normalise_ids, normalise_one


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
