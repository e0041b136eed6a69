"""Snapshot: record what every selected service runs, with enough to recreate it.

Calls: DescribeClusters once, ListServices (pages of 100), DescribeServices (10 a call),
DescribeServiceRevisions (20 a call), DescribeTaskDefinition (with tags) once per distinct
task definition the previous snapshot does not hold, on the run's pool, each batch as soon as
what it needs is read.
A dry run reads and reports the same, and stores nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from ecsundo_action import __version__
from ecsundo_action.aws.arns import TD_ARN, short_name
from ecsundo_action.aws.gateway import EcsGateway, HistoryUnavailable
from ecsundo_action.aws.records import (
    Cluster,
    ScalableTarget,
    ScheduledTask,
    Service,
    ServiceRevision,
    TaskDefinition,
    by_age,
)
from ecsundo_action.errors import AwsError, EcsundoError, NotFoundError, SnapshotRefused, reason
from ecsundo_action.modes import selection
from ecsundo_action.plan import Action
from ecsundo_action.progress import Progress
from ecsundo_action.reasons import plural
from ecsundo_action.request import Request
from ecsundo_action.result import Outcome, ServiceResult, Status
from ecsundo_action.snapshots.document import (
    KeptTaskDefinition,
    ServiceRecord,
    Snapshot,
    prepare,
    timestamp,
)
from ecsundo_action.snapshots.stores import Loaded, Store, new_snapshot_id
from ecsundo_action.threads import Loop, Threads

# GitHub's environment variables -> the document's github fields.
GITHUB_CONTEXT = {
    "repository": "GITHUB_REPOSITORY",
    "sha": "GITHUB_SHA",
    "runId": "GITHUB_RUN_ID",
    "workflow": "GITHUB_WORKFLOW",
    "actor": "GITHUB_ACTOR",
}


def github_context(environ: Mapping[str, str]) -> dict[str, str] | None:
    """Where the snapshot is taken, when it is taken inside GitHub Actions."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return None
    found = {field: environ[var] for field, var in GITHUB_CONTEXT.items() if environ.get(var)}
    return found or None


def _record(
    service: Service, revisions: Mapping[str, ServiceRevision] | None, warnings: list[str]
) -> ServiceRecord:
    """The service as it should come back: the revision that was serving, with the digest
    each container ran and its settings (None where ECS could not tell them)."""
    record = ServiceRecord(
        name=service.name,
        arn=service.arn,
        task_definition=service.task_definition,
        desired_count=service.desired_count,
        scheduling_strategy=service.scheduling_strategy,
        launch_type=service.launch_type,
        capacity_provider_strategy=service.capacity_provider_strategy,
        controller=service.controller,
        rollout_state=service.primary.rollout_state if service.primary else None,
    )
    if service.controller != "ECS":
        return record  # CodeDeploy or task sets deploy it: restore skips it, saying how
    task_definition = service.task_definition
    recorded_from = None
    serving = service.serving
    if service.rolling_out and serving is not None and serving.task_definition:
        # An unproven revision is not the state to return to: record what was serving.
        task_definition = serving.task_definition
        failed = service.primary is not None and service.primary.rollout_state == "FAILED"
        how = "after a FAILED rollout" if failed else "mid-rollout"
        recorded_from = (
            f"{how} to {short_name(service.task_definition or '?')}: recorded "
            f"{short_name(task_definition)}, the revision that was serving"
        )
        warnings.append(f"{service.name} was {recorded_from}")
    # Of the revisions serving now, the one of that task definition: while a rollout
    # replaces a build under the same task definition, the older one is what was proven.
    matching = by_age(
        revisions[arn]
        for arn in service.current_revisions
        if revisions and arn in revisions and revisions[arn].task_definition == task_definition
    )
    revision = (matching[0] if recorded_from else matching[-1]) if matching else None
    return replace(
        record,
        task_definition=task_definition,
        images=revision.images if revision else None,
        settings=dict(revision.settings) if revision else None,
        revision=revision.arn if revision else None,
        recorded_from=recorded_from,
    )


# Services read together: one DescribeServices call, then one DescribeServiceRevisions call.
# Groups are read at once, side by side: a group of 20 (two DescribeServices calls in turn)
# would add a round trip before its revisions and task definitions could be asked for.
READ_TOGETHER = 10

