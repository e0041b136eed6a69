"""Restore: put every selected service back on the task definition its snapshot names.

Read the snapshot and the cluster; then, in one loop in one thread, as each target's facts
arrive (its status, an earlier re-registration to reuse), decide the steps of the services
that need it with the pure `plan_service` and start them at once, so the first
re-registration (1/s) begins while other targets are still being read. A dry run goes
through the same loop and starts nothing. A service already on its snapshot task definition
is not touched; one deleted since is reported missing while the others still restore.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Future, as_completed
from dataclasses import replace
from datetime import UTC, datetime

from . import selection
from .apply import Applier, ApplyOptions, dry_run_results
from .document import ServiceRecord, Snapshot
from .errors import reason
from .facts import facts_for
from .gateway import EcsGateway
from .plan import (
    ACTIVE,
    Action,
    Plan,
    Registration,
    Step,
    TargetFacts,
    missing_step,
    plan_step,
    skip_step,
)
from .report import plan_text, plan_title, plural, provenance
from .request import Request
from .resources import Service, short_name
from .result import Outcome
from .stores import LATEST, Store
from .work import Work


def plan_service(
    snapshot: Snapshot,
    record: ServiceRecord,
    service: Service | None,
    facts: TargetFacts,
    restore_desired_count: bool = False,
) -> tuple[Step, Registration | None]:
    """Pure: the step one snapshot service needs, and the registration it may need."""
    target = record.task_definition
    if service is None:
        return missing_step(record.name, target), None
    step = plan_step(
        service,
        target,
        facts,
        can_register=True,
        desired_count=record.desired_count if restore_desired_count else None,
    )
    if scaled_to_zero(record, service, restore_desired_count):
        note = f"0 tasks desired, {record.desired_count} in the snapshot"
        step = replace(step, reason=f"{step.reason}; {note}" if step.reason else note)
    if step.action != Action.REREGISTER:
        return step, None
    kept = snapshot.kept(target)
    return step, Registration(target, kept.body, kept.tags)


def scaled_to_zero(record: ServiceRecord, service: Service, restore_desired_count: bool) -> bool:
    """A deploy scaled the service to 0 and this restore will not put the count back."""
    return (
        not restore_desired_count
        and not service.daemon
        and service.desired_count == 0
        and record.desired_count > 0
    )


def _warnings(
    cluster: str,
    snapshot: Snapshot,
    uncovered: list[str],
    current: dict[str, Service],
    restore_desired_count: bool,
) -> list[str]:
    """What a person should know before trusting a "success": services the snapshot does
    not hold, and services a deploy scaled to 0 that this restore will leave at 0."""
    warnings = []
    if uncovered:
        warnings.append(
            f"{plural(len(uncovered), 'service')} of cluster {cluster} not in snapshot "
            f"{snapshot.id}, left as they are: {', '.join(uncovered)}"
        )
    for name, service in current.items():
        record = snapshot.service(name)
        if record and scaled_to_zero(record, service, restore_desired_count):
            warnings.append(
                f"{name} has 0 tasks desired (the snapshot had {record.desired_count}): "
                "restore-desired-count (--restore-desired-count) puts the count back"
            )
    return warnings


def restore(
    gateway: EcsGateway, work: Work, store: Store, request: Request, apply: ApplyOptions
) -> Outcome:
    """Restore request.snapshot_id (an id or LATEST) of request.cluster."""
    progress = apply.progress
    cluster, patterns, dry_run = request.cluster, request.services, request.dry_run
    restore_desired_count = request.restore_desired_count
    where = gateway.describe_cluster(cluster)
    snapshot = store.load(where, request.snapshot_id or LATEST)
    progress.phase(f"Read snapshot {snapshot.id} of cluster {where.name}")
    progress.note(provenance(snapshot, datetime.now(UTC)))
    records = {s.name: s for s in snapshot.services}
    chosen = selection.select(list(records), patterns, f"snapshot {snapshot.id}")
    # Services the selection takes that the snapshot never saw are left as they are: say so.
    in_cluster = sorted(short_name(arn) for arn in gateway.list_service_arns(where.arn))
    uncovered = [n for n in selection.pick(in_cluster, patterns) if n not in records]
    found, _ = gateway.describe_services(where.arn, chosen, work.map)  # the rest: missing
    current = {s.name: s for s in found}
    warnings = _warnings(where.name, snapshot, uncovered, current, restore_desired_count)
    for line in warnings:
        progress.note(f"warning: {line}")

    # Facts are needed only for targets a service is not already on.
    waiting: dict[str, list[str]] = defaultdict(list)  # target ARN -> services going there
    for name in chosen:
        service = current.get(name)
        if service is not None and service.task_definition != records[name].task_definition:
            waiting[records[name].task_definition].append(name)

    plan = Plan(where.arn)
    applier = Applier(gateway, work, plan, apply)

    def take(step: Step, registration: Registration | None) -> None:
        plan.add(step, registration)
        if step.changes and not dry_run:
            applier.start(step)

    lookups: dict[Future[TargetFacts], str] = {
        work.submit(facts_for, gateway, target, snapshot.kept(target).body): target
        for target in waiting
    }
    for name in chosen:
        service = current.get(name)
        if service is None or service.task_definition == records[name].task_definition:
            take(*plan_service(snapshot, records[name], service, ACTIVE, restore_desired_count))
    for done in as_completed(lookups):
        target = lookups[done]
        for name in waiting[target]:
            try:
                step, registration = plan_service(
                    snapshot, records[name], current[name], done.result(), restore_desired_count
                )
            except Exception as exc:  # this service is left alone; the others go on
                step = skip_step(current[name], target, f"not restored: {reason(exc)}")
                registration = None
            take(step, registration)
    plan.order(chosen)
    progress.phase(plan_title(plan, dry_run))
    progress.note(plan_text(plan))

    return Outcome(
        "restore",
        where.name,
        dry_run_results(plan) if dry_run else applier.finish(),
        dry_run=dry_run,
        snapshot=snapshot,
        snapshot_uri=store.location(store.key(where, snapshot.id)),
        plan=plan,
        store=store.uri,
        uncovered=uncovered,
        warnings=warnings,
    )
