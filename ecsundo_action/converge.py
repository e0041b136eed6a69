"""Converge: carry out what a mode chose, from the services as read to one row each.

A mode (restore, rollback) only chooses: it gives reads, each of which reads a few services
and says, for each, the Target it should reach. Everything after that happens here, on one
loop thread, as the reads come in:

1. a target that needs nothing looked up is a step at once (unchanged, missing, skipped);
2. the others need the facts of their task definition (its status, an earlier
   re-registration to reuse), looked up once for every service that wants the same body;
3. with the facts, the mode's pure plan function gives the step; an in-flight deployment
   that ECS can roll back itself turns it into a stop;
4. a step that changes something starts at once (not in a dry run), while later services
   are still being read: UpdateService on the changes' threads, a registration in the
   registrations' queue, the update that needs it right behind it;
5. once everything is read, the plan is told and every rollout is waited for in one loop
   (wait.py); each step ends as exactly one row, whatever failed around it.

Nothing here decides where a service should go, and nothing in a mode schedules anything.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from ecsundo_action.aws.arns import short_name
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.images import NOT_IN_ECR, Checked, by_digest
from ecsundo_action.aws.records import (
    ContainerImage,
    Kind,
    Service,
    ServiceDeployment,
    ServiceRevision,
    TaskDefinition,
    by_age,
    images_of,
    running_revision,
)
from ecsundo_action.errors import (
    STOPPING,
    AwsError,
    Conflict,
    EcsundoError,
    SettingsGone,
    reason,
    signal_number,
)
from ecsundo_action.facts import facts_from, look_up_facts
from ecsundo_action.plan import (
    Action,
    Plan,
    Registration,
    Step,
    TargetFacts,
    Want,
    not_taken,
    stop_step,
)
from ecsundo_action.progress import QUIET, Progress
from ecsundo_action.reasons import Reason, Why, because, plural, say
from ecsundo_action.result import Phase, ServiceResult, Span, Status
from ecsundo_action.threads import Loop, Threads
from ecsundo_action.wait import Settled, wait_for


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    wait: bool = True
    timeout: float = 900.0
    poll_interval: float = 6.0
    progress: Progress = QUIET


# -- what a mode gives -------------------------------------------------------------------------


@dataclass(frozen=True)
class InFlight:
    """A deployment still rolling out, which ECS can roll back itself (see stop_step)."""

    deployment: ServiceDeployment
    sources: list[ServiceRevision]  # the revisions it replaces
    recorded: Mapping[str, Any] | None  # the settings to keep (None: those running now)
    running: ServiceRevision | None


Decide = Callable[[TargetFacts], tuple[Step, Registration | None]]


@dataclass(frozen=True)
class Target:
    """Where one service should go, as its mode chose it: a step decided already, or what it
    wants and the pure function that decides its step once the want's facts are known."""

    name: str
    step: Step | None = None
    want: Want | None = None
    decide: Decide | None = None
    unable: Callable[[str], Step] | None = None  # the step when deciding fails: why -> step
    described: TaskDefinition | None = None  # the want's task definition, if already read
    in_flight: InFlight | None = None
    service: Service | None = None  # as read now (None: not found)
    # For the report: the images it runs now, and those it should end on.
    before: tuple[ContainerImage, ...] = ()
    after: tuple[ContainerImage, ...] = ()
    notes: tuple[str, ...] = ()  # told when the target arrives


@dataclass(frozen=True)
class Found:
    """What one read found: its targets, and what the run should be told of."""

    targets: list[Target]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Read:
    """Reads a few services (on the pool) and says where each should go."""

    run: Callable[[], Found]
    # The steps of its services when the read fails: the reason, in words -> their steps.
    unreadable: Callable[[str], list[Step]]
    # A failed read ends the run while nothing has changed yet (restore: as it always has);
    # once changes are under way, its services become rows like the others.
    fatal: bool = False


@dataclass(frozen=True)
class Converged:
    plan: Plan
    rows: list[ServiceResult]
    warnings: list[str]
    targets: dict[str, Target]
    decided_at: float  # monotonic: when everything was read and decided
    durations: dict[str, float]  # register, update, wait: first start to last end
    interrupted: int | None = None  # the signal that stopped the run, if one did


