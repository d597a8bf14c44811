"""Output of the client commands: Rich tables, colour and a live progress bar on a terminal,
plain lines when stdout is a pipe or a file, and bare JSON with `--json`."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from hospital_bulk.cli.http import ServiceError

#: Failed rows listed after a job; the export command writes all of them.
MAX_LISTED_ROWS = 50

_DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}


class Output:
    """Destination of a command's results (stdout) and errors (stderr).

    Args:
        json_mode: Print results as JSON only, for scripts.
        command_options: Options that the follow-up commands it suggests need, such as
            " --server http://10.0.0.5:8000".
    """

    def __init__(self, *, json_mode: bool = False, command_options: str = "") -> None:
        self.json_mode = json_mode
        self.command_options = command_options
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    @property
    def rich(self) -> bool:
        """Whether to draw tables, colour and the live bar: stdout is a terminal and not JSON."""
        return self.console.is_terminal and not self.json_mode

    def line(self, text: str, *, style: str | None = None) -> None:
        """Print a line of plain text (never parsed as Rich markup); nothing in JSON mode."""
        if self.json_mode:
            return
        self.console.print(
            Text(text, style=style or "") if self.rich else text, markup=False, soft_wrap=True
        )

    def command(self, arguments: str) -> str:
        """Spell a follow-up command that the user can paste as it is."""
        return f"hospital-bulk {arguments}{self.command_options}"

    def json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def notice(self, text: str) -> None:
        """Print a message about the command itself (a retry, a wait) to stderr."""
        self.errors.print(text, markup=False, soft_wrap=True, style="yellow")

    def problem(self, error: ServiceError) -> None:
        """Print an error's detail and fix to stderr (and in JSON mode its body to stdout)."""
        if self.json_mode:
            self.json(error.problem or {"detail": error.detail, "fix": error.fix})
        self.errors.print(f"Error: {error.detail}", markup=False, soft_wrap=True, style="bold red")
        if error.fix:
            self.errors.print(f"Fix: {error.fix}", markup=False, soft_wrap=True)


class RowRateColumn(ProgressColumn):
    """Rows finished per second, averaged by Rich over the last 30 seconds."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(
            "-- rows/s" if speed is None else f"{speed:,.1f} rows/s", style="progress.data.speed"
        )


class JobProgress:
    """Show a job's progress while the CLI waits for it.

    On a terminal this is a live bar with rows done of total, rate and time left. On a
    pipe it is one line at each further 10 %, and in JSON mode nothing.
    """

    def __init__(self, output: Output, *, job_id: str, total: int) -> None:
        self.output = output
        self.total = total
        self._last_tenth = -1
        self._bar: Progress | None = None
        self._task = None
        if output.rich:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rows"),
                TaskProgressColumn(),
                RowRateColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                console=output.console,
            )
            self._task = self._bar.add_task(f"Job {job_id[:8]}", total=total)

    def __enter__(self) -> JobProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, *, done: int, total: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)
            return
        tenth = done * 10 // total if total else 10
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self.output.line(
                f"Progress: {done} of {counted(total, 'row')} ({done * 100 // max(total, 1)}%)"
            )


def counted(count: int, noun: str) -> str:
    """Return "1 row", "2 rows" and so on."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def row_line(row: dict[str, Any]) -> str:
    """Describe a failed row in one line that starts with its row number."""
    message = row.get("error_message") or "No error message was recorded."
    prefix = f"Row {row['row']}"
    if message.startswith((prefix + ",", prefix + ":", prefix + " ")):
        return message
    return f"{prefix}: {message}"


def show_accepted(output: Output, accepted: dict[str, Any]) -> None:
    output.line(
        f"Job {accepted['job_id']} accepted: {counted(accepted['total_hospitals'], 'row')}, "
        f"batch {accepted['batch_id']}."
    )


def show_failed_rows(output: Output, rows: list[dict[str, Any]], *, total: int) -> None:
    """List failed rows: a table on a terminal, one "Row N: error" line each otherwise."""
    if not rows:
        return
    if output.rich:
        table = Table(title=f"Failed rows ({total})", title_justify="left")
        table.add_column("Row", justify="right")
        table.add_column("Name")
        table.add_column("Error", overflow="fold")
        for row in rows:
            table.add_row(
                str(row["row"]), Text(row.get("name") or ""), Text(row.get("error_message") or "")
            )
        output.console.print(table)
    else:
        output.line(f"Failed rows ({total}):")
        for row in rows:
            output.line("  " + row_line(row))
    if total > len(rows):
        output.line(f"... and {total - len(rows)} more failed rows.")


def show_job_outcome(output: Output, status: dict[str, Any]) -> None:
    """Print a finished job's summary and the next step, if any."""
    if status["status"] == "failed":
        summary = (
            f"Job {status['job_id']} failed: {status.get('error') or 'no reason was recorded'}."
        )
        output.line(summary, style="bold red")
        return

    if status["result"]["batch_activated"]:
        summary, next_step = _active_batch_outcome(output, status)
        output.line(summary, style="bold green")
    else:
        summary, next_step = _inactive_batch_outcome(output, status)
        output.line(summary, style="bold yellow")
    if next_step:
        output.line(f"Next: {next_step}")


