"""Bulk-load hospitals from a CSV file into a Hospital Directory, safely."""

from __future__ import annotations

__version__ = "0.1.0"
