"""Email-ready export: macro-free, value-only .xlsx files, optionally one per owner or segment.

Recipients have no Python and may open the file on a Mac, on the web, or behind
a mail filter that blocks macros. So each file is a plain .xlsx built from
scratch: a Cover sheet that explains the numbers, then the chosen output
sheets written by the same writer as refresh — values, formatting,
conditional formats and charts; no formulas, no VBA, no external links, no
hidden input or config sheets.

The numbers are those of the workbook's last refresh: the export re-scores as
of the last History date and refuses when that no longer matches the
workbook's Summary (inputs changed since the last refresh).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import numpy as np
import pandas as pd

from xlhealth.book.files import safe_name
from xlhealth.book.read import read_workbook
from xlhealth.book.score import score_workbook
from xlhealth.core import checks, engine
from xlhealth.core.model import CONFIG_SHEETS
from xlhealth.core.problems import Problem, RefreshError
from xlhealth.inputs.specs import INPUT_SHEETS
from xlhealth.sheets import template
from xlhealth.sheets.outputs import OutputWriter
from xlhealth.sheets.writer import label
from xlhealth.xlsx.package import Package
from xlhealth.xlsx.properties import set_properties
from xlhealth.xlsx.sheetxml import NOTE, TITLE, Block, Column, SheetBuilder
from xlhealth.xlsx.styles import CellStyle

EXPORTABLE = ("Summary", "Actions", "Segments", "Checks")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COVER = {
    "en": {
        "title": "Customer health — {who}",
        "as_of": "Scores as of {as_of}. Prepared {today} from the team's HealthScore workbook.",
        "what": "What the score means: 0–100, points earned ÷ points possible over the metrics "
        "we can measure for each customer; higher is healthier. 'Why' on Summary lists "
        "what cost the most points.",
        "tiers": "Tiers",
        "metrics": "What goes into the score",
        "matrix": "How to read the quadrant (health × maturity)",
        "maturity": "Maturity (CMI, 1–5) comes from a questionnaire about the customer's own "
        "strategy, people, process and technology; no answers means 'assess "
        "maturity'.",
        "sheets": "Sheets in this file: {sheets}. Values only — no macros, no formulas.",
        "all": "all customers",
    },
    "ja": {
        "title": "カスタマーヘルス — {who}",
        "as_of": "基準日 {as_of}。{today} にチームの HealthScore ブックから作成。",
        "what": "スコアの意味：0〜100。顧客ごとに測定できた指標で「獲得点 ÷ 満点」を計算したもの。"
        "高いほど健全です。Summary の「理由」は失点の大きい項目です。",
        "tiers": "ティア",
        "metrics": "スコアの構成",
        "matrix": "象限の読み方（ヘルス × 成熟度）",
        "maturity": "成熟度（CMI、1〜5）は顧客自身の戦略・人材・プロセス・テクノロジーに関する"
        "アンケートから算出します。回答がない場合は「成熟度未評価」です。",
        "sheets": "このファイルのシート：{sheets}。値のみ（マクロ・数式なし）。",
        "all": "全顧客",
    },
}
MAIL = {
    "en": {
        "subject": "Customer health {as_of}: {who}",
        "hello": "Hello {name},",
        "intro": "attached are the customer health scores as of {as_of} ({n} customers).",
        "tiers": "Customers per tier:",
        "changes": "Since the last refresh: {up} improved, {down} declined by 5 points or more.",
        "urgent": "Most urgent actions:",
        "none": "No urgent actions.",
        "bye": "This message was prepared by xlhealth and has "
        "not been sent; review it before sending.",
    },
    "ja": {
        "subject": "カスタマーヘルス {as_of}：{who}",
        "hello": "{name} さん",
        "intro": "{as_of} 時点のカスタマーヘルススコア（{n}社）を添付します。",
        "tiers": "ティア別の顧客数：",
        "changes": "前回の更新から：改善 {up}社、5ポイント以上の低下 {down}社。",
        "urgent": "優先度の高いアクション：",
        "none": "緊急のアクションはありません。",
        "bye": "このメールは xlhealth が作成した下書きで、まだ送信されていま"
        "せん。内容を確認してから送信してください。",
    },
}


@dataclass
class Exported:
    who: str
    path: Path
    customers: int
    draft: Path | None = None


def last_refresh(result_history: pd.DataFrame | None) -> dt.date | None:
    if result_history is None or result_history.empty or "as_of" not in result_history:
        return None
    dates = pd.to_datetime(result_history["as_of"], errors="coerce").dropna()
    return None if dates.empty else dates.max().date()


SENT = ("status", "note", "snooze_until")  # what an owner may change in their copy


def export(
    book: str | Path,
    out_dir: str | Path | None = None,
    by: str | None = None,
    sheets: tuple[str, ...] = EXPORTABLE,
    lang: str | None = None,
    include_all: bool = True,
    drafts: bool = False,
) -> list[Exported]:
    """Write the export files; return what was written (path, customers, draft)."""
    book = Path(book)
    unknown = [s for s in sheets if s not in EXPORTABLE]
    if unknown:
        raise RefreshError(
            f"cannot export sheet {unknown[0]!r}; choose from {', '.join(EXPORTABLE)}"
        )
    out = Path(out_dir) if out_dir else book.parent / f"{book.stem} export"
    workbook = read_workbook(
        book, (*INPUT_SHEETS, *CONFIG_SHEETS, "History", "Summary", "Owners"), kept=True
    )
    owner_emails = _owner_emails(workbook)
    history = workbook.sheets["History"].frame if "History" in workbook.sheets else None
    as_of = last_refresh(history)
    if as_of is None:
        raise RefreshError(
            f"{book.name} has not been refreshed yet; run: xlhealth refresh {book.name}"
        )
    if lang:
        _set_language(workbook, lang)
    result, problems = score_workbook(workbook, as_of)
    _check_current(workbook, result)
    language = result.model.settings.language
    out.mkdir(parents=True, exist_ok=True)
    groups: list[tuple[str, pd.Series | None]] = []
    if include_all or by is None:
        groups.append((COVER[language]["all"], None))
    if by:
        column = {"owner": "owner", "segment": "segment"}[by]
        values = result.summary[column].fillna("").astype(str).str.strip()
        for who in sorted(v for v in values.unique() if v):
            groups.append((who, values == who))
    written = []
    sent = _as_sent(result)
    for who, mask in groups:
        part = _subset(sent, problems, mask)
        name = safe_name(f"HealthScore {result.as_of} - {who}") + ".xlsx"
        path = out / name
        origin = {
            "xlhealth_book": book.name,
            "xlhealth_as_of": result.as_of.isoformat(),
            "xlhealth_exported": dt.datetime.now().replace(microsecond=0).isoformat(),
            "xlhealth_for": who,
        }
        _write(part[0], part[1], path, sheets, who, origin)
        item = Exported(who, path, len(part[0].summary))
        if drafts:
            item.draft = _draft(part[0], path, who, mask is None, owner_emails)
        written.append(item)
    return written


def _set_language(workbook, lang: str) -> None:
    """Labels in ``lang`` whatever the workbook's Settings say (numbers do not change)."""
    sheet = workbook.sheets.get("Settings")
    if sheet is None:
        return  # the default Settings are used; their language is English
    frame = sheet.frame
    keys = frame["key"].astype(str).str.strip().str.casefold()
    if (keys == "language").any():
        frame.loc[keys == "language", "value"] = lang
    else:
        frame.loc[len(frame)] = {"key": "language", "value": lang}


