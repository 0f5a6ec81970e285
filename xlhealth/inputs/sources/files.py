"""Files of a source: a file, a glob or a folder, relative to the workbook; format; encoding.

DuckDB reads UTF-8 (with or without a BOM) itself. Files in another encoding — cp932 /
Shift_JIS as Japanese tools write CSV, UTF-16 as Excel's "Unicode text" — are transcoded to
a temporary UTF-8 copy in chunks (never held in memory), and a byte that the encoding
cannot decode is reported with its line number. ``auto`` takes a file as UTF-8 when every
byte of it is valid UTF-8, else as cp932.

Text files may be gzip-compressed (``events.csv.gz``, ``export.jsonl.gz``: what warehouses
and Mixpanel hand out); they are read as they are, never unpacked to disk unless they need
transcoding. A CSV's separator is taken from its header line: a comma, or the semicolon
Excel writes in locales whose decimal mark is a comma, or a tab.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 22
EXTENSIONS = {
    "csv": (".csv",),
    "tsv": (".tsv", ".tab"),
    "parquet": (".parquet", ".pq", ".parq"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
}
_GIVEN_ALSO = {"csv": (".txt",), "tsv": (".txt",), "parquet": (), "jsonl": ()}
GZIP = ".gz"
TEXT_FORMATS = ("csv", "tsv", "jsonl")
SEPARATORS = {",": "a comma", ";": "a semicolon", "\t": "a tab"}
TAIL = 1 << 16
"""Bytes kept from each end of a CSV: its header line and its footer (a few short lines)."""


class SourceError(Exception):
    """A source that cannot be read: one line for the user, and the Sources column to fix."""

    def __init__(self, message: str, column: str = "path", value: object = None):
        super().__init__(message)
        self.message = message
        self.column = column
        self.value = value


class DecodeError(Exception):
    def __init__(self, line: int):
        super().__init__(f"line {line}")
        self.line = line


@dataclass
class FileSet:
    """The files a Sources row names (sorted), their format and what DuckDB should read."""

    files: list[Path]
    format: str
    read: list[Path] = field(default_factory=list)  # UTF-8 files (transcoded copies)
    names: dict[str, str] = field(default_factory=dict)  # read path -> path as shown
    separator: str = ","  # csv: from the header line (tsv: always a tab)
    ends: dict[str, Ends] = field(default_factory=dict)  # read path -> its ends (CSV/TSV)

    def shown(self, read_path: str | None) -> str:
        if not read_path:
            return ""
        return self.names.get(str(read_path), Path(str(read_path)).name)


@dataclass
class Ends:
    """The first and last :data:`TAIL` bytes of a CSV's UTF-8 text, kept while the file is
    streamed once for its encoding: its header line and its footer, without reading it
    again (a ``.gz`` would be unpacked again)."""

    head: bytes = b""
    tail: bytes = b""

    def feed(self, data: bytes) -> None:
        if len(self.head) < TAIL:
            self.head += data[: TAIL - len(self.head)]
        self.tail = (self.tail + data[-TAIL:])[-TAIL:]

    def header(self) -> str:
        """The first line."""
        line = self.head.split(b"\n", 1)[0].rstrip(b"\r")
        return line.decode("utf-8", errors="replace").removeprefix("\ufeff")

    def last_lines(self) -> str:
        """The lines that start in the last :data:`TAIL` bytes, never the header (all lines
        after the header when the file is that short)."""
        at = self.tail.find(b"\n")
        return self.tail[at + 1 :].decode("utf-8", errors="replace") if at >= 0 else ""


def format_of(path: Path) -> str | None:
    name = path.name.casefold()
    packed = name.endswith(GZIP)
    name = name.removesuffix(GZIP)
    for fmt, extensions in EXTENSIONS.items():
        if name.endswith(extensions) and (fmt in TEXT_FORMATS or not packed):
            return fmt
    return None


def is_gzip(path: Path) -> bool:
    return path.name.casefold().endswith(GZIP)


def open_bytes(path: Path):
    """The file's bytes, unpacked on the fly when it is gzip-compressed."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def resolve(path_text: str, fmt: str, base: Path) -> FileSet:
    """The files of ``path_text`` (a file, a glob or a folder; relative to ``base``)."""
    text = os.path.expandvars(os.path.expanduser(path_text.strip()))
    path = Path(text)
    if not path.is_absolute():
        path = base / path
    if any(c in text for c in "*?["):
        found = [Path(p) for p in glob.glob(str(path), recursive=True)]
        files = sorted(p for p in found if p.is_file() and not p.name.startswith((".", "~$")))
        if not files:
            raise SourceError(f"no file matches {path_text} (looked in {path.parent})")
    elif path.is_dir():
        wanted = (
            tuple(e for exts in EXTENSIONS.values() for e in exts)
            if fmt == "auto"
            else EXTENSIONS[fmt] + _GIVEN_ALSO[fmt]
        )
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and not p.name.startswith((".", "~$"))
            and p.name.casefold().removesuffix(GZIP).endswith(wanted)
        )
        if not files:
            kinds = "csv, tsv, parquet or jsonl" if fmt == "auto" else fmt
            raise SourceError(f"folder {path_text} holds no {kinds} file ({path})")
    elif path.is_file():
        files = [path]
    else:
        raise SourceError(f"file not found: {path} (paths are relative to the workbook's folder)")
    if fmt != "auto":
        return FileSet(files, fmt)
    formats = {}
    for f in files:
        kind = format_of(f)
        if kind is None:
            raise SourceError(
                f"cannot tell the format of {f.name}; set format to csv, tsv, parquet or jsonl",
                column="format",
            )
        formats.setdefault(kind, f)
    if len(formats) > 1:
        shown = ", ".join(f"{k} ({v.name})" for k, v in formats.items())
        raise SourceError(f"{path_text} mixes formats: {shown}; name one kind of file",
                          value=path_text)  # fmt: skip
    return FileSet(files, next(iter(formats)))


