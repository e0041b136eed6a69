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
from ecsundo_action.render.text import Narrated
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
    # One line for the whole wait (at most every 15 s), the last when all settled.
    assert wait[0] == "0s of 15m: 0 done, 1 rolling: web rollout IN_PROGRESS, 0/1 running", wait
    assert re.fullmatch(r"\ds of 15m: 1 done \(web\)", wait[-1]), wait
    assert len(wait) == 2, wait


class Clocked(Narrated):
    """The action's log, on an explicit clock."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.now = 0.0

    def note(self, text: str) -> None:
        self.lines.append(text)

    def clock(self) -> float:
        return self.now


def test_a_50_service_wait_logs_under_100_lines_in_15_minutes() -> None:
    """Looked at every second for 15 minutes, each look a new state for each service; one
    settles every 18 s, one in ten of them failing (a line of its own)."""
    log = Clocked()
    rolling = {f"svc{i:02d}": "" for i in range(50)}
    done = 0
    for second in range(900):
        log.now = float(second)
        if second and second % 18 == 0 and rolling:
            name = next(iter(rolling))
            del rolling[name]
            done += 1
            log.settled(name, "rollout completed", ok=bool(done % 10))
        for name in rolling:
            rolling[name] = f"rollout IN_PROGRESS, {second % 3}/3 running"
        log.rollouts(float(second), 900.0, done, rolling)
    assert len(log.lines) < 100, len(log.lines)
    assert sum(1 for line in log.lines if line.endswith("rollout completed")) == 4  # failures
    assert log.lines[1].startswith("16s of 15m: 0 done, 50 rolling: svc00 rollout IN_PROGRESS")
    assert log.lines[1].endswith(" and 45 more")
    assert any("1 done (svc00)" in line for line in log.lines)


def test_a_quiet_wait_is_still_told_every_minute() -> None:
    log = Clocked()
    for second in range(181):
        log.now = float(second)
        log.rollouts(float(second), 900.0, 0, {"web": "rollout IN_PROGRESS, 0/1 running"})
    assert [line.split(" of ")[0] for line in log.lines] == ["0s", "1m", "2m", "3m"]


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


def test_when_the_time_is_up_the_last_line_says_where_each_rollout_was_left() -> None:
    log = Clocked()
    log.rollouts(0.0, 6.0, 0, {"api": "rollout IN_PROGRESS, 0/2 running"})
    log.now = 6.0
    log.rollouts(6.0, 6.0, 0, {"api": "rollout IN_PROGRESS, 0/2 running"}, final=True)
    assert log.lines == [
        "0s of 6s: 0 done, 1 rolling: api rollout IN_PROGRESS, 0/2 running",
        "6s of 6s: 0 done, 1 rolling: api rollout IN_PROGRESS, 0/2 running",
    ]
