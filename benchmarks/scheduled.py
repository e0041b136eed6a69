"""What scheduled tasks and service auto scaling add to a snapshot of N services (a fifth of
them scaling with a policy each) and M scheduled tasks (half EventBridge rules, half
Scheduler schedules), at 50 ms round trips and the documented quotas (ECS, EventBridge,
Scheduler). The baseline is the same snapshot with both left out (scheduled-tasks: false,
no auto scaling reads), measured in the same run; each case twice, alternating, the median
taken.

Two kinds of scheduled task: on the services' own task definitions (a job run from its
service's task definition with overrides: only the reads are added), and on task definitions
of their own (M more bodies to describe, at DescribeTaskDefinition's 20 a second, unless an
earlier snapshot in the store holds them: incremental).

    python -m benchmarks.scheduled [--services 500] [--scheduled 50] [--latency 0.05]

Writes benchmarks/results/scheduled.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from statistics import median

from benchmarks.bench import CLUSTER, seed, write_report
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.engine import execute
from ecsundo_action.request import Mode, Request
from simulator import Rules, Simulator

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}:1"


def seed_the_rest(sim: Simulator, services: int, scheduled: int, *, own: bool) -> None:
    """Auto scaling on every fifth service; scheduled tasks on the services' task
    definitions, or (own) on task definitions of their own."""
    for i in range(0, services, 5):
        sim.register_scalable_target(CLUSTER, f"svc{i:04d}", 1, 4)
        sim.put_scaling_policy(CLUSTER, f"svc{i:04d}", "cpu", 60.0)
    for i in range(scheduled):
        job = TD.format(f"svc{i * (services // scheduled):04d}")
        if own:
            image = f"registry.example/job{i:03d}:1.0"
            container = {"name": "job", "image": image, "memory": 256}
            job = sim.register({"family": f"job{i:03d}", "containerDefinitions": [container]})
        if i % 2:
            sim.create_schedule(f"job{i:03d}", CLUSTER, job, TaskCount=1)
        else:
            sim.put_rule_target(f"job{i:03d}", CLUSTER, job, TaskCount=1)


def snapshot(
    sim: Simulator, latency: float, store: str, *, everything: bool
) -> tuple[float, Counter[str]]:
    sim.rules = Rules.aws(latency_seconds=latency)
    start = len(sim.calls)
    extra = {"make_client": sim.client} if everything else {}
    gateway = EcsGateway(sim.client("ecs"), **extra)
    request = Request(
        Mode.SNAPSHOT, CLUSTER, store=store, scheduled_tasks=None if everything else ()
    )
    began = time.monotonic()
    taken = execute(request, gateway=gateway, environ={})
    seconds = time.monotonic() - began
    assert taken.snapshot is not None
    assert everything == bool(taken.snapshot.scheduled_tasks)
    return seconds, Counter(c.service for c in sim.calls[start:])


def case(
    sim: Simulator, args: argparse.Namespace, *, own: bool
) -> list[tuple[str, float, Counter[str], int]]:
    """Baseline and with-everything (first snapshots, fresh stores); with own task
    definitions, an incremental snapshot too."""
    seed(sim, args.services)
    seed_the_rest(sim, args.services, args.scheduled, own=own)
    runs: dict[bool, list[float]] = {False: [], True: []}
    calls: dict[bool, Counter[str]] = {}
    for everything in (False, True, False, True):
        with tempfile.TemporaryDirectory() as folder:
            seconds, counted = snapshot(
                sim, args.latency, f"file://{folder}", everything=everything
            )
        runs[everything].append(seconds)
        calls[everything] = counted
    kind = "task definitions of their own" if own else "the services' task definitions"
    rows = [
        (f"services only (baseline, {kind} case)", median(runs[False]), calls[False], 0),
        (f"with scheduled tasks on {kind}, and auto scaling", median(runs[True]), calls[True], 1),
    ]
    if own:
        with tempfile.TemporaryDirectory() as folder:
            store = f"file://{folder}"
            snapshot(sim, args.latency, store, everything=True)
            seconds, counted = snapshot(sim, args.latency, store, everything=True)
        rows.append(("the same, incremental (bodies reused)", seconds, counted, 1))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--scheduled", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    lines = [
        "| snapshot | seconds | vs baseline | ECS calls | EventBridge, Scheduler, "
        "Auto Scaling calls |",
        "|---|---:|---:|---:|---:|",
    ]
    shared_ratio = 0.0
    with Simulator() as sim:
        for own in (False, True):
            rows = case(sim, args, own=own)
            base = rows[0][1]
            for name, seconds, counted, _ in rows:
                others = sum(n for service, n in counted.items() if service != "ecs")
                lines.append(
                    f"| {name} | {seconds:.1f} | {seconds / base:.2f} | {counted['ecs']} | "
                    f"{others} |"
                )
            if not own:
                shared_ratio = rows[1][1] / base
    lines += [
        "",
        f"{args.services} services, every fifth with a scalable target and a policy; "
        f"{args.scheduled} scheduled tasks, half rules, half schedules; "
        f"{args.latency * 1000:.0f} ms round trips; the documented quotas. Seconds are the "
        "median of two runs, alternating with the baseline.",
    ]
    write_report("scheduled", lines)
    return 0 if shared_ratio <= 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
