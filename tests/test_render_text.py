"""What a person reads: the plain-text reports (render/text.py) and the result rows and verdicts
(result.py), checked word for word. Pure: no AWS stand-in, so the mutation run can use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from ecsundo_action.aws.records import Cluster, ContainerImage
from ecsundo_action.plan import Action, Plan, Step
from ecsundo_action.reasons import Why, because
from ecsundo_action.render import text as report
from ecsundo_action.result import Outcome, ServiceResult, Status, Verdict, happened
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot
from tests.conftest import TD, saying

PROD = Cluster(
    "prod", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "123456789012", "us-east-1"
)
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def image(container: str, ref: str, digest: str | None = None) -> ContainerImage:
    return ContainerImage(container, ref, digest)


def snapshot(**changes: object) -> Snapshot:
    web = ServiceRecord(
        "web",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        TD.format("web:1"),
        2,
        images=(image("app", "acme/web:1.4", D1), image("log", "fluent@" + D2, D2)),
    )
    api = ServiceRecord(
        "api", "arn:aws:ecs:us-east-1:123456789012:service/prod/api", TD.format("api:7"), 1
    )
    sets = ServiceRecord(
        "sets",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/sets",
        None,
        1,
        controller="EXTERNAL",
    )
    body = {"family": "api", "containerDefinitions": [{"name": "a", "image": "acme/api:2"}, {}]}
    fields: dict[str, object] = {
        "id": "20261127T162600123Z-3f9a2c",
        "created_at": "2026-11-27T16:26:00.123Z",
        "tool": "ecsundo test",
        "cluster": PROD,
        "services": (web, api, sets),
        "task_definitions": {TD.format("api:7"): KeptTaskDefinition("ACTIVE", body)},
    }
    fields.update(changes)
    return Snapshot(**fields)  # type: ignore[arg-type]


def step(action: Action, current: str | None, target: str | None, **more: object) -> Step:
    name = more.pop("service", "web")
    return Step(name, None, action, current, target, **more)  # type: ignore[arg-type]


# --- table -------------------------------------------------------------------------------


def test_table_pads_every_column_but_the_last_and_cuts_only_at_a_width() -> None:
    rows = [("A", "BB", "C"), ("aaa", "b", "long last cell")]
    assert report.table(rows) == "A    BB  C\naaa  b   long last cell"
    assert report.table(rows, width=14) == "A    BB  C\naaa  b   long…"
    assert report.table(rows, width=10) == "A    BB  C\naaa  b   …"
    assert report.table(rows, width=23) == "A    BB  C\naaa  b   long last cell"
    assert report.table(rows, width=22) == "A    BB  C\naaa  b   long last ce…"
    assert report.table([("x", "y")], width=0) == "…"


# --- images before and after -------------------------------------------------------------


def test_image_change_names_the_container_that_changes() -> None:
    before = (image("app", "acme/web:1.5"), image("log", "fluent:1"))
    after = (image("app", "acme/web:1.4"), image("log", "fluent:1"))
    assert report.image_change(before, after) == ("web:1.5 (+1 more)", "web:1.4 (+1 more)")
    # Only the second container changes: it is the one shown.
    after = (image("app", "acme/web:1.5"), image("log", "fluent:2"))
    assert report.image_change(before, after) == ("fluent:1 (+1 more)", "fluent:2 (+1 more)")


def test_image_change_tells_builds_of_one_tag_apart_by_digest() -> None:
    before = (image("app", "acme/web:latest", D1),)
    after = (image("app", "acme/web:latest", D2),)
    assert report.image_change(before, after) == (
        "web:latest (111111111111)",
        "web:latest (222222222222)",
    )
    # Same build, or a digest unknown on one side: no digests shown.
    assert report.image_change(before, before) == ("web:latest", "web:latest")
    unknown = (image("app", "acme/web:latest"),)
    assert report.image_change(before, unknown) == ("web:latest", "web:latest")


def test_image_change_with_a_side_unknown() -> None:
    assert report.image_change((), ()) == ("-", "-")
    assert report.image_change((), (image("app", "web:2"),)) == ("-", "web:2")
    assert report.image_change((image("app", "web:1"),), ()) == ("web:1", "-")
    assert report.image_change((image("app", "r/x@" + D1),), ()) == ("x@111111111111", "-")


# --- order, time, counts -----------------------------------------------------------------


def test_rows_are_ordered_failed_and_missing_then_changed_then_quiet() -> None:
    def row(name: str, status: Status) -> ServiceResult:
        return ServiceResult(name, "update", None, None, status)

    rows = [
        row("a", Status.UNCHANGED),
        row("b", Status.SUCCESS),
        row("c", Status.SKIPPED),
        row("d", Status.MISSING),
        row("e", Status.UPDATED),
        row("f", Status.FAILED),
        row("g", Status.PLANNED),
    ]
    assert [r.name for r in report.ordered(rows)] == ["d", "f", "b", "e", "g", "a", "c"]


def test_took_lists_the_phases_that_happened_in_order() -> None:
    assert report.took({}) == ""
    assert report.took({"read": 3.0}) == ""
    assert report.took({"total": 4.4}) == "took 4s"
    timings = {"wait": 31.6, "total": 42.2, "update": 5.0, "read": 2.5, "other": 1.0}
    assert report.took(timings) == "took 42s: read 2s, update 5s, wait 32s"
    timings["register"] = 1.0
    assert report.took(timings) == "took 42s: read 2s, register 1s, update 5s, wait 32s"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "just now"),
        (59.9, "just now"),
        (60, "1 minute ago"),
        (119, "1 minute ago"),
        (120, "2 minutes ago"),
        (3599, "59 minutes ago"),
        (3600, "1 hour ago"),
        (86399, "23 hours ago"),
        (86400, "1 day ago"),
        (3 * 86400 + 5, "3 days ago"),
    ],
)
def test_ago_says_the_largest_unit_that_fits(seconds: float, said: str) -> None:
    assert report.ago(seconds) == said


# --- provenance ---------------------------------------------------------------------------


def test_provenance_inside_and_outside_github_actions() -> None:
    now = datetime(2026, 11, 27, 18, 26, 30, tzinfo=UTC)
    outside = snapshot()
    assert report.provenance(outside, now) == (
        "snapshot 20261127T162600123Z-3f9a2c, taken 2026-11-27 16:26:00 UTC "
        "(2 hours ago), outside GitHub Actions"
    )
    github = {
        "workflow": "deploy",
        "runId": "42",
        "sha": "0123456789abcdef0123",
        "actor": "ana",
        "repository": "acme/shop",
    }
    inside = snapshot(github=github)
    assert report.provenance(inside, now + timedelta(days=1)) == (
        "snapshot 20261127T162600123Z-3f9a2c, taken 2026-11-27 16:26:00 UTC "
        "(1 day ago) by workflow deploy, run 42, sha 0123456789ab, actor ana"
    )
    long = snapshot(github={"workflow": "deploy-production", "sha": "0123456789abcdef"})
    assert report.provenance(long, now).endswith(
        "by workflow deploy-production, sha 0123456789ab"
    )  # only the sha is cut
    partial = snapshot(github={"actor": "ana"})
    assert report.provenance(partial, now).endswith("(2 hours ago) by actor ana")


def test_run_url_only_when_every_part_checks_out() -> None:
    taken = snapshot(github={"repository": "acme/shop", "runId": "42"})
    assert (
        report.run_url(taken, "https://github.com")
        == "https://github.com/acme/shop/actions/runs/42"
    )
    assert report.run_url(taken, "https://ghe.example:8443") == (
        "https://ghe.example:8443/acme/shop/actions/runs/42"
    )
    assert report.run_url(taken, None) is None
    assert report.run_url(taken, "http://github.com") is None
    assert report.run_url(taken, "https://github.com/evil path") is None
    for github in (
        {"repository": "acme/shop", "runId": "42x"},
        {"repository": "acme/shop/x", "runId": "42"},
        {"repository": "acme", "runId": "42"},
        {"runId": "42"},
        {"repository": "acme/shop"},
    ):
        assert report.run_url(snapshot(github=github), "https://github.com") is None
    assert report.run_url(snapshot(), "https://github.com") is None


# --- plans --------------------------------------------------------------------------------


def plan() -> Plan:
    planned = Plan(PROD.arn)
    planned.add(step(Action.UPDATE, TD.format("web:2"), TD.format("web:1"), why=saying("r1")))
    planned.add(step(Action.REREGISTER, TD.format("api:8"), TD.format("api:7"), service="api"))
    planned.add(step(Action.REREGISTER, TD.format("api:8"), TD.format("api:7"), service="api2"))
    planned.add(step(Action.UNCHANGED, TD.format("db:3"), TD.format("db:3"), service="db"))
    planned.add(step(Action.MISSING, None, TD.format("old:1"), service="old", why=saying("gone")))
    return planned


def test_plan_title_counts_changes_and_distinct_registrations() -> None:
    assert report.plan_title(plan(), dry_run=False) == (
        "Plan: 3 services to change of 5, 1 task definition to register again"
    )
    assert report.plan_title(plan(), dry_run=True) == (
        "Plan: 3 services to change of 5, 1 task definition to register again "
        "(dry run: nothing changes)"
    )
    two = plan()
    two.add(step(Action.REREGISTER, "x", TD.format("db:1"), service="db2"))
    two.add(step(Action.UPDATE, "x", TD.format("q:1"), service="q"))
    two.add(step(Action.UPDATE, "x", TD.format("r:1"), service="r"))
    assert report.plan_title(two, dry_run=False) == (
        "Plan: 6 services to change of 8, 2 task definitions to register again"
    )
    quiet = Plan(PROD.arn, [step(Action.UNCHANGED, "a", "a")])
    assert report.plan_title(quiet, dry_run=False) == "Plan: 0 services to change of 1"


def test_plan_text_is_one_row_per_step() -> None:
    assert report.plan_text(plan()) == "\n".join(
        [
            "SERVICE  ACTION       FROM   TO     WHY",
            "web      update       web:2  web:1  r1",
            "api      re-register  api:8  api:7  ",
            "api2     re-register  api:8  api:7  ",
            "db       unchanged    db:3   db:3   ",
            "old      missing      -      old:1  gone",
        ]
    )


# --- what each mode prints -----------------------------------------------------------------


def test_snapshot_text_lists_images_with_digests_never_bodies() -> None:
    taken = snapshot()
    outcome = Outcome(
        "snapshot", "prod", snapshot=taken, snapshot_uri="file:///s/x.json", warnings=["w1"]
    )
    assert report.text(outcome) == "\n".join(
        [
            "snapshot 20261127T162600123Z-3f9a2c of cluster prod: 3 services",
            "SERVICE  TASK DEFINITION  IMAGES",
            "web      web:1            acme/web:1.4 (111111111111), fluent@" + D2,
            "api      api:7            acme/api:2, ?",
            "sets     -                (task sets of a EXTERNAL service)",
            "warning: w1",
            "stored at file:///s/x.json",
        ]
    )
    one = Outcome(
        "snapshot",
        "prod",
        snapshot=snapshot(services=snapshot().services[1:2]),
        snapshot_uri="file:///s/y.json",
        warnings=["w1", "w2"],
    )
    assert report.text(one) == "\n".join(
        [
            "snapshot 20261127T162600123Z-3f9a2c of cluster prod: 1 service",
            "SERVICE  TASK DEFINITION  IMAGES",
            "api      api:7            acme/api:2, ?",
            "warning: w1",
            "warning: w2",
            "stored at file:///s/y.json",
        ]
    )
    empty = Outcome("guard", "prod", snapshot=snapshot(services=()), dry_run=True)
    assert report.text(empty) == (
        "snapshot 20261127T162600123Z-3f9a2c of cluster prod: 0 services\n(no services)\n"
        "dry run: nothing stored"
    )


def test_list_and_discover_texts() -> None:
    listed = Outcome("list", "prod", snapshots=["a", "b"], store="file:///s")
    assert report.text(listed) == "a\nb"
    none = Outcome("list", "prod", snapshots=[], store="file:///s")
    assert report.text(none) == "no snapshots of prod in file:///s"
    found = [{"cluster": "prod-eu", "region": "eu-west-1"}, {"cluster": "p", "region": "r"}]
    discovered = Outcome("discover", "prod-*", clusters=found)
    assert report.text(discovered) == "CLUSTER  REGION\nprod-eu  eu-west-1\np        r"
    assert report.text(Outcome("discover", "x*", clusters=[])) == "no cluster matches x*"


def test_result_text_is_head_rows_warnings_time_and_verdict() -> None:
    rows = [
        ServiceResult(
            "web",
            "update",
            TD.format("web:2"),
            TD.format("web:1"),
            Status.SUCCESS,
            12.4,
            "",
            before=(image("app", "acme/web:2"),),
            after=(image("app", "acme/web:1"),),
            what="updated to web:1",
        ),
        ServiceResult("api", "update", None, None, Status.FAILED, 0.4, "rollout FAILED", what="x"),
    ]
    outcome = Outcome(
        "restore",
        "prod",
        rows,
        snapshot=snapshot(),
        warnings=["careful"],
        notices=["left alone by design"],
        timings={"total": 13.0, "read": 1.0},
    )
    head, rest = report.text(outcome).split("\n", 1)
    # The snapshot restored: its id, when it was taken (and how long ago), and by what.
    assert re.fullmatch(
        r"restore of cluster prod from snapshot 20261127T162600123Z-3f9a2c, taken "
        r"2026-11-27 16:26:00 UTC \(\d+ days? ago\), outside GitHub Actions",
        head,
    ), head
    assert rest == "\n".join(
        [
            "SERVICE  RESULT   BEFORE  AFTER  TIME  WHAT HAPPENED",
            "api      failed   -       -      0s    x; rollout FAILED",  # needs attention first
            "web      success  web:2   web:1  12s   updated to web:1",
            "warning: careful",
            "note: left alone by design",
            "took 13s: read 1s",
            "result: partial",
        ]
    )
    rollback = Outcome("rollback", "prod", rows[:1])
    assert report.text(rollback, width=30) == "\n".join(
        [
            "rollback of cluster prod",
            "SERVICE  RESULT   BEFORE  AFT…",
            "web      success  web:2   web…",
            "result: success",
        ]
    )


def test_a_dry_run_prints_its_plan() -> None:
    outcome = Outcome("restore", "prod", dry_run=True, plan=plan(), warnings=["w"])
    assert report.text(outcome) == (
        "plan for restore of cluster prod (dry run: nothing changed)\n"
        + report.plan_text(plan())
        + "\nwarning: w\nresult: dry-run"
    )
    # A dry run without a plan prints its rows; with none, no empty table.
    rows = Outcome("rollback", "prod", [], dry_run=True)
    assert report.text(rows) == "rollback of cluster prod\n\nresult: dry-run"


def test_quiet_rows_are_counted_in_one_line_unless_asked_for() -> None:
    services = [
        ServiceResult("q1", "unchanged", None, None, Status.UNCHANGED, what="already on q1:1"),
        ServiceResult("web", "update", None, None, Status.SUCCESS, 3.0, what="updated to web:1"),
        ServiceResult("q2", "skipped", None, None, Status.SKIPPED, what="left alone"),
    ]
    outcome = Outcome("rollback", "prod", services)
    lines = report.text(outcome, quiet_rows=False).splitlines()
    assert (
        lines[2].startswith("web ") and lines[3] == "2 unchanged or skipped (--verbose lists them)"
    )
    assert [line.split()[0] for line in report.text(outcome).splitlines()[2:5]] == [
        "web",
        "q1",
        "q2",
    ]
    calm = Outcome("rollback", "prod", [services[0]])
    assert report.text(calm, quiet_rows=False).splitlines()[1] == (
        "1 unchanged or skipped (--verbose lists them)"
    )


# --- result.py: what happened, rows, verdicts, outputs ----------------------------------------


@pytest.mark.parametrize(
    ("made", "status", "to", "said"),
    [
        (
            step(Action.MISSING, None, "t", why=(because(Why.GONE),)),
            Status.MISSING,
            None,
            "missing: deleted",
        ),
        (
            step(Action.MISSING, None, "t", why=(because(Why.BEING_DELETED),)),
            Status.MISSING,
            None,
            "missing: being deleted",
        ),
        (
            step(Action.SKIPPED, None, "t", why=(because(Why.CODE_DEPLOY),)),
            Status.SKIPPED,
            None,
            "skipped: CodeDeploy-controlled",
        ),
        (
            step(Action.SKIP, None, "t", why=(because(Why.TASK_SETS),)),
            Status.FAILED,
            None,
            "skipped: task-set-controlled (EXTERNAL)",
        ),
        (
            step(Action.SKIP, None, "t", why=saying("no earlier revision")),
            Status.FAILED,
            None,
            "left alone",
        ),
        (
            step(Action.SKIPPED, None, "t", why=(because(Why.NO_TARGET),)),
            Status.SKIPPED,
            None,
            "left alone",
        ),
        (
            step(Action.SKIP, None, "t", why=(because(Why.CODE_DEPLOY),)),
            Status.FAILED,
            None,
            "skipped: CodeDeploy-controlled",
        ),
        (
            step(Action.SKIPPED, None, "t", why=(because(Why.TASK_SETS),)),
            Status.SKIPPED,
            None,
            "skipped: task-set-controlled (EXTERNAL)",
        ),
        (
            step(Action.UPDATE, TD.format("w:1"), TD.format("w:1"), settings={"a": 1}),
            Status.SUCCESS,
            TD.format("w:1"),
            "updated to w:1 and its settings (a)",
        ),
        (
            step(Action.UPDATE, "a", TD.format("w:1"), settings={"a": 1}),
            Status.FAILED,
            None,
            "tried to update to w:1 and its settings (a)",
        ),
        (
            step(Action.UNCHANGED, TD.format("w:1"), TD.format("w:1")),
            Status.UNCHANGED,
            None,
            "already on w:1",
        ),
        (
            step(Action.UPDATE, "a", TD.format("w:1")),
            Status.SUCCESS,
            TD.format("w:1"),
            "updated to w:1",
        ),
        (
            step(Action.UPDATE, "a", TD.format("w:1")),
            Status.UPDATED,
            TD.format("w:1"),
            "updated to w:1",
        ),
        (
            step(Action.UPDATE, "a", TD.format("w:1")),
            Status.PLANNED,
            TD.format("w:1"),
            "update to w:1",
        ),
        (
            step(Action.UPDATE, "a", TD.format("w:1")),
            Status.FAILED,
            TD.format("w:1"),
            "tried to update to w:1",
        ),
        (
            step(Action.REREGISTER, "a", TD.format("w:1")),
            Status.SUCCESS,
            TD.format("w:9"),
            "re-registered w:1 as w:9",
        ),
        (step(Action.REREGISTER, "a", TD.format("w:1")), Status.PLANNED, None, "re-register w:1"),
        (
            step(Action.STOP, "a", TD.format("w:1")),
            Status.SUCCESS,
            TD.format("w:1"),
            "ECS rolled back the in-flight deployment to w:1",
        ),
        (
            step(Action.STOP, "a", TD.format("w:1")),
            Status.FAILED,
            None,
            "tried to stop the in-flight deployment (ECS rolls back to w:1)",
        ),
        (
            step(Action.UPDATE, TD.format("w:1"), TD.format("w:1"), desired_count=3),
            Status.SUCCESS,
            TD.format("w:1"),
            "desired count to 3",
        ),
        (
            step(Action.UPDATE, "a", TD.format("w:1"), settings={"launchType": "FARGATE"}),
            Status.SUCCESS,
            TD.format("w:1"),
            "updated to w:1 and its settings (launchType)",
        ),
    ],
)
def test_happened_says_what_was_done_in_words(
    made: Step, status: Status, to: str | None, said: str
) -> None:
    assert happened(made, status, to) == said


def test_happened_reads_the_cause_never_the_reason_s_words() -> None:
    """Rewording a reason must not change what the summary says happened."""
    worded = "skipped: CodeDeploy deploys this; its task sets; being deleted"
    for action in (Action.SKIP, Action.SKIPPED):
        assert happened(step(action, None, "t", why=saying(worded)), Status.SKIPPED, None) == (
            "left alone"
        )
    gone = step(Action.MISSING, None, "t", why=saying("service is being deleted (DRAINING)"))
    assert happened(gone, Status.MISSING, None) == "missing: deleted"


def test_happened_names_the_pinned_image_of_a_re_registration() -> None:
    pinned = step(
        Action.REREGISTER,
        "a",
        TD.format("w:1"),
        pinned=True,
        after=(image("log", "fluent:1"), image("app", "acme/w:latest", D1)),
    )
    assert happened(pinned, Status.SUCCESS, TD.format("w:5")) == (
        "re-registered w:1 as w:5, pinned to the build the snapshot saw: w:latest 111111111111"
    )
    assert happened(pinned, Status.FAILED, None) == (
        "tried to re-register w:1, pinned to the build the snapshot saw: w:latest 111111111111"
    )
    no_digest = step(
        Action.REREGISTER, "a", TD.format("w:1"), pinned=True, after=(image("a", "w:1"),)
    )
    assert happened(no_digest, Status.SUCCESS, TD.format("w:5")) == "re-registered w:1 as w:5"
    unpinned = step(Action.REREGISTER, "a", TD.format("w:1"), after=pinned.after)
    assert happened(unpinned, Status.SUCCESS, TD.format("w:5")) == "re-registered w:1 as w:5"


def test_a_row_from_a_step_and_its_dict() -> None:
    made = step(
        Action.UPDATE,
        TD.format("w:2"),
        TD.format("w:1"),
        why=saying("why"),
        before=(image("app", "acme/w:2", D2),),
        after=(image("app", "acme/w:1"),),
    )
    row = ServiceResult.of(made, Status.SUCCESS, seconds=3.46, changed=True)
    assert row.to_dict() == {
        "name": "web",
        "kind": "service",
        "action": "update",
        "from": TD.format("w:2"),
        "to": TD.format("w:1"),
        "status": "success",
        "seconds": 3.5,
        "message": "why",
        "what": "updated to w:1",
        "from-images": ["acme/w:2@" + D2],
        "to-images": ["acme/w:1"],
    }
    assert ServiceResult.of(made, Status.PLANNED).seconds == 0.0
    other = ServiceResult.of(made, Status.FAILED, to=TD.format("w:9"), why=saying("no"))
    assert (other.to, other.message, other.changed) == (TD.format("w:9"), "no", False)
    assert other.what == "tried to update to w:1"


def row(status: Status, changed: bool = False) -> ServiceResult:
    return ServiceResult(f"s-{status}", "update", None, None, status, changed=changed)


@pytest.mark.parametrize(
    ("mode", "statuses", "verdict"),
    [
        ("restore", [Status.SUCCESS, Status.UNCHANGED], Verdict.SUCCESS),
        ("restore", [Status.UPDATED], Verdict.SUCCESS),
        ("restore", [Status.UNCHANGED, Status.SKIPPED], Verdict.UNCHANGED),
        ("restore", [], Verdict.UNCHANGED),
        ("rollback", [Status.PLANNED], Verdict.UNCHANGED),
        ("restore", [Status.SUCCESS, Status.FAILED], Verdict.PARTIAL),
        ("restore", [Status.MISSING, Status.UNCHANGED], Verdict.PARTIAL),
        ("restore", [Status.FAILED, Status.MISSING], Verdict.FAILED),
        ("snapshot", [Status.SUCCESS], Verdict.SUCCESS),
        ("snapshot", [], Verdict.SUCCESS),
        ("guard", [], Verdict.SUCCESS),
        ("list", [], Verdict.SUCCESS),
        ("discover", [], Verdict.SUCCESS),
    ],
)
def test_verdict(mode: str, statuses: list[Status], verdict: Verdict) -> None:
    outcome = Outcome(mode, "prod", [row(s) for s in statuses])
    assert outcome.verdict == verdict
    assert outcome.ok == (verdict in (Verdict.SUCCESS, Verdict.UNCHANGED))
    dry = Outcome(mode, "prod", [row(s) for s in statuses], dry_run=True)
    assert dry.verdict == Verdict.DRY_RUN and dry.ok


def test_outputs_and_json_carry_the_same_facts() -> None:
    rows = [row(Status.SUCCESS, changed=True), row(Status.FAILED)]
    restored = Outcome("restore", "prod", rows, snapshot=snapshot(), snapshot_uri="s3://b/k")
    assert restored.outputs() == {
        "result": "partial",
        "changed-services": ["s-success"],
        "services": [r.to_dict() for r in rows],
        "snapshot-id": "20261127T162600123Z-3f9a2c",
        "snapshot-uri": "s3://b/k",
    }
    assert restored.to_dict() == {"mode": "restore", "cluster": "prod", **restored.outputs()}
    # A dry-run snapshot stored nothing: no id a later step could restore.
    dry = Outcome("snapshot", "prod", snapshot=snapshot(), dry_run=True)
    assert "snapshot-id" not in dry.outputs() and "snapshot-uri" not in dry.outputs()
    assert "snapshot-id" not in dry.to_dict()
    guarded = Outcome("guard", "prod", snapshot=snapshot(), dry_run=True)
    assert "snapshot-id" not in guarded.outputs()
    stored = Outcome("guard", "prod", snapshot=snapshot(), snapshot_uri="s3://b/g")
    assert stored.outputs()["snapshot-id"] == "20261127T162600123Z-3f9a2c"
    # A rollback has no snapshot at all.
    assert set(Outcome("rollback", "prod").outputs()) == {"result", "changed-services", "services"}
    listed = Outcome("list", "prod", snapshots=["a", "b"], store="file:///s")
    assert listed.snapshot_id == "b" and listed.outputs()["snapshot-id"] == "b"
    assert listed.to_dict()["store"] == "file:///s" and listed.to_dict()["snapshots"] == ["a", "b"]
    assert Outcome("list", "prod", snapshots=[]).snapshot_id is None
    found = [{"cluster": "c", "region": "r"}]
    discovered = Outcome("discover", "c*", clusters=found)
    assert discovered.outputs()["clusters"] == found and discovered.to_dict()["clusters"] == found
    assert "clusters" not in restored.outputs() and "clusters" not in restored.to_dict()
    assert "snapshots" not in restored.to_dict()


def test_verdict_line_counts_and_names_each_cause() -> None:
    """The run's last annotation: counts by result, then what needs attention and why, cut."""
    ok = [row(Status.SUCCESS, changed=True), row(Status.UNCHANGED)]
    assert report.verdict_line(Outcome("restore", "shop", ok)) == (
        "restore of cluster shop: success: 1 success, 1 unchanged"
    )
    partial = ServiceResult(
        "api",
        "update",
        None,
        None,
        Status.PARTIAL,
        message="rollout completed",
        why=(because(Why.SETTINGS_LEFT, settings="loadBalancers", error="gone"),),
    )
    failed = [
        ServiceResult(f"w{i}", "update", None, None, Status.FAILED, message="rollout FAILED " * 20)
        for i in range(6)
    ]
    line = report.verdict_line(Outcome("restore", "shop", [*ok, partial, *failed]))
    counts, *causes = line.split("; ")
    assert counts == "restore of cluster shop: partial: 6 failed, 1 partial, 1 success, 1 unchanged"
    # Those that need attention, in the table's order: each named with its own cause.
    assert causes[0].startswith("api: loadBalancers left as it is")  # a partial's setting
    assert causes[1] == "w0: " + ("rollout FAILED " * 20)[:119] + "…"
    assert [c.split(":")[0] for c in causes[1:5]] == ["w0", "w1", "w2", "w3"]
    assert causes[5:] == ["2 more (see the job summary)"]  # w4 and w5, counted
