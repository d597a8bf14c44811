"""Property tests against the running service: generated requests never get a 5xx.

schemathesis generates requests from the service's own OpenAPI schema and checks each
response against it; hypothesis generates CSV bytes for the upload.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from hospital_bulk.api.app import create_app
from tests.conftest import NO_FAULTS, fast_settings
from tests.support import ServerThread, set_faults


@pytest.fixture(scope="module")
def contract_service(
    directory_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    set_faults(directory_server, **NO_FAULTS)
    settings = fast_settings(tmp_path_factory.mktemp("contract"), directory_server)
    server = ServerThread(create_app(settings)).start()
    yield server.url
    server.stop()


def test_api_conforms_to_schema(contract_service: str) -> None:
    """No generated request gets a 5xx or a response outside the documented schema.

    The operations are driven through hypothesis directly, because schemathesis's pytest
    plugin does not load under pytest 9.
    """
    schema = schemathesis.openapi.from_url(f"{contract_service}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]

    assert len(operations) >= 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            # A request can match the schema and still carry a file that is not a CSV of
            # hospitals, so a 4xx for schema-valid data is expected here.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()


def _csv_cells() -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(
        st.sampled_from(["name,address,phone", "Hospital Name;Street;Tel", "name\taddress"])
    )
    delimiter = "\t"
    for candidate in (",", ";"):
        if candidate in header:
            delimiter = candidate
    rows = draw(st.lists(st.lists(_csv_cells(), min_size=0, max_size=4), max_size=8))
    lines = [header] + [
        delimiter.join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows
    ]
    text = "\r\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return text.encode(encoding, errors="replace")


@given(data=st.one_of(csv_files(), st.binary(max_size=300)))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_upload_answered_without_5xx(contract_service: str, data: bytes) -> None:
    """Any bytes get a 202 or a 4xx problem; an accepted file keeps every data row."""
    response = httpx.post(
        f"{contract_service}/api/v1/hospitals/bulk",
        files={"file": ("upload.csv", data, "text/csv")},
        timeout=60,
    )

    assert response.status_code < 500, response.text
    if response.status_code == 202:
        status = httpx.get(response.json()["status_url"], timeout=60).json()
        assert status["result"]["total_hospitals"] == response.json()["total_hospitals"]
        assert len(status["result"]["hospitals"]) == status["result"]["total_hospitals"]
    else:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"]


def test_oversized_upload_is_413(start_service) -> None:  # type: ignore[no-untyped-def]
    api = start_service(max_upload_bytes=1000)

    response = httpx.post(
        f"{api}/api/v1/hospitals/bulk",
        files={"file": ("big.csv", b"name,address\n" + b"A,B\n" * 1000, "text/csv")},
    )

    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


def test_oversized_chunked_upload_is_413(start_service) -> None:  # type: ignore[no-untyped-def]
    """A body without Content-Length is counted as it streams in."""
    api = start_service(max_upload_bytes=1000)
    boundary = "x" * 20
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        ).encode()
        + b"name,address\n"
        + b"A,B\n" * 1000
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = httpx.post(
        f"{api}/api/v1/hospitals/bulk",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 413
