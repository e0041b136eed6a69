"""`make demo`: the seed article's story, told against an in-process AWS stand-in.

A cluster runs four services, a nightly scheduled task (an EventBridge rule) and web's auto
scaling. We snapshot it, then deploy a bad release the way CloudFormation leaves things (new
revisions, the nightly job moved to one too; the old ones deregistered, one of them deleted
outright; web's auto scaling minimum raised), a smoke check fails, and `ecsundo cluster
restore` puts every service, the nightly job and web's auto scaling back, re-registering
what is gone. A second restore changes nothing. Then a broken build
is pushed under the worker's mutable tag and deployed without a new task definition: the
restore pins the worker back to the digest it ran.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import ExitStack
from typing import Any

from simulator import Simulator

CLUSTER = "shop"
NIGHTLY = "nightly-reports"  # an EventBridge rule that runs the reports task at 03:00
GOOD, BAD = "1.4.2", "1.5.0"


def image(family: str, version: str) -> str:
    tag = "stable" if family == "worker" else version  # the worker follows a mutable tag
    return f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{family}:{tag}"


def task_definition(family: str, version: str, **extra: Any) -> dict[str, Any]:
    return {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "ephemeralStorage": {"sizeInGiB": 30},
        "containerDefinitions": [
            {
                "name": family,
                "image": image(family, version),
                "essential": True,
                "environment": [{"name": "DATABASE_PASSWORD", "value": "hunter2-never-printed"}],
                "portMappings": [{"containerPort": 8080}],
            }
        ],
        "tags": [{"key": "team", "value": "checkout"}],
        **extra,
    }


def where_the_rest_is(sim: Simulator) -> tuple[str, str]:
    """What the nightly job runs, and web's auto scaling range."""
    [target] = sim.client("events").list_targets_by_rule(Rule=NIGHTLY)["Targets"]
    [scaling] = sim.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/web"]
    )["ScalableTargets"]
    runs = target["EcsParameters"]["TaskDefinitionArn"].rsplit("/", 1)[-1]
    return runs, f"min {scaling['MinCapacity']}, max {scaling['MaxCapacity']}"


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def ecsundo(*args: str) -> int:
    from ecsundo_action.edges.cli import main

    print(f"$ ecsundo {' '.join(args)}", flush=True)
    code = main(list(args))
    sys.stdout.flush()
    print(f"(exit {code})", flush=True)
    return code


def smoke_check(sim: Simulator, bad_digests: set[str]) -> list[str]:
    """The app's health check, simulated: release BAD, and any build in bad_digests, answer
    500. What runs is read as ECS reports it: the digests of each service's revision."""
    ecs = sim.client("ecs")
    arns = ecs.list_services(cluster=CLUSTER, maxResults=100)["serviceArns"]
    broken = []
    for service in ecs.describe_services(cluster=CLUSTER, services=arns)["services"]:
        revision = ecs.describe_service_revisions(
            serviceRevisionArns=[service["currentServiceRevisions"][-1]["arn"]]
        )["serviceRevisions"][0]
        [running] = revision["containerImages"]
        shown = running["image"].rsplit("/", 1)[-1]
        if running["image"].endswith(f":{BAD}") or running["imageDigest"] in bad_digests:
            broken.append(f"{service['serviceName']} ({shown}) -> HTTP 500")
    return broken


