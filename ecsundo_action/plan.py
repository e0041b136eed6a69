"""The plan: what changes, from what, to what. Plain data, no I/O.

Restore and rollback gather facts read-only, decide each service's Step with the pure
functions here, and converge.py carries the steps out. A dry run reports the same Plan; tests
assert on it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ecsundo_action.aws.arns import TD_ARN, short_digest, short_name
from ecsundo_action.aws.records import (
    SERVICE_SETTINGS,
    ContainerImage,
    Kind,
    ScalableTarget,
    ScheduledTask,
    Service,
    ServiceDeployment,
    ServiceRevision,
)
from ecsundo_action.reasons import Reason, Why, because, say

# The tag a re-registration carries, naming the task definition it recreates. It is how a
# later restore finds and reuses it instead of registering yet another revision.
PROVENANCE_TAG = "ecsundo:restored-from"


class Action(StrEnum):
    UNCHANGED = "unchanged"  # already on its target: not touched
    UPDATE = "update"  # UpdateService to an ACTIVE task definition
    REREGISTER = "re-register"  # register the target again, then UpdateService to it
    MISSING = "missing"  # the service no longer exists, or is being deleted
    SKIP = "skip"  # nothing to go to, or it could not be decided (the reason says which)
    SKIPPED = "skipped"  # not ECS's to deploy (CodeDeploy, task sets): how to, in the reason
    STOP = "stop"  # StopServiceDeployment(ROLLBACK): ECS rolls the in-flight deploy back
    SNAPSHOT = "snapshot"  # a snapshot's row: recorded, nothing changed


class Scope(StrEnum):
    """What a restore or rollback puts back besides the task definition."""

    SERVICE = "service"  # the service settings a deploy changed, too
    TASK_DEFINITION = "task-definition"  # the task definition only


class PinImages(StrEnum):
    """When a target's images are pinned to the digests that ran."""

    AUTO = "auto"  # where the evidence shows the tag moved
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class TargetFacts:
    """What ECS says now about a task definition a service should end on."""

    status: str | None  # ACTIVE, INACTIVE, DELETE_IN_PROGRESS; None when gone
    reuse: str | None = None  # an ACTIVE earlier re-registration of the same body


ACTIVE = TargetFacts("ACTIVE")


@dataclass(frozen=True)
class Registration:
    """A task definition to register again: its body and tags as they were."""

    original: str
    body: dict[str, Any]
    tags: list[dict[str, str]]

    def request_tags(self) -> list[dict[str, str]]:
        """Its own tags (minus AWS-reserved aws:* keys, which cannot be set) plus provenance."""
        kept = [
            t
            for t in self.tags
            if not t.get("key", "").lower().startswith("aws:") and t.get("key") != PROVENANCE_TAG
        ]
        return [*kept, {"key": PROVENANCE_TAG, "value": self.original}]


@dataclass(frozen=True)
class Step:
    service: str
    service_arn: str | None
    action: Action
    current: str | None  # the task definition it runs now ("from")
    target: str | None  # where it should end ("to"); for re-register, the original ARN
    desired_count: int | None = None  # sent only when restoring counts, never for DAEMON
    why: tuple[Reason, ...] = ()  # codes; `reason` says them in words
    # Ids of the service's deployments when it was read: one that appears later and is not
    # ours is a deploy racing this run.
    seen: tuple[str, ...] = field(default=(), compare=False)
    # Service settings to put back in the same UpdateService (scope: service).
    settings: Mapping[str, Any] = field(default_factory=dict)
    # (container, digest) the service must run once it settled: what the snapshot saw.
    expect: frozenset[tuple[str, str]] = field(default=frozenset(), compare=False)
    # STOP: the service deployment to stop, and the step to take instead if it has finished
    # by the time the request lands (ConflictException).
    deployment: str | None = field(default=None, compare=False)
    fallback: Step | None = field(default=None, compare=False)
    # For the report: the images the service runs now and those it should end on (empty:
    # unknown), and whether the target is a copy pinned to digests.
    before: tuple[ContainerImage, ...] = field(default=(), compare=False)
    after: tuple[ContainerImage, ...] = field(default=(), compare=False)
    pinned: bool = field(default=False, compare=False)
    # What it changes: a service, or a scheduled task (its rule target or schedule, put back
    # whole as `put` says, with the task definition it lands on filled in).
    kind: Kind = Kind.SERVICE
    task: ScheduledTask | None = field(default=None, compare=False)
    put: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # AUTO_SCALING: what of the service's auto scaling goes back.
    scaling: ScalingChange | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """Unique in a plan: a service's name, a scheduled task's kind and place, or what
        else of a service it changes (its auto scaling)."""
        if self.task is not None:
            return self.task.key
        return self.service if self.kind == Kind.SERVICE else f"{self.kind}/{self.service}"

    @property
    def reason(self) -> str:
        return say(self.why)

    def has(self, why: Why) -> bool:
        return any(r.why == why for r in self.why)

    @property
    def changes(self) -> bool:
        return self.action in (Action.UPDATE, Action.REREGISTER, Action.STOP)


