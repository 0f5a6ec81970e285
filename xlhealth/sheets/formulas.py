"""The scoring rules as classic worksheet formulas over the book's own config sheets.

Summary's scores are live on every Excel (Mac and the web included) and in LibreOffice:
a manager who changes a weight on Metrics, a band on Rules or a threshold on Tiers sees
the scores move without Python. Only functions of Excel 2010 and LibreOffice 7.4 are used
(:data:`FUNCTIONS`; no ``_xlfn.``, no LET/XLOOKUP/FILTER/LAMBDA), and no number ever goes
through text (a decimal comma would break it).

Each rule of DESIGN "What the numbers mean" has its formula here, written for one row of
the ``Values`` sheet (``{r}`` stands for the row number):

* points: ``LOOKUP(2, 1/(band holds the value), points)`` — the band whose ``[min, max)``
  holds the value (open ends blank) or whose text equals it; no band or no value:
  ``when_missing`` (blank = skipped, ``zero``, or a number);
* score: ``100·Σ w·points / Σ w·max`` over the metrics not skipped, clipped to [0, 100],
  rounded half up to one decimal — the same rounding as :func:`core.scoring.round_half_up`;
* tier: the number of tiers whose ``min_score`` ≤ score (Tiers are numbered 1, 2, 3 … with
  rising ``min_score``: refresh checks it);
* CMI: characteristic level = mean of its answered factors (``AVERAGEIF``), CMI = their
  weighted mean, half up to two decimals; quadrant and decision from the Matrix row of
  (health, maturity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlhealth.core.tables import column_letter

# Everything a formula here may call: in Excel 2010 and LibreOffice 7.4 alike, without the
# _xlfn. prefix newer functions carry in the file.
FUNCTIONS = frozenset(
    {
        "AND", "AVERAGEIF", "COUNTIF", "IF", "IFERROR", "INDEX", "INT", "LOOKUP", "MATCH",
        "MAX", "MEDIAN", "MIN", "N", "OR", "ROUND", "ROW", "SUMPRODUCT", "AVERAGE", "COUNT",
        "COUNTIFS", "SUMIF", "ISNUMBER", "TRIM",
    }
)  # fmt: skip
EXTRA_ROWS = 200  # rows below a config table its ranges reach, for bands people add


@dataclass(frozen=True)
class Table:
    """Where a config table sits in the book: its columns' letters and data rows."""

    sheet: str
    letters: dict[str, str]
    first: int  # first data row
    last: int  # last row the ranges reach

    def col(self, name: str) -> str:
        """``'Rules'!$B$2:$B$240`` for column ``name``."""
        letter = self.letters[name]
        return f"{quote(self.sheet)}!${letter}${self.first}:${letter}${self.last}"

    def whole(self, name: str) -> str:
        """``'Matrix'!$C:$C``: for INDEX by a sheet row number."""
        letter = self.letters[name]
        return f"{quote(self.sheet)}!${letter}:${letter}"

    def has(self, *names: str) -> bool:
        return all(n in self.letters for n in names)


def table(sheet: str, letters: dict[str, str], header_row: int, last_data_row: int) -> Table:
    return Table(sheet, dict(letters), header_row + 1, max(last_data_row, header_row) + EXTRA_ROWS)


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def text(value: str) -> str:
    """A string literal inside a formula."""
    return '"' + value.replace('"', '""') + '"'


def half_up(x: str, decimals: int) -> str:
    """Round half up like the core (``floor(round(x·10^d, 6) + 0.5) / 10^d``)."""
    scale = 10**decimals
    return f"INT(ROUND(({x})*{scale},6)+0.5)/{scale}"


def setting(settings: Table, key: str, default: str) -> str:
    """A Settings value by key; ``default`` (a formula literal) when absent or blank."""
    found = f"INDEX({settings.col('value')},MATCH({text(key)},{settings.col('key')},0))"
    return f'IFERROR(IF({found}="",{default},{found}),{default})'


# ----------------------------------------------------------------------------- per metric


