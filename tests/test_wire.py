"""The stand-in never loses sight of a call: every operation ecsundo calls is named by the
recorder, with its parameters, under the installed botocore and moto; a signed request it
cannot name fails loudly instead of passing un-metered (a moto release once broke the parser
the recorder borrowed, and every call became an unnamed `POST /` that no quota, refusal or
count applied to)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from simulator import Simulator
from simulator.wire import UnparsedCall, parse_call
from tests import iam

CLUSTER = "prod"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
BUCKET = "snapshots"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
SVC = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
DEPLOYMENT = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc"
REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/123"
CONTAINERS = [{"name": "web", "image": "shop/web:1", "memory": 64}]
DIGEST = "sha256:" + "0" * 64
PUT = {  # a key with a space and a plus, encryption by KMS, never over an existing object
    "Bucket": BUCKET,
    "Key": "prod/2026 12/a+b.json",
    "Body": b"{}",
    "ServerSideEncryption": "aws:kms",
    "SSEKMSKeyId": "alias/ecsundo",
    "IfNoneMatch": "*",
}

# One real call per operation ecsundo makes (and the ECR reads the digest check will make):
# (service, operation) -> (client method, its arguments, parameters the recorder must read).
Example = tuple[str, dict[str, Any], dict[str, Any]]
EXAMPLES: dict[tuple[str, str], Example] = {
    ("tagging", "GetResources"): (
        "get_resources",
        {"ResourceTypeFilters": ["ecs:task-definition"], "TagFilters": [{"Key": "k"}]},
        {"ResourceTypeFilters": ["ecs:task-definition"]},
    ),
    ("ecs", "ListClusters"): ("list_clusters", {"maxResults": 100}, {"maxResults": 100}),
    ("ecs", "DescribeClusters"): ("describe_clusters", {"clusters": [CLUSTER]}, {}),
    ("ecs", "ListServices"): ("list_services", {"cluster": CLUSTER}, {"cluster": CLUSTER}),
    ("ecs", "DescribeServices"): (
        "describe_services",
        {"cluster": CLUSTER, "services": ["web"], "include": ["TAGS"]},
        {"services": ["web"], "include": ["TAGS"]},
    ),
    ("ecs", "UpdateService"): (
        "update_service",
        {"cluster": CLUSTER, "service": "web", "taskDefinition": TD},
        {"service": "web", "taskDefinition": TD},
    ),
    ("ecs", "ListServiceDeployments"): (
        "list_service_deployments",
        {"cluster": CLUSTER, "service": "web"},
        {"service": "web"},
    ),
    ("ecs", "DescribeServiceDeployments"): (
        "describe_service_deployments",
        {"serviceDeploymentArns": [DEPLOYMENT]},
        {"serviceDeploymentArns": [DEPLOYMENT]},
    ),
    ("ecs", "DescribeServiceRevisions"): (
        "describe_service_revisions",
        {"serviceRevisionArns": [REVISION]},
        {"serviceRevisionArns": [REVISION]},
    ),
    ("ecs", "StopServiceDeployment"): (
        "stop_service_deployment",
        {"serviceDeploymentArn": DEPLOYMENT, "stopType": "ROLLBACK"},
        {"serviceDeploymentArn": DEPLOYMENT, "stopType": "ROLLBACK"},
    ),
    ("ecs", "DescribeTaskDefinition"): (
        "describe_task_definition",
        {"taskDefinition": "web:1", "include": ["TAGS"]},
        {"taskDefinition": "web:1"},
    ),
    ("ecs", "ListTaskDefinitions"): (
        "list_task_definitions",
        {"familyPrefix": "web", "status": "INACTIVE", "sort": "DESC"},
        {"familyPrefix": "web", "status": "INACTIVE", "sort": "DESC"},
    ),
    ("ecs", "RegisterTaskDefinition"): (
        "register_task_definition",
        {"family": "web", "containerDefinitions": CONTAINERS},
        {"family": "web", "containerDefinitions": CONTAINERS},
    ),
    ("ecs", "TagResource"): (
        "tag_resource",
        {"resourceArn": TD, "tags": [{"key": "ecsundo:source", "value": "x"}]},
        {"resourceArn": TD},
    ),
    ("s3", "PutObject"): ("put_object", PUT, PUT),  # every argument read back as sent
    ("s3", "GetObject"): ("get_object", {"Bucket": BUCKET, "Key": "prod/a.json"}, {}),
    ("s3", "HeadObject"): ("head_object", {"Bucket": BUCKET, "Key": "prod/a.json"}, {}),
    ("s3", "ListObjectsV2"): (
        "list_objects_v2",
        {"Bucket": BUCKET, "Prefix": "prod/", "MaxKeys": 5},
        {"Bucket": BUCKET, "Prefix": "prod/", "MaxKeys": 5},
    ),
    ("ecr", "DescribeImages"): (
        "describe_images",
        {"repositoryName": "shop/web", "imageIds": [{"imageDigest": DIGEST}]},
        {"repositoryName": "shop/web", "imageIds": [{"imageDigest": DIGEST}]},
    ),
    ("ecr", "BatchGetImage"): (
        "batch_get_image",
        {"repositoryName": "shop/web", "imageIds": [{"imageDigest": DIGEST}]},
        {"repositoryName": "shop/web"},
    ),
    ("kms", "DescribeKey"): (
        "describe_key",
        {"KeyId": "alias/ecsundo"},
        {"KeyId": "alias/ecsundo"},
    ),
    # The signing key's calls: blobs travel base64 in KMS's JSON ("c2lnbmVk" is b"signed").
    ("kms", "GenerateMac"): (
        "generate_mac",
        {"KeyId": "alias/ecsundo", "Message": b"signed", "MacAlgorithm": "HMAC_SHA_256"},
        {"KeyId": "alias/ecsundo", "Message": "c2lnbmVk", "MacAlgorithm": "HMAC_SHA_256"},
    ),
    ("kms", "VerifyMac"): (
        "verify_mac",
        {
            "KeyId": "alias/ecsundo",
            "Message": b"signed",
            "MacAlgorithm": "HMAC_SHA_256",
            "Mac": b"signed",
        },
        {"KeyId": "alias/ecsundo", "Mac": "c2lnbmVk", "MacAlgorithm": "HMAC_SHA_256"},
    ),
    ("events", "ListEventBuses"): ("list_event_buses", {"Limit": 10}, {"Limit": 10}),
    ("events", "ListRuleNamesByTarget"): (
        "list_rule_names_by_target",
        {"TargetArn": CLUSTER_ARN, "EventBusName": "default"},
        {"TargetArn": CLUSTER_ARN, "EventBusName": "default"},
    ),
    ("events", "ListTargetsByRule"): (
        "list_targets_by_rule",
        {"Rule": "nightly", "EventBusName": "default"},
        {"Rule": "nightly", "EventBusName": "default"},
    ),
    ("events", "PutTargets"): (
        "put_targets",
        {"Rule": "nightly", "Targets": [{"Id": "ecs-task", "Arn": CLUSTER_ARN}]},
        {"Rule": "nightly", "Targets": [{"Id": "ecs-task", "Arn": CLUSTER_ARN}]},
    ),
    ("application-autoscaling", "DescribeScalableTargets"): (
        "describe_scalable_targets",
        {"ServiceNamespace": "ecs", "ResourceIds": ["service/prod/web"]},
        {"ServiceNamespace": "ecs", "ResourceIds": ["service/prod/web"]},
    ),
    ("application-autoscaling", "DescribeScalingPolicies"): (
        "describe_scaling_policies",
        {"ServiceNamespace": "ecs", "ResourceId": "service/prod/web"},
        {"ServiceNamespace": "ecs", "ResourceId": "service/prod/web"},
    ),
    ("application-autoscaling", "RegisterScalableTarget"): (
        "register_scalable_target",
        {
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 1,
            "MaxCapacity": 4,
        },
        {"ResourceId": "service/prod/web", "MinCapacity": 1, "MaxCapacity": 4},
    ),
    ("application-autoscaling", "PutScalingPolicy"): (
        "put_scaling_policy",
        {
            "PolicyName": "cpu",
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50.0},
        },
        {"PolicyName": "cpu", "ResourceId": "service/prod/web"},
    ),
    ("scheduler", "ListSchedules"): ("list_schedules", {"MaxResults": 10}, {"MaxResults": 10}),
    ("scheduler", "GetSchedule"): (
        "get_schedule",
        {"Name": "weekly", "GroupName": "reports"},
        {"Name": "weekly", "GroupName": "reports"},
    ),
    ("scheduler", "UpdateSchedule"): (
        "update_schedule",
        {
            "Name": "weekly",
            "GroupName": "reports",
            "ScheduleExpression": "rate(7 days)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": CLUSTER_ARN, "RoleArn": "arn:aws:iam::123456789012:role/s"},
        },
        {"Name": "weekly", "GroupName": "reports", "ScheduleExpression": "rate(7 days)"},
    ),
}
CLIENT = {"tagging": "resourcegroupstaggingapi"}


def policy_operations() -> set[tuple[str, str]]:
    """The (service, operation) pairs behind docs/iam-policy.json's actions."""
    found = set()
    on_behalf = {action for actions in iam.ON_BEHALF.values() for action in actions}
    for action in iam.allowed() - {"iam:PassRole"} - on_behalf:
        prefix, name = action.split(":")
        if prefix == "s3":
            found |= {("s3", op) for op, needed in iam.S3_ACTIONS.items() if needed == action}
        else:
            found.add(({"tag": "tagging"}.get(prefix, prefix), name))
    return found