def _check_current(workbook, result: engine.Result) -> None:
    """The export must show what the workbook shows: refuse when Summary is stale."""
    summary = workbook.sheets.get("Summary")
    if summary is None or "score" not in summary.frame.columns:
        raise RefreshError("the workbook has no Summary yet; run xlhealth refresh first")
    shown = pd.to_numeric(summary.frame["score"], errors="coerce").to_numpy(float)
    now = result.summary["score"].to_numpy(float)
    ids_shown = summary.frame["customer_id"].astype(str).tolist()
    ids_now = result.summary["customer_id"].astype(str).tolist()
    same = ids_shown == ids_now and np.allclose(shown, now, equal_nan=True)
    if not same:
        raise RefreshError(
            "the input sheets changed since the last refresh (Summary no longer "
            "matches them); refresh the workbook, then export"
        )


def _subset(
    result: engine.Result, problems: list[Problem], mask: pd.Series | None
) -> tuple[engine.Result, list[Problem]]:
    if mask is None:
        return result, problems
    summary = result.summary[mask.to_numpy()].reset_index(drop=True)
    ids = set(summary["customer_id"].astype(str))
    actions = result.actions[result.actions["customer_id"].astype(str).isin(ids)]
    mine = [p for p in problems if p.customer_id is None or str(p.customer_id) in ids]
    return replace(
        result,
        summary=summary,
        actions=actions.reset_index(drop=True),
        segments=engine.segments(summary, result.model),
        exemplars=checks.exemplars(summary),
        backtest=checks.backtest(
            summary, result.model, None if result.honest is None else result.honest.frame
        ),
    ), mine


