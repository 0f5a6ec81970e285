"""Files of a source: a file, a glob or a folder, relative to the workbook; format; encoding.

DuckDB reads UTF-8 (with or without a BOM) itself. Files in another encoding — cp932 /
Shift_JIS as Japanese tools write CSV, UTF-16 as Excel's "Unicode text" — are transcoded to
a temporary UTF-8 copy in chunks (never held in memory), and a byte that the encoding
cannot decode is reported with its line number. ``auto`` takes a file as UTF-8 when every
byte of it is valid UTF-8, else as cp932.
"""

from __future__ import annotations

import codecs
import glob
import os
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

    def shown(self, read_path: str | None) -> str:
        if not read_path:
            return ""
        return self.names.get(str(read_path), Path(str(read_path)).name)


def format_of(path: Path) -> str | None:
    name = path.name.casefold()
    for fmt, extensions in EXTENSIONS.items():
        if name.endswith(extensions):
            return fmt
    return None


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
            and p.name.casefold().endswith(wanted)
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


def prepare_text(fileset: FileSet, encoding: str, tmp: Path, base: Path) -> None:
    """Fill ``fileset.read``: UTF-8 files as they are, others transcoded into ``tmp``."""
    for i, path in enumerate(fileset.files):
        shown = _shown(path, base)
        if fileset.format not in ("csv", "tsv"):
            fileset.read.append(path)
            fileset.names[str(path)] = shown
            continue
        chosen = encoding
        if chosen == "auto":
            chosen = _detect(path)
        if chosen in ("utf-8", "utf-8-bom"):
            line = utf8_error_line(path)
            if line is None:
                fileset.read.append(path)
                fileset.names[str(path)] = shown
                continue
            if encoding != "auto":
                raise SourceError(
                    f"{shown}: line {line} is not UTF-8; if the file comes from a Japanese "
                    "tool set encoding to cp932",
                    column="encoding",
                    value=encoding,
                )
            chosen = "cp932"
        target = tmp / f"{i:05d}-{path.stem}.utf8{path.suffix}"
        try:
            transcode(path, target, chosen)
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
        fileset.read.append(target)
        fileset.names[str(target)] = shown


def _shown(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _detect(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def utf8_error_line(path: Path) -> int | None:
    """The 1-based line of the first byte that is not UTF-8, or None when all of it is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            final = not chunk
            held = decoder.getstate()[0]
            try:
                decoder.decode(chunk, final)
            except UnicodeDecodeError as error:
                return lines + _line_in(chunk, error.start, held) + 1
            lines += chunk.count(b"\n")
            if final:
                return None


def _line_in(chunk: bytes, start: int, pending: bytes) -> int:
    # ``start`` counts from the bytes the decoder held back from the previous chunk
    offset = max(start - len(pending), 0)
    return chunk[:offset].count(b"\n")


def transcode(source: Path, target: Path, encoding: str) -> None:
    """Copy ``source`` to ``target`` as UTF-8, chunk by chunk.

    A byte that ``encoding`` cannot decode raises :class:`DecodeError` with its 1-based line.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with open(source, "rb") as f, open(target, "w", encoding="utf-8", newline="") as out:
        while True:
            chunk = f.read(CHUNK)
            final = not chunk
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as error:
                raise DecodeError(lines + _line_in(chunk, error.start, held) + 1) from None
            out.write(text.removeprefix("\ufeff") if lines == 0 and not held else text)
            lines += chunk.count(b"\n")
            if final:
                return
