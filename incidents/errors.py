"""The one exception hierarchy; every user-facing failure is an IncidentsError with an exit code.

The library speaks its own vocabulary. A message that names one of the caller's options marks it with
option(name): str(error) says `since`, as a Python caller wrote it, and the command line renders the same
error with its flag, `--since` (see IncidentsError.render).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

_MARK = "\x1f"  # a control character: user values in messages are shown with repr(), which escapes it
_OPTION = re.compile(_MARK + r"([A-Za-z_][A-Za-z0-9_]*)" + _MARK)


def option(name: str) -> str:
    """How a message names the caller's option `name` (a keyword argument, a command-line flag)."""
    return f"{_MARK}{name}{_MARK}"


def named(message: str, names: Mapping[str, str] | None = None) -> str:
    """`message` with each option(name) in it written as `names` says, else as the name itself."""
    found = names or {}
    return _OPTION.sub(lambda match: found.get(match.group(1), match.group(1)), message)


class IncidentsError(Exception):
    """A failure a person can act on. The CLI prints the message and exits with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        self._marked = message  # with option() marks, for render()
        self.message = named(message)  # what Python callers see: options by their keyword
        super().__init__(self.message)

    def render(self, names: Mapping[str, str]) -> str:
        """The message with each option named as `names` says (the command line: {'since': '--since'});
        an option `names` does not know keeps its own name."""
        return named(self._marked, names)

    def __str__(self) -> str:
        return self.message

    def prefixed(self, prefix: str) -> IncidentsError:
        """The same error with `prefix` (a file name: 'gtd.csv: ') before its message."""
        error = copy.copy(self)
        error._marked = prefix + self._marked
        error.message = prefix + self.message
        error.args = (error.message,)
        return error

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (multiprocessing, joblib), marks and all
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(kind: type[IncidentsError], state: dict[str, Any]) -> IncidentsError:
    error = kind.__new__(kind)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class UsageError(IncidentsError):
    """The command was given values it cannot use (bad date, unknown enum value, missing source)."""

    exit_code = 2


MISSING = object()  # FieldError's value when the field was not given at all


class FieldError(UsageError):
    """One bad value: which field (in the library's words: 'since', 'killed', 'as_of'), what value, and why.

    The importers turn it into 'file:line: column NAME ...'; the command line names the field by its flag.
    """

    def __init__(self, field_name: str, value: object, reason: str) -> None:
        self.field_name = field_name
        self.value = None if value is MISSING else value
        self.reason = named(reason)  # plain words; the marks stay in the message, for the command line
        shown = "" if value is MISSING else f" {value!r}"
        super().__init__(f"{option(field_name)}{shown} {reason}")


class NotFoundError(IncidentsError):
    """An incident, actor or file named by the user does not exist."""

    exit_code = 3


class DatabaseNotReady(IncidentsError):
    """The database is missing, empty or at an older schema revision than this code."""

    exit_code = 4


class DatabaseError(IncidentsError):
    """The database refused a write (constraint) or could not be reached."""

    exit_code = 5


class DatabaseBusy(DatabaseError):
    """Other writers held the database for longer than a write is willing to wait; nothing was written."""


class InputError(IncidentsError):
    """A file (fixture or import) holds bad data. Carries every problem found, each with file, line and field."""

    exit_code = 6

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        if self.problems:
            shown = self.problems[:20]
            more = len(self.problems) - len(shown)
            message = message + "\n  " + "\n  ".join(shown)
            if more:
                message += f"\n  ... and {more} more"
        super().__init__(message)


class DataWarning(UserWarning):
    """The answer is right but may not be what was meant (a filter that leaves out a near spelling of what was
    asked). Python callers get a warning; the command line prints it as a note on stderr."""