def converge(
    gateway: EcsGateway,
    threads: Threads,
    cluster_arn: str,
    reads: Iterable[Read],
    options: Options,
    *,
    order: Sequence[str],
    warnings: Callable[[dict[str, Target]], list[str]] = lambda _: [],
    gate: Future[Any] | None = None,
) -> Converged:
    """Carry out every target the reads give; rows in the order of the names in `order`.

    warnings(targets): what a person should know, told before the plan. gate: a read whose
    failure must end the run before anything changes (restore's listing)."""
    plan = Plan(cluster_arn)
    changes = Changes(gateway, threads, plan, options)
    deciding = _Deciding(gateway, threads, plan, changes, iter(reads), options, gate)
    try:
        deciding.run()
    except STOPPING as exc:
        return _interrupted(plan, changes, deciding.targets, order, exc)
    targets = deciding.targets
    plan.order(order)
    told = warnings(targets) + [
        f"{name}: {note}"  # pin-images: always could not pin a container: never silent
        for name, target in targets.items()
        if target.want is not None
        for note in target.want.notes
        if note.why == Why.NOT_PINNED
    ]
    progress = options.progress
    outside = [image for image, why in deciding.unchecked.items() if why == NOT_IN_ECR]
    if outside:
        progress.note(f"not checked in ECR (outside it): {_some(outside)}")
    unknown = {image: why for image, why in deciding.unchecked.items() if why != NOT_IN_ECR}
    if unknown:
        told.append(
            f"{plural(len(unknown), 'pinned image')} could not be checked in ECR "
            f"({next(iter(unknown.values()))}; ecr:BatchGetImage): {_some(list(unknown))}"
        )
    for line in told:
        progress.note(f"warning: {line}")
    progress.planned(plan, options.dry_run)
    decided_at = time.monotonic()
    try:
        rows = dry_run_results(plan) if options.dry_run else changes.finish()
    except STOPPING as exc:
        return _interrupted(plan, changes, targets, order, exc, told)
    rows = changes.timed(rows, targets)
    return Converged(plan, rows, told, targets, decided_at, changes.durations())


def _some(items: list[str], shown: int = 3) -> str:
    """The first few items, and how many more."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _interrupted(
    plan: Plan,
    changes: Changes,
    targets: dict[str, Target],
    order: Sequence[str],
    exc: BaseException,
    told: list[str] | None = None,
) -> Converged:
    """Ctrl-C or SIGTERM: no change starts any more; those ECS accepted are rows like any
    other (not waited for), the rest say they were not started. Quick: it waits only for
    calls already on the wire."""
    changes.threads.stopped.set()
    plan.order(order)
    rows = changes.timed(changes.settle_interrupted(), targets)
    at = time.monotonic()
    return Converged(plan, rows, told or [], targets, at, changes.durations(), signal_number(exc))


@dataclass(frozen=True)
class _Looked:
    """What a change waited to read: ECR's answer, the images running now (when unknown)."""

    checked: Checked
    before: tuple[ContainerImage, ...] = ()


