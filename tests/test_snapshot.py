"""Snapshot against the AWS stand-in (moto with AWS's rules, over HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway, registerable_fields
from ecsundo_action.engine import execute
from ecsundo_action.errors import NotFoundError
from ecsundo_action.modes.snapshot import GITHUB_CONTEXT
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from ecsundo_action.snapshots import document as doc
from ecsundo_action.snapshots.stores import FileStore
from tests.conftest import SECRET
from tests.conftest import body as plain_body


def body(family: str, **extra: Any) -> dict[str, Any]:
    return plain_body(family, image="nginx:1", env={"PASSWORD": SECRET}, **extra)


def snapshot(
    gateway: EcsGateway,
    folder: Path,
    cluster: str,
    services: list[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Outcome:
    request = Request(
        Mode.SNAPSHOT,
        cluster,
        tuple(services) if services else None,
        store=f"file://{folder}",
    )
    return execute(request, gateway=gateway, environ=environ or {})


def test_registerable_fields_come_from_botocore_not_a_hand_list(gateway: EcsGateway) -> None:
    fields = set(registerable_fields(gateway.ecs))
    original_tool = {
        "family",
        "taskRoleArn",
        "executionRoleArn",
        "networkMode",
        "containerDefinitions",
        "volumes",
        "placementConstraints",
        "requiresCompatibilities",
        "cpu",
        "memory",
    }
    lost_before = {
        "runtimePlatform",
        "ephemeralStorage",
        "pidMode",
        "ipcMode",
        "proxyConfiguration",
        "inferenceAccelerators",
        "enableFaultInjection",
    }
    assert original_tool | lost_before <= fields
    # Read-only describe fields must never be sent back to RegisterTaskDefinition.
    assert not fields & {
        "taskDefinitionArn",
        "revision",
        "status",
        "registeredAt",
        "requiresAttributes",
        "compatibilities",
    }


def test_snapshot_records_services_task_definitions_and_context(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    sim.create_cluster("prod")
    web = sim.register(
        body(
            "web",
            tags=[{"key": "team", "value": "shop"}],
            runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        )
    )
    agent = sim.register(body("agent"))
    sim.create_service("prod", "web", web, desired_count=3)
    sim.create_service("prod", "api", web, desired_count=1)
    sim.create_service("prod", "agent", agent, scheduling_strategy="DAEMON")
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "org/shop",
        "GITHUB_SHA": "abc123",
        "GITHUB_RUN_ID": "42",
        "GITHUB_WORKFLOW": "deploy",
        "GITHUB_ACTOR": "octocat",
    }
    assert set(GITHUB_CONTEXT.values()) < set(environ)
    store = FileStore(tmp_path)
    sim.calls.clear()

    taken = snapshot(gateway, tmp_path, "prod", environ=environ)

    assert taken.snapshot is not None and taken.snapshot_uri is not None
    d = taken.snapshot.to_json()
    assert [s["name"] for s in d["services"]] == ["agent", "api", "web"]
    by_name = {s["name"]: s for s in d["services"]}
    assert by_name["web"]["taskDefinition"] == web
    assert by_name["web"]["desiredCount"] == 3
    assert by_name["agent"]["schedulingStrategy"] == "DAEMON"
    assert by_name["web"]["launchType"] == "EC2"
    assert set(d["taskDefinitions"]) == {web, agent}
    kept = d["taskDefinitions"][web]
    assert kept["body"]["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert kept["tags"] == [{"key": "team", "value": "shop"}]
    assert d["github"] == {
        "repository": "org/shop",
        "sha": "abc123",
        "runId": "42",
        "workflow": "deploy",
        "actor": "octocat",
    }
    assert (d["region"], d["accountId"]) == (sim.region, sim.account_id)
    assert d["cluster"]["arn"].endswith(":cluster/prod")
    assert d["checksum"] == doc.checksum(d)
    assert taken.snapshot_uri.startswith("file://") and taken.snapshot.id in taken.snapshot_uri
    assert store.get(gateway.describe_cluster("prod"), taken.snapshot.id) == taken.snapshot

    # One DescribeTaskDefinition per distinct task definition, not per service.
    described = [c for c in sim.calls if c.operation == "DescribeTaskDefinition"]
    assert len(described) == 2
    assert sim.mutating_calls() == []


def test_snapshot_pages_past_100_services(sim: Any, gateway: EcsGateway, tmp_path: Path) -> None:
    sim.create_cluster("big")
    td = sim.register(body("app"))
    names = [f"svc-{i:03d}" for i in range(105)]
    for name in names:
        sim.create_service("big", name, td, desired_count=1)
    sim.calls.clear()

    taken = snapshot(gateway, tmp_path, "big")

    assert [s.name for s in taken.services] == names
    ops = [c.operation for c in sim.calls]
    assert ops.count("ListServices") == 2  # pages of 100
    assert ops.count("DescribeServices") == 11  # 10 services a call
    assert ops.count("DescribeTaskDefinition") == 1


def test_snapshot_reads_each_page_and_group_as_it_comes(sim: Any, tmp_path: Path) -> None:
    # 250 services (3 pages), each on a task definition of its own, read with 2 threads at
    # 20 ms a call: services are described while later pages are listed, and task
    # definitions while later services are described, not phase after phase.
    sim.create_cluster("big")
    for i in range(250):
        sim.create_service("big", f"svc-{i:03d}", sim.register(body(f"app{i}")), desired_count=1)
    sim.rules.latency_seconds = 0.02
    sim.calls.clear()
    request = Request(
        Mode.SNAPSHOT, "big", store=f"file://{tmp_path}", max_concurrency=2, full=True
    )
    taken = execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})

    assert taken.snapshot is not None and len(taken.snapshot.task_definitions) == 250
    ops = [c.operation for c in sim.calls]

    def last(op: str) -> int:
        return len(ops) - 1 - ops[::-1].index(op)

    assert ops.count("ListServices") == 3 and ops.count("DescribeServices") == 25
    assert ops.index("DescribeServices") < last("ListServices")
    assert ops.index("DescribeTaskDefinition") < last("DescribeServices")
    assert ops.count("DescribeTaskDefinition") == 250


def test_snapshot_selection_by_name_and_glob(sim: Any, gateway: EcsGateway, tmp_path: Path) -> None:
    sim.create_cluster("prod")
    td = sim.register(body("app"))
    for name in ["web", "web-admin", "api", "worker"]:
        sim.create_service("prod", name, td)
    taken = snapshot(gateway, tmp_path, "prod", ["web*", "api"])
    assert [s.name for s in taken.services] == ["api", "web", "web-admin"]
    assert taken.snapshot is not None and taken.snapshot.selection == ("web*", "api")


def test_unknown_service_or_cluster_writes_nothing(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web")))
    with pytest.raises(NotFoundError, match="'wbe' matches no service"):
        snapshot(gateway, tmp_path, "prod", ["wbe"])
    with pytest.raises(NotFoundError, match="cluster 'nope' not found"):
        snapshot(gateway, tmp_path, "nope")
    assert not list(tmp_path.rglob("*.json"))
