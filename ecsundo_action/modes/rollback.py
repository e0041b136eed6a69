"""Rollback without a snapshot: each selected service goes back to what it ran before.

"Before" comes from ECS's service-deployment history when it can be read: the newest
deployment that put the current task definition in place names what ran before it.
A restart of the current release, or ECS's own rollback to it, is not a release: the
`since` window counts from when the release first started (per the history; without it,
no earlier than its task definition's registration).
Where that API is not available, it is the newest lower revision of the family whose
containers differ from the current ones, skipping this tool's own re-registrations and
counting a re-registration as the revision it recreates (so rolling back twice steps
further back instead of returning to the bad revision, as the original tool did).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from ecsundo_action.aws.arns import family_and_revision, short_name
from ecsundo_action.aws.gateway import HISTORY_BATCH, EcsGateway, HistoryUnavailable
from ecsundo_action.aws.records import (
    ContainerImage,
    Service,
    ServiceDeployment,
    ServiceRevision,
    TaskDefinition,
    images_of,
    running_revision,
)
from ecsundo_action.converge import Found, InFlight, Options, Read, Target, converge
from ecsundo_action.facts import facts_from
from ecsundo_action.modes import selection
from ecsundo_action.plan import (
    CONTROLLED_ELSEWHERE,
    PROVENANCE_TAG,
    Action,
    PinImages,
    Registration,
    Scope,
    Step,
    TargetFacts,
    Want,
    left_alone_step,
    plan_step,
    skip_step,
    unchanged_step,
    want_of,
)
from ecsundo_action.reasons import SOURCES, Source, Why, because, plural
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from ecsundo_action.threads import Threads


@dataclass(frozen=True)
class Previous:
    """What a service ran before, and where that answer came from."""

    arn: str | None
    source: Source  # where the answer came from
    described: TaskDefinition | None = None  # its body and tags (None: deleted, or no arn)
    history: InHistory | None = None  # with ECS's history: the revisions (settings, digests)
    now: tuple[ContainerImage, ...] = ()  # the images running now (for the report)
    # ECS itself rolled the newest deployment back, from this task definition: the service
    # already runs the release before it, and going further back would be one too far.
    rolled_back_from: str | None = None
    # The task definition running now, when it was registered: without ECS's history, the
    # only bound on when the current release first started (restarts of it come later).
    current: TaskDefinition | None = None

    @property
    def released_at(self) -> datetime | None:
        """When the current release first started: per ECS's history, or, without it, no
        earlier than its task definition's registration."""
        if self.history is not None and self.history.started_at is not None:
            return self.history.started_at
        return self.current.registered_at if self.current else None

    @property
    def then(self) -> tuple[ContainerImage, ...]:
        """The images it ran before: with digests when ECS's history recorded them."""
        if self.history is not None:
            return self.history.revision.images
        return images_of(self.described.body) if self.described else ()


class _History:
    """Whether ECS's deployment history can be read here; shared by the run's lookups,
    which stop asking once one is refused (the answer is the same for every service)."""

    available = True


def _effective(arn: str, described: TaskDefinition | None) -> tuple[str, str, int]:
    """(the ARN it stands for, family, revision): a re-registration stands for its original."""
    original = described.tag(PROVENANCE_TAG) if described else None
    stands_for = original or arn
    family, revision = family_and_revision(stands_for)
    return stands_for, family, revision


@dataclass(frozen=True)
class InHistory:
    """What ran before, per ECS's history: the source revision of the deployment that put
    the current task definition in place, and the revision that deployment made."""

    task_definition: str
    revision: ServiceRevision  # the one to go back to: its settings and digests
    running: ServiceRevision | None  # the one running now
    deployment: ServiceDeployment | None = None  # the deployment that replaced it

    @property
    def started_at(self) -> datetime | None:
        """When the current release first started (restarts of it since do not count)."""
        return self.deployment.created_at if self.deployment else None


@dataclass(frozen=True)
class RolledBackByEcs:
    """ECS rolled the newest deployment back (its circuit breaker, alarms, or a stop): the
    service runs the release before it again."""

    failed: str  # the task definition of the deployment ECS rolled back


