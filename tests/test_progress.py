"""Progress while waiting: each service's rollout is told when it changes and at least every
15 s; the action logs it inside the wait group; `ecsundo` writes timestamped lines when stderr
is not a terminal and keeps one live line per service on a terminal."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.edges.terminal import Live
from ecsundo_action.progress import Progress
from ecsundo_action.threads import Threads
from ecsundo_action.wait import REPEAT_SECONDS, wait_for
from tests.conftest import Terminal, body, ecsundo
from tests.runner import defaults, log_groups, run_step


class Told(Progress):
    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.told: list[tuple[float, str, str]] = []

    def waiting(self, service: str, text: str) -> None:
        self.told.append((self.clock[0], service, text))


def test_a_slow_rollout_is_told_again_every_15_seconds(sim: Any, gateway: EcsGateway) -> None:
    sim.create_cluster("shop")
    arn = sim.create_service("shop", "web", sim.register(body("web", "1")), desired_count=2)
    sim.rules.deploy_seconds = 600  # it stays IN_PROGRESS: nothing changes
    target = sim.register(body("web", "2"))
    sim.client("ecs").update_service(cluster="shop", service="web", taskDefinition=target)
    now = [0.0]
    told = Told(now)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with Threads(2) as threads:
        settled = wait_for(
            gateway,
            threads,
            "arn:aws:ecs:us-east-1:123456789012:cluster/shop",
            {arn: target},
            timeout=50,
            interval=6,
            progress=told,
            clock=lambda: now[0],
            sleep=sleep,
        )
    times = [at for at, _, _ in told.told]
    assert {text for _, _, text in told.told} == {"rollout IN_PROGRESS, 0/2 running"}
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert times[0] == 0 and all(gap >= REPEAT_SECONDS for gap in gaps)
    assert all(gap < REPEAT_SECONDS + 6 for gap in gaps)  # one poll late at most
    assert len(times) == 3  # at 0, about 15 and about 30, then 50 s passed
    assert settled[arn].message == "timed out after 50s (rollout IN_PROGRESS, 0/2 running)"


def slow_deploy(sim: Any) -> None:
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", "1")), desired_count=1)


def test_the_action_logs_the_rollout_inside_the_wait_group(sim: Any, workspace: Path) -> None:
    slow_deploy(sim)
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), sim.env, workspace)
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="web", taskDefinition=sim.register(body("web", "2")))
    sim.rules.deploy_seconds = 2
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id=snap.outputs["snapshot-id"]),
        sim.env,
        workspace,
    )
    assert restored.returncode == 0, restored.stdout
    wait = [
        line
        for line in log_groups(restored.stdout)["Wait for 1 rollout"]
        if not line.startswith("::")
    ]
    assert wait[0] == "web: rollout IN_PROGRESS, 0/1 running", wait
    assert re.fullmatch(r"web: rollout completed \(\ds\)", wait[-1]), wait


def test_the_cli_without_a_terminal_writes_timestamped_lines(sim: Any, tmp_path: Path) -> None:
    slow_deploy(sim)
    store = f"file://{tmp_path}"
    assert ecsundo(sim, "cluster", "snapshot", "shop", "--store", store).returncode == 0
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="web", taskDefinition=sim.register(body("web", "2")))
    sim.rules.deploy_seconds = 1.5
    restored = ecsundo(
        sim, "cluster", "restore", "shop", "--store", store, "--snapshot-id", "latest"
    )
    assert restored.returncode == 0, restored.stderr
    lines = restored.stderr.splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d web: rollout IN_PROGRESS, 0/1 running", lines[0]), lines
    assert re.fullmatch(r"\d\d:\d\d:\d\d web: rollout completed \(\ds\)", lines[-1]), lines
    assert "result: success" in restored.stdout  # the table still goes to stdout


def test_on_a_terminal_each_service_keeps_one_line_updated_in_place() -> None:
    screen = Terminal()
    live = Live(screen)
    live.waiting("web", "rollout IN_PROGRESS, 0/2 running")
    live.waiting("api", "rollout IN_PROGRESS, 1/2 running")
    live.waiting("web", "rollout completed (4s)\x1b[31m\r")  # AWS's text cannot drive it
    writes = screen.getvalue()
    web, api = "web: rollout IN_PROGRESS, 0/2 running", "api: rollout IN_PROGRESS, 1/2 running"
    done = "web: rollout completed (4s) [31m "
    clear = "\x1b[K\n"  # to the end of the line, then the next
    assert writes == (
        web
        + clear  # the first service: a line
        + "\x1b[1F"
        + web
        + clear
        + api
        + clear  # back one line, both redrawn
        + "\x1b[2F"
        + done
        + clear
        + api
        + clear  # back two: web's line changed in place
    )
