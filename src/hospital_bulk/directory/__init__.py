"""The client of the Hospital Directory API that the service loads hospitals into."""

from hospital_bulk.directory.client import DirectoryClient
from hospital_bulk.directory.outcomes import (
    Activated,
    ActivationOutcome,
    AlreadyActive,
    BatchNotFound,
    Created,
    CreateOutcome,
    NotActivated,
    Rejected,
    Unknown,
)

__all__ = [
    "Activated",
    "ActivationOutcome",
    "AlreadyActive",
    "BatchNotFound",
    "CreateOutcome",
    "Created",
    "DirectoryClient",
    "NotActivated",
    "Rejected",
    "Unknown",
]
