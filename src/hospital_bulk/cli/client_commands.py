"""Client commands of `hospital-bulk`: upload, status, activate, validate, jobs and export.

They call a running service over HTTP. Exit codes:

    0  the batch is active (or the command succeeded and no batch is concerned)
    1  an error: the service rejected the request or could not be reached
    2  the job completed but its batch is not active: review the failed rows
       (validate: the file has rows with errors)
    3  status only: the job has not finished yet

Click also exits with 2 on a command-line usage error, which then prints "Usage:".
"""

from __future__ import annotations

import csv
import os
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hospital_bulk.cli.http import ServiceClient, ServiceError
from hospital_bulk.cli.render import (
    MAX_LISTED_ROWS,
    JobProgress,
    Output,
    counted,
    show_accepted,
    show_failed_rows,
    show_job_outcome,
    show_job_progress,
    show_jobs,
    show_validation,
    show_warnings,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REVIEW = 2
EXIT_RUNNING = 3
#: The shell's code for a command stopped with Ctrl-C.
EXIT_INTERRUPTED = 130

DEFAULT_SERVER = "http://127.0.0.1:8000"

#: Failed status requests in a row that a wait tolerates before it gives up.
MAX_POLL_FAILURES = 5

FINAL_JOB_STATUSES = ("completed", "failed")

ServerOption = Annotated[
    str,
    typer.Option(
        "--server", envvar="HOSPITAL_BULK_SERVER", help="Base URL of the hospital-bulk service."
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="HOSPITAL_BULK_API_KEY",
        show_default=False,
        help="API key, sent as 'Authorization: Bearer <key>'; needed when the service has keys.",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print only the result as JSON, for scripts.")
]
IntervalOption = Annotated[
    float,
    typer.Option("--interval", min=0.1, help="Seconds between status requests while waiting."),
]
MappingOption = Annotated[
    str | None,
    typer.Option(
        "--column-mapping",
        show_default=False,
        help='JSON object from field to CSV header, e.g. \'{"name": "Facility Name"}\'.',
    ),
]
FileArgument = Annotated[Path, typer.Argument(help="CSV file of hospitals.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command()(upload)
    app.command()(status)
    app.command()(activate)
    app.command()(validate)
    app.command()(jobs)
    app.command()(export)


def upload(
    file: FileArgument,
    server: ServerOption = DEFAULT_SERVER,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the job to its end, with a progress bar.")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            show_default=False,
            help="Idempotency-Key to send; reuse one to retry an upload safely. "
            "Default: a new UUID.",
        ),
    ] = None,
    column_mapping: MappingOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
    interval: IntervalOption = 0.5,
) -> None:
    """Upload a CSV file of hospitals; with --wait, follow the job and summarise it.

    Exit codes with --wait: 0 when the batch is active, 2 when the job completed but the
    batch is not active (the failed rows are listed), 1 on error. Without --wait, 0 once
    the service has accepted the file.
    """
    output = _output(json_output, server)
    idempotency_key = key or str(uuid.uuid4())

    def announce_retry(exc: Exception) -> None:
        output.notice(
            f"The upload failed ({exc or type(exc).__name__}); retrying once with the "
            f"same Idempotency-Key {idempotency_key}."
        )

    with _client(server, api_key, output) as client:
        accepted, replayed = client.upload(
            file,
            idempotency_key=idempotency_key,
            column_mapping=column_mapping,
            on_retry=announce_retry,
        )
        if replayed:
            output.notice(
                f"Idempotency-Key {idempotency_key} was used before: this is the job it created."
            )
        if not wait:
            _show_accepted_only(output, accepted)
            return
        show_accepted(output, accepted)
        final = _wait_for_job(client, output, accepted["job_id"], interval=interval)
        code = _report_job(client, output, final)
    raise typer.Exit(code)


def status(
    job: Annotated[
        str, typer.Argument(help="The job_id that the upload returned.", show_default=False)
    ],
    server: ServerOption = DEFAULT_SERVER,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the job to end, with a progress bar.")
    ] = False,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
    interval: IntervalOption = 0.5,
) -> None:
    """Show a job's progress, or its outcome and failed rows once it has ended.

    Exit codes: 0 when the batch is active, 2 when the job completed but the batch is not
    active, 3 when the job has not finished (without --wait), 1 on error.
    """
    output = _output(json_output, server)
    with _client(server, api_key, output) as client:
        current = (
            _wait_for_job(client, output, job, interval=interval)
            if wait
            else client.job_status(job)
        )
        if current["status"] in FINAL_JOB_STATUSES:
            code = _report_job(client, output, current)
        elif output.json_mode:
            output.json(client.full_job_status(job))
            code = EXIT_RUNNING
        else:
            show_job_progress(output, current)
            code = EXIT_RUNNING
    raise typer.Exit(code)


def activate(
    batch: Annotated[
        str, typer.Argument(help="The batch_id of a finished job.", show_default=False)
    ],
    server: ServerOption = DEFAULT_SERVER,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Activate a batch that was not auto-activated, e.g. after reviewing its failed rows.

    Failed rows are not part of the batch. Activating an active batch again succeeds.
    Exit codes: 0 when the batch is active, 1 on error.
    """
    output = _output(json_output, server)
    with _client(server, api_key, output) as client:
        body = client.activate_batch(batch)
    if output.json_mode:
        output.json(body)
    else:
        output.line(body["message"], style="bold green")


def validate(
    file: FileArgument,
    server: ServerOption = DEFAULT_SERVER,
    column_mapping: MappingOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check a CSV file as an upload would, without creating anything.

    Shows the detected encoding, delimiter and columns, and every row with an error or a
    warning. Exit codes: 0 when every row is valid, 2 when some rows have errors, 1 when
    the file cannot be loaded at all or on another error.
    """
    output = _output(json_output, server)
    with _client(server, api_key, output) as client:
        report = client.validate(file, column_mapping=column_mapping)
    if output.json_mode:
        output.json(report)
    else:
        show_validation(output, report)
    raise typer.Exit(EXIT_REVIEW if report["invalid_rows"] else EXIT_OK)


def jobs(
    server: ServerOption = DEFAULT_SERVER,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Maximum number of jobs to list.")] = 20,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """List your most recent jobs, newest first."""
    output = _output(json_output, server)
    with _client(server, api_key, output) as client:
        listed = client.list_jobs(limit=limit)
    if output.json_mode:
        output.json(listed)
    else:
        show_jobs(output, listed)


def export(
    job: Annotated[str, typer.Argument(help="The job_id to export.", show_default=False)],
    server: ServerOption = DEFAULT_SERVER,
    statuses: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            show_default=False,
            help="Only rows with this status: pending, created, created_and_activated or "
            "failed. Repeat for several.",
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            show_default=False,
            help="File to write, or '-' for stdout. Default: the name the service suggests, "
            "in the current folder.",
        ),
    ] = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write a job's rows to a CSV file: the original columns plus row, status, hospital_id
    and error_message.

    Fix the failed rows in a spreadsheet and upload the file again. Exit codes: 0 when the
    file was written, 1 on error.
    """
    output = _output(json_output, server)
    with _client(server, api_key, output) as client:
        if output_path is not None and str(output_path) == "-":
            client.export_rows(job, sys.stdout.buffer, statuses=statuses or [])
            return
        written = _export_to_file(client, job, statuses=statuses or [], path=output_path)
    rows = _count_records(written)
    if output.json_mode:
        output.json({"path": str(written), "rows": rows})
    else:
        output.line(f"Wrote {counted(rows, 'row')} to {written}.")


def _output(json_output: bool, server: str) -> Output:
    # A suggested follow-up command names the server unless it would find it by itself.
    implied = server in (DEFAULT_SERVER, os.environ.get("HOSPITAL_BULK_SERVER"))
    return Output(
        json_mode=json_output, command_options="" if implied else f" --server {shlex.quote(server)}"
    )


@contextmanager
def _client(server: str, api_key: str | None, output: Output) -> Iterator[ServiceClient]:
    """Open a client and turn its errors into a printed detail and fix, and exit code 1."""
    try:
        with ServiceClient(server, api_key=api_key or None) as client:
            yield client
    except ServiceError as exc:
        output.problem(exc)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        output.notice("Stopped.")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _show_accepted_only(output: Output, accepted: dict[str, Any]) -> None:
    if output.json_mode:
        output.json(accepted)
        return
    show_accepted(output, accepted)
    follow = output.command(f"status {accepted['job_id']} --wait")
    output.line(f"Next: follow it with `{follow}`.")


def _wait_for_job(
    client: ServiceClient, output: Output, job_id: str, *, interval: float
) -> dict[str, Any]:
    """Poll the job until it has completed or failed, showing progress; return that status."""
    current = client.job_status(job_id)
    total = current["result"]["total_hospitals"]
    try:
        with JobProgress(output, job_id=job_id, total=total) as progress:
            while True:
                result = current["result"]
                progress.update(
                    done=result["total_hospitals"] - result["pending_hospitals"], total=total
                )
                if current["status"] in FINAL_JOB_STATUSES:
                    return current
                time.sleep(interval)
                current = _poll_status(client, output, job_id, interval=interval)
    except KeyboardInterrupt:
        output.notice(
            f"Stopped waiting. Job {job_id} goes on running on the service; follow it "
            f"with `{output.command(f'status {job_id} --wait')}`."
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _poll_status(
    client: ServiceClient, output: Output, job_id: str, *, interval: float
) -> dict[str, Any]:
    # A restart or a network blip should not end a long wait, so unreachable-service
    # errors are retried; an error response from the service is not.
    for failures in range(1, MAX_POLL_FAILURES + 1):
        try:
            return client.job_status(job_id)
        except ServiceError as exc:
            if exc.status_code is not None or failures == MAX_POLL_FAILURES:
                raise
            output.notice(
                f"Status request {failures} of {MAX_POLL_FAILURES} failed: {exc.detail} Retrying."
            )
            time.sleep(interval * 2**failures)
    raise AssertionError("unreachable")


def _report_job(client: ServiceClient, output: Output, final: dict[str, Any]) -> int:
    """Print a finished job's outcome and failed rows; return the exit code it means."""
    if output.json_mode:
        output.json(client.full_job_status(final["job_id"]))
        return job_exit_code(final)
    failed_total = final["result"]["failed_hospitals"]
    failed_rows = (
        client.job_rows(final["job_id"], status="failed", limit=MAX_LISTED_ROWS)
        if failed_total
        else []
    )
    show_warnings(output, final.get("warnings") or [])
    show_failed_rows(output, failed_rows, total=failed_total)
    show_job_outcome(output, final)
    return job_exit_code(final)


def job_exit_code(job_status: dict[str, Any]) -> int:
    """Map a job's status to the exit code: 0 active, 2 review needed, 1 failed, 3 running."""
    if job_status["status"] == "failed":
        return EXIT_ERROR
    if job_status["status"] != "completed":
        return EXIT_RUNNING
    return EXIT_OK if job_status["result"]["batch_activated"] else EXIT_REVIEW


def _export_to_file(
    client: ServiceClient, job: str, *, statuses: list[str], path: Path | None
) -> Path:
    # The rows go to a temporary file first, so that a failed download leaves no partial file.
    folder = path.parent if path is not None else Path.cwd()
    try:
        descriptor, temporary_name = tempfile.mkstemp(dir=folder, prefix=".hospital-bulk-export-")
    except OSError as exc:
        raise _write_error(folder, exc) from exc
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            suggested = client.export_rows(job, handle, statuses=statuses)
        target = path if path is not None else folder / suggested
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _write_error(path or folder, exc) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def _write_error(path: Path, exc: OSError) -> ServiceError:
    return ServiceError(
        f"Cannot write the export to {str(path)!r}: {exc.strerror or exc}.",
        fix="Choose another --output path, or free some disk space.",
    )


def _count_records(path: Path) -> int:
    # Exported cells can be longer than the csv module's default limit of 131,072 characters.
    previous_limit = csv.field_size_limit(2**31 - 1)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    finally:
        csv.field_size_limit(previous_limit)
