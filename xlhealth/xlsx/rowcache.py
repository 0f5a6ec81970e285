"""A year of History read in milliseconds: the rows already read, kept beside the book.

History and ActionLog only grow at the end, and refresh writes them in two deflate
segments with a :class:`~xlhealth.xlsx.rawzip.Mark` at the boundary. After a sheet has
been read once, its grid is kept in ``NAME-cache/sheets/`` as Parquet, keyed by the
compressed bytes in front of that boundary. The next refresh finds the same bytes at the
front of the part, inflates only what follows (the rows added since, and the tail), and
checks the result against the entry's CRC-32 and size: the cached rows plus the new ones
are then exactly the sheet calamine would read, without reading it.

Any doubt — another version, another styles table or shared-string table, a different
date system, a book Excel saved (no mark), a cache that does not open — and the sheet is
read in full, as without a cache. The cache is never needed to reproduce a result, and
a cache that cannot be written is simply not written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import python_calamine as calamine

from xlhealth.xlsx.rawzip import END, Mark, read_raw

VERSION = f"1 calamine {getattr(calamine, '__version__', '?')}"
KINDS = {str: 1, float: 2, int: 3, bool: 4, dt.date: 5, dt.datetime: 6, dt.timedelta: 7}


def cache_folder(book: Path) -> Path:
    """Where a book's caches live: ``NAME-cache/`` beside it (never inside the workbook)."""
    return book.with_name(f"{book.stem}-cache")


@dataclass
class Cached:
    """A sheet's grid read through the cache, and whether the cache had it."""

    values: np.ndarray  # rows x columns of cell values, as calamine gives them
    errors: list[tuple[str, int, str]]
    merged: list
    hit: bool
    pending: Pending | None = None  # the cache moved up to this file, to write on success


@dataclass(frozen=True)
class Context:
    """What the meaning of a cell depends on besides its own XML."""

    date1904: bool
    formats: list[str]  # number format per cellXfs index
    strings: str  # the shared-string part's CRC and size ('' when absent)

    def key(self) -> dict:
        return {"version": VERSION, "date1904": self.date1904, "strings": self.strings}


class RowCache:
    def __init__(self, folder: Path):
        self.folder = folder / "sheets"

    def _file(self, sheet: str) -> Path:
        digest = hashlib.sha1(sheet.encode("utf-8")).hexdigest()[:10]
        safe = "".join(ch if ch.isalnum() else "_" for ch in sheet)[:40]
        return self.folder / f"{safe}-{digest}.parquet"

    def read(
        self, path: Path, sheet: str, info: zipfile.ZipInfo, context: Context
    ) -> Cached | None:
        """The sheet from the cache plus what was appended since; None when it cannot be."""
        file = self._file(sheet)
        if not file.exists():
            return None
        try:
            table = pq.read_table(file)
            meta = json.loads(table.schema.metadata[b"xlhealth"])
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
            return None
        if (
            meta.get("key") != context.key()
            or context.formats[: len(meta["formats"])] != meta["formats"]
        ):
            return None
        try:
            raw = read_raw(path, info)
        except (OSError, zipfile.BadZipFile):
            return None
        compressed, size, crc = meta["compressed"], meta["size"], meta["crc"]
        if len(raw) < compressed or zlib.crc32(raw[:compressed]) != meta["raw_crc"]:
            return None
        try:
            rest = zlib.decompressobj(-15).decompress(raw[compressed:])
        except zlib.error:
            return None
        if size + len(rest) != info.file_size or zlib.crc32(rest, crc) != info.CRC:
            return None
        end = rest.rfind(END)
        if end < 0:
            return None
        try:
            added, start, merged = _parse_rows(rest[:end], rest[end:], context.date1904, path)
        except (calamine.CalamineError, ValueError, zipfile.BadZipFile):
            return None
        grid = _decode(table, meta["rows"], meta["width"])
        values = _join(grid, added, start) if added else grid
        errors = [tuple(e) for e in meta["errors"]] + _error_cells(rest[:end])
        cached = Cached(values, errors, merged, True)  # type: ignore[arg-type]
        if added:  # move the cache up to this file's mark: encode only the rows added
            n = meta["rows"]
            same_front = values.shape[1] == meta["width"] and len(values) >= n
            cached.pending = self.prepare(
                path, sheet, info, context, values, errors, raw,
                (table, values[n:].tolist()) if same_front else None,
            )  # fmt: skip
        return cached

    def prepare(
        self,
        path: Path,
        sheet: str,
        info: zipfile.ZipInfo,
        context: Context,
        values: list[list] | np.ndarray,
        errors: list[tuple[str, int, str]],
        raw: bytes | None = None,
        grown: tuple[pa.Table, list[list]] | None = None,
    ) -> Pending | None:
        """``values`` (the sheet as just read) ready to keep for the next refresh; None when
        the part has no mark or the grid holds what the cache cannot type. ``grown``: the
        cached table and the rows read after it (only those are encoded)."""
        mark = Mark.parse(info.comment)
        if mark is None or info.compress_type != zipfile.ZIP_DEFLATED:
            return None
        try:
            raw = raw if raw is not None else read_raw(path, info)
            if grown is not None:
                table, _ = _encode(grown[1])
                table = pa.concat_tables([grown[0].replace_schema_metadata(None), table])
                width = len(values[0]) if len(values) else 0
            else:
                table, width = _encode(values if isinstance(values, list) else values.tolist())
        except (OSError, zipfile.BadZipFile, _Untyped, pa.ArrowException):
            return None
        meta = {
            "key": context.key(),
            "formats": context.formats,
            "compressed": mark.compressed,
            "raw_crc": zlib.crc32(raw[: mark.compressed]),
            "size": mark.size,
            "crc": mark.crc,
            "rows": len(values),
            "width": width,
            "errors": [list(e) for e in errors],
        }
        table = table.replace_schema_metadata({"xlhealth": json.dumps(meta)})
        return Pending(self._file(sheet), table)


