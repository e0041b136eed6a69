"""Carry out a Plan: re-register what must be, update services, wait, report.

Shared by restore and rollback. Each original is re-registered once, however many services
need it, and a service whose re-registration failed is not updated. Every step of the plan
ends with exactly one ServiceResult, whatever failed around it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace

from .errors import AwsError, Conflict, EcsundoError
from .gateway import EcsGateway
from .plan import Action, Plan, Registration, Step
from .progress import QUIET, Progress
from .report import plural
from .resources import Service, ServiceDeployment, by_age, short_name
from .result import ServiceResult, Status
from .wait import Settled, wait_for
from .work import Work


@dataclass(frozen=True)
class ApplyOptions:
    wait: bool = True
    timeout: float = 900.0
    poll_interval: float = 6.0
    progress: Progress = QUIET


@dataclass(frozen=True)
class Updated:
    """What an accepted UpdateService left behind."""

    to: str
    deployment: str | None  # the id of the deployment it started
    at: float  # when it was sent (monotonic seconds)
    racing: str | None  # the task definition of a deploy that began after we read the service
    rolling_back: bool = False  # ECS rolls back a stopped deployment itself
    note: str = ""
    instead: Step | None = None  # the step taken because a stop could not be made


def planned(step: Step, dry_run: bool) -> ServiceResult:
    """The row of a step that is not carried out (a dry run, or one never started)."""
    if step.action == Action.UNCHANGED:
        return ServiceResult.of(step, Status.UNCHANGED)
    if step.action == Action.MISSING:
        return ServiceResult.of(step, Status.MISSING)
    if step.action == Action.SKIPPED:
        return ServiceResult.of(step, Status.SKIPPED)
    if step.action == Action.SKIP:
        return ServiceResult.of(step, Status.FAILED)
    if dry_run:
        return ServiceResult.of(step, Status.PLANNED)
    return ServiceResult.of(step, Status.FAILED, message=_join("not started", step.reason))


def dry_run_results(plan: Plan) -> list[ServiceResult]:
    return [planned(step, dry_run=True) for step in plan.steps]


class Applier:
    """Carries out the steps of one plan as they are started, then reports them all.

    start(step) begins a changing step at once: UpdateService on the pool, or, when its
    target must be registered again, the registration (once per original) and then the
    update, both on the registration lane. finish() waits for every rollout and returns
    one result per step of the plan, in the plan's order. Both are called from the run's
    own thread; only the work they hand out runs elsewhere.
    """

    def __init__(self, gateway: EcsGateway, work: Work, plan: Plan, options: ApplyOptions) -> None:
        self.gateway, self.work, self.plan, self.options = gateway, work, plan, options
        self._started: list[tuple[Step, Future[Updated]]] = []
        self._registered: dict[str, Future[str]] = {}  # original ARN -> the new ARN
        self._began: dict[str, float] = {}  # original ARN -> when its registration began
        self._spans: dict[str, tuple[float, float]] = {}  # phase -> (first start, last end)
        self._lock = threading.Lock()

    def _span(self, phase: str, start: float) -> None:
        """Widen a phase's span (register, update, wait) to cover start..now."""
        end = time.monotonic()
        with self._lock:
            first, last = self._spans.get(phase, (start, end))
            self._spans[phase] = (min(first, start), max(last, end))

    def durations(self) -> dict[str, float]:
        """Seconds from the first to the last moment of each phase that happened."""
        return {phase: last - first for phase, (first, last) in self._spans.items()}

    def start(self, step: Step) -> None:
        assert step.changes and step.target is not None
        if step.action == Action.STOP:
            future = self.work.change(self._stop, step)
        elif step.action != Action.REREGISTER:
            future = self.work.change(self._update, step, step.target)
        else:
            registered = self._registration(self.plan.registrations[step.target])
            if registered.done():
                future = self.work.change(self._update_after, step, registered)
            else:  # queued behind its registration, which has already been queued
                future = self.work.on_lane(self._update_after, step, registered)
        self._started.append((step, future))

    def _registration(self, registration: Registration) -> Future[str]:
        with self._lock:  # the run's thread, and a stop's fallback on the pool
            future = self._registered.get(registration.original)
            if future is None:
                future = self.work.on_lane(self._register, registration)
                self._registered[registration.original] = future
            return future

    def _stop_if_stopping(self) -> None:
        if self.work.stopped.is_set():
            raise AwsError("not changed: the run was interrupted")

    def _register(self, registration: Registration) -> str:
        self._stop_if_stopping()
        began = self._began[registration.original] = time.monotonic()
        try:
            return self.gateway.register_task_definition(
                registration.body, registration.request_tags()
            ).arn
        finally:
            self._span("register", began)

    def _update_after(self, step: Step, registered: Future[str]) -> Updated:
        try:
            to = registered.result()
        except EcsundoError as exc:
            raise AwsError(f"not updated: {exc}") from exc
        done = self._update(step, to)
        # The service's change began with its registration.
        return replace(done, at=self._began.get(step.target or "", done.at))

    def _stop(self, step: Step) -> Updated:
        """StopServiceDeployment(ROLLBACK); if the deployment finished meanwhile, the step
        the plan would have taken otherwise, in this run."""
        assert step.deployment is not None and step.fallback is not None and step.target
        self._stop_if_stopping()
        at = time.monotonic()
        try:
            self.gateway.stop_service_deployment(step.deployment)
            self._span("update", at)
        except EcsundoError as exc:
            # Finished meanwhile (Conflict), or the stop is refused (no permission, an
            # endpoint without it): the step the plan would have taken otherwise.
            fallback = step.fallback
            to = fallback.target or ""
            if fallback.action == Action.REREGISTER:
                to = self._registration(self.plan.registrations[to]).result()
            done = self._update(fallback, to)
            why = "it finished first" if isinstance(exc, Conflict) else f"the stop failed: {exc}"
            note = f"in-flight deployment not stopped ({why}): updated instead"
            return replace(done, note=note, instead=fallback)
        return Updated(step.target, None, at, None, rolling_back=True)

    def _update(self, step: Step, to: str) -> Updated:
        assert step.service_arn is not None
        self._stop_if_stopping()
        at = time.monotonic()
        # Staying on the same task definition (a count or settings only): do not name it, it
        # may have been deregistered since.
        same = to == step.current and (step.desired_count is not None or bool(step.settings))
        try:
            service = self.gateway.update_service(
                self.plan.cluster_arn,
                step.service_arn,
                None if same else to,
                step.desired_count,
                step.settings,
            )
        finally:
            self._span("update", at)
        primary = service.primary
        return Updated(to, primary.id if primary else None, at, _racing_deployment(step, service))

    def finish(self) -> list[ServiceResult]:
        """Wait, in one loop, for every updated service to settle; one result per step."""
        rows: dict[str, ServiceResult] = {}
        updated: dict[str, tuple[Step, Updated]] = {}  # service ARN -> ...
        for step, future in self._started:
            try:
                done = future.result()
            except EcsundoError as exc:
                rows[step.service] = ServiceResult.of(step, Status.FAILED, message=str(exc))
                continue
            except Exception as exc:  # a bug must cost one row, never the whole report
                rows[step.service] = ServiceResult.of(
                    step, Status.FAILED, message=f"internal error: {type(exc).__name__}: {exc}"
                )
                continue
            step = done.instead or step  # the row says what was really done
            if done.racing:
                rows[step.service] = ServiceResult.of(
                    step,
                    Status.FAILED,
                    to=done.to,
                    changed=True,
                    message=f"another deploy (to {short_name(done.racing)}) started after "
                    "ecsundo read this service; ecsundo's update went over it: check the "
                    "service, then rerun",
                )
            else:
                updated[step.service_arn or ""] = (step, done)
        settled = self._wait(updated) if self.options.wait and updated else {}
        settled = self._why(self._verify(updated, settled))
        for arn, (step, done) in updated.items():
            outcome = settled.get(arn)
            if outcome is None:
                rows[step.service] = ServiceResult.of(
                    step,
                    Status.UPDATED,
                    to=done.to,
                    changed=True,
                    message=_join(step.reason, "not waited for"),
                )
                continue
            # A failure leads with what went wrong; a success with what was done.
            parts = (_join(step.reason, done.note), outcome.message)
            rows[step.service] = ServiceResult.of(
                step,
                Status.SUCCESS if outcome.ok else Status.FAILED,
                to=done.to,
                seconds=outcome.seconds,
                changed=True,
                message=_join(*(parts if outcome.ok else parts[::-1])),
            )
        return [rows.get(step.service) or planned(step, False) for step in self.plan.steps]

    def _verify(
        self, updated: dict[str, tuple[Step, Updated]], settled: dict[str, Settled]
    ) -> dict[str, Settled]:
        """A rollout that completed still fails if the service runs another build than the
        snapshot saw: ECS resolved a tag that has moved since (pin-images: always pins)."""
        checking = {
            arn: outcome
            for arn, outcome in settled.items()
            if outcome.ok and updated[arn][0].expect and outcome.revisions
        }
        if not checking:
            return settled
        try:
            known = self.gateway.describe_service_revisions(
                [r for outcome in checking.values() for r in outcome.revisions], self.work.map
            )
        except EcsundoError:
            return settled  # what runs cannot be read: the rollout's word stands
        checked = dict(settled)
        for arn, outcome in checking.items():
            step, done = updated[arn]
            runs = by_age(known[r] for r in outcome.revisions if r in known)
            now = next((r for r in reversed(runs) if r.task_definition == done.to), None)
            if now is None:
                continue
            running = dict(now.digests)
            wrong = sorted(c for c, digest in step.expect if running.get(c, digest) != digest)
            if wrong:
                checked[arn] = Settled(
                    False,
                    outcome.seconds,
                    f"rollout completed, but {', '.join(wrong)} runs another build than the "
                    "snapshot saw (its tag has moved): restore again with pin-images: always",
                    outcome.revisions,
                )
        return checked

    def _why(self, settled: dict[str, Settled]) -> dict[str, Settled]:
        """A failed rollout says why, from ECS's service deployment: the circuit breaker's
        count and threshold, the alarms that went off, the rollback's reason."""
        failed = {arn: s for arn, s in settled.items() if not s.ok and s.deployment}
        if not failed:
            return settled
        try:
            found = self.gateway.describe_service_deployments(
                [s.deployment for s in failed.values() if s.deployment]
            )
        except EcsundoError:
            return settled  # the rollout's own words stand
        reasons = {d.arn: failure_reason(d) for d in found}
        explained = dict(settled)
        for arn, outcome in failed.items():
            why = reasons.get(outcome.deployment or "")
            if why:
                explained[arn] = replace(outcome, message=f"{outcome.message} ({why})")
        return explained

    def _wait(self, updated: dict[str, tuple[Step, Updated]]) -> dict[str, Settled]:
        self.options.progress.phase(f"Wait for {plural(len(updated), 'rollout')}")
        began = time.monotonic()
        try:
            return self._wait_for(updated)
        finally:
            self._span("wait", began)

    def _wait_for(self, updated: dict[str, tuple[Step, Updated]]) -> dict[str, Settled]:
        return wait_for(
            self.gateway,
            self.work,
            self.plan.cluster_arn,
            {arn: done.to for arn, (_, done) in updated.items()},
            timeout=self.options.timeout,
            interval=self.options.poll_interval,
            started={arn: done.at for arn, (_, done) in updated.items()},
            stopped={
                arn: step.deployment
                for arn, (step, done) in updated.items()
                if done.rolling_back and step.deployment
            },
            ours={arn: done.deployment for arn, (_, done) in updated.items() if done.deployment},
            progress=self.options.progress,
        )


def _racing_deployment(step: Step, service: Service) -> str | None:
    """The task definition of a deployment that began between reading and updating."""
    if not step.seen:
        return None
    for deployment in service.deployments:
        if deployment.status != "PRIMARY" and deployment.id not in step.seen:
            return deployment.task_definition or "?"
    return None


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def failure_reason(deployment: ServiceDeployment) -> str:
    """Why ECS stopped a service deployment, in a few words (empty when it did not say)."""
    parts = []
    if deployment.alarms:
        parts.append(f"alarms went off: {', '.join(deployment.alarms)}")
    if deployment.breaker is not None:
        failures, threshold = deployment.breaker
        parts.append(f"circuit breaker: {failures} failed tasks, threshold {threshold}")
    for hook in deployment.hooks:
        if hook.status in ("FAILED", "TIMED_OUT"):
            status = hook.status.lower().replace("_", " ")
            parts.append(f"lifecycle hook {hook.id or '?'} {status}")
    if deployment.rollback_reason:
        parts.append(f"rolled back: {deployment.rollback_reason}")
    return "; ".join(" ".join(str(p).split()) for p in parts)
