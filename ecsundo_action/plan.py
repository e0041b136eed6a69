"""The plan: what changes, from what, to what. Plain data, no I/O.

Restore and rollback gather facts read-only, decide each service's Step with the pure
functions here, and hand the Plan to apply.py. A dry run reports the same Plan; tests
assert on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .resources import Service, short_name

# The tag a re-registration carries, naming the task definition it recreates. It is how a
# later restore finds and reuses it instead of registering yet another revision.
PROVENANCE_TAG = "ecsundo:restored-from"


class Action(StrEnum):
    UNCHANGED = "unchanged"  # already on its target: not touched
    UPDATE = "update"  # UpdateService to an ACTIVE task definition
    REREGISTER = "re-register"  # register the target again, then UpdateService to it
    MISSING = "missing"  # the service no longer exists
    SKIP = "skip"  # nothing to go to, or it could not be decided (the reason says which)


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
    reason: str = ""
    # Ids of the service's deployments when it was read: one that appears later and is not
    # ours is a deploy racing this run.
    seen: tuple[str, ...] = field(default=(), compare=False)

    @property
    def changes(self) -> bool:
        return self.action in (Action.UPDATE, Action.REREGISTER)


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
        self.steps.sort(key=lambda s: rank.get(s.service, len(rank)))


def plan_step(
    service: Service,
    target: str,
    facts: TargetFacts,
    *,
    can_register: bool,
    desired_count: int | None = None,
    why: str = "",
) -> Step:
    """Decide what one existing service needs to end on target.

    A service already on its target is not touched, even when that target has since been
    deregistered (ECS keeps running it). An ACTIVE target is used as is; an earlier
    re-registration of it is reused; otherwise it is registered again when its body is
    known (can_register), and skipped with the reason when it is not.
    """
    name, arn, current = service.name, service.arn, service.task_definition
    seen = tuple(d.id for d in service.deployments if d.id)

    def step(action: Action, to: str | None, count: int | None, reason: str) -> Step:
        return Step(name, arn, action, current, to, count, reason, seen)

    if service.daemon or desired_count == service.desired_count:
        desired_count = None
    prefix = f"{why}; " if why else ""
    landing = target if facts.status == "ACTIVE" else facts.reuse
    if current in (target, landing):
        if desired_count is None:
            note = (
                ""
                if current == target
                else f"already on its re-registration of {short_name(target)}"
            )
            return step(Action.UNCHANGED, current, None, prefix + note if note else why)
        return step(
            Action.UPDATE,
            current,
            desired_count,
            f"{prefix}desired count {service.desired_count} -> {desired_count}",
        )
    if facts.status == "ACTIVE":
        return step(Action.UPDATE, target, desired_count, why)
    state = facts.status or "deleted"
    if facts.reuse:
        return step(
            Action.UPDATE,
            facts.reuse,
            desired_count,
            f"{prefix}{short_name(target)} is {state}; reusing its re-registration "
            f"{short_name(facts.reuse)}",
        )
    if not can_register:
        return step(
            Action.SKIP,
            target,
            None,
            f"{prefix}{short_name(target)} is {state} and no snapshot holds its body",
        )
    return step(
        Action.REREGISTER,
        target,
        desired_count,
        f"{prefix}{short_name(target)} is {state}; registering it again",
    )


def missing_step(name: str, target: str | None) -> Step:
    return Step(name, None, Action.MISSING, None, target, reason="service no longer exists")


def skip_step(service: Service, target: str | None, reason: str) -> Step:
    """A service left as it is, with the reason (its target could not be read, ...)."""
    return Step(
        service.name, service.arn, Action.SKIP, service.task_definition, target, reason=reason
    )


def unchanged_step(service: Service, reason: str) -> Step:
    return Step(
        service.name,
        service.arn,
        Action.UNCHANGED,
        service.task_definition,
        service.task_definition,
        reason=reason,
    )
