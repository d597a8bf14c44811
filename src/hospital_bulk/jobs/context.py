"""The pipeline's resources: the store, the Directory client, settings and limits."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from hospital_bulk.config import Settings
from hospital_bulk.directory import DirectoryClient
from hospital_bulk.store.repository import JobRepository


class CreateSlots(Protocol):
    """Bounds the creates in flight; local to a process, or shared by all workers."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(self, *exc: object) -> None: ...


def worker_name() -> str:
    """Return a name unique to this process, used as the owner of leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class PipelineContext:
    settings: Settings
    repository: JobRepository
    client: DirectoryClient
    slots: CreateSlots
    worker: str = field(default_factory=worker_name)
