"""An interrupted run reports: Ctrl-C (SIGINT) or SIGTERM, as GitHub sends them on cancel,
mid-restore. No change starts any more; the changes ECS accepted are rows like any other,
the result is `interrupted`, the exit status 130 or 143, and no traceback."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ECSUNDO, body, ecsundo, until
from tests.runner import defaults, measured, run_step


@pytest.fixture
def shop(sim: Any, tmp_path: Path) -> tuple[Any, str]:
    """web and api snapshotted on version 1, then deployed to version 2; rollouts that take
    a minute, so that the restore is still waiting when it is interrupted."""
    sim.create_cluster("shop")
    for name in ("web", "api"):
        sim.create_service("shop", name, sim.register(body(name, "1")))
    store = f"file://{tmp_path}/store"
    taken = ecsundo(sim, "cluster", "snapshot", "shop", "--store", store)
    assert taken.returncode == 0, taken.stderr
    ecs = sim.client("ecs")
    for name in ("web", "api"):
        ecs.update_service(
            cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
        )
    sim.rules.deploy_seconds = 60.0
    sim.calls.clear()  # the restore's calls only
    return sim, store


def both_changed(sim: Any) -> None:
    """Wait until both UpdateService calls are in: the restore then waits on the rollouts."""
    until(
        lambda: sum(c.operation == "UpdateService" for c in list(sim.calls)) == 2,
        "both UpdateService calls",
    )


def restore_interrupted(sim: Any, store: str, sent: int, *flags: str) -> tuple[int, str, str]:
    """`ecsundo cluster restore shop` as a process, sent `sent` once both changes are in:
    its exit status, stdout and stderr."""
    proc = subprocess.Popen(
        [ECSUNDO, "cluster", "restore", "shop", "--store", store, *flags],
        env={**sim.env, "PATH": "/usr/bin:/bin", **measured()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        both_changed(sim)
        proc.send_signal(sent)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, out, err


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_restore_reports_what_it_changed(
    shop: tuple[Any, str], sent: int, status: int
) -> None:
    sim, store = shop
    returncode, out, err = restore_interrupted(sim, store, sent, "--json")
    assert returncode == status, (out, err)
    assert "Traceback" not in err
    told = json.loads(out)
    assert told["result"] == "interrupted"
    assert sorted(told["changed-services"]) == ["api", "web"]
    for row in told["services"]:
        assert row["status"] == "updated", row
        assert row["message"].endswith("not waited for: the run was interrupted"), row
    # Nothing was started after the signal.
    assert [c.operation for c in sim.mutating_calls()].count("UpdateService") == 2


def test_an_interrupted_restore_prints_its_table(shop: tuple[Any, str]) -> None:
    sim, store = shop
    returncode, out, err = restore_interrupted(sim, store, signal.SIGINT)
    assert returncode == 130, (out, err)
    assert out.splitlines()[-1] == "result: interrupted", out
    rows = out.splitlines()[2:4]  # after the head and the header
    assert [row.split()[:2] for row in rows] == [["api", "updated"], ["web", "updated"]], out
    assert all(row.endswith("not waited for: the run was interrupted") for row in rows), out


def test_a_cancelled_action_step_reports_in_its_outputs_summary_and_log(
    shop: tuple[Any, str], workspace: Path
) -> None:
    """GitHub cancels a job with SIGINT, then SIGTERM about 7.5 s later: the step reports
    within that, through every channel a later step or a person reads."""
    sim, store = shop

    def cancel(process: subprocess.Popen[str]) -> None:
        both_changed(sim)
        process.send_signal(signal.SIGINT)

    step = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id="latest", store=store),
        sim.env,
        workspace,
        during=cancel,
    )
    assert step.returncode == 130, step.stdout + step.stderr
    assert "Traceback" not in step.stdout + step.stderr
    assert step.outputs["result"] == "interrupted"
    assert sorted(json.loads(step.outputs["changed-services"])) == ["api", "web"]
    assert "ecsundo restore: interrupted" in step.summary
    assert "result: interrupted" in step.stdout
