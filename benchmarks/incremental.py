"""A snapshot of N services over N/2 task-definition families (two services each), then
again after 5% of the families got a new revision: the second reuses what the first holds.
At 50 ms round trips and ECS's quotas, N = 1,000.

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

from benchmarks.bench import CLUSTER, ROOT
from ecsundo_action.engine import execute
from ecsundo_action.gateway import EcsGateway
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
    report = "\n".join(rows)
    (ROOT / "benchmarks" / "results" / "incremental.md").write_text(report + "\n")
    print("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
