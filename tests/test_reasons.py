"""reasons.py: the one place each reason's words are pinned. Other tests assert codes, or the
words a module puts together from these."""

from __future__ import annotations

import pytest

from ecsundo_action.reasons import WORDS, Reason, Source, Why, because, plural, say

# Every code, with parameters, and the words a person reads.
PINNED: list[tuple[Reason, str]] = [
    (because(Why.PREVIOUS, source=Source.HISTORY), "previous per deployment history"),
    (
        because(Why.PIN_MOVED, image="web:1.4", now="b2b2b2b2b2b2", digest="a1a1a1a1a1a1"),
        "web:1.4 now points at b2b2b2b2b2b2; pinning to a1a1a1a1a1a1 as in the snapshot",
    ),
    (because(Why.PIN, digest="a1a1a1a1a1a1"), "pinning to a1a1a1a1a1a1 as in the snapshot"),
    (
        because(Why.NOT_PINNED, container="app"),
        "app not pinned: the snapshot recorded no digest for it (its tag runs whatever it "
        "points at now)",
    ),
    (
        because(Why.SETTING, name="platformVersion", now='"LATEST"', was='"1.4.0"'),
        'platformVersion: "LATEST" -> "1.4.0"',
    ),
    (
        because(Why.SETTING_KEPT, name="networkConfiguration", now="{}"),
        "networkConfiguration: {} -> unset (UpdateService cannot unset it)",
    ),
    (
        because(Why.SETTINGS_UNCOMPARED),
        "service settings not compared: what runs now could not be read",
    ),
    (because(Why.ON_COPY, target="web:3"), "already on its re-registration of web:3"),
    (because(Why.DESIRED_COUNT, now=1, to=3), "desired count 1 -> 3"),
    (because(Why.SCALED_TO_ZERO, recorded=2), "0 tasks desired, 2 in the snapshot"),
    (because(Why.TARGET_PINNED, target="web:3"), "web:3 pinned"),
    (because(Why.TARGET_GONE, target="web:3", state="INACTIVE"), "web:3 is INACTIVE"),
    (because(Why.REUSING, copy="web:9"), "reusing its re-registration web:9"),
    (because(Why.REGISTERING), "registering it again"),
    (
        because(Why.NO_BODY, original=because(Why.TARGET_GONE, target="web:3", state="deleted")),
        "web:3 is deleted and no snapshot holds its body",
    ),
    (
        because(Why.STOP_IN_FLIGHT, back="web:1"),
        "stop the in-flight deployment; ECS rolls back to web:1",
    ),
    (because(Why.GONE), "service no longer exists"),
    (because(Why.BEING_DELETED, status="DRAINING"), "service is being deleted (DRAINING)"),
    (
        because(Why.CODE_DEPLOY),
        "skipped: CodeDeploy deploys this service; roll it back there (stop the deployment "
        "with auto-rollback, or deploy the earlier revision through CodeDeploy)",
    ),
    (
        because(Why.TASK_SETS),
        "skipped: its task sets deploy it (EXTERNAL controller); create a task set with the "
        "earlier task definition and make it the primary one",
    ),
    (because(Why.NO_TARGET), "skipped: no task definition to restore"),
    (
        because(Why.NO_EARLIER, source=Source.REVISIONS_NO_HISTORY),
        "no earlier task definition (task-definition revisions: ECS's deployment history "
        "holds nothing earlier)",
    ),
    (because(Why.NO_TASK_DEFINITION), "it has no task definition to roll back"),
    (
        because(Why.ECS_ROLLED_BACK_ALREADY, failed="web:2"),
        "ECS already rolled it back from web:2: it runs the release before that deploy",
    ),
    (because(Why.NOT_DEPLOYED_SINCE, minutes=60.0), "not deployed in the last 60 minutes"),
    (
        because(Why.IMAGE_GONE, image="acme/web@sha256:ab"),
        "acme/web@sha256:ab no longer exists in ECR (a lifecycle policy?)",
    ),
    (
        because(Why.IMAGE_GONE_NEXT),
        "left as it is: push that build again, or run with pin-images never to run what its "
        "tag points at now",
    ),
    (
        because(Why.SETTING_MORE, name="loadBalancers", count=3),
        "loadBalancers: 3 more differences",
    ),
    (
        because(Why.SETTINGS_LEFT, settings="networkConfiguration", error="sg-1 does not exist"),
        "networkConfiguration left as it is, the task definition put back without it: a "
        "resource it names is gone (sg-1 does not exist)",
    ),
    (
        because(Why.REGISTERED_BEFORE, minutes=60.0, task_definition="web:2"),
        "runs web:2, registered before the last 60 minutes: restarted or returned to since, "
        "not released (name it to roll it back)",
    ),
    (because(Why.NOT_RESTORED, error="denied"), "not restored: denied"),
    (because(Why.UNREADABLE, error="denied"), "not restored: it could not be read (denied)"),
    (because(Why.NOT_ROLLED_BACK, error="denied"), "not rolled back: denied"),
    (because(Why.NOT_STARTED), "not started"),
    (because(Why.INTERRUPTED), "not changed: the run was interrupted"),
    (because(Why.CALL_FAILED, error="update service web: denied"), "update service web: denied"),
    (because(Why.NOT_UPDATED, error="denied"), "not updated: denied"),
    (
        because(Why.REGISTERED_ONLY, copy="web:3"),
        "web:3 was registered and is kept: a later restore reuses it",
    ),
    (because(Why.INTERNAL, kind="KeyError", error="'x'"), "internal error: KeyError: 'x'"),
    (
        because(Why.RACING, other="web:2"),
        "another deploy (to web:2) started after ecsundo read this service; ecsundo's update "
        "went over it: check the service, then rerun",
    ),
    (
        because(Why.STOP_TOO_LATE),
        "in-flight deployment not stopped (it finished first): updated instead",
    ),
    (
        because(Why.STOP_FAILED, error="denied"),
        "in-flight deployment not stopped (the stop failed: denied): updated instead",
    ),
    (because(Why.NOT_WAITED), "not waited for"),
    (because(Why.STOPPED_WAITING), "not waited for: the run was interrupted"),
    (because(Why.ROLLOUT_COMPLETED), "rollout completed"),
    (because(Why.TASKS_RUNNING, running=2, desired=2), "2/2 tasks running"),
    (because(Why.ROLLOUT_FAILED, reason=""), "rollout FAILED"),
    (because(Why.ROLLOUT_FAILED, reason="tasks failed."), "rollout FAILED: tasks failed."),
    (
        because(Why.ENDED_ELSEWHERE, now_on="web:1", target="web:2"),
        "service is on web:1, not web:2 (ECS rolled it back, or it was deployed over)",
    ),
    (because(Why.ECS_ROLLED_BACK), "ECS rolled the deployment back"),
    (because(Why.ECS_ROLLBACK_FAILED, reason=""), "ECS's rollback FAILED"),
    (because(Why.ECS_ROLLBACK_FAILED, reason="no"), "ECS's rollback FAILED: no"),
    (
        because(Why.ENDED_INSTEAD, status="SUCCESSFUL"),
        "the deployment ended SUCCESSFUL instead of rolling back",
    ),
    (because(Why.STOPPED_UNKNOWN), "the stopped deployment is no longer known to ECS"),
    (
        because(Why.ROLLBACK_UNFOLLOWED, error="denied"),
        "stopped, but ECS's rollback could not be followed: denied",
    ),
    (
        because(Why.ROLLOUT_UNFOLLOWED, error="denied"),
        "updated, but its rollout could not be followed: denied",
    ),
    (because(Why.DELETED_WHILE_WAITING), "service was deleted while waiting"),
    (
        because(Why.TIMED_OUT, seconds=20.0, state="rollout IN_PROGRESS"),
        "timed out after 20s (rollout IN_PROGRESS)",
    ),
    (
        because(Why.TAG_MOVED, containers="app, log"),
        "rollout completed, but app, log runs another build than the snapshot saw (its tag "
        "has moved): restore again with pin-images: always",
    ),
    (
        because(Why.ECS_SAYS, details=(because(Why.ALARMS, names="5xx"),)),
        "(alarms went off: 5xx)",
    ),
    (because(Why.ALARMS, names="5xx, p99"), "alarms went off: 5xx, p99"),
    (
        because(Why.BREAKER, failures=4, threshold=3),
        "circuit breaker: 4 failed tasks, threshold 3",
    ),
    (because(Why.HOOK, hook="smoke", status="timed out"), "lifecycle hook smoke timed out"),
    (because(Why.ECS_ROLLBACK_REASON, reason="alarm"), "rolled back: alarm"),
    (
        because(Why.SCHEDULED_GONE, kind="schedule"),
        "its schedule no longer exists (deleted since the snapshot)",
    ),
    (
        because(Why.FAMILY_LATEST, family="nightly"),
        "runs the latest revision of nightly, as the snapshot saw it: nothing to register",
    ),
    (
        because(Why.SCHEDULED_CHANGED, fields="Input, EcsParameters"),
        "Input, EcsParameters changed since the snapshot",
    ),
    (
        because(Why.SCALING_ADDED, now="min 1, max 2"),
        "auto scaling (min 1, max 2) registered since the snapshot, which saw none: left as it is",
    ),
    (
        because(Why.SCALING_GONE, was="min 1, max 4"),
        "its scalable target (min 1, max 4) was deregistered since the snapshot",
    ),
    (
        because(Why.CAPACITY, now="min 3, max 8", was="min 1, max 4"),
        "auto scaling min 3, max 8 -> min 1, max 4",
    ),
    (
        because(Why.POLICIES_BACK, names="cpu"),
        "scaling policies changed or deleted since: cpu",
    ),
    (
        because(Why.POLICIES_ADDED, names="mem"),
        "scaling policies created since, left as they are: mem",
    ),
    (
        because(Why.RANGE_ONLY, range="min 1, max 4"),
        "its range (min 1, max 4) and suspended state were put back; run again for the policies",
    ),
]


