"""Scheduled tasks (issue 25): the EventBridge rule targets and Scheduler schedules that run a
task in the cluster are snapshotted with its services and put back by a restore, their task
definitions re-registered with the services' when deregistered since."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.errors import EcsundoError, NotFoundError
from ecsundo_action.reasons import Why
from ecsundo_action.render.markdown import run_summary
from ecsundo_action.render.text import text
from ecsundo_action.result import Status, Verdict
from tests.conftest import body, ecsundo, run, until
from tests.runner import defaults, run_step

SECRET = "hunter2-in-the-overrides"


def rule_target(sim: Any, rule: str = "nightly") -> dict[str, Any]:
    [target] = sim.client("events").list_targets_by_rule(Rule=rule)["Targets"]
    return dict(target)


def schedule(sim: Any, name: str = "weekly", group: str = "reports") -> dict[str, Any]:
    return dict(sim.client("scheduler").get_schedule(Name=name, GroupName=group))


def redeploy_schedule(sim: Any, task_definition: str, **changes: Any) -> None:
    """What a deploy does to a schedule: UpdateSchedule, with everything it keeps."""
    now = schedule(sim)
    now["Target"]["EcsParameters"]["TaskDefinitionArn"] = task_definition
    kept = {k: now[k] for k in ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow")}
    sim.client("scheduler").update_schedule(**{**kept, "Target": now["Target"], **changes})


@pytest.fixture
def shop(sim: Any, tmp_path: Path) -> tuple[Any, str, dict[str, str]]:
    """web (a service) and nightly (a rule) run web:1; reports/weekly (a schedule) runs
    report:1; snapshotted, then a bad deploy moves all three and deregisters web:1."""
    sim.create_cluster("prod")
    web = sim.register(body("web", "1"))
    report = sim.register(body("report", "1"))
    sim.create_service("prod", "web", web)
    input_ = json.dumps({"containerOverrides": [{"name": "web", "environment": [SECRET]}]})
    sim.put_rule_target("nightly", "prod", web, TaskCount=1, LaunchType="FARGATE")
    sim.client("events").put_targets(
        Rule="nightly", Targets=[{**rule_target(sim), "Input": input_}]
    )
    sim.create_schedule("weekly", "prod", report, group="reports")
    store = f"file://{tmp_path}"
    return sim, store, {"web": web, "report": report}


def bad_deploy(sim: Any, first: dict[str, str]) -> dict[str, str]:
    web2 = sim.register(body("web", "2"))
    report2 = sim.register(body("report", "2"))
    sim.client("ecs").update_service(cluster="prod", service="web", taskDefinition=web2)
    sim.put_rule_target("nightly", "prod", web2, TaskCount=4, LaunchType="FARGATE")
    redeploy_schedule(sim, report2, ScheduleExpression="rate(1 hour)")
    sim.client("ecs").deregister_task_definition(taskDefinition=first["web"])
    return {"web": web2, "report": report2}


def test_a_snapshot_records_each_scheduled_task_whole(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    taken = run(gateway, "snapshot", store=store)
    rows = {(s.name, s.kind): s.to for s in taken.services}
    assert rows == {
        ("web", "service"): first["web"],
        ("nightly", "rule"): first["web"],
        ("reports/weekly", "schedule"): first["report"],
    }
    assert taken.snapshot is not None and taken.snapshot.scheduled_tasks is not None
    rule, weekly = sorted(taken.snapshot.scheduled_tasks, key=lambda t: t.kind)
    assert rule.definition == rule_target(sim)  # whole: Input, RoleArn, EcsParameters
    assert weekly.definition["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert set(taken.snapshot.task_definitions) == {first["web"], first["report"]}
    # Selected by name; false takes none; a name that takes nothing is an error.
    only = run(gateway, "snapshot", store=store, scheduled_tasks=("nightly",))
    assert only.snapshot is not None and only.snapshot.scheduled_tasks is not None
    assert [t.name for t in only.snapshot.scheduled_tasks] == ["nightly"]
    none = run(gateway, "snapshot", store=store, scheduled_tasks=())
    assert none.snapshot is not None and none.snapshot.scheduled_tasks is None
    with pytest.raises(NotFoundError, match="scheduled task 'nigthly' matches no scheduled task"):
        run(gateway, "snapshot", store=store, scheduled_tasks=("nigthly",))


def test_a_restore_puts_each_scheduled_task_back_sharing_the_re_registration(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    run(gateway, "snapshot", store=store)
    recorded_rule, recorded_schedule = rule_target(sim), schedule(sim)
    bad_deploy(sim, first)

    dry = run(gateway, "restore", store=store, snapshot_id="latest", dry_run=True)
    planned = {(s.name, s.kind): s.status for s in dry.services}
    assert planned == {
        ("web", "service"): Status.PLANNED,
        ("nightly", "rule"): Status.PLANNED,
        ("reports/weekly", "schedule"): Status.PLANNED,
    }
    sim.calls.clear()
    restored = run(gateway, "restore", store=store, snapshot_id="latest")

    assert restored.verdict == Verdict.SUCCESS, restored.services
    made = [c.operation for c in sim.mutating_calls()]
    # web:1 is registered once, for the service and the rule that both ran it.
    assert sorted(made) == [
        "PutTargets",
        "RegisterTaskDefinition",
        "UpdateSchedule",
        "UpdateService",
    ]
    copy = rule_target(sim)["EcsParameters"]["TaskDefinitionArn"]
    service = sim.client("ecs").describe_services(cluster="prod", services=["web"])["services"][0]
    assert service["taskDefinition"] == copy and copy.endswith("web:3")
    # scope service: the whole target and schedule as the snapshot saw them.
    assert rule_target(sim) == {
        **recorded_rule,
        "EcsParameters": {**recorded_rule["EcsParameters"], "TaskDefinitionArn": copy},
    }
    now = schedule(sim)
    assert now["ScheduleExpression"] == recorded_schedule["ScheduleExpression"]
    assert now["Target"] == recorded_schedule["Target"]
    rows = {s.name: s for s in restored.services}
    assert rows["nightly"].what == (
        "re-registered web:1 (INACTIVE) as web:3 and its settings (Input, EcsParameters)"
    )
    assert rows["reports/weekly"].what.startswith("updated to report:1 and its settings (")
    # Nothing of the target's Input (environment values) is shown anywhere.
    shown = [json.dumps(restored.outputs()), text(dry), text(restored), run_summary(restored)]
    assert all(SECRET not in said for said in shown)

    sim.calls.clear()
    again = run(gateway, "restore", store=store, snapshot_id="latest")
    assert again.verdict == Verdict.UNCHANGED and sim.mutating_calls() == []


def test_scope_task_definition_changes_only_what_the_target_runs(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    run(gateway, "snapshot", store=store)
    bad_deploy(sim, first)
    restored = run(gateway, "restore", store=store, snapshot_id="latest", scope="task-definition")
    assert restored.verdict == Verdict.SUCCESS, restored.services
    assert rule_target(sim)["EcsParameters"]["TaskCount"] == 4  # the deploy's, kept
    now = schedule(sim)
    assert now["ScheduleExpression"] == "rate(1 hour)"
    assert now["Target"]["EcsParameters"]["TaskDefinitionArn"] == first["report"]


def test_a_rule_deleted_since_is_missing_and_blocks_nothing(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    run(gateway, "snapshot", store=store)
    bad_deploy(sim, first)
    sim.delete_rule("nightly")
    restored = run(gateway, "restore", store=store, snapshot_id="latest")
    rows = {s.name: s for s in restored.services}
    assert rows["nightly"].status == Status.MISSING
    assert rows["nightly"].message == "its rule no longer exists (deleted since the snapshot)"
    assert rows["web"].status == rows["reports/weekly"].status == Status.SUCCESS
    assert restored.verdict == Verdict.PARTIAL
    summary = run_summary(restored)
    assert "**nightly \\(rule\\)**" in summary  # first, in needs attention
    assert "next: recreate the rule or schedule, or leave it out with scheduled-tasks" in summary
    assert "console" not in summary.split("**nightly")[1].split("\n")[0]  # no service link


def test_through_the_cli_rows_say_their_kind(
    shop: tuple[Any, str, dict[str, str]], tmp_path: Path
) -> None:
    sim, store, first = shop
    snap = ecsundo(sim, "cluster", "snapshot", "prod", "--store", store)
    assert snap.returncode == 0, snap.stderr
    assert "of cluster prod: 1 service, 2 scheduled tasks" in snap.stdout
    assert re.search(r"nightly \(rule\) +web:1", snap.stdout) and SECRET not in snap.stdout
    bad_deploy(sim, first)
    done = ecsundo(
        sim,
        *("cluster", "restore", "prod", "--store", store, "--snapshot-id", "latest"),
        *("--scheduled-tasks", "reports/*", "--poll-interval", "0.1", "--json"),
    )
    assert done.returncode == 0, done.stderr
    rows = {(s["name"], s["kind"]): s["status"] for s in json.loads(done.stdout)["services"]}
    assert rows == {("web", "service"): "success", ("reports/weekly", "schedule"): "success"}
    assert rule_target(sim)["EcsParameters"]["TaskCount"] == 4  # not taken: left as it is
    typo = ecsundo(
        sim,
        "cluster",
        "restore",
        "prod",
        "--store",
        store,
        "--snapshot-id",
        "latest",
        "--scheduled-tasks",
        "weekly",
    )
    assert typo.returncode == 1 and typo.stdout == ""
    assert "scheduled-tasks: scheduled task 'weekly' matches no scheduled task" in typo.stderr


# -- service auto scaling --------------------------------------------------------------------


def scaling(sim: Any, service: str = "web") -> tuple[dict[str, Any], dict[str, float]]:
    """The service's scalable target, and its policies' target values by name."""
    aas = sim.client("application-autoscaling")
    [target] = aas.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/prod/{service}"]
    )["ScalableTargets"]
    policies = aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=f"service/prod/{service}"
    )["ScalingPolicies"]
    values = {
        p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies
    }
    return dict(target), values


@pytest.fixture
def scaled(sim: Any, tmp_path: Path) -> tuple[Any, str]:
    """web (2 tasks) scales within 1..4 on CPU at 50%; api has no auto scaling."""
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")), desired_count=2)
    sim.create_service("prod", "api", sim.register(body("api", "1")))
    sim.register_scalable_target("prod", "web", 1, 4)
    sim.put_scaling_policy("prod", "web", "cpu", 50.0)
    return sim, f"file://{tmp_path}"


def test_a_restore_puts_back_the_auto_scaling_a_deploy_changed(
    scaled: tuple[Any, str], gateway: EcsGateway
) -> None:
    sim, store = scaled
    taken = run(gateway, "snapshot", store=store)
    assert taken.snapshot is not None
    recorded = {s.name: s.auto_scaling for s in taken.snapshot.services}
    web, api = recorded["web"], recorded["api"]
    assert web is not None and (web.min_capacity, web.max_capacity) == (1, 4)
    assert [p["PolicyName"] for p in web.policies] == ["cpu"]
    assert api is not None and not api.registered  # read, and it had none
    # The bad deploy raises the minimum, suspends scale-in, retunes cpu and adds mem.
    suspended = {"DynamicScalingInSuspended": True}
    sim.register_scalable_target("prod", "web", 3, 8, suspended=suspended)
    sim.put_scaling_policy("prod", "web", "cpu", 80.0)
    sim.put_scaling_policy("prod", "web", "mem", 70.0, metric="ECSServiceAverageMemoryUtilization")

    dry = run(gateway, "restore", store=store, snapshot_id="latest", dry_run=True)
    [plan] = [s for s in dry.services if s.kind == "auto-scaling"]
    assert plan.status == Status.PLANNED and plan.name == "web"
    sim.calls.clear()
    restored = run(
        gateway, "restore", store=store, snapshot_id="latest", restore_desired_count=True
    )

    assert restored.verdict == Verdict.SUCCESS, restored.services
    target, policies = scaling(sim)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert not any(target["SuspendedState"].values())
    assert policies == {"cpu": 50.0, "mem": 70.0}  # mem was added since: told, not deleted
    service = sim.client("ecs").describe_services(cluster="prod", services=["web"])["services"]
    assert service[0]["desiredCount"] == 2  # the count and the target no longer fight
    [row] = [s for s in restored.services if s.kind == "auto-scaling"]
    assert row.what == "put back auto scaling min 1, max 4 and policy cpu"
    assert row.message == "scaling policies created since, left as they are: mem"
    assert {c.operation for c in sim.mutating_calls()} == {
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "UpdateService",
    }
    assert not any(s.name == "api" and s.kind == "auto-scaling" for s in restored.services)
    sim.calls.clear()
    again = run(gateway, "restore", store=store, snapshot_id="latest")
    assert again.verdict == Verdict.UNCHANGED and sim.mutating_calls() == []


def test_a_scalable_target_deregistered_since_is_registered_again(
    scaled: tuple[Any, str], gateway: EcsGateway
) -> None:
    sim, store = scaled
    run(gateway, "snapshot", store=store)
    sim.client("application-autoscaling").deregister_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/web",
        ScalableDimension="ecs:service:DesiredCount",
    )
    # scope task-definition leaves auto scaling alone.
    only = run(gateway, "restore", store=store, snapshot_id="latest", scope="task-definition")
    assert [s.kind for s in only.services] == ["service", "service"]
    restored = run(gateway, "restore", store=store, snapshot_id="latest")
    [row] = [s for s in restored.services if s.kind == "auto-scaling"]
    assert row.status == Status.SUCCESS and row.has(Why.SCALING_GONE)
    target, policies = scaling(sim)
    assert (target["MinCapacity"], target["MaxCapacity"], policies) == (1, 4, {"cpu": 50.0})


def test_auto_scaling_that_cannot_be_read_is_a_warning_not_a_failure(
    scaled: tuple[Any, str], gateway: EcsGateway
) -> None:
    sim, store = scaled
    sim.rules.refusals[("DescribeScalableTargets", "*")] = "AccessDeniedException"
    taken = run(gateway, "snapshot", store=store)
    assert taken.snapshot is not None
    assert all(s.auto_scaling is None for s in taken.snapshot.services)  # not read
    assert any("service auto scaling cannot be read" in w for w in taken.warnings)


def test_through_the_action_everything_the_deploy_moved_comes_back(
    shop: tuple[Any, str, dict[str, str]], workspace: Path
) -> None:
    """The whole story in the action: a service, a rule, a schedule and auto scaling."""
    sim, _, first = shop
    sim.register_scalable_target("prod", "web", 1, 4)
    sim.put_scaling_policy("prod", "web", "cpu", 50.0)
    recorded_rule, recorded_schedule = rule_target(sim), schedule(sim)
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="prod"), sim.env, workspace)
    assert snap.returncode == 0, snap.stdout + snap.stderr
    kinds = {(s["name"], s["kind"]) for s in json.loads(snap.outputs["services"])}
    assert kinds == {("web", "service"), ("nightly", "rule"), ("reports/weekly", "schedule")}
    assert "| nightly \\(rule\\) | web:1 |" in snap.summary
    assert SECRET not in snap.stdout + snap.summary
    bad_deploy(sim, first)
    sim.register_scalable_target("prod", "web", 3, 8)
    sim.put_scaling_policy("prod", "web", "cpu", 90.0)

    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="prod", snapshot_id=snap.outputs["snapshot-id"]),
        sim.env,
        workspace,
    )

    assert restored.returncode == 0, restored.stdout + restored.stderr
    rows = {(s["name"], s["kind"]): s["status"] for s in json.loads(restored.outputs["services"])}
    assert rows == {
        ("web", "service"): "success",
        ("web", "auto-scaling"): "success",
        ("nightly", "rule"): "success",
        ("reports/weekly", "schedule"): "success",
    }
    copy = rule_target(sim)["EcsParameters"]["TaskDefinitionArn"]
    assert rule_target(sim) == {
        **recorded_rule,
        "EcsParameters": {**recorded_rule["EcsParameters"], "TaskDefinitionArn": copy},
    }
    assert schedule(sim)["Target"] == recorded_schedule["Target"]
    target, policies = scaling(sim)
    assert (target["MinCapacity"], target["MaxCapacity"], policies) == (1, 4, {"cpu": 50.0})
    assert json.loads(restored.outputs["changed-services"]) == ["web"]  # services only
    assert "| nightly \\(rule\\) |" in restored.summary
    assert "| web \\(auto scaling\\) |" in restored.summary
    seen = restored.stdout + restored.summary + "".join(restored.outputs.values())
    assert SECRET not in seen


# -- what the review found ----------------------------------------------------------------


def test_scheduled_tasks_that_cannot_be_read_are_a_warning_unless_named(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, _ = shop
    sim.rules.refusals[("ListEventBuses", "*")] = "AccessDeniedException"
    taken = run(gateway, "snapshot", store=store)
    assert taken.snapshot is not None and taken.snapshot.scheduled_tasks is None  # not read
    [warning] = [w for w in taken.warnings if w.startswith("scheduled tasks cannot be read")]
    assert "AccessDeniedException" in warning and warning.endswith(": not recorded")
    assert [s.name for s in taken.snapshot.services] == ["web"]
    with pytest.raises(EcsundoError, match="AccessDeniedException"):
        run(gateway, "snapshot", store=store, scheduled_tasks=("nightly",))


def test_a_scheduled_task_left_on_its_deregistered_task_definition_is_moved_off_it(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    """ECS starts no task from an INACTIVE task definition: a nightly job on one never runs."""
    sim, store, first = shop
    run(gateway, "snapshot", store=store)
    sim.client("ecs").deregister_task_definition(taskDefinition=first["web"])
    restored = run(gateway, "restore", store=store, snapshot_id="latest")
    rows = {s.label: s for s in restored.services}
    assert rows["nightly (rule)"].status == Status.SUCCESS, rows
    copy = rule_target(sim)["EcsParameters"]["TaskDefinitionArn"]
    assert copy != first["web"] and copy.endswith("web:2")
    assert rows["web"].status == Status.UNCHANGED  # a service keeps running on it


def test_a_schedule_that_started_is_updated_without_its_start_date(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    started = datetime.now(UTC) + timedelta(seconds=2)
    redeploy_schedule(sim, first["report"], StartDate=started)
    run(gateway, "snapshot", store=store)
    redeploy_schedule(sim, sim.register(body("report", "2")), StartDate=started)
    until(lambda: datetime.now(UTC) > started, "the start date to pass", 10)
    sim.calls.clear()
    restored = run(
        gateway, "restore", store=store, snapshot_id="latest", scheduled_tasks=("reports/*",)
    )
    assert restored.verdict == Verdict.SUCCESS, restored.services
    [update] = [c for c in sim.mutating_calls() if c.operation == "UpdateSchedule"]
    assert "StartDate" not in update.params  # a past one is refused, and means nothing now
    assert schedule(sim)["Target"]["EcsParameters"]["TaskDefinitionArn"] == first["report"]


def test_a_refused_target_fails_its_row_without_aws_s_words(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    run(gateway, "snapshot", store=store)
    bad_deploy(sim, first)
    sim.rules.target_failures[("nightly", "*")] = "ConcurrentModificationException"
    restored = run(gateway, "restore", store=store, snapshot_id="latest")
    rows = {s.label: s for s in restored.services}
    failed = rows["nightly (rule)"]
    assert failed.status == Status.FAILED and restored.verdict == Verdict.PARTIAL
    assert "ConcurrentModificationException (AWS's message is not shown" in failed.message
    assert rows["web"].status == rows["reports/weekly (schedule)"].status == Status.SUCCESS
    assert SECRET not in json.dumps(restored.outputs())


def test_a_narrowed_selection_takes_no_scheduled_task_unless_named(
    shop: tuple[Any, str, dict[str, str]], gateway: EcsGateway
) -> None:
    sim, store, first = shop
    narrowed = run(gateway, "snapshot", store=store, services=("web",))
    assert narrowed.snapshot is not None and narrowed.snapshot.scheduled_tasks is None
    run(gateway, "snapshot", store=store)
    bad_deploy(sim, first)
    sim.calls.clear()
    web_only = run(gateway, "restore", store=store, snapshot_id="latest", services=("web",))
    assert [s.label for s in web_only.services] == ["web"]
    assert {c.operation for c in sim.mutating_calls()} == {
        "RegisterTaskDefinition",
        "UpdateService",
    }
    [notice] = web_only.notices
    assert notice.startswith("2 scheduled tasks of the snapshot left as they are")
    named = run(
        gateway,
        "restore",
        store=store,
        snapshot_id="latest",
        services=("web",),
        scheduled_tasks=("nightly",),
    )
    assert [s.label for s in named.services] == ["web", "nightly (rule)"]


def test_a_refused_policy_still_leaves_the_range_put_back_and_says_so(
    scaled: tuple[Any, str], gateway: EcsGateway
) -> None:
    sim, store = scaled
    run(gateway, "snapshot", store=store)
    sim.register_scalable_target("prod", "web", 3, 8)
    sim.put_scaling_policy("prod", "web", "cpu", 80.0)
    sim.rules.refusals[("PutScalingPolicy", "web")] = "AccessDeniedException"
    restored = run(gateway, "restore", store=store, snapshot_id="latest")
    [row] = [s for s in restored.services if s.kind == "auto-scaling"]
    assert row.status == Status.FAILED and restored.verdict == Verdict.PARTIAL
    assert "AccessDeniedException" in row.message
    assert row.message.endswith(
        "its range (min 1, max 4) and suspended state were put back; run again for the policies"
    )
    target, policies = scaling(sim)
    assert (target["MinCapacity"], target["MaxCapacity"], policies) == (1, 4, {"cpu": 80.0})
