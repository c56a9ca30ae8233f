"""Files named by the user, checked before any work starts: a file to read must be there, a file to write
must have a folder to go in. One message for each case, naming the file."""

from __future__ import annotations

from pathlib import Path

from incidents.errors import NotFoundError, UsageError


def input_file(path: str | Path, what: str = "file") -> Path:
    """`path` as a Path, if it names a file that exists; NotFoundError (or UsageError for a folder) if not."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; name the {what} itself")
    if not path.exists():
        raise NotFoundError(f"No {what} at {path}" + (f" (the folder {path.parent} does not exist either)"
                                                      if not path.parent.exists() else ""))
    return path


def output_file(path: str | Path, what: str = "file") -> Path:
    """`path` as a Path, if a {what} can be written there: its folder exists and it is not itself a folder."""
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: it is a folder; name a file in it")
    if not folder.exists():
        raise UsageError(f"Cannot write the {what} {path}: the folder {folder} does not exist; "
                         f"create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise UsageError(f"Cannot write the {what} {path}: {folder} is a file, not a folder")
    return path
