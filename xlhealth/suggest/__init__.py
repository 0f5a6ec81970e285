"""Evidence and fitted weights from the honest back-test (pure: pandas in, pandas out)."""