class _Deciding:
    """Reads as they come, on the loop's thread: at most `concurrency` reads at a time; each
    target decided as soon as its facts are known; each change started at once."""

    def __init__(
        self,
        gateway: EcsGateway,
        threads: Threads,
        plan: Plan,
        changes: Changes,
        reads: Iterator[Read],
        options: Options,
        gate: Future[Any] | None,
    ) -> None:
        self.gateway, self.threads, self.plan, self.changes = gateway, threads, plan, changes
        self.reads, self.options, self.gate = reads, options, gate
        self.loop = Loop(threads)
        self.targets: dict[str, Target] = {}
        self.facts: dict[tuple[str, str], Future[TargetFacts]] = {}
        self.waiting: dict[tuple[str, str], list[Target]] = defaultdict(list)
        self.changing = False  # a change has been started
        self.unchecked: dict[str, str] = {}  # images pulled by digest ECR could not tell of

    def run(self) -> None:
        for _ in range(self.threads.concurrency):
            self.read_next()
        self.loop.run()

    def read_next(self) -> None:
        read = next(self.reads, None)
        if read is not None:
            self.loop.start(partial(self.on_read, read), read.run)

    def on_read(self, read: Read, done: Future[Found]) -> None:
        try:
            found = done.result()
        except Exception as exc:
            if read.fatal and (not self.changing or not isinstance(exc, EcsundoError)):
                raise  # nothing changed yet: a refused read ends the run
            # Changes are under way, or the read is one service's own: these services are
            # not changed and say why; the others go on.
            for step in read.unreadable(reason(exc)):
                self.take(step)
            self.read_next()
            return
        for note in found.notes:
            self.options.progress.note(note)
        for target in found.targets:
            self.decide(target)
        self.read_next()  # after this read's lookups, so that they do not queue behind it

    def decide(self, target: Target) -> None:
        self.targets[target.name] = target
        for note in target.notes:
            self.options.progress.note(note)
        if target.step is not None:
            self.take(_stopping(target, target.step), None, target)
            return
        assert target.want is not None
        want, key = target.want, target.want.key
        self.waiting[key].append(target)
        if key not in self.facts:
            self.facts[key] = self.loop.start(
                partial(self.on_facts, key), self.look_up, want, target.described
            )
        elif not self.loop.pending(self.facts[key]):  # already looked up
            self.on_facts(key, self.facts[key])

    def look_up(self, want: Want, described: TaskDefinition | None) -> TargetFacts:
        """The facts of a want's task definition (read-only, on the pool)."""
        if described is not None:
            copy_only = want.pinned
            return facts_from(self.gateway, want.target, described, want.body, copy_only=copy_only)
        return look_up_facts(self.gateway, want.target, want.body, copy_only=want.pinned)

    def on_facts(self, key: tuple[str, str], done: Future[TargetFacts]) -> None:
        for target in self.waiting.pop(key, []):
            assert target.decide is not None and target.unable is not None
            try:
                step, registration = target.decide(done.result())
                step = _stopping(target, step)
            except Exception as exc:  # this service is left alone; the others go on
                step, registration = target.unable(reason(exc)), None
            self.check_images(step, registration, target)

    def check_images(self, step: Step, registration: Registration | None, target: Target) -> None:
        """A change is taken once what it needs to be told and checked is read: ECR says the
        images it pulls by digest still exist (a build a lifecycle policy expired would fail
        only after the change, unexplained), and, when ECS's revisions could not say which
        images run now, the task definition it runs says them."""
        body = registration.body if registration else target.want.body if target.want else {}
        images = self.gateway.images
        pulled = by_digest(body) if images is not None else ()
        unknown = step.changes and not target.before and step.current is not None
        if not (step.changes and (pulled or unknown)):
            self.take(step, registration, target)
            return
        then = partial(self.on_images, step, registration, target)
        self.loop.start(then, self._look, pulled, step.current if unknown else None)

    def _look(self, pulled: tuple[str, ...], running: str | None) -> _Looked:
        """Read-only, on the pool: ECR's answer, and the images of the running task
        definition (empty when not asked, or it cannot be described)."""
        checked = self.gateway.images.check(pulled) if pulled and self.gateway.images else Checked()
        before: tuple[ContainerImage, ...] = ()
        if running is not None:
            try:
                described = self.gateway.describe_task_definition(running)
            except EcsundoError:
                described = None  # the report goes without; the change does not wait on it
            before = images_of(described.body) if described else ()
        return _Looked(checked, before)

    def on_images(
        self, step: Step, registration: Registration | None, target: Target, done: Future[_Looked]
    ) -> None:
        looked = done.result()  # never raises: what could not be read is left unknown
        checked = looked.checked
        self.unchecked.update(checked.unchecked)
        if looked.before:
            target = replace(target, before=looked.before)
        if checked.gone:
            gone = [because(Why.IMAGE_GONE, image=image) for image in checked.gone]
            step, registration = not_taken(step, *gone, because(Why.IMAGE_GONE_NEXT)), None
        self.take(step, registration, target)

    def take(
        self, step: Step, registration: Registration | None = None, target: Target | None = None
    ) -> None:
        """Add the step to the plan and start it if it changes something (not in a dry run,
        and not before the gate says the run may change things)."""
        if target is not None:
            step = replace(step, before=target.before, after=target.after)
        self.plan.add(step, registration)
        if step.changes and not self.options.dry_run:
            if self.gate is not None:
                self.gate.result()  # a refused gate read ends the run before any change
            self.changing = True
            self.changes.start(step)


