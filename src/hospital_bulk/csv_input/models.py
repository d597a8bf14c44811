"""The values that reading a CSV file returns: one report per file, one row per record."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CsvReport", "HospitalRow"]


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which makes
# building a row about three times slower, and a file builds one row per record.
@dataclass(slots=True)
class HospitalRow:
    """One data record of the file, as a hospital to create.

    Attributes:
        row: The 1-based number of the record after the header line, counting blank
            records (see the `hospital_bulk.csv_input` docstring).
        name: The name cell without surrounding whitespace.
        address: The address cell without surrounding whitespace, joined with the city,
            state and ZIP code cells when the file has them.
        phone: The phone cell without surrounding whitespace, or None if the file has no
            phone column or the cell is blank.
        source: The original cells of the record, keyed by `ColumnLayout.source_keys`
            (the header, made unique). Missing cells of a short row are "", and the extra
            cells of a long row are left out.
        errors: Messages about problems that stop this row from loading.
        warnings: Messages about problems that do not stop this row from loading.
    """

    row: int
    name: str
    address: str
    phone: str | None
    source: dict[str, str]
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class CsvReport:
    """The result of reading one file whose header line was understood.

    Attributes:
        filename: The name of the file, as given by the caller.
        encoding: The Python codec name the file was decoded with, such as "utf-8",
            "utf-8-sig", "utf-16" or "cp1252".
        delimiter: The delimiter between cells.
        columns: The header cells as found, stripped of surrounding whitespace.
        mapping: The source columns of each field: "name", "address" (every column the
            address is joined from) and "phone" (an empty list if the file has none).
        ignored_columns: The headers of the columns that no field uses.
        rows: Every data record that is not blank, in file order, valid or not.
        warnings: Messages about the whole file, such as ignored columns or a guessed
            encoding.
    """

    filename: str
    encoding: str
    delimiter: str
    columns: list[str]
    mapping: dict[str, list[str]]
    ignored_columns: list[str]
    rows: list[HospitalRow]
    warnings: list[str]

    @property
    def valid_rows(self) -> list[HospitalRow]:
        return [row for row in self.rows if row.is_valid]

    @property
    def invalid_rows(self) -> list[HospitalRow]:
        return [row for row in self.rows if not row.is_valid]
