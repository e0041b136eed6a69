"""Restore: put every selected service back on the task definition its snapshot names.

Restore only chooses: it reads the snapshot, then reads its services 10 at a time and says,
for each, the Target it should reach (what the snapshot saw it run, with the pure
`plan_restore` to decide its step once the target's facts are known). converge.py carries
the targets out, starting the first change while other services are still being read. A
dry run goes the same way and starts nothing. A service already on its snapshot task
definition is not touched; one deleted since is reported missing while the others still
restore.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain
from threading import Event

from ecsundo_action.aws.arns import short_name
from ecsundo_action.aws.gateway import DESCRIBE_SERVICES_BATCH, EcsGateway, chunks
from ecsundo_action.aws.records import (
    ContainerImage,
    ScalableTarget,
    ScheduledTask,
    Service,
    ServiceDeployment,
    ServiceRevision,
    images_of,
    running_revision,
)
from ecsundo_action.converge import Found, InFlight, Options, Read, Target, converge
from ecsundo_action.errors import EcsundoError, NotFoundError, reason
from ecsundo_action.modes import selection
from ecsundo_action.plan import (
    ACTIVE,
    CONTROLLED_ELSEWHERE,
    Action,
    PinImages,
    Registration,
    Scope,
    Step,
    TargetFacts,
    Want,
    left_alone_step,
    missing_step,
    plan_scaling,
    plan_scheduled,
    plan_step,
    skip_step,
    want_of,
)
from ecsundo_action.reasons import Why, because, plural
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from ecsundo_action.snapshots.document import ServiceRecord, Snapshot, prepare
from ecsundo_action.snapshots.stores import LATEST, Store
from ecsundo_action.threads import Threads


def want_recorded(
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


def plan_restore(
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
        how = because(CONTROLLED_ELSEWHERE.get(controller, Why.NO_TARGET))
        return left_alone_step(service, target, how, named=named), None
    step = plan_step(
        service,
        wanted.target,
        facts,
        can_register=True,
        desired_count=record.desired_count if restore_desired_count else None,
        why=wanted.notes,
        pinned=wanted.pinned,
        settings=wanted.settings,
        expect=wanted.expect,
    )
    if scaled_to_zero(record, service, restore_desired_count):
        note = because(Why.SCALED_TO_ZERO, recorded=record.desired_count)
        step = replace(step, why=(*step.why, note))
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


# What may be read of the services besides DescribeServices; each can be refused (or be
# unavailable in the Region) without ending the restore.
DEPLOYMENTS, REVISIONS, SCALING = "deployments", "revisions", "scaling"
_CANNOT = {
    DEPLOYMENTS: "in-flight deployments cannot be read ({}): none is stopped",
    REVISIONS: "service revisions cannot be read ({}): no pins, no settings",
    SCALING: "service auto scaling cannot be read ({}): left as it is",
}


@dataclass
class _Batch:
    """One batch of services as they are now, and what runs in them."""

    services: dict[str, Service]
    in_flight: dict[str, ServiceDeployment]  # deployments ECS can still roll back itself
    revisions: dict[str, ServiceRevision]  # running now, and replaced by those in flight
    refused: dict[str, str]  # DEPLOYMENTS / REVISIONS / SCALING that could not be read: why
    scaling: dict[str, ScalableTarget] = field(default_factory=dict)  # as it is now


def _read_batch(
    gateway: EcsGateway,
    cluster_arn: str,
    names: Sequence[str],
    request: Request,
    ask: set[str],
    scaled: Sequence[str] = (),
) -> _Batch:
    """Read up to 10 services and, of what `ask` names, their in-flight deployments and
    running revisions. A refused DescribeServices raises; the others are only noted."""
    found, _ = gateway.describe_services(cluster_arn, names)  # the rest: missing
    seen = _Batch({s.name: s for s in found}, {}, {}, {})
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
    scaled = [name for name in scaled if name in seen.services]
    if scaled and SCALING in ask and gateway.scaling is not None:
        try:
            seen.scaling = gateway.scaling.read(short_name(cluster_arn), scaled)
        except EcsundoError as exc:
            seen.refused[SCALING] = reason(exc)
    return seen


def _service_arns(gateway: EcsGateway, cluster_arn: str, stopped: Event) -> list[str]:
    """The cluster's service ARNs; the pages stop coming once the run is stopping, so that
    an early error (an unknown snapshot id) does not wait for a long listing."""
    arns: list[str] = []
    for page in gateway.service_arn_pages(cluster_arn):
        if stopped.is_set():
            break
        arns += page
    return arns


class _Targets:
    """The reads of one restore: 10 snapshot services at a time, each said as a Target."""

    def __init__(
        self, gateway: EcsGateway, cluster_arn: str, request: Request, snapshot: Snapshot
    ) -> None:
        self.gateway, self.cluster_arn, self.request = gateway, cluster_arn, request
        self.snapshot = snapshot
        self.records = {s.name: s for s in snapshot.services}
        self.named = {p for p in request.services or () if not selection.is_pattern(p)}
        self.ask = {DEPLOYMENTS, REVISIONS, SCALING}  # once refused, not asked again
        # Services whose auto scaling the snapshot recorded: put back with scope service.
        self.scaled = {
            s.name
            for s in snapshot.services
            if s.auto_scaling is not None and request.scope == Scope.SERVICE
        }
        self.lock = threading.Lock()  # reads run on several threads

    def reads(self, chosen: Sequence[str]) -> Iterator[Read]:
        for names in chunks(chosen, DESCRIBE_SERVICES_BATCH):
            yield Read(partial(self.read, names), partial(self.unreadable, names), fatal=True)

    def read(self, names: Sequence[str]) -> Found:
        with self.lock:
            ask = set(self.ask)
        scaled = [name for name in names if name in self.scaled]
        seen = _read_batch(self.gateway, self.cluster_arn, names, self.request, ask, scaled)
        notes = []
        with self.lock:
            for kind, why in seen.refused.items():
                if kind in self.ask:  # told once
                    self.ask.discard(kind)
                    notes.append(_CANNOT[kind].format(why))
        targets = [self.target(name, seen) for name in names]
        for name, now in seen.scaling.items():
            record, service = self.records[name], seen.services[name]
            assert record.auto_scaling is not None
            if service.status == "ACTIVE":
                step = plan_scaling(service, record.auto_scaling, now)
                if step is not None:
                    targets.append(Target(step.key, step=step))
        return Found(targets, notes)

    def unreadable(self, names: Sequence[str], why: str) -> list[Step]:
        return [
            Step(
                name,
                None,
                Action.SKIP,
                None,
                self.records[name].task_definition,
                why=(because(Why.UNREADABLE, error=why),),
                after=self.images(self.records[name]),
            )
            for name in names
        ]

    def images(self, record: ServiceRecord) -> tuple[ContainerImage, ...]:
        """What the snapshot saw the service run (its task definition's, without digests)."""
        if record.images is None and record.task_definition:
            return images_of(self.snapshot.kept(record.task_definition).body)
        return record.images or ()

    def target(self, name: str, seen: _Batch) -> Target:
        record, service, request = self.records[name], seen.services.get(name), self.request
        running = running_revision(service, seen.revisions) if service else None
        wanted = None
        if (
            service is not None
            and service.status == "ACTIVE"
            and service.controller == "ECS"
            and record.controller == "ECS"
            and record.task_definition is not None
        ):
            wanted = want_recorded(
                self.snapshot,
                record,
                running,
                scope=request.scope,
                pin_images=request.pin_images,
            )
        flight = seen.in_flight.get(name)
        in_flight = None
        if flight is not None and wanted is not None:
            in_flight = InFlight(
                flight,
                [seen.revisions[arn] for arn in flight.sources if arn in seen.revisions],
                record.settings if request.scope == Scope.SERVICE else None,
                running,
            )
        target = Target(
            name,
            want=wanted,
            in_flight=in_flight,
            service=service,
            before=running.images if running else (),
            after=self.images(record),
        )
        decide = partial(
            plan_restore,
            record,
            service,
            wanted=wanted,
            restore_desired_count=request.restore_desired_count,
            named=name in self.named,
        )
        # Facts are needed only where a service is not already on what it should run.
        if (
            wanted is None
            or service is None
            or not (wanted.pinned or service.task_definition != wanted.target)
        ):
            step, _ = decide(facts=ACTIVE)  # ACTIVE: nothing to register
            return replace(target, step=step)
        return replace(
            target,
            decide=lambda facts: decide(facts=facts),
            unable=lambda why: skip_step(
                service, record.task_definition, because(Why.NOT_RESTORED, error=why)
            ),
        )


class _ScheduledTargets:
    """The reads of a restore's scheduled tasks: 10 at a time, each as it is now, said as a
    Target whose task definition is looked up (and registered again) with the services'."""

    def __init__(
        self,
        gateway: EcsGateway,
        cluster_arn: str,
        request: Request,
        snapshot: Snapshot,
        tasks: Sequence[ScheduledTask],
    ) -> None:
        self.gateway, self.cluster_arn, self.scope = gateway, cluster_arn, request.scope
        self.snapshot, self.tasks = snapshot, tasks

    def reads(self) -> Iterator[Read]:
        for some in chunks(self.tasks, DESCRIBE_SERVICES_BATCH):
            yield Read(partial(self.read, some), partial(self.unreadable, some))

    def read(self, tasks: Sequence[ScheduledTask]) -> Found:
        scheduled = self.gateway.scheduled
        assert scheduled is not None
        return Found([self.target(task, scheduled.read(task, self.cluster_arn)) for task in tasks])

    def unreadable(self, tasks: Sequence[ScheduledTask], why: str) -> list[Step]:
        return [
            Step(
                task.name,
                None,
                Action.SKIP,
                None,
                task.task_definition,
                why=(because(Why.UNREADABLE, error=why),),
                kind=task.kind,
                task=task,
            )
            for task in tasks
        ]

    def target(self, recorded: ScheduledTask, now: ScheduledTask | None) -> Target:
        decide = partial(plan_scheduled, recorded, now, scope=self.scope)
        arn = recorded.task_definition
        if now is None or arn not in self.snapshot.task_definitions:
            return Target(recorded.key, step=decide(ACTIVE))  # missing, or nothing to keep
        kept = self.snapshot.kept(arn)
        after = images_of(kept.body)
        # Even on its recorded task definition it needs the facts: an INACTIVE one starts
        # no task, so the target must move to a registration of it.

        def with_registration(facts: TargetFacts) -> tuple[Step, Registration | None]:
            step = decide(facts)
            again = step.action == Action.REREGISTER
            return step, Registration(arn, dict(kept.body), kept.tags) if again else None

        return Target(
            recorded.key,
            want=Want(arn, dict(kept.body), kept.tags, False, {}, ()),
            decide=with_registration,
            unable=lambda why: replace(
                decide(ACTIVE),
                action=Action.SKIP,
                why=(because(Why.NOT_RESTORED, error=why),),
            ),
            after=after,
        )


def _scheduled_tasks(
    snapshot: Snapshot, request: Request, gateway: EcsGateway
) -> list[ScheduledTask]:
    """The snapshot's scheduled tasks this restore takes (a name that takes none, or names
    given for a snapshot that recorded none, is an error before anything changes)."""
    patterns = request.scheduled_tasks
    if not selection.takes_scheduled(request) or gateway.scheduled is None:
        return []
    if snapshot.scheduled_tasks is None:
        if patterns:
            raise NotFoundError(
                f"scheduled-tasks: snapshot {snapshot.id} recorded no scheduled tasks "
                "(taken by an older ecsundo, or with scheduled-tasks: false)"
            )
        return []
    return selection.scheduled(snapshot.scheduled_tasks, patterns, f"snapshot {snapshot.id}")


def restore(
    gateway: EcsGateway, threads: Threads, store: Store, request: Request, options: Options
) -> Outcome:
    """Restore request.snapshot_id (an id or LATEST) of request.cluster."""
    progress, began = options.progress, time.monotonic()
    prepare()  # the snapshot is checked once read: its checker is built while ECS answers
    cluster, patterns = request.cluster, request.services
    where = gateway.describe_cluster(cluster)
    selection.check_places(where, request.places)
    # Services the selection takes that the snapshot never saw are left as they are, and
    # said so. Listed while the snapshot is read and its services described.
    listing = threads.submit(_service_arns, gateway, where.arn, threads.stopped)
    snapshot, skipped = store.load(where, request.snapshot_id or LATEST)
    progress.restoring(snapshot, where.name)
    if store.signer is not None:
        progress.note(f"signature verified with signing key {store.signer.key}")
    # With a signing key, `latest` passes over newer snapshots the key does not verify.
    passed_over = [
        f"{why}: skipped ({LATEST} is the newest one the key verifies)" for why in skipped
    ]
    records = {s.name: s for s in snapshot.services}
    chosen = selection.select(list(records), patterns, f"snapshot {snapshot.id}")
    uncovered: list[str] = []

    def warnings(targets: dict[str, Target]) -> list[str]:
        in_cluster = sorted(short_name(arn) for arn in listing.result())
        uncovered.extend(n for n in selection.pick(in_cluster, patterns) if n not in records)
        current = {n: t.service for n in chosen if (t := targets.get(n)) and t.service}
        restore_desired_count = request.restore_desired_count
        return passed_over + _warnings(
            where.name, snapshot, uncovered, current, records, restore_desired_count
        )

    tasks = _scheduled_tasks(snapshot, request, gateway)
    notices = []
    if snapshot.scheduled_tasks and request.scheduled_tasks is None and request.services:
        notices.append(
            f"{plural(len(snapshot.scheduled_tasks), 'scheduled task')} of the snapshot left "
            "as they are: services names some services only; name the scheduled tasks in "
            "scheduled-tasks (--scheduled-tasks) to restore them too"
        )
    for line in notices:
        progress.note(f"note: {line}")
    reads = chain(
        _Targets(gateway, where.arn, request, snapshot).reads(chosen),
        _ScheduledTargets(gateway, where.arn, request, snapshot, tasks).reads(),
    )
    done = converge(
        gateway, threads, where.arn, reads, options, order=chosen, warnings=warnings, gate=listing
    )
    return Outcome(
        Mode.RESTORE,
        where.name,
        done.rows,
        dry_run=request.dry_run,
        timings={"read": done.decided_at - began, **done.durations},
        snapshot=snapshot,
        snapshot_uri=store.location(store.key(where, snapshot.id)),
        plan=done.plan,
        store=store.uri,
        uncovered=uncovered,
        warnings=done.warnings,
        notices=notices,
        interrupted=done.interrupted,
    )
