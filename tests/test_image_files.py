"""The image's recipe: hadolint-clean and built the way the action needs (no build here;
`make container-test` builds and runs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.fail("hadolint is not installed: run make test (it installs the test extras)")
    proc = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_shape() -> None:
    lines = [line for line in DOCKERFILE.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "ARG BASE_IMAGE=python:3.12-slim" and lines[1] == "FROM ${BASE_IMAGE}"
    assert not re.search(r"^USER\b", DOCKERFILE, re.M)  # the runner needs root
    assert "PYTHONDONTWRITEBYTECODE=1" in DOCKERFILE and "PYTHONUNBUFFERED=1" in DOCKERFILE
    assert re.search(r'^ENTRYPOINT \["python3", "/app/entrypoint.py"\]$', DOCKERFILE, re.M)
    # Locked dependencies are installed before the code is copied (a cached layer).
    install = DOCKERFILE.index("--require-hashes")
    assert DOCKERFILE.index("COPY requirements/runtime.txt") < install
    assert install < DOCKERFILE.index("COPY ecsundo_action")
    assert "COPY entrypoint.py post.py /app/" in DOCKERFILE
    ignored = (ROOT / ".dockerignore").read_text()
    assert ignored.splitlines()[1] == "*" and "!ecsundo_action/" in ignored


def test_lock_pins_every_requirement_with_hashes() -> None:
    lock = (ROOT / "requirements/runtime.txt").read_text()
    pins = re.findall(r"^([a-z0-9-]+)==([^ ]+) \\$", lock, re.M)
    assert {"boto3", "botocore", "jsonschema", "actions-toolkit", "requests"} <= {
        p for p, _ in pins
    }
    blocks = re.split(r"^(?=[a-z0-9-]+==)", lock, flags=re.M)[1:]
    assert all("--hash=sha256:" in block for block in blocks)
    assert "pygithub==" not in lock  # left out on purpose: see requirements/runtime.in
