"""What a run did, per service and overall: the one shape every mode returns and every
edge reports from (the CLI's text and JSON, the action's outputs, log and summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ecsundo_action.aws.arns import short_digest, short_or_dash
from ecsundo_action.aws.records import ContainerImage, Kind
from ecsundo_action.plan import Action
from ecsundo_action.reasons import TOLD_BY_WHAT, Reason, Why, say
from ecsundo_action.request import Mode

if TYPE_CHECKING:
    from ecsundo_action.plan import Plan, Step
    from ecsundo_action.snapshots.document import Snapshot


class Status(StrEnum):
    SUCCESS = "success"  # changed, and (when waited for) the rollout completed
    UPDATED = "updated"  # changed, not waited for (wait: false)
    UNCHANGED = "unchanged"  # already where it should be: not touched
    PLANNED = "planned"  # dry-run: would change
    FAILED = "failed"
    MISSING = "missing"  # in the snapshot, deleted from the cluster since
    SKIPPED = "skipped"  # not ECS's to deploy (CodeDeploy, task sets): how to, in the message
    # Its task definition put back, some settings not (ECS refused them: a resource they name
    # was deleted since); the message names them.
    PARTIAL = "partial"


OK = {Status.SUCCESS, Status.UPDATED, Status.UNCHANGED, Status.PLANNED, Status.SKIPPED}
MOVED = {Status.SUCCESS, Status.UPDATED}
# Rows a person must look at: the run did not put them where they should be.
NEEDS_ATTENTION = (Status.FAILED, Status.MISSING, Status.PARTIAL)


class Phase(StrEnum):
    """A part of one service's change, in the order they happen."""

    REGISTER = "register"  # its task definition registered again
    UPDATE = "update"  # UpdateService (or StopServiceDeployment), until ECS accepted it
    ROLLOUT = "rollout"  # from then until it settled (or failed, or the time was up)


@dataclass(frozen=True)
class Span:
    """When one phase of a service's change began and ended (UTC): the summary's timeline."""

    phase: Phase
    began: datetime
    ended: datetime

    @property
    def seconds(self) -> float:
        return (self.ended - self.began).total_seconds()