def _stopping(target: Target, step: Step) -> Step:
    """The step, or a stop of the target's in-flight deployment where ECS can roll it back
    to exactly what the target wants."""
    flight = target.in_flight
    if flight is None or target.want is None:
        return step
    stop = stop_step(
        step, flight.deployment, flight.sources, target.want, flight.recorded, flight.running
    )
    return stop or step


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
    return ServiceResult.of(step, Status.FAILED, why=(because(Why.NOT_STARTED), *step.why))


def dry_run_results(plan: Plan) -> list[ServiceResult]:
    return [planned(step, dry_run=True) for step in plan.steps]


# -- the changes: register, update, stop, wait ------------------------------------------------


class NotChanged(AwsError):
    """A change this run did not make, and why (with what it did make on the way)."""

    def __init__(self, *why: Reason) -> None:
        super().__init__(say(why))
        self.why = why


def _failed(exc: EcsundoError) -> tuple[Reason, ...]:
    """Why a change failed: ours, or the call ECS refused."""
    if isinstance(exc, NotChanged):
        return exc.why
    return (because(Why.CALL_FAILED, error=str(exc)),)


@dataclass(frozen=True)
class Updated:
    """What an accepted UpdateService left behind."""

    to: str
    deployment: str | None  # the id of the deployment it started
    at: float  # when it was sent (monotonic seconds)
    racing: str | None  # the task definition of a deploy that began after we read the service
    rolling_back: bool = False  # ECS rolls back a stopped deployment itself
    note: Reason | None = None  # why a stop became an update
    instead: Step | None = None  # the step taken because a stop could not be made
    # The settings ECS refused (a resource they name is gone): the update was made without
    # them, and the row is partial.
    settings_left: Reason | None = None


