"""A rollback runs on the worst day: faults, an endpoint that dies mid-restore, a racing
deploy. Every service must end correct, or be reported exactly as it was left."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from botocore.config import Config

from ecsundo_action.aws.gateway import EcsGateway, make_client
from ecsundo_action.result import Outcome, Status, Verdict
from simulator import Rules
from tests.conftest import connect, run, snapshotted_then_bad_deploy


def restore(gateway: EcsGateway, store: str, **fields: Any) -> Outcome:
    return run(gateway, "restore", store=store, snapshot_id="latest", timeout_minutes=1, **fields)


def seed(sim: Any, n: int, tmp_path: Path) -> str:
    """n services snapshotted, then a bad deploy deregistering half their revisions."""
    return snapshotted_then_bad_deploy(sim, n, tmp_path)


def images(sim: Any, n: int) -> set[str]:
    ecs = sim.client("ecs")
    seen = set()
    for start in range(0, n, 10):
        names = [f"svc{i:03d}" for i in range(start, min(n, start + 10))]
        for service in ecs.describe_services(cluster="prod", services=names)["services"]:
            td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
            seen.add(td["taskDefinition"]["containerDefinitions"][0]["image"])
    return seen


def test_snapshot_and_restore_of_200_services_under_faults(sim: Any, tmp_path: Path) -> None:
    n = 200
    # A quarter of the snapshot's revisions deregistered: 50 re-registrations, which queue on
    # the registrations, each retried call sleeping its backoff there.
    store = snapshotted_then_bad_deploy(sim, n, tmp_path, deregister_every=4)
    # One call in seven faulted (twice the next test's rate): botocore's legacy retries here.
    # Standard mode (production's) stops retrying once its retry quota is spent: under faults
    # this dense some calls would then fail, be reported per service, and a rerun converge (see
    # the outage test). What this test checks, that the engine ends every service correct
    # whatever the calls went through, does not depend on the mode; the next test runs
    # production's set-up. (At one call in four the backoff sleeps alone took 90 s.)
    sim.rules = Rules(throttle_rate=0.10, error_rate=0.03, drop_rate=0.02)
    retries = Config(retries={"mode": "legacy", "max_attempts": 10})
    gateway = EcsGateway(sim.client("ecs", config=retries), quotas=None)
    again = run(gateway, "snapshot", store=f"file://{tmp_path / 'again'}")
    result = restore(gateway, store)
    faults = Counter(c.operation for c in sim.throttled)
    assert sum(faults.values()) > 50, "the faults really happened"
    assert len(again.services) == n
    failures = [(s.name, s.message) for s in result.services if s.status != Status.SUCCESS]
    assert result.verdict == Verdict.SUCCESS, failures[:3]
    sim.rules = Rules()
    assert images(sim, n) == {f"svc{i:03d}:good" for i in range(n)}


def test_production_set_up_at_realistic_fault_rates_ends_every_service_correct(
    sim: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The client exactly as the action makes it (standard retries, 10 attempts, pacing to
    ECS's quotas) through 5% throttling, 1% HTTP 500s and 1% dropped connections."""
    # 120 services: more than a page of ListServices (100) and than UpdateService's burst
    # (50), so the pacing binds; 20 re-registrations, RegisterTaskDefinition's burst.
    n = 120
    store = snapshotted_then_bad_deploy(sim, n, tmp_path, deregister_every=6)
    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_CONFIG_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    gateway = EcsGateway(make_client("ecs", sim.region))
    assert gateway.ecs.meta.config.retries == {"mode": "standard", "total_max_attempts": 10}
    sim.rules = Rules(throttle_rate=0.05, error_rate=0.01, drop_rate=0.01)
    again = run(gateway, "snapshot", store=f"file://{tmp_path / 'again'}")
    result = restore(gateway, store)
    assert len(sim.throttled) > 10, "the faults really happened"
    assert len(again.services) == n
    failures = [(s.name, s.message) for s in result.services if s.status != Status.SUCCESS]
    assert result.verdict == Verdict.SUCCESS, failures[:3]
    sim.rules = Rules()
    assert images(sim, n) == {f"svc{i:03d}:good" for i in range(n)}


