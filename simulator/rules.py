"""AWS's ECS rules, layered over moto's ECS where moto is too lenient.

moto answers many ECS calls in ways AWS never would (see the "moto" section of PRODUCT.md):
it lists every service in one page, accepts an 11th service in DescribeServices, lets a service
move to an INACTIVE task definition, drops registered fields it does not model, and never runs a
deployment. Code that only passes because of that fails on AWS, so `install` patches moto's ECS
response class and backend, once per process, to behave as AWS does. What depends on time or on
the workload (how long a deployment takes, whether it succeeds) is read from the active `Rules`
on every request, so a test can change it while the server runs.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, TypeVar

from botocore import xform_name
from moto.core.responses import ActionResult
from moto.core.utils import camelcase_to_underscores, method_names_from_class, utcnow
from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError, InvalidSubnetIdError
from moto.ec2.models import ec2_backends
from moto.ecr.exceptions import RepositoryNotFoundException
from moto.ecr.responses import ECRResponse
from moto.ecs.exceptions import (
    EcsClientException,
    InvalidParameterException,
    TaskDefinitionMemoryError,
    TaskDefinitionMissingPropertyError,
    TaskDefinitionNotFoundException,
)
from moto.ecs.models import EC2ContainerServiceBackend, Service, TaskDefinition, ecs_backends
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from simulator.history import (
    HISTORY_BATCH,
    SETTINGS,
    ConflictException,
    ServiceDeploymentNotFoundException,
    ServiceNotActiveException,
    history_of,
    settings_of,
)
from simulator.stages import STRATEGIES, Progression

# ECS's request throttling (burst, sustained per second) for the APIs a restore leans on.
ECS_QUOTAS: dict[str, tuple[float, float]] = {
    "DescribeServices": (100, 20),
    "DescribeTaskDefinition": (50, 20),
    "UpdateService": (50, 5),
    "RegisterTaskDefinition": (20, 1),
}

# The other services' quotas are keyed "service:Operation" (signing name), or "service:*" for
# one bucket all of a service's operations share. Neither documents a burst: it is the rate.
#
# EventBridge: "All EventBridge APIs other than PutEvents are limited to 50 requests per second
# by default" (one account-wide budget: ListRuleNamesByTarget, ListTargetsByRule, DescribeRule,
# PutTargets... together). https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
EVENTS_QUOTAS: dict[str, tuple[float, float]] = {"events:*": (50, 50)}
# EventBridge Scheduler: a request rate per operation, "rejects requests for this operation
# for the remainder of the interval" (ThrottlingException, HTTP 429). The quota table gave 50
# per second to each in every Region; later versions raise GetSchedule, DeleteSchedule and
# CreateSchedule to 1,000 in the larger Regions and 250 in the others. 50 holds everywhere.
# https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html
SCHEDULER_QUOTAS: dict[str, tuple[float, float]] = {
    "scheduler:ListSchedules": (50, 50),
    "scheduler:GetSchedule": (50, 50),
    "scheduler:UpdateSchedule": (50, 50),
}
# Application Auto Scaling documents no request rates (its quotas page lists resource counts
# only: https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-quotas.html),
# only that throttled requests get ThrottlingException (its Common Errors): none is modelled.

Outcome = Literal["complete", "fail", "circuit-breaker"]
# How a rollout ends: an Outcome, or ECS's own rollback after StopServiceDeployment.
Ending = Literal["complete", "fail", "circuit-breaker", "stop-rollback"]
OUTCOMES: tuple[Outcome, ...] = ("complete", "fail", "circuit-breaker")

T = TypeVar("T")


@dataclass
class Rules:
    """How the simulated ECS behaves where AWS depends on time or on the workload.

    The server reads the active Rules on every request: change a field at any time. A
    deployment takes the duration and outcome in force when it starts (when UpdateService is
    called), so changing them does not rewrite deployments already under way.
    """

    #: Seconds a new deployment stays IN_PROGRESS before its outcome applies. The outcome is
    #: applied lazily, by the first DescribeServices or UpdateService that sees it due.
    deploy_seconds: float = 0.0
    #: Outcome of deployments per service name (default "complete"):
    #: "complete": rolloutState COMPLETED, older deployments removed;
    #: "fail": rolloutState FAILED, the service stays on the new task definition;
    #: "circuit-breaker": FAILED, and ECS rolls the service back to the task definition of its
    #: last completed deployment, on a new PRIMARY deployment that is COMPLETED.
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    #: CloudWatch alarms that go off during a deployment of the service, by service name: its
    #: failure ("fail" or "circuit-breaker") is then the alarms' doing, not failed tasks.
    alarms: dict[str, list[str]] = field(default_factory=dict)
    #: True: a completed deployment runs desiredCount tasks. False: tasks never start
    #: (every runningCount stays 0), whatever the rollout state says.
    running_counts_follow_desired: bool = True
    #: False: ECS's service-deployment history APIs (List/DescribeServiceDeployments,
    #: DescribeServiceRevisions, StopServiceDeployment) answer UnknownOperationException, as
    #: an endpoint or partition without them does.
    history: bool = True
    #: Real seconds per minute of a deployment configuration (bake times, linear and canary
    #: steps, lifecycle hook timeouts): tests shorten it.
    minute_seconds: float = 60.0
    #: Seconds a deleted service stays DRAINING (its tasks stopping) before it is INACTIVE.
    drain_seconds: float = 0.0
    #: Seconds added to every request's round trip (all services).
    latency_seconds: float = 0.0
    #: Throttling: operation name (ECS) or "service:Operation" (another service, by its
    #: signing name: "events:PutTargets"), or "service:*" (one bucket for all of that service's
    #: operations) -> (burst, sustained requests per second), a token bucket each; a request
    #: that finds its bucket empty gets ThrottlingException in its service's own error shape.
    #: Empty means no throttling.
    quotas: dict[str, tuple[float, float]] = field(default_factory=dict)

    #: Faults, as fractions of requests (all services): answered ThrottlingException even
    #: with tokens left, HTTP 500 InternalFailure, or the connection dropped before an answer.
    #: None of these reach moto, so a faulted request changed nothing.
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    #: An outage: once this many requests of this operation were answered, every request
    #: has its connection dropped until the field is set back to None.
    outage_after: tuple[str, int] | None = None
    #: AWS errors answered instead of moto, per ECS, tagging, ECR, KMS, EventBridge, Scheduler
    #: or Application Auto Scaling operation and per name the request carries (its service,
    #: task-definition family or cluster, rule or schedule name, or the service and cluster of
    #: a scalable target's ResourceId; "*": any): (operation, name) -> error code, e.g.
    #: ("UpdateService", "api"): "AccessDeniedException". The request changes nothing.
    refusals: dict[tuple[str, str], str] = field(default_factory=dict)
    #: EventBridge entries that fail inside a PutTargets or RemoveTargets that succeeds, as
    #: AWS reports them (FailedEntries): (rule name, target Id or "*") -> ErrorCode, e.g.
    #: ("nightly", "*"): "ConcurrentModificationException". A failed entry changes nothing.
    target_failures: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Resources deleted since that moto's ECS cannot look up (target groups, Cloud Map
    #: services and namespaces, capacity providers: ARNs or names): CreateService or
    #: UpdateService naming one is refused as ECS refuses it, and changes nothing. (Subnets
    #: and security groups are looked up in moto's EC2: delete them there.)
    deleted: set[str] = field(default_factory=set)
    #: Called with each request (a Call) before it reaches moto: a test's hook for what
    #: another actor does at that moment (a racing deploy, say).
    before_request: Callable[[Any], None] | None = None
    #: Seed of the faults' random draws, for a repeatable run.
    seed: int = 7

    @classmethod
    def aws(cls, latency_seconds: float = 0.030, **changes: Any) -> Rules:
        """What a real account looks like from a runner: round trips and the documented
        quotas of ECS, EventBridge and EventBridge Scheduler."""
        quotas = {**ECS_QUOTAS, **EVENTS_QUOTAS, **SCHEDULER_QUOTAS}
        return cls(latency_seconds=latency_seconds, quotas=quotas, **changes)

    def outcome(self, service_name: str) -> Outcome:
        """The outcome of `service_name`'s deployments; raises ValueError on an unknown one."""
        outcome = self.outcomes.get(service_name, "complete")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome for {service_name!r} must be one of {OUTCOMES}: {outcome!r}")
        return outcome


