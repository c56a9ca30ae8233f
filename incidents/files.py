"""Files named by the user, checked before any work starts: a file to read must be there and readable, a file
to write must have a folder to go in and must not be one the command reads (the database, the input). One
message for each case, naming the file. Every file the tool writes is written beside its place and renamed
into it when complete (atomic_path, atomic_write), so a failure or a kill never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import yaml

from incidents.errors import IncidentsError, NotFoundError, UsageError

PART = ".part"  # the suffix of a file being written, before it is renamed into place
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}  # a full disk, a full quota, a file past its size limit


def _named(path: str | Path, what: str) -> Path:
    text = str(path)
    if text == "-":
        raise UsageError(f"'-' (standard input or output) cannot be the {what}; name a file")
    if not text.strip():
        raise UsageError(f"The {what} has no name; name a file")
    if text.endswith(("/", os.sep)):
        raise UsageError(f"{text} names a folder; name the {what} itself (a file)")
    path = Path(text).expanduser()
    try:
        path.resolve()
    except (RuntimeError, OSError):  # RuntimeError: Python 3.11's word for a loop of symbolic links
        raise UsageError(f"{text} is a loop of symbolic links (or leads into one); name the {what} as a real "
                         "file") from None
    return path


def input_file(path: str | Path, what: str = "file") -> Path:
    """`path` as a Path, if it names a readable file; NotFoundError (or UsageError for a folder) if not."""
    path = _named(path, what)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; name the {what} itself")
    if not path.exists():
        raise NotFoundError(f"No {what} at {path}" + (f" (the folder {path.parent} does not exist either)"
                                                      if not path.parent.exists() else ""))
    if not path.is_file():
        raise UsageError(f"{path} is not a regular file (a pipe, a device or a socket); name a file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"The {what} {path} cannot be read: permission denied")
    return path


def read_text(path: str | Path, what: str, most: int) -> str:
    """The UTF-8 text of the regular file `path` (input_file's checks), at most `most` bytes."""
    path = input_file(path, what)
    if path.stat().st_size > most:
        raise UsageError(f"The {what} {path} is larger than {most:,} bytes, more than an article's text "
                         "(INCIDENTS_MAX_FULL_TEXT_BYTES raises the bound)")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"The {what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def output_file(path: str | Path, what: str = "file", reads: tuple[Path | None, ...] = ()) -> Path:
    """`path` as a Path, if a {what} can be written there: its folder exists, it is not a folder, and it is none
    of the files the command reads (`reads`: the database file, the input), which writing would destroy."""
    path = _named(path, what)
    if path.is_symlink():  # written through the link, to the file it names, as a shell redirection would
        path = path.resolve()
    folder = path.parent
    if path.exists() and not path.is_dir() and not path.is_file():
        raise UsageError(f"Cannot write the {what} to {path}: it is not a regular file (a device, a pipe or a "
                         "socket); name a file")
    if path.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: it is a folder; name a file in it")
    if not folder.exists():
        raise UsageError(f"Cannot write the {what} {path}: the folder {folder} does not exist; "
                         f"create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: {folder} is a file, not a folder")
    for read in reads:
        # The database's own companions (SQLite's -wal, -shm and -journal) are the database too.
        for companion in ((read.with_name(read.name + end) for end in SQLITE_COMPANIONS)
                          if read is not None else ()):
            if path.resolve() == companion.resolve():
                raise UsageError(f"Cannot write the {what} to {path}: it is part of the database; name another "
                                 "file")
        if read is not None and path.exists() and read.exists() and path.samefile(read):
            raise UsageError(f"Cannot write the {what} to {path}: the command reads that file, and writing it "
                             "would destroy it; name another file")
    return path


def no_room(path: Path | None, exc: OSError) -> IncidentsError:
    """The one-line error for a write that found the disk full (or a file past its size limit)."""
    where = f"to write {path}" if path is not None else "on the disk"
    return IncidentsError(f"No room {where}: {exc.strerror or exc}; nothing was written (a file already there is as "
                          "it was)")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (openpyxl, matplotlib, SQLite's backup,
    pg_dump). When the block ends normally the finished file is flushed to disk and renamed over `path` in one
    step; when it raises, the temporary file is removed and `path` is as it was. A kill part-way leaves `path`
    as it was too (and a hidden '.NAME.*.part' file beside it, which the next write sweeps away)."""
    _sweep(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{PART}")
    try:
        yield temporary
        if temporary.exists():
            with temporary.open("rb") as finished:
                os.fsync(finished.fileno())
            os.replace(temporary, path)
    except OSError as exc:
        if exc.errno not in NO_ROOM:
            raise
        raise no_room(path, exc) from None
    finally:
        for left in (temporary, *(temporary.with_name(temporary.name + end) for end in SQLITE_COMPANIONS)):
            left.unlink(missing_ok=True)  # with what SQLite kept beside a backup being written (its journal)


@contextmanager
def atomic_write(path: Path, mode: str = "w", **open_options: Any) -> Iterator[IO[Any]]:
    """An open handle on a temporary file that replaces `path` when the block ends normally (atomic_path)."""
    with atomic_path(path) as temporary, temporary.open(mode, **open_options) as handle:
        yield handle


SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")
_LEFT = re.compile(r"\..+\.[0-9a-f]{12}" + re.escape(PART) + "(-journal|-wal|-shm)?")


def _sweep(path: Path) -> None:
    """Remove what killed writes left behind in `path`'s folder (of any file the tool writes there), once they are a
    minute old: a live writer's is younger, as its file grows."""
    cutoff = time.time() - 60
    for left in path.parent.glob(f".*{PART}*"):
        with contextlib.suppress(OSError):
            if _LEFT.fullmatch(left.name) and left.stat().st_mtime < cutoff:
                left.unlink()


class LazyList(list[Any]):
    """A list whose items are made as JSON is written (write_json), so a million rows are never held at once.

    json's encoder asks only whether the list is empty and then iterates it; `len` answers that question (0 or 1)
    and is not the number of items."""

    def __init__(self, items: Iterable[Any]) -> None:
        super().__init__()
        iterator = iter(items)
        first: Any = next(iterator, _END)
        self._items = iter(()) if first is _END else itertools.chain([first], iterator)
        self._empty = first is _END

    def __len__(self) -> int:
        return 0 if self._empty else 1

    def __iter__(self) -> Iterator[Any]:
        return self._items


_END = object()


def write_json(handle: IO[str], data: Any, indent: int = 2) -> None:
    """Write `data` as `json.dumps(data, indent=indent, ensure_ascii=False, default=str)` would, in pieces, so
    that a LazyList inside it is written as its items are made."""
    encoder = json.JSONEncoder(indent=indent, ensure_ascii=False, default=str)
    pieces: list[str] = []
    for piece in encoder.iterencode(data):
        pieces.append(piece)
        if len(pieces) >= 4096:
            handle.write("".join(pieces))
            pieces.clear()
    handle.write("".join(pieces))


# ---- YAML that remembers lines: a fixture's or a file of records' problems are named by line

LINE = "__line__"  # the key under which each mapping read by load_yaml_with_lines holds its line
LINES = "__lines__"  # ... and the line of each of its keys


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping and of each of its keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        mapping[LINES] = {key.value: key.start_mark.line + 1 for key, _ in node.value}
        return mapping


# Dates stay text: PyYAML's own date parsing raises a bare ValueError on 2018-11-31; ours names line and field.
_LineLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


def load_yaml_with_lines(text: str) -> Any:
    """YAML text as Python data, every mapping with LINE and LINES; yaml.YAMLError on bad YAML."""
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