def prepare_text(fileset: FileSet, encoding: str, tmp: Path, base: Path,
                 held: dict[int, Ends] | None = None) -> None:  # fmt: skip
    """Fill ``fileset.read``: UTF-8 files as they are, others transcoded into ``tmp``;
    and, for CSV, the separator. ``held``: files whose cache holds them, with the ends
    kept then (never streamed again)."""
    held = held or {}
    for i, path in enumerate(fileset.files):
        shown = _shown(path, base)
        target, ends = (path, held[i]) if i in held else prepare_one(fileset, i, encoding, tmp,
                                                                     base)  # fmt: skip
        fileset.read.append(target)
        fileset.names[str(target)] = shown
        if ends is not None:
            fileset.ends[str(target)] = ends
    if fileset.format == "tsv":
        fileset.separator = "\t"
    elif fileset.format == "csv":
        fileset.separator = _one_separator(fileset)


def prepare_one(fileset: FileSet, i: int, encoding: str, tmp: Path,
                base: Path) -> tuple[Path, Ends | None]:  # fmt: skip
    """The UTF-8 file DuckDB reads for file ``i`` (transcoded into ``tmp`` when it is in
    another encoding), and its ends (CSV/TSV)."""
    path = fileset.files[i]
    shown = _shown(path, base)
    try:
        return _prepare_one(fileset, path, i, shown, encoding, tmp)
    except (OSError, EOFError, zlib.error) as error:
        if not is_gzip(path):  # unreadable: permissions, a file another program locks
            raise SourceError(f"{shown}: cannot read it ({error})") from None
        raise SourceError(f"{shown}: cannot unpack it ({error}); check that it is a whole "
                          ".gz file") from None  # fmt: skip


