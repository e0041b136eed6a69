"""`make bench`: snapshot and restore against ECS's quotas, with baselines in the same run.

The AWS stand-in runs with Rules.aws(): 30 ms round trips and ECS's token buckets
(DescribeServices 100/20, DescribeTaskDefinition 50/20, UpdateService 50/5,
RegisterTaskDefinition 20/1). For each cluster size, N services with N distinct task
definitions; for restore, every service changed and half of the snapshot's revisions
INACTIVE (no wait). Measured: wall time, API calls per operation, throttling responses, and
the quota floor (what ECS's buckets allow at best: burst first, then the sustained rate of
the binding API, plus the round trips the work needs one after another). Baselines: the
same engine at concurrency 1, and fabfuel/ecs-deploy from PyPI looped over the services
(`ecs deploy CLUSTER SERVICE --task ARN --timeout -1`), as a user without this tool would.

Results go to benchmarks/results/ (results.md, results.json, time-vs-size.png).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.engine import execute
from ecsundo_action.request import Mode, Request
from ecsundo_action.snapshots.stores import FileStore
from simulator import Rules, Simulator
from simulator.rules import ECS_QUOTAS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLUSTER = "bench"


@dataclass
class Run:
    what: str  # snapshot | restore
    tool: str  # ecsundo | ecsundo (concurrency 1) | ecs-deploy loop
    services: int
    seconds: float
    floor: float
    calls: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    failed: int = 0

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor if self.floor else math.inf


def write_report(name: str, lines: list[str]) -> None:
    """benchmarks/results/<name>.md, and the same on stdout."""
    report = "\n".join(lines)
    (RESULTS / f"{name}.md").write_text(report + "\n")
    print("\n" + report)


def quota_floor(calls: Counter[str], chain: int, latency: float) -> float:
    """The least time ECS's buckets allow for these calls, plus `chain` sequential trips."""
    binding = 0.0
    for operation, count in calls.items():
        if operation in ECS_QUOTAS:
            burst, rate = ECS_QUOTAS[operation]
            binding = max(binding, max(0.0, count - burst) / rate)
    return binding + chain * latency


def seed(sim: Simulator, n: int) -> None:
    """N services, each on revision 1 of its own family (no latency, no quotas)."""
    sim.rules = Rules()
    sim.reset()
    sim.create_cluster(CLUSTER)
    for i in range(n):
        family = f"svc{i:04d}"
        arn = sim.register(
            {
                "family": family,
                "containerDefinitions": [
                    {
                        "name": "app",
                        "image": f"registry.example/{family}:1.0",
                        "memory": 256,
                        "environment": [{"name": "MODE", "value": "prod"}],
                    }
                ],
            }
        )
        sim.create_service(CLUSTER, family, arn, desired_count=1)


def bad_deploy(
    sim: Simulator, n: int, *, deregister_every: int | None = 2, rules: Rules | None = None
) -> None:
    """Every service moves to a new revision; every deregister_every-th snapshot revision
    is deregistered (half, by default; None: none). rules: how the stand-in runs the deploy."""
    sim.rules = rules or Rules()
    ecs = sim.client("ecs")
    for i in range(n):
        family = f"svc{i:04d}"
        new = sim.register(
            {
                "family": family,
                "containerDefinitions": [
                    {"name": "app", "image": f"registry.example/{family}:2.0-bad", "memory": 256}
                ],
            }
        )
        ecs.update_service(cluster=CLUSTER, service=family, taskDefinition=new)
        if deregister_every and i % deregister_every == 0:
            ecs.deregister_task_definition(taskDefinition=f"{family}:1")


def measured(sim: Simulator, latency: float) -> int:
    """Switch to AWS's behaviour (full buckets) and return where the call log starts."""
    sim.rules = Rules.aws(latency_seconds=latency)
    return len(sim.calls)


def ecs_calls(sim: Simulator, start: int) -> Counter[str]:
    """ECS calls since start, the throttled ones included (each was a request)."""
    return Counter(c.operation for c in sim.calls[start:] if c.service == "ecs")


def served(sim: Simulator, start: int, throttled_before: int) -> Counter[str]:
    """The calls ECS answered: what the work needed, retries of throttled calls aside."""
    calls = ecs_calls(sim, start)
    calls.subtract(Counter(c.operation for c in sim.throttled[throttled_before:]))
    return +calls


