"""The simulator's scheduled tasks: EventBridge rules and targets and EventBridge Scheduler
schedules as their API references document them, and the request log, refusals, faults and
quotas over these services as over ECS.

A test of a correction asserts the AWS behaviour moto alone gets wrong; a test of what moto
already does right pins the behaviour the engine relies on.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from simulator import Rules, Simulator
from simulator.rules import EVENTS_QUOTAS, SCHEDULER_QUOTAS

ROLE = "arn:aws:iam::123456789012:role/ecsEventsRole"
NIGHTLY = "arn:aws:ecs:us-east-1:123456789012:task-definition/nightly:3"

# Every member of an ECS target's EcsParameters, as a deploy tool sets them.
ECS_PARAMETERS: dict[str, Any] = {
    "TaskCount": 2,
    "NetworkConfiguration": {
        "awsvpcConfiguration": {
            "Subnets": ["subnet-1", "subnet-2"],
            "SecurityGroups": ["sg-1"],
            "AssignPublicIp": "DISABLED",
        }
    },
    "PlatformVersion": "1.4.0",
    "Group": "family:nightly",
    "CapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 2, "base": 1}],
    "EnableECSManagedTags": True,
    "EnableExecuteCommand": False,
    "PlacementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
    "PlacementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}],
    "PropagateTags": "TASK_DEFINITION",
    "ReferenceId": "nightly-report",
}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def once(sim: Simulator, service: str) -> Any:
    """A client that does not retry: a throttled or refused call fails at once."""
    return sim.client(service, config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


# --- EventBridge rules and their ECS targets -----------------------------------------------


def test_list_targets_by_rule_keeps_an_ecs_target_whole_and_pages_targets_of_one_cluster(
    sim: Simulator,
) -> None:
    sim.create_cluster("prod")
    tags = [{"Key": "team", "Value": "reports"}]
    arn = sim.put_rule_target(
        "nightly", "prod", NIGHTLY, LaunchType="EC2", Tags=tags, **ECS_PARAMETERS
    )
    sim.put_rule_target("nightly", "prod", NIGHTLY, target_id="second", TaskCount=1)
    events = sim.client("events")

    assert arn == "arn:aws:events:us-east-1:123456789012:rule/nightly"
    first = events.list_targets_by_rule(Rule="nightly", Limit=1)
    assert first["Targets"] == [
        {
            "Id": "ecs-task",
            "Arn": sim.cluster_arn("prod"),
            "RoleArn": ROLE,
            "EcsParameters": {
                "TaskDefinitionArn": NIGHTLY,
                "LaunchType": "EC2",
                "Tags": tags,
                **ECS_PARAMETERS,
            },
        }
    ]
    # Both targets share the cluster's ARN: moto paged by it and repeated the first forever.
    pages = events.get_paginator("list_targets_by_rule").paginate(
        Rule="nightly", PaginationConfig={"PageSize": 1}
    )
    assert [t["Id"] for page in pages for t in page["Targets"]] == ["ecs-task", "second"]


def test_list_rule_names_by_target_finds_the_rules_of_exactly_that_cluster_per_bus(
    sim: Simulator,
) -> None:
    for cluster in ("prod", "prod-eu"):
        sim.create_cluster(cluster)
    for rule in ("a-nightly", "b-hourly", "c-weekly"):
        sim.put_rule_target(rule, "prod", NIGHTLY)
    sim.put_rule_target("other", "prod-eu", NIGHTLY)
    events = sim.client("events")
    events.create_event_bus(Name="deploys")
    events.put_rule(Name="on-deploy", EventBusName="deploys", EventPattern='{"source":["ci"]}')
    target = {"Id": "t", "Arn": sim.cluster_arn("prod"), "RoleArn": ROLE}
    events.put_targets(
        Rule="on-deploy",
        EventBusName="deploys",
        Targets=[{**target, "EcsParameters": {"TaskDefinitionArn": NIGHTLY}}],
    )

    pages = events.get_paginator("list_rule_names_by_target").paginate(
        TargetArn=sim.cluster_arn("prod"), PaginationConfig={"PageSize": 2}
    )
    assert [name for page in pages for name in page["RuleNames"]] == [
        "a-nightly",
        "b-hourly",
        "c-weekly",
    ]
    on_bus = events.list_rule_names_by_target(
        TargetArn=sim.cluster_arn("prod"), EventBusName="deploys"
    )
    assert on_bus["RuleNames"] == ["on-deploy"]


def test_put_targets_takes_10_entries_and_keeps_5_targets_on_a_rule(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.put_rule_target("nightly", "prod", NIGHTLY)
    events = sim.client("events")

    def targets(*ids: str) -> list[dict[str, Any]]:
        params = {"TaskDefinitionArn": NIGHTLY}
        arn = sim.cluster_arn("prod")
        return [{"Id": i, "Arn": arn, "RoleArn": ROLE, "EcsParameters": params} for i in ids]

    with pytest.raises(ClientError) as excinfo:
        events.put_targets(Rule="nightly", Targets=targets(*(f"t{n}" for n in range(11))))
    assert error_of(excinfo)[0] == "ValidationException"
    events.put_targets(Rule="nightly", Targets=targets("t1", "t2", "t3", "t4"))
    with pytest.raises(ClientError) as excinfo:
        events.put_targets(Rule="nightly", Targets=targets("t5"))
    assert error_of(excinfo)[0] == "LimitExceededException"
    assert len(events.list_targets_by_rule(Rule="nightly")["Targets"]) == 5
    events.put_targets(Rule="nightly", Targets=targets("t1"))  # an update adds no target
    with pytest.raises(ClientError) as excinfo:
        events.put_targets(Rule="gone", Targets=targets("t1"))
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_put_targets_reports_failed_entries_and_puts_the_others(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.put_rule_target("nightly", "prod", NIGHTLY, target_id="a")
    sim.put_rule_target("nightly", "prod", NIGHTLY, target_id="b")
    sim.rules.target_failures[("nightly", "b")] = "ConcurrentModificationException"
    events = sim.client("events")
    newer = {"TaskDefinitionArn": NIGHTLY.replace(":3", ":4")}
    arn = sim.cluster_arn("prod")

    answer = events.put_targets(
        Rule="nightly",
        Targets=[
            {"Id": target_id, "Arn": arn, "RoleArn": ROLE, "EcsParameters": newer}
            for target_id in ("a", "b")
        ],
    )

    assert answer["FailedEntryCount"] == 1
    assert answer["FailedEntries"][0]["TargetId"] == "b"
    assert answer["FailedEntries"][0]["ErrorCode"] == "ConcurrentModificationException"
    kept = events.list_targets_by_rule(Rule="nightly")["Targets"]
    assert {t["Id"]: t["EcsParameters"]["TaskDefinitionArn"] for t in kept} == {
        "a": newer["TaskDefinitionArn"],
        "b": NIGHTLY,
    }


def test_a_rule_deleted_since_the_snapshot_is_gone_for_every_read(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.put_rule_target("nightly", "prod", NIGHTLY)
    events = sim.client("events")
    with pytest.raises(ClientError) as excinfo:
        events.delete_rule(Name="nightly")  # AWS: remove the targets first
    assert error_of(excinfo)[0] == "ValidationException"

    sim.delete_rule("nightly")

    for read in (
        lambda: events.describe_rule(Name="nightly"),
        lambda: events.list_targets_by_rule(Rule="nightly"),
    ):
        with pytest.raises(ClientError) as excinfo:
            read()
        assert error_of(excinfo)[0] == "ResourceNotFoundException"
    assert events.list_rule_names_by_target(TargetArn=sim.cluster_arn("prod"))["RuleNames"] == []


# --- EventBridge Scheduler schedules -------------------------------------------------------


def test_get_schedule_gives_the_whole_target_as_set(sim: Simulator) -> None:
    sim.create_cluster("prod")
    tags = [{"team": "reports"}]  # Scheduler's ECS tags are maps
    arn = sim.create_schedule(
        "nightly", "prod", NIGHTLY, group="jobs", LaunchType="FARGATE", Tags=tags, **ECS_PARAMETERS
    )

    schedule = sim.client("scheduler").get_schedule(Name="nightly", GroupName="jobs")

    assert (
        arn == schedule["Arn"] == "arn:aws:scheduler:us-east-1:123456789012:schedule/jobs/nightly"
    )
    assert schedule["State"] == "ENABLED"
    assert schedule["ActionAfterCompletion"] == "NONE"
    assert schedule["Target"]["Arn"] == sim.cluster_arn("prod")
    assert schedule["Target"]["EcsParameters"] == {
        "TaskDefinitionArn": NIGHTLY,
        "LaunchType": "FARGATE",
        "Tags": tags,
        **ECS_PARAMETERS,
    }


def test_update_schedule_replaces_the_whole_schedule(sim: Simulator) -> None:
    """Every field UpdateSchedule is not given goes back to its default."""
    sim.create_cluster("prod")
    scheduler = sim.client("scheduler")
    scheduler.create_schedule(
        Name="nightly",
        ScheduleExpression="cron(0 3 * * ? *)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Description="the nightly report",
        State="DISABLED",
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": sim.cluster_arn("prod"),
            "RoleArn": ROLE,
            "RetryPolicy": {"MaximumEventAgeInSeconds": 600, "MaximumRetryAttempts": 3},
            "EcsParameters": {"TaskDefinitionArn": NIGHTLY, **ECS_PARAMETERS},
        },
    )
    newer = NIGHTLY.replace(":3", ":4")

    scheduler.update_schedule(
        Name="nightly",
        ScheduleExpression="cron(0 3 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": sim.cluster_arn("prod"),
            "RoleArn": ROLE,
            "EcsParameters": {"TaskDefinitionArn": newer},
        },
    )

    schedule = scheduler.get_schedule(Name="nightly")
    assert schedule["State"] == "ENABLED"  # moto: no State at all
    assert schedule["ActionAfterCompletion"] == "NONE"  # moto: kept DELETE
    assert "Description" not in schedule
    assert schedule["Target"]["EcsParameters"] == {"TaskDefinitionArn": newer}
    assert schedule["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400,
        "MaximumRetryAttempts": 185,
    }


def test_a_schedule_or_group_that_does_not_exist_is_not_found(sim: Simulator) -> None:
    sim.create_cluster("prod")
    scheduler = sim.client("scheduler")
    target = {"Arn": sim.cluster_arn("prod"), "RoleArn": ROLE}
    window = {"Mode": "OFF"}
    for call in (
        lambda: scheduler.get_schedule(Name="nightly"),
        lambda: scheduler.get_schedule(Name="nightly", GroupName="jobs"),
        lambda: scheduler.update_schedule(
            Name="nightly",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow=window,
            Target=target,
        ),
        lambda: scheduler.create_schedule(  # moto: HTTP 500
            Name="nightly",
            GroupName="jobs",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow=window,
            Target=target,
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[0] == "ResourceNotFoundException"
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_schedules_filters_and_pages(sim: Simulator) -> None:
    sim.create_cluster("prod")
    for name, group in (("job-a", "default"), ("job-b", "jobs"), ("job-c", "jobs"), ("x", "jobs")):
        sim.create_schedule(name, "prod", NIGHTLY, group=group)
    scheduler = sim.client("scheduler")
    scheduler.update_schedule(
        Name="job-c",
        GroupName="jobs",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="DISABLED",
        Target={"Arn": sim.cluster_arn("prod"), "RoleArn": ROLE},
    )

    def names(**filters: Any) -> list[str]:
        pages = scheduler.get_paginator("list_schedules").paginate(
            **filters, PaginationConfig={"PageSize": 1}
        )
        return sorted(s["Name"] for page in pages for s in page["Schedules"])

    assert names() == ["job-a", "job-b", "job-c", "x"]
    assert names(GroupName="jobs", NamePrefix="job") == ["job-b", "job-c"]
    assert names(State="DISABLED") == ["job-c"]
    summary = scheduler.list_schedules(NamePrefix="job-a")["Schedules"][0]
    assert summary["Target"] == {"Arn": sim.cluster_arn("prod")}  # GetSchedule has the rest
    with pytest.raises(ClientError) as excinfo:
        scheduler.list_schedules(MaxResults=101)
    assert error_of(excinfo)[0] == "ValidationException"


# --- the request log, refusals, faults and quotas over these services ------------------------


def test_the_log_names_the_operations_and_their_parameters(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.put_rule_target("nightly", "prod", NIGHTLY)
    sim.create_schedule("weekly", "prod", NIGHTLY, group="jobs")
    td = sim.register(
        {"family": "api", "containerDefinitions": [{"name": "a", "image": "x", "memory": 128}]}
    )
    sim.create_service("prod", "api", td)
    sim.register_scalable_target("prod", "api", 1, 4)
    sim.calls.clear()

    events, scheduler = sim.client("events"), sim.client("scheduler")
    scaling = sim.client("application-autoscaling")
    events.list_rule_names_by_target(TargetArn=sim.cluster_arn("prod"))
    events.describe_rule(Name="nightly")
    events.list_targets_by_rule(Rule="nightly")
    scheduler.list_schedules(GroupName="jobs")
    scheduler.get_schedule(Name="weekly", GroupName="jobs")
    scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=["service/prod/api"])
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=2,
    )

    assert [(c.service, c.operation) for c in sim.calls] == [
        ("events", "ListRuleNamesByTarget"),
        ("events", "DescribeRule"),
        ("events", "ListTargetsByRule"),
        ("scheduler", "ListSchedules"),
        ("scheduler", "GetSchedule"),
        ("application-autoscaling", "DescribeScalableTargets"),
        ("application-autoscaling", "RegisterScalableTarget"),
    ]
    assert sim.calls[2].params == {"Rule": "nightly"}
    assert sim.calls[3].params == {"GroupName": "jobs"}
    assert sim.calls[4].params == {"Name": "weekly", "GroupName": "jobs"}
    assert [c.operation for c in sim.mutating_calls()] == ["RegisterScalableTarget"]


def test_refusals_name_rules_schedules_and_services_and_change_nothing(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.put_rule_target("nightly", "prod", NIGHTLY)
    sim.create_schedule("weekly", "prod", NIGHTLY)
    sim.rules.refusals.update(
        {
            ("PutTargets", "nightly"): "AccessDeniedException",
            ("UpdateSchedule", "weekly"): "AccessDeniedException",
            ("RegisterScalableTarget", "api"): "AccessDeniedException",
        }
    )
    newer = {"TaskDefinitionArn": NIGHTLY.replace(":3", ":4")}
    target = {"Arn": sim.cluster_arn("prod"), "RoleArn": ROLE, "EcsParameters": newer}

    refused = []
    for call in (
        lambda: sim.client("events").put_targets(Rule="nightly", Targets=[{**target, "Id": "x"}]),
        lambda: sim.client("scheduler").update_schedule(
            Name="weekly",
            ScheduleExpression="rate(1 day)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
        ),
        lambda: sim.register_scalable_target("prod", "api", 1, 2),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        refused.append((error_of(excinfo), excinfo.value.response["ResponseMetadata"]))

    for ((code, message), _), action in zip(
        refused,
        ("events:PutTargets", "scheduler:UpdateSchedule", "application-autoscaling:Register"),
        strict=True,
    ):
        assert code == "AccessDeniedException" and f"perform: {action}" in message
    assert refused[1][1]["HTTPStatusCode"] == 403  # REST-JSON says it with the status too
    assert len(sim.client("events").list_targets_by_rule(Rule="nightly")["Targets"]) == 1
    schedule = sim.client("scheduler").get_schedule(Name="weekly")
    assert schedule["Target"]["EcsParameters"] == {"TaskDefinitionArn": NIGHTLY}


def test_quotas_throttle_in_each_services_own_shape(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.put_rule_target("nightly", "prod", NIGHTLY)
    sim.create_schedule("weekly", "prod", NIGHTLY)
    # No token comes back within the test: one per 1,000 s.
    sim.rules = Rules(
        quotas={
            "events:*": (2, 0.001),
            "scheduler:GetSchedule": (1, 0.001),
            "application-autoscaling:DescribeScalableTargets": (1, 0.001),
        }
    )
    events, scheduler = once(sim, "events"), once(sim, "scheduler")
    scaling = once(sim, "application-autoscaling")

    events.describe_rule(Name="nightly")
    events.list_targets_by_rule(Rule="nightly")
    with pytest.raises(ClientError) as excinfo:  # EventBridge's budget is shared by all calls
        events.list_rule_names_by_target(TargetArn=sim.cluster_arn("prod"))
    assert error_of(excinfo) == ("ThrottlingException", "Rate exceeded")

    scheduler.get_schedule(Name="weekly")
    scheduler.list_schedules()  # a quota of its own
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name="weekly")
    assert error_of(excinfo) == ("ThrottlingException", "Rate exceeded")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429

    scaling.describe_scalable_targets(ServiceNamespace="ecs")
    with pytest.raises(ClientError) as excinfo:
        scaling.describe_scalable_targets(ServiceNamespace="ecs")
    assert error_of(excinfo) == ("ThrottlingException", "Rate exceeded")
    assert [c.operation for c in sim.throttled] == [
        "ListRuleNamesByTarget",
        "GetSchedule",
        "DescribeScalableTargets",
    ]


def test_rules_aws_paces_eventbridge_and_the_scheduler_too() -> None:
    quotas = Rules.aws().quotas
    assert quotas["events:*"] == EVENTS_QUOTAS["events:*"] == (50, 50)
    assert {key: quotas[key] for key in SCHEDULER_QUOTAS} == SCHEDULER_QUOTAS
    assert "DescribeServices" in quotas  # ECS's stay


def test_an_injected_throttle_is_rest_json_for_the_scheduler(sim: Simulator) -> None:
    sim.rules.throttle_rate = 1.0
    with pytest.raises(ClientError) as excinfo:
        once(sim, "scheduler").list_schedules()
    assert error_of(excinfo)[0] == "ThrottlingException"
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ThrottlingException"
