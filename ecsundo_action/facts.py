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


def target_facts(
    gateway: EcsGateway,
    bodies: Mapping[str, Mapping[str, Any] | None],
    described: Mapping[str, TaskDefinition | None] | None = None,
) -> dict[str, TargetFacts]:
    """Facts for each target ARN; bodies holds the body to look for (None when unknown).

    described may carry task definitions already described, so none is described twice.
    """
    known = dict(described or {})
    known.update(gateway.describe_task_definitions(a for a in bodies if a not in known))
    described = {arn: known[arn] for arn in bodies}

    def facts(arn: str) -> TargetFacts:
        found = described[arn]
        status = found.status if found else None
        if status == "ACTIVE":
            return TargetFacts(status)
        body = bodies[arn] or (found.body if found else None)
        return TargetFacts(status, find_reregistration(gateway, arn, body) if body else None)

    return dict(zip(described, gateway.map(facts, list(described)), strict=True))
