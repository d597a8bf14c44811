"""The `hospital-bulk` command: servers (serve, directory, worker, db) and client commands."""

from __future__ import annotations

import typer

from hospital_bulk.cli import client_commands, servers

app = typer.Typer(
    help="Load hospitals from a CSV file into a Hospital Directory, safely.",
    no_args_is_help=True,
    add_completion=False,
)
servers.register(app)
client_commands.register(app)


def main() -> None:
    app()