@dataclass(frozen=True)
class ScalingChange:
    """A service's auto scaling as the snapshot saw it, and what of it must be put back."""

    target: ScalableTarget
    register: bool  # its minimum, maximum or suspended state (or the target itself)
    policies: tuple[Mapping[str, Any], ...] = ()  # changed or deleted since


@dataclass
class Plan:
    cluster_arn: str
    steps: list[Step] = field(default_factory=list)
    registrations: dict[str, Registration] = field(default_factory=dict)

    @property
    def changing(self) -> list[Step]:
        return [s for s in self.steps if s.changes]

    def add(self, step: Step, registration: Registration | None = None) -> None:
        """Append a step; a registration it needs is kept once per original."""
        self.steps.append(step)
        if registration is not None:
            self.registrations.setdefault(registration.original, registration)

    def order(self, names: Iterable[str]) -> None:
        """Put the steps in the order of names (steps are added as their facts arrive)."""
        rank = {name: i for i, name in enumerate(names)}
        # A service's own step before what else of it changes (its auto scaling).
        self.steps.sort(key=lambda s: (rank.get(s.service, len(rank)), s.kind != Kind.SERVICE))


def plan_step(
    service: Service,
    target: str,
    facts: TargetFacts,
    *,
    can_register: bool,
    desired_count: int | None = None,
    why: tuple[Reason, ...] = (),
    pinned: bool = False,
    settings: Mapping[str, Any] | None = None,
    expect: frozenset[tuple[str, str]] = frozenset(),
) -> Step:
    """Decide what one existing service needs to end on target.

    A service already on its target is not touched, even when that target has since been
    deregistered (ECS keeps running it). An ACTIVE target is used as is; an earlier
    re-registration of it is reused; otherwise it is registered again when its body is
    known (can_register), and skipped with the reason when it is not. A pinned target (its
    images by digest) is never the original itself, only a registration of the pinned body.
    Settings to put back, and a desired count, ride in the same UpdateService.
    """
    name, arn, current = service.name, service.arn, service.task_definition
    seen = tuple(d.id for d in service.deployments if d.id)
    sent = dict(settings or {})

    def step(action: Action, to: str | None, count: int | None, *said: Reason) -> Step:
        changing = action in (Action.UPDATE, Action.REREGISTER)
        return Step(
            name,
            arn,
            action,
            current,
            to,
            count,
            (*why, *said),
            seen,
            sent if changing else {},
            expect if changing else frozenset(),
            pinned=pinned and changing,
        )

    if service.daemon or desired_count == service.desired_count:
        desired_count = None
    usable = facts.status == "ACTIVE" and not pinned
    landing = target if usable else facts.reuse
    if current in ((landing,) if pinned else (target, landing)):
        if desired_count is None and not sent:
            if current == target:
                return step(Action.UNCHANGED, current, None)
            return step(
                Action.UNCHANGED, current, None, because(Why.ON_COPY, target=short_name(target))
            )
        if desired_count is None:
            return step(Action.UPDATE, current, None)
        count = because(Why.DESIRED_COUNT, now=service.desired_count, to=desired_count)
        return step(Action.UPDATE, current, desired_count, count)
    if usable:
        return step(Action.UPDATE, target, desired_count)
    state = facts.status or "deleted"
    # Why the original itself will not do: it is gone, or its images must be pinned.
    if pinned:
        why_not = because(Why.TARGET_PINNED, target=short_name(target))
    else:
        why_not = because(Why.TARGET_GONE, target=short_name(target), state=state)
    if facts.reuse:
        reuse = because(Why.REUSING, copy=short_name(facts.reuse))
        return step(Action.UPDATE, facts.reuse, desired_count, why_not, reuse)
    if not can_register:
        return step(Action.SKIP, target, None, because(Why.NO_BODY, original=why_not))
    return step(Action.REREGISTER, target, desired_count, why_not, because(Why.REGISTERING))


