"""Run the real `hospital-bulk` command in a subprocess, as a user's shell would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

#: The console script installed next to the test interpreter, or the module as a fallback.
_SCRIPT = Path(sys.executable).with_name("hospital-bulk")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hospital_bulk.cli"]

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The command's working folder, apart from the service's data folder in `tmp_path`."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def cli(workdir: Path) -> RunCli:
    """Return a function that runs `hospital-bulk ARGS` in `workdir` and captures its output."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value for key, value in os.environ.items()
            if key not in ("HOSPITAL_BULK_SERVER", "HOSPITAL_BULK_API_KEY", "FORCE_COLOR", "NO_COLOR")
        }
        environment.update(env or {})
        return subprocess.run(
            [*COMMAND, *args], cwd=workdir, env=environment, capture_output=True, text=True,
            timeout=timeout, check=False,
        )

    return run


@pytest.fixture
def write_csv(workdir: Path) -> Callable[[str, bytes], Path]:
    def write(name: str, data: bytes) -> Path:
        path = workdir / name
        path.write_bytes(data)
        return path

    return write
