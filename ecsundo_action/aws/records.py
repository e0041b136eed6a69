"""Typed records for the ECS resources the engine handles.

AWS's dicts are converted once, where they arrive (the gateway), and these frozen records
travel on. No AWS calls and no botocore here.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ecsundo_action.aws.arns import CLUSTER_ARN, DIGEST, family_and_revision, short_digest


@dataclass(frozen=True)
class Cluster:
    name: str
    arn: str
    account_id: str
    region: str

    @classmethod
    def from_arn(cls, arn: str) -> Cluster:
        match = CLUSTER_ARN.fullmatch(arn)
        if not match:
            raise ValueError(f"not a cluster ARN: {arn}")
        return cls(match["name"], arn, match["account"], match["region"])


@dataclass(frozen=True)
class TaskDefinition:
    """A described task definition: its registerable body, tags and status."""

    arn: str
    status: str
    body: dict[str, Any]
    tags: list[dict[str, str]] = field(default_factory=list)
    registered_at: datetime | None = None  # a release of it cannot have started earlier

    @property
    def family(self) -> str:
        return family_and_revision(self.arn)[0]

    @property
    def revision(self) -> int:
        return family_and_revision(self.arn)[1]

    def tag(self, key: str) -> str | None:
        return next((t["value"] for t in self.tags if t.get("key") == key), None)


# Service settings a service revision records and UpdateService can set again, by their
# API names. (launchType is recorded too, but UpdateService cannot change it.)
SERVICE_SETTINGS = (
    "networkConfiguration",
    "capacityProviderStrategy",
    "platformVersion",
    "loadBalancers",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
    "vpcLatticeConfigurations",
)


@dataclass(frozen=True)
class ContainerImage:
    """What one container ran: its image reference and the digest ECS resolved it to."""

    container: str
    image: str
    digest: str | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> ContainerImage:
        digest = raw.get("imageDigest")
        if not (isinstance(digest, str) and DIGEST.fullmatch(digest)):
            digest = None  # only a sha256 digest pins an image
        return cls(raw.get("containerName", ""), raw.get("image", ""), digest)

    def to_json(self) -> dict[str, str]:
        found = {"containerName": self.container, "image": self.image}
        if self.digest:
            found["imageDigest"] = self.digest
        return found

    @property
    def reference(self) -> str:
        """The image with the digest it ran, when known: repo:tag@sha256:... (a valid
        reference: the digest decides, the tag says which one it was)."""
        if self.digest and "@" not in self.image:
            return f"{self.image}@{self.digest}"
        return self.image

    @property
    def label(self) -> str:
        """A few characters a person recognises: the tag, or a short digest when the
        reference is a digest (web:1.4.2, web@9f3c12ab34cd)."""
        name = self.image.rsplit("/", 1)[-1]
        if "@" in name:
            return f"{name.split('@', 1)[0].split(':', 1)[0]}@{short_digest(name.split('@', 1)[1])}"
        return name

    @property
    def pinned(self) -> str:
        """The image by digest: repo@sha256:... (the reference as it is when it has none)."""
        if not self.digest or "@" in self.image:
            return self.image
        repository = self.image
        last = repository.rsplit("/", 1)[-1]
        if ":" in last:
            repository = repository.rsplit(":", 1)[0]
        return f"{repository}@{self.digest}"


@dataclass(frozen=True)
class ServiceRevision:
    """A service revision: what ECS deployed, images resolved to digests, and the settings."""

    arn: str
    task_definition: str | None
    images: tuple[ContainerImage, ...]
    settings: Mapping[str, Any]
    launch_type: str | None = None
    created_at: datetime | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> ServiceRevision:
        created = raw.get("createdAt")
        return cls(
            arn=raw["serviceRevisionArn"],
            task_definition=raw.get("taskDefinition"),
            images=tuple(ContainerImage.from_api(i) for i in raw.get("containerImages", [])),
            settings=settings_from(raw),
            launch_type=raw.get("launchType"),
            created_at=created if isinstance(created, datetime) else None,
        )

    @property
    def digests(self) -> frozenset[tuple[str, str | None]]:
        """(container, digest) for each container: what this revision really ran."""
        return frozenset((i.container, i.digest) for i in self.images)


def images_of(body: Mapping[str, Any]) -> tuple[ContainerImage, ...]:
    """The images a task-definition body names (no digests: a body holds none)."""
    return tuple(
        ContainerImage(str(c.get("name", "")), str(c.get("image", "")))
        for c in body.get("containerDefinitions") or ()
    )


def by_age(revisions: Iterable[ServiceRevision]) -> list[ServiceRevision]:
    """Oldest first: AWS states no order for a service's current revisions."""
    return sorted(revisions, key=lambda r: (r.created_at is None, r.created_at or datetime.min))


