"""Read and check an uploaded CSV file of hospitals, without creating anything.

`read_hospital_csv` decodes the bytes or the binary file, detects the delimiter and the
columns, and returns a `CsvReport` whose rows are `HospitalRow` values, each valid or
carrying errors. A file that cannot be loaded at all raises `CsvFileError`.

`open_hospital_csv` does the same in two steps, for callers that store rows as they come:
it returns a `HospitalCsv` once the header line is resolved, and `HospitalCsv.rows()`
reads the file again and yields the rows one at a time, without holding its text.
`read_hospital_csv` collects those rows into its report.

Row numbers: `row` is the 1-based number of the record after the header line, counting
blank records, which are skipped. Row 1 is the first record after the header, so row N
is spreadsheet line N + 1 when no cell contains a line break and no blank line comes
before the header.

A file with a header line but no data rows is rejected ("No data rows", status 422),
because an upload that creates nothing is almost always the wrong file.
"""

from hospital_bulk.csv_input.errors import CsvFileError
from hospital_bulk.csv_input.models import CsvReport, HospitalRow
from hospital_bulk.csv_input.reader import HospitalCsv, open_hospital_csv, read_hospital_csv
from hospital_bulk.csv_input.validation import (
    MAX_ADDRESS_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PHONE_LENGTH,
)

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PHONE_LENGTH",
    "CsvFileError",
    "CsvReport",
    "HospitalCsv",
    "HospitalRow",
    "open_hospital_csv",
    "read_hospital_csv",
]
