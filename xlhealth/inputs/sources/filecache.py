"""A typed, tagged Parquet copy of each CSV, TSV or JSON-lines file a source reads, kept
beside the book.

A folder of weekly exports grows by one file a week, yet every refresh used to parse every
CSV again (twice: the overview and the aggregate) and run the ISO-date and plain-ID
regular expressions on every row. The first refresh that reads a file now writes what
those queries read from it to ``NAME-cache/sources/<key>.parquet``: its columns as the
reader gives them (CSV: text as text) plus the *tags* the plan asks for, computed once —
``z`` (date form: ISO / epoch digits / other), ``v`` (the ISO day as an integer, when it
is a real day in range), ``y`` (plain decimal text), ``w`` (plain ASCII text whose lower
case is its normalised code). A column the plan reads only as a date keeps its text only
where ``v`` is NULL. Later refreshes read the Parquet file instead of the file itself.

A cache file is trusted only when everything that made it is unchanged: the file's path,
size, modification time **and content hash** (xxh3-128 over its bytes, ~0.15 s per 700
MB, so a file rewritten with the same size and time is caught), this xlhealth and DuckDB
version, the normalisation rules (the tags' SQL), and what changes parsing — the Sources
row's format and encoding, Settings ``date_order``, for JSON lines the set's column types.
Any doubt, and the file is read again and its cache rewritten. Each cache file is one
Parquet file written to a temporary name and renamed into place, its identity in its own
footer, so a killed refresh leaves either the old file or the new one, never half of one.
The cache is never inside the workbook and never needed to reproduce a result: delete the
folder at any time.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import xxhash

from xlhealth.inputs.sources import sql
from xlhealth.inputs.sources.files import CHUNK, Ends

FORMAT = 1
"""What a cache file holds; raise it when that changes (older files are then rewritten)."""
PREFIX = "_xlhealth_"
"""Tag columns of a cache file are named ``_xlhealth_<tag>:<column>``."""
CACHED_FORMATS = ("csv", "tsv", "jsonl")
META_KEY = "xlhealth"
KEEP_DAYS = 30
"""A cache file no refresh has used for this long (its export was removed) is deleted."""


def tag_sql(tag: str, c: str, z: str | None = None) -> str:
    """The SQL of a tag over text column ``c``: the very expressions the queries would
    otherwise compute per row (:mod:`xlhealth.inputs.sources.sql`), so both agree. ``v``
    reads the ``z`` tag from column ``z`` when given (its regular expressions run once)."""
    if tag == "z":
        return f"CAST({sql.date_tag(c, 'text')} AS TINYINT)"
    if tag == "y":
        return f"CAST({sql.number_tag(c, 'text')} AS TINYINT)"
    if tag == "w":
        return sql.clean_text(c)
    if tag == "v":
        text = f"REPLACE(SUBSTR({c}, 1, 10), '/', '-')"
        day = f"CAST(TRY_CAST({text} AS DATE) - DATE '1970-01-01' AS BIGINT)"
        form = z or sql.date_tag(c, "text")
        return f"CAST(CASE WHEN {form} = 1 THEN {sql.in_range(day)} END AS INTEGER)"
    raise ValueError(tag)


def tag_column(tag: str, column: str) -> str:
    return f"{PREFIX}{tag}:{column}"


def versions() -> tuple[str, str]:
    """This xlhealth's and DuckDB's versions: a cache file made by others is rewritten."""
    import duckdb

    try:
        mine = metadata.version("xlhealth")
    except metadata.PackageNotFoundError:  # run from a source tree
        mine = "source"
    return mine, duckdb.__version__


def rules() -> str:
    """The normalisation rules a cache file's tags follow (a change rewrites them)."""
    text = "|".join([str(FORMAT), *(tag_sql(t, "c") for t in "zvyw")])
    return xxhash.xxh3_64_hexdigest(text.encode())


def digest(path: Path) -> str:
    """xxh3-128 of a file's bytes on disk (a ``.gz`` as it is stored)."""
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 1)).decode("ascii")


