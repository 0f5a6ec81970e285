"""Rows of input sheets -> customers: IDs, e-mail domains and organisation names.

Customers are reduced to one row per normalised ID (folded, unless case-only variants
make matching case-sensitive); every other sheet is resolved once to integer customer
positions — by ``customer_id``, else ``email`` through ``Customers.email_domain`` (a
website URL gives its domain), else an exact organisation name that names one customer —
and rows that match nobody are reported once per distinct value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xlhealth.core.problems import Problem
from xlhealth.core.tables import ROW_COLUMN, normalise_header, sheet_rows
from xlhealth.core.text import normalise_ids, normalise_one, normalised_codes
from xlhealth.inputs.dates import ParsedDates, parse_dates
from xlhealth.inputs.ids import case_variants, email_domains
from xlhealth.inputs.values import domain_from_website, organisation_key, parse_numbers


def to_days(series: pd.Series) -> np.ndarray:
    """Dates (datetime, date or text) as ``datetime64[D]``; NaT where not a date."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize(None)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = parse_dates(series).values  # every form exports write (xlhealth.inputs.dates)
    return series.to_numpy().astype("datetime64[D]")  # any unit: no nanosecond overflow


@dataclass
class Customers:
    """The ``Customers`` sheet reduced to one row per normalised ID."""

    frame: pd.DataFrame
    keys: pd.Index
    problems: list[Problem] = field(default_factory=list)
    case_sensitive: bool = False
    """IDs are matched with their case when Customers holds IDs that differ only by case."""

    def ids(self, values: pd.Series) -> pd.Series:
        """Other sheets' IDs normalised the way this book's customer IDs are."""
        return normalise_ids(values, fold=not self.case_sensitive)

    @property
    def n(self) -> int:
        return len(self.keys)

    names: dict[str, str] | None = field(default=None, repr=False)
    """Organisation name -> key, built once for every sheet that matches by name."""

    # The reading the core asks for (xlhealth.core.rows.Customers): it never imports this layer.

    def sheet(self, name: str, frame: pd.DataFrame, problems: list[Problem]) -> Source:
        """``frame``'s rows resolved to these customers (unknown IDs reported once each)."""
        return Source(name, frame, self, problems)

    def days(self, values: pd.Series) -> np.ndarray:
        return to_days(values)

    def dates(self, values: pd.Series, day_first: bool = False) -> ParsedDates:
        return parse_dates(values, day_first=day_first)

    def numbers(self, values: pd.Series) -> pd.Series:
        return parse_numbers(values)


def prepare_customers(df: pd.DataFrame) -> Customers:
    """Normalise IDs; drop blank and duplicate IDs with a located problem each."""
    frame = df.rename(columns={c: normalise_header(c) for c in df.columns if c != ROW_COLUMN})
    problems: list[Problem] = []
    if "customer_id" not in frame.columns:
        problems.append(
            Problem(
                "Customers",
                "required column 'customer_id' is missing; add it to the header",
                row=1,
                column="customer_id",
                blocking=True,
            )
        )
        empty = frame.iloc[0:0].copy()
        return Customers(empty, pd.Index([], dtype=object), problems)
    rows = sheet_rows(frame)
    exact = normalise_ids(frame["customer_id"], fold=False)
    variants = case_variants(exact)
    keys = exact if variants else normalise_ids(exact)
    for a, b in variants[:5]:
        problems.append(
            Problem(
                "Customers",
                f"IDs on rows {rows.iloc[a]} and {rows.iloc[b]} differ only by case "
                f"({frame['customer_id'].iloc[a]!r}, {frame['customer_id'].iloc[b]!r}), so IDs "
                "are matched case-sensitively in this book (as Salesforce IDs are); check that "
                "other sheets write them with the same case",
                row=int(rows.iloc[b]),
                column="customer_id",
                value=frame["customer_id"].iloc[b],
            )
        )
    blank = keys.isna()
    blank_rows = rows[blank][~_blank_rows(frame[blank.to_numpy()])]
    for row in blank_rows:
        problems.append(
            Problem(
                "Customers",
                "customer_id is blank; fill it in or delete the row",
                row=int(row),
                column="customer_id",
            )
        )
    dup = keys.duplicated() & ~blank
    first_row = pd.Series(rows.to_numpy(), index=keys.to_numpy())
    first_row = first_row[~first_row.index.duplicated()]
    for row, key, raw in zip(rows[dup], keys[dup], frame.loc[dup, "customer_id"], strict=True):
        problems.append(
            Problem(
                "Customers",
                f"duplicate customer_id (first on row {first_row[key]}); "
                "this row is ignored — merge the two rows",
                row=int(row),
                column="customer_id",
                value=raw,
            )
        )
    keep = ~blank & ~dup
    kept = frame.loc[keep].copy()
    kept["_key"] = keys[keep].to_numpy()
    kept[ROW_COLUMN] = rows[keep].to_numpy()
    kept = kept.reset_index(drop=True)
    return Customers(
        kept, pd.Index(kept["_key"], dtype=object), problems, case_sensitive=bool(variants)
    )


