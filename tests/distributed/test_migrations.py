"""`hospital-bulk db upgrade` on PostgreSQL: from an empty database and from earlier revisions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, select, text

from hospital_bulk.store.migrate import alembic_config, pending_migrations, upgrade_database
from hospital_bulk.store.tables import Base, JobRecord

pytestmark = pytest.mark.distributed

_SCRIPTS = ScriptDirectory.from_config(alembic_config("postgresql://"))
HEAD = _SCRIPTS.get_current_head()
#: Every revision before the newest one, oldest first; 0001 is the first.
EARLIER_REVISIONS = [script.revision for script in reversed(list(_SCRIPTS.walk_revisions()))][:-1]


def _upgrade_with_cli(database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOSPITAL_BULK_DATABASE_URL": database_url,
        "HOSPITAL_BULK_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "hospital_bulk.cli", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_upgrade_empty_database(database_url: str, tmp_path: Path) -> None:
    result = _upgrade_with_cli(database_url, tmp_path)
    engine = create_engine(database_url)

    assert result.returncode == 0, result.stderr
    assert _revision(engine) == HEAD
    assert not pending_migrations(engine)
    assert _schema_differences(engine) == []
    engine.dispose()


@pytest.mark.parametrize("revision", EARLIER_REVISIONS)
def test_upgrade_from_earlier_revision(database_url: str, tmp_path: Path, revision: str) -> None:
    """A store at an earlier revision keeps its jobs and gains what the newer revisions add."""
    upgrade_database(database_url, revision)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        # Only columns that revision 0001 created, so that the insert works at every revision.
        connection.execute(
            text(
                "INSERT INTO jobs (id, owner, fingerprint, filename, status, batch_id, "
                "total_rows, batch_activated, file_report, created_at) VALUES "
                "('job-before-upgrade', '', :fingerprint, 'old.csv', 'completed', "
                "'batch-before-upgrade', 0, false, '{}', now())"
            ),
            {"fingerprint": "0" * 64},
        )
    pending_before = pending_migrations(engine)

    result = _upgrade_with_cli(database_url, tmp_path)
    with engine.connect() as connection:
        kept_filename = connection.scalar(
            select(JobRecord.filename).where(JobRecord.id == "job-before-upgrade")
        )

    assert pending_before
    assert result.returncode == 0, result.stderr
    assert _revision(engine) == HEAD
    assert kept_filename == "old.csv"
    assert _schema_differences(engine) == []
    engine.dispose()
