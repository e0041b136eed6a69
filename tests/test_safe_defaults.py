"""Safe by default, through the edges a user meets: the action as the runner runs it and
the `ecsundo` command as a subprocess, against the AWS stand-in over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import body, ecsundo
from tests.runner import Step, defaults, log_groups, run_step

cli = ecsundo


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    for name in ["web", "api"]:
        sim.create_service("shop", name, sim.register(body(name, "1")))
    return sim


def step(sim: Any, workspace: Path, script: str = "entrypoint.py", **inputs: Any) -> Step:
    env = {**sim.env, "GITHUB_SERVER_URL": "https://github.com"}
    return run_step(script, defaults(cluster="shop", **inputs), env, workspace)


def deploy(sim: Any, name: str, version: str = "2", **update: Any) -> None:
    sim.client("ecs").update_service(
        cluster="shop", service=name, taskDefinition=sim.register(body(name, version)), **update
    )


def warnings(taken: Step) -> list[str]:
    return [value for name, value in taken.commands if name == "warning"]


def test_restore_says_which_snapshot_and_what_it_does_not_cover(shop: Any, workspace: Path) -> None:
    snap = step(shop, workspace, mode="snapshot", services="web")
    shop.create_service("shop", "worker", shop.register(body("worker", "1")))
    deploy(shop, "web")
    restored = step(shop, workspace, mode="restore", snapshot_id="latest")
    assert restored.returncode == 0, restored.stdout
    snapshot_id = snap.outputs["snapshot-id"]
    # The log: which snapshot `latest` resolved to, when and by which run.
    [read] = [lines for title, lines in log_groups(restored.stdout).items() if "Read" in title]
    assert any(
        f"snapshot {snapshot_id}, taken " in line
        and "UTC (just now) by workflow deploy, run 4242, sha 0123456789ab, actor octocat" in line
        for line in read
    ), read
    # The summary says it too, with a link to the run, and lists what it left out.
    assert f"snapshot `{snapshot_id}`, taken" in restored.summary
    assert "(https://github.com/org/shop/actions/runs/4242)" in restored.summary
    assert "**Not in this snapshot (left as they are)**" in restored.summary
    assert "- api\n- worker\n" in restored.summary
    # ... and a warning annotation names them.
    [warning] = warnings(restored)
    assert "2 services of cluster shop not in snapshot" in warning and "api, worker" in warning
    # A service named explicitly that the snapshot lacks stays an error, before any change.
    shop.calls.clear()
    named = step(shop, workspace, mode="restore", snapshot_id="latest", services="web,api")
    assert named.returncode == 1 and "'api' matches no service in snapshot" in named.errors[0]
    assert shop.mutating_calls() == []


def test_an_empty_snapshot_id_is_refused_before_any_aws_call(shop: Any, workspace: Path) -> None:
    step(shop, workspace, mode="snapshot")
    deploy(shop, "web")
    shop.calls.clear()
    refused = step(shop, workspace, mode="restore", snapshot_id="")
    assert refused.returncode == 1 and shop.calls == []
    [error] = refused.errors
    assert error.startswith("input 'snapshot-id': required for restore") and "empty" in error


def test_cli_verbs_cannot_hit_the_wrong_cluster(shop: Any, tmp_path: Path) -> None:
    shop.create_cluster("restore")
    shop.create_service("restore", "svc", shop.register(body("svc", "1")))
    shop.calls.clear()
    for verb in ("restore", "snapshot"):
        refused = cli(shop, "cluster", verb, cwd=tmp_path)
        assert refused.returncode == 1 and refused.stdout == ""
        assert f"use --cluster {verb}" in refused.stderr and refused.stderr.count("\n") == 1
    assert shop.mutating_calls() == [] and not list(tmp_path.rglob("*.json"))
    # A cluster named like a verb is still reachable.
    taken = cli(shop, "cluster", "snapshot", "--cluster", "restore", "--json", cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    assert json.loads(taken.stdout)["cluster"] == "restore"


def test_dry_run_applies_to_snapshot_and_guard_too(shop: Any, workspace: Path) -> None:
    for mode in ("snapshot", "guard"):
        dry = step(shop, workspace, mode=mode, dry_run="true")
        assert dry.returncode == 0, dry.stdout
        assert dry.outputs["result"] == "dry-run"
        assert "snapshot-id" not in dry.outputs and "snapshot-uri" not in dry.outputs
        assert "dry run: nothing stored" in dry.summary
        assert dry.state == {}  # guard: nothing for the post step to restore
    assert not list((workspace.parent / "runner_temp").rglob("*.json"))
    through_cli = cli(shop, "cluster", "snapshot", "shop", "--dry-run", cwd=workspace)
    assert through_cli.returncode == 0 and "dry run: nothing stored" in through_cli.stdout
    assert not list(workspace.rglob("*.json"))


def test_rollback_window_is_an_input_and_says_what_it_left_alone(
    shop: Any, workspace: Path
) -> None:
    deploy(shop, "web")
    deploy(shop, "api")
    for name in ("web", "api"):
        shop.age_deployments(name, hours=2, cluster="shop")
    windowed = step(shop, workspace, mode="rollback")
    assert windowed.outputs["result"] == "unchanged"
    # Expected filtering is a notice, not a warning; the run's last annotation counts it.
    assert warnings(windowed) == []
    [notice, verdict] = windowed.notices
    assert "2 services not deployed in the last 60 minutes" in notice and "since" in notice
    assert verdict == "rollback of cluster shop: unchanged: 2 unchanged"
    assert "not deployed in the last 60 minutes" in windowed.summary
    assert "**Notes**\n\n- 2 services not deployed in the last 60 minutes" in windowed.summary
    everything = step(shop, workspace, mode="rollback", since="0")
    assert everything.returncode == 0, everything.stdout
    assert sorted(json.loads(everything.outputs["changed-services"])) == ["api", "web"]


def test_changed_services_lists_every_service_changed_whatever_its_rollout_did(
    shop: Any, workspace: Path
) -> None:
    snap = step(shop, workspace, mode="snapshot")
    deploy(shop, "web")
    deploy(shop, "api")
    shop.rules.deploy_seconds = 60  # web's rollout will not finish in time
    shop.rules.outcomes["api"] = "fail"
    restored = step(
        shop,
        workspace,
        mode="restore",
        snapshot_id=snap.outputs["snapshot-id"],
        timeout_minutes="0.1",
    )
    assert restored.returncode == 1 and restored.outputs["result"] == "failed"
    assert sorted(json.loads(restored.outputs["changed-services"])) == ["api", "web"]


def test_a_service_scaled_to_zero_is_called_out(shop: Any, workspace: Path) -> None:
    snap = step(shop, workspace, mode="snapshot")
    deploy(shop, "web", desiredCount=0)
    restored = step(shop, workspace, mode="restore", snapshot_id=snap.outputs["snapshot-id"])
    [warning] = warnings(restored)
    assert warning.startswith("web has 0 tasks desired (the snapshot had 2)")
    assert "restore-desired-count" in warning
    [web] = [s for s in json.loads(restored.outputs["services"]) if s["name"] == "web"]
    assert "0 tasks desired, 2 in the snapshot" in web["message"]
    counted = step(
        shop,
        workspace,
        mode="restore",
        snapshot_id=snap.outputs["snapshot-id"],
        restore_desired_count="true",
    )
    assert warnings(counted) == []
    ecs = shop.client("ecs")
    assert (
        ecs.describe_services(cluster="shop", services=["web"])["services"][0]["desiredCount"] == 2
    )


def test_services_take_arns_and_cluster_slash_name(shop: Any, workspace: Path) -> None:
    snap = step(shop, workspace, mode="snapshot")
    deploy(shop, "web")
    deploy(shop, "api")
    arn = f"arn:aws:ecs:{shop.region}:{shop.account_id}:service/shop/web"
    restored = step(
        shop, workspace, mode="restore", snapshot_id=snap.outputs["snapshot-id"], services=arn
    )
    assert [s["name"] for s in json.loads(restored.outputs["services"])] == ["web"]
    shop.calls.clear()
    other = step(shop, workspace, mode="restore", snapshot_id="latest", services="staging/api")
    assert other.returncode == 1 and shop.calls == []
    assert "names cluster 'staging', not 'shop'" in other.errors[0]
    through_cli = cli(shop, "service", "-c", "shop", "shop/api", "--no-wait", cwd=workspace)
    assert through_cli.returncode == 0, through_cli.stderr


def test_at_most_ten_warning_annotations_and_every_warning_in_the_summary(
    sim: Any, workspace: Path
) -> None:
    sim.create_cluster("shop")
    names = [f"svc{i:02d}" for i in range(12)]
    for name in names:
        sim.create_service("shop", name, sim.register(body(name, "1")))
    snap = step(sim, workspace, mode="snapshot")
    ecs = sim.client("ecs")
    for name in names:  # scaled to 0 since: one warning each
        ecs.update_service(cluster="shop", service=name, desiredCount=0)
    restored = step(sim, workspace, mode="restore", snapshot_id=snap.outputs["snapshot-id"])
    assert restored.returncode == 0
    warnings = [value for name, value in restored.commands if name == "warning"]
    assert len(warnings) == 10  # what GitHub shows of one step
    assert [w.split(" ")[0] for w in warnings] == names[:10]
    assert all(f"{name} has 0 tasks desired" in restored.summary for name in names)


def test_at_most_nine_service_errors_then_the_verdict(sim: Any, workspace: Path) -> None:
    sim.create_cluster("shop")
    names = [f"svc{i:02d}" for i in range(15)]
    for name in names:
        sim.create_service("shop", name, sim.register(body(name, "1")))
    snap = step(sim, workspace, mode="snapshot")
    for name in names:
        deploy(sim, name)
        sim.rules.outcomes[name] = "fail"
    restored = step(sim, workspace, mode="restore", snapshot_id=snap.outputs["snapshot-id"])
    assert restored.returncode == 1
    assert len(restored.errors) == 10  # what GitHub shows of one step
    verdict = restored.errors[-1].split("; ")
    assert verdict[0] == "restore of cluster shop: failed: 15 failed"
    assert [cause.split(":")[0] for cause in verdict[1:6]] == names[:5]
    assert all("rollout FAILED" in cause for cause in verdict[1:6])
    assert verdict[6:] == ["10 more (see the job summary)"]
    assert all(f"**{name}**" in restored.summary for name in names)
