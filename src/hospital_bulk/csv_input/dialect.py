"""Detect the delimiter of a CSV file from its header line, and parse its records.

Records follow RFC 4180 as Excel writes it: cells in double quotes may contain the
delimiter, line breaks and doubled quotes (""). Lines may end in CRLF, LF or CR.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping

from hospital_bulk.csv_input.columns import count_known_columns

__all__ = ["DELIMITERS", "detect_delimiter", "find_header_line", "parse_records"]

# In order of preference when two delimiters split the header equally well.
DELIMITERS = (",", ";", "\t", "|")

# The csv module rejects cells longer than 131,072 characters by default. Exports can have
# longer cells (long notes, map geometry), and the upload's size limit bounds a cell
# anyway. The limit is global to the process, so it is only ever raised, to 2**31 - 1,
# the largest value that fits the C long of every platform.
_FIELD_SIZE_LIMIT = 2**31 - 1
if csv.field_size_limit() < _FIELD_SIZE_LIMIT:
    csv.field_size_limit(_FIELD_SIZE_LIMIT)

_BLANK_LINE_CHARACTERS = "".join(DELIMITERS) + '"'


def find_header_line(lines: Iterable[str]) -> tuple[int, str] | None:
    """Return the index and text of the first line that is not blank, or None.

    A line is blank when it contains only whitespace, quotes and delimiters, as the empty
    rows that spreadsheets export do (",,,"). `lines` keep their line breaks, as
    `CsvText.lines()` yields them; the returned text has none.
    """
    for index, line in enumerate(lines):
        line = line.rstrip("\r\n")
        if not _is_blank_line(line):
            return index, line
    return None


def detect_delimiter(header_line: str, column_mapping: Mapping[str, str] | None = None) -> str:
    """Return the delimiter that splits `header_line` into the most known columns.

    Known columns are those that match a field alias or a column of `column_mapping`.
    Ties go to the delimiter with the most columns, then to the earlier one in DELIMITERS.
    """
    best_delimiter = DELIMITERS[0]
    best_score = (-1, -1)
    for delimiter in DELIMITERS:
        headers = _split_line(header_line, delimiter)
        score = (count_known_columns(headers, column_mapping), len(headers))
        if score > best_score:
            best_delimiter = delimiter
            best_score = score
    return best_delimiter


def parse_records(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    """Return an iterator over the records of `lines`, each a list of cells.

    `lines` keep their line breaks, so that quoted cells keep theirs.

    The iterator raises csv.Error on an unclosed quote or on text after a closing quote
    (strict=True). Without strict, the csv module would merge the rest of the file into
    the unclosed cell, or drop the quotes, without an error.
    """
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)


def _split_line(line: str, delimiter: str) -> list[str]:
    # Not strict: a header cut at a line break inside quotes still counts its columns.
    return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])


def _is_blank_line(line: str) -> bool:
    return all(character.isspace() or character in _BLANK_LINE_CHARACTERS for character in line)
