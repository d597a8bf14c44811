"""The CLI's HTTP client on faults a real server cannot produce on demand, through MockTransport."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hospital_bulk.cli import http
from hospital_bulk.cli.http import ServiceClient, ServiceError

ACCEPTED = {
    "job_id": "job-1", "status": "pending", "progress_percentage": 0, "batch_id": "batch-1",
    "total_hospitals": 3, "status_url": "http://test/api/v1/hospitals/status/job-1",
}


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "UPLOAD_RETRY_DELAY", 0.0)


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "hospitals.csv"
    path.write_bytes(b"name,address\nA,1 Main St\n")
    return path


def test_upload_retries_connection_error_with_same_key(csv_file: Path) -> None:
    """The first attempt is dropped; the second carries the same key and the whole file."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        request.read()
        if len(requests) == 1:
            raise httpx.ConnectError("connection reset", request=request)
        return httpx.Response(202, json=ACCEPTED)

    retried: list[Exception] = []
    with ServiceClient("http://test", transport=httpx.MockTransport(handler)) as client:
        accepted, replayed = client.upload(csv_file, idempotency_key="key-1", on_retry=retried.append)

    assert accepted["job_id"] == "job-1"
    assert replayed is False
    assert len(requests) == 2
    assert len(retried) == 1
    assert [request.headers["Idempotency-Key"] for request in requests] == ["key-1", "key-1"]
    assert b"A,1 Main St" in requests[1].content


def test_upload_gives_up_after_one_retry(csv_file: Path) -> None:
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ReadError("connection closed", request=request)

    with (
        ServiceClient("http://test", transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ServiceError) as raised,
    ):
        client.upload(csv_file, idempotency_key="key-2")

    assert len(attempts) == 2
    assert raised.value.status_code is None
    assert "--key key-2" in (raised.value.fix or "")


def test_upload_does_not_retry_error_response(csv_file: Path) -> None:
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(
            409,
            json={"title": "Conflict", "status": 409, "detail": "Still being accepted.", "fix": "Wait."},
            headers={"content-type": "application/problem+json"},
        )

    with (
        ServiceClient("http://test", transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ServiceError) as raised,
    ):
        client.upload(csv_file, idempotency_key="key-3")

    assert len(attempts) == 1
    assert raised.value.detail == "Still being accepted."
    assert raised.value.fix == "Wait."
    assert raised.value.status_code == 409


def test_error_without_problem_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad gateway</html>")

    with (
        ServiceClient("http://test", transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ServiceError) as raised,
    ):
        client.list_jobs()

    assert "HTTP 502" in raised.value.detail
    assert "Bad gateway" in raised.value.detail


def test_api_key_sent_as_bearer_token() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json=[])

    with ServiceClient("http://test", api_key="secret", transport=httpx.MockTransport(handler)) as client:
        client.list_jobs()

    assert seen == ["Bearer secret"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param('attachment; filename="march-failed.csv"', "march-failed.csv", id="plain"),
        pytest.param('attachment; filename="../../etc/passwd"', "passwd", id="path-stripped"),
        pytest.param("attachment", "rows.csv", id="missing"),
    ],
)
def test_attachment_filename(header: str, expected: str) -> None:
    assert http._attachment_filename(header) == expected
