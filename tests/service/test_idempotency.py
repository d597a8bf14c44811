"""Idempotency-Key: a replay returns the first job; a reuse with another file is rejected."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from hospital_bulk.jobs.intake import Upload, fingerprint
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.repository import JobRepository, utcnow
from tests.support import batch_listing, csv_rows, upload, wait_for_job


def test_same_key_same_file_replays(api: str, directory: str) -> None:
    key, data = str(uuid.uuid4()), csv_rows(4)

    first = upload(api, data, key=key)
    second = upload(api, data, key=key)
    final = wait_for_job(api, first.json()["job_id"])

    assert first.status_code == 202
    assert second.status_code == 202
    assert second.json()["job_id"] == first.json()["job_id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(batch_listing(directory, final["result"]["batch_id"])) == 4


def test_same_key_other_file_is_422(api: str) -> None:
    key = str(uuid.uuid4())

    first = upload(api, csv_rows(2), key=key)
    second = upload(api, csv_rows(2), key=key)

    assert first.status_code == 202
    assert second.status_code == 422
    assert first.json()["job_id"] in second.json()["detail"]


def test_concurrent_uploads_one_key_one_job(api: str) -> None:
    """Requests racing with one key make one job; those that arrive mid-accept get 409."""
    key, data = str(uuid.uuid4()), csv_rows(2000)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: upload(api, data, key=key), range(10)))
    accepted = [response for response in responses if response.status_code == 202]
    replay = upload(api, data, key=key)

    assert {response.status_code for response in responses} <= {202, 409}
    assert accepted
    assert len({response.json()["job_id"] for response in accepted}) == 1
    assert replay.json()["job_id"] == accepted[0].json()["job_id"]
    assert len(httpx.get(f"{api}/api/v1/hospitals/jobs").json()) == 1


def test_key_in_use_is_409(api: str, tmp_path: Path) -> None:
    """A request whose key is reserved by a request still being accepted gets 409."""
    key, data = str(uuid.uuid4()), csv_rows(3)
    repository = JobRepository(create_store_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}"))
    repository.idempotency.reserve(
        owner="",
        key=key,
        fingerprint=fingerprint(Upload(filename="x.csv", file=io.BytesIO(data))),
        now=utcnow(),
    )

    racing = upload(api, data, key=key)

    assert racing.status_code == 409
    assert racing.headers["content-type"].startswith("application/problem+json")
    assert "still being accepted" in racing.json()["detail"]


def test_rejected_file_frees_its_key(api: str) -> None:
    """A key whose file was rejected can be sent again with the corrected file."""
    key = str(uuid.uuid4())

    bad = upload(api, b"nothing useful here", key=key)
    good = upload(api, csv_rows(1), key=key)

    assert bad.status_code == 422
    assert good.status_code == 202


def test_upload_without_key_makes_new_job(api: str) -> None:
    data = csv_rows(1)

    first = upload(api, data)
    second = upload(api, data)

    assert first.json()["job_id"] != second.json()["job_id"]


def test_required_key_missing_is_400(start_service) -> None:  # type: ignore[no-untyped-def]
    api = start_service(require_idempotency_key=True)

    response = upload(api, csv_rows(1))

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