def missing_step(name: str, target: str | None, status: str | None = None) -> Step:
    """A service of the snapshot deleted since (status None), or being deleted (DRAINING)."""
    why = because(Why.GONE) if status is None else because(Why.BEING_DELETED, status=status)
    return Step(name, None, Action.MISSING, None, target, why=(why,))


# How to roll back a service ECS does not deploy itself.
CONTROLLED_ELSEWHERE = {"CODE_DEPLOY": Why.CODE_DEPLOY, "EXTERNAL": Why.TASK_SETS}


def left_alone_step(
    service: Service, target: str | None, why: Reason, *, named: bool = False
) -> Step:
    """A service this run does not change, for a reason it says (CodeDeploy or task sets
    deploy it, there is nothing to go back to): named explicitly, it was asked for and could
    not be done, which is a failure (SKIP); otherwise it is only skipped (SKIPPED)."""
    action = Action.SKIP if named else Action.SKIPPED
    return Step(service.name, service.arn, action, service.task_definition, target, why=(why,))


def skip_step(service: Service, target: str | None, why: Reason) -> Step:
    """A service left as it is, with the reason (its target could not be read, ...)."""
    return Step(service.name, service.arn, Action.SKIP, service.task_definition, target, why=(why,))


def not_taken(step: Step, *why: Reason) -> Step:
    """A step decided, then not to be taken (an image it pulls is gone): its service is left
    as it is, with the reasons."""
    return Step(step.service, step.service_arn, Action.SKIP, step.current, step.target, why=why)


def unchanged_step(service: Service, why: Reason) -> Step:
    return Step(
        service.name,
        service.arn,
        Action.UNCHANGED,
        service.task_definition,
        service.task_definition,
        why=(why,),
    )


# -- fidelity: the images and service settings that ran, not just the task definition ------


def pins_for(
    recorded: tuple[ContainerImage, ...] | None,
    running: ServiceRevision | None,
    mode: PinImages,
) -> tuple[list[ContainerImage], list[Reason]]:
    """The containers to pin to the digest the snapshot saw, and why.

    ECS resolves a tag when it deploys: going back to an old task definition whose image is a
    mutable tag runs whatever the tag points at now. `auto` pins where the evidence shows the
    tag moved (the service runs the same image reference with another digest now); `always`
    pins every tagged image; `never` keeps tags.
    """
    if mode == PinImages.NEVER or not recorded:
        return [], []
    now = {(i.container, i.image): i.digest for i in running.images} if running else {}
    pins: list[ContainerImage] = []
    notes: list[Reason] = []
    for image in recorded:
        if "@" in image.image:
            continue  # already named by its digest
        if not image.digest:
            if mode == PinImages.ALWAYS:  # asked for, and cannot be done: said, not silent
                notes.append(because(Why.NOT_PINNED, container=image.container))
            continue
        moved = now.get((image.container, image.image))
        # Already on a copy pinned to this digest: stay pinned (a restore is idempotent).
        held = (image.container, image.pinned) in now
        if held:
            pins.append(image)
        elif mode == PinImages.ALWAYS or (moved and moved != image.digest):
            pins.append(image)
            digest = short_digest(image.digest)
            if moved:
                notes.append(
                    because(
                        Why.PIN_MOVED, image=image.image, now=short_digest(moved), digest=digest
                    )
                )
            else:
                notes.append(because(Why.PIN, digest=digest))
    return pins, notes