class _Active:
    """The Rules every patched method reads: moto's state is per process, and so are they."""

    rules = Rules()


def activate(rules: Rules) -> None:
    """Make `rules` the Rules the simulated ECS follows from the next request on."""
    _Active.rules = rules


def active_rules() -> Rules:
    """The Rules in force (for the rules of the other services)."""
    return _Active.rules


# --- paging ----------------------------------------------------------------------------------

MAX_PAGE = 100


def _page(
    items: list[T],
    key: Callable[[T], Any],
    *,
    descending: bool,
    max_results: int | None,
    next_token: str | None,
    default: int,
) -> tuple[list[T], str | None]:
    """One page of `items` (sorted by `key`) and the token of the next page, if any.

    The token names the last item returned, so a page boundary survives items being added or
    removed between calls. `key` must return JSON values (str, int, lists of them).
    """
    size = default if max_results is None else max_results
    if not 1 <= size <= MAX_PAGE:
        raise InvalidParameterException(f"maxResults must be between 1 and {MAX_PAGE}.")
    start = 0
    if next_token:
        last = _decode_token(next_token)
        after = [key(item) < last if descending else key(item) > last for item in items]
        start = after.index(True) if True in after else len(items)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, _encode_token(key(page[-1])) if more else None


def page_after(
    items: list[T], key: Callable[[T], str], size: int, token: str | None
) -> tuple[list[T], str | None]:
    """One page of `items` in `key` order, after the item `token` names, and the token of
    the next page (None: the last page). Raises ValueError on a token it did not make."""
    after = None
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise ValueError(f"not a page token: {token!r}") from error
    rest = sorted((item for item in items if after is None or key(item) > after), key=key)
    page = rest[:size]
    more = len(rest) > len(page)
    return page, base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if more else None


def _encode_token(last: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(last).encode()).decode()


def _decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidParameterException("Invalid nextToken.") from None


# --- task definitions ------------------------------------------------------------------------

#: Registered fields moto keeps in its own way: the family names the object, moto fills
#: container defaults as ECS does, and tags live in the tag store (DescribeTaskDefinition
#: include=["TAGS"]). Every other field is served back exactly as registered.
_FIELDS_MOTO_KEEPS = frozenset({"family", "containerDefinitions", "tags"})


def _resolve_task_definition(
    backend: EC2ContainerServiceBackend, task_definition_str: str
) -> TaskDefinition:
    """A family:revision or ARN names that revision; a bare family its latest ACTIVE revision.

    (moto returns the highest revision of a bare family even when it is INACTIVE.)
    """
    family, has_revision, revision = task_definition_str.split("/")[-1].partition(":")
    revisions = backend.task_definitions.get(family, {})
    if not has_revision:
        active = [number for number, td in revisions.items() if td.status == "ACTIVE"]
        if active:
            return revisions[max(active)]
    elif revision.isdigit() and int(revision) in revisions:
        return revisions[int(revision)]
    raise TaskDefinitionNotFoundException()


