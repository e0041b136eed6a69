"""Carry out a Plan: re-register what must be, update services, wait, report.

Shared by restore and rollback. Re-registrations go first (each original once, however
many services need it); a service whose re-registration failed is not updated. Every
service ends with exactly one ServiceResult, whatever failed around it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from .errors import EcsundoError
from .gateway import EcsGateway
from .plan import Action, Plan, Registration, Step
from .resources import short_name
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


class Applier:
    """Carries out steps as they come: each original re-registered once, on the slow lane,
    however many services need it; each service updated as soon as its target exists.

    start() may be called from any thread while others run; finish() waits and reports.
    """

    def __init__(self, gateway: EcsGateway, cluster_arn: str, options: ApplyOptions) -> None:
        self.gateway, self.cluster_arn, self.options = gateway, cluster_arn, options
        self._registrations: dict[str, Future[str | EcsundoError]] = {}
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._deployments: dict[str, str] = {}  # service ARN -> the deployment we started

    def _register(self, registration: Registration) -> str | EcsundoError:
        try:
            registered = self.gateway.register_task_definition(
                registration.body, registration.request_tags()
            )
        except EcsundoError as exc:
            return exc
        return registered.arn

    def _update(self, step: Step, to: str | EcsundoError | None) -> ServiceResult:
        if isinstance(to, EcsundoError):
            return _failed(step, step.target, f"not updated: {to}")
        assert step.service_arn is not None and to is not None
        self._started[step.service_arn] = time.monotonic()
        try:
            count_only = to == step.current and step.desired_count is not None
            service = self.gateway.update_service(
                self.cluster_arn, step.service_arn, None if count_only else to, step.desired_count
            )
        except EcsundoError as exc:
            return _failed(step, to, str(exc))
        primary = next(
            (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
        )
        if primary.get("id"):
            self._deployments[step.service_arn] = primary["id"]
        racing = _racing_deployment(step, service)
        if racing:
            return _failed(
                step,
                to,
                f"another deploy (to {short_name(racing)}) started after ecsundo read this "
                f"service; ecsundo's update went over it: check the service, then rerun",
            )
        return ServiceResult(
            step.service, str(step.action), step.current, to, Status.UPDATED, 0.0, step.reason
        )

    def start(self, step: Step, registration: Registration | None = None) -> Future[ServiceResult]:
        """Begin one step: UpdateService, after re-registering its target if it needs that."""
        if step.action != Action.REREGISTER:
            return self.gateway.submit(self._update, step, step.target)
        assert registration is not None and step.target is not None
        with self._lock:
            registered = self._registrations.get(step.target)
            if registered is None:
                registered = self.gateway.submit(self._register, registration, slow=True)
                self._registrations[step.target] = registered
        return self.gateway.then(registered, partial(self._update, step))

    def finish(self, changing: list[Step], updated: list[ServiceResult]) -> list[ServiceResult]:
        """Wait, in one loop, for every updated service to settle; fill in the results."""
        options = self.options
        waiting = {
            step.service_arn: result.to
            for step, result in zip(changing, updated, strict=True)
            if result.status == Status.UPDATED and step.service_arn and result.to
        }
        if options.wait and waiting:
            options.progress(f"Wait for {len(waiting)} rollouts")
            settled = wait_for(
                self.gateway,
                self.cluster_arn,
                waiting,
                timeout=options.timeout,
                interval=options.poll_interval,
                started=self._started,
                ours=self._deployments,
            )
            for step, result in zip(changing, updated, strict=True):
                outcome = settled.get(step.service_arn or "")
                if outcome is not None:
                    result.status = Status.SUCCESS if outcome.ok else Status.FAILED
                    result.seconds = outcome.seconds
                    # A failure leads with what went wrong; a success with what was done.
                    parts = (step.reason, outcome.message)
                    result.message = _join(*(parts if outcome.ok else parts[::-1]))
        else:
            for result in updated:
                if result.status == Status.UPDATED:
                    result.message = _join(result.message, "not waited for")
        return updated


def apply_plan(gateway: EcsGateway, plan: Plan, options: ApplyOptions) -> list[ServiceResult]:
    """Carry out a whole plan: one ServiceResult per step, in the plan's order."""
    changing = plan.changing
    if changing:
        needed = {s.target for s in changing if s.action == Action.REREGISTER}
        first = f" ({len(needed)} task definitions re-registered first)" if needed else ""
        options.progress(f"Update {len(changing)} services{first}")
    applier = Applier(gateway, plan.cluster_arn, options)
    # Re-registrations start first: RegisterTaskDefinition's quota (1/s) bounds a restore.
    ordered = sorted(changing, key=lambda s: s.action != Action.REREGISTER)
    futures = {
        step.service: applier.start(step, plan.registrations.get(step.target or ""))
        for step in ordered
    }
    return in_plan_order(
        plan, applier.finish(changing, [futures[s.service].result() for s in changing])
    )


def in_plan_order(plan: Plan, updated: list[ServiceResult]) -> list[ServiceResult]:
    """One result per step of the plan: the changing steps' from updated, in their order."""
    done = dict(zip((s.service for s in plan.changing), updated, strict=True))
    return [done.get(s.service) or _unchanged_or(s, Status.FAILED) for s in plan.steps]


def _racing_deployment(step: Step, service: dict[str, Any]) -> str | None:
    """The task definition of a deployment that began between reading and updating."""
    if not step.seen:
        return None
    for deployment in service.get("deployments", []):
        if deployment.get("status") != "PRIMARY" and deployment.get("id") not in step.seen:
            return deployment.get("taskDefinition") or "?"
    return None


def _failed(step: Step, to: str | None, message: str) -> ServiceResult:
    return ServiceResult(
        step.service, str(step.action), step.current, to, Status.FAILED, 0.0, message
    )


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
