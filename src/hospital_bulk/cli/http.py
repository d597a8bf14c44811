"""The CLI's HTTP client for the service's API, which turns every failure into `ServiceError`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import httpx

#: Errors after which an upload may or may not have reached the service. Sending it again
#: with the same Idempotency-Key cannot create a second job.
CONNECTION_ERRORS = (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ConnectTimeout)

#: Seconds to wait before the one retry of an upload.
UPLOAD_RETRY_DELAY = 1.0

#: Rows per status request when the CLI reads all rows of a job.
STATUS_PAGE_SIZE = 10_000


class ServiceError(Exception):
    """Raised when a request fails: the service returned an error response, or could not be reached.

    Attributes:
        detail: A sentence saying what failed; the `detail` of a problem response.
        fix: A sentence saying what to do next, when known.
        status_code: The HTTP status of the response, or None when there was none.
        problem: The problem+json body of the response, when there was one.
    """

    def __init__(
        self,
        detail: str,
        *,
        fix: str | None = None,
        status_code: int | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        self.status_code = status_code
        self.problem = problem


class ServiceClient:
    """Calls the hospital-bulk API at `server`, sending `api_key` as a Bearer token when given.

    Args:
        server: The service's base URL, such as "http://127.0.0.1:8000".
        api_key: The API key, or None when the service runs without keys.
        timeout: Seconds to wait for a response; uploads wait ten times as long, because
            the service reads and stores the whole file before it responds.
        transport: An httpx transport to send requests through instead of the network.
    """

    def __init__(
        self,
        server: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.server,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def upload(
        self,
        path: Path,
        *,
        idempotency_key: str,
        column_mapping: str | None = None,
        on_retry: Callable[[Exception], None] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Upload a CSV file.

        On a connection error the upload is sent once more with the same key, after
        `on_retry` is called with the error.

        Returns:
            The accepted job, and True when the service replayed the job that an earlier
            upload with the same key created.
        """
        data = _read_file(path)
        request = self._http.build_request(
            "POST",
            "/api/v1/hospitals/bulk",
            files={"file": (path.name, data, "text/csv")},
            data=_mapping_form(column_mapping),
            headers={"Idempotency-Key": idempotency_key},
            timeout=self.timeout * 10,
        )
        try:
            response = self._send_upload(request)
        except CONNECTION_ERRORS as exc:
            if on_retry is not None:
                on_retry(exc)
            time.sleep(UPLOAD_RETRY_DELAY)
            try:
                response = self._send_upload(request)
            except CONNECTION_ERRORS as retry_exc:
                raise self._unreachable(
                    retry_exc,
                    fix=(
                        f"Check that the service is running at {self.server}, then run the same "
                        f"command with --key {idempotency_key} so that a retry cannot create a "
                        "second job."
                    ),
                ) from retry_exc
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return _json_body(response), replayed

    def _send_upload(self, request: httpx.Request) -> httpx.Response:
        # Connection errors pass through, so that the caller can retry them.
        try:
            return self._http.send(request)
        except CONNECTION_ERRORS:
            raise
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    def validate(self, path: Path, *, column_mapping: str | None = None) -> dict[str, Any]:
        """Return the service's validation report of a CSV file; nothing is created."""
        data = _read_file(path)
        return self._request(
            "POST",
            "/api/v1/hospitals/bulk/validate",
            files={"file": (path.name, data, "text/csv")},
            data=_mapping_form(column_mapping),
            timeout=self.timeout * 10,
        )

    def job_status(
        self, job_id: str, *, offset: int = 0, limit: int = 0, status: str | None = None
    ) -> dict[str, Any]:
        """Return a job's status with one page of its rows (none with the default `limit`)."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status is not None:
            params["status"] = status
        return self._request("GET", f"/api/v1/hospitals/status/{_segment(job_id)}", params=params)

    def job_rows(
        self, job_id: str, *, status: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Return a job's rows, all of them or the first `limit`, following the pages."""
        rows: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None and (limit is None or len(rows) < limit):
            page_size = (
                STATUS_PAGE_SIZE if limit is None else min(STATUS_PAGE_SIZE, limit - len(rows))
            )
            body = self.job_status(job_id, offset=offset, limit=page_size, status=status)
            page = body["result"]["hospitals"]
            rows.extend(page)
            # A short page is the last one: with a status filter, next_offset is computed
            # from the unfiltered row count.
            offset = (
                body["result"]["hospitals_page"]["next_offset"] if len(page) == page_size else None
            )
        return rows

    def full_job_status(self, job_id: str) -> dict[str, Any]:
        """Return a job's status with every row, in one body as the status endpoint shapes it."""
        body = self.job_status(job_id, limit=STATUS_PAGE_SIZE)
        next_offset = body["result"]["hospitals_page"]["next_offset"]
        if next_offset is not None:
            body["result"]["hospitals"] = self.job_rows(job_id)
            total = len(body["result"]["hospitals"])
            body["result"]["hospitals_page"].update(offset=0, limit=total, next_offset=None)
        return body

    def list_jobs(self, *, limit: int = 50) -> list[dict[str, Any]]:
        body = self._request("GET", "/api/v1/hospitals/jobs", params={"limit": limit})
        return list(body)

    def activate_batch(self, batch_id: str) -> dict[str, Any]:
        return self._request("PATCH", f"/api/v1/hospitals/bulk/batch/{_segment(batch_id)}/activate")

    def export_rows(self, job_id: str, destination: BinaryIO, *, statuses: list[str]) -> str:
        """Write a job's rows as CSV to `destination`; return the file name the service suggests."""
        params = {"status": ",".join(statuses)} if statuses else {}
        url = f"/api/v1/hospitals/status/{_segment(job_id)}/rows.csv"
        with self._stream("GET", url, params=params) as response:
            for chunk in response.iter_bytes():
                destination.write(chunk)
            return _attachment_filename(response.headers.get("content-disposition", ""))

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        return _json_body(response)

    @contextmanager
    def _stream(self, method: str, url: str, **kwargs: Any) -> Iterator[httpx.Response]:
        try:
            with self._http.stream(method, url, **kwargs) as response:
                if response.is_error:
                    response.read()
                    _json_body(response)
                yield response
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: Exception, *, fix: str | None = None) -> ServiceError:
        if isinstance(exc, httpx.TimeoutException):
            detail = (
                f"The request to {self.server} timed out after {self.timeout:g} s "
                f"({type(exc).__name__})."
            )
        else:
            detail = f"The request to {self.server} failed: {exc or type(exc).__name__}."
        return ServiceError(
            detail,
            fix=fix
            or (
                f"Check that the service is running at {self.server} (start it with "
                "`hospital-bulk serve`), or pass its address with --server or HOSPITAL_BULK_SERVER."
            ),
        )


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ServiceError(
            f"Cannot read {str(path)!r}: {exc.strerror or exc}.",
            fix="Check the file's path and permissions.",
        ) from exc


