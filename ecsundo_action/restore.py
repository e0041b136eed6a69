"""Restore: put every selected service back on the task definition its snapshot names.

Read the snapshot and the cluster, plan (pure), then apply. A service already on its
snapshot task definition is not touched; one deleted since is reported missing while
the others still restore; a target no longer ACTIVE is re-registered from the snapshot
(or an earlier re-registration of it is reused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import document as doc
from . import selection
from .apply import ApplyOptions, apply_plan, dry_run_results
from .facts import target_facts
from .gateway import EcsGateway
from .plan import Action, Plan, Registration, TargetFacts, missing_step, plan_step
from .resources import Cluster
from .result import RunResult
from .stores import Store, check_snapshot_id

LATEST = "latest"


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


def plan_restore(
    document: doc.Document,
    chosen: list[str],
    current: dict[str, dict[str, Any]],
    facts: dict[str, TargetFacts],
    *,
    restore_desired_count: bool = False,
) -> Plan:
    """What each chosen snapshot service needs: pure, from facts gathered beforehand."""
    recorded = {s["name"]: s for s in document["services"]}
    plan = Plan(document["cluster"]["arn"])
    for name in chosen:
        record = recorded[name]
        target = record["taskDefinition"]
        service = current.get(name)
        if service is None:
            plan.steps.append(missing_step(name, target))
            continue
        step = plan_step(
            service,
            target,
            facts.get(target, TargetFacts("ACTIVE")),
            can_register=True,
            desired_count=record["desiredCount"] if restore_desired_count else None,
        )
        plan.steps.append(step)
        if step.action == Action.REREGISTER and target not in plan.registrations:
            kept = document["taskDefinitions"][target]
            plan.registrations[target] = Registration(target, kept["body"], kept["tags"])
    return plan


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

    recorded = {s["name"]: s["taskDefinition"] for s in document["services"]}
    bodies = {
        recorded[name]: document["taskDefinitions"][recorded[name]]["body"]
        for name, service in current.items()
        if service["taskDefinition"] != recorded[name]
    }
    facts = target_facts(gateway, bodies) if bodies else {}
    plan = plan_restore(
        document, chosen, current, facts, restore_desired_count=options.restore_desired_count
    )

    result = RunResult(
        "restore",
        where.name,
        dry_run=options.dry_run,
        snapshot_id=document["id"],
        snapshot_uri=store.location(store.key(where, document["id"])),
        plan=plan,
    )
    result.services = (
        dry_run_results(plan) if options.dry_run else apply_plan(gateway, plan, options.apply)
    )
    return result
