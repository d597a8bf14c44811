"""Prometheus metrics at /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hospital_bulk.api.deps import ServicesDep
from hospital_bulk.jobs.states import JobStatus
from hospital_bulk.metrics import JOBS_BY_STATUS

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
def read_metrics(services: ServicesDep) -> Response:
    """Metrics in the Prometheus text format; job counts are read from the job store."""
    counts = services.repository.count_jobs()
    for job_status in JobStatus:
        JOBS_BY_STATUS.labels(job_status.value).set(counts.get(job_status, 0))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