def _unpack(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


@dataclass
class Entry:
    """One source file's cache file: whether it can be read, and what it knows."""

    source: Path
    parquet: Path
    identity: dict[str, object]
    meta: dict[str, object] | None = None  # the trusted footer (None: read the file)
    names: list[str] = field(default_factory=list)  # the file's own columns, in its order
    tags: set[str] = field(default_factory=set)  # tag columns the Parquet file holds
    residual: set[str] = field(default_factory=set)  # text kept only where the day is NULL
    reason: str = ""  # why a cache file there is not used ("" : none, or changed file)

    @property
    def held(self) -> bool:
        return self.meta is not None

    def ends(self) -> Ends:
        assert self.meta is not None
        return Ends(_unpack(str(self.meta["head"])), _unpack(str(self.meta["tail"])))

    def columns(self) -> list[str]:
        return list(self.names)


DOUBTS = {
    "unreadable": "the cache file was unreadable or cut short",
    "version": "the cache file was made by another xlhealth or DuckDB version",
    "rules": "the cache file was made under other normalisation rules",
    "settings": "the cache file was read with other settings (format, encoding, date_order)",
}  # fmt: skip
"""Why a cache file that is there was not trusted (an information line on Checks); a file
that simply changed since is no doubt — it is read again, as expected."""


class SourceCache:
    """The ``sources/`` folder of a book's cache: one Parquet file per source file."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def writable(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            return True
        except OSError:
            return False

    def entry(self, source: Path, settings: dict[str, object]) -> Entry:
        """The cache entry of ``source`` as read with ``settings``: held when its footer
        matches the file and the settings exactly."""
        resolved = source.resolve()
        key = xxhash.xxh3_64_hexdigest(str(resolved).encode("utf-8"))
        stat = resolved.stat()
        identity: dict[str, object] = {
            "path": str(resolved), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
        }  # fmt: skip
        entry = Entry(source, self.folder / f"{key}.parquet", identity)
        if not entry.parquet.exists():
            return entry
        meta, names = _footer(entry.parquet)
        if meta is None:
            entry.reason = "unreadable"
            return entry
        made_by = [meta.get("xlhealth"), meta.get("duckdb")]
        if meta.get("format") != FORMAT or made_by != list(versions()):
            entry.reason = "version"
        elif meta.get("rules") != rules():
            entry.reason = "rules"
        elif meta.get("settings") != settings:
            entry.reason = "settings"
        elif any(meta.get(k) != v for k, v in identity.items()):
            entry.reason = "changed"
        else:
            identity["digest"] = digest(resolved)
            if meta.get("digest") != identity["digest"]:
                entry.reason = "changed"
            else:
                self.reload(entry, (meta, names))
        return entry

    def reload(self, entry: Entry, footer: tuple | None = None) -> None:
        """A held entry as its cache file now stands (its tags, its partial columns)."""
        meta, names = footer or _footer(entry.parquet)
        if meta is None:
            return
        entry.meta = meta
        entry.names = [n for n in names if not n.startswith(PREFIX)]
        entry.tags = {n for n in names if n.startswith(PREFIX)}
        entry.residual = set(meta.get("residual") or [])

    def meta(self, entry: Entry, ends: Ends, settings: dict[str, object]) -> dict[str, object]:
        identity = dict(entry.identity)
        identity.setdefault("digest", digest(Path(str(identity["path"]))))
        mine, duckdb_version = versions()
        return {
            "format": FORMAT, "xlhealth": mine, "duckdb": duckdb_version,
            "rules": rules(), "settings": settings, **identity,
            "head": _pack(ends.head), "tail": _pack(ends.tail),
        }  # fmt: skip

    def prune(self, used: list[Entry], days: float = KEEP_DAYS) -> None:
        """Mark the cache files this run uses (their time) and delete the ones no run has
        used for ``days`` — exports removed from the folder — and temporary files a killed
        refresh left behind (a day old), so the folder does not grow for ever."""
        now = time.time()
        for e in used:
            with contextlib.suppress(OSError):
                if e.parquet.exists():
                    os.utime(e.parquet)
        mine = {e.parquet for e in used}
        for path in self.folder.glob("*.parquet*"):
            with contextlib.suppress(OSError):
                age = now - path.stat().st_mtime
                stale = path.suffix == ".tmp" and age > 86_400
                if stale or (
                    path.suffix == ".parquet" and path not in mine and age > days * 86_400
                ):
                    path.unlink()

    def size(self, entries: list[Entry]) -> int:
        total = 0
        for e in entries:
            with contextlib.suppress(OSError):
                total += e.parquet.stat().st_size
        return total


def _footer(path: Path) -> tuple[dict[str, object] | None, list[str]]:
    """The identity a cache file keeps in its footer and its columns (None: unreadable or
    truncated — a Parquet file cut short has lost its footer)."""
    import pyarrow.parquet as pq

    try:
        info = pq.read_metadata(path)
        raw = (info.metadata or {}).get(META_KEY.encode())
        meta = json.loads(raw) if raw else None
        names = info.schema.names
    except Exception:
        return None, []
    if not isinstance(meta, dict):
        return None, []
    return meta, list(names)