def previous_from_history(
    gateway: EcsGateway,
    cluster_arn: str,
    service: Service,
    current_td: TaskDefinition | None = None,
) -> InHistory | RolledBackByEcs | None:
    """What ran before the current task definition, per ECS's deployment history.

    A later revision of the same family is never "before" (after a rollback from B to A,
    the history's newest deployment has source B: rolling back again must not return to B),
    and a re-registration counts as the revision it recreates.
    """
    current = service.task_definition or ""
    original, family, revision = _effective(current, current_td)
    same = {current, original}
    ours = original != current  # the service runs one of ecsundo's re-registrations

    def earlier(arn: str) -> bool:
        their_family, their_revision = family_and_revision(arn)
        return arn not in same and (their_family != family or their_revision < revision)

    arns = gateway.list_service_deployments(cluster_arn, service.arn)
    if not arns:
        return None
    deployments = sorted(
        gateway.describe_service_deployments(arns[:HISTORY_BATCH]),
        key=lambda d: d.created_at or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )
    known = gateway.describe_service_revisions(
        [
            *(arn for d in deployments for arn in (d.target, *d.sources) if arn),
            *service.current_revisions,
        ]
    )
    running = running_revision(service, known)
    newest = deployments[0]
    failed = known.get(newest.target or "")
    if newest.status == "ROLLBACK_SUCCESSFUL" and failed and failed.task_definition not in same:
        return RolledBackByEcs(failed.task_definition or "?")
    for deployment in deployments:
        made = known.get(deployment.target or "")
        if made is None or made.task_definition not in same:
            continue
        for source in deployment.sources:
            before = known.get(source)
            if not before or not before.task_definition:
                continue
            if earlier(before.task_definition):
                return InHistory(before.task_definition, before, running or made, deployment)
            # The same task definition with another build behind its tag (a push and
            # forceNewDeployment): going back means that build, pinned. Not from one of our
            # own re-registrations: its source is what ecsundo rolled back from.
            rebuilt = running is not None and before.digests != running.digests
            if before.task_definition == current and rebuilt and not ours:
                return InHistory(before.task_definition, before, running, deployment)
    return None


def previous_from_revisions(gateway: EcsGateway, current: TaskDefinition) -> TaskDefinition | None:
    """The newest lower revision whose containers differ from the current ones."""
    family, revision = family_and_revision(current.arn)
    recreated = current.tag(PROVENANCE_TAG)
    if recreated:
        recreated_family, recreated_revision = family_and_revision(recreated)
        if recreated_family == family:
            revision = recreated_revision
    candidates = sorted(
        {
            arn
            for status in ("ACTIVE", "INACTIVE")
            for arn in gateway.list_task_definitions(family, status, sort="DESC")
            if family_and_revision(arn)[1] < revision
        },
        key=lambda arn: family_and_revision(arn)[1],
        reverse=True,
    )
    for arn in candidates:
        candidate = gateway.describe_task_definition(arn)
        if candidate is None or candidate.tag(PROVENANCE_TAG):
            continue
        if candidate.body.get("containerDefinitions") != current.body.get("containerDefinitions"):
            return candidate
    return None


def find_previous(
    gateway: EcsGateway, cluster_arn: str, service: Service, history: _History
) -> Previous:
    """Read-only: what the service ran before, described (one worker's whole chain of
    calls for one service)."""
    assert service.task_definition is not None
    current = gateway.describe_task_definition(service.task_definition)
    arn, source, described, before = None, Source.REVISIONS, None, None
    if history.available:
        try:
            found = previous_from_history(gateway, cluster_arn, service, current)
        except HistoryUnavailable:
            history.available = False
            found = None
        if isinstance(found, RolledBackByEcs):
            now = images_of(current.body) if current else ()
            return Previous(None, Source.HISTORY, now=now, rolled_back_from=found.failed)
        before = found
        arn = before.task_definition if before else None
    if arn:
        source = Source.HISTORY
        # An INACTIVE target is still described: its body is what gets registered again.
        described = gateway.describe_task_definition(arn)
    elif current is not None:
        # No history here, or it kept nothing earlier (it ages out): the revisions may tell.
        if history.available:
            source = Source.REVISIONS_NO_HISTORY
        described = previous_from_revisions(gateway, current)
        arn = described.arn if described else None
    if before is not None and before.running is not None:
        now = before.running.images
    else:
        now = images_of(current.body) if current else ()
    return Previous(arn, source, described if arn else None, before, now, current=current)


