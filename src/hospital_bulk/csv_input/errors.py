"""The error raised when a whole CSV file cannot be loaded.

Problems that affect one row do not raise: they are listed in that row's `errors`.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["CsvFileError"]

STATUS_UNPROCESSABLE = 422
STATUS_TOO_LARGE = 413
STATUS_UNSUPPORTED_MEDIA_TYPE = 415


class CsvFileError(Exception):
    """Raised when a file cannot be loaded at all, so that no row of it is created.

    Attributes:
        filename: The name of the uploaded file, as given by the caller.
        title: A short summary for a heading, such as "Missing column".
        detail: A sentence naming the problem and the value that caused it.
        fix: A sentence saying what to change in the file.
        column: The header of the column concerned, if the problem is in one column.
        row: The data row concerned (1 is the first row after the header), if any.
        status_code: The HTTP status that fits: 415 when the content is not text,
            413 when the file has too many rows, 422 for every other problem.
    """

    def __init__(
        self,
        *,
        filename: str,
        title: str,
        detail: str,
        fix: str,
        column: str | None = None,
        row: int | None = None,
        status_code: int = STATUS_UNPROCESSABLE,
    ) -> None:
        self.filename = filename
        self.title = title
        self.detail = detail
        self.fix = fix
        self.column = column
        self.row = row
        self.status_code = status_code
        super().__init__(self._format_message())

    def __str__(self) -> str:
        return self._format_message()

    def __reduce__(self) -> tuple[Any, ...]:
        # The keyword-only constructor defeats the default pickling of exceptions,
        # which Celery and multiprocessing use to pass errors between processes.
        rebuild = functools.partial(
            CsvFileError,
            filename=self.filename,
            title=self.title,
            detail=self.detail,
            fix=self.fix,
            column=self.column,
            row=self.row,
            status_code=self.status_code,
        )
        return (rebuild, ())

    def _format_message(self) -> str:
        location = self.filename
        if self.row is not None:
            location += f", row {self.row}"
        if self.column is not None:
            location += f', column "{self.column}"'
        return f"{location}: {self.title}. {self.detail} {self.fix}"
