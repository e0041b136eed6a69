"""Every real task definition in tests/corpus survives snapshot, deregistration and
deletion, and restore unchanged: every registerable field, and its tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.plan import PROVENANCE_TAG
from ecsundo_action.result import Verdict
from tests.conftest import connect, run


def test_corpus_survives_deregistration_and_deletion(
    sim: Any, corpus: list[tuple[str, dict[str, Any]]], tmp_path: Path
) -> None:
    assert len(corpus) == 30
    ecs = sim.client("ecs")
    sim.create_cluster("corpus")
    services: dict[str, str] = {}
    for filename, body in corpus:
        name = filename.removesuffix(".json")
        services[name] = sim.register(body)
        sim.create_service("corpus", name, services[name], desired_count=1)
    before = {
        name: ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        for name, arn in services.items()
    }
    store = f"file://{tmp_path}"
    gateway = connect(sim)
    taken = run(gateway, "snapshot", "corpus", store=store)

    # The bad deploy: every service moved off, every revision deregistered, then deleted.
    placeholder = sim.register(
        {
            "family": "placeholder",
            "containerDefinitions": [{"name": "x", "image": "busybox", "memory": 64}],
        }
    )
    for name, arn in services.items():
        ecs.update_service(cluster="corpus", service=name, taskDefinition=placeholder)
        ecs.deregister_task_definition(taskDefinition=arn)
    arns = list(services.values())
    for start in range(0, len(arns), 10):
        ecs.delete_task_definitions(taskDefinitions=arns[start : start + 10])

    result = run(gateway, "restore", "corpus", store=store, snapshot_id=taken.snapshot_id)

    assert result.verdict == Verdict.SUCCESS, [s.to_dict() for s in result.services]
    fields = set(EcsGateway(ecs).fields)
    by_file = dict(corpus)
    for name, original in before.items():
        running = ecs.describe_services(cluster="corpus", services=[name])["services"][0]
        assert running["taskDefinition"] != services[name]  # a new revision, re-registered
        now = ecs.describe_task_definition(
            taskDefinition=running["taskDefinition"], include=["TAGS"]
        )
        was_body = {k: v for k, v in original["taskDefinition"].items() if k in fields}
        now_body = {k: v for k, v in now["taskDefinition"].items() if k in fields}
        assert now_body == was_body, name
        # Nothing the source file set was lost on the way (not even by both ends at once).
        for key, value in by_file[f"{name}.json"].items():
            if key != "tags":
                assert key in now_body, (name, key)
                if not isinstance(value, list | dict):
                    assert now_body[key] == value, (name, key)
        tags = [t for t in now.get("tags", []) if t["key"] != PROVENANCE_TAG]
        assert tags == original.get("tags", []), name
        assert {"key": PROVENANCE_TAG, "value": services[name]} in now["tags"]
