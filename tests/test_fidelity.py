"""Restore what ran, not just which task definition: image digests behind mutable tags,
service settings, deployment controllers, snapshots taken mid-rollout, DRAINING services.
Against the simulator's model of ECS's service revisions (software version consistency)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.result import Outcome, Status, Verdict
from ecsundo_action.snapshots import document as doc
from tests.conftest import body, ecsundo, run
from tests.runner import defaults, measured, run_step

ECSUNDO = str(Path(sys.executable).parent / "ecsundo")
IMAGE = "acme/web:latest"


def running_digest(sim: Any, service: str, cluster: str = "shop") -> str:
    """The digest the service's newest revision runs, as ECS reports it."""
    ecs = sim.client("ecs")
    described = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    arn = described["currentServiceRevisions"][-1]["arn"]
    revision = ecs.describe_service_revisions(serviceRevisionArns=[arn])["serviceRevisions"][0]
    return revision["containerImages"][0]["imageDigest"]


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", image=IMAGE)))
    sim.create_service("shop", "api", sim.register(body("api", "1")))
    return sim


def restore(gateway: EcsGateway, store: str, **fields: Any) -> Outcome:
    return run(gateway, "restore", "shop", store=store, snapshot_id="latest", **fields)


def test_a_bad_build_under_the_same_tag_and_task_definition_is_undone(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    """Story 1: a bad build pushed as :latest and deployed with forceNewDeployment."""
    store = f"file://{tmp_path}"
    good = shop.digest(IMAGE)
    taken = run(gateway, "snapshot", "shop", store=store)
    assert taken.snapshot is not None
    [web] = [s for s in taken.snapshot.services if s.name == "web"]
    assert web.images and web.images[0].digest == good
    bad = shop.push(IMAGE)
    shop.client("ecs").update_service(cluster="shop", service="web", forceNewDeployment=True)
    assert running_digest(shop, "web") == bad

    # Without pinning, the task definition is the same: nothing to do, the bad build runs on.
    never = restore(gateway, store, pin_images="never", dry_run=True)
    assert {s.name: s.status for s in never.services}["web"] == Status.UNCHANGED

    result = restore(gateway, store)
    row = next(s for s in result.services if s.name == "web")
    assert result.verdict == Verdict.SUCCESS and row.status == Status.SUCCESS, row
    short = {build: build.removeprefix("sha256:")[:12] for build in (good, bad)}
    assert row.what.endswith(
        f"pinned to the build the snapshot saw: web:latest {short[good]} "
        f"(its tag now points at {short[bad]})"
    ), row.what
    assert row.message == "rollout completed"
    assert running_digest(shop, "web") == good
    pinned = shop.client("ecs").describe_task_definition(taskDefinition=row.to)["taskDefinition"]
    assert pinned["containerDefinitions"][0]["image"] == f"acme/web@{good}"
    # A second restore finds the pinned copy: nothing changes, nothing is registered.
    shop.calls.clear()
    again = restore(gateway, store)
    assert again.verdict == Verdict.UNCHANGED and shop.mutating_calls() == []


def test_a_bad_build_under_the_same_tag_in_a_new_revision_is_undone(
    shop: Any, workspace: Path
) -> None:
    """Story 2, through the action: a new revision naming the same tag, after a push. A
    plain restore of the old task definition would resolve :latest to the bad build again."""
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    assert snap.returncode == 0, snap.stdout
    good = shop.digest(IMAGE)
    shop.push(IMAGE)
    shop.client("ecs").update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2", image=IMAGE))
    )
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id=snap.outputs["snapshot-id"]),
        shop.env,
        workspace,
    )
    assert restored.returncode == 0, restored.stdout
    [web] = [s for s in json.loads(restored.outputs["services"]) if s["name"] == "web"]
    assert web["action"] == "re-register" and "pinned to the build the snapshot saw" in web["what"]
    assert running_digest(shop, "web") == good


