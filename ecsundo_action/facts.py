"""Read-only facts about target task definitions, gathered before planning.

For each task definition a service should end on: its status now, and, when it is no
longer ACTIVE, an earlier re-registration of the same body this tool made (found by its
provenance tag), so a second restore reuses it instead of adding yet another revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .gateway import EcsGateway
from .plan import PROVENANCE_TAG, TargetFacts
from .resources import TaskDefinition, family_and_revision


def find_reregistration(gateway: EcsGateway, original: str, body: Mapping[str, Any]) -> str | None:
    """The newest ACTIVE revision that re-registered original with this exact body.

    A re-registration always has a higher revision than its original, so only those are
    looked at, newest first.
    """
    family, revision = family_and_revision(original)
    for arn in gateway.list_task_definitions(family, "ACTIVE", sort="DESC"):
        if family_and_revision(arn)[1] <= revision:
            break
        candidate = gateway.describe_task_definition(arn)
        if candidate and candidate.tag(PROVENANCE_TAG) == original and candidate.body == body:
            return arn
    return None


_UNKNOWN: Any = object()


def facts_for(
    gateway: EcsGateway,
    arn: str,
    body: Mapping[str, Any] | None,
    described: TaskDefinition | None = _UNKNOWN,
) -> TargetFacts:
    """Facts for one target: its status, and a reusable re-registration when not ACTIVE.

    body is the one to look for (None when unknown: then the target's own is used, if it
    can still be described); described spares the DescribeTaskDefinition when already done.
    """
    found = gateway.describe_task_definition(arn) if described is _UNKNOWN else described
    status = found.status if found else None
    if status == "ACTIVE":
        return TargetFacts(status)
    body = body or (found.body if found else None)
    return TargetFacts(status, find_reregistration(gateway, arn, body) if body else None)


def target_facts(
    gateway: EcsGateway,
    bodies: Mapping[str, Mapping[str, Any] | None],
    described: Mapping[str, TaskDefinition | None] | None = None,
) -> dict[str, TargetFacts]:
    """Facts for each target ARN (see facts_for), gathered concurrently."""
    known = described or {}

    def one(arn: str) -> TargetFacts:
        return facts_for(gateway, arn, bodies[arn], known.get(arn, _UNKNOWN))

    return dict(zip(bodies, gateway.map(one, list(bodies)), strict=True))
