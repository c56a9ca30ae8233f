"""The `incidents` group: the --db option, and the one place where errors become a message and an exit code."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import IntegrityError, OperationalError

from incidents.cli import render as output
from incidents.errors import DatabaseError, IncidentsError


class IncidentsGroup(click.Group):
    """Turns every IncidentsError into a one-line message and its exit code; other errors keep the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IncidentsError as exc:
            output.error(exc)
            ctx.exit(exc.exit_code)
        except OperationalError as exc:
            error = DatabaseError(f"The database could not do that: {exc.orig}")
            output.error(error)
            ctx.exit(error.exit_code)
        except IntegrityError as exc:
            error = DatabaseError(f"The database refused the change: {exc.orig}")
            output.error(error)
            ctx.exit(error.exit_code)


@click.group(cls=IncidentsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH_OR_URL", envvar="INCIDENTS_DB", show_envvar=True,
              help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...). Default: ./incidents.db")
@click.version_option(package_name="incidents")
def cli(db: str | None) -> None:
    """An attack-incident timeline database: who did it, when, where, how many were killed and wounded,
    and which sources say so.

    Start with `incidents demo`, or `incidents init` and then `incidents load FILE`.
    """
