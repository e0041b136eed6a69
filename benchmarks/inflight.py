"""A guard post-step restore of N services whose bad deploy is still in flight, against the
same restore once that deploy has finished: ECS's own rollback (StopServiceDeployment)
against updating each service again. At 50 ms round trips and ECS's quotas, N = 50.

    python -m benchmarks.inflight [--services 50] [--latency 0.05]

Writes benchmarks/results/inflight.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.bench import CLUSTER, bad_deploy, quota_floor, seed, write_report
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.engine import execute
from ecsundo_action.request import Mode, Request
from simulator import Rules, Simulator

ROLLOUT = 1.0  # seconds a rollout (ours, or ECS's own rollback) takes in the stand-in


def restore(sim: Simulator, n: int, latency: float, in_flight: bool, folder: Path) -> str:
    seed(sim, n)
    store = f"file://{folder}"
    snapshot = Request(Mode.SNAPSHOT, CLUSTER, store=store)
    execute(snapshot, gateway=EcsGateway(sim.client("ecs"), quotas=None), environ={})
    bad_deploy(sim, n, deregister_every=None, rules=Rules(deploy_seconds=3600 if in_flight else 0))
    sim.rules = Rules.aws(latency_seconds=latency, deploy_seconds=ROLLOUT)
    start = len(sim.calls)
    began = time.monotonic()
    request = Request(Mode.RESTORE, CLUSTER, snapshot_id="latest", store=store, poll_interval=0.5)
    result = execute(request, gateway=EcsGateway(sim.client("ecs")), environ={})
    seconds = time.monotonic() - began
    calls = Counter(c.operation for c in sim.calls[start:] if c.service == "ecs")
    ok = sum(1 for s in result.services if str(s.status) == "success")
    # In sequence: DescribeClusters, ListServices, DescribeServices, [DescribeServiceDeployments],
    # DescribeServiceRevisions, [DescribeTaskDefinition], StopServiceDeployment or
    # UpdateService; then the rollout itself.
    chain = 6
    floor = quota_floor(calls, chain=chain, latency=latency) + ROLLOUT
    path = "in flight: StopServiceDeployment" if in_flight else "finished: UpdateService"
    mutating = {k: v for k, v in calls.items() if k.startswith(("Stop", "Register", "Update"))}
    return (
        f"| {path} | {n} | {seconds:.1f} | {floor:.1f} | {seconds / floor:.2f} | "
        f"{sum(calls.values())} | {', '.join(f'{k} {v}' for k, v in sorted(mutating.items()))} "
        f"| {ok}/{n} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.050)
    args = parser.parse_args()
    rows = [
        "| path | services | seconds | floor (s) | actual / floor | ECS calls | changes | ok |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    with Simulator() as sim, tempfile.TemporaryDirectory() as tmp:
        for in_flight in (True, False):
            rows.append(
                restore(sim, args.services, args.latency, in_flight, Path(tmp) / str(in_flight))
            )
            print(rows[-1], flush=True)
    write_report("inflight", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
