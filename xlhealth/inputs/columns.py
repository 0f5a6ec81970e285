"""Which pasted column feeds which field: exports are pasted as the tools write them.

A field of an input sheet is found, in the contract's order: its contract name
(compared after NFKC, case folding, spaces/underscores alike), a row of the
optional ``Columns`` config sheet, then the built-in aliases of common exports
(``templates/aliases.csv``: one row per tool, sheet, field and header, kept as
data). Two headers that could both be one field are a located problem naming
both and the ``Columns`` row that settles it — unless the alias table ranks one
as that tool's canonical choice. Nothing is guessed silently, and what was
recognised is kept (:class:`Mapped`) so Checks can show it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from xlhealth.core.problems import Problem, is_blank
from xlhealth.core.tables import iter_rows
from xlhealth.core.tables import normalise_header as fold_header

FIELDS: dict[str, tuple[str, ...]] = {
    "Customers": (
        "customer_id",
        "customer_name",
        "segment",
        "owner",
        "owner_email",
        "arr",
        "seats",
        "renewal_date",
        "stage",
        "email_domain",
        "exemplar",
        "outcome",
        "outcome_date",
    ),
    "Usage": ("customer_id", "customer_name", "email"),
    "Logins": ("customer_id", "email", "user_id", "date", "customer_name"),
    "Support": ("customer_id", "email", "opened", "category", "severity", "customer_name"),
    "Surveys": ("customer_id", "email", "date", "nps", "customer_name"),
    "Contacts": ("customer_id", "date", "kind", "role", "customer_name", "email"),
    "Onboarding": ("customer_id", "step", "standard_days", "started", "completed"),
    "Maturity": ("customer_id", "factor", "level", "assessed_on", "assessor"),
    "Overrides": ("customer_id", "customer_name", "score", "tier", "reason", "by", "until"),
    "Outcomes": ("customer_id", "outcome", "outcome_date", "customer_name"),
}
"""The contract fields of each input sheet (``Usage`` also takes any metric column)."""

KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "Customers": ("customer_id",),
    **{
        name: ("customer_id", "email", "customer_name")
        for name in ("Usage", "Logins", "Support", "Surveys", "Contacts")
    },
    "Onboarding": ("customer_id",),
    "Maturity": ("customer_id",),
    "Overrides": ("customer_id",),
    "Outcomes": ("customer_id",),
}
"""Fields whose header marks the header row (a row is matched to a customer by these)."""


@dataclass(frozen=True)
class Mapped:
    """One recognised field: the header it came from and why."""

    sheet: str
    field: str
    header: str
    letter: str
    origin: str  # "contract", "Columns row 4" or "Zendesk export"


@dataclass
class Recognised:
    names: list[str | None]  # per header position: the field / column key, None = skip
    mapped: list[Mapped] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # headers that feed no field


@dataclass(frozen=True)
class ColumnsRow:
    sheet: str
    field: str
    header: str
    row: int


@dataclass
class Recogniser:
    """Recognises the columns of input sheets from aliases and the book's ``Columns`` rows."""

    aliases: pd.DataFrame  # tool, sheet, field, header, rank (header folded in ``key``)
    columns: tuple[ColumnsRow, ...] = ()

    def key_headers(self, sheet: str, fields: tuple[str, ...] | None = None) -> set[str]:
        """Folded headers of ``fields`` (default: the key fields) that mark the header row."""
        keys = set(KEY_FIELDS.get(sheet, ()) if fields is None else fields)
        mine_rows = [c for c in self.columns if c.sheet == sheet and c.field in keys]
        found = keys | {fold_header(c.header) for c in mine_rows}
        mine = self.aliases[(self.aliases["sheet"] == sheet) & self.aliases["field"].isin(keys)]
        return found | set(mine.loc[mine["pattern"].isna(), "key"])

    def recognise(
        self,
        sheet: str,
        header: Sequence[object],
        letters: Sequence[str],
        header_row: int,
        problems: list[Problem],
    ) -> Recognised:
        folded = ["" if is_blank(h) else fold_header(h) for h in header]
        names: list[str | None] = [None] * len(header)
        taken: dict[str, int] = {}  # field -> position
        mapped: list[Mapped] = []

        def take(name: str, j: int, origin: str) -> None:
            names[j] = name
            taken[name] = j
            mapped.append(Mapped(sheet, name, str(header[j]).strip(), letters[j], origin))

        fields = FIELDS.get(sheet, ())
        first: dict[str, int] = {}
        for j, key in enumerate(folded):
            if key and key not in first:
                first[key] = j
        for name in fields:  # 1. contract names
            if name in first:
                take(name, first[name], "contract")
        for row in self.columns:  # 2. the book's Columns rows
            if row.sheet != sheet or row.field in taken:
                continue
            j = first.get(fold_header(row.header))
            if j is None:
                problems.append(
                    Problem(
                        "Columns",
                        f"sheet {sheet} has no column headed {row.header!r} (its header row is "
                        f"row {header_row}); fix the header here or in {sheet}",
                        row=row.row,
                        column="header",
                        value=row.header,
                    )
                )
                continue
            if names[j] is not None:
                continue
            take(row.field, j, f"Columns row {row.row}")
        mine = self.aliases[self.aliases["sheet"] == sheet]
        for name in fields:  # 3. built-in aliases of common exports
            if name in taken:
                continue
            candidates = _candidates(mine[mine["field"] == name], first)
            candidates = candidates[[names[first[k]] is None for k in candidates["key"]]]
            if candidates.empty:
                continue
            best = candidates[candidates["rank"] == candidates["rank"].min()]
            heads = list(dict.fromkeys(best["key"]))
            if len(heads) == 1:
                tools = " / ".join(dict.fromkeys(best["tool"]))
                take(name, first[heads[0]], f"{tools} export")
                continue
            shown = [f"{str(header[first[k]]).strip()!r} ({letters[first[k]]})" for k in heads]
            problems.append(
                Problem(
                    sheet,
                    f"{' and '.join(shown)} could each be {name}; neither is used — add a row to "
                    f"the Columns sheet (sheet {sheet}, field {name}, header: the one to use)",
                    row=header_row,
                    column=name,
                )
            )
        ignored = []
        for j, key in enumerate(folded):
            if not key or names[j] is not None:
                continue
            field_j = names[first[key]]
            if field_j in taken and first[key] != j:
                problems.append(
                    Problem(
                        sheet,
                        f"column {str(header[j]).strip()!r} appears twice in the header (also in "
                        f"column {letters[first[key]]}); the first one is read as {field_j}",
                        row=header_row,
                        column=field_j,
                        cell=f"{letters[j]}{header_row}",
                    )
                )
                continue
            if key in taken or first[key] != j:
                continue  # a repeated column no field reads (Jira repeats them): stay quiet
            names[j] = key  # not a field: kept under its own name, metrics may read it
            ignored.append(str(header[j]).strip())
        return Recognised(names, mapped, ignored)


