"""The real CMS Hospital General Information file loads as it is."""

from __future__ import annotations

from tests.support import CMS_FILE, batch_listing, run_job


def test_cms_file_loads_and_activates(start_service, directory: str) -> None:  # type: ignore[no-untyped-def]
    """5,320 real hospitals: header aliases and composed addresses, all active in the Directory."""
    api = start_service(concurrency=20, chunk_size=1000)

    final = run_job(api, CMS_FILE.read_bytes(), filename=CMS_FILE.name, timeout=600)
    result = final["result"]
    listing = batch_listing(directory, result["batch_id"])
    row_one = next(row for row in result["hospitals"] if row["row"] == 1)
    first = next(hospital for hospital in listing if hospital["id"] == row_one["hospital_id"])

    assert final["status"] == "completed"
    assert result["total_hospitals"] == 5320
    assert result["processed_hospitals"] == 5320
    assert result["batch_activated"] is True
    assert len(listing) == 5320
    assert all(hospital["active"] for hospital in listing)
    assert {row["status"] for row in result["hospitals"]} == {"created_and_activated"}
    assert first["name"] == "CONWAY BEHAVIORAL HEALTH"
    assert first["address"] == "2255 STURGIS ROAD, CONWAY, AR 72034"
    assert first["phone"] == "(501) 205-0011"
