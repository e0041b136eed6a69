"""docs/iam-policy.json allows exactly what ecsundo calls: every operation the test suite
saw ecsundo make is allowed, and the policy allows nothing that went unused.

Runs last (see conftest.py), over the calls the rest of the suite recorded (tests/iam.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import iam

POLICY = json.loads((Path(__file__).resolve().parents[1] / "docs/iam-policy.json").read_text())
S3_ACTIONS = {
    "PutObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
}


def allowed() -> set[str]:
    actions: set[str] = set()
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def needs(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions one call needs."""
    if service == "s3":
        return {S3_ACTIONS[operation]}
    if service == "tagging":
        return {f"tag:{operation}"}
    assert service == "ecs", (service, operation)
    actions = {f"ecs:{operation}"}
    if operation == "RegisterTaskDefinition":
        if params.get("tags"):
            actions.add("ecs:TagResource")  # tags given at creation need it
        if params.get("taskRoleArn") or params.get("executionRoleArn"):
            actions.add("iam:PassRole")  # registering hands the roles to ECS tasks
    return actions


def test_policy_names_every_action_and_uses_no_wildcard() -> None:
    for action in allowed():
        assert "*" not in action and ":" in action, action
    passrole = next(s for s in POLICY["Statement"] if "iam:PassRole" in s["Action"])
    assert passrole["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert all("*" not in resource for resource in passrole["Resource"])


def test_policy_allows_exactly_what_the_suite_saw_ecsundo_call() -> None:
    # Not a skip: a check that quietly does not run is a check that passes.
    if not iam.USED:
        pytest.fail("no ecsundo calls were recorded: this check needs the whole suite (make test)")
    used = set().union(*(needs(*call) for call in iam.USED))
    assert used - allowed() == set(), "called but not allowed by docs/iam-policy.json"
    assert allowed() - used == set(), (
        "allowed by docs/iam-policy.json but never called (or a partial run: use make test)"
    )
