"""The scenario many tests start from: a snapshotted cluster, then a bad deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecsundo_action.gateway import EcsGateway
from ecsundo_action.snapshot import snapshot
from ecsundo_action.stores import FileStore


def family(i: int) -> str:
    return f"svc{i:03d}"


def snapshotted_then_bad_deploy(
    sim: Any, n: int, folder: Path, *, cluster: str = "prod", deregister_every: int = 2
) -> FileStore:
    """n services on revision 1 of their own family (image svcNNN:good), snapshotted into a
    file store under folder; then each moved to a bad revision (svcNNN:bad), and every
    deregister_every-th snapshot revision deregistered (1: all of them)."""
    ecs = sim.client("ecs")
    sim.create_cluster(cluster)
    for i in range(n):
        body = {
            "family": family(i),
            "containerDefinitions": [{"name": "app", "image": f"{family(i)}:good", "memory": 64}],
        }
        sim.create_service(cluster, family(i), sim.register(body), desired_count=1)
    store = FileStore(folder)
    with EcsGateway(ecs, quotas=None) as gateway:
        snapshot(gateway, store, cluster)
    for i in range(n):
        bad = sim.register(
            {
                "family": family(i),
                "containerDefinitions": [
                    {"name": "app", "image": f"{family(i)}:bad", "memory": 64}
                ],
            }
        )
        ecs.update_service(cluster=cluster, service=family(i), taskDefinition=bad)
        if i % deregister_every == 0:
            ecs.deregister_task_definition(taskDefinition=f"{family(i)}:1")
    return store