def _blank_rows(frame: pd.DataFrame) -> pd.Series:
    data = frame.drop(columns=[ROW_COLUMN], errors="ignore")
    if data.empty:
        return pd.Series(True, index=frame.index)
    text = data.astype("string").apply(lambda s: s.str.strip())
    return (text.isna() | (text == "")).all(axis=1)


class Source:
    """One input sheet resolved to customer positions (computed once, reused by every metric)."""

    def __init__(self, name: str, df: pd.DataFrame, customers: Customers, problems: list[Problem]):
        self.name = name
        self.frame = df.rename(
            columns={c: normalise_header(c) for c in df.columns if c != ROW_COLUMN}
        )
        self.problems = problems
        self.rows = sheet_rows(self.frame).to_numpy()
        self.codes = self._resolve(customers)
        self._days: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._numbers: dict[str, np.ndarray] = {}
        self._duplicates_checked = name == "Customers"

    def has(self, column: str) -> bool:
        return column in self.frame.columns

    def _resolve(self, customers: Customers) -> np.ndarray:
        f = self.frame
        keys: pd.Series | None = None
        if self.name == "Customers" and "_key" in f.columns:
            return np.arange(len(f), dtype=np.int64)
        if "customer_id" in f.columns:
            keys = customers.ids(f["customer_id"])
        if "email" in f.columns and "email_domain" in customers.frame.columns:
            domains = email_domains(f["email"])
            by_domain = domain_map(customers, self.problems)
            by_email = domains.map(by_domain)
            keys = by_email if keys is None else keys.where(keys.notna(), by_email)
        if "customer_name" in f.columns and "customer_name" in customers.frame.columns:
            names = organisation_key(f["customer_name"])
            by_name = names.map(name_map(customers, self.problems))
            keys = by_name if keys is None else keys.where(keys.notna(), by_name)
        if keys is None:
            self.problems.append(
                Problem(
                    self.name,
                    "no column links these rows to a customer (customer_id, email with "
                    "Customers.email_domain, or customer_name); add one, or a row on the "
                    "Columns sheet naming the column that holds it",
                    row=1,
                    column="customer_id",
                    blocking=False,
                )
            )
            return np.full(len(f), -1, dtype=np.int64)
        codes = customers.keys.get_indexer(keys.to_numpy(dtype=object))
        self._report_unmatched(keys, codes, customers)
        return codes.astype(np.int64)

    def _report_unmatched(self, keys: pd.Series, codes: np.ndarray, customers: Customers) -> None:
        """One problem per distinct unknown ID (first row and count), one for blank IDs."""
        unmatched = codes < 0
        if not unmatched.any():
            return
        f = self.frame
        ids = f["customer_id"] if "customer_id" in f.columns else pd.Series(None, index=f.index)
        has_id = (
            ids.notna().to_numpy() & keys.notna().to_numpy()
            if "customer_id" in f.columns
            else np.zeros(len(f), dtype=bool)
        )
        has_email, has_name = (
            f[column].notna().to_numpy()
            & (f[column].astype("string").str.strip() != "").fillna(False).to_numpy()
            if column in f.columns
            else np.zeros(len(f), dtype=bool)
            for column in ("email", "customer_name")
        )
        blank = unmatched & ~has_id & ~has_email & ~has_name
        if blank.any():
            self.problems.append(
                Problem(
                    self.name,
                    f"no customer ID{_more(int(blank.sum()) - 1)}; these rows are "
                    "ignored — fill in the customer ID",
                    row=int(self.rows[blank][0]),
                    column="customer_id",
                )
            )
        by_name = unmatched & ~has_id & ~has_email & has_name
        for column, which, what in (
            ("customer_id", unmatched & has_id, "unknown customer"),
            ("email", unmatched & ~has_id & has_email, "no customer has this email domain"),
            ("customer_name", by_name, "no single customer has exactly this name"),
        ):
            if not which.any():
                continue
            raw = f[column].to_numpy(dtype=object)[which]
            table = pd.DataFrame(
                {
                    "key": {
                        "customer_id": customers.ids,
                        "email": email_domains,
                        "customer_name": organisation_key,
                    }[column](pd.Series(raw)).to_numpy(dtype=object),
                    "row": self.rows[which],
                    "raw": raw,
                }
            )
            grouped = table.groupby("key", sort=False, dropna=False).agg(
                row=("row", "first"), raw=("raw", "first"), n=("row", "size")
            )
            for g in grouped.head(50).itertuples():
                self.problems.append(
                    Problem(
                        self.name,
                        f"{what}{_more(int(g.n) - 1)}; add it to Customers or fix "
                        "it — these rows are ignored",
                        row=int(g.row),
                        column=column,
                        value=g.raw,
                    )
                )
            if len(grouped) > 50:
                self.problems.append(
                    Problem(
                        self.name,
                        f"{len(grouped) - 50} more unknown values not listed",
                        column=column,
                    )
                )

    def report_duplicate_customers(self) -> None:
        """A per-customer sheet with two rows for one customer: say where; the first row wins."""
        if self._duplicates_checked:
            return
        self._duplicates_checked = True
        known = np.flatnonzero(self.codes >= 0)
        dup = pd.Series(self.codes[known]).duplicated().to_numpy()
        if dup.any():
            first = known[int(np.argmax(dup))]
            column = "customer_id" if self.has("customer_id") else "email"
            self.problems.append(
                Problem(
                    self.name,
                    f"customer appears twice{_more(int(dup.sum()) - 1)}; the first "
                    "row is used — keep one row per customer",
                    row=int(self.rows[first]),
                    column=column,
                    value=self.frame[column].iloc[first],
                )
            )

    def days(self, column: str) -> np.ndarray:
        if column not in self._days:
            values = self.frame[column]
            days = to_days(values)
            bad = np.isnat(days) & values.notna().to_numpy()
            if bad.any():
                text = values[bad].astype("string").str.strip()
                bad[bad] = (text != "").fillna(False).to_numpy()
            if bad.any():
                first = int(np.argmax(bad))
                self.problems.append(
                    Problem(
                        self.name,
                        f"not a date{_more(int(bad.sum()) - 1)}; enter a date such "
                        "as 2026-03-31 — these rows are ignored",
                        row=int(self.rows[first]),
                        column=column,
                        value=values.iloc[first],
                    )
                )
            self._days[column] = days
        return self._days[column]

    def numbers(self, column: str) -> np.ndarray:
        if column not in self._numbers:
            values = self.frame[column]
            numbers = parse_numbers(values).to_numpy(dtype=float, copy=True)  # 1,200, 85%, ¥
            if values.dtype == object:  # TRUE/FALSE count 1/0 (checked per distinct value)
                codes, uniques = pd.factorize(values)
                is_flag = np.array([isinstance(u, bool | np.bool_) for u in uniques] + [False])
                flags = is_flag[codes]
                numbers[flags] = values[flags].astype(float).to_numpy()
            bad = np.isnan(numbers) & values.notna().to_numpy()
            if bad.any() and not pd.api.types.is_numeric_dtype(values.dtype):
                text = values.astype("string").str.strip()
                bad &= (text != "").fillna(False).to_numpy()
            if bad.any():
                first = int(np.argmax(bad))
                self.problems.append(
                    Problem(
                        self.name,
                        f"not a number{_more(int(bad.sum()) - 1)}; enter a number "
                        "— these cells are ignored",
                        row=int(self.rows[first]),
                        column=column,
                        value=values.iloc[first],
                    )
                )
            self._numbers[column] = numbers
        return self._numbers[column]

    def codes_of(self, column: str) -> np.ndarray:
        """Integer codes of the normalised values of ``column`` (-1 for blanks)."""
        if column not in self._codes:
            self._codes[column] = normalised_codes(self.frame[column])
        return self._codes[column][0]

    def matches(self, column: str, values: tuple[str, ...]) -> np.ndarray:
        """Rows whose normalised ``column`` equals one of ``values`` (normalised too)."""
        codes = self.codes_of(column)
        wanted = {normalise_one(v) for v in values}
        hits = np.flatnonzero([d in wanted for d in self._codes[column][1]])
        return np.isin(codes, hits)

    def text(self, column: str) -> pd.Series:
        """Normalised values of ``column`` (None for blanks)."""
        codes = self.codes_of(column)
        distinct = self._codes[column][1]
        return pd.Series(np.append(distinct, None)[codes], index=self.frame.index, dtype=object)


