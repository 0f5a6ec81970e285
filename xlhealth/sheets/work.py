"""The work-loop sheets: Actions (a to-do list people fill in) and ActionLog (what ended).

Actions: open actions first, tinted by priority; snoozed and closed ones below, greyed. The
columns people fill in — status (a drop-down in the book's language), note, snooze_until —
sit beside the action; columns they added follow, as they wrote them; what refresh needs to
remember an episode (score and trigger when it opened, when it saw it closed, the status it
last read) is in hidden columns at the end. ActionLog is appended like History.
"""

from __future__ import annotations

import pandas as pd

from xlhealth.core.actions import LOG_COLUMNS, STATUS_LABELS, STATUSES
from xlhealth.sheets.writer import SheetWriter
from xlhealth.xlsx.package import NewSheet
from xlhealth.xlsx.rawzip import AppendOnly
from xlhealth.xlsx.sheetxml import SHEET_ROWS, Block, Column, validation
from xlhealth.xlsx.styles import CellStyle

PRIORITY_FILLS = {1: "F8CBAD", 2: "FCE4D6", 3: "FFF2CC"}
DONE_GREY = "808080"
STATUS_HINT = {
    "en": ("Status", "Open, Done, Snoozed (set Snooze until) or Won't do. Refresh keeps it."),
    "ja": ("状況", "未対応・完了・保留（保留期限を入力）・対応しない。更新しても残ります。"),
}
SNOOZE_HINT = {
    "en": ("Snooze until", "The date the action should come back (with status Snoozed)."),
    "ja": ("保留期限", "アクションを再開する日付（状況「保留」と一緒に）。"),
}


def people_column(w: SheetWriter, sheet: str, key: str) -> Column:
    """A column somebody added, headed as they headed it, values as they typed them."""
    return _people(key, w.r.labels.get(sheet, {}).get(key, (key, key)))


def write_actions(w: SheetWriter) -> NewSheet:
    a = w.r.actions.reset_index(drop=True)
    b = w.builder()
    mine = w.r.user_columns.get("Actions", [])
    columns = [
        w.col("priority", "int", "0", 8, halign="center", bold=True),
        w.col("customer_id", width=13),
        w.col("customer_name", width=24),
        w.col("owner", width=14),
        w.col("trigger", width=42),
        w.col("action", width=42),
        w.col("due", "date", "yyyy-mm-dd", 11, halign="center"),
        w.col("status", width=12, bold=True, halign="center"),
        w.col("note", width=36, wrap=True),
        w.col("snooze_until", "date", "yyyy-mm-dd", 12, halign="center"),
        w.col("score", "number", "0.0", 8, halign="center"),
        w.tier_column("tier", "int", 6, lambda v: v),
        w.col("opened", "date", "yyyy-mm-dd", 11, halign="center"),
        w.col("alert", width=16, color="595959"),
        *(people_column(w, "Actions", c) for c in mine),
        hidden(w.col("score_opened", "number", "0.0", 10)),
        hidden(w.col("trigger_opened", width=20)),
        hidden(w.col("closed_on", "date", "yyyy-mm-dd", 11)),
        hidden(w.col("status_seen", width=10)),
        *(  # in an e-mailed copy: what it said when sent (xlhealth collect compares)
            hidden(
                w.col(f"sent_{k}", "date", "yyyy-mm-dd", 10)
                if k == "snooze_until"
                else w.col(f"sent_{k}", width=10)
            )
            for k in ("status", "note", "snooze_until")
            if f"sent_{k}" in a.columns
        ),
    ]
    layout = b.block(Block(a, columns))
    b.freeze = f"C{layout.first_row}"
    last = layout.letters[[c for c in columns if not c.hidden][-1].key]
    b.autofilter = f"A{layout.header_row}:{last}{max(layout.last_row, layout.header_row)}"
    first, end = layout.first_row, max(layout.last_row, layout.first_row) + 500
    status = layout.letters["status"]
    labels = [STATUS_LABELS[k][0 if w.lang != "ja" else 1] for k in STATUSES]
    title, prompt = STATUS_HINT.get(w.lang, STATUS_HINT["en"])
    b.validations.append(  # a drop-down; other words are read too (and checked by refresh)
        validation(
            f"{status}{first}:{status}{end}",
            "list",
            '"' + ",".join(labels) + '"',
            title=title,
            prompt=prompt,
        )
    )
    snooze = layout.letters["snooze_until"]
    title, prompt = SNOOZE_HINT.get(w.lang, SNOOZE_HINT["en"])
    b.validations.append(
        validation(
            f"{snooze}{first}:{snooze}{end}",
            "date",
            "DATE(2000,1,1)",
            "DATE(2100,12,31)",
            "between",
            title,
            prompt,
        )
    )
    rows = f"A{first}:{layout.letters['alert']}{end}"
    words = sorted({x for k in ("snoozed", "done", "wont_do") for x in (k, *STATUS_LABELS[k])})
    cell = f"${status}{first}"
    grey = w.styles.dxf(fill="EDEDED", color=DONE_GREY)
    b.add_conditional(  # first: a closed or snoozed row is grey whatever its priority
        rows,
        f'<cfRule type="expression" dxfId="{grey}" priority="{{priority}}" stopIfTrue="1">'
        f"<formula>OR({','.join(f'{cell}=&quot;{x}&quot;' for x in words)})</formula>"
        "</cfRule>",
    )
    if len(a):  # tint the row by priority; the tier cell keeps its tier colour
        tinted = f"A{first}:{layout.letters['score']}{layout.last_row}"
        for priority, fill in PRIORITY_FILLS.items():
            dxf = w.styles.dxf(fill=fill, bold=priority == 1)
            b.add_conditional(
                tinted,
                f'<cfRule type="expression" dxfId="{dxf}" '
                f'priority="{{priority}}"><formula>$A{first}='
                f"{priority}</formula></cfRule>",
            )
    b.tab_color = "C00000"
    return NewSheet(b.xml())