def _active_batch_outcome(output: Output, status: dict[str, Any]) -> tuple[str, str | None]:
    result = status["result"]
    job_id, failed = status["job_id"], result["failed_hospitals"]
    summary = (
        f"Job {job_id} completed: {result['processed_hospitals']} of "
        f"{counted(result['total_hospitals'], 'hospital')} created and activated in batch "
        f"{result['batch_id']}"
    )
    if not failed:
        return summary + ".", None

    # A batch activated by hand after a review can still have failed rows.
    return (
        f"{summary}; {counted(failed, 'row')} failed and not part of it.",
        f"to fix the failed rows, run "
        f"`{output.command(f'export {job_id} --status failed -o failed.csv')}`, correct them "
        "and upload that file.",
    )


def _inactive_batch_outcome(output: Output, status: dict[str, Any]) -> tuple[str, str]:
    result = status["result"]
    job_id, batch_id = status["job_id"], result["batch_id"]
    created, failed = result["processed_hospitals"], result["failed_hospitals"]
    if created == 0:
        return (
            f"Job {job_id} completed: all {counted(failed, 'row')} failed, so nothing was "
            "created and there is nothing to activate.",
            "fix the rows and upload the file again.",
        )

    if failed:
        return (
            f"Job {job_id} completed: {created} of {counted(result['total_hospitals'], 'hospital')} "
            f"created, {failed} failed. Batch {batch_id} is not active.",
            f"review the failed rows. To activate the {counted(created, 'created hospital')} "
            f"anyway, run `{output.command(f'activate {batch_id}')}`. To keep the failed rows for "
            f"fixing, run `{output.command(f'export {job_id} --status failed -o failed.csv')}`.",
        )

    reason = result.get("activation_error") or "the activation failed"
    return (
        f"Job {job_id} completed: all {counted(created, 'hospital')} created, but batch "
        f"{batch_id} is not active: {reason}. Nothing was rolled back.",
        f"retry the activation with `{output.command(f'activate {batch_id}')}`.",
    )


def show_job_progress(output: Output, status: dict[str, Any]) -> None:
    result = status["result"]
    done = result["total_hospitals"] - result["pending_hospitals"]
    output.line(
        f"Job {status['job_id']} is {status['status']}: {done} of {counted(result['total_hospitals'], 'row')} "
        f"done ({status['progress_percentage']}%), batch {result['batch_id']}."
    )
    follow = output.command(f"status {status['job_id']} --wait")
    output.line(f"Next: wait for it with `{follow}`.")


def show_warnings(output: Output, warnings: list[str]) -> None:
    for warning in warnings:
        output.line(f"Warning: {warning}", style="yellow")


def show_validation(output: Output, report: dict[str, Any]) -> None:
    """Describe what an upload would read from the file, and list the rows with problems."""
    delimiter = report["delimiter"]
    delimiter_name = _DELIMITER_NAMES.get(delimiter, repr(delimiter))
    output.line(
        f"File {report['filename']}: encoding {report['encoding']}, delimiter {delimiter_name}."
    )
    output.line("Columns used:")
    for field, columns in report["mapping"].items():
        output.line(f"  {field}: {', '.join(columns) if columns else '(no column)'}")
    if report["ignored_columns"]:
        output.line(f"Ignored columns: {', '.join(report['ignored_columns'])}")
    show_warnings(output, report["warnings"])
    output.line(
        f"{counted(report['total_rows'], 'row')}: {report['valid_rows']} valid, {report['invalid_rows']} with "
        f"errors, {report['rows_with_warnings']} with warnings."
    )
    for row in report["rows"][:MAX_LISTED_ROWS]:
        for error in row["errors"]:
            output.line("  " + row_line({"row": row["row"], "error_message": error}), style="red")
        for warning in row["warnings"]:
            output.line(
                "  " + row_line({"row": row["row"], "error_message": warning}), style="yellow"
            )
    if len(report["rows"]) > MAX_LISTED_ROWS:
        output.line(f"... and {len(report['rows']) - MAX_LISTED_ROWS} more rows with problems.")


def show_jobs(output: Output, jobs: list[dict[str, Any]]) -> None:
    if not jobs:
        output.line(f"No jobs yet. Upload a file with `{output.command('upload FILE --wait')}`.")
        return
    if not output.rich:
        for job in jobs:
            active = "active" if job["batch_activated"] else "not active"
            output.line(
                f"{job['job_id']}  {job['status']}  {counted(job['total_hospitals'], 'row')}  batch {active}  "
                f"{job['created_at']}  {job['filename']}"
            )
        return
    table = Table(title="Jobs, newest first", title_justify="left")
    for column in ("Job", "Status", "Rows", "Batch active", "Created", "File"):
        table.add_column(column, justify="right" if column == "Rows" else "left")
    for job in jobs:
        table.add_row(
            job["job_id"],
            job["status"],
            str(job["total_hospitals"]),
            "yes" if job["batch_activated"] else "no",
            job["created_at"],
            Text(job["filename"]),
        )
    output.console.print(table)
