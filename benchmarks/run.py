"""Benchmark the service against the bundled Directory and write BENCHMARKS.md.

Each run starts a fresh bundled Directory with a fixed create latency L and no batch
cap, starts the service in one shape (embedded, or distributed with N Celery workers on
Redis and PostgreSQL), uploads a generated file of R rows and follows it to the end. It
reports rows per second, the efficiency against the ideal C / L, the service's CPU time
per row, the peak RSS of every process, the time from the start of the upload to the 202,
and status-poll latency during the run. A bare asyncio + httpx client with the same
concurrency against the same Directory is the baseline for CPU per row.

Usage:
    .venv/bin/python benchmarks/run.py                 # the full matrix, about an hour
    .venv/bin/python benchmarks/run.py --smoke         # a small run, as CI does
    .venv/bin/python benchmarks/run.py --sizes 10000 --shapes embedded --output -

Every process sends traffic only to servers it started on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class RunResult:
    name: str
    rows: int
    seconds: float
    accepted_seconds: float
    cpu_seconds: float
    peak_rss_mb: dict[str, float]
    poll_ms: list[float] = field(default_factory=list)
    progress_poll_ms: list[float] = field(default_factory=list)
    failed: int = 0
    activated: bool = False

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree(pid: int) -> list[int]:
    """Return the pid and its descendants (Celery workers fork their pool processes)."""
    result, pending = [], [pid]
    while pending:
        current = pending.pop()
        result.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pending.extend(int(child) for child in children)
    return result


#: Folder that keeps a copy of each run's process logs, or None to drop them with the run.
LOG_DIR: Path | None = None
#: Rows per chunk in the distributed shape, or None for the service's default.
CHUNK_SIZE: int | None = None


@contextlib.contextmanager
def run_scratch(name: str) -> Iterator[Path]:
    """Yield a scratch directory for one run, and keep its logs in LOG_DIR when set."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        try:
            yield Path(scratch)
        finally:
            if LOG_DIR is not None:
                run_logs = LOG_DIR / "-".join(name.replace(",", "").split())
                run_logs.mkdir(parents=True, exist_ok=True)
                for log in Path(scratch).glob("*.log"):
                    shutil.copy(log, run_logs / log.name)


