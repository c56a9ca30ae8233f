"""Files named by the user, checked before any work starts: a file to read must be there and readable, a file
to write must have a folder to go in and must not be one the command reads (the database, the input). One
message for each case, naming the file."""

from __future__ import annotations

import os
from pathlib import Path

from incidents.errors import NotFoundError, UsageError


def _named(path: str | Path, what: str) -> Path:
    text = str(path)
    if text == "-":
        raise UsageError(f"'-' (standard input or output) cannot be the {what}; name a file")
    if not text.strip():
        raise UsageError(f"The {what} has no name; name a file")
    if text.endswith(("/", os.sep)):
        raise UsageError(f"{text} names a folder; name the {what} itself (a file)")
    return Path(text).expanduser()


def input_file(path: str | Path, what: str = "file") -> Path:
    """`path` as a Path, if it names a readable file; NotFoundError (or UsageError for a folder) if not."""
    path = _named(path, what)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; name the {what} itself")
    if not path.exists():
        raise NotFoundError(f"No {what} at {path}" + (f" (the folder {path.parent} does not exist either)"
                                                      if not path.parent.exists() else ""))
    if not os.access(path, os.R_OK):
        raise UsageError(f"The {what} {path} cannot be read: permission denied")
    return path


def output_file(path: str | Path, what: str = "file", reads: tuple[Path | None, ...] = ()) -> Path:
    """`path` as a Path, if a {what} can be written there: its folder exists, it is not a folder, and it is none
    of the files the command reads (`reads`: the database file, the input), which writing would destroy."""
    path = _named(path, what)
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: it is a folder; name a file in it")
    if not folder.exists():
        raise UsageError(f"Cannot write the {what} {path}: the folder {folder} does not exist; "
                         f"create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: {folder} is a file, not a folder")
    for read in reads:
        if read is not None and path.exists() and read.exists() and path.samefile(read):
            raise UsageError(f"Cannot write the {what} to {path}: the command reads that file, and writing it "
                             "would destroy it; name another file")
    return path
