"""Shared fixtures: one simulator per test session, wiped before every test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator import Simulator
from tests import iam

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The shared corpus beside the repository, else the copy kept in the repository.
CORPUS_DIRS = (REPO_ROOT.parent / "shared" / "task-definitions", REPO_ROOT / "tests" / "corpus")


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Simulator]:
    """The session's simulator (state left by earlier tests): use `sim` instead."""
    with Simulator() as simulator:
        yield simulator


@pytest.fixture
def sim(sim_server: Simulator) -> Iterator[Simulator]:
    """A started simulator with no AWS state, an empty call log and default Rules.

    Afterwards, the calls ecsundo's own clients made are kept for the IAM policy check.
    """
    sim_server.reset()
    yield sim_server
    iam.record(sim_server.calls)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The IAM policy check runs last, over every call the rest of the suite made."""
    items.sort(key=lambda item: item.path.name == "test_iam_policy.py")


@pytest.fixture(scope="session")
def corpus() -> list[tuple[str, dict[str, Any]]]:
    """The 30 real task definitions (file name, RegisterTaskDefinition body), by file name."""
    for directory in CORPUS_DIRS:
        files = sorted(directory.glob("*.json"))
        if files:
            return [(path.name, json.loads(path.read_text())) for path in files]
    pytest.skip(f"task-definition corpus not found in {' or '.join(map(str, CORPUS_DIRS))}")