def metric_param(metrics: Table, name_cell: str, column: str, as_text: bool = False) -> str:
    """One Metrics cell of the metric named in ``name_cell`` (``""``/0 when absent)."""
    found = f"INDEX({metrics.col(column)},MATCH({name_cell},{metrics.col('metric')},0))"
    return f'IFERROR({found}&"","")' if as_text else f"IFERROR(N({found}),0)"


def max_points(rules: Table, name_cell: str) -> str:
    """The largest points among the metric's bands, floored at 0."""
    return f"SUMPRODUCT(MAX(({rules.col('metric')}={name_cell})*{rules.col('points')}))"


def missing_points(when_text: str, when_number: str) -> str:
    """What a missing value scores: blank (skip), 0 (zero) or the number given."""
    return f'IF(OR({when_text}="",{when_text}="skip"),"",IF({when_text}="zero",0,{when_number}))'


def points(rules: Table, name_cell: str, value: str, missing: str, is_text: bool) -> str:
    """The points of the band holding ``value`` for the metric named in ``name_cell``."""
    metric = f"({rules.col('metric')}={name_cell})"
    if is_text:
        holds = f"{metric}*({rules.col('value')}={value})"
    else:
        lo, hi = rules.col("min"), rules.col("max")
        holds = f'{metric}*((({lo}="")+({lo}<={value}))>0)*((({hi}="")+({hi}>{value}))>0)'
    band = f"LOOKUP(2,1/({holds}),{rules.col('points')})"
    return f'IF({value}="",{missing},IFERROR({band},{missing}))'


# ----------------------------------------------------------------------------- per customer


def score(pts: str, weights: str, maxes: str, mask: str | None = None) -> str:
    """Σ w·points / Σ w·max over the metrics not skipped (``pts`` blank), ×100, clipped."""
    w = weights if mask is None else f"{weights}*({mask})"
    den = f'SUMPRODUCT(({pts}<>"")*{w}*{maxes})'
    raw = f"MIN(100,MAX(0,100*SUMPRODUCT({pts},{w})/{den}))"
    return f'IF({den}=0,"",{half_up(raw, 1)})'


def tier(tiers: Table, score_cell: str) -> str:
    mins = tiers.col("min_score")
    count = f'SUMPRODUCT(({mins}<>"")*({mins}<={score_cell}))'
    return f'IF({score_cell}="","",IF({count}=0,"",{count}))'


def tier_kept(tiers: Table, score_cell: str, previous_cell: str, margin_cell: str) -> str:
    """The tier with hysteresis (``core.stability.hysteresis_tiers``): the previous
    snapshot's tier (a value refresh writes) unless the score passed a boundary by the
    margin — MEDIAN(tier(score − h), previous, tier(score + h)) clamps it; no previous
    tier, a tier the Tiers sheet no longer has, or h ≤ 0: the plain tier."""
    mins = tiers.col("min_score")

    def count(x: str) -> str:
        return f'SUMPRODUCT(({mins}<>"")*({mins}<={x}))'

    h = f"N({margin_cell})"
    plain = tier(tiers, score_cell)
    kept = (f"MEDIAN({count(f'{score_cell}-{h}')},{previous_cell},"
            f"{count(f'{score_cell}+{h}')})")  # fmt: skip
    unknown = f'OR({previous_cell}="",{h}<=0,COUNTIF({tiers.col("tier")},{previous_cell})=0)'
    return f'IF({score_cell}="","",IF({unknown},{plain},IF({kept}=0,"",{kept})))'


def labelled(table_: Table, key_column: str, key_cell: str, column: str, lang: str) -> str:
    """``column`` (or its ``_ja`` twin when the language is ja and it is filled) of the row
    whose ``key_column`` equals ``key_cell``."""
    where = f"MATCH({key_cell},{table_.col(key_column)},0)"
    en = f'INDEX({table_.col(column)},{where})&""'
    ja = f'INDEX({table_.col(column + "_ja")},{where})&""'
    shown = in_language(en, ja if table_.has(f"{column}_ja") else None, lang)
    return f'IF({key_cell}="","",IFERROR({shown},""))'


def in_language(en: str, ja: str | None, lang: str) -> str:
    """The ``_ja`` text when the language is ja and it is filled, else the English one (as
    ``Tier.text`` and ``MatrixCell.text`` choose)."""
    return en if ja is None else f'IF(AND({lang}="ja",{ja}<>""),{ja},{en})'


