"""Read-only facts about target task definitions, gathered before planning.

For each task definition a service should end on: its status now, and, when it is no
longer ACTIVE, an earlier re-registration of the same body this tool made (found by its
provenance tag), so a second restore reuses it instead of adding yet another revision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecsundo_action.aws.arns import family_and_revision
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import TaskDefinition
from ecsundo_action.plan import PROVENANCE_TAG, TargetFacts

# At most this many tagged candidates are described: one per distinct body ecsundo
# registered for the original, which is a handful at most.
TAGGED_CANDIDATES = 8


def find_reregistration(gateway: EcsGateway, original: str, body: Mapping[str, Any]) -> str | None:
    """The newest ACTIVE revision that re-registered original with this exact body.

    Found by its provenance tag through the Resource Groups Tagging API: one call, and a
    describe per candidate, however long the family. Where that API cannot be asked, the
    family's ACTIVE revisions above the original are scanned, newest first (a
    re-registration always has a higher revision than its original).
    """
    family, revision = family_and_revision(original)
    tagged = gateway.task_definitions_tagged(PROVENANCE_TAG, original)
    if tagged is not None:
        newer = [arn for arn in tagged if _newer_of(arn, family, revision)]
        newest = sorted(newer, key=lambda a: family_and_revision(a)[1], reverse=True)
        candidates = newest[:TAGGED_CANDIDATES]
    else:
        candidates = [
            arn
            for arn in gateway.list_task_definitions(family, "ACTIVE", sort="DESC")
            if _newer_of(arn, family, revision)
        ]
    for arn in candidates:
        candidate = gateway.describe_task_definition(arn)
        if (
            candidate
            and candidate.status == "ACTIVE"
            and candidate.tag(PROVENANCE_TAG) == original
            and candidate.body == body
        ):
            return arn
    return None


def _newer_of(arn: str, family: str, revision: int) -> bool:
    try:
        their_family, their_revision = family_and_revision(arn)
    except ValueError:
        return False
    return their_family == family and their_revision > revision


def look_up_facts(
    gateway: EcsGateway, arn: str, body: Mapping[str, Any] | None, *, copy_only: bool = False
) -> TargetFacts:
    """Facts for one target, described now; body is the one a re-registration must carry.
    copy_only: the original itself will not do (its images are to be pinned), so look for
    a re-registration of body even when the original is ACTIVE."""
    found = gateway.describe_task_definition(arn)
    return facts_from(gateway, arn, found, body, copy_only=copy_only)


def facts_from(
    gateway: EcsGateway,
    arn: str,
    found: TaskDefinition | None,
    body: Mapping[str, Any] | None = None,
    *,
    copy_only: bool = False,
) -> TargetFacts:
    """Facts for one target already described (found; None when deleted): its status, and
    a reusable re-registration when it is not ACTIVE. Without a body, its own is used."""
    status = found.status if found else None
    if status == "ACTIVE" and not copy_only:
        return TargetFacts(status)
    body = body or (found.body if found else None)
    return TargetFacts(status, find_reregistration(gateway, arn, body) if body else None)
