"""A dry run changes nothing, in AWS or in the store, for every mode, at both edges a user
meets: the `ecsundo` command as a subprocess and the action as the runner runs it. The same
situation, run for real, changes things: so these tests fail if dry-run is ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import body, ecsundo
from tests.runner import defaults, run_step


def world(sim: Any) -> dict[str, Any]:
    """Everything a run could change: services, task definitions (ACTIVE and INACTIVE)."""
    ecs = sim.client("ecs")
    services = ecs.describe_services(cluster="shop", services=["web", "api", "worker"])
    return {
        "services": sorted(
            (s["serviceName"], s["taskDefinition"], s["desiredCount"]) for s in services["services"]
        ),
        "definitions": {
            status: sorted(
                ecs.list_task_definitions(status=status, maxResults=100)["taskDefinitionArns"]
            )
            for status in ("ACTIVE", "INACTIVE")
        },
    }


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def deployed(sim: Any, tmp_path: Path) -> tuple[Any, Path]:
    """shop's web, api and worker snapshotted on :1 into a file store, then a bad deploy:
    web and api on :2, web:1 deregistered, worker scaled to 3."""
    store = tmp_path / "store"
    store.mkdir()
    sim.create_cluster("shop")
    for name in ("web", "api", "worker"):
        sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=2)
    taken = ecsundo(sim, "cluster", "snapshot", "shop", "--store", f"file://{store}")
    assert taken.returncode == 0, taken.stderr
    ecs = sim.client("ecs")
    for name in ("web", "api"):
        ecs.update_service(
            cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
        )
    ecs.deregister_task_definition(taskDefinition="web:1")
    ecs.update_service(cluster="shop", service="worker", desiredCount=3)
    return sim, store


CLI_MODES = {
    "snapshot": ["cluster", "snapshot", "shop"],
    "restore": ["cluster", "restore", "shop", "--snapshot-id", "latest", "--restore-desired-count"],
    "rollback": ["cluster", "shop", "--since", "0"],
    "service": ["service", "-c", "shop", "web"],
}


@pytest.mark.parametrize("mode", CLI_MODES)
def test_the_cli_dry_run_changes_nothing_in_any_mode(
    deployed: tuple[Any, Path], tmp_path: Path, mode: str
) -> None:
    sim, store = deployed
    before, stored = world(sim), files(store)
    sim.calls.clear()
    args = [*CLI_MODES[mode], "--store", f"file://{store}"]
    dry = ecsundo(sim, *args, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout, dry.stdout
    assert sim.mutating_calls() == [] and world(sim) == before and files(store) == stored
    assert not list(tmp_path.glob("*.json"))  # nothing written beside it either
    # The same command for real does change things: the dry run was not vacuous.
    real = ecsundo(sim, *args, cwd=tmp_path)
    assert real.returncode in (0, 1) and "Traceback" not in real.stderr, real.stderr
    assert world(sim) != before or files(store) != stored


def test_the_cli_dry_run_prints_the_plan(deployed: tuple[Any, Path], tmp_path: Path) -> None:
    sim, store = deployed
    args = [*CLI_MODES["restore"], "--store", f"file://{store}", "--dry-run"]
    out = ecsundo(sim, *args, cwd=tmp_path).stdout
    head = out.split("\n", 1)[0]
    # Which snapshot `latest` resolved to, and when it was taken.
    assert head.startswith("plan for restore of cluster shop from snapshot "), out
    assert head.endswith(", outside GitHub Actions (dry run: nothing changed)"), out
    assert ", taken " in head and ("(just now)" in head or " ago)" in head), out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()[:1]}
    # web:1 was deregistered: a copy is registered; api:1 is ACTIVE: a plain update; worker
    # runs the snapshot's task definition and only its count differs.
    assert re.fullmatch(
        r"web +re-register +web:2 +web:1 +web:1 is INACTIVE; registering it again", rows["web"]
    ), rows["web"]
    assert re.fullmatch(r"api +update +api:2 +api:1 *", rows["api"]), rows["api"]
    assert re.fullmatch(r"worker +update +worker:1 +worker:1 +.*3 -> 2.*", rows["worker"]), rows
    as_json = json.loads(ecsundo(sim, *args, "--json", cwd=tmp_path).stdout)
    planned = {s["name"]: (s["action"], s["status"]) for s in as_json["services"]}
    assert planned == {
        "web": ("re-register", "planned"),
        "api": ("update", "planned"),
        "worker": ("update", "planned"),
    }
    assert as_json["result"] == "dry-run"


ACTION_MODES = {
    "snapshot": {},
    "guard": {},
    "restore": {"snapshot_id": "latest", "restore_desired_count": "true"},
    "rollback": {"since_minutes": "0"},
}


@pytest.mark.parametrize("mode", ACTION_MODES)
def test_the_action_dry_run_changes_nothing_in_any_mode(
    deployed: tuple[Any, Path], workspace: Path, mode: str
) -> None:
    sim, store = deployed
    before, stored = world(sim), files(store)
    sim.calls.clear()
    inputs = defaults(mode=mode, cluster="shop", store=f"file://{store}", **ACTION_MODES[mode])
    dry = run_step("entrypoint.py", {**inputs, "dry-run": "true"}, sim.env, workspace)
    assert dry.returncode == 0, dry.stdout
    assert dry.outputs["result"] == "dry-run" and dry.state == {}
    assert sim.mutating_calls() == [] and world(sim) == before and files(store) == stored
    assert not [p for p in workspace.parent.rglob("*.json") if store not in p.parents]
    if mode in ("restore", "rollback"):
        assert "dry-run" in dry.summary and json.loads(dry.outputs["changed-services"]) == []
    real = run_step("entrypoint.py", inputs, sim.env, workspace)
    assert real.outputs["result"] != "dry-run", real.stdout
    assert world(sim) != before or files(store) != stored
