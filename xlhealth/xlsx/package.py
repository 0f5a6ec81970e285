"""Surgery on an .xlsx/.xlsm package: replace or add worksheets, leave every other byte alone.

Refresh must never change input or config sheets, and an .xlsm must keep its
VBA project, ribbon, buttons, names and validation. Loading the whole book
into an object model and saving it again (openpyxl) rewrites all of that and
drops shapes. Instead the package is treated as a zip of parts: the output
sheets' parts are written anew, ``workbook.xml``, its rels, the content types
and ``styles.xml`` get small textual insertions (re-serialising them would
rename namespace prefixes that ``mc:Ignorable`` refers to), and every other
part is copied through unchanged.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree as SafeET

from xlhealth.xlsx.rawzip import AppendOnly, RawPart, level_for, read_raw, segmented, write_raw
from xlhealth.xlsx.styles import StyleBook

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_DRAWING = NS_REL + "/drawing"
REL_CHART = NS_REL + "/chart"
REL_CALC_CHAIN = NS_REL + "/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
OWN_PREFIX = "xlhealth_"
"""Parts this tool creates besides sheets (drawings, charts) carry this prefix."""


class PackageError(Exception):
    """The file is not a workbook this tool can open (damaged, encrypted, not .xlsx/.xlsm)."""


@dataclass
class Rel:
    id: str
    type: str
    target: str  # relative to the source part's folder


@dataclass
class NewSheet:
    """A worksheet to write: its XML, relationships and extra parts (drawings, charts)."""

    xml: bytes
    rels: list[Rel] = field(default_factory=list)
    parts: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name -> (data, type)
    raw: RawPart | None = None  # already compressed (an append to History or ActionLog)
    append_only: bool = False  # written in segments, so that the next refresh can append


def _resolve(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base_dir, target))


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def parse_rels(data: bytes | None) -> list[Rel]:
    if not data:
        return []
    root = SafeET.fromstring(data)
    return [
        Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""))
        for el in root
        if el.tag.endswith("Relationship") and el.get("TargetMode") != "External"
    ]


def rels_xml(rels: Iterable[Rel]) -> bytes:
    body = "".join(
        f"<Relationship Id={quoteattr(r.id)} Type={quoteattr(r.type)} "
        f"Target={quoteattr(r.target)}/>"
        for r in rels
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{NS_PKG_REL}">{body}</Relationships>'
    ).encode()


def chart_sheet(
    xml: bytes, drawing: str, anchored: bytes, charts: list[tuple[str, bytes]]
) -> NewSheet:
    """A sheet with one drawing (``anchored``: chart k as rId{k+1}) holding ``charts``.

    ``drawing`` and each chart name are part file names (under xl/drawings/, xl/charts/).
    """
    chart_rels = [
        Rel(f"rId{k + 1}", REL_CHART, f"../charts/{name}") for k, (name, _) in enumerate(charts)
    ]
    parts = {
        f"xl/drawings/{drawing}": (anchored, CT_DRAWING),
        f"xl/drawings/_rels/{drawing}.rels": (rels_xml(chart_rels), ""),
        **{f"xl/charts/{name}": (chart, CT_CHART) for name, chart in charts},
    }
    return NewSheet(xml, [Rel("rId1", REL_DRAWING, f"../drawings/{drawing}")], parts)


class Package:
    """An opened workbook package. Read sheets' parts; stage replacements; save atomically."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.zip = zipfile.ZipFile(self.path)
            names = set(self.zip.namelist())
        except zipfile.BadZipFile as error:
            raise PackageError(_not_a_zip_message(self.path)) from error
        if "xl/workbook.xml" not in names:
            raise PackageError(f"{self.path.name} is not an Excel workbook (.xlsx/.xlsm)")
        self.names = names
        self.workbook_xml = self.zip.read("xl/workbook.xml").decode("utf-8")
        self.workbook_rels_xml = self.zip.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        self.content_types = self.zip.read("[Content_Types].xml").decode("utf-8")
        styles_part = self._styles_part()
        self.styles = StyleBook(self.zip.read(styles_part).decode("utf-8"), styles_part)
        self.date1904 = bool(re.search(r'date1904="(1|true)"', self.workbook_xml))
        self._sheet_parts = self._map_sheets()
        self._staged: dict[str, NewSheet] = {}
        self._parts: dict[str, tuple[bytes, str]] = {}

    # ------------------------------------------------------------------ reading

    def _workbook_rels(self) -> list[Rel]:
        return parse_rels(self.workbook_rels_xml.encode())

    def _styles_part(self) -> str:
        for rel in parse_rels(self.zip.read("xl/_rels/workbook.xml.rels")):
            if rel.type.endswith("/styles"):
                return _resolve("xl", rel.target)
        raise PackageError(f"{self.path.name} has no styles part; it may be damaged")

    def _map_sheets(self) -> dict[str, str]:
        rels = {r.id: r for r in self._workbook_rels()}
        root = SafeET.fromstring(self.workbook_xml.encode())
        sheets = {}
        for el in root.iter(f"{{{NS_MAIN}}}sheet"):
            rid = el.get(f"{{{NS_REL}}}id")
            rel = rels.get(rid or "")
            if rel is not None and rel.type == REL_WORKSHEET:
                sheets[el.get("name", "")] = _resolve("xl", rel.target)
        return sheets

    @property
    def sheet_names(self) -> list[str]:
        return list(self._sheet_parts)

    def sheet_part(self, name: str) -> str | None:
        return self._sheet_parts.get(name)

    def read(self, part: str) -> bytes:
        return self.zip.read(part)

    def append_only(self, part: str) -> AppendOnly:
        """``part`` (History, ActionLog) opened for appending rows (:mod:`.rawzip`)."""
        return AppendOnly(self.path, self.zip, self.zip.getinfo(part))

    # ------------------------------------------------------------------ staging

    def set_sheet(self, name: str, sheet: NewSheet) -> None:
        """Replace sheet ``name`` (or add it at the end) with ``sheet``."""
        self._staged[name] = sheet

    def set_part(self, name: str, data: bytes, content_type: str = "") -> None:
        """Add or replace any other part (ribbon XML, a sheet's drawing, root rels)."""
        self._parts[name] = (data, content_type)

    # ------------------------------------------------------------------ saving

    def save(self, target: str | Path) -> None:
        """Write the package with the staged sheets to ``target`` (a new file)."""
        workbook_xml = self.workbook_xml
        wb_rels = self._workbook_rels()
        content_types = self.content_types
        new_parts: dict[str, tuple[bytes, str]] = {}
        raw: dict[str, RawPart] = {}
        dropped: set[str] = set()

        used_ids = {r.id for r in wb_rels}
        sheet_ids = [
            int(x) for x in re.findall(r'<(?:\w+:)?sheet\b[^>]*\bsheetId="(\d+)"', workbook_xml)
        ]
        for name, sheet in self._staged.items():
            part = self._sheet_parts.get(name)
            if part is None:
                part = self._free_name("xl/worksheets/sheet{}.xml")
                rid = _free_id(used_ids)
                used_ids.add(rid)
                wb_rels.append(Rel(rid, REL_WORKSHEET, posixpath.relpath(part, "xl")))
                sheet_id = max(sheet_ids, default=0) + 1
                sheet_ids.append(sheet_id)
                workbook_xml = _add_sheet_entry(workbook_xml, name, sheet_id, rid)
                self._sheet_parts[name] = part
            # Drop the parts an earlier refresh made for this sheet (drawings, charts).
            for old in self._own_parts_of(part):
                dropped.add(old)
            new_parts[part] = (sheet.xml, CT_WORKSHEET)
            if sheet.raw is not None or sheet.append_only:
                raw[part] = sheet.raw or segmented(sheet.xml)
            rels_part = _rels_path(part)
            if sheet.rels:
                new_parts[rels_part] = (rels_xml(sheet.rels), "")
            elif rels_part in self.names:
                dropped.add(rels_part)
            new_parts.update(sheet.parts)

        new_parts.update(self._parts)
        # calcChain is a cache Excel rebuilds; stale entries for rewritten sheets corrupt it.
        for rel in list(wb_rels):
            if rel.type == REL_CALC_CHAIN and self._staged:
                dropped.add(_resolve("xl", rel.target))
                wb_rels.remove(rel)

        for part in dropped - set(new_parts):
            content_types = _remove_override(content_types, part)
        for part, (_, ctype) in new_parts.items():
            if ctype:
                content_types = _set_override(content_types, part, ctype)

        replaced = {
            "xl/workbook.xml": workbook_xml.encode("utf-8"),
            "xl/_rels/workbook.xml.rels": rels_xml(wb_rels),
            "[Content_Types].xml": content_types.encode("utf-8"),
            self.styles.part: self.styles.xml().encode("utf-8"),
        }
        target = Path(target)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
            written: set[str] = set()
            for info in self.zip.infolist():
                name = info.filename
                if name in dropped and name not in new_parts:
                    continue
                if name in raw:
                    write_raw(out, _info_like(info), raw[name])
                elif name in replaced or name in new_parts:
                    data = replaced[name] if name in replaced else new_parts[name][0]
                    out.writestr(_info_like(info), data, compresslevel=level_for(len(data)))
                else:
                    _copy_entry(self.path, info, out)
                written.add(name)
            for name, (data, _) in new_parts.items():
                if name in raw and name not in written:
                    write_raw(out, _new_info(name), raw[name])
                elif name not in written:
                    out.writestr(_new_info(name), data, compresslevel=level_for(len(data)))

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _free_name(self, pattern: str) -> str:
        taken = self.names | set(self._sheet_parts.values())
        i = 1
        while pattern.format(i) in taken:
            i += 1
        return pattern.format(i)

    def _own_parts_of(self, sheet_part: str) -> list[str]:
        """Drawings and charts this tool made for ``sheet_part`` in an earlier refresh."""
        rels_part = _rels_path(sheet_part)
        if rels_part not in self.names:
            return []
        found = []
        for rel in parse_rels(self.zip.read(rels_part)):
            target = _resolve(posixpath.dirname(sheet_part), rel.target)
            if posixpath.basename(target).startswith(OWN_PREFIX):
                found.append(target)
                sub_rels = _rels_path(target)
                if sub_rels in self.names:
                    found.append(sub_rels)
                    for sub in parse_rels(self.zip.read(sub_rels)):
                        sub_target = _resolve(posixpath.dirname(target), sub.target)
                        if posixpath.basename(sub_target).startswith(OWN_PREFIX):
                            found.append(sub_target)
        return found


