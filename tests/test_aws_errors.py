"""ECS refusing a call (AccessDenied, InvalidParameterException, ClientException) or a
service deleted while waiting: one line that says what was being done and what AWS said,
on that service's row only; the other services are still restored. The errors are injected
in the simulator (Rules.refusals), answered as ECS answers them, over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto.ec2.models import ec2_backends
from moto.ecs.models import ecs_backends

from ecsundo_action.aws.gateway import EcsGateway, retries
from ecsundo_action.result import Status, Verdict
from simulator.rules import rules_lock
from tests.conftest import body, ecsundo, run
from tests.runner import defaults, run_step

SERVICES = ("web", "api", "worker")


def on(sim: Any, name: str) -> str:
    described = sim.client("ecs").describe_services(cluster="shop", services=[name])
    return described["services"][0]["taskDefinition"].rsplit("/", 1)[-1]


@pytest.fixture
def deployed(sim: Any, gateway: EcsGateway, tmp_path: Path) -> tuple[Any, str]:
    """web, api and worker snapshotted on :1, then all on :2, web:1 deregistered (web's
    restore registers a copy; the others are plain updates)."""
    sim.create_cluster("shop")
    for name in SERVICES:
        sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=1)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs = sim.client("ecs")
    for name in SERVICES:
        ecs.update_service(
            cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
        )
    ecs.deregister_task_definition(taskDefinition="web:1")
    return sim, store


@pytest.mark.parametrize(
    ("operation", "service", "code", "said"),
    [
        (
            "UpdateService",
            "api",
            "AccessDeniedException",
            "update service api: AccessDeniedException: User: arn:aws:sts::123456789012:"
            "assumed-role/deploy/ci is not authorized to perform: ecs:UpdateService",
        ),
        (
            "RegisterTaskDefinition",
            "web",
            "InvalidParameterException",
            "InvalidParameterException: Invalid parameter for RegisterTaskDefinition: web.",
        ),
        (
            "UpdateService",
            "worker",
            "ClientException",
            "ClientException: UpdateService failed for worker: the request was refused.",
        ),
    ],
)
def test_a_refused_call_fails_that_service_only_in_one_line(
    deployed: tuple[Any, str],
    gateway: EcsGateway,
    operation: str,
    service: str,
    code: str,
    said: str,
) -> None:
    sim, store = deployed
    sim.rules.refusals[(operation, service)] = code
    result = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    rows = {s.name: s for s in result.services}
    assert result.verdict == Verdict.PARTIAL
    assert rows[service].status == Status.FAILED and said in rows[service].message, rows[service]
    assert "\n" not in rows[service].message
    assert on(sim, service) == f"{service}:2"  # nothing changed for it
    for other in set(SERVICES) - {service}:
        assert rows[other].status == Status.SUCCESS, rows[other]
        assert on(sim, other) in (f"{other}:1", f"{other}:3")  # restored (web: a copy)


def test_through_the_action_a_refusal_is_one_annotation_and_exit_1(
    deployed: tuple[Any, str], workspace: Path
) -> None:
    sim, store = deployed
    sim.rules.refusals[("UpdateService", "api")] = "AccessDeniedException"
    restored = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", store=store, snapshot_id="latest"),
        sim.env,
        workspace,
    )
    assert restored.returncode == 1 and restored.outputs["result"] == "partial"
    [api_error, verdict] = restored.errors
    assert api_error.startswith("api: update service api: AccessDeniedException: User: ")
    assert verdict.startswith(
        "restore of cluster shop: partial: 1 failed, 2 success; api: update service api: "
        "AccessDeniedException: User: "
    ), verdict
    rows = {s["name"]: s["status"] for s in json.loads(restored.outputs["services"])}
    assert rows == {"web": "success", "api": "failed", "worker": "success"}
    assert sorted(json.loads(restored.outputs["changed-services"])) == ["web", "worker"]


@pytest.mark.parametrize(
    ("operation", "said"),
    [
        ("DescribeServices", "AccessDeniedException: User: "),
        ("ListServices", "AccessDeniedException: User: "),
    ],
)
def test_a_refused_read_stops_the_run_before_any_change(
    deployed: tuple[Any, str], tmp_path: Path, operation: str, said: str
) -> None:
    sim, store = deployed
    sim.rules.refusals[(operation, "*")] = "AccessDeniedException"
    sim.calls.clear()
    proc = ecsundo(sim, "cluster", "restore", "shop", "--store", store, "--snapshot-id", "latest")
    assert proc.returncode == 1, proc.stdout
    assert proc.stderr.count("\n") == 1 and said in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and sim.mutating_calls() == []


def test_a_service_deleted_while_waiting_fails_its_row_and_the_others_settle(
    deployed: tuple[Any, str], gateway: EcsGateway
) -> None:
    sim, store = deployed
    sim.rules.deploy_seconds = 0.5
    updated: set[str] = set()

    def delete_api_once_updated(call: Any) -> None:  # someone deletes api mid-rollout
        if call.operation == "UpdateService":
            updated.add(call.params["service"].rsplit("/", 1)[-1])
        elif call.operation == "DescribeServices" and "api" in updated:
            with rules_lock():
                backend = ecs_backends[sim.account_id][sim.region]
                if backend.services["shop:api"].status == "ACTIVE":
                    backend.delete_service("shop", "api", force=True)

    sim.rules.before_request = delete_api_once_updated
    result = run(gateway, "restore", "shop", store=store, snapshot_id="latest")
    rows = {s.name: s for s in result.services}
    assert rows["api"].status == Status.FAILED
    assert rows["api"].message.endswith("service was deleted while waiting"), rows["api"]
    assert rows["web"].status == rows["worker"].status == Status.SUCCESS
    assert result.verdict == Verdict.PARTIAL


def test_the_users_retry_settings_win() -> None:
    assert retries({}, {}) == {"mode": "standard", "total_max_attempts": 10}
    assert retries({"AWS_RETRY_MODE": "adaptive"}, {}) == {"total_max_attempts": 10}
    assert retries({"AWS_MAX_ATTEMPTS": "3"}, {}) == {"mode": "standard"}
    assert retries({}, {"retry_mode": "legacy", "max_attempts": "2"}) == {}


# -- settings that name a resource deleted since: the task definition still goes back ------


@dataclass
class Network:
    """A VPC's subnet and two security groups, made in EC2: the old one is deleted later."""

    subnet: str
    old: str
    new: str

    def of(self, group: str) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [group]}}

    def left(self) -> str:
        """How a row says that the old group's deletion kept web's network as it is."""
        return (
            "networkConfiguration left as it is, the task definition put back without it: a "
            "resource it names is gone (update service web: InvalidParameterException: Error "
            f"retrieving security group information for [{self.old}]: The security group "
            f"'{self.old}' does not exist (ErrorCode: InvalidGroup.NotFound))"
        )


