"""The job summaries shown under docs/examples/, rendered by render/markdown.py from outcomes
built here: a partial failure, a six-service restore with its timeline, a dry run's plan and
a snapshot. `make readme` writes them; tests/test_render_markdown.py fails when a committed
one is not what the code renders now.

No AWS and no clock: rows come from the planning functions a run uses (plan_step,
missing_step, not_taken, ServiceResult.of) with the reasons converge.py gives, at fixed
times, so the files change only when the code that renders them does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ecsundo_action.aws.records import Cluster, ContainerImage, Service
from ecsundo_action.converge import planned
from ecsundo_action.plan import (
    ACTIVE,
    Action,
    Step,
    TargetFacts,
    missing_step,
    not_taken,
    plan_step,
)
from ecsundo_action.reasons import Reason, Why, because
from ecsundo_action.render.markdown import run_summary, snapshot_summary
from ecsundo_action.request import Mode
from ecsundo_action.result import Outcome, Phase, ServiceResult, Span, Status
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "docs" / "examples"

REGION, ACCOUNT, CLUSTER = "eu-west-1", "123456789012", "shop"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SERVER = "https://github.com"
STARTED = datetime(2026, 12, 7, 15, 2, 11, tzinfo=UTC)  # when each run began
SNAPSHOT_ID = "20261207T145800000Z-3f9a2c"  # taken four minutes before
GITHUB = {
    "workflow": "deploy",
    "runId": "4242",
    "sha": "0123456789abcdef0123",
    "actor": "octocat",
    "repository": "acme/shop",
}
# What each service ran when the snapshot was taken; feeds follows a mutable tag.
SNAPSHOT = {
    "web": "web:41",
    "api": "api:17",
    "worker": "worker:8",
    "billing": "billing:4",
    "cron": "cron:3",
    "reports": "reports:2",
    "checkout": "checkout:11",
    "cart": "cart:29",
    "search": "search:6",
    "feeds": "feeds:5",
}
# In every kept body, and in no summary.
SECRET = "hunter2-never-printed"

GONE = TargetFacts(None)  # deleted since the snapshot
COMPLETED = because(Why.ROLLOUT_COMPLETED)


def td(name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}"


def digest(seed: str) -> str:
    return "sha256:" + (seed * 16)[:64]


def image(family: str, tag: str, seed: str) -> ContainerImage:
    return ContainerImage(family, f"{ECR}/{family}:{tag}", digest(seed))


def moment(seconds: float) -> datetime:
    return STARTED + timedelta(seconds=seconds)


def service(name: str, running: str) -> Service:
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{name}"
    return Service(name, arn, td(running), desired_count=2)


def restore_step(name: str, facts: TargetFacts = ACTIVE, **fields: Any) -> Step:
    """The step a restore plans for a service the bad deploy moved one revision on (release
    1.5.0), back to its snapshot's (1.4.2), with the images of both."""
    then = SNAPSHOT[name]
    family, revision = then.split(":")
    now = f"{family}:{int(revision) + 1}"
    step = plan_step(service(name, now), td(then), facts, can_register=True, **fields)
    before, after = image(name, "1.5.0", "9f3c"), image(name, "1.4.2", "26a1")
    return replace(step, before=(before,), after=(after,))


def quiet(name: str, *, dry_run: bool = False) -> ServiceResult:
    """A service already where the snapshot says: not touched."""
    step = plan_step(service(name, SNAPSHOT[name]), td(SNAPSHOT[name]), ACTIVE, can_register=True)
    return planned(step, dry_run)


def done(
    step: Step,
    status: Status,
    start: float,
    rollout: float,
    to: str,
    *why: Reason,
    staged: bool = False,
) -> ServiceResult:
    """The row of a change carried out and waited for, as converge.py words it (a success
    leads with what was done, a failure with what went wrong), with its spans: registered
    (0.4 s) when it had to be, updated (0.3 s), then rolled out for `rollout` seconds, from
    `start` seconds into the run."""
    spans: list[Span] = []
    at = start
    if step.action == Action.REREGISTER:
        spans.append(Span(Phase.REGISTER, moment(at), moment(at + 0.4)))
        at += 0.45
    spans.append(Span(Phase.UPDATE, moment(at), moment(at + 0.3)))
    spans.append(Span(Phase.ROLLOUT, moment(at + 0.3), moment(at + 0.3 + rollout)))
    seconds = (spans[-1].ended - spans[0].began).total_seconds()
    told = (*why, *step.why) if status == Status.FAILED else (*step.why, *why)
    row = ServiceResult.of(step, status, to=td(to), seconds=seconds, why=told, changed=True)
    return replace(row, spans=tuple(spans), staged=staged)


