"""The pure planning step: no AWS, just facts in, a plan out.

plan.py's rules word for word: each Step's fields and reason, the pins and their notes, the
settings to send and their notes, the Want, and when ECS's own rollback (STOP) will do."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ecsundo_action.aws.records import (
    NONE,
    SERVICE_SETTINGS,
    Cluster,
    ContainerImage,
    Deployment,
    Kind,
    ScalableTarget,
    ScheduledTask,
    Service,
    ServiceDeployment,
    ServiceRevision,
)
from ecsundo_action.modes import restore
from ecsundo_action.plan import (
    ACTIVE,
    PROVENANCE_TAG,
    Action,
    Plan,
    Registration,
    Scope,
    Step,
    TargetFacts,
    Want,
    missing_step,
    pinned_body,
    pins_for,
    plan_scaling,
    plan_scheduled,
    plan_step,
    setting_changes,
    skip_step,
    stop_step,
    unchanged_step,
    want_of,
)
from ecsundo_action.reasons import Why, because
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot
from tests.conftest import TD, saying

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"


def service(name: str, td: str, desired: int = 2, strategy: str = "REPLICA") -> Service:
    return Service(
        name,
        f"arn:aws:ecs:us-east-1:123456789012:service/prod/{name}",
        TD.format(td),
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
                TD.format(td),
                desired,
                strategy,
            )
            for name, td, desired, strategy in records
        ),
        task_definitions={
            TD.format(td): KeptTaskDefinition(
                "ACTIVE",
                {"family": td.split(":")[0], "containerDefinitions": [{"name": "x"}]},
                [{"key": "team", "value": "a"}],
            )
            for _, td, _, _ in records
        },
    )


def plan_snapshot(
    snapshot: Snapshot,
    current: dict[str, Service],
    facts: dict[str, TargetFacts],
    restore_desired_count: bool = False,
) -> Plan:
    """Every snapshot service through restore.plan_restore, the function restore plans with."""
    plan = Plan(CLUSTER)
    for record in snapshot.services:
        wanted = restore.want_recorded(snapshot, record, None, scope="service", pin_images="auto")
        plan.add(
            *restore.plan_restore(
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
        TD.format("active:3"): TargetFacts("ACTIVE"),
        TD.format("inactive:3"): TargetFacts("INACTIVE"),
        TD.format("deleted:3"): TargetFacts(None),
        TD.format("reused:3"): TargetFacts("INACTIVE", reuse=TD.format("reused:9")),
    }
    plan = plan_snapshot(doc, current, facts)
    by_name = {s.service: s for s in plan.steps}

    assert by_name["same"].action == Action.UNCHANGED
    assert by_name["active"].action == Action.UPDATE
    assert by_name["active"].target == TD.format("active:3")
    assert by_name["inactive"].action == Action.REREGISTER
    assert by_name["deleted"].action == Action.REREGISTER
    assert by_name["reused"].action == Action.UPDATE
    assert by_name["reused"].target == TD.format("reused:9")
    assert by_name["gone"].action == Action.MISSING
    # One registration per original, carrying its body and tags.
    assert set(plan.registrations) == {TD.format("inactive:3"), TD.format("deleted:3")}
    assert [s.service for s in plan.changing] == ["active", "inactive", "deleted", "reused"]


def test_service_still_running_a_deregistered_target_is_left_alone() -> None:
    # CloudFormation deregisters the old revision while the service still runs it.
    step = plan_step(
        service("web", "web:3"), TD.format("web:3"), TargetFacts("INACTIVE"), can_register=True
    )
    assert step.action == Action.UNCHANGED


def test_desired_count_only_when_asked_and_never_for_daemons() -> None:
    doc = document(("web", "web:3", 5, "REPLICA"), ("agent", "agent:3", 0, "DAEMON"))
    current = {
        "web": service("web", "web:3", desired=2),
        "agent": service("agent", "agent:3", desired=0, strategy="DAEMON"),
    }
    not_asked = plan_snapshot(doc, current, {})
    assert [s.action for s in not_asked.steps] == [Action.UNCHANGED, Action.UNCHANGED]

    asked = plan_snapshot(doc, current, {}, restore_desired_count=True)
    web, agent = asked.steps
    assert web.action == Action.UPDATE and web.desired_count == 5
    assert agent.action == Action.UNCHANGED and agent.desired_count is None

    daemon_moved = plan_step(
        service("agent", "agent:4", desired=3, strategy="DAEMON"),
        TD.format("agent:3"),
        TargetFacts("ACTIVE"),
        can_register=True,
        desired_count=1,
    )
    assert daemon_moved.action == Action.UPDATE and daemon_moved.desired_count is None


def test_rollback_target_without_a_body_is_skipped_not_guessed() -> None:
    step = plan_step(
        service("web", "web:4"), TD.format("web:3"), TargetFacts(None), can_register=False
    )
    assert step.action == Action.SKIP
    assert "no snapshot holds its body" in step.reason


def test_registration_tags_drop_reserved_keys_and_name_the_original() -> None:
    original = TD.format("web:3")
    tags = [
        {"key": "team", "value": "a"},
        {"key": "aws:cloudformation:stack-name", "value": "s"},
        {"key": PROVENANCE_TAG, "value": "stale"},
    ]
    sent = Registration(original, {}, tags).request_tags()
    assert sent == [{"key": "team", "value": "a"}, {"key": PROVENANCE_TAG, "value": original}]


SVC = "arn:aws:ecs:us-east-1:123456789012:service/prod/{}"
OLD = "sha256:" + "a1" * 32  # the digest the snapshot saw
NEW = "sha256:" + "b2" * 32  # the digest the tag points at now
OTHER = "sha256:" + "c3" * 32
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web"


def svc(
    td: str | None,
    desired: int = 2,
    strategy: str = "REPLICA",
    deployments: tuple[Deployment, ...] = (),
) -> Service:
    return Service(
        "web",
        SVC.format("web"),
        TD.format(td) if td else None,
        desired_count=desired,
        scheduling_strategy=strategy,
        deployments=deployments,
    )


def pins_said(*args: Any) -> tuple[list[Any], list[str]]:
    """pins_for, its notes in words."""
    pins, notes = pins_for(*args)
    return pins, [str(n) for n in notes]


def changes_said(*args: Any) -> tuple[dict[str, Any], list[str]]:
    """setting_changes, its notes in words."""
    send, notes = setting_changes(*args)
    return send, [str(n) for n in notes]


def words(reasons: Any) -> tuple[str, ...]:
    return tuple(str(r) for r in reasons)


def fields(step: Step) -> dict[str, Any]:
    """Every field of a step, those equality leaves out too."""
    return {
        "service": step.service,
        "service_arn": step.service_arn,
        "action": step.action,
        "current": step.current,
        "target": step.target,
        "desired_count": step.desired_count,
        "reason": step.reason,
        "seen": step.seen,
        "settings": dict(step.settings),
        "expect": step.expect,
        "deployment": step.deployment,
        "fallback": step.fallback,
        "before": step.before,
        "after": step.after,
        "pinned": step.pinned,
    }


def expected(
    action: Action,
    current: str | None,
    target: str | None,
    reason: str,
    desired_count: int | None = None,
    settings: dict[str, Any] | None = None,
    expect: frozenset[tuple[str, str]] = frozenset(),
    pinned: bool = False,
    seen: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "service": "web",
        "service_arn": SVC.format("web"),
        "action": action,
        "current": TD.format(current) if current else None,
        "target": TD.format(target) if target else None,
        "desired_count": desired_count,
        "reason": reason,
        "seen": seen,
        "settings": settings or {},
        "expect": expect,
        "deployment": None,
        "fallback": None,
        "before": (),
        "after": (),
        "pinned": pinned,
    }


SETTINGS = {"platformVersion": "1.4.0"}
EXPECT = frozenset({("app", OLD)})


# -- plan_step ------------------------------------------------------------------------------


def decide(
    current: str | None,
    target: str,
    facts: TargetFacts,
    *,
    can_register: bool = True,
    desired_count: int | None = None,
    why: str = "",
    pinned: bool = False,
    settings: dict[str, Any] | None = None,
    desired: int = 2,
    strategy: str = "REPLICA",
) -> dict[str, Any]:
    step = plan_step(
        svc(current, desired=desired, strategy=strategy),
        TD.format(target),
        facts,
        can_register=can_register,
        desired_count=desired_count,
        why=saying(why),
        pinned=pinned,
        settings=settings,
        expect=EXPECT,
    )
    return fields(step)


def test_on_its_target_is_unchanged_with_the_why_as_reason() -> None:
    assert decide("web:3", "web:3", ACTIVE) == expected(Action.UNCHANGED, "web:3", "web:3", "")
    assert decide("web:3", "web:3", ACTIVE, why="rollback to web:3") == expected(
        Action.UNCHANGED, "web:3", "web:3", "rollback to web:3"
    )
    # Deregistered since, yet ECS keeps running it: still unchanged.
    assert decide("web:3", "web:3", TargetFacts(None), can_register=False) == expected(
        Action.UNCHANGED, "web:3", "web:3", ""
    )


def test_on_a_re_registration_of_its_target_is_unchanged_and_says_so() -> None:
    reused = TargetFacts("INACTIVE", reuse=TD.format("web:9"))
    assert decide("web:9", "web:3", reused) == expected(
        Action.UNCHANGED, "web:9", "web:9", "already on its re-registration of web:3"
    )
    assert decide("web:9", "web:3", reused, why="w") == expected(
        Action.UNCHANGED, "web:9", "web:9", "w; already on its re-registration of web:3"
    )


def test_pinned_and_on_the_pinned_copy_is_unchanged() -> None:
    copy = TargetFacts("ACTIVE", reuse=TD.format("web:9"))
    assert decide("web:9", "web:3", copy, pinned=True, settings={}) == expected(
        Action.UNCHANGED, "web:9", "web:9", "already on its re-registration of web:3"
    )


def test_pinned_target_is_never_the_original_itself() -> None:
    # On the original (tag-named) revision: it must move to a pinned registration.
    assert decide("web:3", "web:3", ACTIVE, pinned=True, settings=SETTINGS) == expected(
        Action.REREGISTER,
        "web:3",
        "web:3",
        "web:3 pinned; registering it again",
        settings=SETTINGS,
        expect=EXPECT,
        pinned=True,
    )
    copy = TargetFacts("ACTIVE", reuse=TD.format("web:9"))
    assert decide("web:4", "web:3", copy, pinned=True, why="w", desired_count=4) == expected(
        Action.UPDATE,
        "web:4",
        "web:9",
        "w; web:3 pinned; reusing its re-registration web:9",
        desired_count=4,
        expect=EXPECT,
        pinned=True,
    )
    assert decide("web:4", "web:3", ACTIVE, pinned=True, can_register=False) == expected(
        Action.SKIP, "web:4", "web:3", "web:3 pinned and no snapshot holds its body"
    )


def test_on_its_target_with_a_count_to_restore_updates_the_count() -> None:
    assert decide("web:3", "web:3", ACTIVE, desired_count=5) == expected(
        Action.UPDATE, "web:3", "web:3", "desired count 2 -> 5", desired_count=5, expect=EXPECT
    )
    assert decide("web:3", "web:3", ACTIVE, desired_count=5, why="w") == expected(
        Action.UPDATE, "web:3", "web:3", "w; desired count 2 -> 5", desired_count=5, expect=EXPECT
    )
    # Scaling to 0 is a count change like any other, and says so.
    assert decide("web:3", "web:3", ACTIVE, desired_count=0, why="w") == expected(
        Action.UPDATE, "web:3", "web:3", "w; desired count 2 -> 0", desired_count=0, expect=EXPECT
    )


def test_on_its_target_with_settings_to_put_back_updates_them() -> None:
    assert decide("web:3", "web:3", ACTIVE, settings=SETTINGS, why="w") == expected(
        Action.UPDATE, "web:3", "web:3", "w", settings=SETTINGS, expect=EXPECT
    )
    reused = TargetFacts(None, reuse=TD.format("web:9"))
    assert decide("web:9", "web:3", reused, settings=SETTINGS) == expected(
        Action.UPDATE, "web:9", "web:9", "", settings=SETTINGS, expect=EXPECT
    )


def test_a_count_already_right_or_of_a_daemon_is_not_sent() -> None:
    assert decide("web:3", "web:3", ACTIVE, desired_count=2) == expected(
        Action.UNCHANGED, "web:3", "web:3", ""
    )
    assert decide("web:3", "web:3", ACTIVE, desired_count=5, strategy="DAEMON") == expected(
        Action.UNCHANGED, "web:3", "web:3", ""
    )
    assert decide("web:4", "web:3", ACTIVE, desired_count=5, strategy="DAEMON") == expected(
        Action.UPDATE, "web:4", "web:3", "", expect=EXPECT
    )


def test_an_active_target_is_a_plain_update() -> None:
    assert decide("web:4", "web:3", ACTIVE, desired_count=5, why="w", settings=SETTINGS) == (
        expected(
            Action.UPDATE,
            "web:4",
            "web:3",
            "w",
            desired_count=5,
            settings=SETTINGS,
            expect=EXPECT,
        )
    )


def test_a_gone_target_is_reused_or_registered_again_or_skipped() -> None:
    reused = TargetFacts("INACTIVE", reuse=TD.format("web:9"))
    assert decide("web:4", "web:3", reused, why="w") == expected(
        Action.UPDATE,
        "web:4",
        "web:9",
        "w; web:3 is INACTIVE; reusing its re-registration web:9",
        expect=EXPECT,
    )
    assert decide("web:4", "web:3", TargetFacts("DELETE_IN_PROGRESS"), desired_count=1) == (
        expected(
            Action.REREGISTER,
            "web:4",
            "web:3",
            "web:3 is DELETE_IN_PROGRESS; registering it again",
            desired_count=1,
            expect=EXPECT,
        )
    )
    assert decide("web:4", "web:3", TargetFacts(None), why="w") == expected(
        Action.REREGISTER,
        "web:4",
        "web:3",
        "w; web:3 is deleted; registering it again",
        expect=EXPECT,
    )
    # Skipped: no count, no settings, no digests to expect (nothing is sent).
    skipped = decide(
        "web:4",
        "web:3",
        TargetFacts(None),
        can_register=False,
        desired_count=5,
        why="w",
        settings=SETTINGS,
    )
    assert skipped == expected(
        Action.SKIP, "web:4", "web:3", "w; web:3 is deleted and no snapshot holds its body"
    )


def test_an_active_unpinned_target_is_used_as_is_even_with_a_re_registration() -> None:
    # On a re-registration of a target that is ACTIVE and not to be pinned: back to the
    # original itself.
    copy = TargetFacts("ACTIVE", reuse=TD.format("web:9"))
    assert decide("web:9", "web:3", copy) == expected(
        Action.UPDATE, "web:9", "web:3", "", expect=EXPECT
    )


def test_without_a_why_the_reason_is_empty() -> None:
    step = plan_step(svc("web:4"), TD.format("web:3"), ACTIVE, can_register=True)
    assert (step.action, step.reason) == (Action.UPDATE, "")


def test_a_step_remembers_the_deployments_it_saw() -> None:
    deployments = (
        Deployment("ecs-svc/1", "PRIMARY", TD.format("web:4")),
        Deployment("", "ACTIVE", TD.format("web:3")),
        Deployment("ecs-svc/2", "ACTIVE", TD.format("web:2")),
    )
    step = plan_step(
        svc("web:4", deployments=deployments), TD.format("web:3"), ACTIVE, can_register=True
    )
    assert step.seen == ("ecs-svc/1", "ecs-svc/2")


def test_settings_given_as_a_mapping_are_sent_as_a_copy() -> None:
    given = {"platformVersion": "1.4.0"}
    step = plan_step(svc("web:4"), TD.format("web:3"), ACTIVE, can_register=True, settings=given)
    given["platformVersion"] = "LATEST"
    assert step.settings == {"platformVersion": "1.4.0"}


# -- the other steps, Step and Plan ---------------------------------------------------------


def test_missing_skip_and_unchanged_steps() -> None:
    assert fields(missing_step("web", TD.format("web:3"))) == {
        **expected(Action.MISSING, None, "web:3", "service no longer exists"),
        "service_arn": None,
    }
    assert missing_step("web", TD.format("web:3")).has(Why.GONE)
    draining = missing_step("web", None, "DRAINING")
    assert draining.reason == "service is being deleted (DRAINING)"
    assert draining.has(Why.BEING_DELETED)
    unreadable = because(Why.NOT_RESTORED, error="could not read it")
    assert fields(skip_step(svc("web:4"), TD.format("web:3"), unreadable)) == expected(
        Action.SKIP, "web:4", "web:3", "not restored: could not read it"
    )
    old = because(Why.NOT_DEPLOYED_SINCE, minutes=30)
    assert fields(unchanged_step(svc("web:4"), old)) == expected(
        Action.UNCHANGED, "web:4", "web:4", "not deployed in the last 30 minutes"
    )


def test_only_update_re_register_and_stop_change_anything() -> None:
    changing = {a for a in Action if Step("web", None, a, None, None).changes}
    assert changing == {Action.UPDATE, Action.REREGISTER, Action.STOP}


def test_plan_orders_steps_by_name_unknown_last_and_keeps_one_registration() -> None:
    plan = Plan("cluster")
    for name in ["c", "x", "a", "y", "b"]:
        plan.add(Step(name, None, Action.UPDATE, None, None))
    plan.order(["a", "b", "c"])
    assert [s.service for s in plan.steps] == ["a", "b", "c", "x", "y"]

    first = Registration("orig", {"family": "web"}, [])
    plan.add(Step("d", None, Action.REREGISTER, None, "orig"), first)
    plan.add(Step("e", None, Action.REREGISTER, None, "orig"), Registration("orig", {}, []))
    plan.add(Step("f", None, Action.SKIP, None, None), None)
    assert plan.registrations == {"orig": first}
    assert [s.service for s in plan.changing] == ["a", "b", "c", "x", "y", "d", "e"]


def test_registration_tags_drop_aws_keys_in_any_case() -> None:
    tags = [
        {"key": "AWS:Owner", "value": "x"},
        {"value": "no key"},
        {"key": "team", "value": "a"},
    ]
    assert Registration("orig", {}, tags).request_tags() == [
        {"value": "no key"},
        {"key": "team", "value": "a"},
        {"key": PROVENANCE_TAG, "value": "orig"},
    ]


# -- pins_for and pinned_body --------------------------------------------------------------


def revision(
    *images: ContainerImage, settings: dict[str, Any] | None = None, td: str = "web:4"
) -> ServiceRevision:
    return ServiceRevision(
        "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1",
        TD.format(td),
        images,
        settings if settings is not None else {},
    )


def test_auto_pins_only_where_the_tag_moved() -> None:
    recorded = (
        ContainerImage("app", f"{REPO}:1.4", OLD),  # moved
        ContainerImage("side", f"{REPO}:side", OLD),  # same digest now
        ContainerImage("log", f"{REPO}:log", OLD),  # not running now
        ContainerImage("nodigest", f"{REPO}:x"),  # no digest seen
        ContainerImage("bydigest", f"{REPO}@{OLD}", OLD),  # already by digest
    )
    running = revision(
        ContainerImage("app", f"{REPO}:1.4", NEW),
        ContainerImage("side", f"{REPO}:side", OLD),
        ContainerImage("log", f"{REPO}:other", NEW),  # another reference: no evidence
        ContainerImage("nodigest", f"{REPO}:x", NEW),
        ContainerImage("bydigest", f"{REPO}@{OLD}", NEW),
    )
    pins, notes = pins_said(recorded, running, "auto")
    assert pins == [recorded[0]]
    assert notes == [
        f"{REPO}:1.4 now points at b2b2b2b2b2b2; pinning to a1a1a1a1a1a1 as in the snapshot"
    ]


def test_auto_needs_the_same_container_for_evidence() -> None:
    recorded = (ContainerImage("app", f"{REPO}:1.4", OLD),)
    running = revision(ContainerImage("other", f"{REPO}:1.4", NEW))
    assert pins_said(recorded, running, "auto") == ([], [])
    assert pins_said(recorded, None, "auto") == ([], [])


def test_always_pins_every_tagged_image_and_never_none() -> None:
    recorded = (
        ContainerImage("nodigest", f"{REPO}:x"),
        ContainerImage("bydigest", f"{REPO}@{OLD}", OLD),
        ContainerImage("app", f"{REPO}:1.4", OLD),
        ContainerImage("side", f"{REPO}:side", OLD),
    )
    running = revision(ContainerImage("app", f"{REPO}:1.4", NEW))
    pins, notes = pins_said(recorded, running, "always")
    assert pins == [recorded[2], recorded[3]]
    # A tagged image without a recorded digest cannot be pinned: said, never silent.
    unpinned = (
        "nodigest not pinned: the snapshot recorded no digest for it (its tag runs whatever "
        "it points at now)"
    )
    assert notes == [
        unpinned,
        f"{REPO}:1.4 now points at b2b2b2b2b2b2; pinning to a1a1a1a1a1a1 as in the snapshot",
        "pinning to a1a1a1a1a1a1 as in the snapshot",
    ]
    assert pins_said(recorded, None, "always")[1] == [
        unpinned,
        "pinning to a1a1a1a1a1a1 as in the snapshot",
        "pinning to a1a1a1a1a1a1 as in the snapshot",
    ]
    assert pins_said(recorded, running, "auto")[1] == [
        f"{REPO}:1.4 now points at b2b2b2b2b2b2; pinning to a1a1a1a1a1a1 as in the snapshot"
    ]  # auto pins only where it sees a tag move: nothing to say of the others
    assert pins_said(recorded, running, "never") == ([], [])
    assert pins_said(None, running, "always") == ([], [])
    assert pins_said((), running, "always") == ([], [])


def test_a_service_on_the_pinned_copy_stays_pinned_without_a_note() -> None:
    image = ContainerImage("app", f"{REPO}:1.4", OLD)
    running = revision(ContainerImage("app", f"{REPO}@{OLD}", OLD))
    assert pins_said((image,), running, "auto") == ([image], [])
    assert pins_said((image,), running, "always") == ([image], [])


def test_pinned_body_names_pinned_images_by_digest_and_leaves_the_body_alone() -> None:
    body = {
        "family": "web",
        "containerDefinitions": [
            {"name": "app", "image": f"{REPO}:1.4", "cpu": 1},
            {"name": "side", "image": f"{REPO}:side"},
            {"image": "busybox"},
        ],
    }
    pinned = pinned_body(body, [ContainerImage("app", f"{REPO}:1.4", OLD)])
    assert pinned == {
        "family": "web",
        "containerDefinitions": [
            {"name": "app", "image": f"{REPO}@{OLD}", "cpu": 1},
            {"name": "side", "image": f"{REPO}:side"},
            {"image": "busybox"},
        ],
    }
    assert body["containerDefinitions"][0]["image"] == f"{REPO}:1.4"


# -- setting_changes -----------------------------------------------------------------------


def nothing_set() -> dict[str, Any]:
    return dict.fromkeys(SERVICE_SETTINGS)


def test_settings_unknown_on_either_side_are_not_compared() -> None:
    assert changes_said(None, nothing_set()) == ({}, [])
    assert changes_said(None, None) == ({}, [])
    assert changes_said({"platformVersion": "1.4.0"}, None) == (
        {},
        ["service settings not compared: what runs now could not be read"],
    )


def test_equal_settings_send_nothing_whatever_their_key_order_or_emptiness() -> None:
    recorded = {
        **nothing_set(),
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["a"], "assignPublicIp": "X"}},
        "loadBalancers": [],
    }
    current = {
        **nothing_set(),
        "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "X", "subnets": ["a"]}},
        "loadBalancers": None,
    }
    assert changes_said(recorded, current) == ({}, [])


def test_a_changed_setting_is_sent_back_with_its_difference_in_words() -> None:
    recorded = {"platformVersion": "1.4.0", "loadBalancers": [{"b": 1, "a": 2}]}
    current = {"platformVersion": "LATEST", "loadBalancers": [{"a": 3}]}
    assert changes_said(recorded, current) == (
        {"platformVersion": "1.4.0", "loadBalancers": [{"b": 1, "a": 2}]},
        ['platformVersion: "LATEST" -> "1.4.0"', 'loadBalancers: [{"a":3}] -> [{"a":2,"b":1}]'],
    )


def test_a_setting_a_deploy_added_is_cleared_where_update_service_can() -> None:
    current = {
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["a"]}},
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}],
        "platformVersion": "1.4.0",
        "loadBalancers": [{"x": 1}],
        "serviceRegistries": [{"x": 2}],
        "serviceConnectConfiguration": {"enabled": True},
        "volumeConfigurations": [{"x": 3}],
        "vpcLatticeConfigurations": [{"x": 4}],
    }
    send, notes = changes_said(nothing_set(), current)
    assert send == {
        "capacityProviderStrategy": [],
        "loadBalancers": [],
        "serviceRegistries": [],
        "serviceConnectConfiguration": {"enabled": False},
        "volumeConfigurations": [],
        "vpcLatticeConfigurations": [],
    }
    assert notes == [
        'networkConfiguration: {"awsvpcConfiguration":{"subnets":["a"]}} -> unset'
        " (UpdateService cannot unset it)",
        'capacityProviderStrategy: [{"capacityProvider":"FARGATE"}] -> none',
        'platformVersion: "1.4.0" -> unset (UpdateService cannot unset it)',
        'loadBalancers: [{"x":1}] -> none',
        'serviceRegistries: [{"x":2}] -> none',
        'serviceConnectConfiguration: {"enabled":true} -> none',
        'volumeConfigurations: [{"x":3}] -> none',
        'vpcLatticeConfigurations: [{"x":4}] -> none',
    ]


def test_a_setting_a_deploy_removed_is_sent_back() -> None:
    send, notes = changes_said({"platformVersion": "1.4.0"}, {})
    assert send == {"platformVersion": "1.4.0"}
    assert notes == ['platformVersion: none -> "1.4.0"']


def test_a_short_setting_is_told_whole_and_a_long_one_by_the_values_that_differ() -> None:
    """Up to 80 characters a setting is told as it is; longer, each value that differs by
    its path, whole, so that a security group or target group can be looked up (the words
    used to cut them: "sg-b05... -> ...sg-034...")."""
    exactly = "x" * 78  # 80 with its quotes: told whole
    _, short = changes_said({"platformVersion": exactly}, {"platformVersion": "LATEST"})
    assert short == [f'platformVersion: "LATEST" -> "{exactly}"']

    def network(*groups: str) -> dict[str, Any]:
        subnets = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
        vpc = {"subnets": subnets, "securityGroups": list(groups), "assignPublicIp": "DISABLED"}
        return {"networkConfiguration": {"awsvpcConfiguration": vpc}}

    old, new = "sg-0b05f1c2d3e4a5b60", "sg-0340aa1b2c3d4e5f6"
    _, long = changes_said(network(old, "sg-0keep"), network(new, "sg-0keep", "sg-0added1"))
    path = "networkConfiguration.awsvpcConfiguration.securityGroups"
    assert long == [f'{path}[0]: "{new}" -> "{old}"', f'{path}[2]: "sg-0added1" -> none']


def test_a_long_setting_tells_five_differences_then_counts_the_rest() -> None:
    was = {"platformVersion": [f"a-long-value-{i:02d}" * 2 for i in range(8)]}
    now = {"platformVersion": [f"b-long-value-{i:02d}" * 2 for i in range(8)]}
    _, notes = changes_said(was, now)
    assert len(notes) == 6 and notes[0].startswith('platformVersion[0]: "b-long-value-00')
    assert notes[-1] == "platformVersion: 3 more differences"


def test_a_value_longer_than_any_id_is_cut_in_words() -> None:
    huge = "z" * 300
    _, notes = changes_said({"platformVersion": huge}, {"platformVersion": "1.4.0"})
    assert notes == [f'platformVersion: "1.4.0" -> "{"z" * 252}...']


def test_settings_not_json_compare_as_text() -> None:
    # A value JSON cannot write compares by its text instead of failing the plan.
    class Version:
        def __init__(self, text: str) -> None:
            self.text = text

        def __str__(self) -> str:
            return self.text

    same, _ = changes_said({"platformVersion": Version("1.4.0")}, {"platformVersion": "1.4.0"})
    assert same == {}


# -- want_of -------------------------------------------------------------------------------


BODY = {"family": "web", "containerDefinitions": [{"name": "app", "image": f"{REPO}:1.4"}]}
TAGS = [{"key": "team", "value": "a"}]


def test_want_pins_moved_tags_and_puts_settings_back() -> None:
    images = (ContainerImage("app", f"{REPO}:1.4", OLD), ContainerImage("init", "busybox"))
    running = revision(
        ContainerImage("app", f"{REPO}:1.4", NEW), settings={"platformVersion": "LATEST"}
    )
    wanted = want_of(
        TD.format("web:3"),
        BODY,
        TAGS,
        images,
        {"platformVersion": "1.4.0"},
        running,
        scope="service",
        pin_images="auto",
    )
    assert replace(wanted, notes=words(wanted.notes)) == Want(
        TD.format("web:3"),
        {"family": "web", "containerDefinitions": [{"name": "app", "image": f"{REPO}@{OLD}"}]},
        TAGS,
        True,
        {"platformVersion": "1.4.0"},
        (
            f"{REPO}:1.4 now points at b2b2b2b2b2b2; pinning to a1a1a1a1a1a1 as in the snapshot",
            'platformVersion: "LATEST" -> "1.4.0"',
        ),
        frozenset({("app", OLD)}),
    )
    assert wanted.key == (
        TD.format("web:3"),
        '{"containerDefinitions": [{"image": "' + REPO + "@" + OLD + '", "name": "app"}], '
        '"family": "web"}',
    )


def test_want_of_the_task_definition_alone_leaves_settings_and_tags_as_they_are() -> None:
    running = revision(
        ContainerImage("app", f"{REPO}:1.4", OLD), settings={"platformVersion": "LATEST"}
    )
    wanted = want_of(
        TD.format("web:3"),
        BODY,
        TAGS,
        None,
        {"platformVersion": "1.4.0"},
        running,
        scope="task-definition",
        pin_images="always",
    )
    assert wanted == Want(TD.format("web:3"), BODY, TAGS, False, {}, (), frozenset())
    assert wanted.body is not BODY


def test_want_pins_every_tagged_image_when_asked_to_always() -> None:
    wanted = want_of(
        TD.format("web:3"),
        BODY,
        TAGS,
        (ContainerImage("app", f"{REPO}:1.4", OLD),),
        None,
        None,
        scope="task-definition",
        pin_images="always",
    )
    assert wanted.pinned is True
    assert wanted.body["containerDefinitions"] == [{"name": "app", "image": f"{REPO}@{OLD}"}]
    assert words(wanted.notes) == ("pinning to a1a1a1a1a1a1 as in the snapshot",)


def test_want_with_nothing_running_known_says_the_settings_were_not_compared() -> None:
    wanted = want_of(
        TD.format("web:3"),
        BODY,
        TAGS,
        (ContainerImage("app", f"{REPO}:1.4", OLD),),
        {"platformVersion": "1.4.0"},
        None,
        scope="service",
        pin_images="auto",
    )
    assert replace(wanted, notes=words(wanted.notes)) == Want(
        TD.format("web:3"),
        BODY,
        TAGS,
        False,
        {},
        ("service settings not compared: what runs now could not be read",),
        frozenset({("app", OLD)}),
    )


# -- stop_step -----------------------------------------------------------------------------


DEPLOYMENT = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc"
SOURCE = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/3"


def flight(status: str = "IN_PROGRESS", sources: tuple[str, ...] = (SOURCE,)) -> ServiceDeployment:
    return ServiceDeployment(DEPLOYMENT, SVC.format("web"), status, sources, "target-rev")


def source_revision(
    td: str = "web:3", digest: str = OLD, settings: dict[str, Any] | None = None
) -> ServiceRevision:
    return ServiceRevision(
        SOURCE,
        TD.format(td),
        (ContainerImage("app", f"{REPO}:1.4", digest),),
        {**nothing_set(), **(settings or {})},
    )


def normal_update(target: str = "web:3", desired_count: int | None = None) -> Step:
    return plan_step(
        svc("web:4", deployments=(Deployment("ecs-svc/1", "PRIMARY", TD.format("web:4")),)),
        TD.format(target),
        ACTIVE,
        can_register=True,
        desired_count=desired_count,
        why=saying("w"),
        settings={"platformVersion": "1.4.0"},
        expect=frozenset({("app", OLD)}),
    )


def wanted_of(target: str = "web:3", expect: frozenset[tuple[str, str]] = EXPECT) -> Want:
    return Want(TD.format(target), BODY, TAGS, False, {}, (), expect)


def stop(
    normal: Step | None = None,
    deployment: ServiceDeployment | None = None,
    sources: list[ServiceRevision] | None = None,
    wanted: Want | None = None,
    recorded: dict[str, Any] | None = None,
    running: ServiceRevision | None = None,
) -> Step | None:
    return stop_step(
        normal or normal_update(),
        deployment or flight(),
        [source_revision()] if sources is None else sources,
        wanted or wanted_of(),
        recorded,
        running,
    )


def test_an_in_flight_deploy_from_exactly_the_wanted_revision_is_stopped() -> None:
    normal = normal_update()
    step = stop(normal, recorded=nothing_set())
    assert step is not None
    assert fields(step) == {
        **fields(normal),
        "action": Action.STOP,
        "target": TD.format("web:3"),
        "reason": "stop the in-flight deployment; ECS rolls back to web:3",
        "settings": {},
        "deployment": DEPLOYMENT,
        "fallback": normal,
    }
    assert step.seen == ("ecs-svc/1",)
    assert step.expect == frozenset({("app", OLD)})
    assert step.fallback is normal


def test_a_pending_deploy_is_stopped_too() -> None:
    step = stop(deployment=flight("PENDING"), recorded=nothing_set())
    assert step is not None and step.action == Action.STOP


def test_the_source_may_be_the_normal_steps_target_or_the_wanted_one() -> None:
    # The normal step goes to a reuse of the wanted target; the source runs the wanted target.
    step = stop(normal_update("web:9"), recorded=nothing_set())
    assert step is not None and step.target == TD.format("web:3")
    # The source runs where the normal step goes.
    step = stop(wanted=wanted_of("web:1"), recorded=nothing_set())
    assert step is not None and step.target == TD.format("web:3")
    # Neither.
    assert stop(normal_update("web:9"), wanted=wanted_of("web:1"), recorded=nothing_set()) is None


def test_without_recorded_settings_the_running_ones_must_not_change() -> None:
    same = source_revision(td="web:4")
    assert stop(running=same) is not None
    changed = source_revision(td="web:4", settings={"platformVersion": "LATEST"})
    assert stop(running=changed) is None
    assert stop() is None  # neither recorded nor running known
    # Recorded settings win over the running ones.
    assert stop(recorded=nothing_set(), running=changed) is not None
    assert stop(recorded={"platformVersion": "LATEST"}, running=same) is None


def test_a_setting_update_service_cannot_unset_does_not_prevent_the_stop() -> None:
    # Recorded unset, the source has it: the normal path could not unset it either.
    source = source_revision(settings={"platformVersion": "1.4.0"})
    step = stop(sources=[source], recorded=nothing_set())
    assert step is not None and step.action == Action.STOP


@pytest.mark.parametrize(
    "case",
    [
        "not an update",
        "a count to send",
        "finished",
        "replaced two",
        "two sources read",
        "no source read",
        "other digests",
        "settings differ",
    ],
)
def test_otherwise_the_normal_path_is_taken(case: str) -> None:
    kwargs: dict[str, Any] = {"recorded": nothing_set()}
    if case == "not an update":
        kwargs["normal"] = plan_step(
            svc("web:4"), TD.format("web:3"), TargetFacts(None), can_register=True
        )
    elif case == "a count to send":
        kwargs["normal"] = normal_update(desired_count=5)
    elif case == "finished":
        kwargs["deployment"] = flight("SUCCESSFUL")
    elif case == "replaced two":
        kwargs["deployment"] = flight(sources=(SOURCE, SOURCE + "x"))
    elif case == "two sources read":
        kwargs["sources"] = [source_revision(), source_revision()]
    elif case == "no source read":
        kwargs["sources"] = []
    elif case == "other digests":
        kwargs["sources"] = [source_revision(digest=NEW)]
    elif case == "settings differ":
        kwargs["recorded"] = {"platformVersion": "1.4.0"}
    assert stop(**kwargs) is None
    # The same, with that one thing right, is stopped (the case is the only reason).
    assert stop(recorded=nothing_set()) is not None


def test_no_digests_to_expect_means_any_source_digests_will_do() -> None:
    step = stop(
        sources=[source_revision(digest=NEW)],
        wanted=wanted_of(expect=frozenset()),
        recorded=nothing_set(),
    )
    assert step is not None and step.action == Action.STOP


# -- scheduled tasks and service auto scaling -----------------------------------------------

CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"


def nightly(task_definition: str, **ecs: Any) -> ScheduledTask:
    target = {
        "Id": "t",
        "Arn": CLUSTER_ARN,
        "EcsParameters": {"TaskDefinitionArn": task_definition, **ecs},
    }
    arn = "arn:aws:events:us-east-1:123456789012:rule/nightly"
    return ScheduledTask(Kind.RULE, "nightly", arn, "default", "nightly", "t", target)


def test_a_scheduled_task_goes_back_to_its_task_definition_as_a_service_would() -> None:
    was, now = nightly(TD.format("job:1"), TaskCount=1), nightly(TD.format("job:2"), TaskCount=1)
    same = plan_scheduled(was, was, ACTIVE, scope=Scope.SERVICE)
    assert (same.action, same.why) == (Action.UNCHANGED, ())
    update = plan_scheduled(was, now, ACTIVE, scope=Scope.SERVICE)
    assert (update.action, update.target, update.kind) == (
        Action.UPDATE,
        TD.format("job:1"),
        "rule",
    )
    gone = plan_scheduled(was, now, TargetFacts("INACTIVE"), scope=Scope.SERVICE)
    assert gone.action == Action.REREGISTER and words(gone.why) == (
        "job:1 is INACTIVE",
        "registering it again",
    )
    reused = plan_scheduled(was, now, TargetFacts(None, TD.format("job:5")), scope=Scope.SERVICE)
    assert (reused.action, reused.target) == (Action.UPDATE, TD.format("job:5"))
    on_copy = plan_scheduled(
        was,
        nightly(TD.format("job:5"), TaskCount=1),
        TargetFacts(None, TD.format("job:5")),
        scope=Scope.SERVICE,
    )
    assert on_copy.action == Action.UNCHANGED and on_copy.has(Why.ON_COPY)
    assert plan_scheduled(was, None, ACTIVE, scope=Scope.SERVICE).action == Action.MISSING
    family = nightly("arn:aws:ecs:us-east-1:123456789012:task-definition/job")
    latest = plan_scheduled(family, family, ACTIVE, scope=Scope.SERVICE)
    assert latest.action == Action.UNCHANGED and latest.has(Why.FAMILY_LATEST)
    pinned_since = plan_scheduled(family, now, ACTIVE, scope=Scope.TASK_DEFINITION)
    assert (pinned_since.action, pinned_since.target) == (Action.UPDATE, family.task_definition)
    # On its recorded task definition, deregistered since: ECS starts no task from it.
    inactive = plan_scheduled(was, was, TargetFacts("INACTIVE"), scope=Scope.SERVICE)
    assert inactive.action == Action.REREGISTER and inactive.current == inactive.target
    copy = plan_scheduled(
        was, was, TargetFacts("INACTIVE", TD.format("job:9")), scope=Scope.SERVICE
    )
    assert (copy.action, copy.target) == (Action.UPDATE, TD.format("job:9"))


def test_a_scheduled_task_s_other_fields_go_back_only_with_scope_service() -> None:
    was, now = nightly(TD.format("job:1"), TaskCount=1), nightly(TD.format("job:1"), TaskCount=4)
    service = plan_scheduled(was, now, ACTIVE, scope=Scope.SERVICE)
    assert service.action == Action.UPDATE and service.put == was.definition
    assert words(service.why) == ("EcsParameters changed since the snapshot",)
    only = plan_scheduled(was, now, ACTIVE, scope=Scope.TASK_DEFINITION)
    assert only.action == Action.UNCHANGED  # the task definition is already right


def test_auto_scaling_goes_back_and_what_was_added_is_told() -> None:
    web = service("web", TD.format("web:1"))
    cpu = {"PolicyName": "cpu", "PolicyType": "TargetTrackingScaling"}
    was = ScalableTarget(True, 1, 4, {"DynamicScalingInSuspended": False}, (cpu,))
    assert plan_scaling(web, NONE, NONE) is None  # none then, none now: no row
    assert plan_scaling(web, was, was) is None  # as it was, nothing to tell: no row
    raised = replace(was, min_capacity=3, policies=(cpu, {"PolicyName": "mem"}))
    step = plan_scaling(web, was, raised)
    assert step is not None and step.action == Action.UPDATE
    assert step.scaling is not None
    assert (step.scaling.register, step.scaling.policies) == (True, ())
    assert words(step.why) == (
        "auto scaling min 3, max 4 -> min 1, max 4",
        "scaling policies created since, left as they are: mem",
    )
    retuned = replace(was, policies=({**cpu, "PolicyType": "StepScaling"},))
    policy = plan_scaling(web, was, retuned)
    assert policy is not None and policy.scaling is not None
    assert (policy.scaling.register, policy.scaling.policies) == (False, (cpu,))
    suspended = replace(was, suspended={"DynamicScalingInSuspended": True})
    assert words(plan_scaling(web, was, suspended).why) == (  # type: ignore[union-attr]
        "auto scaling min 1, max 4 (DynamicScalingIn suspended) -> min 1, max 4",
    )
    gone = plan_scaling(web, was, NONE)
    assert gone is not None and gone.has(Why.SCALING_GONE) and gone.scaling is not None
    assert gone.scaling.policies == (cpu,)
    added = plan_scaling(web, NONE, was)
    assert added is not None and added.action == Action.UNCHANGED and added.has(Why.SCALING_ADDED)
