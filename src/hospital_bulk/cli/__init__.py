"""The `hospital-bulk` command: servers (serve, directory, worker, db) and client commands."""

from __future__ import annotations

import typer

from hospital_bulk.cli import servers

app = typer.Typer(
    help="Load hospitals from a CSV file into a Hospital Directory, safely.",
    no_args_is_help=True,
    add_completion=False,
)
servers.register(app)

try:
    from hospital_bulk.cli import client_commands
except ImportError:  # the client commands are optional while being built
    client_commands = None  # type: ignore[assignment]
else:
    client_commands.register(app)


def main() -> None:
    app()
