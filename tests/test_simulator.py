"""The simulator: moto's server plus AWS's ECS rules, a call log and seeding helpers.

Each test of a rule asserts the AWS behaviour that plain moto gets wrong, so it fails on moto
alone and passes with the rules layered on.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from simulator import Call, Rules, Simulator
from simulator.stages import Progression

ROLE = "arn:aws:iam::123456789012:role/app"


def task(family: str = "web", image: str = "nginx:1.27") -> dict[str, Any]:
    return {
        "family": family,
        "containerDefinitions": [{"name": "app", "image": image, "memory": 128}],
    }


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where `actual` lacks or differs from `expected`; keys only `actual` has are defaults."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        return [
            problem
            for key, value in expected.items()
            for problem in (
                mismatches(value, actual[key], f"{path}.{key}")
                if key in actual
                else [f"{path}.{key}: missing"]
            )
        ]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} != {expected!r}"]
        return [
            problem
            for index, (want, got) in enumerate(zip(expected, actual, strict=True))
            for problem in mismatches(want, got, f"{path}[{index}]")
        ]
    return [] if expected == actual else [f"{path}: {actual!r} != {expected!r}"]


def seed_service(
    sim: Simulator, name: str = "api", revisions: int = 2, **kwargs: Any
) -> tuple[str, list[str]]:
    """A cluster "prod" with service `name` on revision 1 of family web (2 tasks)."""
    sim.create_cluster("prod")
    arns = [sim.register(task(image=f"nginx:{n}")) for n in range(1, revisions + 1)]
    sim.create_service("prod", name, arns[0], **kwargs)
    return "prod", arns


def describe(sim: Simulator, service: str = "api") -> dict[str, Any]:
    response = sim.client("ecs").describe_services(cluster="prod", services=[service])
    return response["services"][0]


def settle(sim: Simulator) -> None:
    time.sleep(sim.rules.deploy_seconds + 0.05)


# --- the simulator itself --------------------------------------------------------------------


def test_points_clients_and_subprocesses_at_the_endpoint(sim: Simulator) -> None:
    assert sim.endpoint_url.startswith("http://127.0.0.1:")
    assert sim.region == "us-east-1"
    assert sim.env == {
        "AWS_ENDPOINT_URL": sim.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    assert sim.client("sts").get_caller_identity()["Account"] == sim.account_id == "123456789012"


def test_logs_every_call_of_every_service(sim: Simulator) -> None:
    sim.create_cluster("prod")
    s3 = sim.client("s3")
    s3.create_bucket(Bucket="snapshots")
    s3.put_object(
        Bucket="snapshots",
        Key="prod/1.json",
        Body=b"{}",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId="alias/ecsundo",
    )
    s3.head_object(Bucket="snapshots", Key="prod/1.json")
    s3.get_object(Bucket="snapshots", Key="prod/1.json")
    s3.list_objects_v2(Bucket="snapshots", Prefix="prod/")
    s3.delete_object(Bucket="snapshots", Key="prod/1.json")
    sim.client("sts").get_caller_identity()

    assert [(call.service, call.operation) for call in sim.calls] == [
        ("ecs", "CreateCluster"),
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "HeadObject"),
        ("s3", "GetObject"),
        ("s3", "ListObjectsV2"),
        ("s3", "DeleteObject"),
        ("sts", "GetCallerIdentity"),
    ]
    assert sim.calls[0][:3] == Call("ecs", "CreateCluster", {"clusterName": "prod"})[:3]
    assert 0 < sim.calls[0].at <= sim.calls[-1].at
    put = sim.calls[2].params
    assert (put["Bucket"], put["Key"]) == ("snapshots", "prod/1.json")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "alias/ecsundo")
    assert [call.operation for call in sim.mutating_calls()] == [
        "CreateCluster",
        "CreateBucket",
        "PutObject",
        "DeleteObject",
    ]


def test_reset_wipes_state_calls_and_rules(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.rules.deploy_seconds = 5
    sim.rules.outcomes["api"] = "fail"

    sim.reset()

    assert sim.calls == []
    assert sim.rules == Rules()
    assert sim.client("ecs").list_clusters()["clusterArns"] == []


def test_seeds_services_as_asked(sim: Simulator) -> None:
    sim.create_cluster("prod")
    arn = sim.register(task())
    sim.create_service("prod", "agent", arn, scheduling_strategy="DAEMON")
    sim.create_service(
        "prod", "spot", arn, capacity_provider_strategy=[{"capacityProvider": "FARGATE_SPOT"}]
    )

    requests = {call.params["serviceName"]: call.params for call in sim.mutating_calls()[2:]}
    assert "desiredCount" not in requests["agent"]
    assert "launchType" not in requests["spot"]
    spot = describe(sim, "spot")
    assert spot["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT"}]
    assert "launchType" not in spot


def test_only_one_simulator_runs_per_process(sim: Simulator) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        Simulator().start()


# --- 1. ListServices pages like AWS ----------------------------------------------------------


def test_list_services_pages_ten_at_a_time_by_default(sim: Simulator) -> None:
    sim.create_cluster("prod")
    arn = sim.register(task())
    for n in range(12):
        sim.create_service("prod", f"svc-{n:02}", arn)
    ecs = sim.client("ecs")

    first = ecs.list_services(cluster="prod")
    second = ecs.list_services(cluster="prod", nextToken=first["nextToken"])

    assert len(first["serviceArns"]) == 10
    assert len(second["serviceArns"]) == 2
    assert "nextToken" not in second
    names = [arn.rsplit("/", 1)[1] for arn in first["serviceArns"] + second["serviceArns"]]
    assert names == [f"svc-{n:02}" for n in range(12)]


def test_list_services_takes_at_most_100_per_page(sim: Simulator) -> None:
    sim.create_cluster("prod")
    arn = sim.register(task())
    for n in range(105):
        sim.create_service("prod", f"svc-{n:03}", arn)
    ecs = sim.client("ecs")

    with pytest.raises(ClientError) as excinfo:
        ecs.list_services(cluster="prod", maxResults=101)
    assert error_of(excinfo)[0] == "InvalidParameterException"

    pages = ecs.get_paginator("list_services").paginate(
        cluster="prod", PaginationConfig={"PageSize": 100}
    )
    arns = [page["serviceArns"] for page in pages]
    assert [len(page) for page in arns] == [100, 5]
    assert len({arn for page in arns for arn in page}) == 105


def test_list_services_lists_only_the_clusters_active_services(sim: Simulator) -> None:
    arn = sim.register(task())
    for cluster in ("prod", "preprod"):
        sim.create_cluster(cluster)
        sim.create_service(cluster, f"{cluster}-api", arn)
    sim.create_service("prod", "retired", arn, desired_count=0)
    sim.client("ecs").delete_service(cluster="prod", service="retired")

    arns = sim.client("ecs").list_services(cluster="prod")["serviceArns"]

    assert [arn.rsplit("/", 1)[1] for arn in arns] == ["prod-api"]


# --- 2. DescribeServices takes at most 10 services -------------------------------------------


def test_describe_services_rejects_an_11th_service(sim: Simulator) -> None:
    sim.create_cluster("prod")
    arn = sim.register(task())
    names = [f"svc-{n:02}" for n in range(11)]
    for name in names:
        sim.create_service("prod", name, arn)
    ecs = sim.client("ecs")

    assert len(ecs.describe_services(cluster="prod", services=names[:10])["services"]) == 10
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_services(cluster="prod", services=names)
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert "at most 10" in message


# --- 3. ListTaskDefinitions pages and sorts like AWS ------------------------------------------


def test_list_task_definitions_sorts_by_family_then_revision(sim: Simulator) -> None:
    for family in ("web", "api", "web", "api", "web"):
        sim.register(task(family))
    sim.client("ecs").deregister_task_definition(taskDefinition="web:2")
    ecs = sim.client("ecs")

    def listed(**kwargs: Any) -> list[str]:
        arns = ecs.list_task_definitions(**kwargs)["taskDefinitionArns"]
        return [arn.rsplit("/", 1)[1] for arn in arns]

    assert listed() == ["api:1", "api:2", "web:1", "web:3"]
    assert listed(sort="ASC") == ["api:1", "api:2", "web:1", "web:3"]
    assert listed(sort="DESC") == ["web:3", "web:1", "api:2", "api:1"]
    assert listed(familyPrefix="web", sort="DESC") == ["web:3", "web:1"]
    assert listed(status="INACTIVE") == ["web:2"]
    assert listed(familyPrefix="we") == []  # a whole family name, not a prefix


def test_list_task_definitions_pages_at_100(sim: Simulator) -> None:
    for _ in range(105):
        sim.register(task())
    ecs = sim.client("ecs")

    first = ecs.list_task_definitions(sort="DESC")
    assert len(first["taskDefinitionArns"]) == 100
    assert first["taskDefinitionArns"][0].endswith("web:105")
    rest = ecs.list_task_definitions(sort="DESC", nextToken=first["nextToken"])
    assert [int(arn.rsplit(":", 1)[1]) for arn in rest["taskDefinitionArns"]] == [5, 4, 3, 2, 1]

    with pytest.raises(ClientError) as excinfo:
        ecs.list_task_definitions(maxResults=101)
    assert error_of(excinfo)[0] == "InvalidParameterException"

    pages = ecs.get_paginator("list_task_definitions").paginate(PaginationConfig={"PageSize": 30})
    arns = [arn for page in pages for arn in page["taskDefinitionArns"]]
    assert [int(arn.rsplit(":", 1)[1]) for arn in arns] == list(range(1, 106))


# --- 4. DescribeTaskDefinition --------------------------------------------------------------


def test_describe_bare_family_returns_latest_active_revision(sim: Simulator) -> None:
    for n in range(1, 4):
        sim.register({**task(image=f"nginx:{n}"), "tags": [{"key": "n", "value": str(n)}]})
    ecs = sim.client("ecs")
    ecs.deregister_task_definition(taskDefinition="web:3")

    latest = ecs.describe_task_definition(taskDefinition="web", include=["TAGS"])

    assert latest["taskDefinition"]["revision"] == 2
    assert latest["tags"] == [{"key": "n", "value": "2"}]
    inactive = ecs.describe_task_definition(taskDefinition="web:3")["taskDefinition"]
    assert inactive["status"] == "INACTIVE"

    ecs.deregister_task_definition(taskDefinition="web:1")
    ecs.deregister_task_definition(taskDefinition="web:2")
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_task_definition(taskDefinition="web")
    assert error_of(excinfo) == ("ClientException", "Unable to describe task definition.")


# --- 5. RegisterTaskDefinition keeps everything ----------------------------------------------


def test_corpus_registers_and_describes_back_unchanged(
    sim: Simulator, corpus: list[tuple[str, dict[str, Any]]]
) -> None:
    ecs = sim.client("ecs")
    problems: dict[str, list[str]] = {}
    for name, body in corpus:
        try:
            arn = sim.register(body)
        except ClientError as error:
            problems[name] = [f"register: {error}"]
            continue
        described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        fields = {key: value for key, value in body.items() if key != "tags"}
        found = mismatches(fields, described["taskDefinition"])
        found += mismatches(body.get("tags", []), described.get("tags", []), "tags")
        if found:
            problems[name] = found

    assert len(corpus) == 30
    assert problems == {}


EVERY_FIELD: dict[str, Any] = {
    "family": "every-field",
    "taskRoleArn": ROLE,
    "executionRoleArn": ROLE,
    "networkMode": "awsvpc",
    "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memoryReservation": 128}],
    "volumes": [{"name": "data", "host": {"sourcePath": "/data"}}],
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
    "requiresCompatibilities": ["EC2"],
    "cpu": "256",
    "memory": "512",
    "tags": [{"key": "team", "value": "web"}],
    "pidMode": "task",
    "ipcMode": "none",
    "proxyConfiguration": {
        "type": "APPMESH",
        "containerName": "app",
        "properties": [{"name": "AppPorts", "value": "8080"}],
    },
    "inferenceAccelerators": [{"deviceName": "device1", "deviceType": "eia2.medium"}],
    "ephemeralStorage": {"sizeInGiB": 30},
    "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    "enableFaultInjection": True,
    "trustedExecutionConfiguration": {"isolationMode": "ISOLATED_SANDBOX"},
}


def test_every_registerable_field_is_served_back(sim: Simulator) -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    members = model.operation_model("RegisterTaskDefinition").input_shape.members
    assert set(EVERY_FIELD) == set(members), "botocore's model changed: cover every field here"

    described = sim.client("ecs").describe_task_definition(
        taskDefinition=sim.register(EVERY_FIELD), include=["TAGS"]
    )

    fields = {key: value for key, value in EVERY_FIELD.items() if key != "tags"}
    assert mismatches(fields, described["taskDefinition"]) == []
    assert described["tags"] == EVERY_FIELD["tags"]


def test_ec2_container_with_only_memory_reservation_is_accepted(sim: Simulator) -> None:
    body = {
        "family": "reserved",
        "requiresCompatibilities": ["EC2"],
        "containerDefinitions": [{"name": "app", "image": "nginx:1.27", "memoryReservation": 64}],
    }

    container = sim.client("ecs").describe_task_definition(taskDefinition=sim.register(body))
    assert container["taskDefinition"]["containerDefinitions"][0]["memoryReservation"] == 64

    with pytest.raises(ClientError) as excinfo:
        sim.register({**body, "containerDefinitions": [{"name": "app", "image": "nginx:1.27"}]})
    assert error_of(excinfo)[0] == "ClientException"


def test_revision_numbers_are_never_reused(sim: Simulator) -> None:
    for _ in range(3):
        sim.register(task())
    ecs = sim.client("ecs")
    ecs.deregister_task_definition(taskDefinition="web:3")
    ecs.delete_task_definitions(taskDefinitions=["web:3"])

    assert sim.register(task()).endswith("task-definition/web:4")


# --- 6. UpdateService and deployments --------------------------------------------------------


def test_new_service_starts_on_a_completed_deployment(sim: Simulator) -> None:
    seed_service(sim, desired_count=3)

    service = describe(sim)

    assert service["runningCount"] == 3
    [deployment] = service["deployments"]
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "COMPLETED")
    assert deployment["runningCount"] == 3


def test_update_service_refuses_an_inactive_or_deleted_task_definition(sim: Simulator) -> None:
    _, (first, second) = seed_service(sim)
    ecs = sim.client("ecs")
    ecs.deregister_task_definition(taskDefinition=second)

    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster="prod", service="api", taskDefinition=second)
    assert error_of(excinfo) == ("ClientException", "TaskDefinition is inactive")
    with pytest.raises(ClientError) as excinfo:
        sim.create_service("prod", "other", second)
    assert error_of(excinfo) == ("ClientException", "TaskDefinition is inactive")

    ecs.delete_task_definitions(taskDefinitions=[second])
    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster="prod", service="api", taskDefinition=second)
    assert error_of(excinfo)[0] == "ClientException"
    assert describe(sim)["taskDefinition"] == first


def test_update_service_to_a_bare_family_takes_its_latest_active_revision(sim: Simulator) -> None:
    _, arns = seed_service(sim, revisions=3)
    sim.client("ecs").deregister_task_definition(taskDefinition=arns[2])

    service = sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition="web")

    assert service["service"]["taskDefinition"] == arns[1]


def test_update_service_deploys_then_completes(sim: Simulator) -> None:
    _, (first, second) = seed_service(sim)
    sim.rules.deploy_seconds = 600  # in flight until the test says time has passed
    old_id = describe(sim)["deployments"][0]["id"]

    updated = sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition=second)

    new, old = updated["service"]["deployments"]
    assert updated["service"]["taskDefinition"] == second
    assert (new["status"], new["rolloutState"], new["taskDefinition"]) == (
        "PRIMARY",
        "IN_PROGRESS",
        second,
    )
    assert new["runningCount"] == 0
    assert new["id"] != old_id
    assert (old["status"], old["id"], old["taskDefinition"]) == ("ACTIVE", old_id, first)
    assert describe(sim)["deployments"][0]["rolloutState"] == "IN_PROGRESS"

    sim.finish_deployments()
    service = describe(sim)
    [done] = service["deployments"]
    assert (done["id"], done["rolloutState"], done["runningCount"]) == (new["id"], "COMPLETED", 2)
    assert (service["taskDefinition"], service["runningCount"]) == (second, 2)


def test_failed_deployment_leaves_the_service_on_the_new_task_definition(sim: Simulator) -> None:
    _, (first, second) = seed_service(sim)
    sim.rules.deploy_seconds = 0.1
    sim.rules.outcomes["api"] = "fail"

    sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition=second)
    settle(sim)

    service = describe(sim)
    failed = service["deployments"][0]
    assert service["taskDefinition"] == second
    assert (failed["status"], failed["rolloutState"]) == ("PRIMARY", "FAILED")
    assert failed["taskDefinition"] == second
    assert first in [deployment["taskDefinition"] for deployment in service["deployments"]]


def test_circuit_breaker_rolls_the_service_back(sim: Simulator) -> None:
    _, (first, second) = seed_service(sim)
    sim.rules.deploy_seconds = 0.1
    sim.rules.outcomes["api"] = "circuit-breaker"

    new_id = sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition=second)[
        "service"
    ]["deployments"][0]["id"]
    settle(sim)

    service = describe(sim)
    primary, failed = service["deployments"]
    assert service["taskDefinition"] == first
    assert (primary["status"], primary["rolloutState"], primary["taskDefinition"]) == (
        "PRIMARY",
        "COMPLETED",
        first,
    )
    assert (failed["id"], failed["rolloutState"], failed["taskDefinition"]) == (
        new_id,
        "FAILED",
        second,
    )
    assert service["runningCount"] == 2


def test_a_deployment_keeps_the_rules_in_force_when_it_started(sim: Simulator) -> None:
    _, (_, second) = seed_service(sim)
    sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition=second)

    sim.rules.deploy_seconds = 30
    sim.rules.outcomes["api"] = "circuit-breaker"

    service = describe(sim)
    assert service["taskDefinition"] == second
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]


def test_deployments_can_be_made_older(sim: Simulator) -> None:
    seed_service(sim)
    created = describe(sim)["deployments"][0]["createdAt"]

    sim.age_deployments("api", hours=3)

    assert created - describe(sim)["deployments"][0]["createdAt"] == timedelta(hours=3)
    with pytest.raises(ValueError, match="no service"):
        sim.age_deployments("api", hours=3, cluster="staging")


def test_desired_count_alone_changes_only_the_count(sim: Simulator) -> None:
    _, (first, _) = seed_service(sim)
    before = describe(sim)["deployments"][0]

    updated = sim.client("ecs").update_service(
        cluster="prod", service="api", taskDefinition=first, desiredCount=5
    )["service"]

    [deployment] = updated["deployments"]
    assert deployment["id"] == before["id"]
    assert (deployment["desiredCount"], deployment["runningCount"]) == (5, 5)
    assert (updated["desiredCount"], updated["runningCount"]) == (5, 5)


def test_running_counts_can_stay_at_zero(sim: Simulator) -> None:
    sim.rules.running_counts_follow_desired = False
    seed_service(sim)

    updated = sim.client("ecs").update_service(cluster="prod", service="api", desiredCount=3)

    assert updated["service"]["runningCount"] == 0
    assert updated["service"]["deployments"][0]["rolloutState"] == "COMPLETED"


def test_daemon_service_takes_no_desired_count(sim: Simulator) -> None:
    seed_service(sim, scheduling_strategy="DAEMON")

    with pytest.raises(ClientError) as excinfo:
        sim.client("ecs").update_service(cluster="prod", service="api", desiredCount=1)
    assert error_of(excinfo)[0] == "InvalidParameterException"


# --- 7. Operations the endpoint lacks -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("list_service_deployments", {"service": "api", "cluster": "prod"}),
        ("describe_service_deployments", {"serviceDeploymentArns": ["arn:aws:ecs:x"]}),
        ("describe_service_revisions", {"serviceRevisionArns": ["arn:aws:ecs:x"]}),
        ("stop_service_deployment", {"serviceDeploymentArn": "arn:aws:ecs:x"}),
    ],
)
def test_history_operations_fail_at_once_as_unknown_where_switched_off(
    sim: Simulator, method: str, kwargs: dict[str, Any]
) -> None:
    sim.rules.history = False  # an endpoint or partition without ECS's deployment history
    with pytest.raises(ClientError) as excinfo:
        getattr(sim.client("ecs"), method)(**kwargs)

    assert error_of(excinfo)[0] == "UnknownOperationException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(sim.calls) == 1  # no retries


# --- 8. DeleteTaskDefinitions ----------------------------------------------------------------


def test_deleted_revision_is_gone_for_good(sim: Simulator) -> None:
    sim.register(task())
    sim.register(task())
    ecs = sim.client("ecs")
    ecs.deregister_task_definition(taskDefinition="web:2")
    ecs.delete_task_definitions(taskDefinitions=["web:2"])

    with pytest.raises(ClientError) as excinfo:
        ecs.describe_task_definition(taskDefinition="web:2")
    assert error_of(excinfo) == ("ClientException", "Unable to describe task definition.")
    for status in ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"):
        arns = ecs.list_task_definitions(status=status)["taskDefinitionArns"]
        assert not [arn for arn in arns if arn.endswith("web:2")]
    assert ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"] == 1
    assert sim.register(task()).endswith("task-definition/web:3")


# --- 9. Service revisions and deployments (ECS's history, 2024) -----------------------------


def test_every_deployment_records_a_revision_with_tags_resolved_at_that_moment(
    sim: Simulator,
) -> None:
    _, arns = seed_service(sim)
    ecs = sim.client("ecs")
    first = describe(sim)
    [serving] = first["currentServiceRevisions"]
    before = sim.digest("nginx:1")
    sim.push("nginx:1")  # a new build under the same tag
    ecs.update_service(cluster="prod", service="api", forceNewDeployment=True)
    ecs.update_service(cluster="prod", service="api", taskDefinition=arns[1])
    deployments = ecs.list_service_deployments(cluster="prod", service="api")
    briefs = deployments["serviceDeployments"]
    assert [b["status"] for b in briefs] == ["SUCCESSFUL"] * 3  # newest first
    revisions = ecs.describe_service_revisions(
        serviceRevisionArns=[b["targetServiceRevisionArn"] for b in briefs]
    )["serviceRevisions"]
    images = [r["containerImages"][0] for r in revisions]
    assert [i["image"] for i in images] == ["nginx:2", "nginx:1", "nginx:1"]
    assert images[2]["imageDigest"] == before != images[1]["imageDigest"]
    assert revisions[2]["serviceRevisionArn"] == serving["arn"]
    full = ecs.describe_service_deployments(
        serviceDeploymentArns=[briefs[0]["serviceDeploymentArn"]]
    )
    [newest] = full["serviceDeployments"]
    assert newest["sourceServiceRevisions"][0]["arn"] == briefs[1]["targetServiceRevisionArn"]
    assert describe(sim)["currentServiceDeployment"] == briefs[0]["serviceDeploymentArn"]


def test_history_pages_filters_and_limits_as_ecs_does(sim: Simulator) -> None:
    seed_service(sim)
    ecs = sim.client("ecs")
    for _ in range(4):
        ecs.update_service(cluster="prod", service="api", forceNewDeployment=True)
    page = ecs.list_service_deployments(cluster="prod", service="api", maxResults=2)
    rest = ecs.list_service_deployments(
        cluster="prod", service="api", maxResults=2, nextToken=page["nextToken"]
    )
    seen = [
        b["serviceDeploymentArn"] for b in page["serviceDeployments"] + rest["serviceDeployments"]
    ]
    assert len(seen) == len(set(seen)) == 4
    none = ecs.list_service_deployments(cluster="prod", service="api", status=["ROLLBACK_FAILED"])
    assert none["serviceDeployments"] == []
    with pytest.raises(ClientError) as excinfo:
        ecs.describe_service_revisions(
            serviceRevisionArns=[f"arn:aws:ecs:x:{i}" for i in range(21)]
        )
    assert error_of(excinfo)[0] == "InvalidParameterException"
    unknown = ecs.describe_service_deployments(serviceDeploymentArns=["arn:aws:ecs:nope"])
    assert unknown["failures"] == [{"arn": "arn:aws:ecs:nope", "reason": "MISSING"}]


def test_stop_service_deployment_rolls_back_in_flight_and_conflicts_once_finished(
    sim: Simulator,
) -> None:
    _, arns = seed_service(sim)
    ecs = sim.client("ecs")
    done = describe(sim)["currentServiceDeployment"]
    with pytest.raises(ClientError) as excinfo:
        ecs.stop_service_deployment(serviceDeploymentArn=done, stopType="ROLLBACK")
    assert error_of(excinfo)[0] == "ConflictException"
    sim.rules.deploy_seconds = 600  # in flight until the test says time has passed
    ecs.update_service(cluster="prod", service="api", taskDefinition=arns[1])
    flight = describe(sim)["currentServiceDeployment"]
    assert len(describe(sim)["currentServiceRevisions"]) == 2  # old and new, both serving
    registered_before = len(ecs.list_task_definitions()["taskDefinitionArns"])
    ecs.stop_service_deployment(serviceDeploymentArn=flight, stopType="ROLLBACK")
    sim.finish_deployments()
    service = describe(sim)
    assert service["taskDefinition"] == arns[0]
    [stopped] = ecs.describe_service_deployments(serviceDeploymentArns=[flight])[
        "serviceDeployments"
    ]
    assert stopped["status"] == "ROLLBACK_SUCCESSFUL"
    assert stopped["rollback"]["serviceRevisionArn"] == stopped["sourceServiceRevisions"][0]["arn"]
    assert len(ecs.list_task_definitions()["taskDefinitionArns"]) == registered_before


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_a_task_definition_is_refused_for_services_ecs_does_not_deploy(
    sim: Simulator, controller: str
) -> None:
    _, arns = seed_service(sim, deploymentController={"type": controller})
    with pytest.raises(ClientError) as excinfo:
        sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition=arns[1])
    code, message = error_of(excinfo)
    assert code == "InvalidParameterException"
    assert message.startswith(f"Unable to update task definition on services with a {controller}")


def test_an_external_service_may_have_no_task_definition(sim: Simulator) -> None:
    sim.create_cluster("prod")
    sim.client("ecs").create_service(
        cluster="prod", serviceName="sets", deploymentController={"type": "EXTERNAL"}
    )
    assert "taskDefinition" not in describe(sim, "sets")


def test_a_draining_service_cannot_be_updated(sim: Simulator) -> None:
    _, arns = seed_service(sim)
    sim.rules.drain_seconds = 60
    ecs = sim.client("ecs")
    ecs.delete_service(cluster="prod", service="api", force=True)
    assert describe(sim)["status"] == "DRAINING"
    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster="prod", service="api", taskDefinition=arns[1])
    assert error_of(excinfo)[0] == "ServiceNotActiveException"


# --- 10. Deployment strategies and lifecycle hooks (BLUE_GREEN, LINEAR, CANARY, 2025) --------


def watch(sim: Simulator, arn: str, until: float = 5.0) -> list[tuple[str, str, float, str]]:
    """(status, lifecycleStage, production weight, hook statuses) each time one changes,
    read from DescribeServiceDeployments until the deployment ends or `until` seconds."""
    ecs, seen, end = sim.client("ecs"), [], time.monotonic() + until
    while time.monotonic() < end:
        [found] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ]
        now = (
            found["status"],
            found.get("lifecycleStage", ""),
            found["targetServiceRevision"].get("requestedProductionTrafficWeight", -1.0),
            ",".join(h["status"] for h in found.get("lifecycleHookDetails", [])),
        )
        if not seen or seen[-1] != now:
            seen.append(now)
        if found["status"] in ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"):
            break
        time.sleep(0.02)
    return seen


@pytest.mark.parametrize(
    ("configuration", "steps"),
    [
        (
            {
                "strategy": "LINEAR",
                "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1},
            },
            [("SCALE_UP", 0.0), *(("PRODUCTION_TRAFFIC_SHIFT", w) for w in (25, 50, 75))],
        ),
        (
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 1},
            },
            [("SCALE_UP", 0.0), ("PRODUCTION_TRAFFIC_SHIFT", 5.0)],
        ),
    ],
)
def test_a_staged_deployment_passes_every_step_in_order_on_its_clock(
    configuration: dict[str, Any], steps: list[tuple[str, float]]
) -> None:
    """Looked at once a second (a minute is 1 s here, scaling up 0.5 s), every step shows."""
    progression = Progression.of(configuration, scale_up_seconds=0.5, minute=1.0)
    assert progression is not None
    deployment: dict[str, Any] = {"targetServiceRevision": {}, "sourceServiceRevisions": []}
    progression.begin(0.0, deployment)
    shown = []
    for now in (0.0, 0.75, 1.75, 2.75, 3.75, 4.75, 5.75, 6.75, 7.75, 8.75, 9.75, 10.75):
        progression.advance(now, deployment)
        step = (
            deployment["lifecycleStage"],
            deployment["targetServiceRevision"]["requestedProductionTrafficWeight"],
        )
        if not shown or shown[-1] != step:
            shown.append(step)
    assert shown[: len(steps)] == steps, shown


def staged_update(sim: Simulator, configuration: dict[str, Any]) -> tuple[str, list[str]]:
    """Service api deployed with `configuration`, updated to revision 2: its deployment."""
    _, arns = seed_service(sim, deploymentConfiguration=configuration)
    assert describe(sim)["deploymentConfiguration"]["strategy"] == configuration["strategy"]
    answer = sim.client("ecs").update_service(cluster="prod", service="api", taskDefinition=arns[1])
    return answer["service"]["currentServiceDeployment"], arns


@pytest.mark.parametrize(
    ("configuration", "weights"),
    [
        ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 3}, []),  # all at once: not seen
        (
            {
                "strategy": "LINEAR",
                "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
            },
            [25.0, 50.0, 75.0],  # the last step (100%) passes at once: no bake after it
        ),
        (
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 2},
            },
            [5.0],
        ),
    ],
)
def test_staged_strategies_shift_traffic_in_their_steps_then_bake(
    sim: Simulator, configuration: dict[str, Any], weights: list[float]
) -> None:
    sim.rules = Rules(deploy_seconds=0.1, minute_seconds=0.1)
    arn, arns = staged_update(sim, configuration)
    seen = watch(sim, arn)
    # Polling sees the steps it happens to look at (a busy machine looks less often); that
    # each step is passed through, in order, is checked on the clock below.
    shifts = [w for _, stage, w, _ in seen if stage == "PRODUCTION_TRAFFIC_SHIFT"]
    assert shifts == [w for w in weights if w in shifts], seen
    stages = [stage for _, stage, _, _ in seen]
    order = [
        "SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ]
    # The stages seen never go backwards and end on CLEAN_UP; none is seen that the
    # configuration does not have (a bake without bake minutes).
    ranks = [order.index(stage) for stage in stages if stage in order]
    assert ranks == sorted(ranks) and stages[-1] == "CLEAN_UP", stages
    if not configuration.get("bakeTimeInMinutes"):
        assert "BAKE_TIME" not in stages, stages
    assert seen[-1][0] == "SUCCESSFUL" and describe(sim)["taskDefinition"] == arns[1]
    assert describe(sim)["deployments"][0]["rolloutState"] == "COMPLETED"


def test_a_pause_hook_holds_the_deployment_until_continued(sim: Simulator) -> None:
    sim.rules = Rules(deploy_seconds=0.05, minute_seconds=0.1)
    hook = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
    arn, arns = staged_update(sim, {"strategy": "BLUE_GREEN", "lifecycleHooks": [hook]})
    seen = watch(sim, arn, until=0.5)  # far longer than the deployment takes unpaused
    assert seen[-1][:2] == ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT") and "AWAITING" in seen[-1][3]
    ecs = sim.client("ecs")
    [paused] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    [detail] = paused["lifecycleHookDetails"]
    assert detail["targetType"] == "PAUSE" and detail["timeoutAction"] == "ROLLBACK"
    assert "expiresAt" in detail
    with pytest.raises(ClientError) as excinfo:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="hook-nope")
    assert error_of(excinfo)[0] == "InvalidParameterException"
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=detail["hookId"])
    seen = watch(sim, arn)
    assert seen[-1] == ("SUCCESSFUL", "CLEAN_UP", 100.0, "SUCCEEDED")
    assert describe(sim)["taskDefinition"] == arns[1]


@pytest.mark.parametrize("how", ["continue-rollback", "timeout"])
def test_a_pause_hook_rolls_back_when_told_or_when_it_times_out(sim: Simulator, how: str) -> None:
    sim.rules = Rules(deploy_seconds=0.05, minute_seconds=0.1)
    hook = {
        "targetType": "PAUSE",
        "lifecycleStages": ["POST_SCALE_UP"],
        "timeoutConfiguration": {"timeoutInMinutes": 3 if how == "timeout" else 600},
    }
    arn, arns = staged_update(sim, {"strategy": "CANARY", "lifecycleHooks": [hook]})
    ecs = sim.client("ecs")
    if how == "continue-rollback":
        watch(sim, arn, until=0.2)
        [paused] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ]
        hook_id = paused["lifecycleHookDetails"][0]["hookId"]
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id, action="ROLLBACK")
    seen = watch(sim, arn)
    assert seen[-1][0] == "ROLLBACK_SUCCESSFUL", seen
    assert seen[-1][3] == ("FAILED" if how == "continue-rollback" else "TIMED_OUT")
    assert describe(sim)["taskDefinition"] == arns[0]  # back on the source, by ECS


def test_strategy_configurations_must_match_their_strategy(sim: Simulator) -> None:
    sim.create_cluster("prod")
    td = sim.register(task())
    with pytest.raises(ClientError) as excinfo:
        sim.create_service(
            "prod",
            "api",
            td,
            deploymentConfiguration={"strategy": "BLUE_GREEN", "linearConfiguration": {}},
        )
    assert error_of(excinfo) == (
        "InvalidParameterException",
        "linearConfiguration is only valid with the LINEAR deployment strategy.",
    )


# --- 11. Injected refusals ---------------------------------------------------------------


def test_a_refusal_is_answered_as_ecs_answers_it_and_changes_nothing(sim: Simulator) -> None:
    _, arns = seed_service(sim)
    sim.rules.refusals[("UpdateService", "api")] = "AccessDeniedException"
    ecs = sim.client("ecs")
    with pytest.raises(ClientError) as excinfo:
        ecs.update_service(cluster="prod", service="api", taskDefinition=arns[1])
    code, message = error_of(excinfo)
    assert code == "AccessDeniedException" and "not authorized to perform: ecs:UpdateService" in (
        message
    )
    assert describe(sim)["taskDefinition"] == arns[0]
    sim.rules.refusals[("RegisterTaskDefinition", "*")] = "ClientException"
    with pytest.raises(ClientError):
        sim.register(task(family="other"))
    assert ecs.list_task_definitions(familyPrefix="other")["taskDefinitionArns"] == []
    describe(sim)  # reads of other operations are still answered


# --- 12. KMS's HMAC keys: GenerateMac and VerifyMac as KMS documents them ------------------


def hmac_key(sim: Simulator, usage: str = "GENERATE_VERIFY_MAC") -> dict[str, Any]:
    spec = {"KeySpec": "HMAC_256"} if usage == "GENERATE_VERIFY_MAC" else {}
    metadata: dict[str, Any] = sim.client("kms").create_key(KeyUsage=usage, **spec)["KeyMetadata"]
    return metadata


def test_a_mac_is_made_and_checked_with_the_key_by_id_arn_or_alias(sim: Simulator) -> None:
    kms, key = sim.client("kms"), hmac_key(sim)
    kms.create_alias(AliasName="alias/snapshots", TargetKeyId=key["KeyId"])
    made = kms.generate_mac(KeyId="alias/snapshots", Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert made["KeyId"] == key["Arn"]  # KMS answers with the key's ARN, whatever named it
    for named in (key["KeyId"], key["Arn"], "alias/snapshots"):
        checked = kms.verify_mac(
            KeyId=named, Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=made["Mac"]
        )
        assert checked["MacValid"] is True
    with pytest.raises(ClientError) as excinfo:
        kms.verify_mac(KeyId=key["Arn"], Message=b"n", MacAlgorithm="HMAC_SHA_256", Mac=made["Mac"])
    assert error_of(excinfo)[0] == "KMSInvalidMacException"
    other = hmac_key(sim)
    with pytest.raises(ClientError) as excinfo:
        kms.verify_mac(
            KeyId=other["Arn"], Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=made["Mac"]
        )
    assert error_of(excinfo)[0] == "KMSInvalidMacException"


def test_kms_refuses_a_long_message_a_disabled_key_and_a_key_of_another_usage(
    sim: Simulator,
) -> None:
    kms, key = sim.client("kms"), hmac_key(sim)

    def refusal(key_id: str, message: bytes = b"m") -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            kms.generate_mac(KeyId=key_id, Message=message, MacAlgorithm="HMAC_SHA_256")
        return error_of(excinfo)

    code, message = refusal(key["Arn"], b"m" * 4097)
    assert code == "ValidationException" and "less than or equal to 4096" in message
    kms.generate_mac(KeyId=key["Arn"], Message=b"m" * 4096, MacAlgorithm="HMAC_SHA_256")
    encrypting = hmac_key(sim, "ENCRYPT_DECRYPT")
    assert refusal(encrypting["Arn"]) == (
        "InvalidKeyUsageException",
        f"{encrypting['Arn']} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.",
    )
    assert refusal("alias/none")[0] == "NotFoundException"
    kms.disable_key(KeyId=key["KeyId"])
    assert refusal(key["Arn"]) == ("DisabledException", f"{key['Arn']} is disabled.")
    with pytest.raises(ClientError) as excinfo:
        kms.verify_mac(KeyId=key["Arn"], Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=b"x" * 32)
    assert error_of(excinfo)[0] == "DisabledException"
    kms.enable_key(KeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert refusal(key["Arn"]) == ("KMSInvalidStateException", f"{key['Arn']} is pending deletion.")


def test_a_kms_call_can_be_refused_as_iam_refuses_it(sim: Simulator) -> None:
    key = hmac_key(sim)
    sim.rules.refusals[("GenerateMac", "*")] = "AccessDeniedException"
    with pytest.raises(ClientError) as excinfo:
        sim.client("kms").generate_mac(KeyId=key["Arn"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    code, message = error_of(excinfo)
    assert code == "AccessDeniedException" and "perform: kms:GenerateMac" in message