def partial_failure() -> Outcome:
    """A restore after a bad deploy that did not all go back: a circuit breaker rolled one
    service back, one build was expired from ECR, a security group was deleted since, a
    service was deleted. What needs attention comes first, with the next step."""
    api = restore_step("api")
    breaker = because(Why.ECS_SAYS, details=(because(Why.BREAKER, failures="3", threshold="3"),))
    ended = because(Why.ENDED_ELSEWHERE, now_on="api:18", target="api:17")
    api_row = done(api, Status.FAILED, 1.2, 95.0, "api:18", ended, breaker)
    # Read back after the run: where ECS's rollback left it, and what it runs there.
    api_row = replace(api_row, after=api.before)
    worker = replace(restore_step("worker"), settings={"networkConfiguration": {}})
    left = because(
        Why.SETTINGS_LEFT,
        settings="networkConfiguration",
        error="The security group 'sg-0a1b2c3d4e5f67890' does not exist",
    )
    billing = restore_step("billing")
    gone = because(Why.IMAGE_GONE, image=f"{ECR}/billing@{digest('26a1')}")
    expired = replace(
        not_taken(billing, gone, because(Why.IMAGE_GONE_NEXT)),
        before=billing.before,
        after=billing.after,
    )
    return Outcome(
        Mode.RESTORE,
        CLUSTER,
        [
            done(restore_step("web", GONE), Status.SUCCESS, 0.8, 48.0, "web:43", COMPLETED),
            api_row,
            done(worker, Status.PARTIAL, 1.5, 52.0, "worker:8", left, COMPLETED),
            replace(planned(expired, False), after=billing.before),  # not changed: as it was
            planned(missing_step("reports", td(SNAPSHOT["reports"])), False),
            quiet("cron"),
        ],
        snapshot=snapshot(),
        timings={"total": 97.4, "read": 1.1, "register": 0.4, "update": 1.0, "wait": 95.6},
        started_at=STARTED,
        ended_at=moment(97.4),
        region=REGION,
    )


def restore_timeline() -> Outcome:
    """Six services back on their snapshot's release, search blue/green: the summary draws
    the timeline of their register, update and rollout."""
    success = Status.SUCCESS
    rows = [
        done(restore_step("checkout", GONE), success, 0.6, 62.0, "checkout:13", COMPLETED),
        done(restore_step("cart"), success, 0.7, 41.0, "cart:29", COMPLETED),
        # BLUE_GREEN: test traffic, then production traffic, then the bake time.
        done(restore_step("search"), success, 0.9, 248.0, "search:6", COMPLETED, staged=True),
        done(restore_step("web", TargetFacts("INACTIVE")), success, 1.0, 55.0, "web:43", COMPLETED),
        done(restore_step("api"), success, 1.1, 47.0, "api:17", COMPLETED),
        done(restore_step("worker"), success, 1.3, 38.0, "worker:8", COMPLETED),
        quiet("cron"),
    ]
    return Outcome(
        Mode.RESTORE,
        CLUSTER,
        rows,
        snapshot=snapshot(),
        timings={"total": 250.1, "read": 0.5, "register": 0.9, "update": 1.0, "wait": 248.6},
        started_at=STARTED,
        ended_at=moment(250.1),
        region=REGION,
    )


def dry_run() -> Outcome:
    """A restore as a plan: what would happen to each service and why, and how to apply it.
    feeds runs the snapshot's task definition, but its tag has moved to another build since:
    it would be pinned back to the build the snapshot saw."""
    count = because(Why.DESIRED_COUNT, now=2, to=4)
    api = restore_step("api", desired_count=4, why=(count,))
    kept = ContainerImage("feeds", f"{ECR}/feeds:stable", digest("6845"))
    moved = because(Why.PIN_MOVED, image=kept.image, now="fa5afa5afa5a", digest="684568456845")
    feeds = plan_step(
        service("feeds", "feeds:5"),
        td("feeds:5"),
        ACTIVE,
        can_register=True,
        pinned=True,
        why=(moved,),
    )
    running = ContainerImage("feeds", kept.image, digest("fa5a"))
    feeds = replace(feeds, before=(running,), after=(kept,))
    return Outcome(
        Mode.RESTORE,
        CLUSTER,
        [
            planned(restore_step("web", GONE), True),
            planned(api, True),
            planned(feeds, True),
            quiet("cron", dry_run=True),
        ],
        dry_run=True,
        snapshot=snapshot(),
        timings={"total": 1.9, "read": 1.9},
        started_at=STARTED,
        ended_at=moment(1.9),
        region=REGION,
    )


def snapshot() -> Snapshot:
    """What the cluster ran before the deploy: each service, its images and kept body."""
    records, kept = [], {}
    for name, revision in SNAPSHOT.items():
        arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{name}"
        ran = image(name, "stable" if name == "feeds" else "1.4.2", "26a1")
        records.append(ServiceRecord(name, arn, td(revision), 2, images=(ran,)))
        container = {
            "name": name,
            "image": ran.image,
            "environment": [{"name": "DATABASE_PASSWORD", "value": SECRET}],
        }
        kept[td(revision)] = KeptTaskDefinition(
            "ACTIVE", {"family": name, "containerDefinitions": [container]}
        )
    return Snapshot(
        id=SNAPSHOT_ID,
        created_at="2026-12-07T14:58:00.000Z",
        tool="ecsundo 1.0.0",
        cluster=Cluster.from_arn(f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"),
        services=tuple(records),
        task_definitions=kept,
        github=GITHUB,
    )


def snapshot_taken() -> Outcome:
    """The snapshot step's summary: where it is stored, how to restore it, what it holds."""
    store = "s3://acme-ecsundo/prod"
    return Outcome(
        Mode.SNAPSHOT,
        CLUSTER,
        snapshot=snapshot(),
        snapshot_uri=f"{store}/{CLUSTER}/{SNAPSHOT_ID}.json",
        store=store,
        started_at=STARTED,
        ended_at=moment(2.3),
        region=REGION,
    )


def examples() -> dict[str, str]:
    """Each example's file name under docs/examples/ and its Markdown."""
    return {
        "partial-failure.md": run_summary(partial_failure(), SERVER),
        "restore-timeline.md": run_summary(restore_timeline(), SERVER),
        "dry-run.md": run_summary(dry_run(), SERVER),
        "snapshot.md": snapshot_summary(snapshot_taken()),
    }


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, text in examples().items():
        (FOLDER / name).write_text(text)


if __name__ == "__main__":
    main()
