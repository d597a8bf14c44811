"""The client commands against a real service: exit codes, output, JSON and exports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.cli.conftest import RunCli
from tests.support import TEST3, csv_rows, run_job, set_faults, upload

WriteCsv = Callable[[str, bytes], Path]


def output_of(run: subprocess.CompletedProcess[str]) -> str:
    return run.stdout + run.stderr


def test_upload_clean_file_exits_0(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("clean.csv", csv_rows(4))

    run = cli("upload", str(path), "--server", api, "--wait")

    assert run.returncode == 0, output_of(run)
    assert "4 of 4 hospitals created and activated" in run.stdout
    assert "Traceback" not in output_of(run)


def test_upload_partial_file_exits_2(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    """The design's Test 3 file: the output names the failed row and the next step."""
    path = write_csv("test3.csv", TEST3)

    run = cli("upload", str(path), "--server", api, "--wait")

    assert run.returncode == 2, output_of(run)
    assert 'Row 2, column "name": the value is empty' in run.stdout
    assert "2 of 3 hospitals created, 1 failed" in run.stdout
    assert "hospital-bulk activate" in run.stdout
    assert "\x1b[" not in run.stdout


def test_upload_all_rows_failed_exits_2(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("bad-rows.csv", b"name,address\n,1 Main St\nNo Address,\n")

    run = cli("upload", str(path), "--server", api, "--wait")

    assert run.returncode == 2, output_of(run)
    assert "all 2 rows failed" in run.stdout
    assert "Row 1" in run.stdout
    assert "Row 2" in run.stdout


def test_upload_activation_failure_exits_2(
    api: str, directory: str, cli: RunCli, write_csv: WriteCsv
) -> None:
    set_faults(directory, activation_fails=True)
    path = write_csv("clean.csv", csv_rows(2))

    run = cli("upload", str(path), "--server", api, "--wait")

    assert run.returncode == 2, output_of(run)
    assert "is not active" in run.stdout
    assert "Nothing was rolled back" in run.stdout
    assert "hospital-bulk activate" in run.stdout


def test_upload_json_prints_final_status(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("test3.csv", TEST3)

    run = cli("upload", str(path), "--server", api, "--wait", "--json")
    body = json.loads(run.stdout)

    assert run.returncode == 2
    assert body["status"] == "completed"
    assert body["result"]["batch_activated"] is False
    assert body["result"]["failed_hospitals"] == 1
    assert [row["status"] for row in body["result"]["hospitals"]] == ["created", "failed", "created"]


def test_upload_without_wait_exits_0(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("test3.csv", TEST3)

    run = cli("upload", str(path), "--server", api)

    assert run.returncode == 0, output_of(run)
    assert "accepted: 3 rows" in run.stdout
    assert "hospital-bulk status" in run.stdout


def test_suggested_command_names_the_server(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    """A follow-up command printed for pasting reaches the same service as the upload did."""
    path = write_csv("test3.csv", TEST3)

    run = cli("upload", str(path), "--server", api)
    follow_up = next(line for line in run.stdout.splitlines() if "hospital-bulk status" in line)

    assert f"--server {api}`" in follow_up, output_of(run)


def test_suggested_command_relies_on_environment(
    api: str, cli: RunCli, write_csv: WriteCsv
) -> None:
    """With HOSPITAL_BULK_SERVER set, the pasted command finds the server there."""
    path = write_csv("test3.csv", TEST3)

    run = cli("upload", str(path), env={"HOSPITAL_BULK_SERVER": api})

    assert run.returncode == 0, output_of(run)
    assert "hospital-bulk status" in run.stdout
    assert "--server" not in run.stdout


def test_upload_same_key_replays_job(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("test3.csv", TEST3)

    first = cli("upload", str(path), "--server", api, "--key", "cli-replay-1", "--json")
    second = cli("upload", str(path), "--server", api, "--key", "cli-replay-1", "--json")

    assert first.returncode == 0, output_of(first)
    assert second.returncode == 0, output_of(second)
    assert json.loads(first.stdout)["job_id"] == json.loads(second.stdout)["job_id"]
    assert "was used before" in second.stderr


def test_upload_rejected_file_prints_fix(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("no-header.csv", b"a,b\n1,2\n")

    run = cli("upload", str(path), "--server", api, "--wait")

    assert run.returncode == 1
    assert run.stderr.startswith("Error: ")
    assert "Fix: Add the header line" in run.stderr
    assert "Traceback" not in output_of(run)


def test_upload_rejected_file_json(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("no-header.csv", b"a,b\n1,2\n")

    run = cli("upload", str(path), "--server", api, "--json")
    problem = json.loads(run.stdout)

    assert run.returncode == 1
    assert problem["status"] == 422
    assert problem["fix"]


def test_upload_missing_file_exits_1(api: str, cli: RunCli) -> None:
    run = cli("upload", "missing.csv", "--server", api)

    assert run.returncode == 1
    assert "Cannot read 'missing.csv'" in run.stderr
    assert "Traceback" not in output_of(run)


def test_upload_unreachable_server_exits_1(cli: RunCli, write_csv: WriteCsv) -> None:
    """A refused connection is retried once with the same key, then reported with that key."""
    path = write_csv("test3.csv", TEST3)

    run = cli("upload", str(path), "--server", "http://127.0.0.1:9", "--key", "k-unreachable")

    assert run.returncode == 1
    assert "retrying once with the same Idempotency-Key k-unreachable" in run.stderr
    assert "--key k-unreachable" in run.stderr
    assert "Traceback" not in output_of(run)


def test_server_from_environment(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("clean.csv", csv_rows(1))

    run = cli("upload", str(path), "--wait", env={"HOSPITAL_BULK_SERVER": api})

    assert run.returncode == 0, output_of(run)


def test_progress_bar_on_terminal(
    api: str, directory: str, cli: RunCli, write_csv: WriteCsv
) -> None:
    """With a terminal (forced here), the wait shows a live bar with rows, rate and time."""
    set_faults(directory, create_latency_ms=40)
    path = write_csv("slow.csv", csv_rows(30))

    run = cli("upload", str(path), "--server", api, "--wait", env={"FORCE_COLOR": "1"})

    assert run.returncode == 0, output_of(run)
    assert "30/30" in run.stdout
    assert "rows/s" in run.stdout
    assert "100%" in run.stdout


def test_status_of_partial_job_exits_2(api: str, cli: RunCli) -> None:
    final = run_job(api, TEST3)

    run = cli("status", final["job_id"], "--server", api)

    assert run.returncode == 2, output_of(run)
    assert "Row 2" in run.stdout


def test_status_json(api: str, cli: RunCli) -> None:
    final = run_job(api, csv_rows(3))

    run = cli("status", final["job_id"], "--server", api, "--json")
    body = json.loads(run.stdout)

    assert run.returncode == 0
    assert body["job_id"] == final["job_id"]
    assert len(body["result"]["hospitals"]) == 3


def test_status_wait_follows_job(api: str, cli: RunCli) -> None:
    accepted = upload(api, csv_rows(5)).json()

    run = cli("status", accepted["job_id"], "--server", api, "--wait")

    assert run.returncode == 0, output_of(run)
    assert "5 of 5 hospitals created and activated" in run.stdout


def test_status_unknown_job_exits_1(api: str, cli: RunCli) -> None:
    run = cli("status", "no-such-job", "--server", api)

    assert run.returncode == 1
    assert "No job 'no-such-job' was found." in run.stderr
    assert "Fix: " in run.stderr


def test_activate_after_review_exits_0(api: str, cli: RunCli) -> None:
    final = run_job(api, TEST3)
    batch_id = final["result"]["batch_id"]

    activated = cli("activate", batch_id, "--server", api)
    status = cli("status", final["job_id"], "--server", api, "--json")
    rows = json.loads(status.stdout)["result"]["hospitals"]
    summary = cli("status", final["job_id"], "--server", api)

    assert activated.returncode == 0, output_of(activated)
    assert f"Batch {batch_id} is active: 2 hospital(s)." in activated.stdout
    assert status.returncode == 0
    assert summary.returncode == 0
    assert "1 row failed and not part of it" in summary.stdout
    assert [row["status"] for row in rows] == ["created_and_activated", "failed", "created_and_activated"]


def test_activate_unknown_batch_exits_1(api: str, cli: RunCli) -> None:
    run = cli("activate", "no-such-batch", "--server", api)

    assert run.returncode == 1
    assert "No job created batch 'no-such-batch'." in run.stderr


def test_validate_partial_file_exits_2(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("test3.csv", TEST3)

    run = cli("validate", str(path), "--server", api)

    assert run.returncode == 2, output_of(run)
    assert "encoding utf-8, delimiter comma" in run.stdout
    assert "name: name" in run.stdout
    assert "3 rows: 2 valid, 1 with errors" in run.stdout
    assert "Row 2, column" in run.stdout
    assert httpx.get(f"{api}/api/v1/hospitals/jobs").json() == []


def test_validate_clean_file_exits_0(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("semicolons.csv", b"Hospital Name;Street Address;Telephone\nA;1 Main St;555\n")

    run = cli("validate", str(path), "--server", api, "--json")
    report = json.loads(run.stdout)

    assert run.returncode == 0, output_of(run)
    assert report["delimiter"] == ";"
    assert report["mapping"]["name"] == ["Hospital Name"]


def test_validate_with_column_mapping(api: str, cli: RunCli, write_csv: WriteCsv) -> None:
    path = write_csv("odd.csv", b"Title,Where\nA,1 Main St\n")
    mapping = json.dumps({"name": "Title", "address": "Where"})

    without = cli("validate", str(path), "--server", api)
    with_mapping = cli("validate", str(path), "--server", api, "--column-mapping", mapping)

    assert without.returncode == 1
    assert with_mapping.returncode == 0, output_of(with_mapping)
    assert "name: Title" in with_mapping.stdout


def test_jobs_lists_jobs(api: str, cli: RunCli) -> None:
    final = run_job(api, TEST3, filename="listed.csv")

    plain = cli("jobs", "--server", api)
    as_json = cli("jobs", "--server", api, "--json")

    assert plain.returncode == 0
    assert final["job_id"] in plain.stdout
    assert "listed.csv" in plain.stdout
    assert json.loads(as_json.stdout)[0]["job_id"] == final["job_id"]


def test_export_failed_rows(api: str, cli: RunCli, workdir: Path) -> None:
    final = run_job(api, TEST3)

    run = cli("export", final["job_id"], "--server", api, "--status", "failed", "-o", "failed.csv")
    text = (workdir / "failed.csv").read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(text)))

    assert run.returncode == 0, output_of(run)
    assert "Wrote 1 row to failed.csv." in run.stdout
    assert records[0] == ["name", "address", "phone", "row", "status", "hospital_id", "error_message"]
    assert records[1][:5] == ["", "Invalid Missing Name", "555-0002", "2", "failed"]
    assert len(records) == 2


def test_export_default_filename(api: str, cli: RunCli, workdir: Path) -> None:
    final = run_job(api, TEST3, filename="march.csv")

    run = cli("export", final["job_id"], "--server", api)

    assert run.returncode == 0, output_of(run)
    assert (workdir / "march-rows.csv").exists()
    assert [path.name for path in workdir.iterdir() if path.name.startswith(".")] == []


def test_export_to_stdout(api: str, cli: RunCli) -> None:
    final = run_job(api, TEST3)

    run = cli("export", final["job_id"], "--server", api, "--status", "created", "-o", "-")
    records = list(csv.reader(io.StringIO(run.stdout.lstrip("\ufeff"))))

    assert run.returncode == 0
    assert [record[3] for record in records[1:]] == ["1", "3"]


def test_export_unknown_job_leaves_no_file(api: str, cli: RunCli, workdir: Path) -> None:
    run = cli("export", "no-such-job", "--server", api, "-o", "out.csv")

    assert run.returncode == 1
    assert "No job 'no-such-job'" in run.stderr
    assert list(workdir.iterdir()) == []


def test_api_key_sent_from_option_and_env(
    start_service: Callable[..., str], cli: RunCli, write_csv: WriteCsv
) -> None:
    api = start_service(api_keys=["cli-key"])
    path = write_csv("test3.csv", TEST3)

    refused = cli("upload", str(path), "--server", api)
    accepted = cli("upload", str(path), "--server", api, "--api-key", "cli-key", "--wait", "--json")
    job_id = json.loads(accepted.stdout)["job_id"]
    status = cli("status", job_id, "--server", api, env={"HOSPITAL_BULK_API_KEY": "cli-key"})
    other_key = cli("status", job_id, "--server", api, "--api-key", "wrong")

    assert refused.returncode == 1
    assert "A valid API key is required" in refused.stderr
    assert accepted.returncode == 2, output_of(accepted)
    assert status.returncode == 2
    assert other_key.returncode == 1
