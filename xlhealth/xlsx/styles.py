"""Cell styles and conditional-format styles, found or appended in a workbook's styles.xml.

Styles are looked up before they are added (compared in a canonical form), so
refreshing a book a hundred times does not grow styles.xml a hundred times.
The file is edited by inserting text, never re-serialised (see package.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree as SafeET

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
BUILTIN_FORMATS = {
    "General": 0,
    "0": 1,
    "0.00": 2,
    "#,##0": 3,
    "#,##0.00": 4,
    "0%": 9,
    "0.00%": 10,
    "yyyy-mm-dd": None,
}
# Order of styleSheet children (ECMA-376): where a missing collection must be inserted.
ORDER = [
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
]


@dataclass(frozen=True)
class CellStyle:
    """What a cell looks like; colours are RRGGBB hex."""

    num_fmt: str = "General"
    bold: bool = False
    italic: bool = False
    color: str | None = None
    size: float | None = None
    fill: str | None = None
    wrap: bool = False
    halign: str | None = None
    valign: str | None = None
    border_bottom: str | None = None
    border_top: str | None = None


def _canonical(element) -> str:
    tag = element.tag.rsplit("}", 1)[-1]
    attrs = ",".join(f"{k.rsplit('}', 1)[-1]}={v}" for k, v in sorted(element.attrib.items()))
    return f"{tag}[{attrs}](" + "".join(_canonical(c) for c in element) + ")"


class _Collection:
    def __init__(self, name: str, children: list, start: int = 0):
        self.name = name
        self.index = {}
        for i, child in enumerate(children):
            self.index.setdefault(_canonical(child), i + start)
        self.count = len(children)
        self.added: list[str] = []

    def find_or_add(self, xml: str) -> int:
        key = _canonical(SafeET.fromstring(f'<x xmlns="{NS_MAIN}">{xml}</x>')[0])
        if key not in self.index:
            self.index[key] = self.count + len(self.added)
            self.added.append(xml)
        return self.index[key]


class StyleBook:
    """Find-or-add access to the fonts, fills, borders, number formats, xfs and dxfs of a book."""

    def __init__(self, xml: str, part: str = "xl/styles.xml"):
        self.source = xml
        self.part = part
        root = SafeET.fromstring(xml.encode("utf-8"))
        match = re.match(r"\s*(?:<\?xml[^>]*\?>\s*)?<(\w+:)?styleSheet\b", xml)
        self.prefix = (match.group(1) or "") if match else ""

        def children(name: str) -> list:
            el = root.find(f"{{{NS_MAIN}}}{name}")
            return list(el) if el is not None else []

        self.fonts = _Collection("fonts", children("fonts"))
        self.fills = _Collection("fills", children("fills"))
        self.borders = _Collection("borders", children("borders"))
        self.cell_xfs = _Collection("cellXfs", children("cellXfs"))
        self.dxfs = _Collection("dxfs", children("dxfs"))
        self.num_fmts: dict[str, int] = {}
        for el in children("numFmts"):
            self.num_fmts.setdefault(el.get("formatCode", ""), int(el.get("numFmtId", "0")))
        self._new_formats: list[tuple[int, str]] = []
        base = children("fonts")[0] if children("fonts") else None
        name = base.find(f"{{{NS_MAIN}}}name") if base is not None else None
        size = base.find(f"{{{NS_MAIN}}}sz") if base is not None else None
        self.font_name = name.get("val", "Calibri") if name is not None else "Calibri"
        self.font_size = float(size.get("val", "11")) if size is not None else 11.0
        self._cache: dict[CellStyle, int] = {}

    # ------------------------------------------------------------------ building blocks

    def number_format(self, code: str) -> int:
        builtin = BUILTIN_FORMATS.get(code)
        if builtin is not None:
            return builtin
        if code in self.num_fmts:
            return self.num_fmts[code]
        used = set(self.num_fmts.values())
        new_id = max([163, *used]) + 1
        self.num_fmts[code] = new_id
        self._new_formats.append((new_id, code))
        return new_id

    def _font_xml(self, style: CellStyle) -> str:
        parts = []
        if style.bold:
            parts.append("<b/>")
        if style.italic:
            parts.append("<i/>")
        size = style.size or self.font_size
        parts.append(f'<sz val="{size:g}"/>')
        if style.color:
            parts.append(f'<color rgb="FF{style.color.upper()}"/>')
        else:
            parts.append('<color theme="1"/>')
        parts.append(f"<name val={quoteattr(self.font_name)}/>")
        parts.append('<family val="2"/>')
        return "<font>" + "".join(parts) + "</font>"

    @staticmethod
    def _fill_xml(color: str | None) -> str:
        if not color:
            return "<fill><patternFill/></fill>"
        c = color.upper()
        return (
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{c}"/>'
            f'<bgColor indexed="64"/></patternFill></fill>'
        )

    @staticmethod
    def _border_xml(style: CellStyle) -> str:
        def side(tag: str, color: str | None) -> str:
            if not color:
                return f"<{tag}/>"
            return f'<{tag} style="thin"><color rgb="FF{color.upper()}"/></{tag}>'

        return (
            "<border>"
            + side("left", None)
            + side("right", None)
            + side("top", style.border_top)
            + side("bottom", style.border_bottom)
            + "<diagonal/></border>"
        )

    def xf(self, style: CellStyle) -> int:
        """The cellXfs index for ``style`` (added once)."""
        if style in self._cache:
            return self._cache[style]
        fmt = self.number_format(style.num_fmt)
        font = self.fonts.find_or_add(self._font_xml(style))
        fill = self.fills.find_or_add(self._fill_xml(style.fill))
        border = self.borders.find_or_add(self._border_xml(style))
        align = ""
        attrs = []
        if style.wrap:
            attrs.append('wrapText="1"')
        if style.halign:
            attrs.append(f'horizontal="{style.halign}"')
        if style.valign:
            attrs.append(f'vertical="{style.valign}"')
        if attrs:
            align = "<alignment " + " ".join(attrs) + "/>"
        xml = (
            f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}" '
            f'xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1"'
            + (' applyAlignment="1">' + align + "</xf>" if align else "/>")
        )
        index = self.cell_xfs.find_or_add(xml)
        self._cache[style] = index
        return index

    def dxf(self, fill: str | None = None, color: str | None = None, bold: bool = False) -> int:
        """A differential style for conditional formatting."""
        font = ""
        if color or bold:
            font = (
                "<font>"
                + ("<b/>" if bold else "")
                + (f'<color rgb="FF{color.upper()}"/>' if color else "")
                + "</font>"
            )
        fill_xml = ""
        if fill:
            c = fill.upper()
            fill_xml = (
                f'<fill><patternFill patternType="solid"><fgColor rgb="FF{c}"/>'
                f'<bgColor rgb="FF{c}"/></patternFill></fill>'
            )
        return self.dxfs.find_or_add("<dxf>" + font + fill_xml + "</dxf>")

    # ------------------------------------------------------------------ output

    def xml(self) -> str:
        """styles.xml with the added entries inserted; unchanged text when nothing was added."""
        xml = self.source
        if self._new_formats:
            entries = "".join(
                f'<numFmt numFmtId="{i}" formatCode={quoteattr(code)}/>'
                for i, code in self._new_formats
            )
            xml = self._append("numFmts", xml, entries, len(self._new_formats))
        for collection in (self.fonts, self.fills, self.borders, self.cell_xfs, self.dxfs):
            if collection.added:
                xml = self._append(
                    collection.name, xml, "".join(collection.added), len(collection.added)
                )
        return xml

    def _append(self, name: str, xml: str, entries: str, added: int) -> str:
        p = self.prefix
        if p:
            entries = re.sub(r"<(/?)(?=[A-Za-z])", rf"<\g<1>{p}", entries)
        full = re.search(rf"<{p}{name}\b([^>]*?)(/?)>", xml)
        if full is None:
            return self._insert_collection(name, xml, entries, added)
        attrs, empty = full.group(1), full.group(2)
        count_match = re.search(r'\bcount="(\d+)"', attrs)
        old = int(count_match.group(1)) if count_match else None
        if empty:
            new_attrs = re.sub(r'\s*\bcount="\d+"', "", attrs)
            opening = f'<{p}{name}{new_attrs} count="{added}">'
            return xml.replace(full.group(0), opening + entries + f"</{p}{name}>", 1)
        closing = f"</{p}{name}>"
        start = full.end()
        end = xml.index(closing, start)
        existing = xml[start:end]
        if old is None:
            old = len(re.findall(rf"<{p}{_child(name)}\b", existing))
        new_attrs = (
            re.sub(r'\bcount="\d+"', f'count="{old + added}"', attrs)
            if count_match
            else f'{attrs} count="{old + added}"'
        )
        return xml[: full.start()] + f"<{p}{name}{new_attrs}>" + existing + entries + xml[end:]

    def _insert_collection(self, name: str, xml: str, entries: str, added: int) -> str:
        p = self.prefix
        element = f'<{p}{name} count="{added}">{entries}</{p}{name}>'
        for later in ORDER[ORDER.index(name) + 1 :]:
            match = re.search(rf"<{p}{later}\b", xml)
            if match:
                return xml[: match.start()] + element + xml[match.start() :]
        closing = f"</{p}styleSheet>"
        return xml.replace(closing, element + closing, 1)


def _child(collection: str) -> str:
    return {
        "numFmts": "numFmt",
        "fonts": "font",
        "fills": "fill",
        "borders": "border",
        "cellXfs": "xf",
        "dxfs": "dxf",
    }[collection]


def xf_formats(xml: str) -> list[str]:
    """The number format of each cellXfs entry, in order (``#14`` for a built-in one): what
    decides whether a number cell reads as a date."""
    root = SafeET.fromstring(xml.encode("utf-8"))
    codes = {
        el.get("numFmtId", ""): el.get("formatCode", "") for el in root.iter(f"{{{NS_MAIN}}}numFmt")
    }
    xfs = root.find(f"{{{NS_MAIN}}}cellXfs")
    if xfs is None:
        return []
    out = []
    for el in xfs:
        fmt = el.get("numFmtId", "0")
        out.append(codes.get(fmt, f"#{fmt}"))
    return out
