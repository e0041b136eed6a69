"""Snapshot: record what every selected service runs, with enough to recreate it.

Calls: DescribeClusters once, ListServices (pages of 100), DescribeServices (10 a call),
DescribeTaskDefinition (with tags) once per distinct task definition, on the run's pool.
A dry run reads and reports the same, and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from . import __version__, selection
from .document import KeptTaskDefinition, ServiceRecord, Snapshot, timestamp
from .errors import AwsError
from .gateway import EcsGateway
from .progress import Progress
from .request import Request
from .resources import Cluster, Service, short_name
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


def _record(service: Service) -> ServiceRecord:
    if service.task_definition is None:
        raise AwsError(
            f"cannot snapshot service {service.name!r}: it has no task definition "
            f"(deployment controller {service.controller})"
        )
    return ServiceRecord(
        name=service.name,
        arn=service.arn,
        task_definition=service.task_definition,
        desired_count=service.desired_count,
        scheduling_strategy=service.scheduling_strategy,
        launch_type=service.launch_type,
        capacity_provider_strategy=service.capacity_provider_strategy,
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
) -> Snapshot:
    """Read the cluster and build its snapshot (nothing is written)."""
    now = now or datetime.now(UTC)
    arns = gateway.list_service_arns(cluster.arn)
    by_name = {short_name(arn): arn for arn in arns}
    chosen = selection.select(sorted(by_name), patterns, f"cluster {cluster.name!r}")
    services, _gone = gateway.describe_services(cluster.arn, [by_name[n] for n in chosen], work.map)
    services.sort(key=lambda s: s.name)
    records = [_record(s) for s in services]
    described = gateway.describe_task_definitions((r.task_definition for r in records), work.map)

    kept: dict[str, KeptTaskDefinition] = {}
    for record in records:
        found = described[record.task_definition]
        if found is None:
            raise AwsError(
                f"cannot snapshot service {record.name!r}: its task definition "
                f"{short_name(record.task_definition)} no longer exists in ECS"
            )
        kept[record.task_definition] = KeptTaskDefinition(found.status, found.body, found.tags)
    return Snapshot(
        id=snapshot_id or new_snapshot_id(now),
        created_at=timestamp(now),
        tool=f"ecsundo {__version__}",
        cluster=cluster,
        services=tuple(records),
        task_definitions=kept,
        selection=patterns or None,
        github=github,
    )


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
    taken = capture(
        gateway, work, where, request.services, snapshot_id=request.snapshot_id, github=github
    )
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
    )
