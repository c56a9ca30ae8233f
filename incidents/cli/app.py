"""The `incidents` group: the --db option, and the one place where errors become a message and an exit code.

Nothing here or in commands.py imports pandas, SQLAlchemy or rich when the module loads: `incidents --help`
has to answer at once, so the library and the renderer are loaded when a command first uses them.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Any

import click

from incidents.errors import DataWarning, IncidentsError, UsageError
from incidents.files import NO_ROOM, no_room

_COMMAND = "incidents.command"  # ctx.meta key: the command that runs (the innermost one resolved)


class LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


def option_names(ctx: click.Context) -> dict[str, str]:
    """{parameter name: its flag} for the group's options and the running command's: how an error names the
    option it is about (the library says `as_of`, the command line `--as-of`)."""
    names: dict[str, str] = {}
    for command in (ctx.find_root().command, ctx.meta.get(_COMMAND)):
        for param in getattr(command, "params", []):
            if isinstance(param, click.Option) and param.name:
                names[param.name] = next((o for o in param.opts if o.startswith("--")), param.opts[0])
    return names


class IncidentsGroup(click.Group):
    """Turns every IncidentsError, every database error (db.engine.database_error) and every file the system
    refused (OSError with a file name) into a one-line message and its exit code; any other error keeps its
    traceback, because it is a bug."""

    group_class = type  # sub-groups (actors, report, db) are IncidentsGroups too

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                            list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[_COMMAND] = command
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DataWarning)
            original = warnings.showwarning
            said: set[str] = set()  # a chart reads the data twice; a note is said once

            def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
                if issubclass(category, DataWarning):
                    from incidents.cli import render

                    if str(message) not in said:
                        said.add(str(message))
                        render.note(str(message))
                else:
                    original(message, category, *args, **kwargs)

            warnings.showwarning = show
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # click's own: a bad choice, a missing argument, a number out of range
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            message = " ".join(exc.format_message().split())  # one line; plain, so that rich stays unloaded
            if not message.isprintable():  # a control code in what was typed is shown, not obeyed
                message = message.encode("unicode_escape").decode("ascii")
            click.echo(f"Error: {message} (see: {where} --help)", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # --help, Ctrl-C and click's own usage errors: click prints them
        except Exception as exc:
            error = (exc if isinstance(exc, IncidentsError) else _database_error(exc) or _file_error(exc)
                     or _not_text(exc))
            if error is None:
                raise
            from incidents.cli import render

            render.error(error.render(option_names(ctx)))
            ctx.exit(error.exit_code)


def _not_text(exc: Exception) -> IncidentsError | None:
    """A value typed with bytes that are not UTF-8 (the shell passes them on as lone surrogates): no database can
    store it, and the driver says so only when it is sent."""
    if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
        shown = exc.object[max(0, exc.start - 20):exc.end + 20].encode("utf-8", "backslashreplace").decode()
        return UsageError(f"A value holds bytes that are not UTF-8 text ({shown!r}); type it again as UTF-8")
    return None


def _file_error(exc: Exception) -> IncidentsError | None:
    """A file the system would not read or write (full disk, no permission, ...) as one line naming it."""
    if isinstance(exc, OSError) and exc.filename:
        return IncidentsError(f"Cannot use the file {exc.filename}: {exc.strerror or exc}")
    if isinstance(exc, OSError) and exc.errno in NO_ROOM:  # a write with no file named: a full disk
        return no_room(None, exc)
    return None


def _database_error(exc: Exception) -> IncidentsError | None:
    """A database or driver error as IncidentsError (db.engine.database_error), loading nothing for others."""
    if not type(exc).__module__.startswith(("sqlalchemy", "sqlite3", "psycopg", "alembic")) and not (
            isinstance(exc, ModuleNotFoundError) and not (exc.name or "incidents").startswith("incidents")):
        return None
    from incidents.db.engine import database_error

    return database_error(exc)


@click.group(cls=IncidentsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH_OR_URL", envvar="INCIDENTS_DB", show_envvar=True,
              help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...). Default: ./incidents.db")
@click.version_option(package_name="incidents")
def cli(db: str | None) -> None:
    """An attack-incident timeline database: who did it, when, where, how many were killed and wounded,
    and which sources say so.

    Start with `incidents demo`, or `incidents init` and then `incidents load FILE`.
    `incidents help COMMAND` (or `incidents COMMAND --help`) explains one command.
    """


@cli.command(name="help")
@click.argument("command", nargs=-1)
def help_(command: tuple[str, ...]) -> None:
    """Explain COMMAND: `incidents help import`, `incidents help actors add`. Without COMMAND, every command."""
    root = click.get_current_context().find_root()
    target: click.Command = cli
    for index, name in enumerate(command):
        if not isinstance(target, click.Group):
            raise click.UsageError(f"`incidents {' '.join(command[:index])}` has no sub-commands.")
        found = target.get_command(root, name)
        if found is None:
            listing = " ".join(["incidents", "help", *command[:index]])
            raise click.UsageError(f"There is no command `incidents {' '.join(command[:index + 1])}`; "
                                   f"`{listing}` lists them.")
        target = found
    # A child of the root context, so that the command's help options (-h, --help) are inherited.
    with click.Context(target, info_name=" ".join(command), parent=root) as help_ctx:
        click.echo(target.get_help(help_ctx))
