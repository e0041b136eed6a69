"""Restore against the AWS stand-in: re-registration, reuse, waiting and failures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.errors import NotFoundError, SnapshotRefused
from ecsundo_action.plan import PROVENANCE_TAG
from ecsundo_action.result import Outcome, Status, Verdict
from tests.conftest import SECRET, connect, family, run, snapshotted_then_bad_deploy
from tests.conftest import body as plain_body


def body(family: str, version: str) -> dict[str, Any]:
    return plain_body(
        family, version, env={"PASSWORD": SECRET}, tags=[{"key": "team", "value": "shop"}]
    )


class Cluster:
    """prod: web, api (REPLICA) and agent (DAEMON), snapshotted on version 1."""

    def __init__(self, sim: Any, tmp_path: Path) -> None:
        self.sim = sim
        self.ecs = sim.client("ecs")
        self.store = f"file://{tmp_path / 'store'}"
        self.gateway = connect(sim)
        sim.create_cluster("prod")
        self.good: dict[str, str] = {}
        for name in ["web", "api", "agent"]:
            self.good[name] = sim.register(body(name, "1"))
            if name == "agent":
                sim.create_service("prod", name, self.good[name], scheduling_strategy="DAEMON")
            else:
                sim.create_service("prod", name, self.good[name], desired_count=2)
        self.snapshot = run(self.gateway, "snapshot", store=self.store)

    def bad_deploy(
        self, *names: str, deregister: bool = True, delete: tuple[str, ...] = ()
    ) -> None:
        """Deploy version 2 the way CloudFormation leaves it: old revisions deregistered."""
        for name in names:
            old = self.running(name)
            new = self.sim.register(body(name, "2"))
            self.ecs.update_service(cluster="prod", service=name, taskDefinition=new)
            if deregister:
                self.ecs.deregister_task_definition(taskDefinition=old)
        for name in delete:
            self.ecs.delete_task_definitions(taskDefinitions=[self.good[name]])

    def running(self, name: str) -> str:
        return self.ecs.describe_services(cluster="prod", services=[name])["services"][0][
            "taskDefinition"
        ]

    def described(self, arn: str) -> dict[str, Any]:
        return self.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])

    def restore(self, **fields: Any) -> Outcome:
        fields.setdefault("snapshot_id", "latest")
        return run(self.gateway, "restore", store=self.store, **fields)


@pytest.fixture
def prod(sim: Any, tmp_path: Path) -> Cluster:
    return Cluster(sim, tmp_path)


def test_restore_active_inactive_and_deleted_targets(prod: Cluster) -> None:
    prod.bad_deploy("web", "api", "agent", delete=("api",))
    planned = prod.restore(dry_run=True).plan
    prod.sim.calls.clear()

    result = prod.restore()

    # Applying decides each step as the dry run's plan did (it only starts them sooner).
    assert result.plan is not None and planned is not None
    assert result.plan.steps == planned.steps
    assert result.plan.registrations == planned.registrations

    assert result.verdict == Verdict.SUCCESS, result.to_dict()
    rows = {s.name: s for s in result.services}
    assert {n: r.action for n, r in rows.items()} == {
        "web": "re-register",
        "api": "re-register",
        "agent": "re-register",
    }
    assert all(r.status == Status.SUCCESS for r in rows.values())
    for name in ["web", "api", "agent"]:
        now_on = prod.running(name)
        assert now_on == rows[name].to
        described = prod.described(now_on)
        image = described["taskDefinition"]["containerDefinitions"][0]["image"]
        assert image == f"shop/{name}:1"
        tags = {t["key"]: t["value"] for t in described["tags"]}
        assert tags == {"team": "shop", PROVENANCE_TAG: prod.good[name]}
    # UpdateService is always sent the full ARN, and never a desiredCount unasked.
    updates = [c.params for c in prod.sim.calls if c.operation == "UpdateService"]
    assert len(updates) == 3
    assert all(u["taskDefinition"].startswith("arn:aws:ecs:") for u in updates)
    assert all("desiredCount" not in u for u in updates)
    assert sorted(result.changed_services) == ["agent", "api", "web"]


def test_restore_uses_an_active_target_as_is(prod: Cluster) -> None:
    prod.bad_deploy("web", deregister=False)
    prod.sim.calls.clear()
    result = prod.restore()
    web = next(s for s in result.services if s.name == "web")
    assert (web.action, web.to, web.status) == ("update", prod.good["web"], Status.SUCCESS)
    assert prod.running("web") == prod.good["web"]
    assert not [c for c in prod.sim.calls if c.operation == "RegisterTaskDefinition"]
    # Untouched services get no call at all.
    touched = {
        c.params["service"].rsplit("/", 1)[-1]
        for c in prod.sim.calls
        if c.operation == "UpdateService"
    }
    assert touched == {"web"}


def test_second_restore_changes_nothing_and_registers_nothing(prod: Cluster) -> None:
    prod.bad_deploy("web", "api", delete=("web",))
    first = prod.restore()
    assert first.verdict == Verdict.SUCCESS
    revisions = prod.ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"]
    prod.sim.calls.clear()

    second = prod.restore()

    assert second.verdict == Verdict.UNCHANGED
    assert {s.status for s in second.services} == {Status.UNCHANGED}
    assert prod.sim.mutating_calls() == []
    assert prod.ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"] == revisions


def test_restore_after_another_bad_deploy_reuses_the_earlier_reregistration(prod: Cluster) -> None:
    prod.bad_deploy("web")
    first = prod.restore()
    reregistered = prod.running("web")
    prod.bad_deploy("web")  # deploys version 2 again, deregistering the re-registration
    prod.ecs.register_task_definition(**body("web", "3"))  # and a newer unrelated revision
    # The re-registration was deregistered too: it cannot be reused, so one new revision.
    second = prod.restore()
    assert second.verdict == Verdict.SUCCESS
    again = prod.running("web")
    assert again != reregistered
    prod.bad_deploy("web", deregister=False)
    prod.sim.calls.clear()
    third = prod.restore()
    web = next(s for s in third.services if s.name == "web")
    assert web.action == "update" and web.to == again and "reusing" in web.message
    operations = [c.operation for c in prod.sim.calls]
    assert "RegisterTaskDefinition" not in operations
    # Found as production finds it: by its tag, in one call, not by scanning the family.
    assert operations.count("GetResources") == 1 and "ListTaskDefinitions" not in operations
    assert first.verdict == Verdict.SUCCESS


def test_service_deleted_since_is_missing_and_the_others_restore(prod: Cluster) -> None:
    prod.bad_deploy("web", "api")
    prod.ecs.delete_service(cluster="prod", service="api", force=True)
    result = prod.restore()
    rows = {s.name: s for s in result.services}
    assert rows["api"].status == Status.MISSING and rows["api"].action == "missing"
    assert rows["web"].status == Status.SUCCESS
    assert result.verdict == Verdict.PARTIAL
    assert not result.ok


def test_desired_count_restored_only_when_asked_never_for_daemon(prod: Cluster) -> None:
    prod.ecs.update_service(cluster="prod", service="web", desiredCount=7)
    assert prod.restore().verdict == Verdict.UNCHANGED
    prod.sim.calls.clear()
    result = prod.restore(restore_desired_count=True)
    assert result.verdict == Verdict.SUCCESS
    updates = [c.params for c in prod.sim.calls if c.operation == "UpdateService"]
    assert [(u["service"].rsplit("/", 1)[-1], u["desiredCount"]) for u in updates] == [("web", 2)]
    described = prod.ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    assert described["desiredCount"] == 2


def test_dry_run_prints_the_plan_and_changes_nothing(prod: Cluster) -> None:
    prod.bad_deploy("web", "api", delete=("api",))
    prod.sim.calls.clear()
    result = prod.restore(dry_run=True)
    assert result.verdict == Verdict.DRY_RUN
    assert {s.name: s.status for s in result.services} == {
        "web": Status.PLANNED,
        "api": Status.PLANNED,
        "agent": Status.UNCHANGED,
    }
    assert prod.sim.mutating_calls() == []
    assert result.plan is not None and len(result.plan.changing) == 2


def test_selection_restores_only_the_chosen_services(prod: Cluster) -> None:
    prod.bad_deploy("web", "api")
    result = prod.restore(services=["we*"])
    assert [s.name for s in result.services] == ["web"]
    assert prod.running("api") != prod.good["api"]
    with pytest.raises(NotFoundError, match="'nope' matches no service"):
        prod.restore(services=["nope"])


@pytest.mark.parametrize(
    ("outcome", "message"),
    [("fail", "rollout FAILED"), ("circuit-breaker", "circuit breaker")],
)
def test_failed_rollout_or_circuit_breaker_is_a_failed_restore(
    prod: Cluster, outcome: str, message: str
) -> None:
    prod.bad_deploy("web", "api", deregister=False)
    prod.sim.rules.deploy_seconds = 0.2
    prod.sim.rules.outcomes["web"] = outcome
    result = prod.restore()
    rows = {s.name: s for s in result.services}
    assert rows["web"].status == Status.FAILED
    assert message in rows["web"].message
    assert rows["api"].status == Status.SUCCESS
    assert result.verdict == Verdict.PARTIAL and not result.ok


def test_wait_times_out_as_a_failure_and_no_wait_does_not_wait(prod: Cluster) -> None:
    prod.bad_deploy("web", deregister=False)
    prod.sim.rules.deploy_seconds = 30
    timed_out = prod.restore(timeout_minutes=0.005)
    web = next(s for s in timed_out.services if s.name == "web")
    assert web.status == Status.FAILED and "timed out" in web.message
    prod.bad_deploy("web", deregister=False)
    not_waited = prod.restore(wait=False)
    web = next(s for s in not_waited.services if s.name == "web")
    assert web.status == Status.UPDATED and not_waited.verdict == Verdict.SUCCESS


def test_unknown_snapshot_id_and_tampered_snapshot_change_nothing(prod: Cluster) -> None:
    prod.bad_deploy("web")
    prod.sim.calls.clear()
    with pytest.raises(NotFoundError, match="snapshot '20200101T000000000Z-000000' not found"):
        prod.restore(snapshot_id="20200101T000000000Z-000000")
    assert prod.snapshot.snapshot_uri is not None and prod.snapshot.snapshot_id is not None
    path = Path(prod.snapshot.snapshot_uri.removeprefix("file://"))
    path.write_text(path.read_text().replace("shop/web:1", "evil/web:1"))
    with pytest.raises(SnapshotRefused, match="checksum"):
        prod.restore(snapshot_id=prod.snapshot.snapshot_id)
    assert prod.sim.mutating_calls() == []


def test_the_first_change_starts_while_later_services_are_still_being_read(
    sim: Any, tmp_path: Path
) -> None:
    # One reading thread, 60 services (6 DescribeServices batches): the first batch is
    # decided and changed before the last batch is read, not after everything is read.
    store = snapshotted_then_bad_deploy(sim, 60, tmp_path, deregister_every=10**6)
    sim.calls.clear()
    result = run(
        EcsGateway(sim.client("ecs")), "restore", store=store, max_concurrency=1, wait=False
    )
    assert result.verdict == Verdict.SUCCESS
    ops = [c.operation for c in sim.calls]
    last_read = len(ops) - 1 - ops[::-1].index("DescribeServices")
    assert ops.count("DescribeServices") == 6
    assert ops.index("UpdateService") < last_read


def test_no_change_starts_before_the_cluster_listing_has_answered(sim: Any, tmp_path: Path) -> None:
    # ListServices takes 0.3 s on one thread while the other reads and decides: the first
    # change still waits for it (a refused listing must end the run before any change).
    store = snapshotted_then_bad_deploy(sim, 20, tmp_path, deregister_every=10**6)
    sim.calls.clear()

    def slow_listing(call: Any) -> None:
        if call.operation == "ListServices":
            time.sleep(0.3)

    sim.rules.before_request = slow_listing
    result = run(
        EcsGateway(sim.client("ecs")), "restore", store=store, max_concurrency=2, wait=False
    )
    assert result.verdict == Verdict.SUCCESS
    listed = next(c.at for c in sim.calls if c.operation == "ListServices")
    first = next(c.at for c in sim.calls if c.operation == "UpdateService")
    assert first >= listed + 0.3


def test_a_batch_that_cannot_be_read_once_changes_began_is_rows_not_a_half_done_run(
    sim: Any, tmp_path: Path
) -> None:
    # DescribeServices is refused for svc035 (the 4th batch of 10) after the first batches
    # have started changing: those 10 are failed rows saying why, every other service is
    # restored, and the run reports instead of ending with changes in flight.
    store = snapshotted_then_bad_deploy(sim, 40, tmp_path, deregister_every=10**6)
    sim.rules.refusals[("DescribeServices", family(35))] = "AccessDeniedException"
    result = run(
        EcsGateway(sim.client("ecs")), "restore", store=store, max_concurrency=1, wait=False
    )
    rows = {s.name: s for s in result.services}
    unread = {family(i) for i in range(30, 40)}
    assert {n for n, r in rows.items() if r.status == Status.FAILED} == unread
    assert all(
        "not restored: it could not be read (describe services: AccessDenied" in rows[n].message
        for n in unread
    )
    target = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}:1"
    assert all((rows[n].action, rows[n].to) == ("skip", target.format(n)) for n in unread)
    assert all(rows[family(i)].status == Status.UPDATED for i in range(30))
    assert result.verdict == Verdict.PARTIAL


def test_a_refused_history_is_noted_once_and_not_asked_again(sim: Any, tmp_path: Path) -> None:
    store = snapshotted_then_bad_deploy(sim, 40, tmp_path, deregister_every=10**6)
    sim.rules.refusals[("DescribeServiceRevisions", "*")] = "AccessDeniedException"
    sim.calls.clear()
    result = run(
        EcsGateway(sim.client("ecs")), "restore", store=store, max_concurrency=1, wait=False
    )
    assert result.verdict == Verdict.SUCCESS  # no pins, no settings: the rest goes on
    asked = [c for c in sim.calls if c.operation == "DescribeServiceRevisions"]
    assert len(asked) == 1  # the first batch's; the later batches do not ask again
