"""Helpers shared by the tests: real servers on loopback, uploads, polling."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from typing import Any

import httpx
import uvicorn

SHARED = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared"
CMS_FILE = SHARED / "data" / "cms-hospital-general-information.csv"
TEST3 = (
    b"name,address,phone\nValid Hospital,123 Main St,555-0001\n"
    b",Invalid Missing Name,555-0002\nAnother Valid,789 Pine St,555-0003\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """Run an ASGI app under real uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def csv_rows(count: int, *, prefix: str = "Hospital") -> bytes:
    """A clean CSV with `count` distinct rows."""
    tag = uuid.uuid4().hex[:6]
    lines = [f"{prefix} {tag} {i},{i} Main St,555-{i:04d}" for i in range(count)]
    return ("name,address,phone\n" + "\n".join(lines) + "\n").encode()


def upload(
    api: str,
    data: bytes,
    *,
    key: str | None = None,
    filename: str = "hospitals.csv",
    content_type: str = "text/csv",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = dict(headers or {})
    if key is not None:
        all_headers["Idempotency-Key"] = key
    return httpx.post(
        f"{api}/api/v1/hospitals/bulk",
        files={"file": (filename, data, content_type)},
        headers=all_headers,
        timeout=120,
    )


def wait_for_job(
    api: str, job_id: str, *, timeout: float = 120, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{api}/api/v1/hospitals/status/{job_id}", headers=headers, timeout=30)
        body = response.json()
        if body.get("status") in ("completed", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(
        f"job {job_id} did not finish in {timeout} s; last status {body.get('status')}"
    )


def run_job(api: str, data: bytes, *, timeout: float = 120, **kwargs: Any) -> dict[str, Any]:
    response = upload(api, data, **kwargs)
    assert response.status_code == 202, response.text
    return wait_for_job(api, response.json()["job_id"], timeout=timeout)


def batch_listing(directory: str, batch_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{directory}/hospitals/batch/{batch_id}", timeout=30)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return list(response.json())


def set_faults(directory: str, **faults: Any) -> None:
    response = httpx.put(f"{directory}/_control/faults", json=faults, timeout=10)
    response.raise_for_status()


def activate(api: str, batch_id: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.patch(
        f"{api}/api/v1/hospitals/bulk/batch/{batch_id}/activate", headers=headers, timeout=120
    )