@functools.cache
def builtin_aliases() -> pd.DataFrame:
    """``templates/aliases.csv`` with each header folded (``key``) for matching."""
    from xlhealth.core.model import templates_dir

    path = templates_dir() / "aliases.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False, comment=None)
    return prepare_aliases(table)


def _candidates(aliases: pd.DataFrame, first: dict[str, int]) -> pd.DataFrame:
    """Alias rows that name a header of the sheet; ``key`` is that header (folded)."""
    exact = aliases[aliases["pattern"].isna() & aliases["key"].isin(first)]
    found = [
        {**row, "key": key}
        for row in aliases[aliases["pattern"].notna()].to_dict("records")
        for key in first
        if row["pattern"].fullmatch(key)
    ]
    return pd.concat([exact, pd.DataFrame(found, columns=aliases.columns)]) if found else exact


_PLACEHOLDER = re.compile(r"\\\[[^\]]*\\\]")


def prepare_aliases(table: pd.DataFrame) -> pd.DataFrame:
    """Fold each header (``key``); a ``[placeholder]`` in one matches any text there.

    SurveyMonkey writes the NPS question with the company's name in it ("How likely is it
    that you would recommend [company] to a friend or colleague?"), so that alias is a
    pattern rather than a literal header.
    """
    out = table.copy()
    out["key"] = out["header"].map(fold_header)
    out["rank"] = pd.to_numeric(out.get("rank", 1), errors="coerce").fillna(1).astype(int)
    out = out[out["key"] != ""]
    out = out.drop_duplicates(["sheet", "field", "key", "tool"]).reset_index(drop=True)
    out["pattern"] = [
        re.compile(_PLACEHOLDER.sub(".+", re.escape(key))) if "[" in key and "]" in key else None
        for key in out["key"]
    ]
    return out


