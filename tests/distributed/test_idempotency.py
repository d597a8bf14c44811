"""Idempotency-Key across API processes: the PostgreSQL unique constraint makes one job."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select

from hospital_bulk.store.tables import JobRecord
from tests.distributed.conftest import Cluster
from tests.support import batch_listing, csv_rows, upload, wait_for_job

pytestmark = pytest.mark.distributed


def test_concurrent_uploads_one_key(cluster: Cluster) -> None:
    """50 uploads at once with one key, split over two API servers, make one job.

    While the first upload is being accepted, the others get 409; sent again, they get 202
    with the first upload's job.
    """
    cluster.start_worker("worker-a")
    apis = [cluster.start_api(), cluster.start_api()]
    key, data = str(uuid.uuid4()), csv_rows(5)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda i: upload(apis[i % 2], data, key=key), range(50)))
    accepted = [r for r in responses if r.status_code == 202]
    in_progress = [i for i, r in enumerate(responses) if r.status_code == 409]
    originals = [r for r in accepted if "idempotent-replayed" not in r.headers]
    job_ids = {r.json()["job_id"] for r in accepted}

    assert len(accepted) + len(in_progress) == 50, [
        (r.status_code, r.text[:200]) for r in responses if r.status_code not in (202, 409)
    ]
    assert len(originals) == 1
    assert len(job_ids) == 1

    resent = [upload(apis[i % 2], data, key=key) for i in in_progress]
    engine = create_engine(cluster.database_url)
    with engine.connect() as connection:
        stored_jobs = connection.scalar(select(func.count()).select_from(JobRecord))
    engine.dispose()
    final = wait_for_job(apis[0], job_ids.pop())

    assert all(r.status_code == 202 for r in resent)
    assert {r.json()["job_id"] for r in resent} <= {final["job_id"]}
    assert all(r.headers.get("idempotent-replayed") == "true" for r in resent)
    assert stored_jobs == 1
    assert final["status"] == "completed"
    assert len(batch_listing(cluster.directory, final["result"]["batch_id"])) == 5
