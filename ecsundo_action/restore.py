"""Restore: put every selected service back on the task definition its snapshot names.

Read the snapshot; then read its services 10 at a time and, in one loop in one thread, as
each batch and each target's facts arrive (its status, an earlier re-registration to
reuse), decide the steps of the services that need it with the pure `plan_service` and
start them at once, so the first change begins while other services are still being read.
A dry run goes through the same loop and starts nothing. A service already on its snapshot
task definition is not touched; one deleted since is reported missing while the others
still restore.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from threading import Event

from . import selection
from .apply import Applier, ApplyOptions, dry_run_results
from .document import ServiceRecord, Snapshot, prepare
from .errors import EcsundoError, reason
from .facts import facts_for
from .gateway import DESCRIBE_SERVICES_BATCH, EcsGateway, chunks
from .plan import (
    ACTIVE,
    Action,
    Cause,
    PinImages,
    Plan,
    Registration,
    Scope,
    Step,
    TargetFacts,
    Want,
    missing_step,
    plan_step,
    skip_step,
    stop_step,
    want_of,
)
from .progress import Progress
from .report import plan_text, plan_title, plural, provenance
from .request import Mode, Request
from .resources import (
    Service,
    ServiceDeployment,
    ServiceRevision,
    images_of,
    running_revision,
    short_name,
)
from .result import Outcome
from .stores import LATEST, Store
from .work import Flow, Work

# How to roll back a service ECS does not deploy itself.
CONTROLLED_ELSEWHERE = {
    "CODE_DEPLOY": (
        Cause.CODE_DEPLOY,
        "skipped: CodeDeploy deploys this service; roll it back there (stop the "
        "deployment with auto-rollback, or deploy the earlier revision through CodeDeploy)",
    ),
    "EXTERNAL": (
        Cause.TASK_SETS,
        "skipped: its task sets deploy it (EXTERNAL controller); create a task set "
        "with the earlier task definition and make it the primary one",
    ),
}


def want(
    snapshot: Snapshot,
    record: ServiceRecord,
    running: ServiceRevision | None,
    *,
    scope: Scope,
    pin_images: PinImages,
) -> Want:
    """Pure: what one snapshot service needs, given the revision it runs now (None: unknown)."""
    assert record.task_definition is not None
    kept = snapshot.kept(record.task_definition)
    return want_of(
        record.task_definition,
        kept.body,
        kept.tags,
        record.images,
        record.settings,
        running,
        scope=scope,
        pin_images=pin_images,
    )


def plan_service(
    record: ServiceRecord,
    service: Service | None,
    facts: TargetFacts,
    wanted: Want | None,
    *,
    restore_desired_count: bool = False,
    named: bool = False,
) -> tuple[Step, Registration | None]:
    """Pure: the step one snapshot service needs, and the registration it may need."""
    target = record.task_definition
    if service is None:
        return missing_step(record.name, target), None
    if service.status != "ACTIVE":
        return missing_step(record.name, target, service.status), None
    controller = record.controller if record.controller != "ECS" else service.controller
    if controller != "ECS" or wanted is None:
        cause, how = CONTROLLED_ELSEWHERE.get(
            controller, (Cause.NO_TARGET, "skipped: no task definition to restore")
        )
        # Named explicitly, it was asked for and could not be done: that is a failure.
        action = Action.SKIP if named else Action.SKIPPED
        return Step(
            record.name,
            service.arn,
            action,
            service.task_definition,
            target,
            reason=how,
            cause=cause,
        ), None
    step = plan_step(
        service,
        wanted.target,
        facts,
        can_register=True,
        desired_count=record.desired_count if restore_desired_count else None,
        why="; ".join(wanted.notes),
        pinned=wanted.pinned,
        settings=wanted.settings,
        expect=wanted.expect,
    )
    if scaled_to_zero(record, service, restore_desired_count):
        note = f"0 tasks desired, {record.desired_count} in the snapshot"
        step = replace(step, reason=f"{step.reason}; {note}" if step.reason else note)
    if step.action != Action.REREGISTER:
        return step, None
    return step, Registration(wanted.target, wanted.body, wanted.tags)


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
    records: Mapping[str, ServiceRecord],
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
        record = records[name]
        if scaled_to_zero(record, service, restore_desired_count):
            warnings.append(
                f"{name} has 0 tasks desired (the snapshot had {record.desired_count}): "
                "restore-desired-count (--restore-desired-count) puts the count back"
            )
    return warnings


# What may be read of the services besides DescribeServices; either can be refused (or be
# unavailable in the Region) without ending the restore.
DEPLOYMENTS, REVISIONS = "deployments", "revisions"
_CANNOT = {
    DEPLOYMENTS: "in-flight deployments cannot be read ({}): none is stopped",
    REVISIONS: "service revisions cannot be read ({}): no pins, no settings",
}


@dataclass
class _Seen:
    """One batch of services as they are now, and what runs in them."""

    services: dict[str, Service]
    in_flight: dict[str, ServiceDeployment]  # deployments ECS can still roll back itself
    revisions: dict[str, ServiceRevision]  # running now, and replaced by those in flight
    refused: dict[str, str]  # DEPLOYMENTS / REVISIONS that could not be read: why


def _see(
    gateway: EcsGateway, cluster_arn: str, names: Sequence[str], request: Request, ask: set[str]
) -> _Seen:
    """Read up to 10 services and, of what `ask` names, their in-flight deployments and
    running revisions. A refused DescribeServices raises; the others are only noted."""
    found, _ = gateway.describe_services(cluster_arn, names)  # the rest: missing
    seen = _Seen({s.name: s for s in found}, {}, {}, {})
    flying = [
        s.current_deployment
        for s in found
        if s.controller == "ECS"
        and s.current_deployment
        and s.primary
        and s.primary.rollout_state == "IN_PROGRESS"
    ]
    if flying and DEPLOYMENTS in ask:
        try:
            for deployment in gateway.describe_service_deployments(flying):
                seen.in_flight[short_name(deployment.service_arn)] = deployment
        except EcsundoError as exc:
            seen.refused[DEPLOYMENTS] = reason(exc)
    wanted = (
        request.pin_images != PinImages.NEVER or request.scope == Scope.SERVICE or seen.in_flight
    )
    if wanted and REVISIONS in ask:
        arns = [arn for s in found for arn in s.current_revisions]
        arns += [arn for d in seen.in_flight.values() for arn in d.sources]
        try:
            seen.revisions = gateway.describe_service_revisions(arns)
        except EcsundoError as exc:
            seen.refused[REVISIONS] = reason(exc)
    return seen


def _listing(gateway: EcsGateway, cluster_arn: str, stopped: Event) -> list[str]:
    """The cluster's service ARNs; the pages stop coming once the run is stopping, so that
    an early error (an unknown snapshot id) does not wait for a long listing."""
    arns: list[str] = []
    for page in gateway.service_arn_pages(cluster_arn):
        if stopped.is_set():
            break
        arns += page
    return arns


class _Restoring:
    """The steps of one restore, decided on one thread as the reads come in: each batch of
    10 services as soon as it is read, each target's facts (shared by the services that want
    the same body) as soon as they arrive; each step that changes something starts at once,
    while later batches are still being read."""

    def __init__(
        self,
        gateway: EcsGateway,
        work: Work,
        request: Request,
        snapshot: Snapshot,
        chosen: list[str],
        listing: Future[list[str]],
        applier: Applier,
        plan: Plan,
        progress: Progress,
    ) -> None:
        self.gateway, self.work, self.request, self.snapshot = gateway, work, request, snapshot
        self.listing, self.applier, self.plan, self.progress = listing, applier, plan, progress
        self.records = {s.name: s for s in snapshot.services}
        self.named = {p for p in request.services or () if not selection.is_pattern(p)}
        self.batches = chunks(chosen, DESCRIBE_SERVICES_BATCH)
        self.flow = Flow(work)
        self.current: dict[str, Service] = {}
        self.in_flight: dict[str, ServiceDeployment] = {}
        self.revisions: dict[str, ServiceRevision] = {}
        self.ask = {DEPLOYMENTS, REVISIONS}  # once refused, not asked again
        self.wants: dict[str, Want] = {}
        self.facts: dict[tuple[str, str], Future[TargetFacts]] = {}
        self.waiting: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.changing = False  # a change has been started

    def run(self) -> None:
        for _ in range(self.work.concurrency):
            self.read_next()
        self.flow.run()

    def read_next(self) -> None:
        names = next(self.batches, None)
        if names is not None:
            cluster_arn, ask = self.plan.cluster_arn, set(self.ask)
            read = partial(_see, self.gateway, cluster_arn, names, self.request, ask)
            self.flow.start(partial(self.on_read, names), read)

    def on_read(self, names: Sequence[str], done: Future[_Seen]) -> None:
        try:
            seen = done.result()
        except EcsundoError as exc:
            if not self.changing:
                raise  # nothing changed yet: a refused read ends the run, as it always has
            # Changes are under way and each must end as a row: these services are not
            # restored, and say why; the others go on.
            for name in names:
                why = f"not restored: it could not be read ({reason(exc)})"
                target = self.records[name].task_definition
                self.take(Step(name, None, Action.SKIP, None, target, reason=why), None)
            self.read_next()
            return
        self.current.update(seen.services)
        self.in_flight.update(seen.in_flight)
        self.revisions.update(seen.revisions)
        for kind, why in seen.refused.items():
            if kind in self.ask:
                self.ask.discard(kind)
                self.progress.note(_CANNOT[kind].format(why))
        for name in names:
            self.decide(name)
        self.read_next()  # after this batch's lookups, so that they do not queue behind it

    def decide(self, name: str) -> None:
        record, service = self.records[name], self.current.get(name)
        request = self.request
        if (
            service is not None
            and service.status == "ACTIVE"
            and service.controller == "ECS"
            and record.controller == "ECS"
            and record.task_definition is not None
        ):
            self.wants[name] = want(
                self.snapshot,
                record,
                running_revision(service, self.revisions),
                scope=request.scope,
                pin_images=request.pin_images,
            )
        wanted = self.wants.get(name)
        if (
            not wanted
            or service is None
            or not (wanted.pinned or service.task_definition != wanted.target)
        ):
            step = plan_service(
                record,
                service,
                ACTIVE,
                wanted,
                restore_desired_count=request.restore_desired_count,
                named=name in self.named,
            )
            self.take(*step)
            return
        # Facts are needed only where a service is not already on what it should run.
        key = wanted.key
        self.waiting[key].append(name)
        if key not in self.facts:
            lookup = partial(facts_for, self.gateway, wanted.target, wanted.body)
            self.facts[key] = self.flow.start(
                partial(self.on_facts, key), partial(lookup, copy_only=wanted.pinned)
            )
        elif not self.flow.pending(self.facts[key]):  # already looked up
            self.on_facts(key, self.facts[key])

    def on_facts(self, key: tuple[str, str], done: Future[TargetFacts]) -> None:
        for name in self.waiting.pop(key, []):
            try:
                step, registration = plan_service(
                    self.records[name],
                    self.current[name],
                    done.result(),
                    self.wants[name],
                    restore_desired_count=self.request.restore_desired_count,
                )
            except Exception as exc:  # this service is left alone; the others go on
                target = self.records[name].task_definition
                step = skip_step(self.current[name], target, f"not restored: {reason(exc)}")
                registration = None
            self.take(step, registration)

    def take(self, step: Step, registration: Registration | None) -> None:
        """Add the step to the plan, with what the report shows, and start it if it changes
        something (not in a dry run, and not before the cluster is known readable)."""
        flight, wanted = self.in_flight.get(step.service), self.wants.get(step.service)
        service, record = self.current.get(step.service), self.records[step.service]
        running = running_revision(service, self.revisions) if service else None
        if flight and wanted:
            sources = [self.revisions[arn] for arn in flight.sources if arn in self.revisions]
            recorded = record.settings if self.request.scope == Scope.SERVICE else None
            step = stop_step(step, flight, sources, wanted, recorded, running) or step
        # For the report: what runs now, and what the snapshot saw run.
        after = record.images
        if after is None and record.task_definition:
            after = images_of(self.snapshot.kept(record.task_definition).body)
        step = replace(step, before=running.images if running else (), after=after or ())
        self.plan.add(step, registration)
        if step.changes and not self.request.dry_run:
            self.listing.result()  # a refused listing ends the run before any change
            self.changing = True
            self.applier.start(step)


def restore(
    gateway: EcsGateway, work: Work, store: Store, request: Request, apply: ApplyOptions
) -> Outcome:
    """Restore request.snapshot_id (an id or LATEST) of request.cluster."""
    progress, began = apply.progress, time.monotonic()
    prepare()  # the snapshot is checked once read: its checker is built while ECS answers
    cluster, patterns, dry_run = request.cluster, request.services, request.dry_run
    where = gateway.describe_cluster(cluster)
    # Services the selection takes that the snapshot never saw are left as they are, and
    # said so. Listed while the snapshot is read and its services described.
    listing = work.submit(_listing, gateway, where.arn, work.stopped)
    snapshot = store.load(where, request.snapshot_id or LATEST)
    progress.phase(f"Read snapshot {snapshot.id} of cluster {where.name}")
    progress.note(provenance(snapshot, datetime.now(UTC)))
    records = {s.name: s for s in snapshot.services}
    chosen = selection.select(list(records), patterns, f"snapshot {snapshot.id}")

    plan = Plan(where.arn)
    applier = Applier(gateway, work, plan, apply)
    restoring = _Restoring(
        gateway, work, request, snapshot, chosen, listing, applier, plan, progress
    )
    restoring.run()

    in_cluster = sorted(short_name(arn) for arn in listing.result())
    uncovered = [n for n in selection.pick(in_cluster, patterns) if n not in records]
    current = {name: restoring.current[name] for name in chosen if name in restoring.current}
    restore_desired_count = request.restore_desired_count
    warnings = _warnings(where.name, snapshot, uncovered, current, records, restore_desired_count)
    for line in warnings:
        progress.note(f"warning: {line}")
    plan.order(chosen)
    progress.phase(plan_title(plan, dry_run))
    progress.note(plan_text(plan))
    read = time.monotonic() - began
    results = dry_run_results(plan) if dry_run else applier.finish()

    return Outcome(
        Mode.RESTORE,
        where.name,
        results,
        dry_run=dry_run,
        timings={"read": read, **applier.durations()},
        snapshot=snapshot,
        snapshot_uri=store.location(store.key(where, snapshot.id)),
        plan=plan,
        store=store.uri,
        uncovered=uncovered,
        warnings=warnings,
    )