def _prepare_one(fileset: FileSet, path: Path, i: int, shown: str, encoding: str,
                 tmp: Path) -> tuple[Path, Ends | None]:  # fmt: skip
    """The UTF-8 file DuckDB reads for ``path``, and its ends (CSV/TSV)."""
    if fileset.format not in ("csv", "tsv"):
        return path, None  # Parquet; JSON lines are UTF-8 by definition (DuckDB says where not)
    chosen = encoding
    if chosen == "auto":
        chosen = _detect(path)
    if chosen in ("utf-8", "utf-8-bom"):
        ends = Ends()
        line = utf8_error_line(path, ends)
        if line is None:
            return path, ends
        if encoding != "auto":
            raise SourceError(
                f"{shown}: line {line} is not UTF-8; if the file comes from a Japanese "
                "tool set encoding to cp932",
                column="encoding",
                value=encoding,
            )
        chosen = "cp932"
    stem = path.name.removesuffix(path.name[-3:]) if is_gzip(path) else path.name
    target = tmp / f"{i:05d}-{Path(stem).stem}.utf8{Path(stem).suffix}"
    ends = Ends()
    try:
        transcode(path, target, chosen, ends)
    except DecodeError as error:
        line = error.line
        if encoding == "auto":
            raise SourceError(
                f"{shown}: neither UTF-8 (line {utf8_error_line(path)}) nor cp932 (line "
                f"{line}); save it as UTF-8 CSV",
                column="encoding",
            ) from None
        raise SourceError(
            f"{shown}: line {line} is not {chosen}; check the encoding (utf-8 or cp932)",
            column="encoding",
            value=encoding,
        ) from None
    return target, ends


def _one_separator(fileset: FileSet) -> str:
    """The separator of the files' header lines; every file must use the same one."""
    found: dict[str, str] = {}
    for read in fileset.read:
        header = fileset.ends[str(read)].header()
        found.setdefault(separator_of(header), fileset.shown(str(read)))
    if len(found) > 1:
        shown = ", ".join(f"{SEPARATORS[k]} ({name})" for k, name in found.items())
        raise SourceError(f"the files use different separators: {shown}; export them alike")
    return next(iter(found), ",")


def separator_of(header: str) -> str:
    """The separator a header line uses: the most frequent of comma, semicolon and tab
    outside quotes (a comma on a tie; a one-column header has none)."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda k: (counts[k], k == ","))
    return best if counts[best] else ","


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _detect(path: Path) -> str:
    with open_bytes(path) as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def utf8_error_line(path: Path, ends: Ends | None = None) -> int | None:
    """The 1-based line of the first byte that is not UTF-8, or None when all of it is;
    fills ``ends`` on the way."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # lines are counted only when there is an error to locate
    with open_bytes(path) as f:
        while True:
            chunk = f.read(CHUNK)
            final = not chunk
            held = decoder.getstate()[0]
            try:
                decoder.decode(chunk, final)
            except UnicodeDecodeError as error:
                return _lines_before(path, offset) + _line_in(chunk, error.start, held) + 1
            if ends is not None:
                ends.feed(chunk)
            offset += len(chunk)
            if final:
                return None


def _lines_before(path: Path, offset: int) -> int:
    """Line breaks in the first ``offset`` bytes of the file's (unpacked) text."""
    lines = 0
    with open_bytes(path) as f:
        while offset > 0:
            chunk = f.read(min(CHUNK, offset))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _line_in(chunk: bytes, start: int, pending: bytes) -> int:
    # ``start`` counts from the bytes the decoder held back from the previous chunk
    offset = max(start - len(pending), 0)
    return chunk[:offset].count(b"\n")


def transcode(source: Path, target: Path, encoding: str, ends: Ends | None = None) -> None:
    """Copy ``source`` to ``target`` as UTF-8, chunk by chunk (kept in ``ends`` too).

    A byte that ``encoding`` cannot decode raises :class:`DecodeError` with its 1-based line.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with open_bytes(source) as f, open(target, "w", encoding="utf-8", newline="") as out:
        while True:
            chunk = f.read(CHUNK)
            final = not chunk
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as error:
                raise DecodeError(lines + _line_in(chunk, error.start, held) + 1) from None
            text = text.removeprefix("\ufeff") if lines == 0 and not held else text
            out.write(text)
            if ends is not None:
                ends.feed(text.encode("utf-8"))
            lines += chunk.count(b"\n")
            if final:
                return
