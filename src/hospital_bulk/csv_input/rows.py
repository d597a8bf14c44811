"""Turn the CSV records of one file into `HospitalRow` values, with their problems."""

from __future__ import annotations

from hospital_bulk.csv_input.columns import ADDRESS_PARTS, ColumnLayout
from hospital_bulk.csv_input.duplicates import DuplicateTracker
from hospital_bulk.csv_input.models import HospitalRow
from hospital_bulk.csv_input.validation import (
    check_address,
    check_name,
    check_phone,
    check_row_width,
)

__all__ = ["RowBuilder", "compose_address", "is_blank_record"]


def is_blank_record(record: list[str]) -> bool:
    """Return whether every cell is empty or whitespace, as in "" or ",,,"."""
    # One join is faster than a generator over the cells, and this runs for every record.
    return not "".join(record).strip()


def compose_address(street: str, line_2: str, city: str, state: str, zip_code: str) -> str:
    """Join the address parts as "street, line 2, city, state zip", skipping empty parts."""
    state_and_zip = f"{state} {zip_code}" if state and zip_code else state or zip_code
    return ", ".join([part for part in (street, line_2, city, state_and_zip) if part])


class RowBuilder:
    """Builds the rows of one file, checking each and marking repeats of earlier rows."""

    __slots__ = (
        "_address_has_parts",
        "_address_headers",
        "_address_indexes",
        "_delimiter",
        "_duplicate_columns",
        "_duplicates",
        "_layout",
        "_name_index",
        "_phone_index",
        "_reject_duplicates",
        "_street_index",
        "_width",
    )

    def __init__(self, layout: ColumnLayout, *, delimiter: str, reject_duplicates: bool) -> None:
        indexes = layout.field_indexes
        headers = layout.headers
        self._layout = layout
        self._width = len(headers)
        self._delimiter = delimiter
        self._reject_duplicates = reject_duplicates
        self._duplicates = DuplicateTracker()
        self._name_index = indexes["name"]
        self._phone_index = indexes.get("phone")
        self._street_index = indexes["address"]
        # One entry per part of ADDRESS_PARTS, None (and "") where the file has no column.
        self._address_indexes = tuple(indexes.get(part) for part in ADDRESS_PARTS)
        self._address_has_parts = any(index is not None for index in self._address_indexes[1:])
        self._address_headers = tuple(
            "" if index is None else headers[index] for index in self._address_indexes
        )
        if not self._address_has_parts:
            self._address_headers = self._address_headers[:1]
        duplicate_columns = [headers[self._name_index], *filter(None, self._address_headers)]
        if self._phone_index is not None:
            duplicate_columns.append(headers[self._phone_index])
        self._duplicate_columns = ", ".join(f'"{header}"' for header in duplicate_columns)

    def build(self, row: int, record: list[str]) -> HospitalRow:
        """Build the row numbered `row` from the cells of a record that is not blank."""
        cell_count = len(record)
        cells = record
        errors: list[str] = []
        if cell_count != self._width:
            errors = self._check_width(row, record)
            if cell_count < self._width:
                cells = record + [""] * (self._width - cell_count)

        # The width check alone reports the cells that a short row lacks.
        name = cells[self._name_index].strip()
        if self._name_index < cell_count:
            errors.extend(check_name(row, self._layout.headers[self._name_index], name))

        if self._address_has_parts:
            address_cells = [
                "" if index is None else cells[index].strip() for index in self._address_indexes
            ]
            address = compose_address(*address_cells)
        else:
            address = cells[self._street_index].strip()
            address_cells = [address]
        if self._street_index < cell_count:
            errors.extend(check_address(row, self._address_headers, address_cells, address))

        phone = None
        if self._phone_index is not None:
            phone = cells[self._phone_index].strip() or None
        if phone is not None:
            errors.extend(check_phone(row, self._layout.headers[self._phone_index], phone))

        warnings: list[str] = []
        # Rows without a name or address are invalid already, so they are not compared.
        repeated = None
        if name and address:
            repeated = self._duplicates.find_first(row, name, address, phone)
        if repeated is not None and self._reject_duplicates:
            errors.append(self._duplicate_message(row, repeated))
        elif repeated is not None:
            warnings.append(self._duplicate_message(row, repeated))

        return HospitalRow(
            row=row,
            name=name,
            address=address,
            phone=phone,
            source=dict(zip(self._layout.source_keys, cells, strict=False)),
            errors=tuple(errors),
            warnings=tuple(warnings),
        )

    def _check_width(self, row: int, record: list[str]) -> list[str]:
        return check_row_width(
            row,
            len(record),
            self._layout.headers,
            delimiter=self._delimiter,
            extra_cells_blank=is_blank_record(record[self._width :]),
        )

    def _duplicate_message(self, row: int, first: int) -> str:
        return (
            f"Row {row}, columns {self._duplicate_columns}: the row repeats row {first} (the "
            "same name, address and phone). Delete one of the two rows, or make them differ "
            "if they are different hospitals."
        )