def _launchable(backend: EC2ContainerServiceBackend, ref: str) -> TaskDefinition:
    """The task definition a service may run: AWS refuses INACTIVE and unknown ones."""
    try:
        task_definition = backend.describe_task_definition(ref)
    except TaskDefinitionNotFoundException:
        raise EcsClientException("TaskDefinition not found.") from None
    if task_definition.status != "ACTIVE":
        raise EcsClientException("TaskDefinition is inactive")
    return task_definition


def _validate_container_definitions(
    memory: str | None,
    container_definitions: list[dict[str, Any]],
    requires_compatibilities: list[str] | None,
) -> None:
    """AWS's check: every container names an image, and without task-level memory each one
    sets memory or memoryReservation, whatever the compatibilities.

    (moto also demands `memory` when requiresCompatibilities includes EC2; AWS does not.)
    `requires_compatibilities` is unused: the signature is moto's.
    """
    for container in container_definitions:
        name = container.get("name") or container.get("Name")
        if not name:
            raise TaskDefinitionMissingPropertyError("name")
        if not (container.get("image") or container.get("Image")):
            raise TaskDefinitionMissingPropertyError("image")
        sizes = ("memory", "Memory", "memoryReservation", "MemoryReservation")
        if not memory and not any(size in container for size in sizes):
            raise TaskDefinitionMemoryError(name)


# --- deployments -----------------------------------------------------------------------------

_ROLLOUT = "_ecsundo_rollout"


@dataclass
class _Rollout:
    """The deployment in progress on a service (always its PRIMARY, deployments[0])."""

    due: float
    outcome: Ending
    rollback_to: str
    reason: str = ""  # why ECS rolls it back (outcome "stop-rollback")
    stages: Progression | None = None  # BLUE_GREEN, LINEAR, CANARY: where it is


def _deployment_id() -> str:
    return f"ecs-svc/{mock_random.randint(10**18, 10**19 - 1)}"


def _new_deployment(service: Service, task_definition: str) -> dict[str, Any]:
    """A PRIMARY deployment of `task_definition`, IN_PROGRESS with no task running yet."""
    template = service.deployments[0] if service.deployments else {}
    deployment_id = _deployment_id()
    now = utcnow()
    return {
        **template,
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "launchType": service.launch_type,
        "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None),
        "platformVersion": service.platform_version,
        "networkConfiguration": service.network_configuration or None,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
    }


def _complete(deployment: dict[str, Any], rules: Rules) -> None:
    follow = rules.running_counts_follow_desired
    deployment.update(
        rolloutState="COMPLETED",
        rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
        runningCount=deployment["desiredCount"] if follow else 0,
        pendingCount=0,
        updatedAt=utcnow(),
    )


def _fail(deployment: dict[str, Any], reason: str) -> None:
    deployment.update(
        rolloutState="FAILED",
        rolloutStateReason=reason,
        runningCount=0,
        pendingCount=0,
        failedTasks=max(1, deployment["desiredCount"]),
        updatedAt=utcnow(),
    )


def _recount(service: Service) -> None:
    """A service runs the tasks of all its deployments."""
    service.running_count = sum(d["runningCount"] for d in service.deployments)
    service.pending_count = sum(d["pendingCount"] for d in service.deployments)


def _event(service: Service, message: str) -> None:
    service.events.insert(
        0,
        {
            "id": str(mock_random.uuid4()),
            "createdAt": utcnow(),
            "message": f"(service {service.name}) {message}",
        },
    )


def _start_deployment(service: Service, task_definition: str, rules: Rules) -> None:
    """UpdateService to a new task definition: a new PRIMARY, the others become ACTIVE."""
    completed = (
        d["taskDefinition"] for d in service.deployments if d["rolloutState"] == "COMPLETED"
    )
    rollback_to = next(completed, service.task_definition)
    deployment = _new_deployment(service, task_definition)
    for older in service.deployments:
        older["status"] = "ACTIVE"
    service.deployments.insert(0, deployment)
    service.task_definition = task_definition
    outcome = rules.outcome(service.name)
    stages = Progression.of(
        getattr(service, "deployment_configuration", None) or {},
        rules.deploy_seconds,
        rules.minute_seconds,
    )
    rollout = _Rollout(
        due=time.monotonic() + rules.deploy_seconds if stages is None else math.inf,
        outcome=outcome,
        rollback_to=rollback_to,
        stages=stages,
    )
    if stages is not None and outcome != "complete":
        stages.stop_after_scale_up()  # its tasks fail to start
    setattr(service, _ROLLOUT, rollout)
    recorded = history_of(service._backend).start(service._backend, service, done=False)
    if stages is not None:
        stages.begin(time.monotonic(), recorded)
    _recount(service)


def _ecs_rolls_back(
    service: Service, rollout: _Rollout, deployment: dict[str, Any], reason: str, status: str
) -> None:
    """ECS rolls the deployment back to its source revision (StopServiceDeployment ROLLBACK,
    or a lifecycle hook): the stopped deployment's rollout is FAILED meanwhile."""
    deployment["status"] = status
    service.deployments[0].update(
        rolloutState="FAILED", rolloutStateReason="Stopped: rolling back."
    )
    rollout.outcome, rollout.reason, rollout.stages = "stop-rollback", reason, None
    rollout.due = time.monotonic() + _Active.rules.deploy_seconds


def _back_to_source(
    service: Service, deployment: dict[str, Any] | None, reason: str, fallback: str
) -> str:
    """ECS rolls the service back to the deployment's source revision: its task definition
    and its settings. Returns the task definition it is back on."""
    history = history_of(service._backend)
    back = history.rolled_back(deployment, reason) if deployment else None
    revision = history.revisions.get(back or "")
    if revision is None:
        return fallback
    for name in SETTINGS:
        setattr(service, xform_name(name), copy.deepcopy(revision.get(name)))
    return revision["taskDefinition"]


