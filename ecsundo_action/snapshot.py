"""Snapshot: record what every selected service runs, with enough to recreate it.

Calls: DescribeClusters once, ListServices (pages of 100), DescribeServices (10 a call),
DescribeTaskDefinition (with tags) once per distinct task definition, concurrently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import __version__, selection
from . import document as doc
from .errors import AwsError
from .gateway import EcsGateway
from .resources import Cluster, short_name
from .stores import Store, check_snapshot_id, new_snapshot_id

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


@dataclass(frozen=True)
class Snapshot:
    document: doc.Document
    uri: str

    @property
    def id(self) -> str:
        return self.document["id"]


def _service_record(service: dict[str, Any]) -> dict[str, Any]:
    record = {
        "name": service["serviceName"],
        "arn": service["serviceArn"],
        "taskDefinition": service["taskDefinition"],
        "desiredCount": service.get("desiredCount", 0),
        "schedulingStrategy": service.get("schedulingStrategy", "REPLICA"),
    }
    if service.get("capacityProviderStrategy"):
        record["capacityProviderStrategy"] = service["capacityProviderStrategy"]
    elif service.get("launchType"):
        record["launchType"] = service["launchType"]
    return record


def capture(
    gateway: EcsGateway,
    cluster: Cluster,
    patterns: list[str] | None,
    *,
    snapshot_id: str | None = None,
    github: dict[str, str] | None = None,
    now: datetime | None = None,
) -> doc.Document:
    """Read the cluster and build a sealed snapshot document (nothing is written)."""
    now = now or datetime.now(UTC)
    snapshot_id = check_snapshot_id(snapshot_id) if snapshot_id else new_snapshot_id(now)
    arns = gateway.list_service_arns(cluster.arn)
    by_name = {short_name(arn): arn for arn in arns}
    chosen = selection.select(sorted(by_name), patterns, f"cluster {cluster.name!r}")
    services, _gone = gateway.describe_services(cluster.arn, [by_name[n] for n in chosen])
    services.sort(key=lambda s: s["serviceName"])
    described = gateway.describe_task_definitions(s["taskDefinition"] for s in services)

    task_definitions: dict[str, Any] = {}
    for service in services:
        arn = service["taskDefinition"]
        found = described[arn]
        if found is None:
            raise AwsError(
                f"cannot snapshot service {service['serviceName']!r}: its task definition "
                f"{short_name(arn)} no longer exists in ECS"
            )
        task_definitions[arn] = {"status": found.status, "body": found.body, "tags": found.tags}

    document: doc.Document = {
        "schemaVersion": doc.SCHEMA_VERSION,
        "id": snapshot_id,
        "createdAt": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{now.microsecond // 1000:03d}Z",
        "tool": f"ecsundo {__version__}",
        "cluster": {"name": cluster.name, "arn": cluster.arn},
        "region": cluster.region,
        "accountId": cluster.account_id,
        "services": [_service_record(s) for s in services],
        "taskDefinitions": task_definitions,
    }
    if patterns:
        document["selection"] = patterns
    if github:
        document["github"] = github
    return doc.seal(document)


def snapshot(
    gateway: EcsGateway,
    store: Store,
    cluster: str,
    patterns: list[str] | None = None,
    *,
    snapshot_id: str | None = None,
    github: dict[str, str] | None = None,
) -> Snapshot:
    """Capture the cluster's services and keep the snapshot in the store."""
    if snapshot_id:
        check_snapshot_id(snapshot_id)
    where = gateway.describe_cluster(cluster)
    document = capture(gateway, where, patterns, snapshot_id=snapshot_id, github=github)
    return Snapshot(document, store.put(where, document))