def want_previous(previous: Previous, *, scope: Scope, pin_images: PinImages) -> Want | None:
    """Pure: what a service needs to go back to what it ran before: with ECS's history,
    also the digests and settings of that revision (None: nothing to go to)."""
    if previous.arn is None or previous.described is None:
        return None
    history = previous.history
    return want_of(
        previous.arn,
        previous.described.body,
        previous.described.tags,
        history.revision.images if history else None,
        history.revision.settings if history else None,
        history.running if history else None,
        scope=scope,
        pin_images=pin_images,
    )


def plan_rollback(
    service: Service, previous: Previous, facts: TargetFacts | None, wanted: Want | None
) -> tuple[Step, Registration | None]:
    """Pure: the step one service needs to go back to what it ran before."""
    if previous.arn is None or facts is None:
        return skip_step(service, None, because(Why.NO_EARLIER, source=previous.source)), None
    step = plan_step(
        service,
        previous.arn,
        facts,
        can_register=wanted is not None,
        why=(because(Why.PREVIOUS, source=previous.source), *(wanted.notes if wanted else ())),
        pinned=wanted.pinned if wanted else False,
        settings=wanted.settings if wanted else None,
        expect=wanted.expect if wanted else frozenset(),
    )
    if step.action == Action.REREGISTER and wanted is not None:
        return step, Registration(previous.arn, wanted.body, wanted.tags)
    return step, None


def _recent(service: Service, minutes: float, now: datetime) -> bool:
    primary = service.primary
    created = primary.created_at if primary else None
    return created is not None and created >= now - timedelta(minutes=minutes)


def look_back(
    gateway: EcsGateway,
    cluster_arn: str,
    service: Service,
    history: _History,
    request: Request,
    named: bool = False,
    window: tuple[float, datetime] | None = None,
) -> Found:
    """Read-only, one worker's whole chain for one service: what it ran before, and the
    Target of going back there. Nothing earlier: a failure for a service named explicitly,
    unchanged (and said) for one a whole-cluster rollback takes. A release (not a restart
    of it) that started before the window (minutes, counted back from a moment) is left
    alone, as ECS's own rollback is."""
    previous = find_previous(gateway, cluster_arn, service, history)
    wanted = want_previous(previous, scope=request.scope, pin_images=request.pin_images)
    before = short_name(previous.arn) if previous.arn else "nothing earlier"
    in_flight = None
    history_before = previous.history
    if history_before and history_before.deployment and wanted:
        # Still rolling out: ECS can go back to the revision it replaces by itself.
        revision = history_before.revision
        in_flight = InFlight(
            history_before.deployment,
            [revision],
            revision.settings if request.scope == Scope.SERVICE else None,
            history_before.running,
        )
    target = Target(
        service.name,
        want=wanted,
        described=previous.described,
        in_flight=in_flight,
        service=service,
        before=previous.now,
        after=previous.then,
        notes=(f"{service.name}: {before} (per {SOURCES[previous.source]})",),
    )
    if previous.rolled_back_from is not None:
        back = because(Why.ECS_ROLLED_BACK_ALREADY, failed=short_name(previous.rolled_back_from))
        return Found([replace(target, step=unchanged_step(service, back), after=previous.now)])
    started = previous.released_at
    if window is not None and started is not None and not named:
        minutes, now = window
        if started < now - timedelta(minutes=minutes):
            if history_before is not None:
                old = because(Why.NOT_DEPLOYED_SINCE, minutes=minutes)
            else:  # a restart, or a return to it (ECS's rollback, say): not a release
                running = short_name(service.task_definition or "")
                old = because(Why.REGISTERED_BEFORE, minutes=minutes, task_definition=running)
            step = unchanged_step(service, old)
            return Found([replace(target, step=step, after=previous.now)])
    if previous.arn is None and not named:
        nothing = because(Why.NO_EARLIER, source=previous.source)
        return Found([replace(target, step=unchanged_step(service, nothing))])
    if wanted is None:  # nothing to go back to, or it cannot be registered again
        facts = facts_from(gateway, previous.arn, None) if previous.arn else None
        step, _ = plan_rollback(service, previous, facts, None)
        return Found([replace(target, step=step)])
    return Found(
        [
            replace(
                target,
                decide=partial(plan_rollback, service, previous, wanted=wanted),
                unable=partial(_not_rolled_back, service),
            )
        ]
    )


