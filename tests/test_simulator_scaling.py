"""The simulator's service auto scaling: Application Auto Scaling's scalable targets and
scaling policies for ECS services as its API reference documents them.

A test of a correction asserts the AWS behaviour moto alone gets wrong; a test of what moto
already does right pins the behaviour the engine relies on.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from simulator import Simulator
from simulator.scaling import NOT_SUSPENDED

ECS = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount"}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def services(sim: Simulator, *names: str, desired_count: int = 2) -> None:
    """Cluster "prod" with these services, each running 2 tasks of one task definition."""
    sim.create_cluster("prod")
    td = sim.register(
        {"family": "web", "containerDefinitions": [{"name": "a", "image": "x", "memory": 128}]}
    )
    for name in names:
        sim.create_service("prod", name, td, desired_count=desired_count)


def target(sim: Simulator, service: str) -> dict[str, Any]:
    found = sim.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/prod/{service}"]
    )["ScalableTargets"]
    assert len(found) == 1
    answer: dict[str, Any] = found[0]
    return answer


def desired_count(sim: Simulator, service: str) -> int:
    described = sim.client("ecs").describe_services(cluster="prod", services=[service])
    count: int = described["services"][0]["desiredCount"]
    return count


def test_a_scalable_target_needs_its_ecs_service(sim: Simulator) -> None:
    services(sim, "api", "gone")
    sim.client("ecs").delete_service(cluster="prod", service="gone", force=True)
    scaling = sim.client("application-autoscaling")

    for resource_id in (
        "service/prod/none",
        "service/nowhere/api",
        "service/prod",
        "service/prod/gone",
    ):
        with pytest.raises(ClientError) as excinfo:
            scaling.register_scalable_target(
                ResourceId=resource_id, MinCapacity=1, MaxCapacity=2, **ECS
            )
        assert error_of(excinfo) == (
            "ValidationException",
            f"ECS service doesn't exist: {resource_id}",
        )
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []


def test_a_new_target_needs_both_capacities_and_a_minimum_within_the_maximum(
    sim: Simulator,
) -> None:
    services(sim, "api")
    scaling = sim.client("application-autoscaling")
    for capacities in (
        {"MinCapacity": 1},
        {"MaxCapacity": 4},
        {"MinCapacity": 5, "MaxCapacity": 4},
    ):
        with pytest.raises(ClientError) as excinfo:
            scaling.register_scalable_target(ResourceId="service/prod/api", **capacities, **ECS)
        assert error_of(excinfo)[0] == "ValidationException"


def test_an_update_changes_only_what_it_gives(sim: Simulator) -> None:
    services(sim, "api")
    arn = sim.register_scalable_target(
        "prod", "api", 1, 4, suspended={"ScheduledScalingSuspended": True}
    )
    scaling = sim.client("application-autoscaling")
    first = target(sim, "api")
    assert first["ScalableTargetARN"] == arn
    assert first["SuspendedState"] == {**NOT_SUSPENDED, "ScheduledScalingSuspended": True}
    assert first["RoleARN"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    )

    scaling.register_scalable_target(ResourceId="service/prod/api", MinCapacity=2, **ECS)
    scaling.register_scalable_target(
        ResourceId="service/prod/api", SuspendedState={"DynamicScalingInSuspended": True}, **ECS
    )

    now = target(sim, "api")
    assert (now["MinCapacity"], now["MaxCapacity"]) == (2, 4)
    assert now["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": True,
    }
    assert now["ScalableTargetARN"] == arn
    with pytest.raises(ClientError) as excinfo:
        scaling.register_scalable_target(ResourceId="service/prod/api", MinCapacity=5, **ECS)
    assert error_of(excinfo)[0] == "ValidationException"  # 5 above the maximum it keeps


def test_registering_moves_the_desired_count_into_the_range(sim: Simulator) -> None:
    services(sim, "api", desired_count=2)
    scaling = sim.client("application-autoscaling")

    sim.register_scalable_target("prod", "api", 4, 10)
    assert desired_count(sim, "api") == 4
    scaling.register_scalable_target(ResourceId="service/prod/api", MinCapacity=1, **ECS)
    assert desired_count(sim, "api") == 4  # within the range: left alone
    scaling.register_scalable_target(ResourceId="service/prod/api", MaxCapacity=3, **ECS)
    assert desired_count(sim, "api") == 3


def test_describe_scalable_targets_filters_and_pages(sim: Simulator) -> None:
    services(sim, "a", "b", "c")
    for name in ("a", "b", "c"):
        sim.register_scalable_target("prod", name, 1, 2)
    scaling = sim.client("application-autoscaling")

    pages = scaling.get_paginator("describe_scalable_targets").paginate(
        ServiceNamespace="ecs", PaginationConfig={"PageSize": 1}
    )
    # moto's second page came back forever.
    assert [t["ResourceId"] for page in pages for t in page["ScalableTargets"]] == [
        "service/prod/a",
        "service/prod/b",
        "service/prod/c",
    ]
    chosen = scaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=["service/prod/c", "service/prod/none"]
    )
    assert [t["ResourceId"] for t in chosen["ScalableTargets"]] == ["service/prod/c"]
    for wrong in ({"MaxResults": 51}, {"ResourceIds": [f"service/prod/s{n}" for n in range(51)]}):
        with pytest.raises(ClientError) as excinfo:
            scaling.describe_scalable_targets(ServiceNamespace="ecs", **wrong)
        assert error_of(excinfo)[0] == "ValidationException"


def test_a_scaling_policy_needs_a_registered_target(sim: Simulator) -> None:
    services(sim, "api")
    with pytest.raises(ClientError) as excinfo:
        sim.put_scaling_policy("prod", "api", "cpu", 60.0)
    assert error_of(excinfo) == (
        "ObjectNotFoundException",
        "No scalable target registered for service namespace: ecs, resource ID: service/prod/api, "
        "scalable dimension: ecs:service:DesiredCount",
    )
    sim.register_scalable_target("prod", "api", 1, 4)
    arn = sim.put_scaling_policy("prod", "api", "cpu", 60.0)
    assert arn.startswith("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:")
    assert arn.endswith(":resource/ecs/service/prod/api:policyName/cpu")


def test_describe_scaling_policies_matches_exactly_keeps_configurations_and_pages(
    sim: Simulator,
) -> None:
    services(sim, "api", "api-v2")
    for name in ("api", "api-v2"):
        sim.register_scalable_target("prod", name, 1, 10)
    scaling = sim.client("application-autoscaling")
    tracking = {
        "TargetValue": 60.0,
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
        },
        "ScaleOutCooldown": 60,
        "ScaleInCooldown": 300,
        "DisableScaleIn": False,
    }
    step = {
        "AdjustmentType": "ChangeInCapacity",
        "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 2}],
        "Cooldown": 120,
        "MetricAggregationType": "Maximum",
    }
    resource = {"ResourceId": "service/prod/api", **ECS}
    scaling.put_scaling_policy(
        PolicyName="cpu",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking,
        **resource,
    )
    scaling.put_scaling_policy(
        PolicyName="burst",
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration=step,
        **resource,
    )
    for n in range(10):
        sim.put_scaling_policy("prod", "api-v2", f"p{n:02}", 50.0)

    mine = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/prod/api")
    by_name = {p["PolicyName"]: p for p in mine["ScalingPolicies"]}
    assert sorted(by_name) == ["burst", "cpu"]  # moto also gave api-v2's (a substring match)
    assert by_name["cpu"]["TargetTrackingScalingPolicyConfiguration"] == tracking
    assert by_name["burst"]["StepScalingPolicyConfiguration"] == step
    named = scaling.describe_scaling_policies(ServiceNamespace="ecs", PolicyNames=["burst"])
    assert [p["PolicyName"] for p in named["ScalingPolicies"]] == ["burst"]
    first = scaling.describe_scaling_policies(ServiceNamespace="ecs")
    assert len(first["ScalingPolicies"]) == 10 and "NextToken" in first  # 10 a page
    pages = scaling.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="ecs")
    assert len([p for page in pages for p in page["ScalingPolicies"]]) == 12


def test_deleting_what_is_not_there_is_not_found_and_deregistering_deletes_policies(
    sim: Simulator,
) -> None:
    services(sim, "api")
    sim.register_scalable_target("prod", "api", 1, 4)
    sim.put_scaling_policy("prod", "api", "cpu", 60.0)
    scaling = sim.client("application-autoscaling")
    with pytest.raises(ClientError) as excinfo:
        scaling.delete_scaling_policy(PolicyName="none", ResourceId="service/prod/api", **ECS)
    assert error_of(excinfo)[0] == "ObjectNotFoundException"

    scaling.deregister_scalable_target(ResourceId="service/prod/api", **ECS)

    assert scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    with pytest.raises(ClientError) as excinfo:
        scaling.deregister_scalable_target(ResourceId="service/prod/api", **ECS)
    assert error_of(excinfo)[0] == "ObjectNotFoundException"