def running_revision(
    service: Service, revisions: Mapping[str, ServiceRevision]
) -> ServiceRevision | None:
    """The revision the service's newest deployment runs, among its current revisions
    described in revisions (None: unknown)."""
    known = by_age(revisions[arn] for arn in service.current_revisions if arn in revisions)
    same = [r for r in known if r.task_definition == service.task_definition]
    chosen = same or known
    return chosen[-1] if chosen else None


def settings_from(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The service settings of a revision or deployment, every one named (None: not set),
    so that a setting a deploy added shows as a difference too."""
    return {name: raw.get(name) or None for name in SERVICE_SETTINGS}


def _number(value: Any) -> float:
    """A finite number ECS gave, else 0."""
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


@dataclass(frozen=True)
class Hook:
    """A lifecycle hook of a service deployment, as ECS reports it."""

    id: str  # as ECS gave it (empty when it gave none)
    status: str  # IN_PROGRESS, AWAITING_ACTION, SUCCEEDED, FAILED, TIMED_OUT, ...


@dataclass(frozen=True)
class ServiceDeployment:
    """One of ECS's service deployments: from which revisions to which, how it stands, where
    a staged rollout is, and why ECS stopped it."""

    arn: str
    service_arn: str
    status: str  # PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, ROLLBACK_..., ...
    sources: tuple[str, ...]  # service revision ARNs it replaces
    target: str | None  # the service revision ARN it deploys
    created_at: datetime | None = None
    status_reason: str = ""  # whitespace folded
    # A staged rollout (BLUE_GREEN, LINEAR, CANARY, lifecycle hooks): its stage, strategy,
    # bake time, linear step, the production traffic its target asks for, and its hooks.
    stage: str | None = None
    strategy: str | None = None
    bake_minutes: float = 0.0
    step_percent: float = 0.0  # 0: not given (ECS's default applies)
    production_weight: float = 0.0
    hooks: tuple[Hook, ...] = ()
    # Why ECS stopped it: the alarms that went off, the circuit breaker (failure count and
    # threshold, as ECS gave them), the rollback's reason.
    alarms: tuple[str, ...] = ()
    breaker: tuple[str, str] | None = None
    rollback_reason: str | None = None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> ServiceDeployment:
        created = raw.get("createdAt") or raw.get("startedAt")
        target = raw.get("targetServiceRevision") or {}
        configuration = raw.get("deploymentConfiguration") or {}
        alarms = raw.get("alarms") or {}
        breaker = raw.get("deploymentCircuitBreaker") or {}
        return cls(
            arn=raw.get("serviceDeploymentArn", ""),
            service_arn=raw.get("serviceArn", ""),
            status=raw.get("status", ""),
            sources=tuple(s["arn"] for s in raw.get("sourceServiceRevisions", []) if s.get("arn")),
            target=target.get("arn"),
            created_at=created if isinstance(created, datetime) else None,
            status_reason=" ".join(str(raw.get("statusReason", "")).split()),
            stage=raw.get("lifecycleStage"),
            strategy=configuration.get("strategy"),
            bake_minutes=_number(configuration.get("bakeTimeInMinutes")),
            step_percent=_number(
                (configuration.get("linearConfiguration") or {}).get("stepPercent")
            ),
            production_weight=_number(target.get("requestedProductionTrafficWeight")),
            hooks=tuple(
                Hook(str(h.get("hookId", "")), str(h.get("status", "")))
                for h in raw.get("lifecycleHookDetails") or []
            ),
            alarms=tuple(alarms.get("triggeredAlarmNames") or ())
            if alarms.get("status") == "TRIGGERED"
            else (),
            breaker=(
                (str(breaker.get("failureCount", "?")), str(breaker.get("threshold", "?")))
                if breaker.get("status") == "TRIGGERED"
                else None
            ),
            rollback_reason=(raw.get("rollback") or {}).get("reason"),
        )

    @property
    def in_flight(self) -> bool:
        """Still going: StopServiceDeployment can roll it back (ECS's own rollback)."""
        return self.status in ("PENDING", "IN_PROGRESS")


@dataclass(frozen=True)
class Deployment:
    """One entry of a service's `deployments` (PRIMARY, ACTIVE or INACTIVE)."""

    id: str
    status: str
    task_definition: str | None
    rollout_state: str | None = None  # IN_PROGRESS, COMPLETED, FAILED; absent on old APIs
    rollout_state_reason: str = ""
    created_at: datetime | None = None
    running_count: int = 0
    desired_count: int = 0

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Deployment:
        created = raw.get("createdAt")
        return cls(
            id=raw.get("id", ""),
            status=raw.get("status", ""),
            task_definition=raw.get("taskDefinition"),
            rollout_state=raw.get("rolloutState"),
            rollout_state_reason=" ".join(str(raw.get("rolloutStateReason", "")).split()),
            created_at=created if isinstance(created, datetime) else None,
            running_count=raw.get("runningCount", 0),
            desired_count=raw.get("desiredCount", 0),
        )


@dataclass(frozen=True)
class Service:
    """A described service, as the engine needs it."""

    name: str
    arn: str
    task_definition: str | None  # an EXTERNAL service may have none (its task sets do)
    status: str = "ACTIVE"  # ACTIVE, DRAINING (being deleted) or INACTIVE (deleted)
    desired_count: int = 0
    scheduling_strategy: str = "REPLICA"
    controller: str = "ECS"  # the deployment controller: ECS, CODE_DEPLOY or EXTERNAL
    launch_type: str | None = None
    capacity_provider_strategy: tuple[Mapping[str, Any], ...] = ()
    deployments: tuple[Deployment, ...] = ()
    # ECS's service revisions serving now (two while a rollout replaces one with the other,
    # the newest last) and the service deployment in progress or last made.
    current_revisions: tuple[str, ...] = ()
    current_deployment: str | None = None
    # How ECS deploys it: ROLLING, or BLUE_GREEN, LINEAR, CANARY (lifecycle stages, bake
    # times); and whether lifecycle hooks can hold a rollout (a PAUSE hook waits for people).
    strategy: str = "ROLLING"
    hooked: bool = False

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Service:
        configuration = raw.get("deploymentConfiguration") or {}
        return cls(
            name=raw["serviceName"],
            arn=raw["serviceArn"],
            task_definition=raw.get("taskDefinition"),
            status=raw.get("status", "ACTIVE"),
            desired_count=raw.get("desiredCount", 0),
            scheduling_strategy=raw.get("schedulingStrategy", "REPLICA"),
            controller=raw.get("deploymentController", {}).get("type", "ECS"),
            launch_type=raw.get("launchType"),
            capacity_provider_strategy=tuple(raw.get("capacityProviderStrategy") or ()),
            deployments=tuple(Deployment.from_api(d) for d in raw.get("deployments", [])),
            current_revisions=tuple(
                r["arn"] for r in raw.get("currentServiceRevisions") or [] if r.get("arn")
            ),
            current_deployment=raw.get("currentServiceDeployment"),
            strategy=configuration.get("strategy") or "ROLLING",
            hooked=bool(configuration.get("lifecycleHooks")),
        )

    @property
    def staged(self) -> bool:
        """Its rollouts go through lifecycle stages that can take long: worth saying where."""
        return self.strategy != "ROLLING" or self.hooked

    @property
    def primary(self) -> Deployment | None:
        """The deployment ECS is driving the service towards."""
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    @property
    def rolling_out(self) -> bool:
        """Its newest deployment is not proven: still in progress, or it failed (the
        circuit breaker without rollback leaves the FAILED deployment in place)."""
        primary = self.primary
        return primary is not None and primary.rollout_state in ("IN_PROGRESS", "FAILED")

    @property
    def serving(self) -> Deployment | None:
        """The deployment that serves while one rolls out: the last that completed."""
        if not self.rolling_out:
            return self.primary
        return next(
            (d for d in self.deployments if d.status == "ACTIVE" and d.rollout_state != "FAILED"),
            None,
        )

    @property
    def daemon(self) -> bool:
        """A DAEMON service has no settable desiredCount."""
        return self.scheduling_strategy == "DAEMON"


# -- scheduled tasks and service auto scaling ---------------------------------------------


class Kind(StrEnum):
    """What a row or step is about."""

    SERVICE = "service"
    RULE = "rule"  # an EventBridge rule's ECS target
    SCHEDULE = "schedule"  # an EventBridge Scheduler schedule
    SCALABLE_TARGET = "auto-scaling"  # a service's scalable target and scaling policies


@dataclass(frozen=True)
class ScheduledTask:
    """One scheduled task as read: where it lives, and its definition whole (a rule's
    target, or the schedule as UpdateSchedule takes it)."""

    kind: Kind
    name: str  # what a person names it: rule or schedule, with its bus or group if not default
    arn: str  # the rule's or the schedule's
    container: str  # the rule's event bus, or the schedule's group
    resource: str  # the rule's or the schedule's own name
    target_id: str | None  # a rule target's Id
    # Never in a repr: a target's Input may carry environment values.
    definition: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        """Unique in a cluster: its kind, where it lives, and (a rule's) which target."""
        parts = [str(self.kind), self.container, self.resource, self.target_id or ""]
        return "/".join(parts).rstrip("/")

    @property
    def ecs_parameters(self) -> Mapping[str, Any]:
        target = self.definition if self.kind == Kind.RULE else self.definition.get("Target", {})
        return target.get("EcsParameters") or {}

    @property
    def task_definition(self) -> str:
        return str(self.ecs_parameters.get("TaskDefinitionArn", ""))

    def running(self, task_definition: str) -> dict[str, Any]:
        """Its definition, running `task_definition` instead."""
        found = copy.deepcopy(dict(self.definition))
        target = found if self.kind == Kind.RULE else found["Target"]
        target["EcsParameters"]["TaskDefinitionArn"] = task_definition
        return found

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": str(self.kind),
            "name": self.name,
            "arn": self.arn,
            "taskDefinition": self.task_definition,
            "definition": jsonable(self.definition),
        }
        if self.kind == Kind.RULE:
            record["eventBus"], record["rule"] = self.container, self.resource
            record["targetId"] = self.target_id
        else:
            record["group"], record["schedule"] = self.container, self.resource
        return record

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> ScheduledTask:
        kind = Kind(record["kind"])
        rule = kind == Kind.RULE
        return cls(
            kind,
            record["name"],
            record["arn"],
            record["eventBus"] if rule else record["group"],
            record["rule"] if rule else record["schedule"],
            record.get("targetId") if rule else None,
            record["definition"],
        )


def jsonable(value: Any) -> Any:
    """A definition as JSON keeps it: dates (a schedule's StartDate) as ISO 8601 text."""
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


SUSPENDED = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")
# What PutScalingPolicy is sent back of a described policy.
POLICY_FIELDS = (
    "PolicyName",
    "PolicyType",
    "TargetTrackingScalingPolicyConfiguration",
    "StepScalingPolicyConfiguration",
    "PredictiveScalingPolicyConfiguration",
)


@dataclass(frozen=True)
class ScalableTarget:
    """A service's auto scaling as read: registered False means it had none."""

    registered: bool
    min_capacity: int = 0
    max_capacity: int = 0
    suspended: Mapping[str, bool] = field(default_factory=dict)
    policies: tuple[Mapping[str, Any], ...] = ()  # each as PutScalingPolicy takes it back

    @property
    def capacity(self) -> str:
        return f"min {self.min_capacity}, max {self.max_capacity}" if self.registered else "none"

    def policy(self, name: str) -> Mapping[str, Any] | None:
        return next((p for p in self.policies if p.get("PolicyName") == name), None)

    def to_json(self) -> dict[str, Any] | None:
        if not self.registered:
            return None
        return {
            "minCapacity": self.min_capacity,
            "maxCapacity": self.max_capacity,
            "suspendedState": dict(self.suspended),
            "policies": [dict(p) for p in self.policies],
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> ScalableTarget:
        if record is None:
            return NONE
        return cls(
            True,
            record["minCapacity"],
            record["maxCapacity"],
            record.get("suspendedState") or {},
            tuple(record.get("policies") or ()),
        )


NONE = ScalableTarget(False)
