"""Zip entries as compressed bytes: copied without inflating, and sheets that grow at the end.

A refresh rewrites a handful of parts and copies the rest. Copying a 100 MB input sheet by
inflating and deflating it again costs a second of nothing; its compressed bytes are copied
as they are (with their CRC and sizes).

History and ActionLog only ever grow at the end. They are written as two deflate
segments: everything up to ``</sheetData>`` (ended with a sync flush, so it stops on a
byte boundary) and the few bytes after it, each from a fresh compressor. The entry's
comment marks the boundary (:class:`Mark`). A refresh then appends by copying the first
segment's bytes, compressing only the new rows, and compressing the tail again — and a
reader can start inflating at the boundary (:mod:`xlhealth.xlsx.rowcache`). Excel and
LibreOffice read such an entry like any other; when they save the book the mark is gone
and the next refresh writes the sheet in full once more.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MARK = b"xlhealth-rows"
END = b"</sheetData>"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


@dataclass(frozen=True)
class Mark:
    """Where an append-only part's rows end: ``size`` bytes of XML (CRC ``crc``) whose
    deflate stream is the first ``compressed`` bytes of the entry; ``last_row`` is the
    number of the last ``<row>``."""

    size: int
    compressed: int
    crc: int
    last_row: int

    def comment(self) -> bytes:
        return b"%s %d %d %d %d" % (MARK, self.size, self.compressed, self.crc, self.last_row)

    @classmethod
    def parse(cls, comment: bytes) -> Mark | None:
        parts = comment.split()
        if len(parts) != 5 or parts[0] != MARK or not all(p.isdigit() for p in parts[1:]):
            return None
        return cls(*(int(p) for p in parts[1:]))


@dataclass(frozen=True)
class RawPart:
    """An entry's deflate stream with what the zip directory says of it."""

    data: bytes
    crc: int
    size: int  # uncompressed
    comment: bytes = b""


