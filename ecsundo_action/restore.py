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
from .report import plural
from .resources import Service
from .result import Outcome
from .stores import Store
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
    if step.action != Action.REREGISTER:
        return step, None
    kept = snapshot.kept(target)
    return step, Registration(target, kept.body, kept.tags)


def restore(
    gateway: EcsGateway,
    work: Work,
    store: Store,
    cluster: str,
    *,
    snapshot_id: str,
    patterns: tuple[str, ...] | None = None,
    restore_desired_count: bool = False,
    dry_run: bool = False,
    apply: ApplyOptions | None = None,
) -> Outcome:
    apply = apply or ApplyOptions()
    where = gateway.describe_cluster(cluster)
    snapshot = store.load(where, snapshot_id)
    records = {s.name: s for s in snapshot.services}
    chosen = selection.select(list(records), patterns, f"snapshot {snapshot.id}")
    found, _missing = gateway.describe_services(where.arn, chosen, work.map)
    current = {s.name: s for s in found}

    # Facts are needed only for targets a service is not already on.
    waiting: dict[str, list[str]] = defaultdict(list)  # target ARN -> services going there
    for name in chosen:
        service = current.get(name)
        if service is not None and service.task_definition != records[name].task_definition:
            waiting[records[name].task_definition].append(name)
    if waiting and not dry_run:
        count = sum(len(names) for names in waiting.values())
        apply.progress(f"Restore {plural(count, 'service')} from the snapshot")

    plan = Plan(where.arn)
    applier = Applier(gateway, work, plan, apply)

    def take(step: Step, registration: Registration | None) -> None:
        plan.add(step, registration)
        if step.changes and not dry_run:
            applier.start(step)

    for name in chosen:
        service = current.get(name)
        if service is None or service.task_definition == records[name].task_definition:
            take(*plan_service(snapshot, records[name], service, ACTIVE, restore_desired_count))
    lookups: dict[Future[TargetFacts], str] = {
        work.submit(facts_for, gateway, target, snapshot.kept(target).body): target
        for target in waiting
    }
    for done in as_completed(lookups):
        target = lookups[done]
        for name in waiting[target]:
            try:
                step, registration = plan_service(
                    snapshot, records[name], current[name], done.result(), restore_desired_count
                )
            except Exception as exc:  # this service is left alone; the others go on
                step, registration = (
                    skip_step(current[name], target, f"not restored: {reason(exc)}"),
                    None,
                )
            take(step, registration)
    plan.order(chosen)

    return Outcome(
        "restore",
        where.name,
        dry_run_results(plan) if dry_run else applier.finish(),
        dry_run=dry_run,
        snapshot=snapshot,
        snapshot_uri=store.location(store.key(where, snapshot.id)),
        plan=plan,
        store=store.uri,
    )
