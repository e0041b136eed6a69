"""Waiting for changed services to settle: one polling loop for all of them.

A service has settled when its PRIMARY deployment runs its target task definition and
its rollout COMPLETED (or, where rolloutState is absent, when it is the only deployment
and runs its desired count). A FAILED rollout, or a service that ended on another task
definition (the circuit breaker rolled it back, or someone deployed over us), is a
failure: ECS "finishing" is not the same as the restore succeeding.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ecsundo_action.aws.arns import short_name
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import Service, ServiceDeployment
from ecsundo_action.errors import EcsundoError
from ecsundo_action.progress import QUIET, Progress
from ecsundo_action.reasons import Reason, Why, because, say
from ecsundo_action.threads import Threads


@dataclass(frozen=True)
class Settled:
    ok: bool
    seconds: float
    why: tuple[Reason, ...]
    revisions: tuple[str, ...] = ()  # the service's current revisions when it settled
    deployment: str | None = None  # its service deployment then (ECS's history)

    @property
    def message(self) -> str:
        return say(self.why)


# While waiting, each service's state is told when it changes, and at least this often.
REPEAT_SECONDS = 15.0

# DescribeServices is eventually consistent: just after UpdateService it may still show the
# old task definition. Until our deployment shows up, or this long has passed, that is a
# stale read, not a rollback.
STALE_READ_GRACE = 5.0


def judge(
    service: Service,
    target: str,
    ours: str | None = None,
    elapsed: float = math.inf,
) -> tuple[bool, Reason] | None:
    """(ok, why) once a described service has settled for target; None while rolling.

    ours is the id of the deployment our UpdateService started, elapsed the seconds since.
    """
    now_on = service.task_definition
    primary = service.primary
    if now_on != target:
        seen_ours = any(d.id == ours for d in service.deployments)
        if not seen_ours and elapsed < STALE_READ_GRACE:
            return None
        now = short_name(now_on or "?")
        return False, because(Why.ENDED_ELSEWHERE, now_on=now, target=short_name(target))
    if primary is None or primary.task_definition != target:
        return None
    if primary.rollout_state == "FAILED":
        return False, because(Why.ROLLOUT_FAILED, reason=primary.rollout_state_reason or "")
    if primary.rollout_state == "COMPLETED":
        return True, because(Why.ROLLOUT_COMPLETED)
    if primary.rollout_state is None and len(service.deployments) == 1:
        running, desired = primary.running_count, primary.desired_count
        if running == desired:
            return True, because(Why.TASKS_RUNNING, running=running, desired=desired)
    return None


def rollback_verdict(deployment: ServiceDeployment | None) -> tuple[bool, Reason] | None:
    """(ok, why) once ECS's own rollback of a stopped deployment has ended; None while
    it runs. Read from the service deployment, not from the service (whose deployments
    show the stopped one FAILED while ECS rolls back)."""
    if deployment is None:
        return False, because(Why.STOPPED_UNKNOWN)
    status, reason = deployment.status, deployment.status_reason
    if status == "ROLLBACK_SUCCESSFUL":
        return True, because(Why.ECS_ROLLED_BACK)
    if status == "ROLLBACK_FAILED":
        return False, because(Why.ECS_ROLLBACK_FAILED, reason=reason or "")
    if status in ("SUCCESSFUL", "STOPPED"):
        return False, because(Why.ENDED_INSTEAD, status=status)
    return None


# ECS's lifecycle stages (ServiceDeploymentLifecycleStage): only these names are repeated.
STAGES = frozenset(
    {
        "RECONCILE_SERVICE",
        "PRE_SCALE_UP",
        "SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    }
)
_HOOK_ID = re.compile(r"[\w.:/-]{1,128}")
LINEAR_STEP_PERCENT = 10.0  # ECS's default stepPercent


def where(deployment: ServiceDeployment, seconds_in_stage: float = 0.0) -> str | None:
    """Where a staged rollout (BLUE_GREEN, LINEAR, CANARY, lifecycle hooks) is, in words,
    from its service deployment; None when ECS says nothing worth repeating.

    seconds_in_stage: how long the rollout has been seen in its current stage (bake time
    left is counted from it, so it is an upper bound).
    """
    if deployment.status in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
        return "ECS is rolling it back"
    stage = deployment.stage
    if stage not in STAGES:
        return None
    for hook in deployment.hooks:
        hook_id = hook.id if _HOOK_ID.fullmatch(hook.id) else "?"
        if hook.status == "AWAITING_ACTION":
            return f"paused at {stage}: hook {hook_id} waits for ContinueServiceDeployment"
        if hook.status == "IN_PROGRESS":
            return f"at {stage}: hook {hook_id} running"
    if stage == "BAKE_TIME":
        left = max(0, math.ceil(deployment.bake_minutes - seconds_in_stage / 60))
        return f"bake time, {left} min left"
    weight, strategy = deployment.production_weight, deployment.strategy
    if stage == "PRODUCTION_TRAFFIC_SHIFT" and strategy == "LINEAR":
        step = deployment.step_percent or LINEAR_STEP_PERCENT
        steps = math.ceil(round(100 / step, 6))
        done = min(steps, max(1, math.ceil(round(weight / step, 6))))
        return f"linear step {done} of {steps} ({weight:g}% of production traffic)"
    if stage == "PRODUCTION_TRAFFIC_SHIFT" and strategy == "CANARY" and weight < 100:
        return f"canary: {weight:g}% of production traffic"
    return f"at {stage}"


def wait_for(
    gateway: EcsGateway,
    threads: Threads,
    cluster_arn: str,
    targets: Mapping[str, str],
    *,
    timeout: float,
    interval: float,
    started: Mapping[str, float] | None = None,
    ours: Mapping[str, str] | None = None,
    progress: Progress = QUIET,
    stopped: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Settled]:
    """Poll until every service ARN in targets settles on its task definition or time runs out.

    DescribeServices is called 10 services at a time, on the run's pool, for the
    still-pending ones only; a service whose deployment was stopped (stopped: service ARN ->
    service deployment ARN) is followed through DescribeServiceDeployments instead.
    """
    stopped, started, ours = stopped or {}, started or {}, ours or {}
    begin = clock()
    deadline = begin + timeout
    pending = dict(targets)
    settled: dict[str, Settled] = {}
    last_seen: dict[str, Service] = {}
    stages: dict[str, tuple[str | None, float, str]] = {}  # arn -> (stage, seen since, words)
    rollbacks: dict[str, str] = {}  # arn -> the status of ECS's rollback of a stopped one
    told: dict[str, tuple[str, float]] = {}  # arn -> (what was told, when)
    pause = min(1.0, interval)

    def since(arn: str) -> float:
        return clock() - started.get(arn, begin)

    def follow(services: list[Service]) -> None:
        """Read where staged rollouts are, for state() (a courtesy: waiting goes on
        without it when ECS's history cannot be read)."""
        deployments = {s.arn: s.current_deployment for s in services if s.current_deployment}
        if not deployments:
            return
        try:
            answers = gateway.describe_service_deployments(list(deployments.values()))
        except EcsundoError:
            return
        by_arn = {d.arn: d for d in answers}
        for arn, deployment in deployments.items():
            found = by_arn.get(deployment)
            if found is None:
                continue
            stage, since_then, _ = stages.get(arn, (None, clock(), ""))
            if found.stage != stage:
                stage, since_then = found.stage, clock()
            stages[arn] = (stage, since_then, where(found, clock() - since_then) or "")

    def state(arn: str) -> str:
        """Where a waiting service is: its rollout, task counts and stage, in a few words."""
        if arn in stopped:
            return f"ECS is rolling it back ({rollbacks.get(arn, 'requested')})"
        seen = last_seen.get(arn)
        primary = seen.primary if seen else None
        counts = (
            f"rollout {primary.rollout_state or 'unknown'}, "
            f"{primary.running_count}/{primary.desired_count} running"
            if primary
            else "rollout unknown"
        )
        words = stages.get(arn, (None, 0.0, ""))[2]
        return f"{counts}; {words}" if words else counts

    def tell() -> None:
        """Each waiting service's state, when it changed or REPEAT_SECONDS after the last."""
        now = clock()
        for arn in pending:
            text = state(arn)
            said, when = told.get(arn, ("", -math.inf))
            if text != said or now - when >= REPEAT_SECONDS:
                progress.waiting(short_name(arn), text)
                told[arn] = (text, now)

    def settle(arn: str, ok: bool, why: Reason, service: Service | None = None) -> None:
        settled[arn] = Settled(
            ok,
            since(arn),
            (why,),
            service.current_revisions if service else (),
            service.current_deployment if service else None,
        )
        progress.settled(short_name(arn), f"{why} ({since(arn):.0f}s)", ok)
        del pending[arn]

    while pending:
        rolling = {arn: stopped[arn] for arn in pending if arn in stopped}
        if rolling:
            try:
                answers = gateway.describe_service_deployments(list(rolling.values()))
            except EcsundoError as exc:
                for arn in rolling:
                    settle(arn, False, because(Why.ROLLBACK_UNFOLLOWED, error=str(exc)))
            else:
                by_arn = {d.arn: d for d in answers}
                for arn, deployment in rolling.items():
                    found = by_arn.get(deployment)
                    rollbacks[arn] = found.status if found and found.status else "unknown"
                    verdict = rollback_verdict(found)
                    if verdict is not None:
                        settle(arn, *verdict)
        plain = [arn for arn in pending if arn not in stopped]
        try:
            described, missing = (
                gateway.describe_services(cluster_arn, plain, threads.map) if plain else ([], [])
            )
        except EcsundoError as exc:
            # ECS took the updates but cannot be read now: say so per service, do not crash.
            for arn in list(pending):
                settle(arn, False, because(Why.ROLLOUT_UNFOLLOWED, error=str(exc)))
            return settled
        for service in described:
            last_seen[service.arn] = service
            verdict = judge(
                service, pending[service.arn], ours.get(service.arn), since(service.arn)
            )
            if verdict is not None:
                settle(service.arn, *verdict, service=service)
        for arn in missing:
            if arn in pending:
                settle(arn, False, because(Why.DELETED_WHILE_WAITING))
        follow([s for s in described if s.arn in pending and s.staged])
        tell()
        rolling_now = {short_name(arn): state(arn) for arn in pending}
        progress.rollouts(clock() - begin, timeout, len(settled), rolling_now)
        if not pending:
            break
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(pause, remaining))
        pause = min(interval, pause * 2)  # quick rollouts are seen quickly, long ones polled gently

    if pending:  # the time is up: where each one still rolling was last seen
        rolling_now = {short_name(arn): state(arn) for arn in pending}
        progress.rollouts(clock() - begin, timeout, len(settled), rolling_now, final=True)
    for arn in list(pending):
        timed_out = because(Why.TIMED_OUT, seconds=timeout, state=state(arn))
        settled[arn] = Settled(False, since(arn), (timed_out,))
    return settled