class Changes:
    """The changes of one plan: started one by one as they are decided, then waited for and
    told as one row per step.

    start(step) begins a changing step at once: UpdateService on the changes' threads, or,
    when its target must be registered again, the registration (once per original) and then
    the update, both in the registrations' queue. finish() waits for every rollout and
    returns one result per step of the plan, in the plan's order. Both are called from the
    loop's thread; only the work they hand out runs elsewhere.
    """

    def __init__(self, gateway: EcsGateway, threads: Threads, plan: Plan, options: Options) -> None:
        self.gateway, self.threads, self.plan, self.options = gateway, threads, plan, options
        self._started: list[tuple[Step, Future[Updated]]] = []
        self._registered: dict[str, Future[str]] = {}  # original ARN -> the new ARN
        self._began: dict[str, float] = {}  # original ARN -> when its registration began
        self._spans: dict[str, tuple[float, float]] = {}  # phase -> (first start, last end)
        # Each service's own: (phase, service name or, for register, original ARN) -> (start,
        # end), and when its rollout ended (monotonic).
        self._each: dict[tuple[str, str], tuple[float, float]] = {}
        self._settled: dict[str, float] = {}
        self._lock = threading.Lock()

    def _span(self, phase: str, start: float, key: str = "") -> None:
        """Widen a phase's span (register, update, wait) to cover start..now, and record
        key's own (a service, or the original a registration copies)."""
        end = time.monotonic()
        with self._lock:
            first, last = self._spans.get(phase, (start, end))
            self._spans[phase] = (min(first, start), max(last, end))
            if key:
                self._each[phase, key] = (start, end)

    def durations(self) -> dict[str, float]:
        """Seconds from the first to the last moment of each phase that happened."""
        return {phase: last - first for phase, (first, last) in self._spans.items()}

    def timed(
        self, rows: list[ServiceResult], targets: Mapping[str, Target]
    ) -> list[ServiceResult]:
        """Each row with when its register, update and rollout ran (UTC: a timeline is read
        later), and whether ECS rolls the service out in stages."""
        now, now_utc = time.monotonic(), datetime.now(UTC)
        steps = {step.service: step for step in self.plan.steps if step.kind == Kind.SERVICE}

        def span(phase: Phase, times: tuple[float, float]) -> Span:
            began, ended = (now_utc - timedelta(seconds=now - at) for at in times)
            return Span(phase, began, ended)

        told = []
        for row in rows:
            if row.kind != Kind.SERVICE:  # a scheduled task or auto scaling: one call
                told.append(row)
                continue
            spans = []
            step = steps.get(row.name)
            taken = step if step is None or step.action == row.action else step.fallback
            if taken is not None and taken.action == Action.REREGISTER and taken.target:
                registered = self._each.get(("register", taken.target))
                spans += [span(Phase.REGISTER, registered)] if registered else []
            updated = self._each.get(("update", row.name))
            if updated is not None:
                spans.append(span(Phase.UPDATE, updated))
                if row.name in self._settled:
                    spans.append(span(Phase.ROLLOUT, (updated[1], self._settled[row.name])))
            target = targets.get(row.name)
            staged = bool(target and target.service and target.service.staged)
            told.append(replace(row, spans=tuple(spans), staged=staged))
        return told

    def start(self, step: Step) -> None:
        assert step.changes and step.target is not None
        if step.action == Action.STOP:
            future = self.threads.change(self._stop, step)
        elif step.action != Action.REREGISTER:
            future = self.threads.change(self._update, step, step.target)
        else:
            registered = self._registration(self.plan.registrations[step.target])
            if registered.done():
                future = self.threads.change(self._update_after, step, registered)
            else:  # queued behind its registration, which is queued already
                future = self.threads.register(self._update_after, step, registered)
        self._started.append((step, future))

    def _registration(self, registration: Registration) -> Future[str]:
        with self._lock:  # the loop's thread, and a stop's fallback on the changes' threads
            future = self._registered.get(registration.original)
            if future is None:
                future = self.threads.register(self._register, registration)
                self._registered[registration.original] = future
            return future

    def _stop_if_stopping(self) -> None:
        if self.threads.stopped.is_set():
            raise NotChanged(because(Why.INTERRUPTED))

    def _register(self, registration: Registration) -> str:
        self._stop_if_stopping()
        began = self._began[registration.original] = time.monotonic()
        try:
            return self.gateway.register_task_definition(
                registration.body, registration.request_tags()
            ).arn
        finally:
            self._span("register", began, registration.original)

    def _update_after(self, step: Step, registered: Future[str]) -> Updated:
        try:
            to = registered.result()
        except EcsundoError as exc:
            raise NotChanged(because(Why.NOT_UPDATED, error=str(exc))) from exc
        try:
            done = self._update(step, to)
        except NotChanged:
            raise
        except EcsundoError as exc:  # the registration stands: the row says so
            failed = because(Why.CALL_FAILED, error=str(exc))
            kept = because(Why.REGISTERED_ONLY, copy=short_name(to))
            raise NotChanged(failed, kept) from exc
        # The service's change began with its registration.
        return replace(done, at=self._began.get(step.target or "", done.at))

    def _put_scheduled(self, step: Step, to: str, at: float) -> Updated:
        """A scheduled task's target (or whole schedule) put back, running `to`."""
        assert step.task is not None and self.gateway.scheduled is not None
        task = replace(step.task, definition=step.put or step.task.definition)
        try:
            self.gateway.scheduled.put(task, task.running(to))
        finally:
            self._span("update", at)
        return Updated(to, None, at, None)

    def _put_scaling(self, step: Step, at: float) -> Updated:
        """A service's scalable target registered as recorded, and its policies put back."""
        assert self.gateway.scaling is not None and step.target is not None
        change = step.scaling
        assert change is not None
        cluster = short_name(self.plan.cluster_arn)
        scaling = self.gateway.scaling
        try:
            if change.register:
                scaling.register(cluster, step.service, change.target)
            try:
                scaling.put_policies(cluster, step.service, change.policies)
            except EcsundoError as exc:
                if not change.register:
                    raise
                # The range went back: the row says so, with what did not.
                kept = because(Why.RANGE_ONLY, range=change.target.capacity)
                raise NotChanged(because(Why.CALL_FAILED, error=str(exc)), kept) from exc
        finally:
            self._span("update", at)
        return Updated(step.target, None, at, None)

    def _stop(self, step: Step) -> Updated:
        """StopServiceDeployment(ROLLBACK); if the deployment finished meanwhile, the step
        the plan would have taken otherwise, in this run."""
        assert step.deployment is not None and step.fallback is not None and step.target
        self._stop_if_stopping()
        at = time.monotonic()
        try:
            self.gateway.stop_service_deployment(step.deployment)
            self._span("update", at, step.service)
        except EcsundoError as exc:
            # Finished meanwhile (Conflict), or the stop is refused (no permission, an
            # endpoint without it): the step the plan would have taken otherwise.
            fallback = step.fallback
            to = fallback.target or ""
            if fallback.action == Action.REREGISTER:
                to = self._registration(self.plan.registrations[to]).result()
            done = self._update(fallback, to)
            if isinstance(exc, Conflict):
                note = because(Why.STOP_TOO_LATE)
            else:
                note = because(Why.STOP_FAILED, error=str(exc))
            return replace(done, note=note, instead=fallback)
        return Updated(step.target, None, at, None, rolling_back=True)

    def _update(self, step: Step, to: str) -> Updated:
        assert step.service_arn is not None
        self._stop_if_stopping()
        at = time.monotonic()
        if step.kind == Kind.SCALABLE_TARGET:
            return self._put_scaling(step, at)
        if step.task is not None:
            return self._put_scheduled(step, to, at)
        # Staying on the same task definition (a count or settings only): do not name it, it
        # may have been deregistered since.
        same = to == step.current and (step.desired_count is not None or bool(step.settings))
        left = None
        try:
            try:
                service = self.gateway.update_service(
                    self.plan.cluster_arn,
                    step.service_arn,
                    None if same else to,
                    step.desired_count,
                    step.settings,
                )
            except SettingsGone as exc:
                if same and step.desired_count is None:
                    raise  # the settings were all there was to put back
                # Put back what can be: the task definition (and count) without them.
                left = because(Why.SETTINGS_LEFT, settings=", ".join(exc.settings), error=str(exc))
                service = self.gateway.update_service(
                    self.plan.cluster_arn,
                    step.service_arn,
                    None if same else to,
                    step.desired_count,
                )
        finally:
            self._span("update", at, step.service)
        primary = service.primary
        racing = _racing_deployment(step, service)
        return Updated(to, primary.id if primary else None, at, racing, settings_left=left)

    def _accepted(self) -> tuple[dict[str, ServiceResult], dict[str, tuple[Step, Updated]]]:
        """Each change started, once its calls are done: a row for each that failed (or
        raced another deploy), and, by service ARN, the step and what ECS accepted for the
        others."""
        rows: dict[str, ServiceResult] = {}
        accepted: dict[str, tuple[Step, Updated]] = {}
        for step, future in self._started:
            try:
                done = future.result()
            except EcsundoError as exc:
                rows[step.key] = ServiceResult.of(step, Status.FAILED, why=_failed(exc))
                continue
            except Exception as exc:  # a bug must cost one row, never the whole report
                rows[step.key] = ServiceResult.of(
                    step,
                    Status.FAILED,
                    why=(because(Why.INTERNAL, kind=type(exc).__name__, error=str(exc)),),
                )
                continue
            step = done.instead or step  # the row says what was really done
            if done.racing:
                rows[step.key] = ServiceResult.of(
                    step,
                    Status.FAILED,
                    to=done.to,
                    changed=True,
                    why=(because(Why.RACING, other=short_name(done.racing)),),
                )
            else:
                kind = step.kind == Kind.SERVICE
                accepted[(step.service_arn or "") if kind else step.key] = (step, done)
        return rows, accepted

    def _in_plan_order(self, rows: dict[str, ServiceResult]) -> list[ServiceResult]:
        """One row per step of the plan, in its order; a step never started says so."""
        return [rows.get(step.key) or planned(step, False) for step in self.plan.steps]

    def finish(self) -> list[ServiceResult]:
        """Wait, in one loop, for every updated service to settle; one result per step."""
        rows, updated = self._accepted()
        # A scheduled task's or auto scaling's change is done once accepted: no rollout.
        for key, (step, done) in list(updated.items()):
            if step.kind != Kind.SERVICE:
                del updated[key]
                rows[step.key] = ServiceResult.of(step, Status.SUCCESS, to=done.to, changed=True)
        settled = self._wait(updated) if self.options.wait and updated else {}
        settled = self._why(self._verify(updated, settled))
        for arn, (step, done) in updated.items():
            outcome = settled.get(arn)
            left = (done.settings_left,) if done.settings_left else ()
            if outcome is None:
                rows[step.key] = ServiceResult.of(
                    step,
                    Status.PARTIAL if left else Status.UPDATED,
                    to=done.to,
                    changed=True,
                    why=(*step.why, *left, because(Why.NOT_WAITED)),
                )
                continue
            self._settled[step.service] = done.at + outcome.seconds  # as the wait counts
            # A failure leads with what went wrong; a success with what was done.
            done_why = (*step.why, *((done.note,) if done.note else ()), *left)
            status = Status.PARTIAL if left else Status.SUCCESS
            status = status if outcome.ok else Status.FAILED
            rows[step.key] = ServiceResult.of(
                step,
                status,
                to=done.to,
                seconds=outcome.seconds,
                changed=True,
                why=(*done_why, *outcome.why) if outcome.ok else (*outcome.why, *done_why),
            )
        return self._read_back(self._in_plan_order(rows))

    def settle_interrupted(self) -> list[ServiceResult]:
        """The rows of an interrupted run: each change started is awaited (those not yet on
        the wire see the run stopping and change nothing); none is waited for to settle."""
        rows, accepted = self._accepted()
        for step, done in accepted.values():
            rows[step.key] = ServiceResult.of(
                step,
                Status.UPDATED,
                to=done.to,
                changed=True,
                why=(*step.why, *filter(None, (done.settings_left,)), because(Why.STOPPED_WAITING)),
            )
        return self._in_plan_order(rows)

    def _read_back(self, rows: list[ServiceResult]) -> list[ServiceResult]:
        """A failed row tells what the service runs after the run, never what it should have
        run: unchanged, what it ran when read; changed (a rollout that failed or was rolled
        back, a deploy over ours), what ECS says it runs now (unknown if that cannot be read)."""
        arns = {
            step.service: step.service_arn
            for step in self.plan.steps
            if step.service_arn and step.kind == Kind.SERVICE
        }
        changed = [
            r
            for r in rows
            if r.status == Status.FAILED and r.changed and r.kind == "service" and r.name in arns
        ]
        running: dict[str, tuple[str | None, tuple[ContainerImage, ...]]] = {}
        if changed:
            try:
                found, _ = self.gateway.describe_services(
                    self.plan.cluster_arn, [arns[r.name] for r in changed], self.threads.map
                )
                serving = [a for service in found for a in service.current_revisions]
                revisions = self.gateway.describe_service_revisions(serving, self.threads.map)
                for service in found:
                    now = running_revision(service, revisions)
                    running[service.name] = (service.task_definition, now.images if now else ())
            except EcsundoError:
                pass  # what runs cannot be read: the rows say unknown, not a guess
        told = []
        for row in rows:
            if row.status != Status.FAILED:
                told.append(row)
            elif not row.changed:
                told.append(replace(row, after=row.before))
            else:
                to, images = running.get(row.name, (row.to, ()))
                told.append(replace(row, to=to, after=images))
        return told

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
                [r for outcome in checking.values() for r in outcome.revisions], self.threads.map
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
                    (because(Why.TAG_MOVED, containers=", ".join(wrong)),),
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
        reasons = {d.arn: ecs_says(d) for d in found}
        explained = dict(settled)
        for arn, outcome in failed.items():
            why = reasons.get(outcome.deployment or "")
            if why:
                explained[arn] = replace(outcome, why=(*outcome.why, why))
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
            self.threads,
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


def ecs_says(deployment: ServiceDeployment) -> Reason | None:
    """Why ECS stopped a service deployment (None when it did not say): the alarms that went
    off, the circuit breaker's count, failed lifecycle hooks, the rollback's reason."""
    parts = []
    if deployment.alarms:
        parts.append(because(Why.ALARMS, names=_flat(", ".join(deployment.alarms))))
    if deployment.breaker is not None:
        failures, threshold = deployment.breaker
        parts.append(because(Why.BREAKER, failures=failures, threshold=threshold))
    for hook in deployment.hooks:
        if hook.status in ("FAILED", "TIMED_OUT"):
            status = hook.status.lower().replace("_", " ")
            parts.append(because(Why.HOOK, hook=_flat(hook.id or "?"), status=status))
    if deployment.rollback_reason:
        parts.append(because(Why.ECS_ROLLBACK_REASON, reason=_flat(deployment.rollback_reason)))
    return because(Why.ECS_SAYS, details=tuple(parts)) if parts else None


def _flat(text: str) -> str:
    """AWS's words on one line."""
    return " ".join(text.split())