def test_endpoint_dies_mid_restore_report_is_exact_and_a_rerun_converges(
    sim: Any, tmp_path: Path
) -> None:
    n = 20
    store = seed(sim, n, tmp_path)
    # The endpoint goes away after the 8th UpdateService it answers.
    sim.rules = Rules(outage_after=("UpdateService", 8))
    few_retries = Config(
        retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=5
    )
    first = restore(connect(sim, config=few_retries, quotas=None), store)
    assert not first.ok and first.verdict in (Verdict.PARTIAL, Verdict.FAILED)
    rows = {s.name: s for s in first.services}
    assert len(rows) == n  # every service is accounted for
    updated = {name for name, s in rows.items() if "updated, but" in s.message}
    not_updated = {name for name, s in rows.items() if name not in updated}
    assert len(updated) == 8, {k: v.message for k, v in rows.items()}
    assert all(rows[name].status == Status.FAILED for name in rows)
    sim.rules = Rules()
    ecs = sim.client("ecs")
    for name in updated:  # what the report says was updated, was
        service = ecs.describe_services(cluster="prod", services=[name])["services"][0]
        assert service["taskDefinition"] == rows[name].to
    second = restore(connect(sim, quotas=None), store)
    assert second.verdict == Verdict.SUCCESS
    assert images(sim, n) == {f"svc{i:03d}:good" for i in range(n)}
    # Re-registrations the first run made are reused: each family holds its two deployed
    # revisions plus, where the snapshot's was deregistered, exactly one re-registration.
    for i in range(n):
        family = f"svc{i:03d}"
        revisions = [
            arn
            for status in ("ACTIVE", "INACTIVE")
            for arn in ecs.list_task_definitions(familyPrefix=family, status=status)[
                "taskDefinitionArns"
            ]
        ]
        assert len(revisions) == (3 if i % 2 == 0 else 2), (family, revisions)
    assert not_updated and all(rows[name].status == Status.FAILED for name in not_updated)


def test_a_deploy_racing_the_restore_is_reported(sim: Any, tmp_path: Path) -> None:
    store = seed(sim, 4, tmp_path)
    racer = sim.client("ecs")
    raced: list[str] = []

    def race(call: Any) -> None:
        # Just before ecsundo's UpdateService for svc001 lands, someone deploys to it.
        if (
            call.operation == "UpdateService"
            and call.params["service"].endswith("/svc001")
            and not raced
        ):
            raced.append("deploy")
            fresh = racer.register_task_definition(
                family="svc001",
                containerDefinitions=[{"name": "app", "image": "svc001:hotfix", "memory": 64}],
            )["taskDefinition"]["taskDefinitionArn"]
            racer.update_service(cluster="prod", service="svc001", taskDefinition=fresh)

    sim.rules = Rules(deploy_seconds=0.3, before_request=race)
    result = restore(EcsGateway(sim.client("ecs"), quotas=None), store)
    rows = {s.name: s for s in result.services}
    assert raced == ["deploy"]
    assert rows["svc001"].status == Status.FAILED
    assert "another deploy (to svc001:" in rows["svc001"].message
    assert all(rows[n].status == Status.SUCCESS for n in ("svc000", "svc002", "svc003"))
    assert result.verdict == Verdict.PARTIAL and not result.ok


def test_a_target_that_cannot_be_read_is_skipped_not_fatal_in_a_dry_run_too(
    sim: Any, tmp_path: Path
) -> None:
    store = seed(sim, 4, tmp_path)
    once = Config(retries={"mode": "standard", "total_max_attempts": 1})
    for dry_run in (True, False):
        sim.rules = Rules(outage_after=("DescribeTaskDefinition", 1))
        gateway = EcsGateway(sim.client("ecs", config=once), quotas=None)
        result = restore(gateway, store, dry_run=dry_run)
        rows = [s for s in result.services if s.message.startswith("not restored: ")]
        assert len(result.services) == 4 and len(rows) >= 3, [s.message for s in result.services]
        assert all(s.status == Status.FAILED for s in rows)


def test_an_unexpected_error_in_a_worker_costs_its_service_one_row_not_the_report(
    sim: Any, tmp_path: Path
) -> None:
    """A bug (not an AWS error) in one service's work, while reading its target or while
    registering it, is that service's failed row; every other service is restored."""
    store = seed(sim, 6, tmp_path)  # svc000, svc002, svc004 need re-registering

    class Faulty(EcsGateway):
        def describe_task_definition(self, ref: str) -> Any:
            if ref.endswith("task-definition/svc001:1"):
                raise KeyError("taskDefinition")
            return super().describe_task_definition(ref)

        def register_task_definition(self, body: dict[str, Any], tags: Any) -> Any:
            if body["family"] == "svc002":
                raise RuntimeError("boom")
            return super().register_task_definition(body, tags)

    result = restore(Faulty(sim.client("ecs"), quotas=None), store)
    rows = {s.name: s for s in result.services}
    assert len(rows) == 6 and result.verdict == Verdict.PARTIAL
    assert rows["svc001"].status == Status.FAILED
    assert rows["svc001"].message == "not restored: internal error: KeyError: 'taskDefinition'"
    assert rows["svc002"].status == Status.FAILED and not rows["svc002"].changed
    assert "internal error: RuntimeError: boom" in rows["svc002"].message
    ok = {name for name, row in rows.items() if row.status == Status.SUCCESS}
    assert ok == {"svc000", "svc003", "svc004", "svc005"}
    assert sorted(result.changed_services) == sorted(ok)
