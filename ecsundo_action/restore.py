"""Restore: put every selected service back on the task definition its snapshot names.

Read the snapshot and the cluster, plan (pure), then apply. A service already on its
snapshot task definition is not touched; one deleted since is reported missing while
the others still restore; a target no longer ACTIVE is re-registered from the snapshot
(or an earlier re-registration of it is reused).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import document as doc
from . import selection
from .apply import Applier, ApplyOptions, dry_run_results, in_plan_order
from .errors import EcsundoError
from .facts import facts_for
from .gateway import EcsGateway
from .plan import Action, Plan, Registration, Step, TargetFacts, missing_step, plan_step
from .resources import Cluster
from .result import RunResult, ServiceResult
from .stores import Store, check_snapshot_id

LATEST = "latest"
ACTIVE = TargetFacts("ACTIVE")  # what a service already on its target needs to know


@dataclass(frozen=True)
class RestoreOptions:
    snapshot_id: str = LATEST
    patterns: list[str] | None = None
    restore_desired_count: bool = False
    dry_run: bool = False
    apply: ApplyOptions = field(default_factory=ApplyOptions)


def load(store: Store, cluster: Cluster, snapshot_id: str) -> doc.Document:
    if snapshot_id == LATEST:
        return store.latest(cluster)
    return store.get(cluster, snapshot_id)


def plan_service(
    document: doc.Document,
    record: dict[str, Any],
    service: dict[str, Any] | None,
    facts: TargetFacts,
    restore_desired_count: bool = False,
) -> tuple[Step, Registration | None]:
    """Pure: the step one snapshot service needs, and the registration it may need."""
    target = record["taskDefinition"]
    if service is None:
        return missing_step(record["name"], target), None
    step = plan_step(
        service,
        target,
        facts,
        can_register=True,
        desired_count=record["desiredCount"] if restore_desired_count else None,
    )
    if step.action != Action.REREGISTER:
        return step, None
    kept = document["taskDefinitions"][target]
    return step, Registration(target, kept["body"], kept["tags"])


def plan_restore(
    document: doc.Document,
    chosen: list[str],
    current: dict[str, dict[str, Any]],
    facts: dict[str, TargetFacts],
    *,
    restore_desired_count: bool = False,
) -> Plan:
    """What each chosen snapshot service needs: pure, from facts gathered beforehand."""
    records = {s["name"]: s for s in document["services"]}
    plan = Plan(document["cluster"]["arn"])
    for name in chosen:
        record = records[name]
        step, registration = plan_service(
            document,
            record,
            current.get(name),
            facts.get(record["taskDefinition"], ACTIVE),
            restore_desired_count,
        )
        plan.add(step, registration)
    return plan


def _as_facts_arrive(
    gateway: EcsGateway,
    document: doc.Document,
    chosen: list[str],
    current: dict[str, dict[str, Any]],
    bodies: dict[str, Any],
    options: RestoreOptions,
) -> tuple[Plan, list[ServiceResult]]:
    """Plan each service the moment its target's facts are in, and (unless this is a dry
    run) start it at once.

    The same pure plan_service decides each step as plan_restore would, for a dry run and
    a real one alike; only the timing differs: the first re-registration starts while other
    targets are still being described, so RegisterTaskDefinition's slow quota never idles.
    """
    records = {s["name"]: s for s in document["services"]}
    applier = Applier(gateway, document["cluster"]["arn"], options.apply)
    facts = {arn: gateway.submit(facts_for, gateway, arn, body) for arn, body in bodies.items()}

    def begin(
        name: str, found: TargetFacts
    ) -> tuple[Step, Registration | None, Future[Any] | None]:
        step, registration = plan_service(
            document, records[name], current.get(name), found, options.restore_desired_count
        )
        go = step.changes and not options.dry_run
        return step, registration, applier.start(step, registration) if go else None

    started = {
        # Planning a step and starting it is quick: done in the thread that got its facts.
        name: gateway.then(
            facts[records[name]["taskDefinition"]], partial(begin, name), inline=True
        )
        if name in current and records[name]["taskDefinition"] in facts
        else _done(begin(name, ACTIVE))
        for name in chosen
    }
    plan = Plan(document["cluster"]["arn"])
    updated: list[ServiceResult] = []
    for name in chosen:
        try:
            step, registration, running = started[name].result()
        except EcsundoError as exc:  # its target could not be read: this one is not touched
            service = current[name]
            step = Step(
                name,
                service["serviceArn"],
                Action.SKIP,
                service["taskDefinition"],
                records[name]["taskDefinition"],
                reason=f"not restored: {exc}",
            )
            registration = running = None
        plan.add(step, registration)
        if running is not None:
            updated.append(running.result())
    if options.dry_run:
        return plan, dry_run_results(plan)
    return plan, in_plan_order(plan, applier.finish(plan.changing, updated))


def _done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def restore(gateway: EcsGateway, store: Store, cluster: str, options: RestoreOptions) -> RunResult:
    if options.snapshot_id != LATEST:
        check_snapshot_id(options.snapshot_id)
    where = gateway.describe_cluster(cluster)
    document = load(store, where, options.snapshot_id)
    chosen = selection.select(
        [s["name"] for s in document["services"]],
        options.patterns,
        f"snapshot {document['id']}",
    )
    found, _missing = gateway.describe_services(where.arn, chosen)
    current = {s["serviceName"]: s for s in found}

    # Facts are needed only for targets a service is not already on.
    recorded = {s["name"]: s["taskDefinition"] for s in document["services"]}
    bodies = {
        recorded[name]: document["taskDefinitions"][recorded[name]]["body"]
        for name, service in current.items()
        if service["taskDefinition"] != recorded[name]
    }
    if bodies and not options.dry_run:
        options.apply.progress(f"Restore the {len(bodies)} task definitions services are not on")
    plan, services = _as_facts_arrive(gateway, document, chosen, current, bodies, options)
    result = RunResult(
        "restore",
        where.name,
        dry_run=options.dry_run,
        snapshot_id=document["id"],
        snapshot_uri=store.location(store.key(where, document["id"])),
        plan=plan,
    )
    result.services = services
    return result