def _more(n: int) -> str:
    return f" (and {n} more rows)" if n > 0 else ""


def domain_map(customers: Customers, problems: list[Problem]) -> dict[str, str]:
    """Normalised email domain -> customer key; a domain claimed twice maps to nobody."""
    frame = customers.frame
    domains = domain_from_website(frame["email_domain"])  # a website URL gives its domain
    table = pd.DataFrame({"domain": domains, "key": frame["_key"], "row": frame[ROW_COLUMN]})
    table = table.dropna(subset=["domain"])
    dup = table["domain"].duplicated(keep=False)
    for domain, group in table[dup].groupby("domain"):
        rows = ", ".join(str(r) for r in group["row"])
        problems.append(
            Problem(
                "Customers",
                f"email_domain is used by several customers (rows {rows}); "
                "emails from it cannot be matched — give each customer its own domain",
                row=int(group["row"].iloc[0]),
                column="email_domain",
                value=domain,
            )
        )
    table = table[~dup]
    return dict(zip(table["domain"], table["key"], strict=True))


def name_map(customers: Customers, problems: list[Problem]) -> dict[str, str]:
    """Organisation name (NFKC, case and spaces folded) -> customer key, when it names one.

    Rows without an ID or email are matched by an exact name; a name two customers share
    matches nobody (said once), never the first of them.
    """
    if customers.names is not None:
        return customers.names
    frame = customers.frame
    table = pd.DataFrame(
        {
            "name": organisation_key(frame["customer_name"]).to_numpy(dtype=object),
            "key": frame["_key"].to_numpy(dtype=object),
            "row": frame[ROW_COLUMN].to_numpy(),
        }
    ).dropna(subset=["name"])
    dup = table["name"].duplicated(keep=False)
    if dup.any():
        for _, group in list(table[dup].groupby("name", sort=False))[:10]:
            rows = ", ".join(str(r) for r in group["row"])
            problems.append(
                Problem(
                    "Customers",
                    f"several customers have this name (rows {rows}); rows of other sheets "
                    "that give only this name cannot be matched — give them an ID or email",
                    row=int(group["row"].iloc[0]),
                    column="customer_name",
                    value=frame["customer_name"].iloc[int(group.index[0])],
                )
            )
    table = table[~dup]
    customers.names = dict(zip(table["name"], table["key"], strict=True))
    return customers.names
