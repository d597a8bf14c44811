"""Apply the job store's Alembic migrations (`hospital-bulk db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def pending_migrations(engine: Engine) -> bool:
    """True when the database is not at the newest revision."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current != head


class StoreNotMigrated(RuntimeError):
    """Raised when a shared job store is behind the newest schema revision."""


def prepare_store(engine: Engine) -> None:
    """Migrate a SQLite store in place; check that any other store is already migrated.

    A SQLite store belongs to one machine, so its process migrates it. A shared store is
    migrated once with `hospital-bulk db upgrade`, never by several processes at once.

    Raises:
        StoreNotMigrated: a shared store is not at the newest revision.
    """
    url = engine.url.render_as_string(hide_password=False)
    if engine.url.get_backend_name() == "sqlite":
        upgrade_database(url)
    elif pending_migrations(engine):
        raise StoreNotMigrated(
            f"The job store at {engine.url.render_as_string(hide_password=True)} is not at the "
            "newest schema. Run `hospital-bulk db upgrade` first."
        )