def _mapping_form(column_mapping: str | None) -> dict[str, str] | None:
    return {"column_mapping": column_mapping} if column_mapping else None


def _segment(value: str) -> str:
    # Ids go into the URL path, so a stray "/" or "?" must not change the route.
    from urllib.parse import quote

    return quote(value, safe="")


def _json_body(response: httpx.Response) -> Any:
    if response.is_error:
        raise _service_error(response)
    try:
        return response.json()
    except json.JSONDecodeError as exc:
        raise ServiceError(
            f"The service at {response.url} returned HTTP {response.status_code} with a body "
            f"that is not JSON: {response.text[:200]!r}.",
            fix="Check that --server points at a hospital-bulk service.",
            status_code=response.status_code,
        ) from exc


def _service_error(response: httpx.Response) -> ServiceError:
    problem: dict[str, Any] | None = None
    if "json" in response.headers.get("content-type", ""):
        try:
            parsed = response.json()
        except json.JSONDecodeError:
            parsed = None
        problem = parsed if isinstance(parsed, dict) else None
    if problem is not None and (problem.get("detail") or problem.get("title")):
        return ServiceError(
            str(problem.get("detail") or problem.get("title")),
            fix=problem.get("fix"),
            status_code=response.status_code,
            problem=problem,
        )
    return ServiceError(
        f"The service returned HTTP {response.status_code} {response.reason_phrase}: "
        f"{response.text[:200]!r}.",
        fix="Check that --server points at a hospital-bulk service.",
        status_code=response.status_code,
    )


def _attachment_filename(header: str) -> str:
    # Only the plain `filename="..."` form is read: the service always sends an ASCII one.
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename" and value:
            return Path(value.strip('"')).name
    return "rows.csv"
