"""The pure planning step: no AWS, just facts in, a plan out."""

from __future__ import annotations

from ecsundo_action.aws.records import Cluster, Service
from ecsundo_action.modes.restore import plan_service, want
from ecsundo_action.plan import (
    ACTIVE,
    PROVENANCE_TAG,
    Action,
    Plan,
    Registration,
    TargetFacts,
    plan_step,
)
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"


def service(name: str, td: str, desired: int = 2, strategy: str = "REPLICA") -> Service:
    return Service(
        name,
        f"arn:aws:ecs:us-east-1:123456789012:service/prod/{name}",
        ARN.format(td),
        desired_count=desired,
        scheduling_strategy=strategy,
    )


def document(*records: tuple[str, str, int, str]) -> Snapshot:
    return Snapshot(
        id="s1",
        created_at="2026-11-27T16:26:00.123Z",
        tool="ecsundo test",
        cluster=Cluster.from_arn(CLUSTER),
        services=tuple(
            ServiceRecord(
                name,
                f"arn:aws:ecs:us-east-1:123456789012:service/prod/{name}",
                ARN.format(td),
                desired,
                strategy,
            )
            for name, td, desired, strategy in records
        ),
        task_definitions={
            ARN.format(td): KeptTaskDefinition(
                "ACTIVE",
                {"family": td.split(":")[0], "containerDefinitions": [{"name": "x"}]},
                [{"key": "team", "value": "a"}],
            )
            for _, td, _, _ in records
        },
    )


def plan_restore(
    snapshot: Snapshot,
    current: dict[str, Service],
    facts: dict[str, TargetFacts],
    restore_desired_count: bool = False,
) -> Plan:
    """Every snapshot service through plan_service, the function restore plans with."""
    plan = Plan(CLUSTER)
    for record in snapshot.services:
        wanted = want(snapshot, record, None, scope="service", pin_images="auto")
        plan.add(
            *plan_service(
                record,
                current.get(record.name),
                facts.get(wanted.target, ACTIVE),
                wanted,
                restore_desired_count=restore_desired_count,
            )
        )
    return plan


def test_each_kind_of_step() -> None:
    doc = document(
        ("same", "same:3", 2, "REPLICA"),
        ("active", "active:3", 2, "REPLICA"),
        ("inactive", "inactive:3", 2, "REPLICA"),
        ("deleted", "deleted:3", 2, "REPLICA"),
        ("reused", "reused:3", 2, "REPLICA"),
        ("gone", "gone:3", 2, "REPLICA"),
    )
    current = {
        s.name: s
        for s in [
            service("same", "same:3"),
            service("active", "active:4"),
            service("inactive", "inactive:4"),
            service("deleted", "deleted:4"),
            service("reused", "reused:4"),
        ]
    }
    facts = {
        ARN.format("active:3"): TargetFacts("ACTIVE"),
        ARN.format("inactive:3"): TargetFacts("INACTIVE"),
        ARN.format("deleted:3"): TargetFacts(None),
        ARN.format("reused:3"): TargetFacts("INACTIVE", reuse=ARN.format("reused:9")),
    }
    plan = plan_restore(doc, current, facts)
    by_name = {s.service: s for s in plan.steps}

    assert by_name["same"].action == Action.UNCHANGED
    assert by_name["active"].action == Action.UPDATE
    assert by_name["active"].target == ARN.format("active:3")
    assert by_name["inactive"].action == Action.REREGISTER
    assert by_name["deleted"].action == Action.REREGISTER
    assert by_name["reused"].action == Action.UPDATE
    assert by_name["reused"].target == ARN.format("reused:9")
    assert by_name["gone"].action == Action.MISSING
    # One registration per original, carrying its body and tags.
    assert set(plan.registrations) == {ARN.format("inactive:3"), ARN.format("deleted:3")}
    assert [s.service for s in plan.changing] == ["active", "inactive", "deleted", "reused"]


def test_service_still_running_a_deregistered_target_is_left_alone() -> None:
    # CloudFormation deregisters the old revision while the service still runs it.
    step = plan_step(
        service("web", "web:3"), ARN.format("web:3"), TargetFacts("INACTIVE"), can_register=True
    )
    assert step.action == Action.UNCHANGED


def test_desired_count_only_when_asked_and_never_for_daemons() -> None:
    doc = document(("web", "web:3", 5, "REPLICA"), ("agent", "agent:3", 0, "DAEMON"))
    current = {
        "web": service("web", "web:3", desired=2),
        "agent": service("agent", "agent:3", desired=0, strategy="DAEMON"),
    }
    not_asked = plan_restore(doc, current, {})
    assert [s.action for s in not_asked.steps] == [Action.UNCHANGED, Action.UNCHANGED]

    asked = plan_restore(doc, current, {}, restore_desired_count=True)
    web, agent = asked.steps
    assert web.action == Action.UPDATE and web.desired_count == 5
    assert agent.action == Action.UNCHANGED and agent.desired_count is None

    daemon_moved = plan_step(
        service("agent", "agent:4", desired=3, strategy="DAEMON"),
        ARN.format("agent:3"),
        TargetFacts("ACTIVE"),
        can_register=True,
        desired_count=1,
    )
    assert daemon_moved.action == Action.UPDATE and daemon_moved.desired_count is None


def test_rollback_target_without_a_body_is_skipped_not_guessed() -> None:
    step = plan_step(
        service("web", "web:4"), ARN.format("web:3"), TargetFacts(None), can_register=False
    )
    assert step.action == Action.SKIP
    assert "no snapshot holds its body" in step.reason


def test_registration_tags_drop_reserved_keys_and_name_the_original() -> None:
    original = ARN.format("web:3")
    tags = [
        {"key": "team", "value": "a"},
        {"key": "aws:cloudformation:stack-name", "value": "s"},
        {"key": PROVENANCE_TAG, "value": "stale"},
    ]
    sent = Registration(original, {}, tags).request_tags()
    assert sent == [{"key": "team", "value": "a"}, {"key": PROVENANCE_TAG, "value": original}]
