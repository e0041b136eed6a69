"""Snapshot documents: typed records, canonical JSON, checksum and schema checks.

On disk a snapshot is plain JSON (see schema/snapshot-v3.json; version 1 documents still
load, without digests, settings or controllers; version 2 ones without scheduled tasks). It
is validated and checksummed when written and again when read; the checksum catches
accidents (truncation, corruption), not an edit by someone who can write to the store, who
can recompute it: signing.py's signature does. In memory it is a frozen `Snapshot` whose
fields mirror the schema, so no code reads a document by string keys. A document read back
must belong to the cluster, region and account asked for; anything else is refused with a
one-line reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from ecsundo_action.aws.arns import TD_ARN
from ecsundo_action.aws.records import Cluster, ContainerImage, ScalableTarget, ScheduledTask
from ecsundo_action.errors import SnapshotRefused

SCHEMA_VERSION = 3
READABLE = (1, 2, 3)

Document = dict[str, Any]


@dataclass(frozen=True)
class ServiceRecord:
    """One service as the snapshot saw it: the revision that was serving."""

    name: str
    arn: str
    task_definition: str | None  # None: an EXTERNAL service without one
    desired_count: int
    scheduling_strategy: str = "REPLICA"
    launch_type: str | None = None
    capacity_provider_strategy: tuple[Mapping[str, Any], ...] = ()
    controller: str = "ECS"  # the deployment controller: ECS, CODE_DEPLOY or EXTERNAL
    images: tuple[ContainerImage, ...] | None = None  # None: digests unknown
    settings: Mapping[str, Any] | None = None  # service settings; None: unknown
    revision: str | None = None  # the service revision recorded
    rollout_state: str | None = None
    recorded_from: str | None = None  # why this is not the newest deployment (mid-rollout)
    auto_scaling: ScalableTarget | None = None  # None: not read (NONE: it had no target)

    def to_json(self) -> Document:
        record: Document = {
            "name": self.name,
            "arn": self.arn,
            "taskDefinition": self.task_definition,
            "desiredCount": self.desired_count,
            "schedulingStrategy": self.scheduling_strategy,
            "deploymentController": self.controller,
            "images": None if self.images is None else [i.to_json() for i in self.images],
            "settings": None if self.settings is None else dict(self.settings),
        }
        if self.capacity_provider_strategy:
            record["capacityProviderStrategy"] = [dict(s) for s in self.capacity_provider_strategy]
        elif self.launch_type:
            record["launchType"] = self.launch_type
        optional = {
            "serviceRevision": self.revision,
            "rolloutState": self.rollout_state,
            "recordedFrom": self.recorded_from,
        }
        record.update({key: value for key, value in optional.items() if value})
        if self.auto_scaling is not None:
            record["autoScaling"] = self.auto_scaling.to_json()
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> ServiceRecord:
        images = record.get("images")
        return cls(
            name=record["name"],
            arn=record["arn"],
            task_definition=record["taskDefinition"],
            desired_count=record["desiredCount"],
            scheduling_strategy=record["schedulingStrategy"],
            launch_type=record.get("launchType"),
            capacity_provider_strategy=tuple(record.get("capacityProviderStrategy", ())),
            controller=record.get("deploymentController", "ECS"),
            images=None if images is None else tuple(ContainerImage.from_api(i) for i in images),
            settings=record.get("settings"),
            revision=record.get("serviceRevision"),
            rollout_state=record.get("rolloutState"),
            recorded_from=record.get("recordedFrom"),
            auto_scaling=(
                ScalableTarget.from_json(record["autoScaling"]) if "autoScaling" in record else None
            ),
        )


@dataclass(frozen=True)
class KeptTaskDefinition:
    """A task definition's registerable body and tags, enough to register it again."""

    status: str
    body: dict[str, Any]
    tags: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> Document:
        return {"status": self.status, "body": self.body, "tags": self.tags}


