"""Carry out a Plan: re-register what must be, update services, wait, report.

Shared by restore and rollback. Re-registrations go first (each original once, however
many services need it); a service whose re-registration failed is not updated. Every
service ends with exactly one ServiceResult, whatever failed around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from .errors import EcsundoError
from .gateway import EcsGateway
from .plan import Action, Plan, Step
from .result import ServiceResult, Status
from .wait import wait_for


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class ApplyOptions:
    wait: bool = True
    timeout: float = 900.0
    poll_interval: float = 6.0
    # Told the name of each phase as it starts (our own words, never AWS text).
    progress: Callable[[str], None] = _quiet


def dry_run_results(plan: Plan) -> list[ServiceResult]:
    return [_unchanged_or(step, Status.PLANNED) for step in plan.steps]


def _unchanged_or(step: Step, status: Status) -> ServiceResult:
    if step.action == Action.UNCHANGED:
        return ServiceResult(
            step.service,
            str(step.action),
            step.current,
            step.target,
            Status.UNCHANGED,
            0.0,
            step.reason,
        )
    if step.action == Action.MISSING:
        return ServiceResult(
            step.service, str(step.action), None, step.target, Status.MISSING, 0.0, step.reason
        )
    if step.action == Action.SKIP:
        return ServiceResult(
            step.service,
            str(step.action),
            step.current,
            step.target,
            Status.FAILED,
            0.0,
            step.reason,
        )
    return ServiceResult(
        step.service, str(step.action), step.current, step.target, status, 0.0, step.reason
    )


def apply_plan(gateway: EcsGateway, plan: Plan, options: ApplyOptions) -> list[ServiceResult]:
    changing = plan.changing
    results: dict[str, ServiceResult] = {
        s.service: _unchanged_or(s, Status.FAILED) for s in plan.steps if not s.changes
    }

    # 1. Re-register each needed original once; these start first, on their own lane, as
    #    RegisterTaskDefinition's quota (1/s) is what bounds a large restore.
    needed = list(dict.fromkeys(s.target for s in changing if s.action == Action.REREGISTER))

    def register(original: str) -> str | EcsundoError:
        registration = plan.registrations[original]
        try:
            registered = gateway.register_task_definition(
                registration.body, registration.request_tags()
            )
        except EcsundoError as exc:
            return exc
        return registered.arn

    # 2. Update services, always with the full task-definition ARN: those with an ACTIVE
    #    target at once, the others as soon as their own re-registration lands.
    started: dict[str, float] = {}

    def update(step: Step, to: str | EcsundoError | None) -> ServiceResult:
        if isinstance(to, EcsundoError):
            return _failed(step, step.target, f"not updated: {to}")
        assert step.service_arn is not None and to is not None
        started[step.service_arn] = time.monotonic()
        try:
            gateway.update_service(plan.cluster_arn, step.service_arn, to, step.desired_count)
        except EcsundoError as exc:
            return _failed(step, to, str(exc))
        return ServiceResult(
            step.service, str(step.action), step.current, to, Status.UPDATED, 0.0, step.reason
        )

    if changing:
        first = f" ({len(needed)} task definitions re-registered first)" if needed else ""
        options.progress(f"Update {len(changing)} services{first}")
    registrations = {original: gateway.submit(register, original, slow=True) for original in needed}
    futures = [
        gateway.then(registrations[step.target], partial(update, step))  # type: ignore[index]
        if step.action == Action.REREGISTER
        else gateway.submit(update, step, step.target)
        for step in changing
    ]
    updated = [future.result() for future in futures]

    # 3. Wait for every updated service in one loop.
    waiting = {
        step.service_arn: result.to
        for step, result in zip(changing, updated, strict=True)
        if result.status == Status.UPDATED and step.service_arn and result.to
    }
    if options.wait and waiting:
        options.progress(f"Wait for {len(waiting)} rollouts")
        settled = wait_for(
            gateway,
            plan.cluster_arn,
            waiting,
            timeout=options.timeout,
            interval=options.poll_interval,
            started=started,
        )
        for step, result in zip(changing, updated, strict=True):
            outcome = settled.get(step.service_arn or "")
            if outcome is not None:
                result.status = Status.SUCCESS if outcome.ok else Status.FAILED
                result.seconds = outcome.seconds
                # A failure leads with what went wrong; a success with what was done.
                parts = (
                    (step.reason, outcome.message) if outcome.ok else (outcome.message, step.reason)
                )
                result.message = _join(*parts)
    else:
        for result in updated:
            if result.status == Status.UPDATED:
                result.message = _join(result.message, "not waited for")

    for step, result in zip(changing, updated, strict=True):
        results[step.service] = result
    return [results[s.service] for s in plan.steps]


def _failed(step: Step, to: str | None, message: str) -> ServiceResult:
    return ServiceResult(
        step.service, str(step.action), step.current, to, Status.FAILED, 0.0, message
    )


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