def test_pin_images_always_pins_even_an_unmoved_tag_and_never_keeps_tags(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    plan = restore(gateway, store, pin_images="always", dry_run=True).plan
    assert plan is not None
    web = next(s for s in plan.steps if s.service == "web")
    assert web.action == "re-register" and "pinning to" in web.reason
    api = next(s for s in plan.steps if s.service == "api")
    assert api.action == "re-register"  # shop/api:1 has a digest too: pinned


def test_service_settings_a_deploy_changed_are_put_back_with_scope_service(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    registry = [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}]
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop",
        service="api",
        taskDefinition=shop.register(body("api", "2")),
        serviceRegistries=registry,
    )
    only_definition = restore(gateway, store, scope="task-definition", dry_run=True).plan
    assert only_definition is not None
    api_step = next(s for s in only_definition.steps if s.service == "api")
    assert api_step.settings == {}

    result = restore(gateway, store)
    row = next(s for s in result.services if s.name == "api")
    assert row.status == Status.SUCCESS and row.what.endswith("its settings (serviceRegistries)")
    described = ecs.describe_services(cluster="shop", services=["api"])["services"][0]
    assert not described.get("serviceRegistries")
    assert described["taskDefinition"].endswith(":1")
    # Settings alone (the task definition already right) are put back too.
    ecs.update_service(cluster="shop", service="api", serviceRegistries=registry)
    settings_only = restore(gateway, store)
    row = next(s for s in settings_only.services if s.name == "api")
    assert (row.action, row.status) == ("update", Status.SUCCESS)
    assert not ecs.describe_services(cluster="shop", services=["api"])["services"][0].get(
        "serviceRegistries"
    )


