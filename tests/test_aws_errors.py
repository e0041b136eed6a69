"""ECS refusing a call (AccessDenied, InvalidParameterException, ClientException) or a
service deleted while waiting: one line that says what was being done and what AWS said,
on that service's row only; the other services are still restored. The errors are injected
in the simulator (Rules.refusals), answered as ECS answers them, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.ecs.models import ecs_backends

from ecsundo_action.aws.gateway import EcsGateway, retries
from ecsundo_action.result import Status, Verdict
from simulator.rules import rules_lock
from tests.conftest import body, ecsundo, run
from tests.runner import defaults, run_step

SERVICES = ("web", "api", "worker")


def on(sim: Any, name: str) -> str:
    described = sim.client("ecs").describe_services(cluster="shop", services=[name])
    return described["services"][0]["taskDefinition"].rsplit("/", 1)[-1]


@pytest.fixture
def deployed(sim: Any, gateway: EcsGateway, tmp_path: Path) -> tuple[Any, str]:
    """web, api and worker snapshotted on :1, then all on :2, web:1 deregistered (web's
    restore registers a copy; the others are plain updates)."""
    sim.create_cluster("shop")
    for name in SERVICES:
        sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = sim.client("ecs")
    for name in SERVICES:
        ecs.update_service(
            cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
        )
    ecs.deregister_task_definition(taskDefinition="web:1")
    return sim, store


@pytest.mark.parametrize(
    ("operation", "service", "code", "said"),
    [
        (
            "UpdateService",
            "api",
            "AccessDeniedException",
            "update service api: AccessDeniedException: User: arn:aws:sts::123456789012:"
            "assumed-role/deploy/ci is not authorized to perform: ecs:UpdateService",
        ),
        (
            "RegisterTaskDefinition",
            "web",
            "InvalidParameterException",
            "InvalidParameterException: Invalid parameter for RegisterTaskDefinition: web.",
        ),
        (
            "UpdateService",
            "worker",
            "ClientException",
            "ClientException: UpdateService failed for worker: the request was refused.",
        ),
    ],
)
def test_a_refused_call_fails_that_service_only_in_one_line(
    deployed: tuple[Any, str],
    gateway: EcsGateway,
    operation: str,
    service: str,
    code: str,
    said: str,
) -> None:
    sim, store = deployed
    sim.rules.refusals[(operation, service)] = code
    result = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    rows = {s.name: s for s in result.services}
    assert result.verdict == Verdict.PARTIAL
    assert rows[service].status == Status.FAILED and said in rows[service].message, rows[service]
    assert "\n" not in rows[service].message
    assert on(sim, service) == f"{service}:2"  # nothing changed for it
    for other in set(SERVICES) - {service}:
        assert rows[other].status == Status.SUCCESS, rows[other]
        assert on(sim, other) in (f"{other}:1", f"{other}:3")  # restored (web: a copy)


def test_through_the_action_a_refusal_is_one_annotation_and_exit_1(
    deployed: tuple[Any, str], workspace: Path
) -> None:
    sim, store = deployed
    sim.rules.refusals[("UpdateService", "api")] = "AccessDeniedException"
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", store=store, snapshot_id="latest"),
        sim.env,
        workspace,
    )
    assert restored.returncode == 1 and restored.outputs["result"] == "partial"
    [api_error, verdict] = restored.errors
    assert api_error.startswith("api: update service api: AccessDeniedException: User: ")
    assert verdict == "restore of cluster shop: partial"
    rows = {s["name"]: s["status"] for s in json.loads(restored.outputs["services"])}
    assert rows == {"web": "success", "api": "failed", "worker": "success"}
    assert sorted(json.loads(restored.outputs["changed-services"])) == ["web", "worker"]


@pytest.mark.parametrize(
    ("operation", "said"),
    [
        ("DescribeServices", "AccessDeniedException: User: "),
        ("ListServices", "AccessDeniedException: User: "),
    ],
)
def test_a_refused_read_stops_the_run_before_any_change(
    deployed: tuple[Any, str], tmp_path: Path, operation: str, said: str
) -> None:
    sim, store = deployed
    sim.rules.refusals[(operation, "*")] = "AccessDeniedException"
    sim.calls.clear()
    proc = ecsundo(sim, "cluster", "restore", "shop", "--store", store, "--snapshot-id", "latest")
    assert proc.returncode == 1, proc.stdout
    assert proc.stderr.count("\n") == 1 and said in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and sim.mutating_calls() == []


def test_a_service_deleted_while_waiting_fails_its_row_and_the_others_settle(
    deployed: tuple[Any, str], gateway: EcsGateway
) -> None:
    sim, store = deployed
    sim.rules.deploy_seconds = 0.5
    updated: set[str] = set()

    def delete_api_once_updated(call: Any) -> None:  # someone deletes api mid-rollout
        if call.operation == "UpdateService":
            updated.add(call.params["service"].rsplit("/", 1)[-1])
        elif call.operation == "DescribeServices" and "api" in updated:
            with rules_lock():
                backend = ecs_backends[sim.account_id][sim.region]
                if backend.services["shop:api"].status == "ACTIVE":
                    backend.delete_service("shop", "api", force=True)

    sim.rules.before_request = delete_api_once_updated
    result = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    rows = {s.name: s for s in result.services}
    assert rows["api"].status == Status.FAILED
    assert rows["api"].message.endswith("service was deleted while waiting"), rows["api"]
    assert rows["web"].status == rows["worker"].status == Status.SUCCESS
    assert result.verdict == Verdict.PARTIAL


def test_the_users_retry_settings_win() -> None:
    assert retries({}, {}) == {"mode": "standard", "total_max_attempts": 10}
    assert retries({"AWS_RETRY_MODE": "adaptive"}, {}) == {"total_max_attempts": 10}
    assert retries({"AWS_MAX_ATTEMPTS": "3"}, {}) == {"mode": "standard"}
    assert retries({}, {"retry_mode": "legacy", "max_attempts": "2"}) == {}