def bench_snapshot(
    sim: Simulator, n: int, concurrency: int, latency: float, store: FileStore
) -> Run:
    start = measured(sim, latency)
    throttled = len(sim.throttled)
    began = time.monotonic()
    # full: every task definition described, as the first snapshot of a cluster does (the
    # incremental case is benchmarks/incremental.py).
    request = Request(
        Mode.SNAPSHOT, CLUSTER, store=store.uri, max_concurrency=concurrency, full=True
    )
    taken = execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})
    seconds = time.monotonic() - began
    assert len(taken.services) == n
    calls = ecs_calls(sim, start)
    pages = math.ceil(n / 100)
    # DescribeClusters, ListServices pages, DescribeServices, DescribeServiceRevisions,
    # DescribeTaskDefinition, the put.
    floor = quota_floor(served(sim, start, throttled), chain=4 + pages, latency=latency)
    tool = "ecsundo" if concurrency > 1 else "ecsundo, concurrency 1"
    return Run("snapshot", tool, n, seconds, floor, dict(calls), len(sim.throttled) - throttled)


def bench_restore(
    sim: Simulator, n: int, concurrency: int, latency: float, store: FileStore
) -> Run:
    bad_deploy(sim, n)
    start = measured(sim, latency)
    throttled = len(sim.throttled)
    began = time.monotonic()
    request = Request(
        Mode.RESTORE,
        CLUSTER,
        snapshot_id="latest",
        store=store.uri,
        wait=False,
        max_concurrency=concurrency,
    )
    result = execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})
    seconds = time.monotonic() - began
    calls = ecs_calls(sim, start)
    # DescribeClusters, DescribeServices, DescribeTaskDefinition, [list + describe for reuse],
    # RegisterTaskDefinition, UpdateService: at least five trips one after another.
    floor = quota_floor(served(sim, start, throttled), chain=5, latency=latency)
    failed = sum(1 for s in result.services if str(s.status) not in ("updated", "unchanged"))
    tool = "ecsundo" if concurrency > 1 else "ecsundo, concurrency 1"
    return Run(
        "restore", tool, n, seconds, floor, dict(calls), len(sim.throttled) - throttled, failed
    )


def bench_ecs_deploy(
    sim: Simulator, n: int, latency: float, store: FileStore, ecs_deploy: Path, floor: float
) -> Run:
    """What a user without ecsundo does: one `ecs deploy --task <snapshot ARN>` per service."""
    bad_deploy(sim, n)
    snapshot_doc = store.latest(
        EcsGateway(sim.client("ecs"), quotas=None).describe_cluster(CLUSTER)
    )
    start = measured(sim, latency)
    throttled = len(sim.throttled)
    failed = 0
    began = time.monotonic()
    env = {**os.environ, **sim.env}
    for service in snapshot_doc.services:
        proc = subprocess.run(
            [
                str(ecs_deploy),
                "deploy",
                CLUSTER,
                service.name,
                "--task",
                service.task_definition,
                "--timeout",
                "-1",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        failed += proc.returncode != 0
    seconds = time.monotonic() - began
    calls = ecs_calls(sim, start)  # the same work has the same floor, whatever a tool spends
    return Run(
        "restore",
        "ecs-deploy loop",
        n,
        seconds,
        floor,
        dict(calls),
        len(sim.throttled) - throttled,
        failed,
    )


def bad_input_seconds(runs: int = 7) -> float:
    """`python entrypoint.py` with a bad input, start to exit (median of runs)."""
    env = {"PATH": os.environ.get("PATH", ""), "INPUT_MODE": "undo", "INPUT_CLUSTER": "prod"}
    times = []
    for _ in range(runs):
        began = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "entrypoint.py")], env=env, capture_output=True, text=True
        )
        times.append(time.monotonic() - began)
        assert proc.returncode == 1 and "input 'mode'" in proc.stdout
    return statistics.median(times)


def table(runs: list[Run]) -> str:
    lines = [
        "| operation | services | tool | seconds | quota floor (s) | actual / floor | "
        "API calls | throttled | failed |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.what} | {r.services} | {r.tool} | {r.seconds:.1f} | {r.floor:.1f} | "
            f"{r.ratio:.2f} | {sum(r.calls.values())} | {r.throttled} | {r.failed} |"
        )
    return "\n".join(lines)


