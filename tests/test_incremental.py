"""Reading less: a snapshot reuses the task definitions the previous snapshot of the same
cluster in the same store already holds (a registered body never changes), describes only
the others, and still stands alone (deleting the older snapshot breaks nothing); an earlier
re-registration is found by its tag in a bounded number of calls, however long the family."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.errors import AwsError
from ecsundo_action.result import Status, Verdict
from tests.conftest import body, run


def shop(sim: Any, n: int = 10) -> None:
    sim.create_cluster("shop")
    for i in range(n):
        family = f"svc{i}"
        sim.create_service("shop", family, sim.register(body(family, "1")), desired_count=1)


def described(sim: Any, since: int) -> int:
    return sum(1 for c in sim.calls[since:] if c.operation == "DescribeTaskDefinition")


def test_a_second_snapshot_describes_only_what_changed(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    shop(sim)
    store = f"file://{tmp_path}"
    first = run(gateway, "snapshot", "shop", store=store)
    ecs = sim.client("ecs")
    for family in ("svc3", "svc7"):  # a deploy: two services on new revisions
        ecs.update_service(
            cluster="shop", service=family, taskDefinition=sim.register(body(family, "2"))
        )
    start = len(sim.calls)
    second = run(gateway, "snapshot", "shop", store=store)
    assert described(sim, start) == 2
    assert first.snapshot is not None and second.snapshot is not None
    # Self-contained: every task definition it names is in it, bodies equal to ECS's.
    names = {s.task_definition for s in second.snapshot.services}
    assert names == set(second.snapshot.task_definitions)
    for arn, kept in second.snapshot.task_definitions.items():
        assert kept == first.snapshot.task_definitions.get(arn, kept)
    start = len(sim.calls)
    full = run(gateway, "snapshot", "shop", store=store, full=True)
    assert described(sim, start) == 10 and full.snapshot is not None
    assert full.snapshot.task_definitions == second.snapshot.task_definitions


def test_deleting_the_older_snapshot_breaks_nothing(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    shop(sim, 4)
    store = f"file://{tmp_path}"
    first = run(gateway, "snapshot", "shop", store=store)
    second = run(gateway, "snapshot", "shop", store=store)  # every body reused
    assert first.snapshot_uri and second.snapshot is not None
    Path(first.snapshot_uri.removeprefix("file://")).unlink()
    ecs = sim.client("ecs")
    for i in range(4):
        ecs.update_service(
            cluster="shop", service=f"svc{i}", taskDefinition=sim.register(body(f"svc{i}", "2"))
        )
        ecs.deregister_task_definition(taskDefinition=f"svc{i}:1")
    restored = run(gateway, "restore", "shop", store=store, snapshot_id=second.snapshot.id)
    assert restored.verdict == Verdict.SUCCESS
    assert {s.action for s in restored.services} == {"re-register"}  # from the reused bodies


def test_an_unreadable_previous_snapshot_means_a_full_one(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    shop(sim, 3)
    store = f"file://{tmp_path}"
    first = run(gateway, "snapshot", "shop", store=store)
    assert first.snapshot_uri
    path = Path(first.snapshot_uri.removeprefix("file://"))
    path.write_text(path.read_text().replace("shop/svc0:1", "evil/svc0:1"))  # fails its checksum
    start = len(sim.calls)
    second = run(gateway, "snapshot", "shop", store=store)
    assert described(sim, start) == 3 and second.snapshot is not None
    assert all(s.status == Status.SUCCESS for s in second.services)
    kept = second.snapshot.task_definitions
    assert all("evil" not in str(td.body) for td in kept.values())


# -- finding an earlier re-registration: bounded, whatever the family's length --------------


def test_the_tagging_client_is_made_once_and_only_when_a_lookup_needs_it(
    sim: Any, tmp_path: Path
) -> None:
    made: list[Any] = []

    def make_tagging() -> Any:
        made.append(sim.client("resourcegroupstaggingapi"))
        return made[-1]

    gateway = EcsGateway(sim.client("ecs"), quotas=None, make_tagging=make_tagging)
    shop(sim, n=3)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    assert made == []  # a snapshot never looks anything up by tag
    ecs = sim.client("ecs")
    for i in range(3):  # three lookups of earlier re-registrations
        ecs.update_service(
            cluster="shop", service=f"svc{i}", taskDefinition=sim.register(body(f"svc{i}", "2"))
        )
        ecs.deregister_task_definition(taskDefinition=f"svc{i}:1")
    sim.calls.clear()
    restored = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    assert restored.verdict == Verdict.SUCCESS
    assert len(made) == 1 and gateway.tagging is made[0]
    assert [c.operation for c in sim.calls].count("GetResources") == 3


def test_a_tagging_client_that_cannot_be_made_means_a_scan_not_a_failed_restore(
    sim: Any, tmp_path: Path
) -> None:
    def make_tagging() -> Any:
        raise AwsError("no AWS region: set the region input, --region or AWS_REGION")

    gateway = EcsGateway(sim.client("ecs"), quotas=None, make_tagging=make_tagging)
    shop(sim, n=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = sim.client("ecs")
    ecs.update_service(
        cluster="shop", service="svc0", taskDefinition=sim.register(body("svc0", "2"))
    )
    ecs.deregister_task_definition(taskDefinition="svc0:1")
    sim.calls.clear()
    assert run(gateway, "restore", "shop", store=store, snapshot_id="latest").verdict == (
        Verdict.SUCCESS
    )
    assert "ListTaskDefinitions" in [c.operation for c in sim.calls]  # it scanned instead


def test_an_earlier_re_registration_is_found_in_a_bounded_number_of_calls(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", "1")), desired_count=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = sim.client("ecs")
    ecs.deregister_task_definition(taskDefinition="web:1")
    first = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    [row] = first.services
    assert row.action == "unchanged"  # still on web:1: nothing to do yet
    # A bad deploy, then 60 more revisions of the family: the restore registers web:1 again,
    # and a second bad deploy and restore must find that copy, not register another.
    for version in range(2, 62):
        sim.register(body("web", str(version)))
    ecs.update_service(cluster="shop", service="web", taskDefinition="web:61")
    again = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    [row] = again.services
    assert row.action == "re-register", row
    copy = row.to
    for version in range(62, 122):
        sim.register(body("web", str(version)))
    ecs.update_service(cluster="shop", service="web", taskDefinition="web:121")
    start = len(sim.calls)
    third = run(gateway, "restore", "shop", store=store, snapshot_id="latest", dry_run=True)
    [row] = third.services
    assert row.action == "update" and row.to == copy, row  # the copy, found and reused
    assert described(sim, start) <= 3, "the target and the tagged copy, not 120 revisions"
    assert [c.operation for c in sim.calls[start:]].count("GetResources") == 1
    # Where the tagging API is refused, the family is scanned: the same answer, dearer.
    sim.rules.refusals[("GetResources", "*")] = "AccessDeniedException"
    start = len(sim.calls)
    scanned = run(gateway, "restore", "shop", store=store, snapshot_id="latest", dry_run=True)
    assert scanned.services[0].to == copy
    assert described(sim, start) > 50
