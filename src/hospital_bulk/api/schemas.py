"""Request and response bodies of the HTTP API; their field names are the public contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hospital_bulk.jobs.states import JobStatus, RowStatus


class JobAccepted(BaseModel):
    """Response to an upload: the job is stored and will run in the background."""

    job_id: str
    status: JobStatus
    progress_percentage: int = Field(ge=0, le=100)
    batch_id: str
    total_hospitals: int
    status_url: str


class HospitalResult(BaseModel):
    row: int = Field(description="1-based number of the data record after the header line.")
    hospital_id: int | None
    name: str
    status: RowStatus
    error_message: str | None
    warnings: list[str] | None = None


class HospitalsPage(BaseModel):
    offset: int
    limit: int
    total: int
    next_offset: int | None


class DirectoryCheckResult(BaseModel):
    """The Directory's own listing of the batch compared with the job's created rows."""

    missing_rows: list[int] = Field(description="Created rows the Directory no longer lists.")
    inactive_rows: list[int]
    message: str | None


class JobResult(BaseModel):
    batch_id: str
    total_hospitals: int
    processed_hospitals: int = Field(description="Rows created in the Directory.")
    failed_hospitals: int
    pending_hospitals: int
    processing_time_seconds: float | None
    batch_activated: bool
    activation_error: str | None = None
    hospitals: list[HospitalResult]
    hospitals_page: HospitalsPage
    directory_check: DirectoryCheckResult | None = Field(
        default=None, description="Present when the status was requested with verify=true."
    )


class JobStatusResponse(BaseModel):
    job_id: str
    status: JobStatus
    progress_percentage: int = Field(ge=0, le=100)
    filename: str
    created_at: datetime
    finished_at: datetime | None = Field(
        default=None, description="When the job ended; null while it runs."
    )
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    result: JobResult


class JobSummary(BaseModel):
    job_id: str
    status: JobStatus
    filename: str
    batch_id: str
    total_hospitals: int
    batch_activated: bool
    created_at: datetime


class ActivationResponse(BaseModel):
    batch_id: str
    job_id: str
    activated: bool
    activated_count: int
    message: str
    error_message: str | None = None


class Health(BaseModel):
    status: str


class ValidatedRow(BaseModel):
    """One data record as the upload would read it, with its problems."""

    row: int = Field(description="1-based number of the data record after the header line.")
    name: str
    address: str = Field(description="The address as it would be sent, joined from its columns.")
    phone: str | None
    errors: list[str] = Field(description="Problems that stop this row from loading.")
    warnings: list[str] = Field(description="Problems that do not stop this row from loading.")


class ValidationReport(BaseModel):
    """Findings of reading a file as an upload would, with nothing created."""

    filename: str
    encoding: str = Field(
        description='The codec the file was decoded with, such as "utf-8" or "cp1252".'
    )
    delimiter: str = Field(description="The delimiter between cells, found in the header line.")
    columns: list[str] = Field(description="The header cells, stripped of surrounding whitespace.")
    mapping: dict[str, list[str]] = Field(
        description="The columns each field is read from: name, address (every column it is "
        "joined from) and phone (empty when the file has no phone column)."
    )
    ignored_columns: list[str]
    warnings: list[str] = Field(
        description="Problems with the whole file that do not stop it from loading."
    )
    total_rows: int = Field(description="Data records that are not blank.")
    valid_rows: int = Field(description="Rows an upload would send to the Directory.")
    invalid_rows: int = Field(description="Rows an upload would mark failed without sending them.")
    rows_with_warnings: int
    rows: list[ValidatedRow] = Field(
        description="Every row with an error or a warning, in file order."
    )
    preview: list[ValidatedRow] = Field(description="The first rows of the file, valid or not.")


class ResubmitAccepted(BaseModel):
    """Response to a resubmission: the job and batch the failed rows now run in."""

    job_id: str
    batch_id: str
    same_batch: bool = Field(description="False when the rows went into a new batch.")
    resubmitted_rows: list[int]
    status_url: str
    message: str
