"""The seam between the API and whatever runs jobs: in this process, or on Celery workers."""

from __future__ import annotations

from typing import Protocol


class JobBackend(Protocol):
    """Runs the work of stored jobs. Only ids cross this seam, and the store keeps the rest."""

    async def start(self) -> None:
        """Begin running work, including work left unfinished by an earlier process."""

    async def stop(self) -> None:
        """Stop taking work; unfinished chunks are resumed by the next start."""

    async def enqueue_job(self, job_id: str) -> None:
        """Schedule every unfinished chunk of the job, or its final step if none is left."""