def _as_sent(result: engine.Result) -> engine.Result:
    """The Actions as sent: what status, note and snooze said when the copy left the book
    (hidden columns ``xlhealth collect`` compares with to tell who changed what)."""
    actions = result.actions.copy()
    for field in SENT:
        actions[f"sent_{field}"] = actions[field]
    return replace(result, actions=actions)


def _write(
    result: engine.Result,
    problems: list[Problem],
    path: Path,
    sheets: tuple[str, ...],
    who: str,
    origin: dict[str, str] | None = None,
) -> None:
    names = ["Cover", *sheets]
    tmp = path.with_name(f".{path.name}.tmp")
    skeleton = path.with_name(f".{path.name}.skeleton")
    skeleton.write_bytes(template.skeleton(names))
    try:
        with Package(skeleton) as package:
            writer = OutputWriter(result, package.styles, package.date1904)
            package.set_sheet("Cover", _cover(result, package, who, sheets))
            makers = {
                "Summary": writer.summary,
                "Actions": writer.actions,
                "Segments": writer.segments,
                "Checks": lambda: writer.checks(problems),
            }
            for name in sheets:
                package.set_sheet(name, makers[name]())
            if origin:
                set_properties(package, origin)
            package.save(tmp)
        tmp.replace(path)
    finally:
        for leftover in (tmp, skeleton):
            leftover.unlink(missing_ok=True)


def _cover(result: engine.Result, package: Package, who: str, sheets: tuple[str, ...]):
    from xlhealth.xlsx.package import NewSheet

    lang = result.model.settings.language
    t = COVER[lang]
    model = result.model
    b = SheetBuilder(package.styles, package.date1904)
    b.text_line(t["title"].format(who=who), TITLE)
    b.text_line(t["as_of"].format(as_of=result.as_of, today=dt.date.today()), NOTE)
    b.text_line(t["what"], CellStyle())
    b.text_line(t["sheets"].format(sheets=", ".join(sheets)), NOTE)
    b.next_row += 1
    tiers = sorted(model.tiers, key=lambda x: -x.tier)
    counts = result.summary["tier"].value_counts()
    legend = pd.DataFrame(
        {
            "tier": [x.tier for x in tiers],
            "tier_label": [x.text(lang) for x in tiers],
            "score": [f"≥ {x.min_score:g}" for x in tiers],
            "customers": [int(counts.get(x.tier, 0)) for x in tiers],
        }
    )
    by_tier = {
        x.tier: package.styles.xf(
            CellStyle(
                fill=(x.color or "#DDDDDD").lstrip("#"),
                bold=True,
                halign="center",
                color="FFFFFF" if x.tier in (1, 5) else "000000",
            )
        )
        for x in tiers
    }

    def tier_cells(values: pd.Series) -> np.ndarray:
        return values.map(by_tier).to_numpy(dtype=np.int64)

    b.block(
        Block(
            legend,
            [
                Column(
                    "tier", label("tier", lang), "int", CellStyle(halign="center"), 8, tier_cells
                ),
                Column("tier_label", label("tier_label", lang), width=16),
                Column("score", label("score", lang), width=14),
                Column("customers", label("customers", lang), "int", width=12),
            ],
            title=t["tiers"],
            show_keys=False,
        )
    )
    metrics = pd.DataFrame(
        {
            "group": [m.group for m in model.scored_metrics],
            "metric": [m.label(lang) for m in model.scored_metrics],
            "weight": [m.weight for m in model.scored_metrics],
            "max": [m.max_points for m in model.scored_metrics],
        }
    )
    b.block(
        Block(
            metrics,
            [
                Column("group", label("group", lang), width=16),
                Column("metric", label("metric", lang), width=60),
                Column("weight", "weight" if lang == "en" else "重み", "number", width=8),
                Column("max", "max points" if lang == "en" else "満点", "number", width=10),
            ],
            title=t["metrics"],
            show_keys=False,
        )
    )
    matrix = pd.DataFrame(
        [
            {
                "health": h,
                "maturity": m,
                "quadrant": cell.text("quadrant", lang),
                "decision": cell.text("decision", lang),
            }
            for (h, m), cell in sorted(model.matrix.items())
        ]
    )
    b.block(
        Block(
            matrix,
            [
                Column("health", "health" if lang == "en" else "ヘルス", width=10),
                Column("maturity", "maturity" if lang == "en" else "成熟度", width=10),
                Column("quadrant", label("quadrant", lang), width=22),
                Column("decision", label("decision", lang), width=50),
            ],
            title=t["matrix"],
            notes=(t["maturity"],),
            show_keys=False,
        )
    )
    b.widths.update({0: 16, 1: 60})
    b.landscape = False
    b.tab_color = "1F4E79"
    return NewSheet(b.xml())