@dataclass
class Pending:
    """A cache file to write once the command that read the sheet succeeded (a refused
    refresh, or ``check``, leaves nothing beside the book)."""

    file: Path
    table: pa.Table

    def commit(self) -> None:
        """Write it; quietly not when the disk says no (the cache is only ever a shortcut)."""
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(self.table, tmp, compression="zstd")
            os.replace(tmp, self.file)
        except (OSError, pa.ArrowException):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


class _Untyped(Exception):
    """A cell value the cache has no column for."""


def _encode(values: list[list]) -> tuple[pa.Table, int]:
    """The grid as typed columns: per grid column a kind code and one array per kind."""
    n = len(values)
    width = max((len(r) for r in values), default=0)
    rows = (
        [r + [""] * (width - len(r)) for r in values]
        if any(len(r) != width for r in values)
        else values
    )
    grid = np.empty((n, width), dtype=object)
    if n and width:
        grid[:] = rows
    kind_of = np.frompyfunc(lambda v: KINDS.get(type(v), 0 if v == "" or v is None else -1), 1, 1)
    data: dict[str, pa.Array] = {}
    for j in range(width):
        col = grid[:, j]
        kinds = kind_of(col).astype(np.int8) if n else np.zeros(0, np.int8)
        if (kinds < 0).any():
            raise _Untyped
        data[f"k{j}"] = pa.array(kinds)
        data[f"s{j}"] = pa.array(np.where(kinds == 1, col, None), pa.string())
        f = np.zeros(n)
        m = (kinds == 2) | (kinds == 3) | (kinds == 4)
        f[m] = col[m].astype(float)
        data[f"f{j}"] = pa.array(f)
        t = np.zeros(n, dtype="datetime64[us]")
        for k, unit in ((5, "datetime64[D]"), (6, "datetime64[us]")):
            m = kinds == k
            if m.any():
                t[m] = col[m].astype(unit).astype("datetime64[us]")
        data[f"t{j}"] = pa.array(t)
        d = np.zeros(n, dtype="timedelta64[us]")
        m = kinds == 7
        if m.any():
            d[m] = col[m].astype("timedelta64[us]")
        data[f"d{j}"] = pa.array(d)
    return pa.table(data) if data else pa.table({"k0": pa.array([], pa.int8())}), width


def _decode(table: pa.Table, n: int, width: int) -> np.ndarray:
    grid = np.full((n, width), "", dtype=object)
    for j in range(width):
        kinds = table.column(f"k{j}").to_numpy()
        out = grid[:, j]
        if (m := kinds == 1).any():
            out[m] = table.column(f"s{j}").to_numpy(zero_copy_only=False)[m]
        f = table.column(f"f{j}").to_numpy()
        if (m := kinds == 2).any():
            out[m] = f[m].tolist()
        if (m := kinds == 3).any():
            out[m] = f[m].astype(np.int64).tolist()
        if (m := kinds == 4).any():
            out[m] = (f[m] != 0).tolist()
        if (m := (kinds == 5) | (kinds == 6)).any():
            t = table.column(f"t{j}").to_numpy()
            if (m5 := kinds == 5).any():
                out[m5] = t[m5].astype("datetime64[D]").tolist()
            if (m6 := kinds == 6).any():
                out[m6] = t[m6].tolist()
        if (m := kinds == 7).any():
            out[m] = table.column(f"d{j}").to_numpy()[m].tolist()
    return grid


