"""Accept an upload: read the CSV, check the limits, store the job, schedule its work."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from hospital_bulk.config import Settings
from hospital_bulk.csv_input import CsvReport, HospitalCsv, HospitalRow, open_hospital_csv
from hospital_bulk.csv_input.decoding import READ_SIZE
from hospital_bulk.errors import UploadRejected
from hospital_bulk.jobs.backend import JobBackend
from hospital_bulk.jobs.models import Job, NewJob, NewRow
from hospital_bulk.store.repository import JobRepository, utcnow


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file and the request's options.

    `file` is a seekable binary file that stays open until the upload is accepted, such
    as the spooled file of a multipart form. It is read in pieces, so a large upload is
    never held whole in memory.
    """

    filename: str
    file: BinaryIO
    owner: str = ""
    idempotency_key: str | None = None
    column_mapping: Mapping[str, str] | None = None


def fingerprint(upload: Upload) -> str:
    """SHA-256 of the file bytes and the options that change what the job does.

    It reads the file from its start and blocks, so call it off the event loop.
    """
    digest = hashlib.sha256()
    upload.file.seek(0)
    while chunk := upload.file.read(READ_SIZE):
        digest.update(chunk)
    options = {"column_mapping": dict(upload.column_mapping or {})}
    digest.update(json.dumps(options, sort_keys=True).encode())
    return digest.hexdigest()


async def accept_upload(
    upload: Upload, *, settings: Settings, repository: JobRepository, backend: JobBackend
) -> tuple[Job, bool]:
    """Store the upload as a job and schedule it.

    Returns:
        The job, and True when it is the replay of an earlier upload with the same key.

    Raises:
        CsvFileError: the file cannot be read as a CSV of hospitals.
        UploadRejected: a key is required but missing, or the file exceeds the batch cap.
        IdempotencyKeyReused: the key came with a different file or options before.
        IdempotencyKeyInProgress: the first request with the key is still being accepted.
    """
    if settings.require_idempotency_key and not upload.idempotency_key:
        raise UploadRejected(
            "This service requires an Idempotency-Key header on every upload.",
            fix="Send a unique value, such as a UUID, in the Idempotency-Key header.",
            status_code=400,
        )
    upload_fingerprint = await asyncio.to_thread(fingerprint, upload)
    if upload.idempotency_key is not None:
        reservation = await asyncio.to_thread(
            repository.idempotency.reserve,
            owner=upload.owner,
            key=upload.idempotency_key,
            fingerprint=upload_fingerprint,
            now=utcnow(),
        )
        if reservation.job_id is not None:
            return await asyncio.to_thread(repository.get_job, reservation.job_id), True
    try:
        stored = await _store_job(
            upload, upload_fingerprint, settings=settings, repository=repository
        )
    except BaseException:
        if upload.idempotency_key is not None:
            # The key stored nothing, so the client may send a corrected file with it.
            await asyncio.to_thread(
                repository.idempotency.release, owner=upload.owner, key=upload.idempotency_key
            )
        raise
    await backend.enqueue_job(stored.id)
    return stored, False


async def _store_job(
    upload: Upload, upload_fingerprint: str, *, settings: Settings, repository: JobRepository
) -> Job:
    hospital_csv = await asyncio.to_thread(
        open_hospital_csv,
        upload.file,
        filename=upload.filename,
        column_mapping=upload.column_mapping,
        max_rows=settings.max_rows,
        reject_duplicates=settings.reject_duplicate_rows,
    )
    job = NewJob(
        id=str(uuid.uuid4()),
        batch_id=str(uuid.uuid4()),
        filename=upload.filename,
        fingerprint=upload_fingerprint,
        owner=upload.owner,
        idempotency_key=upload.idempotency_key,
        file_report=file_report(hospital_csv),
    )
    # The rows are read while they are stored, in the transaction that creates the job,
    # so a file error or the batch cap found in the rows rolls back everything.
    rows = _rows_within_batch_cap(hospital_csv, settings.directory_batch_cap)
    stored, _ = await asyncio.to_thread(
        repository.create_job, job, rows, chunk_size=settings.chunk_size
    )
    return stored


def file_report(hospital_csv: HospitalCsv) -> dict[str, object]:
    """Summarise what reading the header line found, to keep with the job."""
    return {
        "encoding": hospital_csv.encoding,
        "delimiter": hospital_csv.delimiter,
        "columns": hospital_csv.columns,
        "mapping": hospital_csv.mapping,
        "ignored_columns": hospital_csv.ignored_columns,
        "warnings": list(hospital_csv.warnings),
    }


def check_batch_cap(report: CsvReport, cap: int | None) -> None:
    """Raise `UploadRejected` when the file has more valid rows than one batch may hold."""
    _reject_over_batch_cap(report.filename, len(report.valid_rows), cap)


def _rows_within_batch_cap(hospital_csv: HospitalCsv, cap: int | None) -> Iterator[NewRow]:
    """Yield the rows to store, then raise `UploadRejected` if the valid rows exceed `cap`.

    Once the cap is exceeded, the rest of the file is still read, so that the message
    counts every valid row and a file error further down raises instead, as it does in
    the validate endpoint. Those rows are not yielded, because the store rolls back anyway.
    """
    valid = 0
    for row in hospital_csv.rows():
        if row.is_valid:
            valid += 1
        if cap is None or valid <= cap:
            yield _new_row(row)
    _reject_over_batch_cap(hospital_csv.filename, valid, cap)


def _reject_over_batch_cap(filename: str, valid: int, cap: int | None) -> None:
    if cap is None or valid <= cap:
        return
    raise UploadRejected(
        f"The file {filename!r} has {valid} valid rows, but the Directory accepts at most "
        f"{cap} hospitals in one batch.",
        fix=f"Split the file into files of at most {cap} rows and upload each one.",
        extensions={"file": filename},
    )


def _new_row(row: HospitalRow) -> NewRow:
    return NewRow(
        row=row.row,
        name=row.name,
        address=row.address,
        phone=row.phone,
        error_message=" ".join(row.errors) if row.errors else None,
        warnings=tuple(row.warnings),
        source=row.source,
    )
