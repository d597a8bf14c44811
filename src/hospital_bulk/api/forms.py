"""Form fields shared by the upload and validate endpoints."""

from __future__ import annotations

import json

from hospital_bulk.errors import UploadRejected


def parse_column_mapping(raw: str | None) -> dict[str, str] | None:
    """Read the `column_mapping` form field: a JSON object from field name to header."""
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UploadRejected(
            f"The column_mapping field is not valid JSON: {exc.msg} at position {exc.pos}.",
            fix='Send a JSON object such as {"name": "Facility Name", "phone": "Tel"}.',
        ) from None
    if not isinstance(mapping, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
    ):
        raise UploadRejected(
            "The column_mapping field must be a JSON object of strings.",
            fix='Send a JSON object such as {"name": "Facility Name", "phone": "Tel"}.',
        )
    return mapping