def _owner_emails(workbook) -> dict[str, str]:
    """owner -> address from an optional Owners sheet (owner, email or owner_email)."""
    sheet = workbook.sheets.get("Owners")
    if sheet is None:
        return {}
    frame = sheet.frame
    column = next((c for c in ("email", "owner_email") if c in frame.columns), None)
    if column is None:
        return {}
    pairs = frame[["owner", column]].dropna()
    return {str(o).strip(): str(e).strip() for o, e in pairs.itertuples(index=False)}


def _draft(
    result: engine.Result,
    attachment: Path,
    who: str,
    everyone: bool,
    owner_emails: dict[str, str] | None = None,
) -> Path:
    """An unsent .eml (X-Unsent: 1 opens as a new message in Outlook and others)."""
    lang = result.model.settings.language
    m = MAIL[lang]
    s = result.summary
    emails = s["owner_email"].dropna().astype(str).str.strip() if "owner_email" in s else []
    to = "" if everyone else (emails.iloc[0] if len(emails) else "")
    if not everyone and not to:
        to = (owner_emails or {}).get(who, "")
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = m["subject"].format(as_of=result.as_of, who=who)
    if to:
        msg["To"] = to
    msg["X-Unsent"] = "1"
    lines = [
        m["hello"].format(name=who),
        "",
        m["intro"].format(as_of=result.as_of, n=len(s)),
        "",
        m["tiers"],
    ]
    counts = s["tier"].value_counts()
    for tier in sorted(result.model.tiers, key=lambda x: -x.tier):
        lines.append(f"  {tier.tier} {tier.text(lang)}: {int(counts.get(tier.tier, 0))}")
    change = s["score_change"]
    lines += [
        "",
        m["changes"].format(up=int((change > 0).sum()), down=int((change <= -5).sum())),
        "",
        m["urgent"],
    ]
    urgent = result.actions[result.actions["priority"] == 1].head(5)
    if urgent.empty:
        lines.append("  " + m["none"])
    for row in urgent.itertuples():
        lines.append(
            f"  - {row.customer_name}: {row.trigger} → {row.action} "
            f"({pd.Timestamp(row.due):%Y-%m-%d})"
        )
    lines += ["", m["bye"]]
    msg.set_content("\n".join(lines))
    kind, _ = mimetypes.guess_type(attachment.name)
    maintype, subtype = (kind or XLSX_TYPE).split("/", 1)
    msg.add_attachment(
        attachment.read_bytes(), maintype=maintype, subtype=subtype, filename=attachment.name
    )
    path = attachment.with_suffix(".eml")
    path.write_bytes(bytes(msg))
    return path