Read = tuple[list[Service], dict[str, ServiceRevision] | None]


def _read(gateway: EcsGateway, cluster_arn: str, arns: Sequence[str], revisions: bool) -> Read:
    """Some services and the revisions they serve (None: ECS cannot tell them here, or
    `revisions` is False: an earlier group found that out)."""
    services, _gone = gateway.describe_services(cluster_arn, arns)
    if not revisions:
        return services, None
    serving = [
        arn
        for s in services
        if s.status == "ACTIVE" and s.controller == "ECS"
        for arn in s.current_revisions
    ]
    try:
        return services, gateway.describe_service_revisions(serving)
    except HistoryUnavailable:
        return services, None


class _Reading:
    """The cluster read as it comes, on one thread: each page of the listing picks services,
    each group of them is described with its revisions, and each task definition a record
    names and the previous snapshot does not hold is described at once. No more than
    `concurrency` groups are read at a time, so those descriptions never queue behind
    groups still to read."""

    def __init__(
        self,
        gateway: EcsGateway,
        threads: Threads,
        cluster: Cluster,
        patterns: tuple[str, ...] | None,
        known: Callable[[], Mapping[str, KeptTaskDefinition]],
    ) -> None:
        self.gateway, self.threads, self.cluster = gateway, threads, cluster
        self.patterns, self.known = patterns, known
        self.loop = Loop(threads)
        self.pages = gateway.service_arn_pages(cluster.arn)
        self.listed: list[str] = []
        self.listing_ended = False
        self.waiting: deque[str] = deque()  # picked, not yet read
        self.reading = 0
        self.recorded: dict[str, tuple[ServiceRecord, list[str]]] = {}  # record, its warnings
        self.draining: list[str] = []
        self.revisions_unreadable = False
        self.described: dict[str, Future[TaskDefinition | None]] = {}
        # Each service's auto scaling, read a listing page at a time (None once refused).
        self.scaling: dict[str, ScalableTarget] | None = {} if gateway.scaling else None
        self.scaling_refused: str | None = None

    def run(self) -> None:
        self.loop.start(self.on_page, next, self.pages, None)
        self.loop.run()

    def on_page(self, done: Future[list[str] | None]) -> None:
        page = done.result()
        if page is None:  # the end; a typo in the selection ends the run here
            self.listing_ended = True
            names = sorted(short_name(arn) for arn in self.listed)
            selection.select(names, self.patterns, f"cluster {self.cluster.name!r}")
        else:
            self.listed += page
            picked = set(selection.pick([short_name(arn) for arn in page], self.patterns))
            self.waiting += [arn for arn in page if short_name(arn) in picked]
            if self.gateway.scaling is not None and picked:
                read = self.gateway.scaling.read
                self.loop.start(self.on_scaling, read, self.cluster.name, sorted(picked))
            self.loop.start(self.on_page, next, self.pages, None)
        self.read_more()

    def on_scaling(self, done: Future[dict[str, ScalableTarget]]) -> None:
        try:
            found = done.result()
        except EcsundoError as exc:  # not recorded, said once; the snapshot goes on
            self.scaling_refused = self.scaling_refused or reason(exc)
            self.scaling = None
            return
        if self.scaling is not None:
            self.scaling.update(found)

    def read_more(self) -> None:
        while self.reading < self.threads.concurrency and (
            len(self.waiting) >= READ_TOGETHER or (self.listing_ended and self.waiting)
        ):
            size = min(READ_TOGETHER, len(self.waiting))
            group = [self.waiting.popleft() for _ in range(size)]
            ask = not self.revisions_unreadable  # once unavailable, not asked again
            self.loop.start(self.on_read, _read, self.gateway, self.cluster.arn, group, ask)
            self.reading += 1

    def on_read(self, done: Future[Read]) -> None:
        self.reading -= 1
        services, revisions = done.result()
        self.revisions_unreadable |= revisions is None
        held = self.known()
        for service in services:
            if service.status != "ACTIVE":
                self.draining.append(service.name)
                continue
            notes: list[str] = []
            record = _record(service, revisions, notes)
            self.recorded[service.name] = record, notes
            arn = record.task_definition
            if arn and arn not in held and arn not in self.described:
                describe = self.gateway.describe_task_definition
                self.described[arn] = self.loop.start(_taken_at_the_end, describe, arn)
        self.read_more()