def columns_rows(frame: pd.DataFrame | None, problems: list[Problem]) -> tuple[ColumnsRow, ...]:
    """The ``Columns`` config sheet, validated: unknown sheets or fields stop the refresh."""
    if frame is None or frame.empty:
        return ()
    rows: list[ColumnsRow] = []
    seen: dict[tuple[str, str], int] = {}
    sheets = {name.casefold(): name for name in FIELDS}
    frame = frame[[c for c in frame.columns if c in ("sheet", "field", "header", "_row")]]
    for row in iter_rows("Columns", frame, problems):  # "fields" is the pick list beside them
        sheet = sheets.get(row.text("sheet", required=True).casefold(), "")
        name = fold_header(row.text("field", required=True))
        header = row.text("header", required=True)
        if not sheet:
            row.problem("sheet", f"not an input sheet; use one of {', '.join(FIELDS)}",
                        row.raw("sheet"))  # fmt: skip
            continue
        if sheet != "Usage" and name and name not in FIELDS[sheet]:
            row.problem(
                "field",
                f"{sheet} has no field {name!r}; use one of {', '.join(FIELDS[sheet])}",
                row.raw("field"),
            )
            continue
        if (sheet, name) in seen:
            row.problem("field", f"{sheet} {name} is also set on row {seen[(sheet, name)]}", name)
            continue
        if name and header:
            seen[(sheet, name)] = row.sheet_row
            rows.append(ColumnsRow(sheet, name, header, row.sheet_row))
    return tuple(rows)


ORIGIN_TEXT = {
    "contract": ("contract name", "規定の列名"),
    "columns": ("Columns row {detail}", "Columns {detail}行目"),
    "alias": ("{detail} export", "{detail} のエクスポート"),
    "metric": ("not a field; read by {detail}", "項目外。指標 {detail} が使用"),
    "ignored": ("ignored (no field, no metric reads it)", "未使用（項目にも指標にも使われない）"),
    "skipped": ("not data: {detail}", "データ外：{detail}"),
}


def mapping_rows(
    sheet: str,
    mapped: list[Mapped],
    ignored: list[str],
    skipped: list[str],
    read_by: dict[str, list[str]],
) -> list[dict[str, str]]:
    """Checks' view of one input sheet: each field and its header, unused columns, non-data rows.

    ``read_by`` maps a folded header to the metrics that read it (a Usage metric column, a
    filter column), so such columns are not called ignored.
    """
    out = []
    for m in mapped:
        if m.origin == "contract":
            kind, detail = "contract", ""
        elif m.origin.startswith("Columns row "):
            kind, detail = "columns", m.origin.removeprefix("Columns row ")
        else:
            kind, detail = "alias", m.origin.removesuffix(" export")
        out.append({"sheet": sheet, "field": m.field, "header": m.header, "kind": kind,
                    "detail": detail})  # fmt: skip
    for header in ignored:
        metrics = read_by.get(fold_header(header), [])
        kind, detail = ("metric", ", ".join(metrics)) if metrics else ("ignored", "")
        out.append({"sheet": sheet, "field": "", "header": header, "kind": kind,
                    "detail": detail})  # fmt: skip
    for what in skipped:
        out.append({"sheet": sheet, "field": "", "header": "", "kind": "skipped",
                    "detail": what})  # fmt: skip
    return out


def origin_text(kind: str, detail: str, language: str) -> str:
    en, ja = ORIGIN_TEXT[kind]
    return (ja if language == "ja" else en).format(detail=detail)
