"""Commands that run a server process: the service, the bundled Directory, a Celery worker."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from hospital_bulk.config import Settings
from hospital_bulk.logging import configure_logging

logger = logging.getLogger("hospital_bulk.cli")

HostOption = Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it local.")]
PortOption = Annotated[int, typer.Option(help="TCP port to listen on.")]


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(directory)
    app.command()(worker)
    db = typer.Typer(help="Manage the job store's schema.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")


def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the HTTP API (and, with no broker set, the in-process worker)."""
    import uvicorn

    from hospital_bulk.api.app import BUNDLED_DIRECTORY_PATH, create_app

    settings = Settings()
    configure_logging(level=settings.log_level, json_output=settings.log_json)
    bundled = None
    if settings.embedded_directory:
        from hospital_bulk.bundled_directory.app import create_directory_app

        bundled = create_directory_app(database_path=settings.data_dir / "directory.sqlite3")
        local_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        url = f"http://{local_host}:{port}{BUNDLED_DIRECTORY_PATH}"
        settings = settings.model_copy(update={"directory_url": url})
        logger.info("HOSPITAL_DIRECTORY_URL is not set: using the bundled Hospital Directory at %s", url)
    if settings.api_keys:
        logger.info("API keys are on: every endpoint but /health needs 'Authorization: Bearer <key>'")
    elif host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("Listening on %s without API keys: anyone who can reach it can upload", host)
    uvicorn.run(create_app(settings, bundled_directory=bundled), host=host, port=port, log_config=None)


def directory(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8001,
    profile: Annotated[
        str, typer.Option(help="local: no limits or delay; public: the public instance's limits.")
    ] = "local",
) -> None:
    """Run the bundled Hospital Directory on its own."""
    import uvicorn

    from hospital_bulk.bundled_directory.app import create_directory_app

    if profile not in ("local", "public"):
        raise typer.BadParameter(f"{profile!r} is not a profile; use 'local' or 'public'.", param_hint="--profile")
    settings = Settings()
    configure_logging(level=settings.log_level, json_output=settings.log_json)
    app = create_directory_app(database_path=settings.data_dir / "directory.sqlite3", profile=profile)
    logger.info("Bundled Hospital Directory (profile %s) on http://%s:%d", profile, host, port)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            help="Chunks this worker runs at once, one child process each. With 2, the next "
            "chunk starts while the last creates of the previous one finish. The "
            "HOSPITAL_BULK_CONCURRENCY cap covers all children of all workers together."
        ),
    ] = 2,
) -> None:
    """Run a Celery worker (needs HOSPITAL_BULK_BROKER_URL)."""
    from hospital_bulk.workers.celery_worker import run_worker

    settings = Settings()
    configure_logging(level=settings.log_level, json_output=settings.log_json)
    if not settings.broker_url:
        typer.echo("HOSPITAL_BULK_BROKER_URL is not set; a worker needs a broker such as "
                   "redis://127.0.0.1:6379/0.", err=True)
        raise typer.Exit(1)
    run_worker(settings, concurrency=concurrency)


def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the job store's migrations up to REVISION."""
    from hospital_bulk.store.migrate import upgrade_database

    settings = Settings()
    configure_logging(level=settings.log_level, json_output=settings.log_json)
    upgrade_database(settings.job_store_url, revision)
    typer.echo(f"Job store at revision {revision}.")
