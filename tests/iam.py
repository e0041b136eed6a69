"""What ecsundo called in AWS across the test suite, checked against docs/iam-policy.json.

Only calls made by ecsundo's own clients count (their user agent names ecsundo): the action and
the CLI run as subprocesses, the image in `make container-test`. The history APIs moto lacks
are recorded from the Stubber test.

Each test process (one per xdist worker) gathers the IAM actions its calls needed; the process
that ran the session checks their union when the suite is over (conftest.py), since no single
test sees every call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

POLICY = Path(__file__).resolve().parents[1] / "docs/iam-policy.json"
S3_ACTIONS = {
    "PutObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
}

#: The IAM actions ecsundo's calls needed in this process.
USED: set[str] = set()


IAM_PREFIX = {  # by signing name
    "tagging": "tag",
    "ecr": "ecr",
    "kms": "kms",
    "events": "events",
    "scheduler": "scheduler",
    "application-autoscaling": "application-autoscaling",
}
# Putting a scheduled task back hands the role its target names to EventBridge or Scheduler.
HANDS_A_ROLE = {("events", "PutTargets"), ("scheduler", "UpdateSchedule")}
# What Application Auto Scaling does as the caller (its permission validation): the alarms of
# a target-tracking policy, and the service-linked role a target registered anew needs.
ON_BEHALF = {
    ("application-autoscaling", "PutScalingPolicy"): {
        "cloudwatch:DescribeAlarms",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
    },
    ("application-autoscaling", "RegisterScalableTarget"): {"iam:CreateServiceLinkedRole"},
}


def needs(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions one call needs."""
    if service == "s3":
        return {S3_ACTIONS[operation]}
    if service in IAM_PREFIX:  # tagging; ECR; the signing key's MACs; scheduled tasks
        actions = {f"{IAM_PREFIX[service]}:{operation}"}
        if (service, operation) in HANDS_A_ROLE:
            actions.add("iam:PassRole")
        return actions | ON_BEHALF.get((service, operation), set())
    assert service == "ecs", (service, operation)
    actions = {f"ecs:{operation}"}
    if operation == "RegisterTaskDefinition":
        if params.get("tags"):
            actions.add("ecs:TagResource")  # tags given at creation need it
        if params.get("taskRoleArn") or params.get("executionRoleArn"):
            actions.add("iam:PassRole")  # registering hands the roles to ECS tasks
    return actions


def record(calls: Iterable[Any]) -> None:
    for call in calls:
        if "ecsundo" in call.user_agent:
            USED.update(needs(call.service, call.operation, call.params))


def record_operation(service: str, operation: str, params: dict[str, Any]) -> None:
    USED.update(needs(service, operation, params))


def statements() -> list[dict[str, Any]]:
    return list(json.loads(POLICY.read_text())["Statement"])


def allowed() -> set[str]:
    actions: set[str] = set()
    for statement in statements():
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def problems(used: set[str], allows: set[str]) -> list[str]:
    """Why the policy is not exactly what was used (empty: it is)."""
    if not used:
        # Not a pass: a check that quietly does not run is a check that passes.
        return ["no ecsundo calls were recorded: this check needs the whole suite (make test)"]
    found = []
    if missing := sorted(used - allows):
        found.append(f"called but not allowed by docs/iam-policy.json: {', '.join(missing)}")
    if unused := sorted(allows - used):
        found.append(
            "allowed by docs/iam-policy.json but never called (or a partial run: use "
            f"make test): {', '.join(unused)}"
        )
    return found
