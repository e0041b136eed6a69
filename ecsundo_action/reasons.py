"""Why a service's step and row are what they are: a code with its parameters, and the one
catalogue of the words a person reads for each.

The engine decides with codes (`Step.has`, `ServiceResult.has`), never by reading words, so
rewording a sentence here changes what is read and nothing else. Parameters are names, counts
and AWS's own words (an error, a rollout's reason), never task-definition environment values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Why(StrEnum):
    # Where a service goes, and how.
    PREVIOUS = "previous"  # source: a Source
    PIN_MOVED = "pin-moved"  # image, now, digest: its tag points at another build now
    PIN = "pin"  # digest: pin-images always
    NOT_PINNED = "not-pinned"  # container: pin-images always, but no digest was recorded
    SETTING = "setting"  # name, now, was
    SETTING_MORE = "setting-more"  # name, count: differences of a setting not told
    SETTING_KEPT = "setting-kept"  # name, now: UpdateService cannot unset it
    SETTINGS_UNCOMPARED = "settings-uncompared"
    ON_COPY = "on-copy"  # target: already on its re-registration
    DESIRED_COUNT = "desired-count"  # now, to
    SCALED_TO_ZERO = "scaled-to-zero"  # recorded
    TARGET_PINNED = "target-pinned"  # target: a copy pinned to digests is needed
    TARGET_GONE = "target-gone"  # target, state: INACTIVE, DELETE_IN_PROGRESS or deleted
    REUSING = "reusing"  # copy: an earlier re-registration
    REGISTERING = "registering"
    NO_BODY = "no-body"  # original: TARGET_PINNED or TARGET_GONE, and no body to register
    STOP_IN_FLIGHT = "stop-in-flight"  # back: ECS rolls back to it
    # Left alone, or missing.
    GONE = "gone"  # deleted from the cluster since
    BEING_DELETED = "being-deleted"  # status (DRAINING): its tasks are stopping
    CODE_DEPLOY = "code-deploy"  # CodeDeploy deploys it
    TASK_SETS = "task-sets"  # EXTERNAL: its task sets deploy it
    NO_TARGET = "no-target"  # the snapshot holds nothing to restore
    NO_EARLIER = "no-earlier"  # source: nothing earlier to roll back to
    NO_TASK_DEFINITION = "no-task-definition"
    ECS_ROLLED_BACK_ALREADY = "ecs-rolled-back-already"  # failed: ECS rolled it back from
    NOT_DEPLOYED_SINCE = "not-deployed-since"  # minutes
    IMAGE_GONE = "image-gone"  # image: a digest it would pull is no longer in ECR
    IMAGE_GONE_NEXT = "image-gone-next"  # what to do about it
    SETTINGS_LEFT = "settings-left"  # settings, error: ECS refused them, the rest was put back
    REGISTERED_BEFORE = "registered-before"  # minutes, task_definition: running, older
    NOT_RESTORED = "not-restored"  # error: its target could not be looked up or planned
    SCHEDULED_GONE = "scheduled-gone"  # kind: its rule, target or schedule was deleted since
    FAMILY_LATEST = "family-latest"  # family: it runs the family's latest revision
    SCHEDULED_CHANGED = "scheduled-changed"  # fields: of its target, besides the task definition
    SCALING_ADDED = "scaling-added"  # now: a scalable target registered since the snapshot
    SCALING_GONE = "scaling-gone"  # was: its scalable target was deregistered since
    CAPACITY = "capacity"  # now, was: min and max, or the suspended state, differ
    POLICIES_BACK = "policies-back"  # names: scaling policies changed or deleted since
    POLICIES_ADDED = "policies-added"  # names: scaling policies created since
    RANGE_ONLY = "range-only"  # range: put back, though its policies were not
    UNREADABLE = "unreadable"  # error: the service could not be read
    NOT_ROLLED_BACK = "not-rolled-back"  # error
    # What happened once started.
    NOT_STARTED = "not-started"  # the run stopped before it
    INTERRUPTED = "interrupted"  # the run was stopping when its turn came
    CALL_FAILED = "call-failed"  # error: ECS refused a change
    NOT_UPDATED = "not-updated"  # error: its registration failed
    REGISTERED_ONLY = "registered-only"  # copy: registered, but the service was not updated
    INTERNAL = "internal"  # kind, error: a bug, costing this row only
    RACING = "racing"  # other: a deploy that began after this run read the service
    STOP_TOO_LATE = "stop-too-late"  # the deployment finished first: updated instead
    STOP_FAILED = "stop-failed"  # error: updated instead
    NOT_WAITED = "not-waited"
    STOPPED_WAITING = "stopped-waiting"  # the run was interrupted while it waited
    ROLLOUT_COMPLETED = "rollout-completed"
    TASKS_RUNNING = "tasks-running"  # running, desired: a service without rolloutState
    ROLLOUT_FAILED = "rollout-failed"  # reason (may be empty)
    ENDED_ELSEWHERE = "ended-elsewhere"  # now_on, target
    ECS_ROLLED_BACK = "ecs-rolled-back"
    ECS_ROLLBACK_FAILED = "ecs-rollback-failed"  # reason (may be empty)
    ENDED_INSTEAD = "ended-instead"  # status: SUCCESSFUL or STOPPED instead of rolling back
    STOPPED_UNKNOWN = "stopped-unknown"
    ROLLBACK_UNFOLLOWED = "rollback-unfollowed"  # error
    ROLLOUT_UNFOLLOWED = "rollout-unfollowed"  # error
    DELETED_WHILE_WAITING = "deleted-while-waiting"
    TIMED_OUT = "timed-out"  # seconds, state
    TAG_MOVED = "tag-moved"  # containers: a completed rollout that runs another build
    ECS_SAYS = "ecs-says"  # details: why ECS stopped the deployment, in parentheses
    ALARMS = "alarms"  # names
    BREAKER = "breaker"  # failures, threshold
    HOOK = "hook"  # hook, status
    ECS_ROLLBACK_REASON = "ecs-rollback-reason"  # reason


class Source(StrEnum):
    """Where rollback found what a service ran before."""

    HISTORY = "deployment history"
    REVISIONS = "task-definition revisions"
    REVISIONS_NO_HISTORY = "revisions, no history"


WORDS: dict[Why, str] = {
    Why.PREVIOUS: "previous per {source}",
    Why.PIN_MOVED: "{image} now points at {now}; pinning to {digest} as in the snapshot",
    Why.PIN: "pinning to {digest} as in the snapshot",
    Why.NOT_PINNED: "{container} not pinned: the snapshot recorded no digest for it (its tag "
    "runs whatever it points at now)",
    Why.SETTING: "{name}: {now} -> {was}",
    Why.SETTING_MORE: "{name}: {count} more differences",
    Why.SETTING_KEPT: "{name}: {now} -> unset (UpdateService cannot unset it)",
    Why.SETTINGS_UNCOMPARED: "service settings not compared: what runs now could not be read",
    Why.ON_COPY: "already on its re-registration of {target}",
    Why.DESIRED_COUNT: "desired count {now} -> {to}",
    Why.SCALED_TO_ZERO: "0 tasks desired, {recorded} in the snapshot",
    Why.TARGET_PINNED: "{target} pinned",
    Why.TARGET_GONE: "{target} is {state}",
    Why.REUSING: "reusing its re-registration {copy}",
    Why.REGISTERING: "registering it again",
    Why.NO_BODY: "{original} and no snapshot holds its body",
    Why.STOP_IN_FLIGHT: "stop the in-flight deployment; ECS rolls back to {back}",
    Why.GONE: "service no longer exists",
    Why.BEING_DELETED: "service is being deleted ({status})",
    Why.CODE_DEPLOY: "skipped: CodeDeploy deploys this service; roll it back there (stop the "
    "deployment with auto-rollback, or deploy the earlier revision through CodeDeploy)",
    Why.TASK_SETS: "skipped: its task sets deploy it (EXTERNAL controller); create a task set "
    "with the earlier task definition and make it the primary one",
    Why.NO_TARGET: "skipped: no task definition to restore",
    Why.NO_EARLIER: "no earlier task definition ({source})",
    Why.NO_TASK_DEFINITION: "it has no task definition to roll back",
    Why.ECS_ROLLED_BACK_ALREADY: "ECS already rolled it back from {failed}: it runs the "
    "release before that deploy",
    Why.NOT_DEPLOYED_SINCE: "not deployed in the last {minutes:g} minutes",
    Why.IMAGE_GONE: "{image} no longer exists in ECR (a lifecycle policy?)",
    Why.IMAGE_GONE_NEXT: "left as it is: push that build again, or run with pin-images never "
    "to run what its tag points at now",
    Why.SETTINGS_LEFT: "{settings} left as it is, the task definition put back without it: "
    "a resource it names is gone ({error})",
    Why.REGISTERED_BEFORE: "runs {task_definition}, registered before the last {minutes:g} "
    "minutes: restarted or returned to since, not released (name it to roll it back)",
    Why.NOT_RESTORED: "not restored: {error}",
    Why.SCHEDULED_GONE: "its {kind} no longer exists (deleted since the snapshot)",
    Why.FAMILY_LATEST: "runs the latest revision of {family}, as the snapshot saw it: nothing "
    "to register",
    Why.SCHEDULED_CHANGED: "{fields} changed since the snapshot",
    Why.SCALING_ADDED: "auto scaling ({now}) registered since the snapshot, which saw none: "
    "left as it is",
    Why.SCALING_GONE: "its scalable target ({was}) was deregistered since the snapshot",
    Why.CAPACITY: "auto scaling {now} -> {was}",
    Why.POLICIES_BACK: "scaling policies changed or deleted since: {names}",
    Why.POLICIES_ADDED: "scaling policies created since, left as they are: {names}",
    Why.RANGE_ONLY: "its range ({range}) and suspended state were put back; run again for the "
    "policies",
    Why.UNREADABLE: "not restored: it could not be read ({error})",
    Why.NOT_ROLLED_BACK: "not rolled back: {error}",
    Why.NOT_STARTED: "not started",
    Why.INTERRUPTED: "not changed: the run was interrupted",
    Why.CALL_FAILED: "{error}",
    Why.NOT_UPDATED: "not updated: {error}",
    Why.REGISTERED_ONLY: "{copy} was registered and is kept: a later restore reuses it",
    Why.INTERNAL: "internal error: {kind}: {error}",
    Why.RACING: "another deploy (to {other}) started after ecsundo read this service; "
    "ecsundo's update went over it: check the service, then rerun",
    Why.STOP_TOO_LATE: "in-flight deployment not stopped (it finished first): updated instead",
    Why.STOP_FAILED: "in-flight deployment not stopped (the stop failed: {error}): updated instead",
    Why.NOT_WAITED: "not waited for",
    Why.STOPPED_WAITING: "not waited for: the run was interrupted",
    Why.ROLLOUT_COMPLETED: "rollout completed",
    Why.TASKS_RUNNING: "{running}/{desired} tasks running",
    Why.ROLLOUT_FAILED: "rollout FAILED",
    Why.ENDED_ELSEWHERE: "service is on {now_on}, not {target} "
    "(ECS rolled it back, or it was deployed over)",
    Why.ECS_ROLLED_BACK: "ECS rolled the deployment back",
    Why.ECS_ROLLBACK_FAILED: "ECS's rollback FAILED",
    Why.ENDED_INSTEAD: "the deployment ended {status} instead of rolling back",
    Why.STOPPED_UNKNOWN: "the stopped deployment is no longer known to ECS",
    Why.ROLLBACK_UNFOLLOWED: "stopped, but ECS's rollback could not be followed: {error}",
    Why.ROLLOUT_UNFOLLOWED: "updated, but its rollout could not be followed: {error}",
    Why.DELETED_WHILE_WAITING: "service was deleted while waiting",
    Why.TIMED_OUT: "timed out after {seconds:.0f}s ({state})",
    Why.TAG_MOVED: "rollout completed, but {containers} runs another build than the snapshot "
    "saw (its tag has moved): restore again with pin-images: always",
    Why.ECS_SAYS: "({details})",
    Why.ALARMS: "alarms went off: {names}",
    Why.BREAKER: "circuit breaker: {failures} failed tasks, threshold {threshold}",
    Why.HOOK: "lifecycle hook {hook} {status}",
    Why.ECS_ROLLBACK_REASON: "rolled back: {reason}",
}

# Reasons that describe the change itself: a row's `what` tells them (result.happened), so
# only a dry run's row repeats them as its why. (Where a rollback found its target is not
# the change: every row keeps it.)
TOLD_BY_WHAT = frozenset(
    {
        Why.PIN_MOVED,
        Why.PIN,
        Why.SETTING,
        Why.SETTING_MORE,
        Why.SCHEDULED_CHANGED,
        Why.SCALING_GONE,
        Why.CAPACITY,
        Why.POLICIES_BACK,
        Why.ON_COPY,
        Why.DESIRED_COUNT,
        Why.TARGET_PINNED,
        Why.TARGET_GONE,
        Why.REUSING,
        Why.REGISTERING,
        Why.STOP_IN_FLIGHT,
    }
)

# Words of a parameter that is itself a code.
SOURCES: dict[Source, str] = {
    Source.HISTORY: "deployment history",
    Source.REVISIONS: "task-definition revisions",
    Source.REVISIONS_NO_HISTORY: "task-definition revisions: ECS's deployment history holds "
    "nothing earlier",
}

# Codes whose words may end with AWS's own reason, after a colon, when it gave one.
_WITH_REASON = {Why.ROLLOUT_FAILED, Why.ECS_ROLLBACK_FAILED}


@dataclass(frozen=True)
class Reason:
    why: Why
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str) -> Any:
        return dict(self.params).get(name)

    def __str__(self) -> str:
        params = {name: _words(value) for name, value in self.params}
        text = WORDS[self.why].format(**params)
        if self.why in _WITH_REASON and params.get("reason"):
            text = f"{text}: {params['reason']}"
        return text


def because(why: Why, **params: Any) -> Reason:
    """A reason with its parameters: because(Why.DESIRED_COUNT, now=1, to=3)."""
    return Reason(why, tuple(params.items()))


def say(reasons: Iterable[Reason]) -> str:
    """Reasons in words, one after another; ECS's explanation follows what it explains."""
    text = ""
    for reason in reasons:
        words = str(reason)
        if not words:
            continue
        separator = " " if reason.why == Why.ECS_SAYS else "; "
        text = f"{text}{separator}{words}" if text else words
    return text


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _words(value: Any) -> Any:
    if isinstance(value, Source):
        return SOURCES[value]
    if isinstance(value, tuple) and all(isinstance(v, Reason) for v in value):
        return say(value)
    return value
