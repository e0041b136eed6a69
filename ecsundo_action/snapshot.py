"""Snapshot: record what every selected service runs, with enough to recreate it.

Calls: DescribeClusters once, ListServices (pages of 100), DescribeServices (10 a call),
DescribeTaskDefinition (with tags) once per distinct task definition, on the run's pool.
A dry run reads and reports the same, and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from . import __version__, selection
from .document import KeptTaskDefinition, ServiceRecord, Snapshot, timestamp
from .errors import AwsError, EcsundoError, NotFoundError, reason
from .gateway import EcsGateway, HistoryUnavailable
from .progress import Progress
from .report import plural
from .request import Request
from .resources import Cluster, Service, ServiceRevision, by_age, short_name
from .result import Outcome, ServiceResult, Status
from .stores import Store, new_snapshot_id
from .work import Work

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


def capture(
    gateway: EcsGateway,
    work: Work,
    cluster: Cluster,
    patterns: tuple[str, ...] | None,
    *,
    snapshot_id: str | None = None,
    github: Mapping[str, str] | None = None,
    now: datetime | None = None,
    known: Mapping[str, KeptTaskDefinition] | None = None,
) -> tuple[Snapshot, list[str]]:
    """Read the cluster and build its snapshot (nothing is written); and its warnings."""
    now = now or datetime.now(UTC)
    arns = gateway.list_service_arns(cluster.arn)
    by_name = {short_name(arn): arn for arn in arns}
    chosen = selection.select(sorted(by_name), patterns, f"cluster {cluster.name!r}")
    services, _gone = gateway.describe_services(cluster.arn, [by_name[n] for n in chosen], work.map)
    services.sort(key=lambda s: s.name)
    warnings: list[str] = []
    draining = [s.name for s in services if s.status != "ACTIVE"]
    if draining:
        warnings.append(f"not recorded, being deleted: {', '.join(draining)}")
        services = [s for s in services if s.status == "ACTIVE"]
    revisions: dict[str, ServiceRevision] | None
    try:
        revisions = gateway.describe_service_revisions(
            [arn for s in services if s.controller == "ECS" for arn in s.current_revisions],
            work.map,
        )
    except HistoryUnavailable:
        revisions = None
        warnings.append(
            "ECS's service revisions cannot be read here: image digests and service settings "
            "are not recorded (a restore puts back task definitions only)"
        )
    records = [_record(s, revisions, warnings) for s in services]
    # A task definition's body never changes once registered: what an earlier snapshot of
    # this cluster kept is reused, and only the others are described.
    known = known or {}
    wanted = [r.task_definition for r in records if r.task_definition]
    described = gateway.describe_task_definitions(
        [arn for arn in wanted if arn not in known], work.map
    )

    kept: dict[str, KeptTaskDefinition] = {}
    for record in records:
        if record.task_definition is None:
            continue
        if record.task_definition in known:
            kept[record.task_definition] = known[record.task_definition]
            continue
        found = described[record.task_definition]
        if found is None:
            raise AwsError(
                f"cannot snapshot service {record.name!r}: its task definition "
                f"{short_name(record.task_definition)} no longer exists in ECS"
            )
        kept[record.task_definition] = KeptTaskDefinition(found.status, found.body, found.tags)
    taken = Snapshot(
        id=snapshot_id or new_snapshot_id(now),
        created_at=timestamp(now),
        tool=f"ecsundo {__version__}",
        cluster=cluster,
        services=tuple(records),
        task_definitions=kept,
        selection=patterns or None,
        github=github,
    )
    return taken, warnings


def _previous(store: Store, cluster: Cluster, progress: Progress) -> dict[str, KeptTaskDefinition]:
    """The task definitions the newest snapshot of this cluster in this store kept; none
    (a full snapshot) when there is none or it cannot be read."""
    try:
        return dict(store.latest(cluster).task_definitions)
    except NotFoundError:
        return {}
    except EcsundoError as exc:
        progress.note(f"the previous snapshot cannot be read ({reason(exc)}): a full snapshot")
        return {}


def snapshot(
    gateway: EcsGateway,
    work: Work,
    store: Store,
    request: Request,
    *,
    github: Mapping[str, str] | None,
    progress: Progress,
) -> Outcome:
    """Capture the cluster's services and keep the snapshot in the store (unless dry run)."""
    cluster, dry_run = request.cluster, request.dry_run
    where = gateway.describe_cluster(cluster)
    dry = " (dry run: nothing stored)" if dry_run else ""
    progress.phase(f"Snapshot of cluster {where.name}{dry}")
    known = {} if request.full else _previous(store, where, progress)
    taken, warnings = capture(
        gateway,
        work,
        where,
        request.services,
        snapshot_id=request.snapshot_id,
        github=github,
        known=known,
    )
    reused = sum(1 for arn in taken.task_definitions if arn in known)
    if known:
        progress.note(
            f"{plural(reused, 'task definition')} reused from the previous snapshot, "
            f"{len(taken.task_definitions) - reused} described"
        )
    for line in warnings:
        progress.note(f"warning: {line}")
    uri = None if dry_run else store.put(where, taken)
    status = Status.PLANNED if dry_run else Status.SUCCESS
    rows = [
        ServiceResult(s.name, "snapshot", s.task_definition, s.task_definition, status)
        for s in taken.services
    ]
    return Outcome(
        str(request.mode),
        where.name,
        rows,
        dry_run=dry_run,
        snapshot=taken,
        snapshot_uri=uri,
        store=store.uri,
        warnings=warnings,
    )
