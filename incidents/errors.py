"""The one exception hierarchy; every user-facing failure is an IncidentsError with an exit code."""

from __future__ import annotations


class IncidentsError(Exception):
    """A failure a person can act on. The CLI prints the message and exits with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(IncidentsError):
    """The command was given values it cannot use (bad date, unknown enum value, missing source)."""

    exit_code = 2


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