def pinned_body(body: Mapping[str, Any], pins: list[ContainerImage]) -> dict[str, Any]:
    """The body with each pinned container's image named by its digest."""
    by_container = {pin.container: pin.pinned for pin in pins}
    copied = copy.deepcopy(dict(body))
    for container in copied["containerDefinitions"]:
        if container.get("name") in by_container:
            container["image"] = by_container[container["name"]]
    return copied


# What UpdateService takes to clear a setting a deploy added; the others it can only change.
_CLEARED: dict[str, Any] = {
    "loadBalancers": [],
    "serviceRegistries": [],
    "capacityProviderStrategy": [],
    "vpcLatticeConfigurations": [],
    "volumeConfigurations": [],
    "serviceConnectConfiguration": {"enabled": False},
}


def setting_changes(
    recorded: Mapping[str, Any] | None, current: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[Reason]]:
    """The settings UpdateService must send to put back what the snapshot recorded, and each
    difference (from -> to). Unknown on either side: nothing (and it says so)."""
    if recorded is None:
        return {}, []
    if current is None:
        return {}, [because(Why.SETTINGS_UNCOMPARED)]
    send: dict[str, Any] = {}
    notes: list[Reason] = []
    for name in SERVICE_SETTINGS:
        was, now = recorded.get(name) or None, current.get(name) or None
        if _canonical(was) == _canonical(now):
            continue
        if was is None and name not in _CLEARED:
            notes.append(because(Why.SETTING_KEPT, name=name, now=_compact(now)))
            continue
        send[name] = was if was is not None else _CLEARED[name]
        notes.extend(_difference(name, now, was))
    return send, notes


SHORT = 80  # a setting this long or shorter is told whole
LEAF = 256  # no ID or ARN is longer; a longer value (not one ECS holds) is cut
SAID = 5  # differing values told of one setting, then a count of the rest


def _difference(name: str, now: Any, was: Any) -> list[Reason]:
    """How a setting differs, in words: whole when short, else each value that differs, by
    its path (networkConfiguration.awsvpcConfiguration.securityGroups[0]: sg-1 -> sg-2),
    never cut inside an ID, so the resource can be found."""
    whole_now, whole_was = _json(now), _json(was)
    if len(whole_now) <= SHORT and len(whole_was) <= SHORT:
        return [because(Why.SETTING, name=name, now=whole_now, was=whole_was)]
    leaves_now, leaves_was = _leaves(now), _leaves(was)
    paths = [
        p
        for p in dict.fromkeys([*leaves_now, *leaves_was])
        if leaves_now.get(p) != leaves_was.get(p)
    ]
    notes = [
        because(
            Why.SETTING,
            name=name + path,
            now=leaves_now.get(path, "none"),
            was=leaves_was.get(path, "none"),
        )
        for path in paths[:SAID]
    ]
    if len(paths) > SAID:
        notes.append(because(Why.SETTING_MORE, name=name, count=len(paths) - SAID))
    return notes


