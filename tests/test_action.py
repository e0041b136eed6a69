"""The Action as the runner runs it: entrypoint.py and post.py as subprocesses, INPUT_*
variables with hyphens, GITHUB_* files, against the AWS stand-in over HTTP."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.snapshots import document as doc
from tests.conftest import forge, signing_key
from tests.runner import defaults, everything, log_groups, run_step
from tests.test_render_markdown import render

SECRET = "hunter2-env-value"
SECRET_REF = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token-Zx9Q"
HOSTILE = "nginx\n::warning::pwned\r\n::add-mask::x\n<script>alert(1)</script> | `x` @org/team %0A"


def body(family: str, version: str, **extra: Any) -> dict[str, Any]:
    return {
        "family": family,
        "containerDefinitions": [
            {
                "name": family,
                "image": f"shop/{family}:{version}",
                "memory": 256,
                "environment": [{"name": "DB_PASSWORD", "value": SECRET}],
                "secrets": [{"name": "API_TOKEN", "valueFrom": SECRET_REF}],
            }
        ],
        **extra,
    }


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    for name in ["web", "api"]:
        sim.create_service("shop", name, sim.register(body(name, "1")))
    return sim


def bad_deploy(sim: Any, *names: str) -> None:
    ecs = sim.client("ecs")
    for name in names:
        new = sim.register(body(name, "2"))
        ecs.update_service(cluster="shop", service=name, taskDefinition=new)
        ecs.deregister_task_definition(taskDefinition=f"{name}:1")


def test_hostile_text_in_a_snapshot_never_issues_a_command(shop: Any, workspace: Path) -> None:
    """Whoever can write to the store can put any text in a snapshot's free fields (where it
    was taken, the image names): what a restore logs of them, outside the table too (the
    provenance line, the plan, warnings), never reaches the runner as a workflow command."""
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    path = Path(snap.outputs["snapshot-uri"].removeprefix("file://"))
    document = json.loads(path.read_text())
    document["github"] = {key: HOSTILE for key in ("repository", "sha", "runId", "workflow")}
    document["github"]["actor"] = "::error::pwned-actor"
    for kept in document["taskDefinitions"].values():
        kept["body"]["containerDefinitions"][0]["image"] = HOSTILE
    api = next(service for service in document["services"] if service["name"] == "api")
    api["name"] = "api\n::error::pwned-name"
    document["checksum"] = doc.checksum(document)
    path.write_text(json.dumps(document))
    bad_deploy(shop, "web")
    for dry_run in ("true", "false"):
        restored = run_step(
            "entrypoint.py",
            defaults(
                mode="restore",
                cluster="shop",
                snapshot_id=snap.outputs["snapshot-id"],
                dry_run=dry_run,
                wait="false",
            ),
            shop.env,
            workspace,
        )
        assert "::error::pwned-actor" in restored.stdout  # it was logged, inside stop-commands
        # A command of its own would start with the hostile text; inside our annotations
        # (the gone service's error) it is escaped onto one line.
        issued = [(name, value) for name, value in restored.commands if value.startswith("pwned")]
        assert issued == [], issued
        assert {name for name, _ in restored.commands} <= {
            *("group", "endgroup", "error", "warning", "notice")
        }
        assert "<script>" not in restored.summary


def test_snapshot_then_restore_in_one_job(shop: Any, workspace: Path) -> None:
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    assert snap.returncode == 0, snap.stdout + snap.stderr
    assert snap.outputs["result"] == "success"
    snapshot_id = snap.outputs["snapshot-id"]
    uri = snap.outputs["snapshot-uri"]
    # The default store is under RUNNER_TEMP, mounted for the whole job; owner-only.
    path = Path(uri.removeprefix("file://"))
    assert path.is_relative_to(workspace.parent / "runner_temp")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [s["name"] for s in json.loads(snap.outputs["services"])] == ["api", "web"]
    assert "shop/web:1" in snap.summary and snapshot_id in snap.summary
    assert json.loads(path.read_text())["github"]["runId"] == "4242"

    bad_deploy(shop, "web")
    shop.calls.clear()
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id=snapshot_id),
        shop.env,
        workspace,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert restored.outputs["result"] == "success"
    assert json.loads(restored.outputs["changed-services"]) == ["web"]
    services = {s["name"]: s for s in json.loads(restored.outputs["services"])}
    assert set(services["web"]) == {
        *("name", "kind", "action", "from", "to", "status", "seconds", "message"),
        *("what", "from-images", "to-images"),
    }
    web = services["web"]
    assert web["what"] == "re-registered web:1 (INACTIVE) as web:3"
    assert [i.split("@sha256:")[0] for i in web["from-images"]] == ["shop/web:2"]
    assert [i.split("@sha256:")[0] for i in web["to-images"]] == ["shop/web:1"]
    assert all(re.fullmatch(r"shop/web:\d@sha256:[0-9a-f]{64}", i) for i in web["to-images"])
    assert services["web"]["action"] == "re-register"
    assert services["web"]["status"] == "success"
    assert services["api"]["status"] == "unchanged"
    assert restored.outputs["snapshot-id"] == snapshot_id
    # The log tells the story, one group a phase, each holding its lines.
    groups = log_groups(restored.stdout)
    assert list(groups) == [
        f"Read snapshot {snapshot_id} of cluster shop",
        "Plan: 1 service to change of 2, 1 task definition to register again",
        "Wait for 1 rollout",
        "1 service unchanged or skipped",  # after the result table, folded as in the summary
    ]
    read, plan, wait, calm = groups.values()
    table = [line for line in calm if not line.startswith("::")]  # verbatim, commands off
    assert table[0].startswith("SERVICE") and table[1].startswith("api  ")
    assert any("taken" in line and "by workflow deploy, run 4242" in line for line in read)
    assert any(line.startswith("web") and "re-register" in line for line in plan)
    assert any(re.fullmatch(r"\d+s of 15m: 1 done \(web\)", line) for line in wait), wait
    assert "| service | before | after | what happened | result | time |" in restored.summary
    row = "| web | `web:2` | `web:1` | re-registered web:1 \\(INACTIVE\\) as web:3 | ✅ success |"
    assert row in restored.summary
    assert re.search(
        r"^Started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, ended \d\d:\d\d:\d\d UTC; took \d+s: "
        r"read \d+s, register \d+s, update \d+s, wait \d+s$",
        restored.summary,
        re.M,
    ), restored.summary
    assert restored.errors == []
    for secret in (SECRET, SECRET_REF):  # neither values nor where secrets live
        assert secret not in everything(snap) + everything(restored)


def test_failed_service_gets_an_error_annotation_and_exit_1(shop: Any, workspace: Path) -> None:
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    bad_deploy(shop, "web", "api")
    shop.rules.deploy_seconds = 0.1
    shop.rules.outcomes["web"] = "circuit-breaker"
    step = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id=snap.outputs["snapshot-id"]),
        shop.env,
        workspace,
    )
    assert step.returncode == 1
    assert step.outputs["result"] == "partial"
    assert any(e.startswith("web: service is on web:2") for e in step.errors), step.errors
    assert len([e for e in step.errors if e.startswith(("web:", "api:"))]) == 1
    assert "**Needs attention**" in step.summary


def test_restore_latest_from_an_empty_default_store_says_how_to_restore_across_runs(
    shop: Any, workspace: Path
) -> None:
    shop.calls.clear()
    step = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id="latest"),
        shop.env,
        workspace,
    )
    assert step.returncode == 1
    assert len(step.errors) == 1
    assert "no snapshot of cluster 'shop'" in step.errors[0]
    assert "store: s3://BUCKET/PREFIX" in step.errors[0]
    assert shop.mutating_calls() == []


def test_rollback_and_list_modes(shop: Any, workspace: Path) -> None:
    for _ in range(2):
        run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    listed = run_step("entrypoint.py", defaults(mode="list", cluster="shop"), shop.env, workspace)
    assert listed.returncode == 0
    ids = [line for line in listed.summary.splitlines() if line.startswith("| 2")]
    assert len(ids) == 2 and listed.outputs["snapshot-id"] in ids[0]

    shop.client("ecs").update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2"))
    )
    rolled = run_step(
        "entrypoint.py",
        defaults(mode="rollback", cluster="shop", services="web"),
        shop.env,
        workspace,
    )
    assert rolled.returncode == 0, rolled.stdout
    [web] = json.loads(rolled.outputs["services"])
    assert web["to"].endswith("task-definition/web:1") and web["status"] == "success"


@pytest.mark.parametrize("history", [True, False], ids=["history", "revisions"])
def test_a_rollback_after_a_restart_and_ecs_own_rollback_changes_nothing(
    shop: Any, workspace: Path, history: bool
) -> None:
    """A whole-cluster rollback after a deploy that only restarted api and that ECS already
    rolled back on web: both run their release from before the deploy, with ECS's history
    and without it."""
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2"))
    )
    for name in ("web", "api"):
        shop.age_deployments(name, hours=3, cluster="shop")
    ecs.update_service(cluster="shop", service="api", forceNewDeployment=True)
    shop.rules.outcomes["web"] = "circuit-breaker"
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3"))
    )
    shop.rules.outcomes.clear()
    shop.rules.history = history
    shop.calls.clear()

    rolled = run_step(
        "entrypoint.py", defaults(mode="rollback", cluster="shop"), shop.env, workspace
    )

    assert rolled.returncode == 0, rolled.stdout
    assert rolled.outputs["result"] == "unchanged" and rolled.outputs["changed-services"] == "[]"
    rows = {s["name"]: s for s in json.loads(rolled.outputs["services"])}
    assert rows["web"]["to"].endswith("task-definition/web:2")
    assert rows["api"]["to"].endswith("task-definition/api:1")
    assert {row["status"] for row in rows.values()} == {"unchanged"}
    assert shop.mutating_calls() == []


def test_guard_restores_in_the_post_step_after_a_failed_job(shop: Any, workspace: Path) -> None:
    guard = run_step("entrypoint.py", defaults(mode="guard", cluster="shop"), shop.env, workspace)
    assert guard.returncode == 0, guard.stdout + guard.stderr
    saved = json.loads(guard.state["guard"])
    assert saved["snapshotId"] == guard.outputs["snapshot-id"]

    bad_deploy(shop, "web", "api")
    # post-if: failure() -> the runner starts post.py in a fresh container with STATE_guard.
    post = run_step(
        "post.py", defaults(mode="guard", cluster="shop"), shop.env, workspace, state=guard.state
    )
    assert post.returncode == 0, post.stdout + post.stderr
    assert post.outputs["result"] == "success"
    assert sorted(json.loads(post.outputs["changed-services"])) == ["api", "web"]
    ecs = shop.client("ecs")
    for name in ["web", "api"]:
        running = ecs.describe_services(cluster="shop", services=[name])["services"][0]
        image = ecs.describe_task_definition(taskDefinition=running["taskDefinition"])
        assert image["taskDefinition"]["containerDefinitions"][0]["image"] == f"shop/{name}:1"


def test_a_signed_guard_restores_and_a_forged_snapshot_is_one_error_changing_nothing(
    shop: Any, workspace: Path
) -> None:
    signing_key(shop, alias="snapshots")
    signed = defaults(mode="guard", cluster="shop", signing_key="alias/snapshots")
    guard = run_step("entrypoint.py", signed, shop.env, workspace)
    assert guard.returncode == 0, guard.stdout + guard.stderr
    path = Path(guard.outputs["snapshot-uri"].removeprefix("file://"))
    assert json.loads(path.read_text())["signature"]["macAlgorithm"] == "HMAC_SHA_256"

    bad_deploy(shop, "web")
    post = run_step("post.py", signed, shop.env, workspace, state=guard.state)
    assert post.returncode == 0, post.stdout + post.stderr
    assert "signature verified with signing key alias/snapshots" in post.stdout
    assert json.loads(post.outputs["changed-services"]) == ["web"]

    # The issue's attack: a body edited to another image, the checksum recomputed.
    bad_deploy(shop, "web")
    forge(path, '"image": "shop/web:1"', '"image": "evil/miner:1"')
    shop.calls.clear()
    for step in (
        run_step("post.py", signed, shop.env, workspace, state=guard.state),
        run_step(
            "entrypoint.py",
            defaults(
                mode="restore", cluster="shop", snapshot_id="latest", signing_key="alias/snapshots"
            ),
            shop.env,
            workspace,
        ),
    ):
        assert step.returncode == 1, step.stdout
        [error] = step.errors
        assert "fails its signature check with signing key 'alias/snapshots'" in error, error
        assert guard.outputs["snapshot-id"] in error and "\n" not in error
        assert "fails its signature check" in step.summary
    assert shop.mutating_calls() == []


def test_post_step_without_a_guard_snapshot_does_nothing(shop: Any, workspace: Path) -> None:
    shop.calls.clear()
    post = run_step("post.py", defaults(mode="restore", cluster="shop"), shop.env, workspace)
    assert post.returncode == 0
    assert "nothing to restore" in post.stdout
    assert shop.calls == [] and post.outputs == {}


BAD_INPUTS = [
    ({"mode": "undo"}, "input 'mode'"),
    ({"mode": ""}, "input 'mode'"),
    ({"cluster": ""}, "input 'cluster': required"),
    ({"cluster": "prod;rm -rf"}, "input 'cluster'"),
    ({"cluster": "arn:aws:ecs:us-east-1:123:cluster/x"}, "input 'cluster'"),
    ({"store": "ftp://host/x"}, "input 'store'"),
    ({"store": "s3://Bad_Bucket/x"}, "input 'store'"),
    ({"timeout-minutes": "soon"}, "input 'timeout-minutes'"),
    ({"timeout-minutes": "0"}, "input 'timeout-minutes'"),
    ({"timeout-minutes": "1e9"}, "input 'timeout-minutes'"),
    ({"timeout-minutes": "nan"}, "input 'timeout-minutes'"),
    ({"snapshot-id": "../../etc/passwd"}, "input 'snapshot-id'"),
    ({"snapshot-id": "a/b"}, "input 'snapshot-id'"),
    ({"mode": "snapshot", "snapshot-id": "latest"}, "input 'snapshot-id'"),
    ({"services": "web;api"}, "input 'services'"),
    ({"mode": "snapshot", "services": "nope"}, "'nope' matches no service"),
    ({"wait": "yes"}, "input 'wait'"),
    ({"dry-run": "1"}, "input 'dry-run'"),
    ({"restore-desired-count": "maybe"}, "input 'restore-desired-count'"),
    ({"max-concurrency": "0"}, "input 'max-concurrency'"),
    ({"max-concurrency": "2.5"}, "input 'max-concurrency'"),
    ({"region": "mars-1"}, "input 'region'"),
    ({"cluster": "nope"}, "cluster 'nope' not found"),
    ({"snapshot-id": "20200101T000000000Z-abcdef"}, "snapshot '20200101T000000000Z-abcdef' not"),
]


@pytest.mark.parametrize(("inputs", "reason"), BAD_INPUTS)
def test_bad_input_is_one_error_naming_it_exit_1_and_nothing_changed(
    shop: Any, workspace: Path, inputs: dict[str, str], reason: str
) -> None:
    shop.calls.clear()
    given = {"mode": "restore", "cluster": "shop", **inputs}
    if given["mode"] == "restore":
        given.setdefault("snapshot-id", "latest")
    step = run_step("entrypoint.py", defaults(**given), shop.env, workspace)
    assert step.returncode == 1
    assert len(step.errors) == 1 and reason in step.errors[0], step.stdout
    assert "Traceback" not in step.stdout + step.stderr
    assert shop.mutating_calls() == []
    if reason.startswith("input "):
        assert shop.calls == []  # checked before any AWS call at all


def test_hostile_aws_text_never_issues_a_command_or_breaks_the_summary(
    shop: Any, workspace: Path
) -> None:
    ecs = shop.client("ecs")
    evil = shop.register(
        {
            **body("evil", "1"),
            "containerDefinitions": [
                {
                    "name": "evil",
                    "image": HOSTILE,
                    "memory": 64,
                    "environment": [{"name": "K", "value": SECRET}],
                }
            ],
            "tags": [{"key": "note", "value": HOSTILE}],
        }
    )
    shop.create_service("shop", "evil", evil)
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    assert snap.returncode == 0, snap.stdout + snap.stderr
    ecs.update_service(
        cluster="shop", service="evil", taskDefinition=shop.register(body("evil", "2"))
    )
    ecs.deregister_task_definition(taskDefinition=evil)
    shop.rules.deploy_seconds = 0.1
    shop.rules.outcomes["evil"] = "fail"
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id=snap.outputs["snapshot-id"]),
        shop.env,
        workspace,
    )
    for step in (snap, restored):
        names = {name for name, _ in step.commands}
        assert names <= {"group", "endgroup", "error"}, step.commands
        # As GitHub renders it: no tag, link or mention from the hostile text (in code spans
        # it shows as it is, to be copied).
        page = render(step.summary)
        assert not {"script", "img"} & set(page.tags)
        assert any("<script>" in held for held in render(snap.summary).code)  # shown, inert
        assert all(
            link.startswith("https://us-east-1.console.aws.amazon.com/") for link in page.links
        )
        assert not re.search(r"@\w", "".join(page.prose))
        assert SECRET not in everything(step)
        # Every output parses back to exactly the outputs we set: nothing added or cut.
        assert set(step.outputs) <= {
            "snapshot-id",
            "snapshot-uri",
            "result",
            "changed-services",
            "services",
        }
        json.loads(step.outputs["services"])
    assert restored.returncode == 1 and restored.outputs["result"] == "partial"


MANUAL_RESTORE = """\
on:
  push:
  workflow_dispatch:
