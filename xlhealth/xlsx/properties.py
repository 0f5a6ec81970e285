"""Custom document properties (File > Properties > Custom in Excel; docProps/custom.xml).

An owner's e-mailed copy records the book and the refresh it came from here, so the copy
can be checked before anything it says is taken back into a book.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from xlhealth.xlsx.package import Package

PART = "docProps/custom.xml"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def properties_xml(values: dict[str, str]) -> bytes:
    items = "".join(
        f'<property fmtid="{FMTID}" pid="{pid}" name="{escape(name, {chr(34): "&quot;"})}">'
        f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(values.items(), start=2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Properties xmlns="{NS}" xmlns:vt="{NS_VT}">{items}</Properties>'
    ).encode()


def set_properties(package: Package, values: dict[str, str]) -> None:
    """Stage ``values`` as the package's custom properties (replacing any there)."""
    package.set_part(PART, properties_xml(values), CONTENT_TYPE)
    rels = package.read("_rels/.rels").decode("utf-8")
    if REL_TYPE not in rels:
        ids = {int(i) for i in re.findall(r'Id="rId(\d+)"', rels)}
        rid = f"rId{max(ids, default=0) + 1}"
        entry = f'<Relationship Id="{rid}" Type="{REL_TYPE}" Target="{PART}"/>'
        rels = rels.replace("</Relationships>", entry + "</Relationships>")
        package.set_part("_rels/.rels", rels.encode("utf-8"))


def read_properties(path: str | Path) -> dict[str, str]:
    """The custom properties of a workbook file ({} when it has none)."""
    with zipfile.ZipFile(path) as z:
        if PART not in z.namelist():
            return {}
        root = ElementTree.fromstring(z.read(PART))
    out = {}
    for prop in root.findall(f"{{{NS}}}property"):
        value = next(iter(prop), None)
        out[prop.get("name", "")] = "" if value is None or value.text is None else value.text
    return out