def test_a_mixed_cluster_snapshots_and_restores_and_names_what_it_cannot_do(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    ecs = shop.client("ecs")
    ecs.create_service(
        cluster="shop",
        serviceName="blue",
        taskDefinition=shop.register(body("blue", "1")),
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )
    ecs.create_service(
        cluster="shop",
        serviceName="sets",
        desiredCount=1,
        deploymentController={"type": "EXTERNAL"},
    )
    taken = run(gateway, "snapshot", "shop", store=store)
    assert taken.snapshot is not None and taken.verdict == Verdict.SUCCESS
    by_name = {s.name: s for s in taken.snapshot.services}
    assert by_name["blue"].controller == "CODE_DEPLOY"
    assert by_name["sets"].controller == "EXTERNAL" and by_name["sets"].task_definition is None
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    shop.calls.clear()

    result = restore(gateway, store)
    rows = {s.name: s for s in result.services}
    assert result.verdict == Verdict.SUCCESS, result.to_dict()
    assert rows["blue"].status == Status.SKIPPED and "CodeDeploy" in rows["blue"].message
    assert rows["sets"].status == Status.SKIPPED and "task set" in rows["sets"].message
    assert rows["api"].status == Status.SUCCESS
    updated = {c.params["service"].rsplit("/", 1)[-1] for c in shop.mutating_calls()}
    assert updated == {"api"}  # nothing sent to the CodeDeploy or EXTERNAL service

    named = restore(gateway, store, services=["blue", "api"])
    assert named.verdict == Verdict.PARTIAL
    assert {s.name: s.status for s in named.services}["blue"] == Status.FAILED
    rolled = run(gateway, "rollback", "shop", since_minutes=0, dry_run=True)
    assert rolled.verdict == Verdict.DRY_RUN  # the EXTERNAL service no longer breaks it


def test_a_snapshot_taken_mid_rollout_records_what_was_serving(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    ecs = shop.client("ecs")
    shop.rules.deploy_seconds = 60
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    taken = run(gateway, "snapshot", "shop", store=f"file://{tmp_path}")
    assert taken.snapshot is not None
    api = next(s for s in taken.snapshot.services if s.name == "api")
    assert api.task_definition is not None and api.task_definition.endswith("api:1")
    assert api.recorded_from and "mid-rollout to api:2" in api.recorded_from
    assert any("api was mid-rollout to api:2" in w for w in taken.warnings)


def test_a_draining_service_is_reported_as_being_deleted_and_never_updated(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    shop.rules.drain_seconds = 60
    ecs.delete_service(cluster="shop", service="api", force=True)
    shop.calls.clear()
    result = restore(gateway, store)
    api = next(s for s in result.services if s.name == "api")
    assert api.status == Status.MISSING and "being deleted (DRAINING)" in api.message
    assert [c for c in shop.mutating_calls() if "api" in str(c.params)] == []


def test_a_version_1_document_still_restores(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    taken = run(gateway, "snapshot", "shop", store=f"file://{tmp_path}")
    assert taken.snapshot_uri is not None and taken.snapshot is not None
    path = Path(taken.snapshot_uri.removeprefix("file://"))
    old = json.loads(path.read_text())
    old["schemaVersion"] = 1
    for service in old["services"]:
        for field in ("deploymentController", "images", "settings", "serviceRevision"):
            service.pop("autoScaling", None)  # version 3 only
            service.pop(field, None)
        service.pop("rolloutState", None)
    old.pop("scheduledTasks", None)  # version 3 only
    old.pop("checksum")
    path.write_bytes(doc.dumps(doc.seal(old)))
    shop.client("ecs").update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    result = restore(gateway, f"file://{tmp_path}")
    assert result.verdict == Verdict.SUCCESS, result.to_dict()
    assert {s.name: s.action for s in result.services}["api"] == "update"


def test_both_mutable_tag_stories_through_the_cli(shop: Any, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ECSUNDO, *args, "--store", f"file://{tmp_path}"],
            env={**shop.env, "PATH": "/usr/bin:/bin", **measured()},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("cluster", "snapshot", "shop").returncode == 0
    good = shop.digest(IMAGE)
    shop.push(IMAGE)
    shop.client("ecs").update_service(cluster="shop", service="web", forceNewDeployment=True)
    restored = cli("cluster", "restore", "shop", "--poll-interval", "0.1", "--json")
    assert restored.returncode == 0, restored.stderr
    assert running_digest(shop, "web") == good
    shop.push(IMAGE)
    shop.client("ecs").update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3", image=IMAGE))
    )
    again = cli("cluster", "restore", "shop", "--poll-interval", "0.1", "--json")
    assert again.returncode == 0, again.stderr
    [web] = [s for s in json.loads(again.stdout)["services"] if s["name"] == "web"]
    assert web["action"] == "update" and web["what"].endswith(", its re-registration of web:1")
    assert running_digest(shop, "web") == good


# -- rollback without a snapshot: the same fidelity from ECS's service revisions ------------


def test_history_rollback_goes_back_to_the_previous_revision_digests_and_settings(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    good = shop.digest(IMAGE)
    registry = [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-9"}]
    shop.push(IMAGE)  # the bad build, under the same tag, in a new revision with a registry
    ecs.update_service(
        cluster="shop",
        service="web",
        taskDefinition=shop.register(body("web", "2", image=IMAGE)),
        serviceRegistries=registry,
    )
    shop.calls.clear()
    result = run(gateway, "rollback", "shop", services=["web"])
    [web] = result.services
    assert web.status == Status.SUCCESS, web
    assert "previous per deployment history" in web.message
    assert "pinned to the build" in web.what and web.what.endswith("(serviceRegistries)")
    operations = {c.operation for c in shop.calls}
    assert {"ListServiceDeployments", "DescribeServiceDeployments"} <= operations
    assert running_digest(shop, "web") == good
    described = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    assert not described.get("serviceRegistries")


def test_history_rollback_of_a_plain_deploy_needs_no_registration(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    first = ecs.describe_services(cluster="shop", services=["api"])["services"][0]["taskDefinition"]
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    shop.calls.clear()
    result = run(gateway, "rollback", "shop", services=["api"])
    [api] = result.services
    assert (api.action, api.to, api.status) == ("update", first, Status.SUCCESS)
    assert not [c for c in shop.calls if c.operation == "RegisterTaskDefinition"]


def test_without_ecs_history_a_snapshot_says_what_it_could_not_record(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    shop.rules.history = False
    taken = run(gateway, "snapshot", "shop", store=f"file://{tmp_path}")
    assert taken.snapshot is not None and taken.verdict == Verdict.SUCCESS
    assert all(s.images is None and s.settings is None for s in taken.snapshot.services)
    assert any("image digests and service settings are not recorded" in w for w in taken.warnings)


def test_guard_of_a_mixed_cluster_through_the_action(shop: Any, workspace: Path) -> None:
    ecs = shop.client("ecs")
    ecs.create_service(
        cluster="shop",
        serviceName="sets",
        desiredCount=1,
        deploymentController={"type": "EXTERNAL"},
    )
    guard = run_step("entrypoint.py", defaults(mode="guard", cluster="shop"), shop.env, workspace)
    assert guard.returncode == 0, guard.stdout + guard.stderr
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    post = run_step(
        "post.py", defaults(mode="guard", cluster="shop"), shop.env, workspace, state=guard.state
    )
    assert post.returncode == 0, post.stdout
    rows = {s["name"]: s for s in json.loads(post.outputs["services"])}
    assert rows["sets"]["status"] == "skipped" and rows["api"]["status"] == "success"
    assert json.loads(post.outputs["changed-services"]) == ["api"]


def test_a_tag_that_moved_out_of_sight_fails_the_restore_instead_of_a_false_success(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    """The deploy used another tag, so nothing running shows that :latest moved meanwhile;
    going back to web:1 resolves :latest again. auto cannot see it coming: the check after
    the rollout does, and always pins up front."""
    store = f"file://{tmp_path}"
    good = shop.digest(IMAGE)
    run(gateway, "snapshot", "shop", store=store)
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop",
        service="web",
        taskDefinition=shop.register(body("web", "2", image="acme/web:v2")),
    )
    shop.push(IMAGE)
    result = restore(gateway, store, services=["web"])
    [web] = result.services
    assert web.status == Status.FAILED and web.changed
    assert "runs another build than the snapshot saw" in web.message
    assert "pin-images: always" in web.message
    fixed = restore(gateway, store, services=["web"], pin_images="always")
    assert fixed.verdict == Verdict.SUCCESS, fixed.to_dict()
    assert running_digest(shop, "web") == good


def test_rollback_of_a_rebuilt_tag_goes_back_to_the_build_before(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2", image=IMAGE))
    )
    good = shop.digest(IMAGE)
    shop.push(IMAGE)
    ecs.update_service(cluster="shop", service="web", forceNewDeployment=True)
    result = run(gateway, "rollback", "shop", services=["web"])
    [web] = result.services
    assert web.status == Status.SUCCESS, web
    assert web.what.startswith("re-registered web:2 as web:3, pinned to the build")
    assert running_digest(shop, "web") == good


def test_a_capacity_provider_change_is_put_back_with_a_forced_deployment(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    sim.create_cluster("shop")
    spot = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    sim.create_service(
        "shop", "api", sim.register(body("api", "1")), capacity_provider_strategy=spot
    )
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = sim.client("ecs")
    ecs.update_service(
        cluster="shop",
        service="api",
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        forceNewDeployment=True,
    )
    sim.calls.clear()
    result = restore(gateway, store)
    assert result.verdict == Verdict.SUCCESS, result.to_dict()
    [update] = [c.params for c in sim.calls if c.operation == "UpdateService"]
    assert update["capacityProviderStrategy"] == spot and update["forceNewDeployment"] is True
    described = ecs.describe_services(cluster="shop", services=["api"])["services"][0]
    assert described["capacityProviderStrategy"] == spot


# -- ECS's own machinery: stopping a deployment still in flight ------------------------------


def test_guard_post_step_stops_the_in_flight_deploy_and_restores_the_finished_one(
    shop: Any, workspace: Path
) -> None:
    ecs = shop.client("ecs")
    first = {
        name: ecs.describe_services(cluster="shop", services=[name])["services"][0][
            "taskDefinition"
        ]
        for name in ("web", "api")
    }
    guard = run_step("entrypoint.py", defaults(mode="guard", cluster="shop"), shop.env, workspace)
    assert guard.returncode == 0, guard.stdout
    # The deploy: api finished (its old revision deregistered), web still rolling out.
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    shop.rules.deploy_seconds = 600
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2", image=IMAGE))
    )
    ecs.deregister_task_definition(taskDefinition=first["api"])
    shop.rules.deploy_seconds = 0.2  # how long ECS's own rollback takes
    shop.calls.clear()

    post = run_step(
        "post.py", defaults(mode="guard", cluster="shop"), shop.env, workspace, state=guard.state
    )
    assert post.returncode == 0, post.stdout
    rows = {s["name"]: s for s in json.loads(post.outputs["services"])}
    assert rows["web"]["action"] == "stop" and rows["web"]["status"] == "success"
    assert rows["web"]["what"] == "ECS rolled back the in-flight deployment to web:1"
    assert rows["api"]["action"] == "re-register" and rows["api"]["status"] == "success"
    assert sorted(json.loads(post.outputs["changed-services"])) == ["api", "web"]
    calls = [c for c in shop.mutating_calls()]
    assert [c.operation for c in calls].count("StopServiceDeployment") == 1
    updates = [
        c.params["service"].rsplit("/", 1)[-1] for c in calls if c.operation == "UpdateService"
    ]
    registered = [c.params["family"] for c in calls if c.operation == "RegisterTaskDefinition"]
    assert updates == ["api"] and registered == ["api"]
    now = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    assert now["taskDefinition"] == first["web"]  # ECS went back to it by itself


def test_a_deploy_that_finishes_before_the_stop_lands_falls_back_to_the_normal_path(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = shop.client("ecs")
    shop.rules.deploy_seconds = 600
    ecs.update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    plan = restore(gateway, store, dry_run=True).plan
    assert plan is not None
    [api] = [s for s in plan.steps if s.service == "api"]
    assert (
        api.action == "stop"
        and api.reason == "stop the in-flight deployment; ECS rolls back to api:1"
    )

    def finish_first(call: Any) -> None:  # the deploy completes just before the stop lands
        if call.operation == "StopServiceDeployment":
            shop.finish_deployments()

    shop.rules.deploy_seconds = 0
    shop.rules.before_request = finish_first
    result = restore(gateway, store)
    [row] = [s for s in result.services if s.name == "api"]
    assert row.status == Status.SUCCESS, row
    assert "not stopped (it finished first): updated instead" in row.message
    now = ecs.describe_services(cluster="shop", services=["api"])["services"][0]
    assert now["taskDefinition"].endswith("task-definition/api:1")


def test_rollback_of_a_deploy_in_flight_stops_it_through_the_cli(shop: Any, tmp_path: Path) -> None:
    ecs = shop.client("ecs")
    first = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    shop.rules.deploy_seconds = 600
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2", image=IMAGE))
    )
    shop.rules.deploy_seconds = 0.2
    shop.calls.clear()
    rolled = subprocess.run(
        [ECSUNDO, "service", "-c", "shop", "web", "--poll-interval", "0.1", "--json"],
        env={**shop.env, "PATH": "/usr/bin:/bin", **measured()},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert rolled.returncode == 0, rolled.stderr
    [web] = json.loads(rolled.stdout)["services"]
    assert (web["action"], web["status"]) == ("stop", "success"), web
    assert [c.operation for c in shop.mutating_calls()] == ["StopServiceDeployment"]
    now = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    assert now["taskDefinition"] == first["taskDefinition"]


@pytest.mark.parametrize(
    ("outcome", "alarms", "said"),
    [
        ("circuit-breaker", [], "circuit breaker: 3 failed tasks, threshold 3; rolled back:"),
        ("fail", ["api-5xx", "api-latency"], "alarms went off: api-5xx, api-latency"),
    ],
)
def test_a_failed_rollout_says_why_from_ecs_s_service_deployment(
    shop: Any, workspace: Path, outcome: str, alarms: list[str], said: str
) -> None:
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    shop.client("ecs").update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    shop.rules.deploy_seconds = 0.1
    shop.rules.outcomes["api"] = outcome  # type: ignore[assignment]
    shop.rules.alarms["api"] = alarms
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", snapshot_id=snap.outputs["snapshot-id"]),
        shop.env,
        workspace,
    )
    assert restored.returncode == 1
    [api] = [s for s in json.loads(restored.outputs["services"]) if s["name"] == "api"]
    assert api["status"] == "failed" and said in api["message"], api
    assert any(said in e for e in restored.errors) and said.split(":")[0] in restored.summary


def test_a_history_that_holds_nothing_earlier_falls_back_to_revisions_and_says_so(
    sim: Any, gateway: EcsGateway
) -> None:
    sim.create_cluster("shop")
    before = sim.register(body("web", "1"))
    sim.create_service("shop", "web", sim.register(body("web", "2")))  # older than its history
    result = run(gateway, "rollback", "shop", services=["web"])
    [web] = result.services
    assert web.status == Status.SUCCESS and web.to == before
    assert "ECS's deployment history holds nothing earlier" in web.message


def in_flight(sim: Any, service: str, version: str, **update: Any) -> None:
    """A deploy of service that stays IN_PROGRESS; ECS's rollbacks then take 0.2 s."""
    sim.rules.deploy_seconds = 600
    sim.client("ecs").update_service(
        cluster="shop",
        service=service,
        taskDefinition=sim.register(body(service, version)),
        **update,
    )
    sim.rules.deploy_seconds = 0.2


def test_no_stop_where_ecs_would_not_go_back_exactly_where_wanted(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    # api: a deploy over an unfinished one replaces two revisions; ECS would go back to the
    # last successful one, whatever the plan thinks: the normal path.
    in_flight(shop, "api", "2")
    in_flight(shop, "api", "3")
    # web: the deploy also changed a setting; with scope task-definition, ECS's rollback
    # would put that setting back too: the normal path.
    registry = [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-2"}]
    in_flight(shop, "web", "2", serviceRegistries=registry)
    plan = restore(gateway, store, scope="task-definition", dry_run=True).plan
    assert plan is not None
    assert {s.service: str(s.action) for s in plan.steps} == {"api": "update", "web": "update"}
    with_settings = restore(gateway, store, dry_run=True).plan  # scope: service
    assert with_settings is not None
    assert {s.service: str(s.action) for s in with_settings.steps}["web"] == "stop"


def test_a_refused_stop_falls_back_to_the_normal_path(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    in_flight(shop, "api", "2")
    # A role without ecs:StopServiceDeployment: ECS answers AccessDenied.
    shop.rules.refusals[("StopServiceDeployment", "*")] = "AccessDeniedException"
    result = restore(gateway, store, services=["api"])
    [api] = result.services
    assert api.status == Status.SUCCESS, api
    assert "not stopped (the stop failed: stop the in-flight deployment: Access" in api.message
    now = shop.client("ecs").describe_services(cluster="shop", services=["api"])["services"][0]
    assert now["taskDefinition"].endswith("task-definition/api:1")


def test_pin_images_always_warns_of_a_container_with_no_recorded_digest(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    """Version consistency disabled for a container: ECS records no digest, so `always`
    cannot pin it. The run says so, naming the service and the container."""
    store = f"file://{tmp_path}"
    taken = run(gateway, "snapshot", "shop", store=store)
    assert taken.snapshot_uri is not None
    path = Path(taken.snapshot_uri.removeprefix("file://"))
    document = json.loads(path.read_text())
    for record in document["services"]:
        if record["name"] == "api":
            for image in record["images"]:
                image.pop("imageDigest")
    document["checksum"] = doc.checksum(document)
    path.write_text(json.dumps(document))

    result = restore(gateway, store, pin_images="always", dry_run=True)

    assert (
        "api: api not pinned: the snapshot recorded no digest for it (its tag runs whatever "
        "it points at now)"
    ) in result.warnings
    assert not any(w.startswith("web:") for w in result.warnings)


def test_a_second_bad_build_is_undone_with_the_pinned_copy_already_registered(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    """The original task definition is still ACTIVE, but its tag runs a bad build: the
    pinned copy the first restore registered is reused, not registered yet again."""
    store = f"file://{tmp_path}"
    good = shop.digest(IMAGE)
    run(gateway, "snapshot", "shop", store=store)
    ecs = shop.client("ecs")
    original = ecs.describe_services(cluster="shop", services=["web"])["services"][0][
        "taskDefinition"
    ]
    shop.push(IMAGE)
    ecs.update_service(cluster="shop", service="web", forceNewDeployment=True)
    [first] = [s for s in restore(gateway, store).services if s.name == "web"]
    assert first.action == "re-register" and first.status == Status.SUCCESS, first
    copy = first.to

    # Another bad build, deployed from the original task definition again.
    shop.push(IMAGE)
    ecs.update_service(cluster="shop", service="web", taskDefinition=original)
    shop.calls.clear()
    [second] = [s for s in restore(gateway, store).services if s.name == "web"]

    assert (second.action, second.to, second.status) == ("update", copy, Status.SUCCESS)
    assert "RegisterTaskDefinition" not in [c.operation for c in shop.calls]
    assert running_digest(shop, "web") == good


# -- a pinned build a lifecycle policy deleted: found before any change --------------------

ECR_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/web:latest"


@pytest.fixture
def expired(sim: Any, tmp_path: Path) -> tuple[Any, str, str]:
    """web runs acme/web:latest from ECR and api shop/api:1, snapshotted; the bad deploy
    pushes a new build under the tag (forceNewDeployment) and api:2; then ECR's lifecycle
    policy deletes the good build. Restore would pin web to a digest ECR no longer has."""
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", image=ECR_IMAGE)))
    sim.create_service("shop", "api", sim.register(body("api", "1")))
    store = f"file://{tmp_path}"
    good = sim.digest(ECR_IMAGE)
    assert ecsundo(sim, "cluster", "snapshot", "shop", "--store", store).returncode == 0
    sim.push(ECR_IMAGE)
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="web", forceNewDeployment=True)
    ecs.update_service(cluster="shop", service="api", taskDefinition=sim.register(body("api", "2")))
    sim.expire(f"{ECR_IMAGE.rsplit(':', 1)[0]}@{good}")
    return sim, store, good


def gone_words(good: str) -> str:
    return (
        f"123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/web@{good} no longer exists in ECR "
        "(a lifecycle policy?); left as it is: push that build again, or run with pin-images "
        "never to run what its tag points at now"
    )


def test_a_pinned_digest_ecr_no_longer_has_fails_its_row_before_any_change(
    expired: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, good = expired
    sim.calls.clear()
    planned = restore(gateway, store, dry_run=True)
    assert {s.name: s.status for s in planned.services} == {
        "api": Status.PLANNED,
        "web": Status.FAILED,
    }
    [asked] = [c.params for c in sim.calls if c.operation == "BatchGetImage"]
    assert asked == {
        "registryId": "123456789012",
        "repositoryName": "acme/web",
        "imageIds": [{"imageDigest": good}],
    }
    sim.calls.clear()

    result = restore(gateway, store)

    rows = {s.name: s for s in result.services}
    assert rows["web"].status == Status.FAILED and rows["web"].message == gone_words(good)
    assert not rows["web"].changed and rows["api"].status == Status.SUCCESS
    assert result.verdict == Verdict.PARTIAL
    changed = {c.params.get("family") or c.params.get("service", "") for c in sim.mutating_calls()}
    assert not any("web" in name for name in changed), changed


def test_a_pinned_digest_ecr_still_has_is_restored_after_one_question(
    expired: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    sim, store, good = expired
    sim.push(f"{ECR_IMAGE.rsplit(':', 1)[0]}@{good}")  # pushed again: ECR holds it once more
    sim.calls.clear()

    result = restore(gateway, store)

    assert result.verdict == Verdict.SUCCESS
    assert running_digest(sim, "web") == good
    assert len([c for c in sim.calls if c.operation == "BatchGetImage"]) == 1


def test_an_ecr_that_cannot_be_asked_is_a_warning_and_the_restore_goes_on(
    expired: tuple[Any, str, str], gateway: EcsGateway
) -> None:
    """Without ecr:BatchGetImage the digest cannot be checked: the run says so and does
    what it did before the check existed (ECS then finds the build gone)."""
    sim, store, _ = expired
    sim.rules.refusals[("BatchGetImage", "*")] = "AccessDeniedException"

    result = restore(gateway, store, dry_run=True)

    assert {s.name: s.status for s in result.services}["web"] == Status.PLANNED
    [warning] = [w for w in result.warnings if "ECR" in w]
    assert warning.startswith(
        "1 pinned image could not be checked in ECR (ECR answered AccessDeniedException; "
        "ecr:BatchGetImage): 123456789012.dkr.ecr.us-east-1.amazonaws.com/acme/web@sha256:"
    )


def test_a_deleted_build_through_the_cli_and_the_action(
    expired: tuple[Any, str, str], workspace: Path
) -> None:
    sim, store, good = expired
    cli = ecsundo(sim, "cluster", "restore", "shop", "--store", store, "--json")
    assert cli.returncode == 1, cli.stderr
    rows = {s["name"]: s for s in json.loads(cli.stdout)["services"]}
    assert rows["web"]["status"] == "failed" and rows["web"]["message"] == gone_words(good)
    assert rows["api"]["status"] == "success"

    inputs = defaults(mode="restore", cluster="shop", store=store, **{"snapshot-id": "latest"})
    step = run_step("entrypoint.py", inputs, sim.env, workspace)
    assert step.returncode == 1 and step.outputs["result"] == "partial"  # api is back already
    assert any("no longer exists in ECR" in error for error in step.errors)
    assert "no longer exists in ECR" in step.summary


def test_the_images_before_are_known_when_ecs_revisions_cannot_be_read(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    """A role without ecs:DescribeServiceRevisions: what a changed service ran before comes
    from the task definition it ran (tags, no digests), not "-"."""
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    shop.client("ecs").update_service(
        cluster="shop", service="api", taskDefinition=shop.register(body("api", "2"))
    )
    shop.rules.refusals[("DescribeServiceRevisions", "*")] = "AccessDeniedException"

    for dry_run in (True, False):
        result = restore(gateway, store, dry_run=dry_run)
        api = next(s for s in result.services if s.name == "api")
        assert [(i.image, i.digest) for i in api.before] == [("shop/api:2", None)], api
        assert [i.image for i in api.after] == ["shop/api:1"]