jobs:
  deploy:
    steps:
      - uses: org/ecsundo-action@v1
        with: {mode: snapshot, cluster: shop}
      - uses: org/ecsundo-action@v1
        if: github.event_name == 'workflow_dispatch'
        with:
          mode: 'restore'
          cluster: shop
"""


@pytest.mark.parametrize(
    ("workflow", "store", "warned"),
    [
        (MANUAL_RESTORE, None, True),
        (MANUAL_RESTORE.replace("  workflow_dispatch:\n", ""), None, False),  # never by hand
        (MANUAL_RESTORE, "s3", False),  # a store that outlives the job
        (None, None, False),  # the workflow is not checked out: nothing to go by
    ],
    ids=["dispatch-restore", "no-dispatch", "s3-store", "not-checked-out"],
)
def test_a_job_scoped_snapshot_in_a_workflow_that_restores_by_hand_warns(
    shop: Any, workspace: Path, workflow: str | None, store: str | None, warned: bool
) -> None:
    """examples/manual-rollback.yml's lesson, said where it matters: a snapshot in the
    default store (RUNNER_TEMP, this job only) cannot be restored by a later, manual run."""
    if workflow is not None:
        folder = workspace / ".github" / "workflows"
        folder.mkdir(parents=True)
        (folder / "deploy.yml").write_text(workflow)
    inputs = defaults(mode="snapshot", cluster="shop")
    if store:
        shop.client("s3").create_bucket(Bucket="snapshots")
        inputs["store"] = "s3://snapshots/ecsundo"
    env = {
        **shop.env,
        "GITHUB_WORKFLOW_REF": "org/shop/.github/workflows/deploy.yml@refs/heads/main",
    }

    step = run_step("entrypoint.py", inputs, env, workspace)

    assert step.returncode == 0, step.stdout
    said = [w for w in step.warnings if "workflow_dispatch" in w]
    assert bool(said) == warned, step.warnings
    if warned:
        assert said[0].startswith("store: the default store lives in RUNNER_TEMP for this job")


@pytest.mark.parametrize(
    ("text", "offers"),
    [
        ("on: [push, workflow_dispatch]\n  - with:\n      mode: restore\n", True),
        ("on:\n  - push\n  - workflow_dispatch\nsteps:\n  - with: {}\n    mode: restore\n", True),
        ("on: [push]\nif: github.event_name == 'workflow_dispatch'\nmode: restore\n", False),
        ("on: workflow_dispatch\nmode: rollback\n", False),  # needs no store
    ],
)
def test_which_workflows_offer_a_manual_restore(tmp_path: Path, text: str, offers: bool) -> None:
    from ecsundo_action.edges.action import offers_manual_restore

    (tmp_path / "w.yml").write_text(text)
    environ = {"GITHUB_WORKSPACE": str(tmp_path), "GITHUB_WORKFLOW_REF": "o/r/w.yml@refs/x"}
    assert offers_manual_restore(environ) is offers
    outside = {**environ, "GITHUB_WORKFLOW_REF": "o/r/../../etc/passwd@refs/x"}
    assert offers_manual_restore(outside) is False