@pytest.fixture
def group_deleted(sim: Any, tmp_path: Path) -> tuple[Any, str, Network]:
    """web and api on :1 with the old security group are snapshotted; the bad deploy puts out
    web:2 with a new group and api:2, and the old group is deleted since (in EC2)."""
    # ecsundo never calls EC2 (the stand-in reads only the protocols it calls): the network
    # is made, and its group deleted, in moto's EC2 itself, as another team would.
    ec2 = ec2_backends[sim.account_id][sim.region]
    with rules_lock():
        vpc = ec2.create_vpc("10.0.0.0/16").id
        subnet = ec2.create_subnet(vpc, "10.0.1.0/24").id
        old, new = (ec2.create_security_group(name, name, vpc).id for name in ("old", "new"))
    net = Network(subnet, old, new)
    sim.create_cluster("shop")
    for name in ("web", "api"):
        sim.create_service(
            "shop",
            name,
            sim.register(body(name, "1")),
            desired_count=1,
            launchType="FARGATE",
            networkConfiguration=net.of(old),
        )
    store = f"file://{tmp_path}"
    assert ecsundo(sim, "cluster", "snapshot", "shop", "--store", store).returncode == 0
    ecs = sim.client("ecs")
    web = sim.register(body("web", "2"))
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=web, networkConfiguration=net.of(new)
    )
    ecs.update_service(cluster="shop", service="api", taskDefinition=sim.register(body("api", "2")))
    with rules_lock():
        ec2.delete_security_group(group_id=old)
    return sim, store, net


def groups_of(sim: Any, name: str) -> list[str]:
    described = sim.client("ecs").describe_services(cluster="shop", services=[name])["services"]
    groups: list[str] = described[0]["networkConfiguration"]["awsvpcConfiguration"][
        "securityGroups"
    ]
    return groups


def test_a_deleted_security_group_leaves_the_setting_and_puts_back_the_task_definition(
    group_deleted: tuple[Any, str, Network], gateway: EcsGateway
) -> None:
    """ECS refuses the whole UpdateService when a setting names a deleted security group:
    the same run tries again with the task definition only. The row is partial and says
    which setting stayed and why; the dry run told the groups whole."""
    sim, store, net = group_deleted
    planned = run(gateway, "restore", "shop", store=store, dry_run=True)
    [web_plan] = [s for s in planned.services if s.name == "web"]
    groups = "networkConfiguration.awsvpcConfiguration.securityGroups[0]"
    assert f'{groups}: "{net.new}" -> "{net.old}"' in web_plan.message

    result = run(gateway, "restore", "shop", store=store)

    rows = {s.name: s for s in result.services}
    web = rows["web"]
    assert (web.status, on(sim, "web"), groups_of(sim, "web")) == (
        Status.PARTIAL,
        "web:1",
        [net.new],
    )
    assert net.left() in web.message and web.changed
    assert web.what == "updated to web:1"  # not "and its settings": they were not put back
    assert (rows["api"].status, on(sim, "api")) == (Status.SUCCESS, "api:1")
    assert result.verdict == Verdict.PARTIAL and result.exit_status == 1
    web_updates = [
        c.params
        for c in sim.calls
        if c.operation == "UpdateService" and c.params["service"].endswith("web")
    ]
    assert [("networkConfiguration" in p, p.get("taskDefinition")) for p in web_updates[-2:]] == [
        (True, on_arn(sim, "web:1")),
        (False, on_arn(sim, "web:1")),
    ]


