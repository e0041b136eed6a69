"""A snapshot of N services over N/2 task-definition families (two services each), then
again after 5% of the families got a new revision: the second reuses what the first holds.
And finding an earlier re-registration among 1,000 newer revisions of its family. At 50 ms
round trips and ECS's quotas, N = 1,000.

    python -m benchmarks.incremental [--services 1000] [--latency 0.05]

Writes benchmarks/results/incremental.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.bench import CLUSTER, write_report
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.engine import execute
from ecsundo_action.request import Mode, Request
from simulator import Rules, Simulator


def body(family: str, version: str) -> dict[str, object]:
    image = f"registry.example/{family}:{version}"
    return {
        "family": family,
        "containerDefinitions": [{"name": "app", "image": image, "memory": 256}],
    }


def seed(sim: Simulator, n: int) -> list[str]:
    """n services, two per family, all on revision 1; returns the families."""
    sim.rules = Rules()
    sim.reset()
    sim.create_cluster(CLUSTER)
    families = [f"fam{i:04d}" for i in range(n // 2)]
    for family in families:
        arn = sim.register(body(family, "1"))
        for copy in ("a", "b"):
            sim.create_service(CLUSTER, f"{family}-{copy}", arn, desired_count=1)
    return families


def snap(
    sim: Simulator, store: str, latency: float, *, full: bool
) -> tuple[float, Counter[str], int]:
    sim.rules = Rules.aws(latency_seconds=latency)
    start, throttled = len(sim.calls), len(sim.throttled)
    began = time.monotonic()
    request = Request(Mode.SNAPSHOT, CLUSTER, store=store, full=full)
    execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})
    calls = Counter(c.operation for c in sim.calls[start:] if c.service == "ecs")
    return time.monotonic() - began, calls, len(sim.throttled) - throttled


def reuse_lookup(sim: Simulator, latency: float, newer: int = 1000) -> list[str]:
    """A restore (dry run) whose target web:1 is INACTIVE and was registered again by an
    earlier restore, with `newer` revisions of the family after that copy: finding the copy
    through the tagging API, and by scanning the family where that API is refused."""
    rows = [
        f"| finding an earlier re-registration among {newer} newer revisions | seconds | "
        "DescribeTaskDefinition | GetResources |",
        "|---|---:|---:|---:|",
    ]
    sim.rules = Rules()
    sim.reset()
    with tempfile.TemporaryDirectory() as tmp:
        sim.create_cluster(CLUSTER)
        sim.create_service(CLUSTER, "web", sim.register(body("web", "1")), desired_count=1)
        store = f"file://{tmp}"
        tagging = sim.client("resourcegroupstaggingapi")
        gateway = EcsGateway(sim.client("ecs"), quotas=None, tagging=tagging)
        execute(Request(Mode.SNAPSHOT, CLUSTER, store=store), gateway=gateway, environ={})
        ecs = sim.client("ecs")
        ecs.update_service(
            cluster=CLUSTER, service="web", taskDefinition=sim.register(body("web", "2"))
        )
        ecs.deregister_task_definition(taskDefinition="web:1")
        restore = Request(
            Mode.RESTORE, CLUSTER, store=store, snapshot_id="latest", poll_interval=0.05
        )
        execute(restore, gateway=gateway, environ={})  # registers web:1 again as web:3
        for version in range(newer):
            sim.register(body("web", f"n{version}"))
        ecs.update_service(cluster=CLUSTER, service="web", taskDefinition="web")
        dry = Request(Mode.RESTORE, CLUSTER, store=store, snapshot_id="latest", dry_run=True)
        for label, refuse in (("tagging API", False), ("scan (tagging refused)", True)):
            sim.rules = Rules.aws(latency_seconds=latency)
            if refuse:
                sim.rules.refusals[("GetResources", "*")] = "AccessDeniedException"
            start = len(sim.calls)
            began = time.monotonic()
            result = execute(
                dry, gateway=EcsGateway(sim.client("ecs"), tagging=tagging), environ={}
            )
            seconds = time.monotonic() - began
            [web] = result.services
            assert web.to and web.to.endswith("web:3"), web
            calls = Counter(c.operation for c in sim.calls[start:])
            rows.append(
                f"| {label} | {seconds:.1f} | {calls['DescribeTaskDefinition']} | "
                f"{calls['GetResources']} |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.050)
    args = parser.parse_args()
    rows = [
        "| snapshot | services | families changed | seconds | vs first | "
        "DescribeTaskDefinition | throttled |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    with Simulator() as sim, tempfile.TemporaryDirectory() as tmp:
        families = seed(sim, args.services)
        store = f"file://{Path(tmp)}"
        first, calls, throttled = snap(sim, store, args.latency, full=False)  # nothing to reuse
        rows.append(
            f"| first (nothing to reuse) | {args.services} | - | {first:.1f} | 1.00 | "
            f"{calls['DescribeTaskDefinition']} | {throttled} |"
        )
        changed = families[::20]  # 5%
        sim.rules = Rules()
        ecs = sim.client("ecs")
        for family in changed:
            arn = sim.register(body(family, "2"))
            for copy in ("a", "b"):
                ecs.update_service(cluster=CLUSTER, service=f"{family}-{copy}", taskDefinition=arn)
        for label, full in (("again, incremental", False), ("again, full", True)):
            seconds, calls, throttled = snap(sim, store, args.latency, full=full)
            rows.append(
                f"| {label} | {args.services} | {len(changed)} | {seconds:.1f} | "
                f"{seconds / first:.2f} | {calls['DescribeTaskDefinition']} | {throttled} |"
            )
            print(rows[-1], flush=True)
        rows += ["", *reuse_lookup(sim, args.latency)]
    write_report("incremental", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
