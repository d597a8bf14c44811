"""Prometheus metrics, exported at /metrics by the API and by each worker's store readings."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DIRECTORY_REQUEST_SECONDS = Histogram(
    "hospital_bulk_directory_request_seconds",
    "Time for one request to the Hospital Directory, in seconds.",
    ["operation", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DIRECTORY_RETRIES = Counter(
    "hospital_bulk_directory_retries_total",
    "Directory requests sent again after a transient failure.",
    ["operation", "reason"],
)
ROWS_FINISHED = Counter(
    "hospital_bulk_rows_total",
    "Rows that reached an outcome in this process.",
    ["outcome"],
)
JOBS_FINISHED = Counter(
    "hospital_bulk_jobs_finished_total",
    "Jobs that ended in this process, by final status and activation.",
    ["status", "batch_activated"],
)
JOBS_BY_STATUS = Gauge(
    "hospital_bulk_jobs",
    "Jobs in the job store by status, read when /metrics is scraped.",
    ["status"],
)
