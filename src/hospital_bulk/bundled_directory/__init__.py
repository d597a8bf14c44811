"""A local copy of the Hospital Directory API, for offline runs, tests and benchmarks.

It serves the upstream paths, status codes and bodies, keeps hospitals in SQLite,
and adds ``/_control`` routes that change delays, caps, rate limits and injected
failures while it runs. ``create_directory_app`` builds the FastAPI app.
"""

from __future__ import annotations

from hospital_bulk.bundled_directory.app import create_directory_app
from hospital_bulk.bundled_directory.faults import (
    PROFILES,
    FaultSettings,
    FaultSettingsUpdate,
    settings_for_profile,
)

__all__ = [
    "PROFILES",
    "FaultSettings",
    "FaultSettingsUpdate",
    "create_directory_app",
    "settings_for_profile",
]
