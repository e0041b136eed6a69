"""docs/iam-policy.json allows exactly what ecsundo calls: every operation the test suite saw
ecsundo make is allowed, and the policy allows nothing that went unused.

That check needs every test's calls, which run in several processes: conftest.py makes it when
the session ends, whenever this file is part of the run, and fails the run if it fails. Here:
the policy's form, and that the check tells each way of being wrong.
"""

from __future__ import annotations

from tests import iam


def test_policy_names_every_action_and_uses_no_wildcard() -> None:
    for action in iam.allowed():
        assert "*" not in action and ":" in action, action
    # Each role is passed only to the service that uses it, and named: never a wildcard.
    passed = {
        str(s["Condition"]["StringEquals"]["iam:PassedToService"]): s["Resource"]
        for s in iam.statements()
        if "iam:PassRole" in s["Action"]
    }
    assert passed == {
        "ecs-tasks.amazonaws.com": [
            "arn:aws:iam::ACCOUNT:role/TASK_ROLE",
            "arn:aws:iam::ACCOUNT:role/EXECUTION_ROLE",
        ],
        "['events.amazonaws.com', 'scheduler.amazonaws.com']": [
            "arn:aws:iam::ACCOUNT:role/EVENTS_TARGET_ROLE",
            "arn:aws:iam::ACCOUNT:role/SCHEDULER_ROLE",
        ],
    }
    # The signing key's calls are allowed on that key alone (by its ARN: IAM does not take an
    # alias as a resource), never on every key.
    signing = next(s for s in iam.statements() if "kms:GenerateMac" in s["Action"])
    assert signing["Resource"] == "arn:aws:kms:REGION:ACCOUNT:key/SIGNING_KEY_ID"


def test_the_check_names_what_is_called_but_not_allowed_and_allowed_but_unused() -> None:
    allows = {"ecs:DescribeServices", "ecs:UpdateService"}
    assert iam.problems({"ecs:DescribeServices", "ecs:UpdateService"}, allows) == []
    assert iam.problems({"ecs:DescribeServices", "ecs:UpdateService", "s3:PutObject"}, allows) == [
        "called but not allowed by docs/iam-policy.json: s3:PutObject"
    ]
    [unused] = iam.problems({"ecs:DescribeServices"}, allows)
    assert unused.startswith("allowed by docs/iam-policy.json but never called")
    assert unused.endswith(": ecs:UpdateService")
    [nothing] = iam.problems(set(), allows)
    assert "no ecsundo calls were recorded" in nothing


def test_a_call_needs_its_action_and_what_its_parameters_hand_over() -> None:
    assert iam.needs("s3", "HeadObject", {}) == {"s3:GetObject"}
    assert iam.needs("tagging", "GetResources", {}) == {"tag:GetResources"}
    assert iam.needs("events", "ListTargetsByRule", {}) == {"events:ListTargetsByRule"}
    assert iam.needs("events", "PutTargets", {}) == {"events:PutTargets", "iam:PassRole"}
    # Application Auto Scaling makes a target-tracking policy's alarms as the caller.
    assert "cloudwatch:PutMetricAlarm" in iam.needs(
        "application-autoscaling", "PutScalingPolicy", {}
    )
    assert iam.needs("scheduler", "UpdateSchedule", {}) == {
        "scheduler:UpdateSchedule",
        "iam:PassRole",
    }
    assert iam.needs("kms", "VerifyMac", {"KeyId": "alias/snapshots"}) == {"kms:VerifyMac"}
    assert iam.needs("ecs", "RegisterTaskDefinition", {"tags": [{"key": "a", "value": "b"}]}) == {
        "ecs:RegisterTaskDefinition",
        "ecs:TagResource",
    }
    assert iam.needs("ecs", "RegisterTaskDefinition", {"executionRoleArn": "arn:role"}) == {
        "ecs:RegisterTaskDefinition",
        "iam:PassRole",
    }