class Verdict(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    DRY_RUN = "dry-run"
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM: the rows say what was done


@dataclass(frozen=True)
class ServiceResult:
    name: str
    action: Action
    from_: str | None
    to: str | None
    status: Status
    seconds: float = 0.0
    message: str = ""
    changed: bool = False  # ECS accepted a change this run asked for, whatever came next
    # The images it ran before and should run after (empty: unknown), and what happened,
    # in words ("re-registered api:1 as api:3").
    before: tuple[ContainerImage, ...] = ()
    after: tuple[ContainerImage, ...] = ()
    what: str = ""
    why: tuple[Reason, ...] = field(default=(), compare=False)  # message is their words
    # When its change's phases ran (empty: nothing was changed), and whether ECS rolls it out
    # in stages (blue/green, linear, canary, lifecycle hooks): the summary's timeline.
    spans: tuple[Span, ...] = field(default=(), compare=False)
    staged: bool = field(default=False, compare=False)
    kind: Kind = Kind.SERVICE  # a service, or a scheduled task (rule, schedule)

    @property
    def label(self) -> str:
        """Its name in a table: a scheduled task's says its kind."""
        kind = str(self.kind).replace("-", " ")
        return self.name if self.kind == Kind.SERVICE else f"{self.name} ({kind})"

    def has(self, why: Why) -> bool:
        return any(r.why == why for r in self.why)

    @property
    def cause(self) -> str:
        """What went wrong, in one clause: a partial row's setting left as it is; else the
        row's message, which leads with what went wrong and ECS's explanation of it."""
        lead = next((r for r in self.why if r.why == Why.SETTINGS_LEFT), None)
        return str(lead) if lead else self.message or str(self.status)

    @classmethod
    def of(
        cls,
        step: Step,
        status: Status,
        *,
        to: str | None = None,
        seconds: float = 0.0,
        why: tuple[Reason, ...] | None = None,
        changed: bool = False,
    ) -> ServiceResult:
        """The one way a step becomes a row: to and why default to the step's."""
        to = step.target if to is None else to
        why = step.why if why is None else why
        # A dry run's message is the plan's why; after a run, `what` tells the change and the
        # message what came of it (and what a person must know), not the plan again.
        told = why if status == Status.PLANNED else [r for r in why if r.why not in TOLD_BY_WHAT]
        return cls(
            step.service,
            step.action,
            step.current,
            to,
            status,
            seconds,
            say(told),
            changed,
            step.before,
            step.after,
            happened(step, status, to, why),
            why,
            kind=step.kind,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "action": str(self.action),
            "from": self.from_,
            "to": self.to,
            "status": str(self.status),
            "seconds": round(self.seconds, 1),
            "message": self.message,
            "what": self.what,
            "from-images": [i.reference for i in self.before],
            "to-images": [i.reference for i in self.after],
        }


def happened(step: Step, status: Status, to: str | None, why: tuple[Reason, ...] = ()) -> str:
    """What was done, would be done (dry run) or was tried, in one clause a person reads
    during an incident: "re-registered api:1 (deleted) as api:3". It tells the change whole,
    so a row's message need not repeat the plan's reasons for it (TOLD_BY_WHAT)."""
    action = step.action
    if status == Status.MISSING:
        return "missing: " + ("being deleted" if step.has(Why.BEING_DELETED) else "deleted")
    if action in (Action.SKIP, Action.SKIPPED):
        if step.has(Why.CODE_DEPLOY):
            return "skipped: CodeDeploy-controlled"
        if step.has(Why.TASK_SETS):
            return "skipped: task-set-controlled (EXTERNAL)"
        return "left alone"
    if step.kind == Kind.SCALABLE_TARGET:
        return _scaling(step, status)
    if action == Action.UNCHANGED:
        on_copy = _reason(step.why, Why.ON_COPY)
        on = f"already on {short_or_dash(step.current)}"
        return f"{on}, its re-registration of {on_copy.get('target')}" if on_copy else on
    target, landed = short_or_dash(step.target), short_or_dash(to)
    count = _reason(step.why, Why.DESIRED_COUNT)
    counted = f"{count.get('now')} -> {count.get('to')}" if count is not None else None
    if action == Action.STOP:
        plan, done = (
            f"stop the in-flight deployment (ECS rolls back to {target})",
            f"ECS rolled back the in-flight deployment to {target}",
        )
    elif action == Action.REREGISTER:
        original = _original(step)
        plan, done = f"re-register {original}", f"re-registered {original} as {landed}"
        pinning = _pinning(step)
        plan, done = plan + pinning, done + pinning
    elif step.current == to and step.desired_count is not None:
        plan = done = f"desired count {counted or f'to {step.desired_count}'}"
        counted = None  # the clause is the count
    else:
        plan, done = f"update to {target}", f"updated to {landed}"
        reused = _reason(step.why, Why.REUSING)
        if reused is not None:  # the target is an earlier re-registration of the original
            copy_of = f", its re-registration of {_original(step, state=False)}"
            plan, done = plan + copy_of, done + copy_of
    if counted is not None:
        plan, done = f"{plan}, desired count {counted}", f"{done}, desired count {counted}"
    if step.settings:
        names = ", ".join(step.settings)
        plan = f"{plan} and its settings ({names})"
        # A partial row's settings were left as they are (its message says which).
        done = done + ("" if status == Status.PARTIAL else f" and its settings ({names})")
    if status == Status.FAILED:
        kept = _reason(why, Why.REGISTERED_ONLY)
        if kept is not None:  # the registration was made; the update after it was not
            return f"re-registered {target} as {kept.get('copy')}; the update failed"
        return f"tried to {plan}"
    return done if status in (Status.SUCCESS, Status.UPDATED, Status.PARTIAL) else plan


def _scaling(step: Step, status: Status) -> str:
    """A service's auto scaling: "put back min 2, max 10 and policy cpu"."""
    if step.action == Action.UNCHANGED:
        return f"auto scaling already {step.current}"
    change = step.scaling
    parts = [step.target or "-"] if change and change.register else []
    names = [str(p.get("PolicyName")) for p in (change.policies if change else ())]
    if names:
        parts.append(f"{'policy' if len(names) == 1 else 'policies'} {', '.join(names)}")
    what = "put back auto scaling " + " and ".join(parts)
    if status == Status.FAILED:
        return f"tried to {what}"
    return what


def _reason(why: tuple[Reason, ...], code: Why) -> Reason | None:
    return next((r for r in why if r.why == code), None)


def _original(step: Step, *, state: bool = True) -> str:
    """The task definition a re-registration copies, and why it is not used itself when it
    is gone: "api:1 (deleted)", "web:1 (INACTIVE)"."""
    gone = _reason(step.why, Why.TARGET_GONE)
    if gone is not None:
        return f"{gone.get('target')} ({gone.get('state')})" if state else str(gone.get("target"))
    pinned = _reason(step.why, Why.TARGET_PINNED)
    return str(pinned.get("target")) if pinned else short_or_dash(step.target)


def _pinning(step: Step) -> str:
    """ ", pinned to the builds the snapshot saw: worker:stable 684530589da9 (its tag now
    points at fa5a00a72fbf)"": each pinned image once, and where its tag moved."""
    if not step.pinned:
        return ""
    moved = {r.get("image"): r.get("now") for r in step.why if r.why == Why.PIN_MOVED}
    # The plan names the digests it pins; a copy already pinned stays pinned to all.
    digests = {r.get("digest") for r in step.why if r.why in (Why.PIN, Why.PIN_MOVED)}
    told = []
    for image in step.after:
        if not image.digest or (digests and short_digest(image.digest) not in digests):
            continue
        text = f"{image.label} {short_digest(image.digest)}"
        if moved.get(image.image):
            text += f" (its tag now points at {moved[image.image]})"
        told.append(text)
    if not told:
        return ""
    builds = "build" if len(told) == 1 else "builds"
    return f", pinned to the {builds} the snapshot saw: {', '.join(told)}"


@dataclass
class Outcome:
    """The result of one run of any mode."""

    mode: Mode
    cluster: str
    services: list[ServiceResult] = field(default_factory=list)
    dry_run: bool = False
    snapshot: Snapshot | None = None  # taken (snapshot, guard) or restored (restore)
    snapshot_uri: str | None = None
    plan: Plan | None = None
    store: str | None = None
    snapshots: list[str] | None = None  # list: ids, oldest first
    # Services of the cluster the selection took that the snapshot does not hold (restore):
    # left as they are.
    uncovered: list[str] = field(default_factory=list)
    # What a person should know though nothing failed: warning annotations in the action.
    warnings: list[str] = field(default_factory=list)
    # What was left as it was by design (a rollback's services outside its window): worth
    # a line, never a warning (a warning on every run teaches people to skip warnings).
    notices: list[str] = field(default_factory=list)
    # Seconds: "total" (the run's wall time) and each phase that happened ("read",
    # "register", "update", "wait": first to last moment; they overlap, changes start while
    # the rest is still being read).
    timings: dict[str, float] = field(default_factory=dict)
    clusters: list[dict[str, str]] | None = None  # discover: {cluster, region} pairs
    interrupted: int | None = None  # the signal that stopped the run (2: SIGINT, 15: SIGTERM)
    # When the run began and ended (UTC), and its Region: a report's times stay true when it
    # is read later, and its console links go to the right Region.
    started_at: datetime | None = None
    ended_at: datetime | None = None
    region: str | None = None

    @property
    def snapshot_id(self) -> str | None:
        if self.snapshot is not None:
            return self.snapshot.id
        return self.snapshots[-1] if self.snapshots else None

    @property
    def verdict(self) -> Verdict:
        if self.interrupted is not None:
            return Verdict.INTERRUPTED
        if self.dry_run:
            return Verdict.DRY_RUN
        bad = [s for s in self.services if s.status not in OK]
        if not bad:
            reads = self.mode in (Mode.SNAPSHOT, Mode.GUARD, Mode.LIST, Mode.DISCOVER)
            moved = any(s.status in MOVED for s in self.services)
            return Verdict.SUCCESS if reads or moved else Verdict.UNCHANGED
        some = len(bad) < len(self.services) or any(s.status == Status.PARTIAL for s in bad)
        return Verdict.PARTIAL if some else Verdict.FAILED

    @property
    def exit_status(self) -> int:
        """0 when every service ended where it should, 128 + the signal when interrupted
        (130 Ctrl-C, 143 SIGTERM), else 1."""
        if self.interrupted is not None:
            return 128 + self.interrupted
        return 0 if self.ok else 1

    @property
    def ok(self) -> bool:
        """Every selected service ended where it should (exit status 0)."""
        return self.verdict in (Verdict.SUCCESS, Verdict.UNCHANGED, Verdict.DRY_RUN)

    @property
    def changed_services(self) -> list[str]:
        """The services this run changed (their scheduled tasks and auto scaling are rows of
        their own kinds, not services)."""
        return [s.name for s in self.services if s.changed and s.kind == Kind.SERVICE]

    def outputs(self) -> dict[str, Any]:
        """The action's step outputs (names fixed by the contract)."""
        values: dict[str, Any] = {
            "result": str(self.verdict),
            "changed-services": self.changed_services,
            "services": [s.to_dict() for s in self.services],
        }
        # A dry-run snapshot stored nothing: no id a later step could try to restore.
        stored = self.mode not in (Mode.SNAPSHOT, Mode.GUARD) or self.snapshot_uri is not None
        if self.snapshot_id and stored:
            values["snapshot-id"] = self.snapshot_id
        if self.snapshot_uri:
            values["snapshot-uri"] = self.snapshot_uri
        if self.clusters is not None:
            values["clusters"] = self.clusters
        return values

    def to_dict(self) -> dict[str, Any]:
        """The CLI's --json: the action's outputs, under the same names, with the mode and
        cluster they are of (and, for list, the store and its snapshots)."""
        data: dict[str, Any] = {"mode": str(self.mode), "cluster": self.cluster}
        data.update(self.outputs())
        if self.snapshots is not None:
            data["store"] = self.store
            data["snapshots"] = self.snapshots
        return data