def on_arn(sim: Any, ref: str) -> str:
    return f"arn:aws:ecs:{sim.region}:{sim.account_id}:task-definition/{ref}"


def test_settings_alone_that_name_a_deleted_resource_fail_with_nothing_else_to_do(
    group_deleted: tuple[Any, str, Network], gateway: EcsGateway
) -> None:
    """The task definition is already right: the settings were all there was to put back."""
    sim, store, net = group_deleted
    sim.client("ecs").update_service(cluster="shop", service="web", taskDefinition="web:1")

    result = run(gateway, "restore", "shop", store=store, services=["web"])

    [web] = result.services
    assert web.status == Status.FAILED and "InvalidGroup.NotFound" in web.message
    assert groups_of(sim, "web") == [net.new] and not web.changed


def test_a_refusal_for_another_reason_is_not_retried(
    group_deleted: tuple[Any, str, Network], gateway: EcsGateway
) -> None:
    sim, store, _ = group_deleted
    sim.rules.refusals[("UpdateService", "web")] = "InvalidParameterException"
    sim.calls.clear()

    result = run(gateway, "restore", "shop", store=store, services=["web"])

    [web] = result.services
    assert web.status == Status.FAILED and on(sim, "web") == "web:2"
    assert len([c for c in sim.calls if c.operation == "UpdateService"]) == 1


def test_a_deleted_target_group_or_namespace_is_left_and_the_rest_put_back(
    sim: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    """The same for the resources moto's ECS cannot look up, deleted per Rules.deleted: a
    target group (ECS names it) and a Service Connect namespace (its own error code)."""
    group = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123abcd"
    balancers = [{"targetGroupArn": group, "containerName": "web", "containerPort": 80}]
    connect = {"enabled": True, "namespace": "shop.local"}
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", "1")), loadBalancers=balancers)
    sim.create_service("shop", "api", sim.register(body("api", "1")))
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="api", serviceConnectConfiguration=connect)
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    ecs.update_service(
        cluster="shop",
        service="web",
        taskDefinition=sim.register(body("web", "2")),
        loadBalancers=[{**balancers[0], "targetGroupArn": group.replace("blue", "green")}],
    )
    ecs.update_service(
        cluster="shop",
        service="api",
        taskDefinition=sim.register(body("api", "2")),
        serviceConnectConfiguration={"enabled": False},
    )
    sim.rules.deleted.update({group, "shop.local"})

    result = run(gateway, "restore", "shop", store=store)

    rows = {s.name: s for s in result.services}
    assert {name: (row.status, on(sim, name)) for name, row in rows.items()} == {
        "api": (Status.PARTIAL, "api:1"),
        "web": (Status.PARTIAL, "web:1"),
    }
    assert "loadBalancers left as it is" in rows["web"].message and group in rows["web"].message
    assert "serviceConnectConfiguration left as it is" in rows["api"].message
    assert "NamespaceNotFoundException" in rows["api"].message


def test_a_deleted_security_group_through_the_cli_and_the_action(
    group_deleted: tuple[Any, str, Network], workspace: Path
) -> None:
    sim, store, net = group_deleted
    cli = ecsundo(sim, "cluster", "restore", "shop", "--store", store, "--json")
    assert cli.returncode == 1, cli.stderr
    out = json.loads(cli.stdout)
    rows = {s["name"]: s for s in out["services"]}
    assert out["result"] == "partial" and rows["web"]["status"] == "partial"
    assert net.left() in rows["web"]["message"] and "web" in out["changed-services"]
    assert rows["web"]["to"].endswith("task-definition/web:1")

    # The bad deploy again, then the action's restore.
    sim.client("ecs").update_service(cluster="shop", service="web", taskDefinition="web:2")
    inputs = defaults(mode="restore", cluster="shop", store=store, **{"snapshot-id": "latest"})
    step = run_step("entrypoint.py", inputs, sim.env, workspace)
    assert step.returncode == 1
    assert step.outputs["result"] == "partial"
    [web] = [s for s in json.loads(step.outputs["services"]) if s["name"] == "web"]
    assert web["status"] == "partial" and on(sim, "web") == "web:1"
    assert any("networkConfiguration left as it is" in e for e in step.errors)
    assert "networkConfiguration left as it is" in step.summary