@pytest.mark.parametrize(("reason", "words"), PINNED, ids=lambda p: getattr(p, "why", ""))
def test_each_reason_in_words(reason: Reason, words: str) -> None:
    assert str(reason) == words


def test_every_code_has_words_and_is_pinned() -> None:
    assert set(WORDS) == set(Why)
    assert {reason.why for reason, _ in PINNED} == set(Why)


def test_reasons_follow_one_another_and_ecs_explains_in_parentheses() -> None:
    failed = because(Why.ROLLOUT_FAILED, reason="")
    explained = because(Why.ECS_SAYS, details=(because(Why.BREAKER, failures=3, threshold=3),))
    assert say([because(Why.PREVIOUS, source=Source.HISTORY), failed, explained]) == (
        "previous per deployment history; rollout FAILED (circuit breaker: 3 failed tasks, "
        "threshold 3)"
    )
    assert say([]) == ""


def test_a_reason_is_read_by_its_code_and_parameters() -> None:
    reason = because(Why.DESIRED_COUNT, now=1, to=3)
    assert (reason.why, reason.get("now"), reason.get("to"), reason.get("x")) == (
        Why.DESIRED_COUNT,
        1,
        3,
        None,
    )
    assert reason == because(Why.DESIRED_COUNT, now=1, to=3)


def test_plural() -> None:
    assert [plural(n, "service") for n in (0, 1, 2)] == ["0 services", "1 service", "2 services"]