def _settle(service: Service, rules: Rules) -> None:
    """Apply the outcome of the service's deployment once it is due."""
    rollout: _Rollout | None = getattr(service, _ROLLOUT, None)
    if rollout is not None and rollout.outcome == "stop-rollback":
        requested = history_of(service._backend).latest(service)
        if requested and requested["status"] == "ROLLBACK_REQUESTED":
            requested["status"] = "ROLLBACK_IN_PROGRESS"  # from the first look after the stop
    if rollout is None:
        return
    if rollout.stages is not None:
        latest = history_of(service._backend).latest(service)
        assert latest is not None  # every deployment of an ECS service is recorded
        state = rollout.stages.advance(time.monotonic(), latest)
        if state == "running":
            return
        if state == "rollback":
            hook = rollout.stages.details[-1]
            reason = f"Lifecycle hook {hook['hookId']} timed out: rolling back."
            _ecs_rolls_back(service, rollout, latest, reason, "ROLLBACK_IN_PROGRESS")
        else:
            rollout.stages, rollout.due = None, 0.0
    if time.monotonic() < rollout.due:
        return
    setattr(service, _ROLLOUT, None)
    primary = service.deployments[0]
    history = history_of(service._backend)
    latest = history.latest(service)
    if rollout.outcome == "complete":
        _complete(primary, rules)
        service.deployments = [primary]
        if latest:
            history.succeed(latest)
        _event(service, f"(deployment {primary['id']}) deployment completed.")
        _event(service, "has reached a steady state.")
    elif rollout.outcome == "fail":
        reason = "ECS deployment circuit breaker: tasks failed to start."
        _fail(primary, reason)
        if latest:
            history.tripped(latest, rules.alarms.get(service.name, []))
            history.stop(latest, reason)
        _event(service, f"(deployment {primary['id']}) deployment failed: tasks failed to start.")
    else:
        stopped = rollout.outcome == "stop-rollback"
        reason = (
            rollout.reason if stopped else "ECS deployment circuit breaker: tasks failed to start."
        )
        if latest and not stopped:
            history.tripped(latest, rules.alarms.get(service.name, []))
        back = _back_to_source(service, latest, reason, rollout.rollback_to)
        rollback = _new_deployment(service, back)
        _complete(rollback, rules)
        _fail(
            primary,
            f"{'Stopped' if stopped else 'ECS deployment circuit breaker'}: rolling back to "
            f"deploymentId {rollback['id']}.",
        )
        primary["status"] = "ACTIVE"
        service.deployments = [rollback, primary]
        service.task_definition = back
        _event(service, f"(deployment {primary['id']}) deployment failed: tasks failed to start.")
        _event(service, f"(deployment {rollback['id']}) rolled back to {back}.")
    _recount(service)


def _resize(service: Service, rules: Rules) -> None:
    """UpdateService without a new deployment: only the desired count changes."""
    primary = service.deployments[0]
    primary["desiredCount"] = service.desired_count
    if primary["rolloutState"] == "COMPLETED":
        primary["runningCount"] = (
            service.desired_count if rules.running_counts_follow_desired else 0
        )
    _recount(service)


def age_deployments(
    account_id: str, region: str, service: str, cluster: str | None, age: timedelta
) -> None:
    """Move the deployments of the services named `service` (in `cluster`, a name or ARN, or
    in any cluster) `age` into the past, as if they had been made that long ago: ECS's
    history of them too, and the registration of what they run (never after they began)."""
    backend: EC2ContainerServiceBackend = ecs_backends[account_id][region]
    with _lock:
        services = [
            found
            for found in backend.services.values()
            if found.name == service and cluster in (None, found.cluster_name, found.cluster_arn)
        ]
        if not services:
            raise ValueError(f"no service {service!r} in {cluster or 'any cluster'}")
        history = history_of(backend)
        for found in services:
            for deployment in found.deployments:
                deployment["createdAt"] -= age
                deployment["updatedAt"] -= age
                # What a deployment ran was registered no later than the deployment began.
                family, revision = deployment["taskDefinition"].rsplit("/", 1)[1].split(":")
                ran = backend.task_definitions.get(family, {}).get(int(revision))
                if ran is not None:
                    ran.registered_at = min(ran.registered_at, deployment["createdAt"])
            # ECS's history of the service moves with them.
            for arn in history.by_service.get(found.arn, []):
                kept = history.deployments[arn]
                for moment in ("createdAt", "startedAt", "updatedAt", "finishedAt"):
                    if moment in kept:
                        kept[moment] -= age
            for revision_record in history.revisions.values():
                if revision_record["serviceArn"] == found.arn:
                    revision_record["createdAt"] -= age


def active_service(account_id: str, region: str, cluster: str, name: str) -> Service | None:
    """The ACTIVE service `name` of the cluster named `cluster`, moved on to now; None when
    there is none (unknown, or deleted). Call it under rules_lock()."""
    backend: EC2ContainerServiceBackend = ecs_backends[account_id][region]
    for service in backend.services.values():
        if service.cluster_name == cluster and service.name == name:
            _settle(service, _Active.rules)
            _drained(service)
            if service.status == "ACTIVE":
                return service
    return None


def keep_desired_count_within(service: Service, low: int, high: int) -> None:
    """Application Auto Scaling moves a service's desired count into [low, high] when its
    scalable target is registered or updated. Call it under rules_lock()."""
    wanted = min(max(service.desired_count, low), high)
    if wanted != service.desired_count:
        service.desired_count = wanted
        _resize(service, _Active.rules)