def chart(runs: list[Run], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, what in zip(axes, ("snapshot", "restore"), strict=True):
        for tool in sorted({r.tool for r in runs if r.what == what}):
            points = sorted(
                (r.services, r.seconds) for r in runs if r.what == what and r.tool == tool
            )
            axis.plot(*zip(*points, strict=True), marker="o", label=tool)
        floors = sorted(
            {(r.services, r.floor) for r in runs if r.what == what and r.tool == "ecsundo"}
        )
        if floors:
            axis.plot(*zip(*floors, strict=True), linestyle="--", color="gray", label="quota floor")
        axis.set_title(f"{what} (30 ms round trips, ECS quotas)")
        axis.set_xlabel("services in the cluster")
        axis.set_ylabel("seconds")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--ecs-deploy-sizes", default="50")
    parser.add_argument("--latency", type=float, default=0.030)
    parser.add_argument("--ecs-deploy", type=Path, help="the `ecs` command of fabfuel/ecs-deploy")
    parser.add_argument("--no-baseline", action="store_true", help="skip concurrency 1")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    deploy_sizes = [int(s) for s in args.ecs_deploy_sizes.split(",") if s]
    RESULTS.mkdir(parents=True, exist_ok=True)

    runs: list[Run] = []
    with Simulator() as sim, tempfile.TemporaryDirectory() as tmp:
        for n in sorted(set(sizes) | set(deploy_sizes)):
            variants = [8] if args.no_baseline or n not in sizes else [8, 1]
            for concurrency in variants:
                seed(sim, n)
                store = FileStore(Path(tmp) / f"{n}-{concurrency}")
                runs.append(bench_snapshot(sim, n, concurrency, args.latency, store))
                print(table(runs[-1:]).splitlines()[-1], flush=True)
                runs.append(bench_restore(sim, n, concurrency, args.latency, store))
                print(table(runs[-1:]).splitlines()[-1], flush=True)
            if n in deploy_sizes and args.ecs_deploy:
                seed(sim, n)
                store = FileStore(Path(tmp) / f"{n}-ecs-deploy")
                bench_snapshot(sim, n, 8, 0.0, store)
                ours = next(r for r in runs if r.services == n and r.what == "restore")
                runs.append(
                    bench_ecs_deploy(sim, n, args.latency, store, args.ecs_deploy, ours.floor)
                )
                print(table(runs[-1:]).splitlines()[-1], flush=True)

    bad_input = bad_input_seconds()
    text = [table(runs), ""]
    for n in sorted({r.services for r in runs}):
        ours = next(
            (r for r in runs if r.services == n and r.what == "restore" and r.tool == "ecsundo"),
            None,
        )
        theirs = next((r for r in runs if r.services == n and r.tool == "ecs-deploy loop"), None)
        if ours and theirs:
            text.append(
                f"- restore of {n} services: ecsundo {ours.seconds:.1f} s, ecs-deploy "
                f"loop {theirs.seconds:.1f} s: {theirs.seconds / ours.seconds:.1f}x faster"
            )
        snap = next(
            (r for r in runs if r.services == n and r.what == "snapshot" and r.tool == "ecsundo"),
            None,
        )
        if snap:
            # DescribeClusters, ListServices pages, DescribeServices (10 a call),
            # DescribeServiceRevisions (20 a call), DescribeTaskDefinition per task definition.
            bound = 1 + math.ceil(n / 100) + math.ceil(n / 10) + math.ceil(n / 20) + n
            text.append(
                f"- snapshot of {n} services: {sum(snap.calls.values())} ECS calls (bound: {bound})"
            )
    text.append(
        f"- `python entrypoint.py` with a bad input: {bad_input:.2f} s to exit (median of 7)"
    )
    report = "\n".join(text)
    print("\n" + report)
    (RESULTS / "results.md").write_text(report + "\n")
    (RESULTS / "results.json").write_text(
        json.dumps(
            {
                "latency": args.latency,
                "quotas": ECS_QUOTAS,
                "bad_input_seconds": bad_input,
                "runs": [asdict(r) | {"ratio": r.ratio} for r in runs],
            },
            indent=2,
        )
        + "\n"
    )
    chart(runs, RESULTS / "time-vs-size.png")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}/results.md, results.json, time-vs-size.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