def _join(cached: np.ndarray, added: list[list], start: tuple[int, int]) -> np.ndarray:
    """Cached rows, then the parsed ones placed at their sheet position."""
    row0, col0 = start
    n, width = cached.shape
    wide = max([width, *(col0 + len(r) for r in added)])
    grid = np.full((max(n, row0) + len(added) - max(n - row0, 0), wide), "", dtype=object)
    keep = min(n, row0)  # rows the new segment repeats (it never does, but be exact)
    grid[:keep, :width] = cached[:keep]
    block = np.full((len(added), wide - col0), "", dtype=object)
    for i, r in enumerate(added):
        block[i, : len(r)] = r
    grid[row0:, col0:] = block
    return grid


_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b"<sheetData>"
)


def _parse_rows(
    rows: bytes, tail: bytes, date1904: bool, book: Path
) -> tuple[list[list], tuple[int, int], list]:
    """``rows`` (``<row>`` elements) read by calamine as a one-sheet book with the book's
    own styles and shared strings: (rows, (first row, first column), merged ranges)."""
    with zipfile.ZipFile(book) as source:
        parts = _support_parts(source)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
        out.writestr("xl/workbook.xml", _workbook(date1904))
        out.writestr("xl/worksheets/sheet1.xml", _HEAD + rows + tail)
    book_ = calamine.CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue()))
    sheet = book_.get_sheet_by_name("S")
    merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
    if b"<row" not in rows:
        return [], (0, 0), merged
    values = sheet.to_python(skip_empty_area=True)
    start = tuple(sheet.start) if values and sheet.start else (0, 0)
    return values, start, merged  # type: ignore[return-value]


def _support_parts(source: zipfile.ZipFile) -> dict[str, bytes]:
    rels = source.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://'
        b'schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
        b'ContentType="application/xml"/><Default Extension="rels" ContentType="application/'
        b'vnd.openxmlformats-package.relationships+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
        b'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'officeDocument" Target="xl/workbook.xml"/></Relationships>',
    }
    own = []
    for kind, name in (("styles", "xl/styles.xml"), ("sharedStrings", "xl/sharedStrings.xml")):
        target = _target(rels, kind)
        if target is not None:
            parts[name] = source.read(target)
            own.append(
                f'<Relationship Id="r{kind}" Type="http://schemas.openxmlformats.org/'
                f'officeDocument/2006/relationships/{kind}" Target="{name[3:]}"/>'
            )
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rIdS" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet1.xml"/>{"".join(own)}</Relationships>'
    ).encode()
    return parts


def _target(rels: str, kind: str) -> str | None:
    match = re.search(
        rf'<Relationship\b[^>]*Type="[^"]*/{kind}"[^>]*Target="([^"]+)"'
        rf'|<Relationship\b[^>]*Target="([^"]+)"[^>]*Type="[^"]*/{kind}"',
        rels,
    )
    if match is None:
        return None
    target = match.group(1) or match.group(2)
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _workbook(date1904: bool) -> bytes:
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'{pr}<sheets><sheet name="S" sheetId="1" r:id="rIdS"/></sheets></workbook>'
    ).encode()


def strings_key(source: zipfile.ZipFile) -> str:
    """The shared-string part's CRC and size: cached text cells may point into it."""
    target = _target(source.read("xl/_rels/workbook.xml.rels").decode("utf-8"), "sharedStrings")
    if target is None or target not in source.NameToInfo:
        return ""
    info = source.getinfo(target)
    return f"{info.CRC}:{info.file_size}"


ERROR_CELL = re.compile(
    rb'<c r="([A-Z]+)(\d+)"[^>]*?t="e"[^>]*>(?:<f[^>]*>.*?</f>|<f[^>]*/>)?'
    rb"<v>([^<]*)</v>",
    re.S,
)


def _error_cells(rows: bytes) -> list[tuple[str, int, str]]:
    if b't="e"' not in rows:
        return []
    return [(c.decode(), int(r), v.decode()) for c, r, v in ERROR_CELL.findall(rows)]
