"""Paths users meet rarely, each with what it must say: a stale read just after an update,
an endpoint without rolloutState, ECS's history refusing, a rollback that cannot be
followed, a corrupt guard state, command lines that mean two things, no region or profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action import wait
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import Deployment, Service, ServiceDeployment
from ecsundo_action.edges import guard
from ecsundo_action.result import Status
from ecsundo_action.wait import STALE_READ_GRACE
from tests.conftest import body, ecsundo, in_words, run
from tests.runner import defaults, run_step


def judge(*args: Any, **kwargs: Any) -> tuple[bool, str] | None:
    """wait.judge, its reason in words."""
    return in_words(wait.judge(*args, **kwargs))


def rollback_verdict(*args: Any, **kwargs: Any) -> tuple[bool, str] | None:
    """wait.rollback_verdict, its reason in words."""
    return in_words(wait.rollback_verdict(*args, **kwargs))


OLD, NEW = (
    "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
    ("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"),
)


def service(*deployments: Deployment, on: str = NEW) -> Service:
    return Service(
        "web", "arn:aws:ecs:us-east-1:123456789012:service/shop/web", on, deployments=deployments
    )


# -- judging a described service ---------------------------------------------------------------


def test_a_stale_read_just_after_the_update_is_not_a_rollback() -> None:
    old = Deployment("ecs-svc/1", "PRIMARY", OLD, "COMPLETED", running_count=2, desired_count=2)
    assert judge(service(old, on=OLD), NEW, ours="ecs-svc/2", elapsed=0.5) is None
    ok, said = judge(service(old, on=OLD), NEW, ours="ecs-svc/2", elapsed=STALE_READ_GRACE + 1) or (
        True,
        "",
    )
    assert not ok and said.startswith("service is on web:1, not web:2"), said
    # Once our deployment has been seen, another task definition is no stale read.
    ours = Deployment("ecs-svc/2", "ACTIVE", NEW, "FAILED")
    assert judge(service(old, ours, on=OLD), NEW, ours="ecs-svc/2", elapsed=0.5) is not None


def test_without_rollout_state_a_lone_deployment_running_its_count_has_settled() -> None:
    running = Deployment("d", "PRIMARY", NEW, None, running_count=2, desired_count=2)
    assert judge(service(running), NEW) == (True, "2/2 tasks running")
    starting = Deployment("d", "PRIMARY", NEW, None, running_count=1, desired_count=2)
    assert judge(service(starting), NEW) is None
    draining = Deployment("o", "ACTIVE", OLD, None, running_count=1, desired_count=2)
    assert judge(service(running, draining), NEW) is None  # the old one still runs


@pytest.mark.parametrize(
    ("deployment", "verdict"),
    [
        (None, (False, "the stopped deployment is no longer known to ECS")),
        ({"status": "ROLLBACK_SUCCESSFUL"}, (True, "ECS rolled the deployment back")),
        (
            {"status": "ROLLBACK_FAILED", "statusReason": "tasks\nfailed"},
            (False, "ECS's rollback FAILED: tasks failed"),
        ),
        ({"status": "ROLLBACK_FAILED"}, (False, "ECS's rollback FAILED")),
        (
            {"status": "SUCCESSFUL"},
            (False, "the deployment ended SUCCESSFUL instead of rolling back"),
        ),
        ({"status": "ROLLBACK_IN_PROGRESS"}, None),
    ],
)
def test_ecs_s_own_rollback_is_judged_from_its_service_deployment(
    deployment: dict[str, Any] | None, verdict: tuple[bool, str] | None
) -> None:
    found = None if deployment is None else ServiceDeployment.from_api(deployment)
    assert rollback_verdict(found) == verdict


# -- ECS's history refusing ---------------------------------------------------------------------


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    for name in ("web", "api"):
        sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=1)
        sim.client("ecs").update_service(
            cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
        )
    return sim


def test_history_refused_as_access_denied_falls_back_to_revisions(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.refusals[("ListServiceDeployments", "*")] = "AccessDeniedException"
    result = run(gateway, "rollback", "shop", since_minutes=0)
    for row in result.services:
        assert row.status == Status.SUCCESS and row.to.endswith(f"{row.name}:1"), row
        assert "task-definition revisions" in row.message


def test_history_failing_otherwise_leaves_that_service_alone_in_one_line(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.refusals[("ListServiceDeployments", "api")] = "ClientException"
    rows = {s.name: s for s in run(gateway, "rollback", "shop", since_minutes=0).services}
    assert rows["web"].status == Status.SUCCESS
    assert rows["api"].status == Status.FAILED and rows["api"].message.startswith(
        "not rolled back: read service-deployment history: ClientException:"
    ), rows["api"]


def test_a_stopped_deployment_that_cannot_be_followed_fails_its_row(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    shop.rules.deploy_seconds = 600
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3"))
    )
    shop.rules.deploy_seconds = 0.2
    # Reading the history works while planning; then ECS stops answering it.
    seen: list[str] = []

    def refuse_once_stopped(call: Any) -> None:
        seen.append(call.operation)
        if call.operation == "StopServiceDeployment":
            shop.rules.refusals[("DescribeServiceDeployments", "*")] = "ClientException"

    shop.rules.before_request = refuse_once_stopped
    result = run(gateway, "restore", "shop", store=store, snapshot_id="latest", services=["web"])
    [web] = result.services
    assert "StopServiceDeployment" in seen
    assert web.status == Status.FAILED, web
    assert "stopped, but ECS's rollback could not be followed" in web.message


# -- the action's post step and the command line -------------------------------------------------


@pytest.mark.parametrize(
    ("saved", "said"),
    [
        ("{not json", "guard state is unreadable: JSONDecodeError"),
        ('{"cluster": "shop"}', "guard state is unreadable: KeyError"),
        (
            json.dumps(
                {"cluster": "shop", "store": "file:///x", "snapshotId": "../x", "region": "r"}
            ),
            "guard state 'snapshotId'",
        ),
    ],
)
def test_a_corrupt_guard_state_is_one_line_and_touches_nothing(
    sim: Any, workspace: Path, saved: str, said: str
) -> None:
    sim.calls.clear()
    post = run_step(
        "post.py",
        defaults(mode="guard", cluster="shop"),
        sim.env,
        workspace,
        state={guard.STATE: saved},
    )
    assert post.returncode == 1
    [error] = post.errors
    assert said in error and "\n" not in error, error
    assert sim.calls == []


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["cluster", "restore", "shop", "--cluster", "shop"], {}, "got both 'shop' and --cluster"),
        (["service", "-c", "shop", "web*"], {}, "service 'web*': expected one service name"),
        (
            ["cluster", "snapshot", "shop"],
            {"AWS_REGION": None, "AWS_DEFAULT_REGION": None},
            "no AWS region: set the region input, --region or AWS_REGION",
        ),
        (["cluster", "snapshot", "shop"], {"AWS_PROFILE": "nope"}, "AWS profile 'nope' not found"),
    ],
)
def test_the_cli_says_what_it_cannot_do_in_one_line(
    sim: Any, tmp_path: Path, args: list[str], env: dict[str, str | None], said: str
) -> None:
    sim.create_cluster("shop")
    sim.calls.clear()
    no_config = {"AWS_CONFIG_FILE": str(tmp_path / "none")}
    proc = ecsundo(sim, *args, cwd=tmp_path, env={**no_config, **env})
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert said in proc.stderr and "Traceback" not in proc.stderr
    assert sim.calls == []


# -- reads that fail while planning, and odd stored or given things -------------------------------


def test_a_restore_without_readable_service_revisions_puts_back_task_definitions(
    shop: Any, gateway: EcsGateway, tmp_path: Path, workspace: Path
) -> None:
    store = f"file://{tmp_path}"
    taken = run(gateway, "snapshot", "shop", store=store)  # on :2, after the fixture's deploy
    assert taken.snapshot is not None
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3"))
    )
    shop.rules.refusals[("DescribeServiceRevisions", "*")] = "ClientException"
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", store=store, snapshot_id=taken.snapshot.id),
        shop.env,
        workspace,
    )
    assert restored.returncode == 0, restored.stdout
    assert "service revisions cannot be read (" in restored.stdout
    rows = {s["name"]: s for s in json.loads(restored.outputs["services"])}
    assert rows["web"]["status"] == "success" and rows["web"]["to"].endswith("web:2")
    assert "service settings not compared" in rows["web"]["message"]


def test_a_service_deleted_while_the_snapshot_reads_it_is_not_recorded(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    from moto.ecs.models import ecs_backends

    from simulator.rules import rules_lock

    shop.rules.drain_seconds = 60

    def delete_api_first(call: Any) -> None:
        if call.operation == "DescribeServices":
            with rules_lock():
                backend = ecs_backends[shop.account_id][shop.region]
                if backend.services["shop:api"].status == "ACTIVE":
                    backend.delete_service("shop", "api", force=True)

    shop.rules.before_request = delete_api_first
    taken = run(gateway, "snapshot", "shop", store=f"file://{tmp_path}")
    assert taken.snapshot is not None
    assert [s.name for s in taken.snapshot.services] == ["web"]
    assert "not recorded, being deleted: api" in taken.warnings


def test_file_store_read_and_write_failures_are_one_line(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    from ecsundo_action.aws.records import Cluster
    from ecsundo_action.errors import StoreError
    from ecsundo_action.snapshots.stores import FileStore

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(StoreError, match=r"^cannot write to file://.*a-file: Not a directory$"):
        run(gateway, "snapshot", "shop", store=f"file://{blocked}")
    cluster = Cluster.from_arn("arn:aws:ecs:us-east-1:123456789012:cluster/shop")
    store = FileStore(tmp_path / "store")
    (store.root / store.key(cluster, "pre")).mkdir(parents=True)  # a folder where a file goes
    with pytest.raises(StoreError, match=r"^cannot read file://.*pre\.json: Is a directory$"):
        store.get(cluster, "pre")


def test_odd_given_and_stored_things_are_refused_in_words() -> None:
    from ecsundo_action.aws.arns import family_and_revision
    from ecsundo_action.errors import InputError, SnapshotRefused
    from ecsundo_action.modes.selection import parse
    from ecsundo_action.snapshots.document import loads
    from ecsundo_action.snapshots.stores import open_store

    with pytest.raises(InputError, match=r"'\.\.' in the prefix"):
        open_store("s3://bucket/a/../b")
    with pytest.raises(SnapshotRefused, match="is not a snapshot document"):
        loads(b"[1, 2]", "'x'")
    with pytest.raises(ValueError, match="not a task-definition ARN"):
        family_and_revision("arn:aws:ecs:us-east-1:123456789012:service/shop/web")
    with pytest.raises(InputError):
        parse("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1")


def test_the_cli_lists_snapshots_as_json(shop: Any, tmp_path: Path) -> None:
    store = f"file://{tmp_path}"
    taken = json.loads(
        ecsundo(shop, "cluster", "snapshot", "shop", "--store", store, "--json").stdout
    )
    listed = ecsundo(shop, "snapshots", "-c", "shop", "--store", store, "--json")
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert found["store"] == store and found["snapshots"] == [taken["snapshot-id"]]