def _not_rolled_back(service: Service, why: str) -> Step:
    return skip_step(service, None, because(Why.NOT_ROLLED_BACK, error=why))


def _not_rolled_back_list(service: Service, why: str) -> list[Step]:
    return [_not_rolled_back(service, why)]


def rollback(gateway: EcsGateway, threads: Threads, request: Request, options: Options) -> Outcome:
    """Roll each selected service back to what it ran before.

    Without named services, only services whose current deployment began in the last
    request.since_minutes (0: every one): the ones the bad deploy touched. Named services
    are always rolled back.
    """
    progress, began = options.progress, time.monotonic()
    cluster, patterns, since_minutes = request.cluster, request.services, request.since_minutes
    where = gateway.describe_cluster(cluster)
    selection.check_places(where, request.places)
    names = sorted(short_name(a) for a in gateway.list_service_arns(where.arn))
    chosen = selection.select(names, patterns, f"cluster {where.name!r}")
    services, _gone = gateway.describe_services(where.arn, chosen, threads.map)
    services.sort(key=lambda s: s.name)

    window = since_minutes if patterns is None and since_minutes > 0 else None
    progress.phase(
        f"Find what {plural(len(services), 'service')} of cluster {where.name} ran before"
    )
    now, history = datetime.now(UTC), _History()
    named = {p for p in patterns or () if not selection.is_pattern(p)}
    at_once: list[Target] = []  # decided without reading anything more
    reads: list[Read] = []
    for service in services:
        if window is not None and not _recent(service, window, now):
            step = unchanged_step(service, because(Why.NOT_DEPLOYED_SINCE, minutes=window))
            at_once.append(Target(service.name, step=step, service=service))
        elif service.controller != "ECS":  # CodeDeploy or task sets deploy it: say how
            how = because(CONTROLLED_ELSEWHERE.get(service.controller, Why.TASK_SETS))
            step = left_alone_step(service, None, how, named=service.name in named)
            at_once.append(Target(service.name, step=step, service=service))
        elif service.task_definition is None:
            step = skip_step(service, None, because(Why.NO_TASK_DEFINITION))
            at_once.append(Target(service.name, step=step, service=service))
        else:
            known = service.name in named
            since = (window, now) if window is not None else None
            look = partial(look_back, gateway, where.arn, service, history, request, known, since)
            reads.append(Read(look, partial(_not_rolled_back_list, service)))
    if at_once:
        reads.insert(0, Read(partial(Found, at_once), lambda why: []))

    # Services outside the window are what a whole-cluster rollback is meant to leave: a
    # notice, not a warning that every run would repeat.
    old = [t for t in at_once if t.step and t.step.action == Action.UNCHANGED]
    notices = []
    if old:
        notices.append(
            f"{plural(len(old), 'service')} not deployed in the last {window:g} minutes, left "
            "alone: name them in services (--services), or set since to 0 (--since 0) for all"
        )
    for line in notices:
        progress.note(f"note: {line}")
    order = [s.name for s in services]
    done = converge(gateway, threads, where.arn, reads, options, order=order)
    return Outcome(
        Mode.ROLLBACK,
        where.name,
        done.rows,
        dry_run=request.dry_run,
        timings={"read": done.decided_at - began, **done.durations},
        plan=done.plan,
        warnings=done.warnings,
        notices=notices,
        interrupted=done.interrupted,
    )