class Stack:
    """Processes of one run, stopped together at the end."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {**os.environ, "HOSPITAL_BULK_DATA_DIR": str(scratch / "data")}

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.scratch / f"{name}.log").open("wb")
        self.children[name] = subprocess.Popen(
            [str(BIN / "hospital-bulk"), *args],
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.scratch,
        )

    def service_pids(self) -> dict[str, list[int]]:
        return {
            name: process_tree(child.pid)
            for name, child in self.children.items()
            if name != "directory"
        }

    def stop(self) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not respond within {seconds} s")


def csv_bytes(rows: int) -> bytes:
    tag = uuid.uuid4().hex[:6]
    lines = "".join(
        f"Bench Hospital {tag} {i},{i} Bench St,555-{i % 10000:04d}\n" for i in range(rows)
    )
    return ("name,address,phone\n" + lines).encode()


@contextlib.contextmanager
def directory(
    stack: Stack, *, latency_ms: int, profile: str = "local", **faults: object
) -> Iterator[str]:
    port = free_port()
    stack.start("directory", ["directory", "--port", str(port), "--profile", profile])
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/")
    httpx.put(
        f"{url}/_control/faults", json={"create_latency_ms": latency_ms, **faults}
    ).raise_for_status()
    yield url


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", name],
            capture_output=True,
        )


def start_service(
    stack: Stack,
    directory_url: str,
    *,
    concurrency: int,
    workers: int,
    database_url: str | None,
    extra_env: dict[str, str] | None = None,
) -> str:
    env = {
        "HOSPITAL_DIRECTORY_URL": directory_url,
        "HOSPITAL_BULK_CONCURRENCY": str(concurrency),
        **(extra_env or {}),
    }
    if workers:
        assert database_url is not None
        env["HOSPITAL_BULK_DATABASE_URL"] = database_url
        env["HOSPITAL_BULK_BROKER_URL"] = f"redis://127.0.0.1:6379/{14}"
        if CHUNK_SIZE is not None:
            env["HOSPITAL_BULK_CHUNK_SIZE"] = str(CHUNK_SIZE)
        stack.env.update(env)
        subprocess.run(
            [str(BIN / "hospital-bulk"), "db", "upgrade"],
            env=stack.env,
            check=True,
            capture_output=True,
        )
        subprocess.run(["redis-cli", "-n", "14", "flushdb"], capture_output=True)
    port = free_port()
    stack.start("serve", ["serve", "--port", str(port)], env)
    for index in range(workers):
        stack.start(f"worker{index}", ["worker"], env)
    api = f"http://127.0.0.1:{port}"
    wait_http(f"{api}/health")
    return api


#: The largest baseline run; a 100,000-row baseline would add minutes and tell nothing new.
BASELINE_MAX_ROWS = 10_000
#: Seconds between progress polls, as the CLI and the upload page send them.
PROGRESS_POLL_SECONDS = 0.5
#: Progress polls between two reads of the default page of rows.
PROGRESS_POLLS_PER_PAGE_READ = 10


class Poller(threading.Thread):
    """Poll the status endpoint while the job runs, as a watching client does.

    Every poll requests progress only (`limit=0`), as `hospital-bulk upload --wait` and the
    upload page do. Every few polls, a default request also reads the first page of rows.
    """

    def __init__(self, api: str, job_id: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{api}/api/v1/hospitals/status/{job_id}"
        self.full_ms: list[float] = []
        self.progress_ms: list[float] = []
        self.final: dict[str, object] = {}
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=120) as client:
            for poll in itertools.count():
                read_page = poll % PROGRESS_POLLS_PER_PAGE_READ == PROGRESS_POLLS_PER_PAGE_READ - 1
                params, sink = ({}, self.full_ms) if read_page else ({"limit": 0}, self.progress_ms)
                started = time.perf_counter()
                body = client.get(self.url, params=params).json()
                sink.append(1000 * (time.perf_counter() - started))
                if body.get("status") in ("completed", "failed"):
                    self.final = body
                    self.done.set()
                    return
                time.sleep(PROGRESS_POLL_SECONDS)


def run_job(stack: Stack, api: str, rows: int, name: str) -> RunResult:
    data = csv_bytes(rows)
    pids = stack.service_pids()
    cpu_before = sum(process_cpu_seconds(pid) for tree in pids.values() for pid in tree)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    response = httpx.post(
        f"{api}/api/v1/hospitals/bulk",
        files={"file": ("bench.csv", data, "text/csv")},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=600,
    )
    accepted = time.perf_counter() - started
    response.raise_for_status()
    poller = Poller(api, response.json()["job_id"])
    poller.start()
    poller.join()
    # The job's own end time, not the poll that saw it, so the poll interval adds nothing.
    finished_at = datetime.fromisoformat(str(poller.final["finished_at"]))
    elapsed = (finished_at - started_at).total_seconds()
    pids = stack.service_pids()
    cpu_after = sum(process_cpu_seconds(pid) for tree in pids.values() for pid in tree)
    result = poller.final.get("result") or {}
    assert isinstance(result, dict)
    return RunResult(
        name=name,
        rows=rows,
        seconds=elapsed,
        accepted_seconds=accepted,
        cpu_seconds=cpu_after - cpu_before,
        peak_rss_mb={
            label: max(process_peak_rss_mb(pid) for pid in tree) for label, tree in pids.items()
        },
        poll_ms=poller.full_ms,
        progress_poll_ms=poller.progress_ms,
        failed=int(result.get("failed_hospitals") or 0),
        activated=bool(result.get("batch_activated")),
    )


def run_shape(rows: int, *, latency_ms: int, concurrency: int, workers: int) -> RunResult:
    name = (
        "embedded" if workers == 0 else f"distributed, {workers} worker{'s' if workers > 1 else ''}"
    )
    with run_scratch(f"{name} {rows}") as scratch:
        stack = Stack(scratch)
        try:
            with (
                directory(stack, latency_ms=latency_ms) as directory_url,
                postgres_database() if workers else contextlib.nullcontext() as database_url,
            ):
                api = start_service(
                    stack,
                    directory_url,
                    concurrency=concurrency,
                    workers=workers,
                    database_url=database_url,
                )
                time.sleep(2 if workers else 0.5)
                return run_job(stack, api, rows, name)
        finally:
            stack.stop()


def run_baseline(rows: int, *, latency_ms: int, concurrency: int) -> dict[str, float]:
    with run_scratch(f"baseline {rows}") as scratch:
        stack = Stack(scratch)
        try:
            with directory(stack, latency_ms=latency_ms) as directory_url:
                output = subprocess.run(
                    [
                        sys.executable,
                        str(ROOT / "benchmarks" / "baseline_client.py"),
                        directory_url,
                        str(rows),
                        str(concurrency),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
        finally:
            stack.stop()
    return dict(json.loads(output.stdout))


def run_public_profile() -> RunResult:
    """Run a 20-row file against the public profile: batch cap 20, rate limits, 5 s a create."""
    with run_scratch("public profile") as scratch:
        stack = Stack(scratch)
        try:
            with directory(stack, latency_ms=5000, profile="public") as directory_url:
                api = start_service(
                    stack,
                    directory_url,
                    concurrency=20,
                    workers=0,
                    database_url=None,
                    extra_env={"HOSPITAL_DIRECTORY_BATCH_CAP": "20"},
                )
                return run_job(stack, api, 20, "public profile, 20 rows")
        finally:
            stack.stop()


def run_rate_limited(creates_per_minute: int, rows: int) -> RunResult:
    """Run a job against a Directory limited to R creates a minute, with the same client cap."""
    with run_scratch(f"rate limited {creates_per_minute}") as scratch:
        stack = Stack(scratch)
        try:
            with directory(
                stack, latency_ms=50, create_rate_per_minute=creates_per_minute
            ) as directory_url:
                api = start_service(
                    stack,
                    directory_url,
                    concurrency=10,
                    workers=0,
                    database_url=None,
                    extra_env={"HOSPITAL_DIRECTORY_CREATES_PER_MINUTE": str(creates_per_minute)},
                )
                return run_job(
                    stack, api, rows, f"rate limit {creates_per_minute}/min, {rows} rows"
                )
        finally:
            stack.stop()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(
    results: list[RunResult],
    baselines: dict[int, dict[str, float]],
    extras: list[RunResult],
    *,
    latency_ms: int,
    concurrency: int,
    command: str,
) -> str:
    ideal = concurrency / (latency_ms / 1000)
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        "the Directory, the service, PostgreSQL and Redis all share those cores.",
        f"Command: `{command}`",
        f"Create latency L = {latency_ms} ms, concurrency C = {concurrency}, ideal C / L = {ideal:.0f} rows/s.",
        "",
        "CPU per row counts every service process (API and workers), not the Directory. The "
        "baseline is a bare asyncio + httpx loop with the same C against the same Directory "
        "(benchmarks/baseline_client.py); a run is compared with the baseline of its size, "
        f"or of {BASELINE_MAX_ROWS:,} rows for larger runs. Baseline: "
        + "; ".join(
            f"{rows:,} rows at {b['rows_per_second']:.0f} rows/s (efficiency "
            f"{b['rows_per_second'] / ideal:.2f}), {b['cpu_ms_per_row']:.2f} ms CPU per row"
            for rows, b in baselines.items()
        )
        + ".",
        "Rows per second count from the start of the upload to the end the job records "
        "(`finished_at`). While the job runs, a client polls its progress (`?limit=0`) every "
        f"{PROGRESS_POLL_SECONDS} s, as the CLI and the upload page do; every "
        f"{PROGRESS_POLLS_PER_PAGE_READ}th request is a default request instead, which also "
        "returns the first page of up to 10,000 rows (the page read columns).",
        "",
        "| shape | rows | rows/s | efficiency | CPU ms/row | vs baseline | 202 after (s) | "
        "peak RSS MB | status poll p50 / p99 ms | page read p50 / p99 ms | failed | activated |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        cpu_ms = 1000 * result.cpu_seconds / result.rows
        baseline = baselines[min(result.rows, BASELINE_MAX_ROWS)]
        rss = ", ".join(f"{name} {mb:.0f}" for name, mb in result.peak_rss_mb.items())
        lines.append(
            f"| {result.name} | {result.rows:,} | {result.rows_per_second:.0f} | "
            f"{result.rows_per_second / ideal:.2f} | {cpu_ms:.2f} | "
            f"{cpu_ms / baseline['cpu_ms_per_row']:.2f}x | {result.accepted_seconds:.2f} | {rss} | "
            f"{percentile(result.progress_poll_ms, 0.5):.0f} / {percentile(result.progress_poll_ms, 0.99):.0f} | "
            f"{percentile(result.poll_ms, 0.5):.0f} / {percentile(result.poll_ms, 0.99):.0f} | "
            f"{result.failed} | {result.activated} |"
        )
    if extras:
        lines += [
            "",
            "| run | rows | seconds | rows/min | failed | activated |",
            "|---|---|---|---|---|---|",
        ]
        for result in extras:
            lines.append(
                f"| {result.name} | {result.rows} | {result.seconds:.1f} | "
                f"{60 * result.rows_per_second:.1f} | {result.failed} | {result.activated} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="Rows per job, comma-separated."
    )
    parser.add_argument(
        "--shapes", default="embedded,distributed", help="embedded and/or distributed."
    )
    parser.add_argument(
        "--workers", default="1,2,4", help="Celery worker counts for the distributed shape."
    )
    parser.add_argument(
        "--latency-ms", type=int, default=200, help="Directory create latency L, in ms."
    )
    parser.add_argument("--concurrency", type=int, default=50, help="Service concurrency C.")
    parser.add_argument(
        "--rate-limit", type=int, default=60, help="R for the rate-limited run; 0 skips it."
    )
    parser.add_argument("--skip-public", action="store_true", help="Skip the public-profile run.")
    parser.add_argument("--smoke", action="store_true", help="One small run per shape, for CI.")
    parser.add_argument(
        "--logs", type=Path, help="Folder that keeps each run's process logs, one subfolder per run."
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        help="Rows per chunk (HOSPITAL_BULK_CHUNK_SIZE) in the distributed shape. Default: the service's.",
    )
    parser.add_argument(
        "--output", default=str(ROOT / "BENCHMARKS.md"), help="Results page, or - for stdout."
    )
    args = parser.parse_args()

    global LOG_DIR, CHUNK_SIZE
    LOG_DIR = args.logs
    CHUNK_SIZE = args.chunk_size
    sizes = [int(size) for size in args.sizes.split(",")]
    worker_counts = [int(count) for count in args.workers.split(",")]
    if args.smoke:
        sizes, worker_counts, args.rate_limit, args.skip_public = [200], [1], 0, True
    shapes = args.shapes.split(",")

    baselines = {
        rows: run_baseline(rows, latency_ms=args.latency_ms, concurrency=args.concurrency)
        for rows in sorted({min(size, BASELINE_MAX_ROWS) for size in sizes})
    }
    results: list[RunResult] = []
    for rows in sizes:
        if "embedded" in shapes:
            results.append(
                run_shape(rows, latency_ms=args.latency_ms, concurrency=args.concurrency, workers=0)
            )
            print(results[-1], file=sys.stderr)
        if "distributed" in shapes:
            for workers in worker_counts:
                results.append(
                    run_shape(
                        rows,
                        latency_ms=args.latency_ms,
                        concurrency=args.concurrency,
                        workers=workers,
                    )
                )
                print(results[-1], file=sys.stderr)
    extras: list[RunResult] = []
    if not args.skip_public:
        extras.append(run_public_profile())
    if args.rate_limit:
        extras.append(run_rate_limited(args.rate_limit, args.rate_limit * 3))

    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    text = report(
        results,
        baselines,
        extras,
        latency_ms=args.latency_ms,
        concurrency=args.concurrency,
        command=command.strip(),
    )
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text)
        print(text)
    bad = [result for result in results + extras if result.failed or not result.activated]
    if bad:
        sys.exit(f"runs with failed rows or an inactive batch: {[result.name for result in bad]}")


if __name__ == "__main__":
    main()