@dataclass(frozen=True)
class Snapshot:
    """What every selected service of one cluster ran, with the bodies to recreate it."""

    id: str
    created_at: str  # ISO 8601, UTC, milliseconds: 2026-11-27T16:26:00.123Z
    tool: str
    cluster: Cluster
    services: tuple[ServiceRecord, ...]
    task_definitions: Mapping[str, KeptTaskDefinition]
    selection: tuple[str, ...] | None = None  # the patterns it was limited to, if any
    github: Mapping[str, str] | None = None  # where it was taken, inside GitHub Actions
    version: int | None = field(default=None, compare=False)  # read from (None: made now)
    # The scheduled tasks that run in the cluster (None: not read, so a restore leaves them).
    scheduled_tasks: tuple[ScheduledTask, ...] | None = None

    @property
    def taken_at(self) -> datetime:
        return datetime.strptime(self.created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION if self.version is None else self.version

    def kept(self, arn: str) -> KeptTaskDefinition:
        return self.task_definitions[arn]

    def to_json(self) -> Document:
        """The sealed document (checksum added, schema checked) the store writes."""
        return seal(self.content())

    def content(self) -> Document:
        """The document before it is sealed: what a signature covers (see signing.py)."""
        document: Document = {
            "schemaVersion": SCHEMA_VERSION,
            "id": self.id,
            "createdAt": self.created_at,
            "tool": self.tool,
            "cluster": {"name": self.cluster.name, "arn": self.cluster.arn},
            "region": self.cluster.region,
            "accountId": self.cluster.account_id,
            "services": [s.to_json() for s in self.services],
            "taskDefinitions": {arn: td.to_json() for arn, td in self.task_definitions.items()},
        }
        if self.selection:
            document["selection"] = list(self.selection)
        if self.github:
            document["github"] = dict(self.github)
        if self.scheduled_tasks is not None:
            document["scheduledTasks"] = [task.to_json() for task in self.scheduled_tasks]
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Snapshot:
        """From a document loads() has verified."""
        return cls(
            id=document["id"],
            created_at=document["createdAt"],
            tool=document["tool"],
            cluster=Cluster(
                document["cluster"]["name"],
                document["cluster"]["arn"],
                document["accountId"],
                document["region"],
            ),
            services=tuple(ServiceRecord.from_json(s) for s in document["services"]),
            task_definitions={
                arn: KeptTaskDefinition(td["status"], td["body"], td["tags"])
                for arn, td in document["taskDefinitions"].items()
            },
            selection=tuple(document["selection"]) if "selection" in document else None,
            github=document.get("github"),
            version=document["schemaVersion"],
            scheduled_tasks=(
                tuple(ScheduledTask.from_json(t) for t in document["scheduledTasks"])
                if "scheduledTasks" in document
                else None
            ),
        )


def timestamp(now: datetime) -> str:
    """createdAt's form: UTC, milliseconds, Z."""
    now = now.astimezone(UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


_building = threading.Lock()


def prepare() -> None:
    """Build the schema checker now, on a thread of its own: jsonschema's import and the
    checker cost about 0.15 s of CPU, which a run spends free while its reads wait on ECS,
    rather than after them."""
    threading.Thread(target=_prepared, name="schema", daemon=True).start()


def _prepared() -> None:
    # A failure here is said once, where the checker is needed: never a thread's traceback.
    with contextlib.suppress(Exception):
        _validator()


def _validator(version: int = SCHEMA_VERSION) -> Any:
    with _building:  # one build per version, whichever thread asks first
        return _build_validator(version)


@cache
def _build_validator(version: int) -> Any:
    import jsonschema

    schema = json.loads(
        resources.files(__package__).joinpath(f"schema/snapshot-v{version}.json").read_text("utf-8")
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def canonical(document: Document, leaving: tuple[str, ...] = ("checksum",)) -> bytes:
    """The bytes the checksum covers: the document without its checksum, keys sorted (a
    signature covers the same without the signature too)."""
    content = {key: value for key, value in document.items() if key not in leaving}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(document: Document) -> str:
    return "sha256:" + hashlib.sha256(canonical(document)).hexdigest()


def _schema_problem(document: Document) -> str | None:
    validator = _validator(document.get("schemaVersion", SCHEMA_VERSION))
    error = next(iter(sorted(validator.iter_errors(document), key=str)), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{where}: {error.message[:200]}"


def seal(document: Document) -> Document:
    """Add the checksum and validate; raises ValueError on a bug that made a bad document."""
    sealed = dict(document, checksum=checksum(document))
    problem = _schema_problem(sealed)
    if problem:
        raise ValueError(f"refusing to write an invalid snapshot: {problem}")
    return sealed


def dumps(document: Document) -> bytes:
    """Readable JSON for the store (indented; the checksum does not depend on layout)."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"


def loads(data: bytes, source: str) -> Snapshot:
    """Parse and verify a stored document; refuse anything not exactly as written."""
    return Snapshot.from_json(verified(data, source))


def verified(data: bytes, source: str) -> Document:
    """The stored document, its checksum and schema verified (its signature, if wanted, is
    the store's to check: it needs the key)."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SnapshotRefused(
            f"snapshot {source} is not valid JSON (truncated or corrupted)"
        ) from None
    if not isinstance(document, dict):
        raise SnapshotRefused(f"snapshot {source} is not a snapshot document")
    version = document.get("schemaVersion")
    if type(version) is not int or version not in READABLE:  # 1.0 and true equal 1
        raise SnapshotRefused(
            f"snapshot {source} has schema version {version!r}; "
            f"this ecsundo reads versions {', '.join(map(str, READABLE[:-1]))} and {READABLE[-1]}"
        )
    if document.get("checksum") != checksum(document):
        raise SnapshotRefused(f"snapshot {source} fails its checksum (modified or corrupted)")
    problem = _schema_problem(document) or _dangling(document)
    if problem:
        raise SnapshotRefused(f"snapshot {source} does not match the schema at {problem}")
    return document


def _dangling(document: Document) -> str | None:
    """What the schema cannot say: every service's task definition is kept in full."""
    for i, service in enumerate(document["services"]):
        if (
            service["taskDefinition"]
            and service["taskDefinition"] not in document["taskDefinitions"]
        ):
            return f"services/{i}/taskDefinition: not among the taskDefinitions kept"
    for i, task in enumerate(document.get("scheduledTasks") or []):
        arn = task["taskDefinition"]
        if TD_ARN.fullmatch(arn) and arn not in document["taskDefinitions"]:
            return f"scheduledTasks/{i}/taskDefinition: not among the taskDefinitions kept"
    return None


def check_owner(snapshot: Snapshot, cluster: Cluster, source: str) -> None:
    """Refuse a snapshot taken of another cluster, region or account."""
    theirs = (snapshot.cluster.name, snapshot.cluster.region, snapshot.cluster.account_id)
    ours = (cluster.name, cluster.region, cluster.account_id)
    for what, their, our in zip(("cluster", "region", "account"), theirs, ours, strict=True):
        if their != our:
            raise SnapshotRefused(f"snapshot {source} belongs to {what} {their!r}, not {our!r}")