def main() -> int:
    started = time.monotonic()
    with ExitStack() as stack:
        sim = stack.enter_context(Simulator())
        store = f"file://{stack.enter_context(tempfile.TemporaryDirectory())}/snapshots"
        os.environ.update(sim.env)
        sim.rules.deploy_seconds = 1.0
        ecs = sim.client("ecs")

        say("A cluster with four services (an AWS stand-in on " + sim.endpoint_url + ")")
        sim.create_cluster(CLUSTER)
        families = ["web", "api", "checkout", "worker"]
        for family in families:
            arn = sim.register(task_definition(family, GOOD))
            sim.create_service(CLUSTER, family, arn, desired_count=2, launch_type="FARGATE")
            print(f"  {family:<9} runs {arn.rsplit('/', 1)[-1]}  ({family}:{GOOD})")
        reports = sim.register(task_definition("reports", GOOD))
        sim.put_rule_target(NIGHTLY, CLUSTER, reports, TaskCount=1, LaunchType="FARGATE")
        sim.register_scalable_target(CLUSTER, "web", 2, 6)
        sim.put_scaling_policy(CLUSTER, "web", "cpu-60", 60.0)
        runs, scale = where_the_rest_is(sim)
        print(f"  {NIGHTLY} (a scheduled task) runs {runs}; web scales within {scale}")

        say("Before the deploy: snapshot")
        ecsundo("cluster", "snapshot", CLUSTER, "--store", store)

        say(f"Deploy {BAD}, the way CloudFormation leaves it")
        for family in families[:3]:
            old = ecs.describe_services(cluster=CLUSTER, services=[family])["services"][0]
            new = sim.register(task_definition(family, BAD))
            ecs.update_service(cluster=CLUSTER, service=family, taskDefinition=new)
            ecs.deregister_task_definition(taskDefinition=old["taskDefinition"])
            was = old["taskDefinition"].rsplit("/", 1)[-1]
            print(f"  {family:<9} -> {new.rsplit('/', 1)[-1]}; {was} deregistered")
        ecs.delete_task_definitions(taskDefinitions=["api:1"])
        print("  api:1 deleted outright (DeleteTaskDefinitions)")
        reports_bad = sim.register(task_definition("reports", BAD))
        sim.put_rule_target(NIGHTLY, CLUSTER, reports_bad, TaskCount=1, LaunchType="FARGATE")
        ecs.deregister_task_definition(taskDefinition="reports:1")
        sim.register_scalable_target(CLUSTER, "web", 4, 10)
        runs, scale = where_the_rest_is(sim)
        print(f"  {NIGHTLY} -> {runs}; reports:1 deregistered; web's auto scaling -> {scale}")

        say("Smoke tests")
        broken = smoke_check(sim, set())
        for line in broken:
            print(f"  FAIL {line}")
        if not broken:
            print("  (unexpectedly green)")
            return 1

        say("Smoke tests failed: what would a restore do? (dry run)")
        ecsundo("cluster", "restore", CLUSTER, "--store", store, "--dry-run")

        say("Restore the snapshot")
        code = ecsundo("cluster", "restore", CLUSTER, "--store", store, "--poll-interval", "0.5")

        say("Smoke tests again")
        broken = smoke_check(sim, set())
        print("  all green" if not broken else "\n".join(f"  FAIL {b}" for b in broken))
        runs, scale = where_the_rest_is(sim)
        print(f"  {NIGHTLY} runs {runs} (reports:1 registered again); web scales within {scale}")
        body = ecs.describe_task_definition(taskDefinition=runs)["taskDefinition"]
        if not body["containerDefinitions"][0]["image"].endswith(GOOD) or scale != "min 2, max 6":
            broken.append("the nightly job or web's auto scaling was not put back")

        say("Restore again: nothing left to do, no new revisions")
        again = ecsundo("cluster", "restore", CLUSTER, "--store", store)

        say("A broken build is pushed as worker:stable and deployed with forceNewDeployment")
        bad = sim.push(image("worker", GOOD))
        ecs.update_service(cluster=CLUSTER, service="worker", forceNewDeployment=True)
        print(f"  worker's task definition did not change; :stable now means {bad[7:19]}")
        for line in smoke_check(sim, {bad}):
            print(f"  FAIL {line}")

        say("Restore: the tag moved, so the worker is pinned to the digest it ran")
        pinned = ecsundo("cluster", "restore", CLUSTER, "--store", store, "--poll-interval", "0.5")
        broken += smoke_check(sim, {bad})
        print("  all green" if not broken else "\n".join(f"  FAIL {b}" for b in broken))

    print(f"\ndemo finished in {time.monotonic() - started:.1f}s")
    return 0 if code == again == pinned == 0 and not broken else 1


if __name__ == "__main__":
    sys.exit(main())
