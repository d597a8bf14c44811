"""Index rows by job, chunk and status

A worker reads the pending rows of one chunk; without this index that read scans every
row of the job, once per chunk.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_rows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_rows_job_chunk_status", ["job_id", "chunk", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("job_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_job_rows_job_chunk_status")