def test_every_operation_the_policy_allows_has_an_example_here() -> None:
    assert policy_operations() - EXAMPLES.keys() == set()


@pytest.mark.parametrize(("service", "operation"), sorted(EXAMPLES), ids="/".join)
def test_the_recorder_names_each_call_and_reads_its_parameters(
    sim: Simulator, service: str, operation: str
) -> None:
    method, arguments, expected = EXAMPLES[(service, operation)]
    if service == "s3":
        sim.client("s3").create_bucket(Bucket=BUCKET)
    once = Config(retries={"mode": "standard", "total_max_attempts": 1})
    client = sim.client(CLIENT.get(service, service), config=once)
    sim.calls.clear()
    try:
        getattr(client, method)(**arguments)
    except ClientError as error:  # moto may refuse the made-up resource: still a named call
        assert error.response["Error"]["Code"] != "UnparsedCall", error
    [call] = sim.calls
    assert (call.service, call.operation) == (service, operation)
    assert {key: call.params.get(key) for key in expected} == expected
    assert sim.unparsed == []


def test_a_request_the_recorder_cannot_name_fails_loudly_and_is_reported(
    sim: Simulator,
) -> None:
    ecs = sim.client("ecs", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    rename: Callable[..., None] = lambda request, **_: request.headers.replace_header(  # noqa: E731
        "X-Amz-Target", "AmazonEC2ContainerServiceV20141113.NoSuchOperation"
    )
    ecs.meta.events.register("before-sign.ecs.ListClusters", rename)
    sim.calls.clear()
    with pytest.raises(ClientError) as raised:
        ecs.list_clusters()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert raised.value.response["Error"]["Code"] == "UnparsedCall"
    assert "NoSuchOperation" in raised.value.response["Error"]["Message"]
    assert sim.calls == []  # never an un-named entry in the log
    [line] = sim.unparsed
    assert line.startswith("ecs POST /: ") and "names no ecs operation" in line
    sim.unparsed.clear()  # seen: the fixture would fail this test otherwise


@pytest.mark.parametrize(
    ("service", "method", "path", "query", "headers", "body", "reason"),
    [
        ("ecs", "POST", "/", "", {}, b"{}", "X-Amz-Target '' names no ecs operation"),
        (
            "ecs",
            "POST",
            "/",
            "",
            {"X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters"},
            b"not json",
            "ListClusters: the body is not JSON",
        ),
        ("s3", "PATCH", "/bucket/key", "", {}, b"", "PATCH /bucket/key matches no s3 operation"),
        ("nosuch", "POST", "/", "", {}, b"", "no botocore model for signing name 'nosuch'"),
        ("sts", "POST", "/", "", {}, b"Action=Nothing", "Action 'Nothing' names no sts operation"),
    ],
)
def test_what_cannot_be_named_says_why(
    service: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    reason: str,
) -> None:
    with pytest.raises(UnparsedCall, match="^" + reason.replace("(", r"\(")):
        parse_call(service, method, path, query, headers, body)


def test_s3_routes_pick_the_most_specific_operation() -> None:
    def named(method: str, path: str, query: str = "", **headers: str) -> str:
        return parse_call("s3", method, path, query, headers, b"")[0]

    assert named("PUT", "/b/k") == "PutObject"
    assert named("PUT", "/b/k", **{"x-amz-copy-source": "/b/j"}) == "CopyObject"
    assert named("GET", "/b", "list-type=2&prefix=p") == "ListObjectsV2"
    assert named("GET", "/b") == "ListObjects"
    assert named("HEAD", "/b/a/b%20c.json") == "HeadObject"
    assert parse_call("s3", "GET", "/b/a/b%2Bc.json", "", {}, b"")[1]["Key"] == "a/b+c.json"


UNMETERED_RUN = """
from botocore.config import Config
from botocore.exceptions import ClientError
from simulator import Simulator

with Simulator() as sim:
    ecs = sim.client("ecs", config=Config(retries={"total_max_attempts": 1}))
    ecs.meta.events.register(
        "before-sign.ecs.ListClusters",
        lambda request, **_: request.headers.replace_header("X-Amz-Target", "Nope.X"),
    )
    try:
        ecs.list_clusters()
    except ClientError:
        pass
print("figures")
"""


def test_a_simulator_that_saw_an_unreadable_request_refuses_to_end_quietly() -> None:
    """Benchmarks and the demo run a simulator of their own (moto's state is per process,
    hence a subprocess here): one whose calls went unmetered ends with an error naming them,
    rather than printing figures measured without ECS's rules."""
    ran = subprocess.run(
        [sys.executable, "-c", UNMETERED_RUN],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 1 and ran.stdout == "", ran
    assert "RuntimeError: the simulator could not read: ecs POST /: X-Amz-Target" in ran.stderr


def test_s3_operations_sharing_a_route_resolve_to_the_current_general_one() -> None:
    def named(method: str, path: str, query: str = "") -> str:
        return parse_call("s3", method, path, query, {}, b"")[0]

    assert named("GET", "/") == "ListBuckets"  # not ListDirectoryBuckets (S3 Express)
    assert named("GET", "/b", "lifecycle") == "GetBucketLifecycleConfiguration"  # not deprecated
    assert named("PUT", "/b", "notification") == "PutBucketNotificationConfiguration"


def test_xml_bodies_keep_repeated_elements_and_are_not_nested_twice() -> None:
    body = b"<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>"
    _, params = parse_call("s3", "POST", "/b", "delete", {"Content-MD5": "x"}, body)
    assert params["Delete"] == {"Object": [{"Key": "a"}, {"Key": "b"}]}


def test_a_malformed_scalar_is_an_unparsed_call_not_a_crash() -> None:
    with pytest.raises(UnparsedCall, match="'abc' is not the integer"):
        parse_call("s3", "GET", "/b", "list-type=2&max-keys=abc", {}, b"")
