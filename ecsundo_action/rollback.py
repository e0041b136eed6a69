"""Rollback without a snapshot: each selected service goes back to what it ran before.

"Before" comes from ECS's service-deployment history when it can be read: the newest
deployment that put the current task definition in place names what ran before it.
Where that API is not available, it is the newest lower revision of the family whose
containers differ from the current ones, skipping this tool's own re-registrations and
counting a re-registration as the revision it recreates (so rolling back twice steps
further back instead of returning to the bad revision, as the original tool did).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import selection
from .apply import ApplyOptions, apply_plan, dry_run_results
from .facts import target_facts
from .gateway import HISTORY_BATCH, EcsGateway, HistoryUnavailable
from .plan import PROVENANCE_TAG, Action, Plan, Registration, Step, plan_step
from .resources import TaskDefinition, family_and_revision, short_name
from .result import RunResult


@dataclass(frozen=True)
class RollbackOptions:
    patterns: list[str] | None = None
    # Only services whose current deployment started this recently ("the ones the deploy
    # changed"); None takes every selected service.
    changed_within_minutes: float | None = None
    dry_run: bool = False
    apply: ApplyOptions = field(default_factory=ApplyOptions)


@dataclass(frozen=True)
class Previous:
    arn: str | None
    source: str  # where the answer came from, for the report


def _effective(arn: str, described: TaskDefinition | None) -> tuple[str, str, int]:
    """(the ARN it stands for, family, revision): a re-registration stands for its original."""
    original = described.tag(PROVENANCE_TAG) if described else None
    stands_for = original or arn
    family, revision = family_and_revision(stands_for)
    return stands_for, family, revision


def previous_from_history(
    gateway: EcsGateway,
    cluster_arn: str,
    service: dict[str, Any],
    current_td: TaskDefinition | None = None,
) -> str | None:
    """What ran before the current task definition, per ECS's deployment history.

    A later revision of the same family is never "before" (after a rollback from B to A,
    the history's newest deployment has source B: rolling back again must not return to B),
    and a re-registration counts as the revision it recreates.
    """
    current = service["taskDefinition"]
    original, family, revision = _effective(current, current_td)
    same = {current, original}

    def earlier(arn: str) -> bool:
        their_family, their_revision = family_and_revision(arn)
        return arn not in same and (their_family != family or their_revision < revision)

    briefs = gateway.list_service_deployments(cluster_arn, service["serviceArn"])
    if not briefs:
        return None
    deployments = gateway.describe_service_deployments(
        [b["serviceDeploymentArn"] for b in briefs[:HISTORY_BATCH]]
    )
    deployments.sort(key=lambda d: d.get("createdAt") or d.get("startedAt") or 0, reverse=True)
    revisions = [
        arn
        for d in deployments
        for arn in [d.get("targetServiceRevision", {}).get("arn")]
        + [s.get("arn") for s in d.get("sourceServiceRevisions", [])]
        if arn
    ]
    runs = gateway.describe_service_revisions(revisions)
    for deployment in deployments:
        if runs.get(deployment.get("targetServiceRevision", {}).get("arn", "")) not in same:
            continue
        for source in deployment.get("sourceServiceRevisions", []):
            before = runs.get(source.get("arn", ""))
            if before and earlier(before):
                return before
    return None


def previous_from_revisions(gateway: EcsGateway, current: TaskDefinition) -> TaskDefinition | None:
    """The newest lower revision whose containers differ from the current ones."""
    family, revision = family_and_revision(current.arn)
    recreated = current.tag(PROVENANCE_TAG)
    if recreated:
        recreated_family, recreated_revision = family_and_revision(recreated)
        if recreated_family == family:
            revision = recreated_revision
    candidates = sorted(
        {
            arn
            for status in ("ACTIVE", "INACTIVE")
            for arn in gateway.list_task_definitions(family, status, sort="DESC")
            if family_and_revision(arn)[1] < revision
        },
        key=lambda arn: family_and_revision(arn)[1],
        reverse=True,
    )
    for arn in candidates:
        candidate = gateway.describe_task_definition(arn)
        if candidate is None or candidate.tag(PROVENANCE_TAG):
            continue
        if candidate.body.get("containerDefinitions") != current.body.get("containerDefinitions"):
            return candidate
    return None


def _recent(service: dict[str, Any], minutes: float, now: datetime) -> bool:
    primary = next(
        (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None
    )
    created = primary.get("createdAt") if primary else None
    return isinstance(created, datetime) and created >= now - timedelta(minutes=minutes)


def plan_rollback(
    cluster_arn: str,
    services: list[dict[str, Any]],
    previous: dict[str, Previous],
    facts: dict[str, Any],
    described: dict[str, TaskDefinition | None],
    left_alone: dict[str, str],
) -> Plan:
    """Pure: one step per service, from the previous task definitions found."""
    plan = Plan(cluster_arn)
    for service in services:
        name = service["serviceName"]
        if name in left_alone:
            plan.add(
                Step(
                    name,
                    service["serviceArn"],
                    Action.UNCHANGED,
                    service["taskDefinition"],
                    service["taskDefinition"],
                    reason=left_alone[name],
                )
            )
            continue
        found = previous[name]
        if found.arn is None:
            plan.add(
                Step(
                    name,
                    service["serviceArn"],
                    Action.SKIP,
                    service["taskDefinition"],
                    None,
                    reason=f"no earlier task definition ({found.source})",
                )
            )
            continue
        kept = described.get(found.arn)
        step = plan_step(
            service,
            found.arn,
            facts[found.arn],
            can_register=kept is not None,
            why=f"previous per {found.source}",
        )
        needs = step.action == Action.REREGISTER and kept is not None
        plan.add(step, Registration(found.arn, kept.body, kept.tags) if needs else None)
    return plan


def rollback(gateway: EcsGateway, cluster: str, options: RollbackOptions) -> RunResult:
    where = gateway.describe_cluster(cluster)
    names = sorted(short_name(a) for a in gateway.list_service_arns(where.arn))
    chosen = selection.select(names, options.patterns, f"cluster {where.name!r}")
    services, _gone = gateway.describe_services(where.arn, chosen)
    services.sort(key=lambda s: s["serviceName"])

    left_alone: dict[str, str] = {}
    if options.changed_within_minutes is not None:
        now = datetime.now(UTC)
        for s in services:
            if not _recent(s, options.changed_within_minutes, now):
                left_alone[s["serviceName"]] = (
                    f"not deployed in the last {options.changed_within_minutes:g} minutes"
                )
    acting = [s for s in services if s["serviceName"] not in left_alone]

    previous: dict[str, Previous] = {}
    described: dict[str, TaskDefinition | None] = {}
    history = True
    for service in acting:
        name = service["serviceName"]
        current = gateway.describe_task_definition(service["taskDefinition"])
        if history:
            try:
                arn = previous_from_history(gateway, where.arn, service, current)
                if arn:
                    previous[name] = Previous(arn, "deployment history")
                    continue
                # History kept nothing earlier (it ages out): the revisions may still tell.
            except HistoryUnavailable:
                history = False  # the same for every service: stop asking
        before = previous_from_revisions(gateway, current) if current else None
        if before is not None:
            described[before.arn] = before
        previous[name] = Previous(before.arn if before else None, "task-definition revisions")

    # INACTIVE targets are still describable: their body is what gets registered again.
    targets = [p.arn for p in previous.values() if p.arn]
    described.update(gateway.describe_task_definitions(a for a in targets if a not in described))
    bodies = {arn: found.body if (found := described[arn]) else None for arn in targets}
    facts = target_facts(gateway, bodies, described) if bodies else {}
    plan = plan_rollback(where.arn, services, previous, facts, described, left_alone)
    result = RunResult("rollback", where.name, dry_run=options.dry_run, plan=plan)
    result.services = (
        dry_run_results(plan) if options.dry_run else apply_plan(gateway, plan, options.apply)
    )
    return result