def _leaves(value: Any, path: str = "") -> dict[str, str]:
    """Each scalar in a setting by its path, as JSON (none for none: it is told as none)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {
            p: v for key, item in value.items() for p, v in _leaves(item, f"{path}.{key}").items()
        }
    if isinstance(value, list):
        return {
            p: v for i, item in enumerate(value) for p, v in _leaves(item, f"{path}[{i}]").items()
        }
    text = json.dumps(value, default=str)
    return {path: text if len(text) <= LEAF else text[: LEAF - 3] + "..."}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _json(value: Any) -> str:
    return "none" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _compact(value: Any) -> str:
    text = _json(value)
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


@dataclass(frozen=True)
class Want:
    """Where one service should end: a task definition, pinned where its tags moved, and the
    service settings a deploy changed."""

    target: str
    body: dict[str, Any]  # what a re-registration registers: the kept body, pins applied
    tags: list[dict[str, str]]
    pinned: bool
    settings: dict[str, Any]  # to send in the same UpdateService (scope: service)
    notes: tuple[Reason, ...]  # the pins and the setting differences
    expect: frozenset[tuple[str, str]] = frozenset()  # (container, digest) it must run

    @property
    def key(self) -> tuple[str, str]:
        """Services that want the same body can share one lookup and one registration."""
        return self.target, json.dumps(self.body, sort_keys=True)


def want_of(
    target: str,
    body: Mapping[str, Any],
    tags: list[dict[str, str]],
    images: tuple[ContainerImage, ...] | None,
    settings: Mapping[str, Any] | None,
    running: ServiceRevision | None,
    *,
    scope: Scope,
    pin_images: PinImages,
) -> Want:
    """Pure: the Want for a target whose images and settings were recorded (None: unknown),
    given the revision the service runs now (None: unknown)."""
    pins, notes = pins_for(images, running, pin_images)
    send: dict[str, Any] = {}
    if scope == Scope.SERVICE:
        send, changed = setting_changes(settings, dict(running.settings) if running else None)
        notes += changed
    kept = pinned_body(body, pins) if pins else dict(body)
    expect = frozenset((i.container, i.digest) for i in images or () if i.digest)
    return Want(target, kept, tags, bool(pins), send, tuple(notes), expect)


def stop_step(
    normal: Step,
    deployment: ServiceDeployment,
    sources: list[ServiceRevision],
    wanted: Want,
    recorded_settings: Mapping[str, Any] | None,
    running: ServiceRevision | None,
) -> Step | None:
    """ECS can roll an in-flight deployment back itself (StopServiceDeployment ROLLBACK),
    registering nothing, when the revision it replaces is exactly where the service should
    go: its task definition (an ACTIVE one: the normal step is a plain update), digests and
    settings (the recorded ones; without them, the settings running now must not change).
    ECS goes back to the last revision that deployed successfully, so a deployment that
    replaced several is left to the normal path. The normal step rides along, for when the
    stop cannot be made (the deployment finished first, or the stop is refused)."""
    if normal.action != Action.UPDATE or normal.desired_count is not None:
        return None
    if not deployment.in_flight or len(deployment.sources) != 1 or len(sources) != 1:
        return None
    [source] = sources
    if source.task_definition not in (wanted.target, normal.target):
        return None
    if wanted.expect and not wanted.expect <= source.digests:
        return None
    keep = (
        recorded_settings
        if recorded_settings is not None
        else (running.settings if running else None)
    )
    if keep is None or setting_changes(keep, source.settings)[0]:
        return None  # ECS would put back settings that are not the ones wanted
    back = short_name(source.task_definition or "?")
    return replace(
        normal,
        action=Action.STOP,
        target=source.task_definition,
        why=(because(Why.STOP_IN_FLIGHT, back=back),),
        settings={},
        deployment=deployment.arn,
        fallback=normal,
    )


# -- scheduled tasks -------------------------------------------------------------------------


def _changed_fields(recorded: ScheduledTask, now: ScheduledTask) -> list[str]:
    """What differs in a scheduled task's definition besides the task definition it runs, by
    field name only (a target's Input may carry environment values: never shown)."""
    was, is_ = recorded.running(""), now.running("")
    changed = _differing(was, is_)
    target = "Target" if recorded.kind == Kind.SCHEDULE else None
    if target in changed:  # a schedule's target: which of its fields
        inner = _differing(was.get(target) or {}, is_.get(target) or {})
        changed = [k for k in changed if k != target] + [f"{target}.{k}" for k in inner]
    return changed


def _differing(was: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """The keys whose values differ (absent counts as a value), in the order first seen."""
    keys = dict.fromkeys([*was, *now])
    return [k for k in keys if _canonical(was.get(k)) != _canonical(now.get(k))]


def plan_scheduled(
    recorded: ScheduledTask,
    now: ScheduledTask | None,
    facts: TargetFacts,
    *,
    scope: Scope,
) -> Step:
    """Pure: what one scheduled task needs to run what the snapshot saw again.

    Its target gets the recorded task definition back (ACTIVE: as it is; else an earlier
    re-registration of it, or a new one, shared with the services that want the same body).
    Unlike a service, a scheduled task on an INACTIVE task definition is not where it should
    be: each run is a new task, and ECS starts none from an INACTIVE one. With scope service
    the rest of its target (or schedule) goes back as recorded too; with scope
    task-definition only the task definition changes. Its rule, target or schedule deleted
    since is missing. A target recorded on a family without a revision (its latest) gets that
    back, with nothing to register."""
    name, kind, target = recorded.name, recorded.kind, recorded.task_definition
    if now is None:
        gone = because(Why.SCHEDULED_GONE, kind=str(kind))
        return Step(name, None, Action.MISSING, None, target, why=(gone,), kind=kind, task=recorded)
    current = now.task_definition
    base = recorded if scope == Scope.SERVICE else now
    fields = _changed_fields(recorded, now) if scope == Scope.SERVICE else []
    notes = (because(Why.SCHEDULED_CHANGED, fields=", ".join(fields)),) if fields else ()

    def step(action: Action, to: str, *why: Reason) -> Step:
        return Step(
            name,
            now.arn,
            action,
            current,
            to,
            why=(*why, *notes),
            settings=dict.fromkeys(fields, True) if action != Action.UNCHANGED else {},
            kind=kind,
            task=now,
            put=base.definition,
        )

    if not TD_ARN.fullmatch(target):  # a family: ECS runs its latest ACTIVE revision
        action = Action.UNCHANGED if current == target and not fields else Action.UPDATE
        return step(action, target, because(Why.FAMILY_LATEST, family=short_name(target)))
    usable = facts.status == "ACTIVE"
    landing = target if usable else facts.reuse
    if landing is not None and current == landing:
        if not fields:
            if current == target:
                return step(Action.UNCHANGED, current)
            return step(Action.UNCHANGED, current, because(Why.ON_COPY, target=short_name(target)))
        return step(Action.UPDATE, current)
    if usable:
        return step(Action.UPDATE, target)
    why_not = because(Why.TARGET_GONE, target=short_name(target), state=facts.status or "deleted")
    if facts.reuse:
        return step(
            Action.UPDATE, facts.reuse, why_not, because(Why.REUSING, copy=short_name(facts.reuse))
        )
    return step(Action.REREGISTER, target, why_not, because(Why.REGISTERING))


# -- service auto scaling --------------------------------------------------------------------


def plan_scaling(service: Service, recorded: ScalableTarget, now: ScalableTarget) -> Step | None:
    """Pure: what a service's auto scaling needs to be as the snapshot saw it (None: it had
    none then and has none now). Its scalable target is registered again when its minimum,
    maximum or suspended state differ (or it is gone); each policy changed or deleted since
    is put back; a target or policies created since are told, and left as they are."""
    if not recorded.registered and not now.registered:
        return None

    def step(action: Action, *why: Reason, change: ScalingChange | None = None) -> Step:
        return Step(
            service.name,
            service.arn,
            action,
            now.capacity,
            recorded.capacity,
            why=why,
            kind=Kind.SCALABLE_TARGET,
            scaling=change or ScalingChange(recorded, False),
        )

    if not recorded.registered:
        return step(Action.UNCHANGED, because(Why.SCALING_ADDED, now=now.capacity))
    register = (
        not now.registered
        or (now.min_capacity, now.max_capacity) != (recorded.min_capacity, recorded.max_capacity)
        or _canonical(dict(now.suspended)) != _canonical(dict(recorded.suspended))
    )
    back = [
        p
        for p in recorded.policies
        if _canonical(now.policy(str(p.get("PolicyName")))) != _canonical(dict(p))
    ]
    added = [
        str(p.get("PolicyName"))
        for p in now.policies
        if not recorded.policy(str(p.get("PolicyName")))
    ]
    why: list[Reason] = []
    if register:
        gone = not now.registered
        why.append(
            because(Why.SCALING_GONE, was=recorded.capacity)
            if gone
            else because(Why.CAPACITY, now=_scaling_state(now), was=_scaling_state(recorded))
        )
    if back:
        why.append(because(Why.POLICIES_BACK, names=", ".join(str(p["PolicyName"]) for p in back)))
    if added:
        why.append(because(Why.POLICIES_ADDED, names=", ".join(added)))
    if not (register or back or added):
        return None  # as the snapshot saw it, nothing to tell: the service's row says enough
    action = Action.UPDATE if register or back else Action.UNCHANGED
    return step(action, *why, change=ScalingChange(recorded, register, tuple(back)))


def _scaling_state(target: ScalableTarget) -> str:
    suspended = [k.removesuffix("Suspended") for k, on in target.suspended.items() if on]
    return target.capacity + (f" ({', '.join(suspended)} suspended)" if suspended else "")
