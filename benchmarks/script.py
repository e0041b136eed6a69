"""A snapshot of a small cluster as a user runs it (`ecsundo cluster snapshot`, a process of
its own: imports and clients count), against the baseline a team writes by hand: a plain
sequential boto3 script (list, describe the services 10 at a time, describe each task
definition, write JSON), also a process of its own. Both against the AWS stand-in at ECS's
quotas and the given round trip, in the same run; the median of several runs each.

    python -m benchmarks.script [--services 40] [--latency 0.03,0.05,0.1] [--runs 5]

Writes benchmarks/results/script.md. The target (issue 22): ecsundo >= 3x the script at 40.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench import CLUSTER, seed, write_report
from simulator import Rules, Simulator

# The baseline: what a team writes when it has no tool. Sequential, as such scripts are.
SCRIPT = """
import json, sys
import boto3

ecs = boto3.client("ecs")
cluster, out = sys.argv[1], sys.argv[2]
arns = []
for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
    arns += page["serviceArns"]
document = {"services": [], "taskDefinitions": {}}
for start in range(0, len(arns), 10):
    described = ecs.describe_services(cluster=cluster, services=arns[start : start + 10])
    for service in described["services"]:
        arn = service["taskDefinition"]
        document["services"].append({"name": service["serviceName"], "taskDefinition": arn})
        if arn not in document["taskDefinitions"]:
            found = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
            document["taskDefinitions"][arn] = found["taskDefinition"]
with open(out, "w") as file:
    json.dump(document, file, default=str)
"""

ECSUNDO = str(Path(sys.executable).parent / "ecsundo")


def timed(command: list[str], env: dict[str, str]) -> float:
    began = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    return time.monotonic() - began


def measure(sim: Simulator, n: int, latency: float, runs: int) -> tuple[float, float, int, int]:
    """Medians (script, ecsundo) in seconds, and the ECS calls each made in its last run.
    Each ecsundo run has a store of its own: a full snapshot, not an incremental one."""
    sim.rules = Rules.aws(latency_seconds=latency)
    env = {**os.environ, **sim.env}
    script, ours = [], []
    calls = {"script": 0, "ecsundo": 0}
    with tempfile.TemporaryDirectory() as folder:
        for run in range(runs):
            for name, command, into in (
                ("script", [sys.executable, "-c", SCRIPT, CLUSTER, f"{folder}/{run}.json"], script),
                (
                    "ecsundo",
                    [ECSUNDO, "cluster", "snapshot", CLUSTER, "--store", f"file://{folder}/s{run}"],
                    ours,
                ),
            ):
                sim.rules = Rules.aws(latency_seconds=latency)  # full buckets for each
                start = len(sim.calls)
                into.append(timed(command, env))
                calls[name] = sum(1 for c in sim.calls[start:] if c.service == "ecs")
    return statistics.median(script), statistics.median(ours), calls["script"], calls["ecsundo"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--latency", default="0.03,0.05,0.1")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    lines = [
        f"# A {args.services}-service snapshot: ecsundo against a sequential boto3 script",
        "",
        "Each a process of its own (imports and clients count), against the AWS stand-in at",
        f"ECS's quotas; medians of {args.runs} runs, in the same run.",
        "",
        "| round trip | script (s) | ecsundo (s) | ecsundo is | ECS calls: script / ecsundo |",
        "|---:|---:|---:|---:|---:|",
    ]
    with Simulator() as sim:
        seed(sim, args.services)
        for latency in (float(x) for x in args.latency.split(",")):
            script, ours, by_script, by_us = measure(sim, args.services, latency, args.runs)
            lines.append(
                f"| {latency * 1000:.0f} ms | {script:.2f} | {ours:.2f} | "
                f"{script / ours:.2f}x faster | {by_script} / {by_us} |"
            )
    write_report("script", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
