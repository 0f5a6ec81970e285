"""Writing a refreshed file's sheets into the open book, all or nothing.

:func:`swap_in` writes the refreshed sheets *into* the open book's own sheet objects --
so a manager's ``=Summary!E5`` on a sheet of their own, a defined name or a pivot keeps
pointing at Summary -- and undoes every change if anything fails.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from xlhealth.excel import livebook
from xlhealth.excel.livebook import LiveBook, LiveError, retry
from xlhealth.xlsx.cells import formula_blocks
from xlhealth.xlsx.package import Package
from xlhealth.xlsx.sheetlook import SheetLook, sheet_look

MAC_SANDBOX = Path("Library/Containers/com.microsoft.Excel/Data")  # under the home folder


class RollbackError(Exception):
    """A failure whose undo failed too: the open book may be half-changed."""

    def __init__(self, cause: BaseException, undo_errors: Sequence[BaseException]):
        super().__init__(str(cause))
        self.cause, self.undo_errors = cause, list(undo_errors)


def swap_in(live: LiveBook, source: Path, names: Sequence[str]) -> None:
    """Write sheets ``names`` of the workbook file ``source`` into the open book: all or nothing.

    Each existing sheet keeps its identity (its contents are overwritten, after a
    backup copy of them goes to a scratch book); a missing one is added at the end.
    On any exception every change is undone -- the overwritten sheets are written
    back from their backups, added sheets deleted -- and the exception is raised
    again (a :class:`RollbackError` if the undo failed too).
    """
    undo: list[Callable[[], None]] = []
    opened: list[Any] = []
    with live.quiet():
        try:
            before = live.sheet_names()
            locked = [n for n in names if n in before and live.is_protected(live.sheet(n))]
            if locked:
                raise LiveError(
                    f"{', '.join(locked)}: protected, so refresh cannot rewrite "
                    f"{'it' if len(locked) == 1 else 'them'}. Review > Unprotect Sheet, "
                    "then run it again (protect it again afterwards if you like)."
                )
            opened.append(live.open_book(source))
            other = opened[0]
            opened.append(live.new_book())
            scratch = opened[1]
            for name in names:
                new = other.sheets[name]
                if name in before:
                    target = live.sheet(name)
                    backup = live.copy_sheet(target, scratch)
                    undo.append(lambda t=target, b=backup, n=name: _restore(live, t, b, n))
                    live.overwrite(target, new)
                else:
                    undo.append(lambda: _delete_added(live, before))
                    added = live.copy_sheet(new, live.book)
                    live.overwrite(added, new)  # charts pointed at the book's own sheet
            blocks, looks = _as_filed(source, names)
            rewrite_formulas(live, blocks)
            live.calculate()
            set_looks(live, looks)
        except BaseException as error:
            # every undo step is attempted: one that fails must not leave the others undone
            failed = []
            for step in reversed(undo):
                try:
                    retry(step)
                except Exception as undo_error:
                    failed.append(undo_error)
            if failed:
                raise RollbackError(error, failed) from error
            raise
        finally:
            for book in reversed(opened):  # a scratch book left open harms nothing
                with contextlib.suppress(Exception):
                    retry(lambda book=book: live.close_book(book))


def _as_filed(
    source: Path, names: Sequence[str]
) -> tuple[dict[str, list[tuple[str, list[str]]]], dict[str, SheetLook]]:
    """The formulas and the look of sheets ``names`` in the file ``source``: each sheet part
    read once for both."""
    blocks, looks = {}, {}
    with Package(source) as package:
        for name in names:
            part = package.sheet_part(name)
            if part is not None:
                xml = package.read(part)
                blocks[name], looks[name] = formula_blocks(xml), sheet_look(xml)
    return blocks, looks


def rewrite_formulas(live: LiveBook, blocks: dict[str, list[tuple[str, list[str]]]]) -> None:
    """Enter each sheet's formulas as the file has them (``blocks``: :func:`_as_filed`).

    Cells copied from another workbook keep their formulas, but Excel points every
    reference to another sheet at that workbook (``'[work-Book.xlsx]Values'!$E:$E``):
    Summary's live scores would read the closed scratch copy. Entered in the book itself
    they read its own Values, Rules and Tiers.
    """
    for name, found in blocks.items():
        target = live.sheet(name)
        for ref, formulas in found:
            live.set_formulas(target, ref, formulas)


def set_looks(live: LiveBook, looks: dict[str, SheetLook]) -> None:
    """Frozen panes, filters, tab colours and page setup of each sheet as the file has them;
    the sheet the user was on is active again after."""
    active = live.active_sheet()
    for name, look in looks.items():
        live.set_look(live.sheet(name), look)
    with contextlib.suppress(Exception):
        retry(active.activate)


def _restore(live: LiveBook, target: Any, backup: Any, name: str) -> None:
    """Undo one overwritten sheet: its cells back from the scratch book, and its formulas
    and look set again as the saved book has them (from the scratch book formulas would
    point there; a copy of cells carries no frozen panes or filter)."""
    live.overwrite(target, backup)
    blocks, looks = _as_filed(Path(live.book.fullname), [name])
    rewrite_formulas(live, blocks)
    set_looks(live, looks)


def _delete_added(live: LiveBook, before: Sequence[str]) -> None:
    for name in live.sheet_names():
        if name not in before:
            live.delete_sheet(live.sheet(name))


def macro_free_copy(source: Path, target: Path) -> Path:
    """``source`` as a macro-free .xlsx: no VBA, so opening it starts no UDF server or macro."""
    main_xlsm = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    main_xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            name = info.filename
            if name.startswith(("xl/vbaProject", "customUI/")):
                continue
            data = z.read(info)
            if name == "[Content_Types].xml":
                text = data.decode("utf-8").replace(main_xlsm, main_xlsx)
                text = re.sub(r"<(?:Override|Default)[^>]*vbaProject[^>]*/>", "", text)
                data = text.encode("utf-8")
            elif name in ("xl/_rels/workbook.xml.rels", "_rels/.rels"):
                text = data.decode("utf-8")
                text = re.sub(r"<Relationship [^>]*(?:vbaProject|customUI)[^>]*/>", "", text)
                data = text.encode("utf-8")
            fresh = zipfile.ZipInfo(name, date_time=info.date_time)
            out.writestr(fresh, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary folder Excel may open files in without asking.

    Mac Excel is sandboxed: a file under $TMPDIR needs "Grant File Access" every run,
    one in its container (~/Library/Containers/com.microsoft.Excel/Data) does not.
    """
    parent = None
    if livebook.IS_MAC:
        parent = Path.home() / MAC_SANDBOX / "xlhealth"
        parent.mkdir(parents=True, exist_ok=True)
    # a file Excel still holds must not turn a finished swap into an error
    with tempfile.TemporaryDirectory(
        prefix="xlhealth-", dir=parent, ignore_cleanup_errors=True
    ) as tmp:
        yield Path(tmp)


def opened_name(saved: Path) -> str:
    """What Excel opens: another name than the book's (Excel cannot open two of one name)."""
    return f"xlhealth-{saved.stem}.xlsx"