def _people(key: str, header: tuple[str, str]) -> Column:
    return Column(key, header[0] or key, "auto", CellStyle(wrap=True), 18, shown_key=header[1])


def hidden(column: Column) -> Column:
    column.hidden = True
    return column


def write_action_log(w: SheetWriter, previous: AppendOnly | None = None) -> NewSheet:
    """ActionLog; ``previous``: the book's ActionLog part, to which the new rows are only
    appended (never rewritten) when its header is the one this refresh would write."""
    earlier = w.r.earlier_log
    new = w.r.action_log_rows if w.r.action_log_rows is not None else pd.DataFrame()
    present = [f for f in (earlier, new) if f is not None]
    extra = list(dict.fromkeys(c for f in present for c in f.columns
                               if c not in LOG_COLUMNS and c != "_row"))  # fmt: skip
    b = w.builder()
    labels = {**w.r.labels.get("Actions", {}), **w.r.labels.get("ActionLog", {})}
    columns = [
        w.col("closed", "date", "yyyy-mm-dd", 11, halign="center"),
        w.col("customer_id", width=13),
        w.col("customer_name", width=22),
        w.col("owner", width=14),
        w.col("alert", width=16),
        w.col("action", width=36),
        w.col("opened", "date", "yyyy-mm-dd", 11, halign="center"),
        w.col("outcome", width=10, halign="center", bold=True),
        w.col("note", width=36, wrap=True),
        w.col("trigger_opened", width=32),
        w.col("score_opened", "number", "0.0", 11, halign="center"),
        w.col("trigger_closed", width=32),
        w.col("score_closed", "number", "0.0", 11, halign="center"),
        *(_people(c, labels.get(c, (c, c))) for c in extra),
    ]
    keys = [c.key for c in columns]
    end = previous.last_row if previous is not None else None
    same_header = earlier is not None and [c for c in earlier.columns if c != "_row"] == keys
    fits = end is not None and end + len(new) <= SHEET_ROWS
    if same_header and previous is not None and end is not None and end >= 2 and fits:
        if new.empty:  # append only: the rows there stay, byte for byte
            return NewSheet(b"", raw=previous.unchanged())
        rows = b.data_rows(new.reindex(columns=keys), columns, end + 1)
        return NewSheet(b"", raw=previous.append(rows, end + len(new)))
    parts = [f.drop(columns=["_row"], errors="ignore") for f in present if len(f)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    layout = b.block(Block(frame.reindex(columns=keys), columns))
    b.freeze = f"B{layout.first_row}"
    last = layout.letters[columns[-1].key]
    b.autofilter = f"A{layout.header_row}:{last}{max(layout.last_row, layout.header_row)}"
    b.tab_color = "7F7F7F"
    return NewSheet(b.xml(), append_only=True)
