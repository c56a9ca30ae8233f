"""The `incidents` command line: app.py holds the group and its error handler, commands.py the commands,
render.py every line printed to the terminal."""

from __future__ import annotations

from incidents.cli import commands  # noqa: F401 - registers the commands on the group
from incidents.cli.app import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="incidents")
