"""A small run of the benchmark command, so that it keeps working; its figures are not checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


@pytest.mark.distributed
def test_benchmark_smoke_run() -> None:
    """Both shapes run a 200-row job to completion and the results page is printed."""
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--output", "-"],
        capture_output=True, text=True, timeout=600,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert "| embedded | 200 |" in run.stdout
    assert "| distributed, 1 worker | 200 |" in run.stdout
