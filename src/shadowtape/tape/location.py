"""Where tapes live: local paths, globs and pyarrow filesystem URIs, resolved to part files.

Part files end in ``.parquet``; anything starting with "." or "_" (the writer's temporary
names, Spark's ``_SUCCESS``) is never a part, so readers cannot see a half-written file.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.fs as pafs

from shadowtape.errors import ConfigError, TapeError

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_PARTITION = re.compile(r"(?:^|/)source=([^/]*)/date=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/")


@dataclass(frozen=True, slots=True)
class PartFile:
    filesystem: pafs.FileSystem
    path: str
    #: From the Hive path when present, for pruning before any file is opened.
    source: str | None = None
    hour_start: datetime | None = None

    def __str__(self) -> str:
        return self.path


def safe_segment(source: str) -> str:
    """A source name usable as one path segment (the writer's partition folder)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_.:@" else "_" for ch in source)
    return cleaned.lstrip(".") or "default"


def is_uri(location: str) -> bool:
    """Whether a location is a filesystem URI (s3://, gs://, file://) rather than a path."""
    return bool(_URI.match(location))


def is_part_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.endswith(".parquet") and not base.startswith((".", "_"))


def resolve_root(location: str | os.PathLike[str]) -> tuple[pafs.FileSystem, str]:
    """A writable root: a local folder or a filesystem URI."""
    text = os.fspath(location)
    if _URI.match(text):
        try:
            fs, path = pafs.FileSystem.from_uri(text)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise TapeError(f"{text}: cannot open this tape location ({exc})") from None
        return fs, path
    return pafs.LocalFileSystem(), os.path.abspath(text)


def tape_root(part: PartFile) -> str:
    """The folder a part's tape starts at: above its source=/date=/hour= folders, or the
    part's own folder when it is not in that layout."""
    path = part.path.replace(os.sep, "/")
    match = _PARTITION.search(path)
    if match:
        return path[: match.start()] or "/"
    return path.rsplit("/", 1)[0] or "/"


def in_partition(path: str) -> bool:
    """Whether a path lies in a tape's source=/date=/hour= partition folder."""
    return _PARTITION.search(path.replace(os.sep, "/")) is not None


def _partition_info(path: str) -> tuple[str | None, datetime | None]:
    match = _PARTITION.search(path.replace(os.sep, "/"))
    if not match:
        return None, None
    source, date, hour = match.groups()
    try:
        start = datetime.strptime(f"{date} {hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    except ValueError:
        return source, None
    return source, start


def _part(fs: pafs.FileSystem, path: str) -> PartFile:
    source, hour = _partition_info(path)
    return PartFile(fs, path, source, hour)


def discover(locations: Iterable[str | os.PathLike[str]]) -> list[PartFile]:
    """Every part file under the given files, folders, globs and URIs, sorted by path.

    A location that names nothing is an error (a typo should not read as an empty tape);
    a folder with no parts is not, since a recorder may not have closed one yet.
    """
    parts: list[PartFile] = []
    for location in locations:
        text = os.fspath(location)
        if _URI.match(text):
            parts.extend(_discover_uri(text))
            continue
        if glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise TapeError(f"{text}: no file matches this pattern")
            for match in matches:
                parts.extend(_discover_local(match, explicit=False))
            continue
        if not os.path.exists(text):
            raise TapeError(f"{text}: no such file or folder")
        parts.extend(_discover_local(text, explicit=True))
    seen: set[str] = set()
    unique = []
    for part in parts:
        if part.path not in seen:
            seen.add(part.path)
            unique.append(part)
    return unique


def _discover_local(path: str, *, explicit: bool) -> list[PartFile]:
    fs = pafs.LocalFileSystem()
    if os.path.isdir(path):
        found = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for name in sorted(filenames):
                if is_part_name(name):
                    found.append(_part(fs, os.path.abspath(os.path.join(dirpath, name))))
        return found
    # A file named explicitly is read whatever its name, so a wrong file gets a clear error.
    if explicit or is_part_name(path):
        return [_part(fs, os.path.abspath(path))]
    return []


def _discover_uri(uri: str) -> list[PartFile]:
    fs, path = resolve_root(uri)
    try:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise TapeError(f"{uri}: no such file or folder")
        if info.type == pafs.FileType.File:
            return [_part(fs, path)]
        selector = pafs.FileSelector(path, recursive=True)
        infos = fs.get_file_info(selector)
    except OSError as exc:
        raise TapeError(f"{uri}: cannot list this location ({exc})") from None
    names = sorted(
        i.path
        for i in infos
        if i.type == pafs.FileType.File
        and is_part_name(i.path)
        and not any(seg.startswith((".", "_")) for seg in i.path[len(path) :].split("/")[:-1])
    )
    return [_part(fs, name) for name in names]


def check_writable(tapes: str) -> None:
    """Refuse a local --tapes that cannot become a tape folder: a file, or a place where
    nothing can be written. Nothing is created, so a refused command leaves no folder;
    else every write would fail later, in a writer's thread, warning by warning."""
    path = os.path.abspath(tapes)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing == path and not os.path.isdir(path):
        raise ConfigError(f"--tapes {tapes}: not a folder; give a tape folder, new or existing")
    try:
        if not os.path.isdir(existing):
            raise NotADirectoryError(0, f"{existing} is a file")
        os.rmdir(tempfile.mkdtemp(prefix=".shadowtape-check-", dir=existing))
    except OSError as exc:
        raise ConfigError(
            f"--tapes {tapes}: cannot write there ({exc.strerror or exc}); give a writable folder"
        ) from None