def level(characteristics: str, name_cell: str, answers: str) -> str:
    """A characteristic's level: the mean of its answered factors (blank: none answered)."""
    return f'IFERROR(AVERAGEIF({characteristics},{name_cell},{answers}),"")'


def cmi(levels: str, weights: str) -> str:
    den = f'SUMPRODUCT(({levels}<>"")*{weights})'
    return f'IF({den}=0,"",{half_up(f"SUMPRODUCT({levels},{weights})/{den}", 2)})'


def maturity_level(cmi_cell: str) -> str:
    return f'IF({cmi_cell}="","",INT({cmi_cell}+0.5))'


def health(score_cell: str, high_min: str) -> str:
    return f'IF({score_cell}="","",IF({score_cell}>={high_min},"high","low"))'


def maturity(cmi_cell: str, high_min: str) -> str:
    return f'IF({cmi_cell}="","unknown",IF({cmi_cell}>={high_min},"high","low"))'


def matrix_row(matrix: Table, health_cell: str, maturity_cell: str) -> str:
    """The sheet row of the Matrix line for (health, maturity) — ``any`` health holds both —
    blank without health."""
    mh = matrix.col("health")
    hit = f'((({mh}={health_cell})+({mh}="any"))>0)*({matrix.col("maturity")}={maturity_cell})'
    found = f"LOOKUP(2,1/({hit}),ROW({matrix.col('health')}))"
    return f'IF({health_cell}="","",IFERROR({found},""))'


def matrix_text(matrix: Table, row_cell: str, what: str, lang: str) -> str:
    en = f'INDEX({matrix.whole(what)},{row_cell})&""'
    ja = f'INDEX({matrix.whole(what + "_ja")},{row_cell})&""'
    shown = in_language(en, ja if matrix.has(f"{what}_ja") else None, lang)
    return f'IF({row_cell}="","",{shown})'


def from_values(values_sheet: str, letter: str, row_cell: str) -> str:
    return f'IF({row_cell}="","",INDEX({quote(values_sheet)}!${letter}:${letter},{row_cell}))'


_NAME = re.compile(r"([A-Z][A-Z0-9.]*)\(")


def functions_in(formula: str) -> set[str]:
    """The functions a formula calls (outside string literals)."""
    code = re.sub(r'"(?:[^"]|"")*"', '""', formula)
    code = re.sub(r"'(?:[^']|'')*'!", "S!", code)
    return set(_NAME.findall(code))


def row_range(first_col: int, last_col: int, row: str) -> str:
    """``F{r}:K{r}``: one row across columns ``first_col``..``last_col`` (0-based)."""
    return f"${column_letter(first_col)}{row}:${column_letter(last_col)}{row}"


# ----------------------------------------------------------------------------- Segments


def in_segment(segments: str, label_cell: str, all_label: str, none_label: str) -> str:
    """1 for Summary rows in the segment named in ``label_cell`` (``all_label``: every row;
    ``none_label``: a blank segment), as an array SUMPRODUCT can weigh with."""
    named = f'(TRIM({segments})=IF({label_cell}={text(none_label)},"",{label_cell}))'
    return f"((({label_cell}={text(all_label)})+{named})>0)"


def segment_count(member: str, column: str | None = None) -> str:
    """Customers in the segment (with a number in ``column``, when given)."""
    return f"SUMPRODUCT({member}*ISNUMBER({column}))" if column else f"SUMPRODUCT({member}*1)"


def segment_mean(member: str, column: str, decimals: int) -> str:
    n = segment_count(member, column)
    mean = f"SUMPRODUCT({member}*ISNUMBER({column}),{column})/{n}"
    return f'IF({n}=0,"",{half_up(mean, decimals)})'


def segment_median(member: str, column: str) -> str:
    """An array formula (``t="array"``): MEDIAN over the segment's scores."""
    n = segment_count(member, column)
    return f'IF({n}=0,"",{half_up(f"MEDIAN(IF({member}*ISNUMBER({column}),{column}))", 1)})'


def segment_tier(member: str, tiers: str, tier: int) -> str:
    return f"SUMPRODUCT({member}*({tiers}={tier}))"
