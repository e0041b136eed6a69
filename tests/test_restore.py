"""Restore against the AWS stand-in: re-registration, reuse, waiting and failures.

restore.py's own rules word for word: the step of each kind of service (gone, being
deleted, deployed by CodeDeploy or task sets, scaled to 0), the warnings before a "success",
and, against the stand-in, what a restore says while it runs and what it returns."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.arns import short_name
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import Cluster, ContainerImage, Service, ServiceRevision
from ecsundo_action.errors import EcsundoError, NotFoundError, SnapshotRefused
from ecsundo_action.modes.restore import (
    _warnings,
    plan_restore,
    scaled_to_zero,
    want_recorded,
)
from ecsundo_action.plan import (
    ACTIVE,
    CONTROLLED_ELSEWHERE,
    PROVENANCE_TAG,
    Action,
    Registration,
    Step,
    TargetFacts,
    want_of,
)
from ecsundo_action.reasons import Why, because
from ecsundo_action.render.markdown import of
from ecsundo_action.result import Outcome, Phase, Status, Verdict
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot
from tests.conftest import (
    SECRET,
    TD,
    Lines,
    body,
    connect,
    family,
    restore_with,
    run,
    saying,
    snapshotted_then_bad_deploy,
)
from tests.conftest import body as plain_body


def shop_body(family: str, version: str) -> dict[str, Any]:
    return plain_body(
        family, version, env={"PASSWORD": SECRET}, tags=[{"key": "team", "value": "shop"}]
    )


class Shop:
    """prod: web, api (REPLICA) and agent (DAEMON), snapshotted on version 1."""

    def __init__(self, sim: Any, tmp_path: Path) -> None:
        self.sim = sim
        self.ecs = sim.client("ecs")
        self.store = f"file://{tmp_path / 'store'}"
        self.gateway = connect(sim)
        sim.create_cluster("prod")
        self.good: dict[str, str] = {}
        for name in ["web", "api", "agent"]:
            self.good[name] = sim.register(shop_body(name, "1"))
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
            new = self.sim.register(shop_body(name, "2"))
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
def prod(sim: Any, tmp_path: Path) -> Shop:
    return Shop(sim, tmp_path)


def test_restore_active_inactive_and_deleted_targets(prod: Shop) -> None:
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


def test_restore_uses_an_active_target_as_is(prod: Shop) -> None:
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


def test_second_restore_changes_nothing_and_registers_nothing(prod: Shop) -> None:
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


def test_restore_after_another_bad_deploy_reuses_the_earlier_reregistration(prod: Shop) -> None:
    prod.bad_deploy("web")
    first = prod.restore()
    reregistered = prod.running("web")
    prod.bad_deploy("web")  # deploys version 2 again, deregistering the re-registration
    prod.ecs.register_task_definition(**shop_body("web", "3"))  # and a newer unrelated revision
    # The re-registration was deregistered too: it cannot be reused, so one new revision.
    second = prod.restore()
    assert second.verdict == Verdict.SUCCESS
    again = prod.running("web")
    assert again != reregistered
    prod.bad_deploy("web", deregister=False)
    prod.sim.calls.clear()
    third = prod.restore()
    web = next(s for s in third.services if s.name == "web")
    assert web.action == "update" and web.to == again and web.has(Why.REUSING)
    assert web.what == f"updated to {short_name(again)}, its re-registration of web:1"
    assert web.message == "rollout completed"  # the plan's why is told by what, once
    operations = [c.operation for c in prod.sim.calls]
    assert "RegisterTaskDefinition" not in operations
    # Found as production finds it: by its tag, in one call, not by scanning the family.
    assert operations.count("GetResources") == 1 and "ListTaskDefinitions" not in operations
    assert first.verdict == Verdict.SUCCESS


def test_service_deleted_since_is_missing_and_the_others_restore(prod: Shop) -> None:
    prod.bad_deploy("web", "api")
    prod.ecs.delete_service(cluster="prod", service="api", force=True)
    result = prod.restore()
    rows = {s.name: s for s in result.services}
    assert rows["api"].status == Status.MISSING and rows["api"].action == "missing"
    assert rows["web"].status == Status.SUCCESS
    assert result.verdict == Verdict.PARTIAL
    assert not result.ok


def test_desired_count_restored_only_when_asked_never_for_daemon(prod: Shop) -> None:
    prod.ecs.update_service(cluster="prod", service="web", desiredCount=7)
    assert prod.restore().verdict == Verdict.UNCHANGED
    prod.sim.calls.clear()
    result = prod.restore(restore_desired_count=True)
    assert result.verdict == Verdict.SUCCESS
    updates = [c.params for c in prod.sim.calls if c.operation == "UpdateService"]
    assert [(u["service"].rsplit("/", 1)[-1], u["desiredCount"]) for u in updates] == [("web", 2)]
    described = prod.ecs.describe_services(cluster="prod", services=["web"])["services"][0]
    assert described["desiredCount"] == 2


def test_dry_run_prints_the_plan_and_changes_nothing(prod: Shop) -> None:
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


def test_selection_restores_only_the_chosen_services(prod: Shop) -> None:
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
    prod: Shop, outcome: str, message: str
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


def test_wait_times_out_as_a_failure_and_no_wait_does_not_wait(prod: Shop) -> None:
    prod.bad_deploy("web", deregister=False)
    prod.sim.rules.deploy_seconds = 30
    timed_out = prod.restore(timeout_minutes=0.005)
    web = next(s for s in timed_out.services if s.name == "web")
    assert web.status == Status.FAILED and "timed out" in web.message
    prod.bad_deploy("web", deregister=False)
    not_waited = prod.restore(wait=False)
    web = next(s for s in not_waited.services if s.name == "web")
    assert web.status == Status.UPDATED and not_waited.verdict == Verdict.SUCCESS


def test_unknown_snapshot_id_and_tampered_snapshot_change_nothing(prod: Shop) -> None:
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


def test_each_changed_service_carries_when_it_registered_updated_and_rolled_out(
    sim: Any, tmp_path: Path
) -> None:
    # Six services, every other one's snapshot revision deregistered (re-registered), each
    # rollout taking 0.3 s: enough for the summary's timeline, which is drawn from these.
    store = snapshotted_then_bad_deploy(sim, 6, tmp_path, deregister_every=2)
    sim.rules.deploy_seconds = 0.3
    result = run(EcsGateway(sim.client("ecs")), "restore", store=store)
    assert result.verdict == Verdict.SUCCESS, result.to_dict()
    assert result.started_at is not None and result.ended_at is not None
    slack = timedelta(seconds=0.05)  # a wall clock read from the monotonic one
    for row in result.services:
        phases = [span.phase for span in row.spans]
        again = row.action == Action.REREGISTER
        assert again == (row.name in ("svc000", "svc002", "svc004")), row
        assert phases == [*([Phase.REGISTER] if again else []), Phase.UPDATE, Phase.ROLLOUT]
        first, *_, rollout = row.spans
        assert result.started_at - slack <= first.began and rollout.ended <= result.ended_at
        # One after the other: the update begins once its registration is made, and the
        # rollout runs from ECS's acceptance of it until the service settled.
        for span, following in zip(row.spans, row.spans[1:], strict=False):
            assert span.began <= span.ended <= following.began
        # Until the stand-in's 0.3 s rollout was over, counted from the update that began it.
        assert (rollout.ended - row.spans[-2].began).total_seconds() >= 0.299
        # The row's seconds count from the start of its change to the end of its rollout.
        assert abs((rollout.ended - first.began).total_seconds() - row.seconds) < 0.01
        assert not row.staged  # a rolling update
    # Spans are for the report only: rows compare, and outputs read, as before.
    assert "spans" not in json.dumps(result.outputs())
    assert "```mermaid" in of(result)  # six changed: the summary draws them


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


SVC = "arn:aws:ecs:us-east-1:123456789012:service/prod/{}"
DIGEST = "sha256:" + "a1" * 32


def record(
    name: str = "web", td: str | None = "web:1", desired: int = 2, controller: str = "ECS"
) -> ServiceRecord:
    return ServiceRecord(
        name, SVC.format(name), TD.format(td) if td else None, desired, controller=controller
    )


def service(
    name: str = "web",
    td: str | None = "web:2",
    desired: int = 2,
    status: str = "ACTIVE",
    controller: str = "ECS",
    strategy: str = "REPLICA",
) -> Service:
    return Service(
        name,
        SVC.format(name),
        TD.format(td) if td else None,
        status=status,
        desired_count=desired,
        controller=controller,
        scheduling_strategy=strategy,
    )


def snapshot(*records: ServiceRecord) -> Snapshot:
    return Snapshot(
        id="s1",
        created_at="2026-11-27T16:26:00.123Z",
        tool="ecsundo test",
        cluster=Cluster.from_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
        services=records,
        task_definitions={
            r.task_definition: KeptTaskDefinition(
                "ACTIVE",
                {"family": r.name, "containerDefinitions": [{"name": "app", "image": "a:1"}]},
                [{"key": "team", "value": r.name}],
            )
            for r in records
            if r.task_definition
        },
    )


def wanted_for(rec: ServiceRecord) -> Any:
    return want_recorded(snapshot(rec), rec, None, scope="service", pin_images="never")


# -- the step of each kind of service ----------------------------------------------------------


def test_a_service_gone_since_is_missing_with_no_registration() -> None:
    rec = record()
    assert plan_restore(rec, None, ACTIVE, wanted_for(rec)) == (
        Step(
            "web",
            None,
            Action.MISSING,
            None,
            TD.format("web:1"),
            why=(because(Why.GONE),),
        ),
        None,
    )


@pytest.mark.parametrize("status", ["DRAINING", "INACTIVE"])
def test_a_service_being_deleted_is_missing_and_says_its_status(status: str) -> None:
    rec = record()
    step, registration = plan_restore(rec, service(status=status), ACTIVE, wanted_for(rec))
    assert (step.action, step.service_arn, step.current, step.target) == (
        Action.MISSING,
        None,
        None,
        TD.format("web:1"),
    )
    assert step.reason == f"service is being deleted ({status})" and registration is None
    assert step.has(Why.BEING_DELETED)


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
@pytest.mark.parametrize("named", [False, True])
def test_a_service_ecs_does_not_deploy_is_skipped_and_a_failure_only_when_named(
    controller: str, named: bool
) -> None:
    rec = record()
    now = service(controller=controller)
    step, registration = plan_restore(rec, now, ACTIVE, wanted_for(rec), named=named)
    assert step == Step(
        "web",
        SVC.format("web"),
        Action.SKIP if named else Action.SKIPPED,
        TD.format("web:2"),
        TD.format("web:1"),
        why=(because(CONTROLLED_ELSEWHERE[controller]),),
    )
    assert step.reason.startswith("skipped: ") and registration is None
    assert step.has({"CODE_DEPLOY": Why.CODE_DEPLOY, "EXTERNAL": Why.TASK_SETS}[controller])


def test_the_snapshot_s_controller_counts_when_the_service_s_is_ecs() -> None:
    rec = record(controller="CODE_DEPLOY")  # CodeDeploy deployed it when the snapshot was taken
    step, _ = plan_restore(rec, service(), ACTIVE, wanted_for(rec))
    assert step.action == Action.SKIPPED and step.has(Why.CODE_DEPLOY)
    assert step.reason.startswith("skipped: CodeDeploy deploys this")


def test_an_external_record_without_a_task_definition_has_nothing_to_restore() -> None:
    rec = record(td=None)
    step, _ = plan_restore(rec, service(td=None), ACTIVE, None, named=True)
    assert (step.action, step.reason) == (Action.SKIP, "skipped: no task definition to restore")
    step, _ = plan_restore(rec, service(td=None), ACTIVE, None)
    assert (step.action, step.reason) == (Action.SKIPPED, "skipped: no task definition to restore")
    assert step.has(Why.NO_TARGET)


def test_an_update_names_no_registration_and_a_deregistered_target_registers_its_body() -> None:
    rec = record()
    wanted = wanted_for(rec)
    step, registration = plan_restore(rec, service(), ACTIVE, wanted)
    assert (step.action, step.target, registration) == (Action.UPDATE, TD.format("web:1"), None)
    step, registration = plan_restore(rec, service(), TargetFacts("INACTIVE"), wanted)
    assert step.action == Action.REREGISTER
    assert registration == Registration(TD.format("web:1"), wanted.body, wanted.tags)
    assert registration.body["family"] == "web" and registration.tags == [
        {"key": "team", "value": "web"}
    ]


def test_the_count_is_restored_only_when_asked() -> None:
    rec = record(desired=3)
    step, _ = plan_restore(rec, service(desired=1), ACTIVE, wanted_for(rec))
    assert step.desired_count is None
    step, _ = plan_restore(
        rec, service(desired=1), ACTIVE, wanted_for(rec), restore_desired_count=True
    )
    assert step.desired_count == 3


def test_a_service_scaled_to_zero_says_so_unless_its_count_is_restored() -> None:
    rec = record(desired=2)
    step, _ = plan_restore(rec, service(desired=0), ACTIVE, wanted_for(rec))
    assert (step.action, step.reason) == (Action.UPDATE, "0 tasks desired, 2 in the snapshot")
    pinned = want_recorded(snapshot(rec), rec, None, scope="service", pin_images="always")
    step, _ = plan_restore(rec, service(desired=0), ACTIVE, replace(pinned, notes=saying("why")))
    assert step.reason == "why; 0 tasks desired, 2 in the snapshot", step.reason
    step, _ = plan_restore(
        rec, service(desired=0), ACTIVE, wanted_for(rec), restore_desired_count=True
    )
    assert "tasks desired" not in step.reason and step.desired_count == 2


@pytest.mark.parametrize(
    ("restore_count", "strategy", "now", "then", "scaled"),
    [
        (False, "REPLICA", 0, 2, True),
        (True, "REPLICA", 0, 2, False),  # the count is put back
        (False, "DAEMON", 0, 2, False),  # a daemon has no count to set
        (False, "REPLICA", 1, 2, False),
        (False, "REPLICA", 0, 0, False),  # it was at 0 in the snapshot too
        (False, "REPLICA", 0, 1, True),
    ],
)
def test_scaled_to_zero(
    restore_count: bool, strategy: str, now: int, then: int, scaled: bool
) -> None:
    rec = record(desired=then)
    assert scaled_to_zero(rec, service(desired=now, strategy=strategy), restore_count) is scaled


def test_want_is_the_snapshot_s_kept_body_with_the_record_s_images_and_settings() -> None:
    image = ContainerImage("app", "a:1", DIGEST)
    registries = {"serviceRegistries": [{"registryArn": "arn:aws:servicediscovery:x"}]}
    rec = ServiceRecord(
        "web", SVC.format("web"), TD.format("web:1"), 2, images=(image,), settings=registries
    )
    snap = snapshot(rec)
    kept = snap.kept(TD.format("web:1"))
    running = ServiceRevision(
        "rev", TD.format("web:2"), (ContainerImage("app", "a:1", DIGEST),), {}
    )
    for scope, pin in (("service", "auto"), ("task-definition", "always")):
        got = want_recorded(snap, rec, running, scope=scope, pin_images=pin)
        assert got == want_of(
            TD.format("web:1"),
            kept.body,
            kept.tags,
            (image,),
            registries,
            running,
            scope=scope,
            pin_images=pin,
        )
    assert want_recorded(snap, rec, running, scope="service", pin_images="always").pinned
    # The recorded settings are put back with scope service only.
    assert (
        want_recorded(snap, rec, running, scope="service", pin_images="never").settings
        == registries
    )
    assert not want_recorded(
        snap, rec, running, scope="task-definition", pin_images="never"
    ).settings


# -- the warnings before a "success" ------------------------------------------------------------


def test_warnings_name_services_the_snapshot_lacks_and_those_left_at_zero() -> None:
    web, api = record("web", desired=2), record("api", "api:1", desired=1)
    snap = snapshot(web, api)
    current = {"web": service("web", desired=0), "api": service("api", "api:2", desired=1)}
    records = {"web": web, "api": api}
    assert _warnings("prod", snap, ["cron"], current, records, False) == [
        "1 service of cluster prod not in snapshot s1, left as they are: cron",
        "web has 0 tasks desired (the snapshot had 2): restore-desired-count "
        "(--restore-desired-count) puts the count back",
    ]
    assert _warnings("prod", snap, ["a", "b"], current, records, True) == [
        "2 services of cluster prod not in snapshot s1, left as they are: a, b"
    ]
    assert _warnings("prod", snap, [], {"api": current["api"]}, records, False) == []


# -- against the stand-in -----------------------------------------------------------------------


@pytest.fixture
def shop(sim: Any, gateway: EcsGateway, tmp_path: Path) -> tuple[Any, str, str]:
    """web and api snapshotted on :1, then deployed to :2; cron created after the snapshot.
    Returns the stand-in, the store and the snapshot id."""
    sim.create_cluster("shop")
    for name in ("web", "api"):
        sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=1)
    store = f"file://{tmp_path}"
    taken = run(gateway, "snapshot", "shop", store=store)
    assert taken.snapshot is not None
    ecs = sim.client("ecs")
    for name in ("web", "api"):
        ecs.update_service(
            cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
        )
    sim.create_service("shop", "cron", sim.register(body("cron", "1")), desired_count=1)
    return sim, store, taken.snapshot.id


def restore_saying(gateway: EcsGateway, store: str, said: Lines, **fields: Any) -> Any:
    return restore_with(gateway, store, said, **{"timeout_minutes": 0.5, **fields})


def test_a_restore_says_which_snapshot_what_it_leaves_and_what_it_plans(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    _, store, snapshot_id = shop
    said = Lines()
    result = restore_saying(gateway, store, said)
    assert said.lines[0] == f"## Read snapshot {snapshot_id} of cluster shop"
    assert said.lines[1].startswith(f"snapshot {snapshot_id}, taken ")
    warning = (
        f"warning: 1 service of cluster shop not in snapshot {snapshot_id}, left as they are: cron"
    )
    assert said.lines[2] == warning
    assert result.warnings == [warning.removeprefix("warning: ")]
    assert result.uncovered == ["cron"]
    assert [(s.name, s.status) for s in result.services] == [
        ("api", Status.SUCCESS),
        ("web", Status.SUCCESS),
    ]
    assert result.verdict == Verdict.SUCCESS
    assert result.snapshot is not None and result.snapshot.id == snapshot_id
    assert result.snapshot_uri == f"{store}/123456789012/us-east-1/shop/{snapshot_id}.json"
    assert set(result.timings) == {"read", "update", "wait", "total"}
    assert all(seconds >= 0 for seconds in result.timings.values())
    assert result.plan is not None and [s.service for s in result.plan.steps] == ["api", "web"]
    assert (result.mode, result.cluster, result.store) == ("restore", "shop", store)
    assert result.timings["read"] <= result.timings["total"]
    assert "## Plan: 2 services to change of 2" in said.lines


def test_a_dry_run_goes_through_the_same_plan_and_changes_nothing(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.calls.clear()
    said = Lines()
    result = restore_saying(gateway, store, said, dry_run=True)
    assert "## Plan: 2 services to change of 2 (dry run: nothing changes)" in said.lines
    assert [(s.name, s.status) for s in result.services] == [
        ("api", Status.PLANNED),
        ("web", Status.PLANNED),
    ]
    assert result.dry_run and set(result.timings) == {"read", "total"}
    assert result.plan is not None
    assert all(s.expect for s in result.plan.steps)  # what to check runs, once restored
    assert sim.mutating_calls() == []


def test_a_named_service_gets_its_row_and_a_pattern_leaves_the_rest_alone(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    result = restore_saying(gateway, store, Lines(), services=("w*",))
    assert [s.name for s in result.services] == ["web"]
    assert result.uncovered == []  # cron is not in the selection
    ecs = sim.client("ecs")
    web, api = ecs.describe_services(cluster="shop", services=["web", "api"])["services"]
    assert web["taskDefinition"].endswith("/web:1") and api["taskDefinition"].endswith("/api:2")


def test_a_target_that_cannot_be_read_leaves_that_service_alone_and_says_why(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    ecs = sim.client("ecs")
    ecs.deregister_task_definition(taskDefinition="web:1")  # its facts must be read
    sim.rules.refusals[("DescribeTaskDefinition", "web")] = "AccessDeniedException"
    result = restore_saying(gateway, store, Lines())
    rows = {s.name: s for s in result.services}
    assert rows["web"].status == Status.FAILED
    assert rows["web"].message.startswith(
        "not restored: describe task definition web:1: AccessDeniedException: "
    ), rows["web"].message
    assert rows["api"].status == Status.SUCCESS and result.verdict == Verdict.PARTIAL


def test_refused_history_apis_are_said_in_their_own_words(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.rules.refusals[("DescribeServiceRevisions", "*")] = "AccessDeniedException"
    said = Lines()
    result = restore_saying(gateway, store, said, pin_images="auto")
    notes = [line for line in said.lines if "cannot be read" in line]
    assert len(notes) == 1 and notes[0].startswith(
        "service revisions cannot be read (read service-deployment history: AccessDeniedException"
    ), notes
    assert notes[0].endswith("): no pins, no settings")
    assert result.verdict == Verdict.SUCCESS


def test_the_first_refused_read_ends_the_run_before_any_change(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.rules.refusals[("DescribeServices", "*")] = "AccessDeniedException"
    sim.calls.clear()
    with pytest.raises(EcsundoError, match=r"^describe services: AccessDeniedException: "):
        restore_saying(gateway, store, Lines())
    assert sim.mutating_calls() == []


def test_a_row_the_target_could_not_be_read_for_names_that_target(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.client("ecs").deregister_task_definition(taskDefinition="web:1")
    sim.rules.refusals[("DescribeTaskDefinition", "web")] = "AccessDeniedException"
    [web] = [s for s in restore_saying(gateway, store, Lines()).services if s.name == "web"]
    assert (web.action, web.to, web.changed) == (
        "skip",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
        False,
    )


@pytest.mark.parametrize(
    ("pin_images", "scope", "asked"),
    [
        ("never", "task-definition", False),  # nothing to pin, no settings: not read
        ("never", "service", True),  # the settings running now are compared
        ("auto", "task-definition", True),  # the digests running now are compared
    ],
)
def test_service_revisions_are_read_only_when_pins_or_settings_need_them(
    shop: tuple[Any, str, str], gateway: EcsGateway, pin_images: str, scope: str, asked: bool
) -> None:
    sim, store, _ = shop
    sim.calls.clear()
    restore_saying(gateway, store, Lines(), pin_images=pin_images, scope=scope, dry_run=True)
    read = [c.operation for c in sim.calls]
    assert ("DescribeServiceRevisions" in read) is asked, read
    assert "DescribeServiceDeployments" not in read  # no rollout is in flight


def test_only_an_ecs_rollout_in_progress_is_read_as_in_flight(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.rules.deploy_seconds = 600  # web's deploy stays in flight
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="web", taskDefinition=sim.register(body("web", "3")))
    sim.calls.clear()
    result = restore_saying(gateway, store, Lines(), dry_run=True)
    asked = [c for c in sim.calls if c.operation == "DescribeServiceDeployments"]
    assert len(asked) == 1 and len(asked[0].params["serviceDeploymentArns"]) == 1
    assert result.plan is not None  # ECS would roll web back to :2, not :1: no stop
    assert {s.service: s.action for s in result.plan.steps} == {
        "api": Action.UPDATE,
        "web": Action.UPDATE,
    }


def test_a_refused_deployment_history_means_no_stop_and_is_said(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.rules.deploy_seconds = 600
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="web", taskDefinition=sim.register(body("web", "3")))
    sim.rules.refusals[("DescribeServiceDeployments", "*")] = "AccessDeniedException"
    said = Lines()
    result = restore_saying(gateway, store, said, dry_run=True)
    [note] = [line for line in said.lines if "cannot be read" in line]
    assert note.startswith(
        "in-flight deployments cannot be read (read service-deployment history: "
        "AccessDeniedException: "
    ), note
    assert note.endswith("): none is stopped")
    assert result.plan is not None
    assert {s.service: s.action for s in result.plan.steps}["web"] == Action.UPDATE


@pytest.mark.parametrize(("services", "action"), [(("api",), "skip"), (("a*",), "skipped")])
def test_a_service_codedeploy_deploys_fails_only_when_named(
    sim: Any, gateway: EcsGateway, tmp_path: Path, services: tuple[str, ...], action: str
) -> None:
    sim.create_cluster("shop")
    sim.create_service(
        "shop",
        "api",
        sim.register(body("api", "1")),
        desired_count=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    sim.calls.clear()
    [api] = restore_saying(gateway, store, Lines(), services=services).services
    assert (api.name, api.action) == ("api", action) and api.has(Why.CODE_DEPLOY)
    assert api.message.startswith("skipped: CodeDeploy deploys this service; roll it back")
    assert api.what == "skipped: CodeDeploy-controlled"
    assert api.status == (Status.FAILED if action == "skip" else Status.SKIPPED)
    assert sim.mutating_calls() == []


def test_the_count_is_put_back_for_a_service_that_also_changes_task_definition(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.client("ecs").update_service(cluster="shop", service="web", desiredCount=0)
    result = restore_saying(gateway, store, Lines(), restore_desired_count=True)
    web = sim.client("ecs").describe_services(cluster="shop", services=["web"])["services"][0]
    assert (web["desiredCount"], web["taskDefinition"].rsplit("/", 1)[-1]) == (1, "web:1")
    assert result.warnings == [
        f"1 service of cluster shop not in snapshot {result.snapshot.id}, left as they are: cron"
    ]


@pytest.fixture
def flying(sim: Any, gateway: EcsGateway, tmp_path: Path) -> tuple[Any, str]:
    """web snapshotted on :1; then a deploy of :2 that stays in flight (ECS's rollback of
    it would go back to :1). Returns the stand-in and the store."""
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", "1")), desired_count=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    sim.rules.deploy_seconds = 600
    return sim, store


def deploy_web_2(sim: Any, **update: Any) -> None:
    ecs = sim.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=sim.register(body("web", "2")), **update
    )


@pytest.mark.parametrize("scope", ["service", "task-definition"])
def test_an_in_flight_deploy_is_stopped_when_ecs_goes_back_exactly_there(
    flying: tuple[Any, str], gateway: EcsGateway, scope: str
) -> None:
    sim, store = flying
    deploy_web_2(sim)
    result = restore_saying(gateway, store, Lines(), scope=scope, dry_run=True)
    assert result.plan is not None
    [web] = result.plan.steps
    assert (web.action, web.reason) == (
        Action.STOP,
        "stop the in-flight deployment; ECS rolls back to web:1",
    )


@pytest.mark.parametrize(("scope", "action"), [("service", "stop"), ("task-definition", "update")])
def test_a_deploy_that_also_changed_a_setting_is_stopped_only_when_settings_are_restored(
    flying: tuple[Any, str], gateway: EcsGateway, scope: str, action: str
) -> None:
    # ECS's rollback puts the setting back too: right when the snapshot's settings are
    # wanted (scope service), wrong when only the task definition is (the setting stays).
    sim, store = flying
    registry = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-2"
    deploy_web_2(sim, serviceRegistries=[{"registryArn": registry}])
    result = restore_saying(gateway, store, Lines(), scope=scope, dry_run=True)
    assert result.plan is not None
    assert [str(s.action) for s in result.plan.steps] == [action]


def test_rows_show_what_runs_now_and_what_the_snapshot_saw_run(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    _, store, _ = shop
    result = restore_saying(gateway, store, Lines(), dry_run=True)
    assert result.snapshot is not None
    records = {r.name: r for r in result.snapshot.services}
    for row in result.services:
        assert [(i.container, i.image) for i in row.before] == [(row.name, f"shop/{row.name}:2")]
        assert all(i.digest and i.digest.startswith("sha256:") for i in row.before)
        assert row.after == records[row.name].images and row.after != row.before


def test_without_recorded_digests_a_row_shows_the_kept_body_s_images(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", "1")), desired_count=1)
    sim.rules.refusals[("DescribeServiceRevisions", "*")] = "AccessDeniedException"
    store = f"file://{tmp_path}"
    taken = run(gateway, "snapshot", "shop", store=store)
    assert taken.snapshot is not None and taken.snapshot.services[0].images is None
    deploy_web_2(sim)
    [web] = restore_saying(gateway, store, Lines(), dry_run=True).services
    assert web.after == (ContainerImage("web", "shop/web:1"),)
    # What it runs now, from its task definition: ECS's revisions could not say (issue 24).
    assert web.before == (ContainerImage("web", "shop/web:2"),)


@pytest.mark.parametrize(("pin_images", "pinned"), [("always", True), ("never", False)])
def test_pin_images_reaches_the_plan(
    shop: tuple[Any, str, str], gateway: EcsGateway, pin_images: str, pinned: bool
) -> None:
    _, store, _ = shop
    result = restore_saying(gateway, store, Lines(), pin_images=pin_images, dry_run=True)
    assert result.plan is not None
    assert [(s.service, s.pinned) for s in result.plan.steps] == [
        ("api", pinned),
        ("web", pinned),
    ]
    assert all((s.action == Action.REREGISTER) is pinned for s in result.plan.steps)


def test_services_wanting_the_same_body_share_one_lookup_across_batches(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    # 12 services on one task definition: the first batch of 10 looks its facts up, the two
    # of the next batch take the answer already there.
    sim.create_cluster("shop")
    first = sim.register(body("shared", "1"))
    names = [f"svc{i:02d}" for i in range(12)]
    for name in names:
        sim.create_service("shop", name, first, desired_count=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    second = sim.register(body("shared", "2"))
    ecs = sim.client("ecs")
    for name in names:
        ecs.update_service(cluster="shop", service=name, taskDefinition=second)
    ecs.deregister_task_definition(taskDefinition=first)
    sim.calls.clear()
    result = restore_saying(gateway, store, Lines(), max_concurrency=1)
    assert [(s.name, s.status) for s in result.services] == [
        (name, Status.SUCCESS) for name in names
    ]
    registered = [c for c in sim.calls if c.operation == "RegisterTaskDefinition"]
    assert len(registered) == 1  # one copy of shared:1 for all twelve
    assert {s.to for s in result.services} == {TD.format("shared:3")}


def test_a_service_already_on_its_snapshot_revision_is_unchanged_unless_its_count_is_put_back(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="api", taskDefinition="api:1", desiredCount=3)
    [api] = restore_saying(gateway, store, Lines(), services=("api",)).services
    assert (api.action, api.status, api.to) == ("unchanged", Status.UNCHANGED, TD.format("api:1"))
    [api] = restore_saying(
        gateway, store, Lines(), services=("api",), restore_desired_count=True
    ).services
    assert (api.action, api.status) == ("update", Status.SUCCESS)
    now = ecs.describe_services(cluster="shop", services=["api"])["services"][0]
    assert (now["desiredCount"], now["taskDefinition"]) == (1, TD.format("api:1"))


def test_a_service_being_deleted_is_not_looked_up_and_says_so(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.rules.drain_seconds = 60
    sim.client("ecs").delete_service(cluster="shop", service="api", force=True)
    sim.calls.clear()
    [api] = restore_saying(gateway, store, Lines(), services=("api",)).services
    assert (api.action, api.status, api.message) == (
        "missing",
        Status.MISSING,
        "service is being deleted (DRAINING)",
    )
    assert "DescribeTaskDefinition" not in [c.operation for c in sim.calls]


@pytest.mark.parametrize(("scope", "sent"), [("service", True), ("task-definition", False)])
def test_a_setting_a_deploy_changed_is_put_back_with_scope_service_only(
    shop: tuple[Any, str, str], gateway: EcsGateway, scope: str, sent: bool
) -> None:
    sim, store, _ = shop
    registry = [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-9"}]
    sim.client("ecs").update_service(cluster="shop", service="api", serviceRegistries=registry)
    result = restore_saying(gateway, store, Lines(), scope=scope, services=("api",), dry_run=True)
    assert result.plan is not None
    [api] = result.plan.steps
    assert ("serviceRegistries" in api.settings) is sent, api.settings


def test_a_pattern_that_matches_nothing_names_the_snapshot(
    shop: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, snapshot_id = shop
    sim.calls.clear()
    with pytest.raises(EcsundoError) as raised:
        restore_saying(gateway, store, Lines(), services=("nope*",))
    assert str(raised.value).endswith(f"matches no service in snapshot {snapshot_id}")
    assert sim.mutating_calls() == []


def test_a_service_the_snapshot_lacks_is_found_on_any_page_of_the_listing(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    # 101 services: ListServices answers 100 a page; the one the snapshot lacks is on the
    # first page, and must still be named.
    sim.create_cluster("shop")
    first = sim.register(body("svc", "1", memory=64))
    sim.create_service("shop", "early", first, desired_count=1)
    for i in range(100):
        sim.create_service("shop", f"svc{i:03d}", first, desired_count=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store, services=("svc*",))
    sim.calls.clear()
    result = restore_saying(gateway, store, Lines(), dry_run=True)
    pages = [c for c in sim.calls if c.operation == "ListServices"]
    assert len(pages) >= 2 and result.uncovered == ["early"]
    assert len(result.services) == 100