def _taken_at_the_end(_: Future[Any]) -> None:
    """Nothing to do yet: the result is taken when the snapshot is built."""


def capture(
    gateway: EcsGateway,
    threads: Threads,
    cluster: Cluster,
    patterns: tuple[str, ...] | None,
    *,
    snapshot_id: str | None = None,
    github: Mapping[str, str] | None = None,
    now: datetime | None = None,
    known: Callable[[], Mapping[str, KeptTaskDefinition]] = dict,
    scheduled: Future[list[ScheduledTask]] | None = None,
    scheduled_patterns: tuple[str, ...] | None = None,
) -> tuple[Snapshot, list[str]]:
    """Read the cluster and build its snapshot (nothing is written); and its warnings.
    known(): the task definitions already held (asked for once services are read).
    scheduled: the cluster's scheduled tasks, being read (None: not recorded)."""
    now = now or datetime.now(UTC)
    reading = _Reading(gateway, threads, cluster, patterns, known)
    reading.run()
    warnings: list[str] = []
    if reading.draining:
        warnings.append(f"not recorded, being deleted: {', '.join(sorted(reading.draining))}")
    if reading.revisions_unreadable:
        warnings.append(
            "ECS's service revisions cannot be read here: image digests and service settings "
            "are not recorded (a restore puts back task definitions only)"
        )
    if reading.scaling_refused:
        warnings.append(
            f"service auto scaling cannot be read ({reading.scaling_refused}): not recorded "
            "(a restore leaves it as it is)"
        )
    records = []
    for name in sorted(reading.recorded):
        record, notes = reading.recorded[name]
        if reading.scaling is not None and name in reading.scaling:
            record = replace(record, auto_scaling=reading.scaling[name])
        records.append(record)
        warnings += notes
    # A task definition's body never changes once registered: what an earlier snapshot of
    # this cluster kept is reused, and only the others were described.
    held = known()
    kept: dict[str, KeptTaskDefinition] = {}
    for record in records:
        if record.task_definition is None:
            continue
        if record.task_definition in held:
            kept[record.task_definition] = held[record.task_definition]
            continue
        found = reading.described[record.task_definition].result()
        if found is None:
            raise AwsError(
                f"cannot snapshot service {record.name!r}: its task definition "
                f"{short_name(record.task_definition)} no longer exists in ECS"
            )
        kept[record.task_definition] = KeptTaskDefinition(found.status, found.body, found.tags)
    tasks = None
    if scheduled is not None:
        try:
            running = scheduled.result()
        except EcsundoError as exc:
            if scheduled_patterns:  # asked for by name: not taking them is a failure
                raise
            # Taken by default: the services' snapshot must not fail for them (a role
            # without the new permissions, a partition without Scheduler).
            warnings.append(f"scheduled tasks cannot be read ({reason(exc)}): not recorded")
        else:
            where = f"cluster {cluster.name!r}"
            chosen = selection.scheduled(running, scheduled_patterns, where)
            tasks = _keep_bodies(gateway, threads, chosen, kept, held, warnings)
    taken = Snapshot(
        id=snapshot_id or new_snapshot_id(now),
        created_at=timestamp(now),
        tool=f"ecsundo {__version__}",
        cluster=cluster,
        services=tuple(records),
        task_definitions=kept,
        selection=patterns or None,
        github=github,
        scheduled_tasks=tasks,
    )
    return taken, warnings


