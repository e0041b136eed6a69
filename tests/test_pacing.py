"""Pacing to ECS's quotas: the simulator throttles as ECS does; the engine never gets there."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecsundo_action.apply import ApplyOptions
from ecsundo_action.gateway import EcsGateway
from ecsundo_action.pacing import TokenBucket
from ecsundo_action.restore import RestoreOptions, restore
from ecsundo_action.result import Verdict
from ecsundo_action.snapshot import snapshot
from ecsundo_action.stores import FileStore
from simulator import Rules


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


def _cluster_with_changes(sim: Any, tmp_path: Path, services: int) -> FileStore:
    ecs = sim.client("ecs")
    sim.create_cluster("big")
    for i in range(services):
        family = f"app{i:02d}"
        sim.create_service(
            "big",
            family,
            sim.register(
                {
                    "family": family,
                    "containerDefinitions": [{"name": "app", "image": f"app:{i}", "memory": 64}],
                }
            ),
            desired_count=1,
        )
    store = FileStore(tmp_path)
    with EcsGateway(ecs, quotas=None) as gateway:
        snapshot(gateway, store, "big")
    for i in range(services):
        family = f"app{i:02d}"
        new = sim.register(
            {
                "family": family,
                "containerDefinitions": [{"name": "app", "image": "bad", "memory": 64}],
            }
        )
        ecs.update_service(cluster="big", service=family, taskDefinition=new)
        ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    return store


# Tight quotas so a small restore meets them: 12 re-registrations against a burst of 4.
# Rates as ECS's (at most 20/s), bursts far smaller, so a dozen services meet them.
TIGHT = {
    "RegisterTaskDefinition": (4, 5.0),
    "UpdateService": (4, 5.0),
    "DescribeTaskDefinition": (6, 20.0),
    "DescribeServices": (4, 20.0),
}


def test_paced_restore_is_never_throttled(sim: Any, tmp_path: Path) -> None:
    store = _cluster_with_changes(sim, tmp_path, 12)
    sim.rules = Rules(quotas=TIGHT)
    with EcsGateway(sim.client("ecs"), max_concurrency=8, quotas=TIGHT) as gateway:
        result = restore(
            gateway,
            store,
            "big",
            RestoreOptions(apply=ApplyOptions(poll_interval=0.05, timeout=30)),
        )
    assert result.verdict == Verdict.SUCCESS
    assert sim.throttled == []


def test_unpaced_restore_is_throttled_and_still_finishes_on_botocore_retries(
    sim: Any, tmp_path: Path
) -> None:
    store = _cluster_with_changes(sim, tmp_path, 12)
    sim.rules = Rules(quotas=TIGHT)
    ecs = sim.client("ecs", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    with EcsGateway(ecs, max_concurrency=8, quotas=None) as gateway:
        result = restore(
            gateway,
            store,
            "big",
            RestoreOptions(apply=ApplyOptions(poll_interval=0.05, timeout=30)),
        )
    assert sim.throttled, "without pacing the same restore runs into the quotas"
    assert result.verdict == Verdict.SUCCESS