def missing_resource(
    params: dict[str, Any], deleted: set[str], account_id: str, region: str
) -> tuple[str, str] | None:
    """(error code, message) with which ECS refuses a CreateService or UpdateService whose
    settings name a resource that does not exist; None when all of them exist. ECS checks
    what the request names, not the settings it leaves as they are.

    Subnets and security groups are looked up in moto's EC2 (moto checks them on
    CreateService only, ECS on UpdateService too). moto's ECS knows nothing of the other
    resources a service names (target groups, Cloud Map services and namespaces, capacity
    providers): Rules.deleted names the ones deleted since."""
    network = (params.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    ec2 = ec2_backends[account_id][region]
    for subnet in network.get("subnets") or []:
        try:
            ec2.describe_subnets(subnet_ids=[subnet])
        except InvalidSubnetIdError:
            return (
                "InvalidParameterException",
                f"Error retrieving subnet information for [{subnet}]: The subnet ID "
                f"'{subnet}' does not exist (ErrorCode: InvalidSubnetID.NotFound)",
            )
    for group in network.get("securityGroups") or []:
        try:
            ec2.describe_security_groups(group_ids=[group])
        except InvalidSecurityGroupNotFoundError:
            return (
                "InvalidParameterException",
                f"Error retrieving security group information for [{group}]: The security "
                f"group '{group}' does not exist (ErrorCode: InvalidGroup.NotFound)",
            )
    lattice = params.get("vpcLatticeConfigurations") or []
    for balancer in [*(params.get("loadBalancers") or []), *lattice]:
        group = balancer.get("targetGroupArn")
        if group in deleted:
            return ("InvalidParameterException", f"The target group {group} does not exist.")
    for registry in params.get("serviceRegistries") or []:
        if registry.get("registryArn") in deleted:
            return (
                "InvalidParameterException",
                f"The service registry {registry['registryArn']} does not exist.",
            )
    connect = params.get("serviceConnectConfiguration") or {}
    if connect.get("enabled") and connect.get("namespace") in deleted:
        return ("NamespaceNotFoundException", "The specified namespace wasn't found.")
    for item in params.get("capacityProviderStrategy") or []:
        if item.get("capacityProvider") in deleted:
            return (
                "InvalidParameterException",
                f"The specified capacity provider {item['capacityProvider']} was not found.",
            )
    return None


# --- the patches -----------------------------------------------------------------------------

_Backend = EC2ContainerServiceBackend
_Response = EC2ContainerServiceResponse

_moto_call_action = _Response.call_action
_moto_register_response = _Response.register_task_definition
_moto_create_service_response = _Response.create_service
_moto_register = _Backend.register_task_definition
_moto_create_service = _Backend.create_service
_moto_describe_services = _Backend.describe_services
_moto_update_service = _Backend.update_service
_moto_delete_service = _Backend.delete_service

#: ECS state changes happen under this lock: the server answers requests on many threads.
_lock = threading.RLock()
_REVISIONS = "_ecsundo_last_revisions"


HISTORY_OPERATIONS = frozenset(
    {
        "ListServiceDeployments",
        "DescribeServiceDeployments",
        "DescribeServiceRevisions",
        "StopServiceDeployment",
        "ContinueServiceDeployment",
    }
)


def _call_action(self: EC2ContainerServiceResponse) -> Any:
    """An operation moto lacks answers 400 UnknownOperationException, not an HTML 500.

    botocore retries a 500 and then fails with an unreadable message; a 400 with an AWS error
    code fails at once with a ClientError the caller can branch on.
    """
    operation = self._get_action()
    missing = operation in HISTORY_OPERATIONS and not _Active.rules.history
    if missing or (
        operation and camelcase_to_underscores(operation) not in method_names_from_class(type(self))
    ):
        error = {
            "__type": "UnknownOperationException",
            "message": f"{operation} is not supported by the ECS simulator.",
        }
        headers = {**self.response_headers, "content-type": "application/x-amz-json-1.1"}
        return 400, headers, json.dumps(error)
    return _moto_call_action(self)


def _list_services(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListServices pages like AWS (10 by default, at most 100) and lists only the ACTIVE
    services of the cluster asked for (moto also matches clusters whose name ends with it,
    and lists deleted services)."""
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
    strategy = self._get_param("schedulingStrategy")
    launch_type = self._get_param("launchType")
    arns = sorted(
        service.arn
        for service in self.ecs_backend.services.values()
        if service.cluster_arn == cluster.arn
        and service.status == "ACTIVE"
        and strategy in (None, service.scheduling_strategy)
        and launch_type in (None, service.launch_type)
    )
    page, token = _page(
        arns,
        lambda arn: arn,
        descending=False,
        max_results=self._get_param("maxResults"),
        next_token=self._get_param("nextToken"),
        default=10,
    )
    return ActionResult({"serviceArns": page, "nextToken": token})


def _list_task_definitions(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListTaskDefinitions pages like AWS (100 at most, and by default) and honours `sort`:
    ASC orders by family name, then revision number; DESC reverses both.

    `familyPrefix` is, as on AWS, a whole family name.
    """
    family = self._get_param("familyPrefix")
    status = self._get_param("status", "ACTIVE")
    descending = self._get_param("sort", "ASC") == "DESC"
    task_definitions = sorted(
        (
            td
            for revisions in self.ecs_backend.task_definitions.values()
            for td in revisions.values()
            if td.status == status and family in (None, td.family)
        ),
        key=lambda td: (td.family, td.revision),
        reverse=descending,
    )
    page, token = _page(
        task_definitions,
        lambda td: [td.family, td.revision],
        descending=descending,
        max_results=self._get_param("maxResults"),
        next_token=self._get_param("nextToken"),
        default=MAX_PAGE,
    )
    return ActionResult({"taskDefinitionArns": [td.arn for td in page], "nextToken": token})


def _register_task_definition_response(self: EC2ContainerServiceResponse) -> ActionResult:
    """Every field the request carried is served back, including ones moto does not model
    (enableFaultInjection, trustedExecutionConfiguration, any that botocore adds later)."""
    result = _moto_register_response(self)
    task_definition = result.result["taskDefinition"]
    for name, value in json.loads(self.body).items():
        if name not in _FIELDS_MOTO_KEEPS:
            setattr(task_definition, xform_name(name), copy.deepcopy(value))
    return result


def _create_service_response(self: EC2ContainerServiceResponse) -> ActionResult:
    """A capacity provider strategy is kept on the service instead of launchType EC2."""
    strategy = self._get_param("capacityProviderStrategy")
    if strategy and self._get_param("launchType"):
        raise InvalidParameterException(
            "Specify either a launch type or a capacity provider strategy, but not both."
        )
    configuration = self._get_param("deploymentConfiguration")
    controller = (self._get_param("deploymentController") or {}).get("type", "ECS")
    _check_deployment_configuration(configuration, controller)
    result = _moto_create_service_response(self)
    if configuration:
        result.result["service"].deployment_configuration = configuration
    if strategy:
        service = result.result["service"]
        service.capacity_provider_strategy = strategy
        service.launch_type = None
        for deployment in service.deployments:
            deployment.update(capacityProviderStrategy=strategy, launchType=None)
        history = history_of(self.ecs_backend)
        for arn in history.current.get(service.arn, []):  # the first revision records it too
            history.revisions[arn]["capacityProviderStrategy"] = copy.deepcopy(strategy)
            history.revisions[arn].pop("launchType", None)
    return result


def _check_deployment_configuration(configuration: Any, controller: str) -> None:
    """A deployment strategy and its own configuration go together, on ECS's controller."""
    if not configuration:
        return
    strategy = configuration.get("strategy") or "ROLLING"
    if strategy not in STRATEGIES:
        raise InvalidParameterException(f"Invalid deployment strategy: {strategy}.")
    if strategy != "ROLLING" and controller != "ECS":
        raise InvalidParameterException(
            f"The {strategy} deployment strategy needs the ECS deployment controller."
        )
    for name, needs in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
        if configuration.get(name) is not None and strategy != needs:
            raise InvalidParameterException(
                f"{name} is only valid with the {needs} deployment strategy."
            )


def _registered_revisions(backend: EC2ContainerServiceBackend) -> dict[str, int]:
    """Family -> highest revision ever registered (moto's reset empties it with the backend)."""
    return backend.__dict__.setdefault(_REVISIONS, {})


def _register(
    self: EC2ContainerServiceBackend, family: str, *args: Any, **kwargs: Any
) -> TaskDefinition:
    """Revision numbers keep increasing: a deleted revision's number is never reused. Each
    revision says when it was registered (registeredAt), which moto leaves out."""
    with _lock:
        task_definition = _moto_register(self, family, *args, **kwargs)
        task_definition.registered_at = utcnow()
        _registered_revisions(self)[family] = task_definition.revision
        return task_definition


def _last_revision(self: EC2ContainerServiceBackend, family: str) -> int | None:
    """The highest revision ever registered in the family, deleted or not."""
    last = _registered_revisions(self).get(family, 0)
    return max([last, *self.task_definitions.get(family, {})]) or None


def _create_service(
    self: EC2ContainerServiceBackend,
    cluster_str: str,
    service_name: str,
    desired_count: int,
    task_definition_str: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> Service:
    """A new service refuses an INACTIVE task definition and starts on a COMPLETED deployment
    that runs desiredCount tasks (moto's counts come from MOTO_ECS_SERVICE_RUNNING)."""
    with _lock:
        if task_definition_str:
            _launchable(self, task_definition_str)
        service = _moto_create_service(
            self, cluster_str, service_name, desired_count, task_definition_str, *args, **kwargs
        )
        for deployment in service.deployments:
            _complete(deployment, _Active.rules)
        _recount(service)
        if service.deployment_controller.get("type", "ECS") == "ECS":
            history_of(self).start(self, service, done=True)
        return service


def _describe_services(
    self: EC2ContainerServiceBackend, cluster_str: str, service_names_or_arns: list[str]
) -> tuple[list[Service], list[dict[str, str]]]:
    """At most 10 services per call; deployments whose time has come settle first."""
    if len(service_names_or_arns) > 10:
        raise InvalidParameterException("service names can have at most 10 items.")
    with _lock:
        services, failures = _moto_describe_services(self, cluster_str, service_names_or_arns)
        for service in services:
            _settle(service, _Active.rules)
            _drained(service)
            history_of(self).show(service)
        return services, failures


def _update_service(self: EC2ContainerServiceBackend, properties: dict[str, Any]) -> Service:
    """UpdateService as on AWS.

    The task definition must be ACTIVE (a bare family means its latest ACTIVE revision) and is
    stored as its ARN; a new one, or forceNewDeployment, starts a new PRIMARY deployment that
    `Rules` settles later; a DAEMON service takes no desiredCount.
    """
    rules = _Active.rules
    with _lock:
        service = self._get_service(properties.get("cluster") or "default", properties["service"])
        _settle(service, rules)
        _drained(service)
        if service.status != "ACTIVE":
            raise ServiceNotActiveException()
        if service.scheduling_strategy == "DAEMON" and properties.get("desired_count") is not None:
            raise InvalidParameterException(
                "The daemon scheduling strategy does not support a desired count for services."
            )
        reference = properties.pop("task_definition", None)
        controller = service.deployment_controller.get("type", "ECS")
        if reference and controller != "ECS":
            raise InvalidParameterException(_CONTROLLER_REFUSALS[controller])
        target = _launchable(self, reference).arn if reference else service.task_definition
        force = bool(properties.pop("force_new_deployment", False))
        if properties.get("capacity_provider_strategy") is not None and not force:
            raise InvalidParameterException(
                "When switching from launch type to capacity provider strategy on an existing "
                "service, or making a change to a capacity provider strategy on a service that "
                "is already using one, you must force a new deployment."
            )
        _check_deployment_configuration(properties.get("deployment_configuration"), controller)
        before = copy.deepcopy(settings_of(service))
        if properties.get("capacity_provider_strategy"):
            properties["launch_type"] = None  # a strategy replaces the launch type
        _moto_update_service(self, properties)
        if controller != "ECS":
            _resize(service, rules)
        elif target != service.task_definition or force or settings_of(service) != before:
            _start_deployment(service, target, rules)
        else:
            _resize(service, rules)
        history_of(self).show(service)
        return service


_CONTROLLER_REFUSALS = {
    "CODE_DEPLOY": "Unable to update task definition on services with a CODE_DEPLOY deployment "
    "controller. Use AWS CodeDeploy to trigger a new deployment.",
    "EXTERNAL": "Unable to update task definition on services with a EXTERNAL deployment "
    "controller. Use the task set APIs (CreateTaskSet) to deploy a new task definition.",
}


def _delete_service(
    self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool
) -> Service:
    """A deleted service is DRAINING while its tasks stop (Rules.drain_seconds), then
    INACTIVE; moto makes it INACTIVE at once."""
    with _lock:
        service = _moto_delete_service(self, cluster_name, service_name, force)
        if _Active.rules.drain_seconds > 0:
            service.status = "DRAINING"
            service._ecsundo_drained_at = time.monotonic() + _Active.rules.drain_seconds
        return service


def _drained(service: Service) -> None:
    due = getattr(service, "_ecsundo_drained_at", None)
    if service.status == "DRAINING" and due is not None and time.monotonic() >= due:
        service.status = "INACTIVE"


# --- service deployments and revisions (not in moto) ----------------------------------------


def _history_service(self: EC2ContainerServiceResponse) -> Service:
    cluster = self._get_param("cluster", "default")
    return self.ecs_backend._get_service(cluster, self._get_param("service"))


def _list_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
    """Newest first, filtered by status and createdAt, paged (20 by default, 100 at most)."""
    with _lock:
        service = _history_service(self)
        _settle(service, _Active.rules)
        history = history_of(self.ecs_backend)
        wanted = self._get_param("status") or None
        created = self._get_param("createdAt") or {}
        after, before = created.get("after"), created.get("before")
        found = [
            history.deployments[arn]
            for arn in reversed(history.by_service.get(service.arn, []))
            if wanted is None or history.deployments[arn]["status"] in wanted
        ]
        if after is not None:
            found = [d for d in found if d["createdAt"].timestamp() >= float(after)]
        if before is not None:
            found = [d for d in found if d["createdAt"].timestamp() <= float(before)]
        page, token = _page(
            found,
            lambda d: d["serviceDeploymentArn"].rsplit("/", 1)[-1],
            descending=True,
            max_results=self._get_param("maxResults"),
            next_token=self._get_param("nextToken"),
            default=20,
        )
        briefs = [
            {
                key: d[key]
                for key in (
                    "serviceDeploymentArn",
                    "serviceArn",
                    "clusterArn",
                    "startedAt",
                    "createdAt",
                    "finishedAt",
                    "status",
                    "statusReason",
                )
                if key in d
            }
            | {"targetServiceRevisionArn": d["targetServiceRevision"]["arn"]}
            for d in page
        ]
    return ActionResult({"serviceDeployments": briefs, "nextToken": token})


def _by_arn(self: EC2ContainerServiceResponse, param: str, table: str) -> ActionResult:
    arns = self._get_param(param) or []
    if not 1 <= len(arns) <= HISTORY_BATCH:
        raise InvalidParameterException(f"{param} must hold from 1 to {HISTORY_BATCH} ARNs.")
    with _lock:
        known = getattr(history_of(self.ecs_backend), table)
        found = [copy.deepcopy(known[arn]) for arn in arns if arn in known]
        failures = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in known]
    key = "serviceDeployments" if table == "deployments" else "serviceRevisions"
    return ActionResult({key: found, "failures": failures})


def _describe_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
    """Deployments move on with time, whoever looks: settle the services they belong to."""
    with _lock:
        history = history_of(self.ecs_backend)
        wanted = {
            history.deployments[arn]["serviceArn"]
            for arn in self._get_param("serviceDeploymentArns") or []
            if arn in history.deployments
        }
        for service in self.ecs_backend.services.values():
            if service.arn in wanted:
                _settle(service, _Active.rules)
    return _by_arn(self, "serviceDeploymentArns", "deployments")


def _describe_service_revisions(self: EC2ContainerServiceResponse) -> ActionResult:
    return _by_arn(self, "serviceRevisionArns", "revisions")


def _deployment_now(
    backend: EC2ContainerServiceBackend, arn: str
) -> tuple[dict[str, Any], Service | None]:
    """A service deployment and its service, moved on to now (NotFound when unknown)."""
    deployment = history_of(backend).deployments.get(arn)
    if deployment is None:
        raise ServiceDeploymentNotFoundException()
    service = next(
        (s for s in backend.services.values() if s.arn == deployment["serviceArn"]), None
    )
    if service is not None:
        _settle(service, _Active.rules)
    return deployment, service


def _stop_service_deployment(self: EC2ContainerServiceResponse) -> ActionResult:
    """Only a PENDING or IN_PROGRESS deployment can be stopped (ConflictException once it
    finished). ROLLBACK: ECS returns the service to the source revision, registering
    nothing; ABORT: the deployment stops where it is."""
    arn = self._get_param("serviceDeploymentArn")
    stop_type = self._get_param("stopType", "ROLLBACK")
    if stop_type not in ("ROLLBACK", "ABORT"):
        raise InvalidParameterException("stopType must be ROLLBACK or ABORT.")
    with _lock:
        deployment, service = _deployment_now(self.ecs_backend, arn)
        if deployment["status"] in ("STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
            return ActionResult({"serviceDeploymentArn": arn})  # it goes on as requested
        if deployment["status"] not in ("PENDING", "IN_PROGRESS"):
            raise ConflictException(
                f"The service deployment is {deployment['status']}: only a PENDING or "
                "IN_PROGRESS service deployment can be stopped."
            )
        rollout: _Rollout | None = getattr(service, _ROLLOUT, None)
        if stop_type == "ROLLBACK" and service is not None and rollout is not None:
            # Requested now; in progress from the next look.
            reason = "Service deployment rolled back because of a StopServiceDeployment request."
            _ecs_rolls_back(service, rollout, deployment, reason, "ROLLBACK_REQUESTED")
        else:
            deployment.update(status="STOPPED", statusReason="Stopped by request.")
            if service is not None:
                setattr(service, _ROLLOUT, None)
    return ActionResult({"serviceDeploymentArn": arn})


def _continue_service_deployment(self: EC2ContainerServiceResponse) -> ActionResult:
    """A deployment paused at a PAUSE lifecycle hook goes on (CONTINUE, the default) or ECS
    rolls it back (ROLLBACK); only the hook awaiting action can be acted on."""
    arn = self._get_param("serviceDeploymentArn")
    hook_id = self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    if action not in ("CONTINUE", "ROLLBACK"):
        raise InvalidParameterException("action must be CONTINUE or ROLLBACK.")
    with _lock:
        deployment, service = _deployment_now(self.ecs_backend, arn)
        rollout: _Rollout | None = getattr(service, _ROLLOUT, None)
        stages = rollout.stages if rollout is not None else None
        if stages is None:
            acted = False
        elif action == "CONTINUE":
            acted = stages.proceed(hook_id, time.monotonic(), deployment)
        else:
            acted = stages.give_up(hook_id, deployment)
        if not acted:
            raise InvalidParameterException(f"No lifecycle hook {hook_id} awaits action.")
        if action == "ROLLBACK":
            assert service is not None and rollout is not None
            reason = f"Lifecycle hook {hook_id}: rolled back by request."
            _ecs_rolls_back(service, rollout, deployment, reason, "ROLLBACK_IN_PROGRESS")
    return ActionResult({"serviceDeploymentArn": arn})


def rules_lock() -> threading.RLock:
    """The lock ECS state changes happen under (for verbs a test calls in-process)."""
    return _lock


def _batch_get_image(self: ECRResponse) -> ActionResult:
    """ECR's BatchGetImage, answered from the registry ECS resolves tags in (moto's ECR
    knows nothing of those builds): an image a lifecycle policy expired (Registry.expire) is
    an ImageNotFound failure, a repository with no builds a RepositoryNotFoundException."""
    account = self._get_param("registryId") or self.current_account
    name = self._get_param("repositoryName")
    repository = f"{account}.dkr.ecr.{self.region}.amazonaws.com/{name}"
    with _lock:
        registry = history_of(ecs_backends[self.current_account][self.region]).registry
        images: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for image_id in self._get_param("imageIds") or []:
            tag = image_id.get("imageTag")
            digest = image_id.get("imageDigest") or registry.tags.get(f"{repository}:{tag}")
            held = registry.holds(repository, digest or "")
            if held is None:
                raise RepositoryNotFoundException(name, account)
            if held:
                found = {**image_id, "imageDigest": digest}
                images.append(
                    {
                        "registryId": account,
                        "repositoryName": name,
                        "imageId": found,
                        "imageManifest": "{}",
                        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
                    }
                )
            else:
                failures.append(
                    {
                        "imageId": image_id,
                        "failureCode": "ImageNotFound",
                        "failureReason": "Requested image not found",
                    }
                )
    return ActionResult({"images": images, "failures": failures})


def install() -> None:
    """Layer the rules over moto's ECS in this process; calling it again does nothing."""
    with _lock:
        if getattr(_Backend, "_ecsundo_rules", False):
            return
        _Response.call_action = _call_action
        _Response.list_services = _list_services
        _Response.list_task_definitions = _list_task_definitions
        _Response.register_task_definition = _register_task_definition_response
        _Response.create_service = _create_service_response
        _Backend.describe_task_definition = _resolve_task_definition
        _Backend._validate_container_defs = staticmethod(_validate_container_definitions)
        _Backend._get_last_task_definition_revision_id = _last_revision
        _Backend.register_task_definition = _register
        _Backend.create_service = _create_service
        _Backend.describe_services = _describe_services
        _Backend.update_service = _update_service
        _Backend.delete_service = _delete_service
        _Response.list_service_deployments = _list_service_deployments
        _Response.describe_service_deployments = _describe_service_deployments
        _Response.describe_service_revisions = _describe_service_revisions
        _Response.stop_service_deployment = _stop_service_deployment
        _Response.continue_service_deployment = _continue_service_deployment
        ECRResponse.batch_get_image = _batch_get_image
        _Backend._ecsundo_rules = True
