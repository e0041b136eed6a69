"""The emergency paths at ECS's quotas and 50 ms round trips: a rollback of N services
(deployment history, each back to its previous revision, no wait) against its quota floor,
and how soon a restore's first UpdateService goes out.

    python -m benchmarks.speed [--rollback 50,500] [--first 100,500] [--latency 0.05]

Writes benchmarks/results/speed.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter

from benchmarks.bench import CLUSTER, bad_deploy, quota_floor, seed, write_report
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.engine import execute
from ecsundo_action.request import Mode, Request
from simulator import Rules, Simulator


def rollback(sim: Simulator, n: int, latency: float) -> str:
    seed(sim, n)
    bad_deploy(sim, n, deregister_every=None)  # every service on :2, :1 still ACTIVE
    sim.rules = Rules.aws(latency_seconds=latency)
    start, throttled = len(sim.calls), len(sim.throttled)
    began = time.monotonic()
    request = Request(Mode.ROLLBACK, CLUSTER, since_minutes=0, wait=False)
    result = execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})
    seconds = time.monotonic() - began
    calls = Counter(c.operation for c in sim.calls[start:] if c.service == "ecs")
    answered = calls - Counter(c.operation for c in sim.throttled[throttled:])
    # DescribeClusters, ListServices, DescribeServices, then per service (concurrently):
    # DescribeTaskDefinition, ListServiceDeployments, DescribeServiceDeployments,
    # DescribeServiceRevisions, DescribeTaskDefinition of the target, UpdateService.
    floor = quota_floor(answered, chain=3 + 6, latency=latency)
    ok = sum(1 for s in result.services if str(s.status) == "updated")
    return (
        f"| rollback | {n} | {seconds:.1f} | {floor:.1f} | {seconds / floor:.2f} | "
        f"{sum(calls.values())} | {len(sim.throttled) - throttled} | {ok}/{n} |"
    )


def first_update(sim: Simulator, n: int, latency: float, folder: str) -> str:
    seed(sim, n)
    store = f"file://{folder}/{n}"
    execute(
        Request(Mode.SNAPSHOT, CLUSTER, store=store),
        gateway=EcsGateway(sim.client("ecs"), quotas=None),
        environ={},
    )
    bad_deploy(sim, n, deregister_every=None)
    sim.rules = Rules.aws(latency_seconds=latency)
    start = len(sim.calls)
    began = time.time()
    request = Request(Mode.RESTORE, CLUSTER, store=store, snapshot_id="latest", wait=False)
    execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})
    total = time.time() - began
    first = next(c.at for c in sim.calls[start:] if c.operation == "UpdateService")
    return f"| restore | {n} | {first - began:.2f} | {total:.1f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollback", default="50,500")
    parser.add_argument("--first", default="100,500")
    parser.add_argument("--latency", type=float, default=0.050)
    args = parser.parse_args()
    rows = [
        "| operation | services | seconds | quota floor (s) | actual / floor | ECS calls "
        "| throttled | updated |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    firsts = [
        "| operation | services | first UpdateService after (s) | whole restore (s) |",
        "|---|---:|---:|---:|",
    ]
    with Simulator() as sim, tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.rollback.split(",") if x):
            rows.append(rollback(sim, n, args.latency))
            print(rows[-1], flush=True)
        for n in (int(x) for x in args.first.split(",") if x):
            firsts.append(first_update(sim, n, args.latency, tmp))
            print(firsts[-1], flush=True)
    write_report("speed", [*rows, "", *firsts])
    return 0


if __name__ == "__main__":
    sys.exit(main())