def read_raw(path: Path, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of one entry, read straight from the file."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        name_len, extra_len = header[-4:-2], header[-2:]
        skip = int.from_bytes(name_len, "little") + int.from_bytes(extra_len, "little")
        fh.seek(info.header_offset + _LOCAL_HEADER.size + skip)
        data = fh.read(info.compress_size)
    if len(data) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is truncated")
    return data


def write_raw(
    out: zipfile.ZipFile, info: zipfile.ZipInfo, part: RawPart, method: int = zipfile.ZIP_DEFLATED
) -> None:
    """Add an entry whose compressed bytes are already made (zipfile has no public way)."""
    info.compress_type = method
    info.CRC = part.crc
    info.file_size = part.size
    info.compress_size = len(part.data)
    info.comment = part.comment
    info.flag_bits &= ~0x08  # sizes are in the local header: no data descriptor follows
    zip64 = part.size > zipfile.ZIP64_LIMIT or len(part.data) > zipfile.ZIP64_LIMIT
    with out._lock:  # type: ignore[attr-defined]
        out._writecheck(info)  # type: ignore[attr-defined]
        out._didModify = True  # type: ignore[attr-defined]
        info.header_offset = out.fp.tell()  # type: ignore[union-attr]
        out.fp.write(info.FileHeader(zip64))  # type: ignore[union-attr]
        out.fp.write(part.data)  # type: ignore[union-attr]
        out.filelist.append(info)
        out.NameToInfo[info.filename] = info
        out.start_dir = out.fp.tell()  # type: ignore[union-attr,attr-defined]


def _segment(data: bytes, level: int, final: bool) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def level_for(size: int) -> int:
    """Fast compression for big parts (seconds matter), thorough for small ones."""
    return 1 if size > 4 << 20 else 6


def segmented(xml: bytes) -> RawPart:
    """``xml`` (a sheet part) deflated in two segments split at ``</sheetData>``, marked."""
    xml = _DIMENSION.sub(b"", xml[:4096], count=1) + xml[4096:]  # it would only go stale
    end = xml.rfind(END)
    if end < 0:
        raise ValueError("not a worksheet: no </sheetData>")
    head, tail = xml[:end], xml[end:]
    first = _segment(head, level_for(len(head)), final=False)
    crc = zlib.crc32(head)
    mark = Mark(len(head), len(first), crc, last_row(head) or 0)
    return RawPart(first + _segment(tail, 6, True), zlib.crc32(tail, crc), len(xml), mark.comment())


_DIMENSION = re.compile(rb"<dimension [^>]*/>")
_DIMENSION_END = re.compile(rb'(<dimension ref="[A-Z]+\d+:[A-Z]+)\d+(")')
_ROW = re.compile(rb'<row r="(\d+)"')
_FILTER = re.compile(rb'(<autoFilter ref="[A-Z]+\d+:[A-Z]+)\d+(")')


def last_row(xml: bytes) -> int | None:
    """The number of the last ``<row>`` of a sheet part (None when it has none)."""
    end = xml.rfind(END)
    start = xml.rfind(b'<row r="', 0, end if end >= 0 else len(xml))
    match = _ROW.match(xml, start) if start >= 0 else None
    return int(match.group(1)) if match else None


def append_rows(xml: bytes, rows: str, new_last: int) -> bytes:
    """``xml`` (a whole sheet part) with ``rows`` added after its data, dimension and
    AutoFilter widened; the rows already there copied through byte for byte."""
    end = xml.rindex(END)
    out = xml[:end] + rows.encode("utf-8") + xml[end:]
    return widen(_DIMENSION_END.sub(rb"\g<1>%d\g<2>" % new_last, out, count=1), new_last)


class AppendOnly:
    """A sheet part that only grows at its end (History, ActionLog), opened for appending.

    With a mark, appending touches only the new rows and the tail; without one (a book
    Excel saved, or written before marks existed) the part is inflated once and rewritten
    in segments.
    """

    def __init__(self, path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo):
        self._path, self._zip, self._info = path, zf, info
        self.mark = Mark.parse(info.comment) if info.compress_type == zipfile.ZIP_DEFLATED else None
        self._tail: bytes | None = None
        self._xml: bytes | None = None
        if self.mark is not None:
            self._tail = self._read_tail()
            if self._tail is None:
                self.mark = None

    def _read_tail(self) -> bytes | None:
        """The XML after the rows, checked against the entry's CRC and size (a mark that
        does not describe the bytes is ignored)."""
        assert self.mark is not None
        try:
            raw = read_raw(self._path, self._info)
            tail = zlib.decompressobj(-15).decompress(raw[self.mark.compressed :])
        except (OSError, zlib.error, zipfile.BadZipFile):
            return None
        if (
            self.mark.size + len(tail) != self._info.file_size
            or zlib.crc32(tail, self.mark.crc) != self._info.CRC
            or not tail.startswith(END)
        ):
            return None
        self._raw = raw
        return tail

    @property
    def last_row(self) -> int | None:
        if self.mark is not None:
            return self.mark.last_row or None
        return last_row(self.xml())

    def xml(self) -> bytes:
        """The whole part, inflated (the rewrite path)."""
        if self._xml is None:
            self._xml = self._zip.read(self._info)
        return self._xml

    def append(self, rows: str, new_last: int) -> RawPart:
        """The part with ``rows`` added after its last row and its AutoFilter widened."""
        added = rows.encode("utf-8")
        if self.mark is None or self._tail is None:
            xml = self.xml()
            end = xml.rindex(END)
            return segmented(widen(xml[:end] + added + xml[end:], new_last))
        m = self.mark
        segment = _segment(added, level_for(len(added)), final=False) if added else b""
        crc = zlib.crc32(added, m.crc)
        head = Mark(m.size + len(added), m.compressed + len(segment), crc, new_last)
        tail = widen(self._tail, new_last)
        data = self._raw[: m.compressed] + segment + _segment(tail, 6, True)
        return RawPart(data, zlib.crc32(tail, crc), head.size + len(tail), head.comment())

    def unchanged(self) -> RawPart:
        """The part as it is (marked, so the next refresh can append to it)."""
        if self.mark is not None and self._tail is not None:
            return RawPart(self._raw, self._info.CRC, self._info.file_size, self._info.comment)
        return segmented(self.xml())


def widen(xml: bytes, new_last: int) -> bytes:
    """An AutoFilter reaching down to ``new_last`` (the only thing after the rows that moves)."""
    return _FILTER.sub(rb"\g<1>%d\g<2>" % new_last, xml, count=1)
