"""Scheduled tasks (issue 25): the EventBridge rule targets and Scheduler schedules that run a
task in the cluster are snapshotted with its services and put back by a restore, their task
definitions re-registered with the services' when deregistered since."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.errors import NotFoundError
from ecsundo_action.render.markdown import run_summary
from ecsundo_action.render.text import text
from ecsundo_action.result import Status, Verdict
from tests.conftest import body, ecsundo, run

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
