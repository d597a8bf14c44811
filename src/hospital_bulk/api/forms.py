"""Form fields shared by the upload and validate endpoints."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import File, Form, UploadFile

from hospital_bulk.errors import UploadRejected

#: The uploaded CSV file.
CsvFile = Annotated[UploadFile, File(description="CSV with name, address and optional phone columns.")]
#: The optional explicit column mapping, read with `parse_column_mapping`.
ColumnMappingField = Annotated[
    str | None,
    Form(description='JSON object from field to header, e.g. {"name": "Facility Name"}.'),
]


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
