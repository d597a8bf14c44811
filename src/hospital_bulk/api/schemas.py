"""Request and response bodies of the HTTP API; their field names are the public contract."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hospital_bulk.jobs.states import JobStatus, RowStatus


class JobAccepted(BaseModel):
    """The answer to an upload: the job was stored and will run in the background."""

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


class JobStatusResponse(BaseModel):
    job_id: str
    status: JobStatus
    progress_percentage: int = Field(ge=0, le=100)
    filename: str
    created_at: datetime
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
