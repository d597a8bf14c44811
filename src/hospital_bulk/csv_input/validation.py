"""Check the cells of one data row and word the problems found.

Every message has the form 'Row N, column "HEADER": problem. Fix.', where HEADER is
the header of the column as found in the file.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PHONE_LENGTH",
    "MIN_PHONE_DIGITS",
    "check_address",
    "check_name",
    "check_phone",
    "check_row_width",
    "format_row_message",
]

# Maximum lengths in characters, counted after stripping surrounding whitespace. The
# address limit applies to the address joined from all its columns.
MAX_NAME_LENGTH = 255
MAX_ADDRESS_LENGTH = 500
MAX_PHONE_LENGTH = 40
MIN_PHONE_DIGITS = 3

# Digits with spaces and + - ( ) . / between them, then an optional extension such as
# "x123", "ext. 123", "extension 123" or "#123". Country and area formats are not checked.
_PHONE_PATTERN = re.compile(
    r"[0-9 \t\u00a0+\-()./]+(?:(?:x|ext\.?|extension|#)[ \t\u00a0]*[0-9]+)?",
    re.IGNORECASE,
)
_MIN_PHONE_DIGITS_PATTERN = re.compile(rf"(?:[^0-9]*[0-9]){{{MIN_PHONE_DIGITS}}}")
# C0 and C1 control characters other than tab, line feed and carriage return.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MAX_QUOTED_VALUE_LENGTH = 60


def format_row_message(row: int, column: str, problem: str, fix: str) -> str:
    """Return 'Row N, column "COLUMN": problem. Fix.' from a problem and a fix sentence."""
    return f'Row {row}, column "{column}": {problem} {fix}'


def check_row_width(
    row: int, cell_count: int, headers: tuple[str, ...], *, delimiter: str, extra_cells_blank: bool
) -> list[str]:
    """Return an error when the row has fewer cells than the header, or extra non-blank cells."""
    width = len(headers)
    if cell_count < width:
        first_missing = headers[cell_count] or f"column {cell_count + 1}"
        return [
            format_row_message(
                row,
                first_missing,
                f"the row has {_count(cell_count, 'cell')}, but the header line has "
                f"{width} columns.",
                "Add the missing cells (an empty cell for a missing value), and put cells "
                "that contain line breaks in double quotes.",
            )
        ]
    if cell_count > width and not extra_cells_blank:
        return [
            f"Row {row}, column {width + 1} (no header): the row has {cell_count} cells, but "
            f"the header line has {width} columns. Put cells that contain "
            f"{_describe_delimiter(delimiter)} in double quotes, or delete the cells after "
            f"column {width}."
        ]
    return []


def check_name(row: int, column: str, name: str) -> list[str]:
    if not name:
        return [
            format_row_message(row, column, "the value is empty.", "Fill in the hospital name.")
        ]

    errors = _check_length(row, column, name, MAX_NAME_LENGTH, "the hospital name")
    if "\n" in name or "\r" in name:
        errors.append(
            format_row_message(
                row, column, "the value contains a line break.", "Write the name on one line."
            )
        )
    errors.extend(_check_control_characters(row, column, name))
    return errors


def check_address(row: int, headers: tuple[str, ...], cells: list[str], address: str) -> list[str]:
    """Check the address joined from `cells`, the stripped cells of the address parts.

    `headers` and `cells` follow ADDRESS_PARTS (street first), with "" for a part that
    the file has no column for. They may stop after the street when no other part exists.
    """
    street_column, street = headers[0], cells[0]
    if not street:
        return [
            format_row_message(
                row, street_column, "the value is empty.", "Fill in the street address."
            )
        ]

    errors = []
    if len(address) > MAX_ADDRESS_LENGTH:
        used_headers = [header for header in headers if header]
        joined_from = ""
        if len(used_headers) > 1:
            joined_from = f" (joined from {', '.join(map(_quote, used_headers))})"
        errors.append(
            format_row_message(
                row,
                street_column,
                f"the address has {len(address)} characters{joined_from}, more than the "
                f"maximum of {MAX_ADDRESS_LENGTH}.",
                "Shorten the address.",
            )
        )
    # The separators joined in are not control characters, so one search finds them all.
    if _CONTROL_CHARACTER.search(address):
        for column, cell in zip(headers, cells, strict=True):
            errors.extend(_check_control_characters(row, column, cell))
    return errors


def check_phone(row: int, column: str, phone: str) -> list[str]:
    """Check a non-empty phone cell (an empty one is allowed and never checked)."""
    if len(phone) > MAX_PHONE_LENGTH:
        return _check_length(row, column, phone, MAX_PHONE_LENGTH, "the phone number")

    if _PHONE_PATTERN.fullmatch(phone) is None:
        return [
            format_row_message(
                row,
                column,
                f"the value {_quote(phone)} is not a phone number.",
                "Use digits, spaces and the characters + - ( ) . /, with an extension "
                'written as "x123" or "ext. 123".',
            )
        ]

    if _MIN_PHONE_DIGITS_PATTERN.match(phone) is None:
        digit_count = sum(map(str.isdigit, phone))
        return [
            format_row_message(
                row,
                column,
                f"the value {_quote(phone)} has {_count(digit_count, 'digit')}, fewer than "
                f"the minimum of {MIN_PHONE_DIGITS}.",
                "Write the full phone number.",
            )
        ]
    return []


def _check_length(row: int, column: str, value: str, maximum: int, description: str) -> list[str]:
    if len(value) <= maximum:
        return []
    return [
        format_row_message(
            row,
            column,
            f"the value has {len(value)} characters, more than the maximum of {maximum}.",
            f"Shorten {description}.",
        )
    ]


def _check_control_characters(row: int, column: str, value: str) -> list[str]:
    match = _CONTROL_CHARACTER.search(value)
    if match is None:
        return []
    return [
        format_row_message(
            row,
            column,
            f"the value contains the control character U+{ord(match.group()):04X} at "
            f"position {match.start() + 1}.",
            "Delete it.",
        )
    ]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _describe_delimiter(delimiter: str) -> str:
    return "a tab" if delimiter == "\t" else f'"{delimiter}"'


def _quote(value: str) -> str:
    if len(value) > _MAX_QUOTED_VALUE_LENGTH:
        value = value[: _MAX_QUOTED_VALUE_LENGTH - 3] + "..."
    return f'"{value}"'
