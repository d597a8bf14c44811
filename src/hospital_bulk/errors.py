"""The service's exceptions.

    HospitalBulkError
    ├── JobNotFound            no job (or batch) with that id is visible to the caller
    ├── IdempotencyKeyReused   a key came back with a different request
    ├── IdempotencyKeyInProgress  the first request with a key is still being accepted
    ├── UploadRejected         the upload is not acceptable (size, key, batch cap)
    ├── ActivationFailed       the Directory did not activate a batch
    └── DirectoryUnavailable   the Directory did not answer a request that had to succeed

CSV problems are `hospital_bulk.csv_input.CsvFileError`. The API turns each of these into
an RFC 9457 problem response in one exception handler.
"""

from __future__ import annotations


class HospitalBulkError(Exception):
    """Root of the service's own errors."""

    status_code = 500
    title = "Internal error"

    def __init__(
        self, detail: str, *, fix: str | None = None, extensions: dict[str, object] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        #: Extra members of the problem response, such as the rows concerned.
        self.extensions = extensions or {}


class JobNotFound(HospitalBulkError):
    """Raised when a job or batch id is unknown, or belongs to another API key."""

    status_code = 404
    title = "Not found"


class IdempotencyKeyReused(HospitalBulkError):
    """Raised when an Idempotency-Key is sent again with a different file or options."""

    status_code = 422
    title = "Idempotency-Key reused with a different request"


class IdempotencyKeyInProgress(HospitalBulkError):
    """Raised when a request arrives while the first request with its key is still accepted."""

    status_code = 409
    title = "Idempotency-Key in use"


class UploadRejected(HospitalBulkError):
    """Raised when an upload breaks a limit that is not about the CSV's content."""

    title = "Upload rejected"

    def __init__(
        self,
        detail: str,
        *,
        fix: str | None = None,
        status_code: int = 422,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail, fix=fix, extensions=extensions)
        self.status_code = status_code


class ActivationFailed(HospitalBulkError):
    """Raised when the Directory did not activate a batch; nothing was rolled back."""

    status_code = 502
    title = "Activation failed"

    def __init__(
        self,
        detail: str,
        *,
        fix: str | None = None,
        status_code: int = 502,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail, fix=fix, extensions=extensions)
        self.status_code = status_code


class DirectoryUnavailable(HospitalBulkError):
    """Raised when a Directory read, such as a batch listing, failed after retries."""

    status_code = 502
    title = "Directory unavailable"
