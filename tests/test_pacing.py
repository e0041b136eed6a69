"""Pacing to ECS's quotas: the simulator throttles as ECS does; the engine never gets there."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.pacing import TokenBucket
from ecsundo_action.result import Verdict
from simulator import Rules
from tests.conftest import run, snapshotted_then_bad_deploy


def test_token_bucket_bursts_then_paces() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    bucket = TokenBucket(burst=3, rate=2, clock=lambda: now[0], sleep=sleep)
    assert [bucket.acquire() for _ in range(3)] == [0, 0, 0]
    assert bucket.acquire() == pytest.approx(0.5)  # the 4th waits for the next token
    assert bucket.acquire() == pytest.approx(1.0)  # and the 5th queues behind it
    now[0] = 10.0  # long idle: back to a full burst, never more
    assert [bucket.acquire() for _ in range(3)] == [0, 0, 0]
    assert bucket.acquire() > 0


def test_simulator_throttles_like_ecs_and_adds_latency(sim: Any) -> None:
    sim.rules = Rules(latency_seconds=0.05, quotas={"ListClusters": (2, 1)})
    ecs = sim.client("ecs", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    started = time.monotonic()
    ecs.list_clusters()
    assert time.monotonic() - started >= 0.05
    ecs.list_clusters()
    with pytest.raises(ClientError) as caught:
        ecs.list_clusters()
    assert caught.value.response["Error"] == {
        "Code": "ThrottlingException",
        "Message": "Rate exceeded",
    }
    assert [c.operation for c in sim.throttled] == ["ListClusters"]


# Rates as ECS's (at most 20/s), bursts far smaller, so a dozen services meet them.
TIGHT = {
    "RegisterTaskDefinition": (4, 5.0),
    "UpdateService": (4, 5.0),
    "DescribeTaskDefinition": (6, 20.0),
    "DescribeServices": (4, 20.0),
}


def test_paced_restore_is_never_throttled(sim: Any, tmp_path: Path) -> None:
    store = snapshotted_then_bad_deploy(sim, 12, tmp_path, deregister_every=1)
    sim.rules = Rules(quotas=TIGHT)
    # Bursts this small leave no room for a loaded test machine's thread scheduling (two
    # paced calls can reach the stand-in together): the pacer keeps one more token in hand.
    paced = {operation: (burst - 1, rate) for operation, (burst, rate) in TIGHT.items()}
    gateway = EcsGateway(sim.client("ecs"), quotas=paced)
    result = run(gateway, "restore", store=store, snapshot_id="latest", max_concurrency=8)
    assert result.verdict == Verdict.SUCCESS
    assert sim.throttled == []


def test_unpaced_restore_is_throttled_and_still_finishes_on_botocore_retries(
    sim: Any, tmp_path: Path
) -> None:
    store = snapshotted_then_bad_deploy(sim, 12, tmp_path, deregister_every=1)
    sim.rules = Rules(quotas=TIGHT)
    ecs = sim.client("ecs", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    gateway = EcsGateway(ecs, quotas=None)
    result = run(gateway, "restore", store=store, snapshot_id="latest", max_concurrency=8)
    assert sim.throttled, "without pacing the same restore runs into the quotas"
    assert result.verdict == Verdict.SUCCESS