def _not_a_zip_message(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return (
            f"{path.name} is password-protected (encrypted) or an old .xls file; "
            "remove the password or save it as .xlsx/.xlsm in Excel"
        )
    return f"{path.name} is not a valid .xlsx/.xlsm file (it may be damaged)"


def _free_id(used: set[str]) -> str:
    i = 1
    while f"rId{i}" in used:
        i += 1
    return f"rId{i}"


def _add_sheet_entry(workbook_xml: str, name: str, sheet_id: int, rid: str) -> str:
    match = re.search(r"<(\w+:)?sheets\b[^>]*>", workbook_xml)
    if match is None:
        raise PackageError("workbook.xml has no <sheets> element")
    prefix = match.group(1) or ""
    rel_prefix = _prefix_for(workbook_xml, NS_REL) or "r"
    if rel_prefix not in re.findall(r"xmlns:(\w+)=", workbook_xml):
        raise PackageError("workbook.xml does not declare the relationships namespace")
    entry = f'<{prefix}sheet name={quoteattr(name)} sheetId="{sheet_id}" {rel_prefix}:id="{rid}"/>'
    close = f"</{prefix}sheets>"
    if close in workbook_xml:
        return workbook_xml.replace(close, entry + close, 1)
    empty = re.search(rf"<{prefix}sheets\b[^>]*/>", workbook_xml)
    if empty is None:
        raise PackageError("workbook.xml has an unreadable <sheets> element")
    opened = empty.group(0)[:-2] + ">"
    return workbook_xml.replace(empty.group(0), opened + entry + close, 1)


def _prefix_for(xml: str, namespace: str) -> str | None:
    match = re.search(rf'xmlns:(\w+)="{re.escape(namespace)}"', xml)
    return match.group(1) if match else None


def _set_override(content_types: str, part: str, ctype: str) -> str:
    content_types = _remove_override(content_types, part)
    entry = f'<Override PartName="/{part}" ContentType="{ctype}"/>'
    return content_types.replace("</Types>", entry + "</Types>", 1)


def _remove_override(content_types: str, part: str) -> str:
    return re.sub(rf'<Override\s+PartName="/{re.escape(part)}"[^>]*/>', "", content_types)


def _copy_entry(source: Path, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    """Copy one entry unchanged: its compressed bytes, never inflated (a 100 MB input sheet
    costs a copy, not a second of deflate)."""
    raw = RawPart(read_raw(source, info), info.CRC, info.file_size, info.comment)
    target = _info_like(info)
    write_raw(out, target, raw, info.compress_type)


def _info_like(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = zipfile.ZIP_DEFLATED
    new.external_attr = info.external_attr
    return new


def _new_info(name: str) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    new.compress_type = zipfile.ZIP_DEFLATED
    return new