def _keep_bodies(
    gateway: EcsGateway,
    threads: Threads,
    tasks: list[ScheduledTask],
    kept: dict[str, KeptTaskDefinition],
    held: Mapping[str, KeptTaskDefinition],
    warnings: list[str],
) -> tuple[ScheduledTask, ...]:
    """Keep the task definition of each scheduled task, like a service's: one the services
    or the previous snapshot hold already is not described again. A task definition given
    without a revision runs its family's latest: there is nothing to keep or put back."""
    arns = {t.task_definition for t in tasks if TD_ARN.fullmatch(t.task_definition)}
    for arn in arns & held.keys() - kept.keys():
        kept[arn] = held[arn]
    missing = sorted(arns - kept.keys())
    described = threads.map(gateway.describe_task_definition, missing)
    for arn, found in zip(missing, described, strict=True):
        if found is not None:
            kept[arn] = KeptTaskDefinition(found.status, found.body, found.tags)
    recorded = []
    for task in tasks:
        arn = task.task_definition
        if TD_ARN.fullmatch(arn) and arn not in kept:
            warnings.append(
                f"scheduled task {task.name} runs {short_name(arn)}, which no longer exists "
                "in ECS: not recorded"
            )
            continue
        recorded.append(task)
    return tuple(recorded)


def _previous(
    loading: Future[Loaded] | None, progress: Progress, passed_over: list[str], signed: bool
) -> dict[str, KeptTaskDefinition]:
    """The task definitions the newest snapshot of this cluster in this store kept; none
    (a full snapshot) when there is none, it cannot be read, or none is wanted. With a
    signing key, the newest one the key verifies: each newer one is put in passed_over."""
    if loading is None:
        return {}
    try:
        previous, skipped = loading.result()
        passed_over += [f"{why}: not reused" for why in skipped]
        return dict(previous.task_definitions)
    except NotFoundError:
        return {}
    except SnapshotRefused as exc:
        if signed:  # no snapshot the signing key verifies: each refusal is named
            passed_over.append(f"{reason(exc)}: a full snapshot")
        else:
            progress.note(f"the previous snapshot cannot be read ({reason(exc)}): a full snapshot")
        return {}
    except EcsundoError as exc:
        progress.note(f"the previous snapshot cannot be read ({reason(exc)}): a full snapshot")
        return {}


def snapshot(
    gateway: EcsGateway,
    threads: Threads,
    store: Store,
    request: Request,
    *,
    github: Mapping[str, str] | None,
    progress: Progress,
) -> Outcome:
    """Capture the cluster's services and keep the snapshot in the store (unless dry run)."""
    prepare()  # the document is checked at the end: its checker is built meanwhile
    cluster, dry_run = request.cluster, request.dry_run
    where = gateway.describe_cluster(cluster)
    selection.check_places(where, request.places)
    dry = " (dry run: nothing stored)" if dry_run else ""
    progress.phase(f"Snapshot of cluster {where.name}{dry}")
    # The newest snapshot of this cluster is read (and checked) while the cluster is.
    loading = None if request.full else threads.submit(store.newest, where)
    passed_over: list[str] = []  # newer snapshots the signing key does not verify
    signed = store.signer is not None
    known = cache(partial(_previous, loading, progress, passed_over, signed))
    # The scheduled tasks are found while the services are read.
    scheduled = None
    if gateway.scheduled is not None and selection.takes_scheduled(request):
        scheduled = threads.aside(gateway.scheduled.of_cluster, where.arn, threads.map)
    taken, warnings = capture(
        gateway,
        threads,
        where,
        request.services,
        snapshot_id=request.snapshot_id,
        github=github,
        known=known,
        scheduled=scheduled,
        scheduled_patterns=request.scheduled_tasks,
    )
    reused = sum(1 for arn in taken.task_definitions if arn in known())
    warnings = passed_over + warnings  # a forged snapshot in the store is worth a warning
    if known():
        progress.note(
            f"{plural(reused, 'task definition')} reused from the previous snapshot, "
            f"{len(taken.task_definitions) - reused} described"
        )
    for line in warnings:
        progress.note(f"warning: {line}")
    uri = None if dry_run else store.put(where, taken)
    status = Status.PLANNED if dry_run else Status.SUCCESS
    rows = [
        ServiceResult(s.name, Action.SNAPSHOT, s.task_definition, s.task_definition, status)
        for s in taken.services
    ]
    rows += [
        ServiceResult(
            t.name, Action.SNAPSHOT, t.task_definition, t.task_definition, status, kind=t.kind
        )
        for t in taken.scheduled_tasks or ()
    ]
    return Outcome(
        request.mode,
        where.name,
        rows,
        dry_run=dry_run,
        snapshot=taken,
        snapshot_uri=uri,
        store=store.uri,
        warnings=warnings,
    )
