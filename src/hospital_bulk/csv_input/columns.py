"""Match the header line of a CSV file to the hospital fields.

The name and address fields are required and phone is optional. The address may be
split over more columns (address line 2, city, state, ZIP code), which are joined into
one address. A header matches an alias after normalisation: case-folded, "#" read as
"number", and every character that is not a letter or digit removed. So "Phone_No.",
"PHONE NO" and "phone no" are the same header, and "Phone #" is "phone number".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hospital_bulk.csv_input.errors import CsvFileError

__all__ = [
    "ADDRESS_PARTS",
    "FIELD_ALIASES",
    "MAPPABLE_FIELDS",
    "ColumnLayout",
    "count_known_columns",
    "normalize_header",
    "resolve_columns",
]

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "hospital name",
        "hospital",
        "facility name",
        "facility",
        "provider name",
        "organization name",
        "organisation name",
        "institution name",
    ),
    "address": (
        "address",
        "street address",
        "address line 1",
        "address 1",
        "street",
        "street 1",
        "street line 1",
        "addr",
        "physical address",
        "hospital address",
        "facility address",
        "provider address",
    ),
    "address_line_2": ("address line 2", "address 2", "street 2", "street line 2", "addr 2"),
    "city": ("city", "town", "city/town"),
    "state": ("state", "state code", "province", "state/province"),
    "zip": (
        "zip",
        "zip code",
        "zipcode",
        "postal code",
        "postcode",
        "post code",
        "zip/postal code",
    ),
    "phone": (
        "phone",
        "phone number",
        "phone no",
        "telephone",
        "telephone number",
        "tel",
        "tel no",
        "contact phone",
        "main phone",
        "hospital phone",
        "facility phone",
    ),
}

# Fields that a column mapping may name, in the order of the composed address.
MAPPABLE_FIELDS = ("name", "address", "address_line_2", "city", "state", "zip", "phone")
ADDRESS_PARTS = ("address", "address_line_2", "city", "state", "zip")
REQUIRED_FIELDS = ("name", "address")
FIELD_DESCRIPTIONS = {
    "name": "the hospital name",
    "address": "the street address",
    "phone": "the phone number",
}

# Limits that keep messages about a malformed header line readable.
_MAX_LISTED_HEADERS = 30
_MAX_LISTED_HEADER_LENGTH = 60


def normalize_header(header: str) -> str:
    """Return the form of `header` that aliases are compared in (see the module docstring)."""
    folded = header.casefold().replace("#", "number")
    return "".join(character for character in folded if character.isalnum())


_ALIAS_TO_FIELD = {
    normalize_header(alias): field for field, aliases in FIELD_ALIASES.items() for alias in aliases
}


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    """The column positions of the fields in one file.

    Attributes:
        headers: The header cells as found, stripped of surrounding whitespace.
        field_indexes: The 0-based column index of each field that the file has.
        ignored_indexes: The indexes of the columns that no field uses.
        source_keys: One unique key per column for `HospitalRow.source`. It is the
            header, except that an empty header becomes "column N" (N counted from 1)
            and a repeated header gets " (2)", " (3)" and so on.
    """

    headers: tuple[str, ...]
    field_indexes: dict[str, int]
    ignored_indexes: tuple[int, ...]
    source_keys: tuple[str, ...]

    def header_of(self, field: str) -> str:
        return self.headers[self.field_indexes[field]]

    def mapping(self) -> dict[str, list[str]]:
        """Return the source headers of name, address (all its parts) and phone."""
        address_parts = [part for part in ADDRESS_PARTS if part in self.field_indexes]
        phone = [self.header_of("phone")] if "phone" in self.field_indexes else []
        return {
            "name": [self.header_of("name")],
            "address": [self.header_of(part) for part in address_parts],
            "phone": phone,
        }

    def ignored_headers(self) -> list[str]:
        return [self.headers[index] for index in self.ignored_indexes]

    def warnings(self) -> list[str]:
        """Return the file-level warnings about ignored and absent columns."""
        warnings = []
        if self.ignored_indexes:
            labels = [_describe_column(self.headers, index) for index in self.ignored_indexes]
            ignored = (
                "1 column that is not a hospital field"
                if len(labels) == 1
                else f"{len(labels)} columns that are not hospital fields"
            )
            warnings.append(
                f"Ignored {ignored}: {', '.join(labels)}. If one of them contains the hospital "
                'name, address or phone, rename it to "name", "address" or "phone".'
            )
        if "phone" not in self.field_indexes:
            warnings.append(
                "The file has no phone column, so the hospitals are loaded without phone "
                'numbers. If a column contains phone numbers, rename it to "phone".'
            )
        return warnings


def count_known_columns(
    headers: Iterable[str], column_mapping: Mapping[str, str] | None = None
) -> int:
    """Count the headers that match an alias or a column named in `column_mapping`."""
    mapped = set(column_mapping.values()) if column_mapping else set()
    mapped_normalized = {normalize_header(header) for header in mapped}
    count = 0
    for header in headers:
        stripped = header.strip()
        normalized = normalize_header(stripped)
        if stripped in mapped or normalized in mapped_normalized or normalized in _ALIAS_TO_FIELD:
            count += 1
    return count


def resolve_columns(
    headers: list[str], *, filename: str, column_mapping: Mapping[str, str] | None = None
) -> ColumnLayout:
    """Find the column of each field, from `column_mapping` first and then from aliases.

    Raises:
        CsvFileError: When the mapping names an unknown field or a missing column, when
            two columns match one field, or when the name or address column is missing.
    """
    stripped = tuple(header.strip() for header in headers)
    field_indexes = _find_mapped_columns(stripped, column_mapping or {}, filename=filename)
    detected = _detect_columns(stripped, field_indexes, filename=filename)
    field_indexes.update(detected)
    _require_fields(stripped, field_indexes, filename=filename)

    used = set(field_indexes.values())
    ignored = tuple(index for index in range(len(stripped)) if index not in used)
    return ColumnLayout(
        headers=stripped,
        field_indexes=field_indexes,
        ignored_indexes=ignored,
        source_keys=_unique_keys(stripped),
    )


def _find_mapped_columns(
    headers: tuple[str, ...], column_mapping: Mapping[str, str], *, filename: str
) -> dict[str, int]:
    field_indexes: dict[str, int] = {}
    field_of_index: dict[int, str] = {}
    for field, source in column_mapping.items():
        if field not in MAPPABLE_FIELDS:
            raise CsvFileError(
                filename=filename,
                title="Unknown field in column mapping",
                detail=f'The column mapping names the field "{field}", which does not exist.',
                fix=f"Use only these fields: {_quote_all(MAPPABLE_FIELDS)}.",
            )

        index = _find_mapped_column(headers, field, source, filename=filename)
        if index in field_of_index:
            raise CsvFileError(
                filename=filename,
                title="Column mapped twice",
                detail=(
                    f'The column mapping maps both "{field_of_index[index]}" and "{field}" '
                    f'to the column "{headers[index]}".'
                ),
                fix="Map each field to a different column.",
                column=headers[index],
            )
        field_indexes[field] = index
        field_of_index[index] = field
    return field_indexes


def _find_mapped_column(headers: tuple[str, ...], field: str, source: str, *, filename: str) -> int:
    # An exact match wins, so that a mapping can pick one of two similar headers.
    exact = [index for index, header in enumerate(headers) if header == source.strip()]
    if not exact:
        normalized_source = normalize_header(source)
        exact = [
            index
            for index, header in enumerate(headers)
            if normalize_header(header) == normalized_source
        ]
    if len(exact) > 1:
        raise _duplicate_column_error(headers, exact[0], exact[1], field, filename=filename)
    if exact:
        return exact[0]

    raise CsvFileError(
        filename=filename,
        title="Mapped column not found",
        detail=(
            f'The column mapping maps the field "{field}" to the column "{source}", but the '
            f"header line has no such column. Its columns are: {_list_headers(headers)}."
        ),
        fix=f'Map "{field}" to one of the columns of the file, or add a column "{source}".',
        column=source,
    )


def _detect_columns(
    headers: tuple[str, ...], mapped: dict[str, int], *, filename: str
) -> dict[str, int]:
    mapped_indexes = set(mapped.values())
    detected: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = _ALIAS_TO_FIELD.get(normalize_header(header))
        if field is None or field in mapped or index in mapped_indexes:
            continue
        if field in detected:
            raise _duplicate_column_error(headers, detected[field], index, field, filename=filename)
        detected[field] = index
    return detected


def _duplicate_column_error(
    headers: tuple[str, ...], first: int, second: int, field: str, *, filename: str
) -> CsvFileError:
    if headers[first] == headers[second]:
        detail = f'Columns {first + 1} and {second + 1} are both named "{headers[first]}".'
    else:
        detail = (
            f'Columns {first + 1} ("{headers[first]}") and {second + 1} ("{headers[second]}") '
            f'both match the field "{field}".'
        )
    return CsvFileError(
        filename=filename,
        title="Duplicate column",
        detail=detail,
        fix=f'Delete or rename one of the two columns, so that one column holds "{field}".',
        column=headers[second],
    )


def _require_fields(
    headers: tuple[str, ...], field_indexes: dict[str, int], *, filename: str
) -> None:
    missing = [field for field in REQUIRED_FIELDS if field not in field_indexes]
    if not missing:
        return

    if not field_indexes:
        raise CsvFileError(
            filename=filename,
            title="No header line",
            detail=(
                f"The first line ({_list_headers(headers)}) has no column named like a "
                "hospital name, address or phone number, so it is not a header line."
            ),
            fix='Add the header line "name,address,phone" above the first hospital.',
        )

    descriptions = " or ".join(FIELD_DESCRIPTIONS[field] for field in missing)
    accepted = " ".join(
        f'For {FIELD_DESCRIPTIONS[field]}, name the column "{field}" (also accepted: '
        f"{_quote_all(FIELD_ALIASES[field][1:])})."
        for field in missing
    )
    raise CsvFileError(
        filename=filename,
        title="Missing column",
        detail=f"The header line has no column for {descriptions}. Its columns are: "
        f"{_list_headers(headers)}.",
        fix=accepted
        + ' Or keep the headers and send a column mapping, such as {"name": "Title"} in the '
        "column_mapping form field (--column-mapping in the CLI).",
    )


def _unique_keys(headers: tuple[str, ...]) -> tuple[str, ...]:
    keys: list[str] = []
    used: set[str] = set()
    for index, header in enumerate(headers):
        base = header or f"column {index + 1}"
        key = base
        occurrence = 1
        while key in used:
            occurrence += 1
            key = f"{base} ({occurrence})"
        keys.append(key)
        used.add(key)
    return tuple(keys)


def _describe_column(headers: tuple[str, ...], index: int) -> str:
    header = headers[index]
    return f'"{header}"' if header else f"column {index + 1} (no header)"


def _list_headers(headers: tuple[str, ...]) -> str:
    listed_headers = [_shorten(header) for header in headers[:_MAX_LISTED_HEADERS]]
    listed = ", ".join(f'"{header}"' for header in listed_headers)
    hidden = len(headers) - len(listed_headers)
    return f"{listed} and {hidden} more" if hidden else listed


def _shorten(text: str) -> str:
    if len(text) <= _MAX_LISTED_HEADER_LENGTH:
        return text
    return text[: _MAX_LISTED_HEADER_LENGTH - 3] + "..."


def _quote_all(values: Iterable[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)
