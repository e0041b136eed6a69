"""Rollback without a snapshot: deployment history (Stubber) and the revisions fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import Service, ServiceDeployment, ServiceRevision
from ecsundo_action.plan import PROVENANCE_TAG
from ecsundo_action.result import Outcome, Status, Verdict
from tests import iam
from tests.conftest import body, run

ACCOUNT, REGION = "123456789012", "us-east-1"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web"


def td(ref: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{ref}"


@pytest.fixture
def no_history(sim: Any) -> Any:
    """An endpoint without ECS's service-deployment history: rollback uses the revisions."""
    sim.rules.history = False
    return sim


def rollback(gateway: EcsGateway, **fields: Any) -> Outcome:
    """Every service of prod unless told otherwise (the 60-minute window is tested apart)."""
    fields.setdefault("since_minutes", 0)
    return run(gateway, "rollback", **fields)


# -- the revisions fallback, on the stand-in (where the history API is unavailable) ----------


def test_fallback_takes_the_newest_lower_revision_with_other_containers(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    ecs = sim.client("ecs")
    sim.create_cluster("prod")
    sim.register(body("web", "1"))
    sim.register(body("web", "2"))  # web:2, the one before
    sim.register(body("web", "3"))  # web:3, identical containers to web:4
    bad = sim.register(body("web", "3"))  # web:4, running
    sim.create_service("prod", "web", bad)
    ecs.deregister_task_definition(taskDefinition=td("web:2"))

    result = rollback(gateway)

    web = result.services[0]
    assert web.action == "re-register"  # web:2 is INACTIVE: registered again from its body
    assert web.status == Status.SUCCESS and result.verdict == Verdict.SUCCESS
    now_on = ecs.describe_task_definition(taskDefinition=web.to, include=["TAGS"])
    assert now_on["taskDefinition"]["containerDefinitions"][0]["image"] == "shop/web:2"
    assert {"key": PROVENANCE_TAG, "value": td("web:2")} in now_on["tags"]
    assert "task-definition revisions" in web.message


def test_rolling_back_twice_steps_further_back_never_to_the_bad_revision(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    ecs = sim.client("ecs")
    sim.create_cluster("prod")
    sim.register(body("web", "1"))
    sim.register(body("web", "2"))
    bad = sim.register(body("web", "3"))
    sim.create_service("prod", "web", bad)
    ecs.deregister_task_definition(taskDefinition=td("web:2"))

    first = rollback(gateway).services[0]
    assert first.status == Status.SUCCESS  # on web:4, a re-registration of web:2
    second = rollback(gateway).services[0]
    # web:4 counts as web:2, so "before" is web:1, not web:3 (the bad one, numerically lower).
    assert second.to == td("web:1"), second


def test_no_earlier_revision_is_reported_not_guessed(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    result = rollback(gateway)
    assert result.services[0].status == Status.FAILED
    assert "no earlier task definition" in result.services[0].message
    assert sim.mutating_calls()[-1].operation == "CreateService"


def test_cluster_rollback_leaves_services_the_deploy_did_not_touch(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    ecs = sim.client("ecs")
    sim.create_cluster("prod")
    for name in ["web", "api"]:
        sim.register(body(name, "1"))
        sim.create_service("prod", name, sim.register(body(name, "2")))
    options = {"since_minutes": 60, "dry_run": True}
    # Both were just deployed: both would roll back.
    assert [s.status for s in rollback(gateway, **options).services] == [
        Status.PLANNED,
        Status.PLANNED,
    ]
    # Only web is deployed again; api's deployment is made old.
    ecs.update_service(cluster="prod", service="web", taskDefinition=sim.register(body("web", "3")))
    sim.age_deployments("api", hours=3)
    rows = {s.name: s for s in rollback(gateway, **options).services}
    assert rows["web"].status == Status.PLANNED
    assert rows["api"].status == Status.UNCHANGED and "last 60 minutes" in rows["api"].message


# -- ECS's deployment history (not in moto: botocore's Stubber with exact parameters) -------


def test_history_names_what_ran_before_the_current_deployment() -> None:
    ecs = boto3.client("ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(ecs)
    now = datetime.now(UTC)
    service = {
        "serviceName": "web",
        "serviceArn": SERVICE_ARN,
        "taskDefinition": td("web:9"),
        "desiredCount": 2,
        "schedulingStrategy": "REPLICA",
        "status": "ACTIVE",
        "deployments": [
            {
                "id": "d1",
                "status": "PRIMARY",
                "taskDefinition": td("web:9"),
                "rolloutState": "COMPLETED",
                "createdAt": now,
            }
        ],
    }
    stub.add_response(
        "describe_clusters",
        {"clusters": [{"clusterName": "prod", "clusterArn": CLUSTER_ARN, "status": "ACTIVE"}]},
        {"clusters": ["prod"]},
    )
    stub.add_response(
        "list_services", {"serviceArns": [SERVICE_ARN]}, {"cluster": CLUSTER_ARN, "maxResults": 100}
    )
    stub.add_response(
        "describe_services",
        {"services": [service], "failures": []},
        {"cluster": CLUSTER_ARN, "services": ["web"]},
    )
    stub.add_response(  # the current revision: is it a re-registration of another?
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": td("web:9"),
                "status": "ACTIVE",
                **body("web", "9"),
            },
            "tags": [],
        },
        {"taskDefinition": td("web:9"), "include": ["TAGS"]},
    )
    stub.add_response(
        "list_service_deployments",
        {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": "arn:dep/new",
                    "createdAt": now,
                    "targetServiceRevisionArn": "arn:rev/9",
                    "status": "SUCCESSFUL",
                },
                {
                    "serviceDeploymentArn": "arn:dep/old",
                    "createdAt": now - timedelta(days=1),
                    "targetServiceRevisionArn": "arn:rev/5",
                    "status": "SUCCESSFUL",
                },
            ]
        },
        {"cluster": CLUSTER_ARN, "service": SERVICE_ARN},
    )
    stub.add_response(
        "describe_service_deployments",
        {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": "arn:dep/old",
                    "createdAt": now - timedelta(days=1),
                    "targetServiceRevision": {"arn": "arn:rev/5"},
                    "sourceServiceRevisions": [{"arn": "arn:rev/4"}],
                },
                {
                    "serviceDeploymentArn": "arn:dep/new",
                    "createdAt": now,
                    "targetServiceRevision": {"arn": "arn:rev/9"},
                    "sourceServiceRevisions": [{"arn": "arn:rev/5"}],
                },
            ],
            "failures": [],
        },
        {"serviceDeploymentArns": ["arn:dep/new", "arn:dep/old"]},
    )
    stub.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {"serviceRevisionArn": "arn:rev/9", "taskDefinition": td("web:9")},
                {"serviceRevisionArn": "arn:rev/5", "taskDefinition": td("web:5")},
                {"serviceRevisionArn": "arn:rev/4", "taskDefinition": td("web:4")},
            ],
            "failures": [],
        },
        {"serviceRevisionArns": ["arn:rev/9", "arn:rev/5", "arn:rev/4"]},
    )
    stub.add_response(
        "describe_task_definition",
        {
            "taskDefinition": {
                "taskDefinitionArn": td("web:5"),
                "status": "ACTIVE",
                **body("web", "5"),
            },
            "tags": [],
        },
        {"taskDefinition": td("web:5"), "include": ["TAGS"]},
    )
    stub.add_response(
        "update_service",
        {"service": {**service, "taskDefinition": td("web:5")}},
        {"cluster": CLUSTER_ARN, "service": SERVICE_ARN, "taskDefinition": td("web:5")},
    )
    settled = {
        **service,
        "taskDefinition": td("web:5"),
        "deployments": [
            {
                "id": "d2",
                "status": "PRIMARY",
                "taskDefinition": td("web:5"),
                "rolloutState": "COMPLETED",
                "createdAt": now,
            }
        ],
    }
    stub.add_response(
        "describe_services",
        {"services": [settled], "failures": []},
        {"cluster": CLUSTER_ARN, "services": [SERVICE_ARN]},
    )

    with stub:
        result = rollback(EcsGateway(ecs), max_concurrency=2)
        stub.assert_no_pending_responses()
    # Every stubbed call was made (asserted above); moto cannot serve these three, so the
    # least-privilege check learns of them here.
    for operation in (
        "ListServiceDeployments",
        "DescribeServiceDeployments",
        "DescribeServiceRevisions",
    ):
        iam.record_operation("ecs", operation, {})

    web = result.services[0]
    assert (web.action, web.from_, web.to, web.status) == (
        "update",
        td("web:9"),
        td("web:5"),
        Status.SUCCESS,
    )
    assert "deployment history" in web.message


class History:
    """Just the history calls, as ECS answers them after a rollback from web:9 to web:5."""

    def list_service_deployments(self, cluster: str, service: str) -> list[str]:
        return ["d/rollback", "d/bad", "d/good"]

    def describe_service_deployments(self, arns: list[str]) -> list[ServiceDeployment]:
        now = datetime.now(UTC)
        raw = [
            {
                "createdAt": now,
                "targetServiceRevision": {"arn": "r/5b"},
                "sourceServiceRevisions": [{"arn": "r/9"}],
            },  # ecsundo's rollback: 9 -> 5
            {
                "createdAt": now - timedelta(hours=1),
                "targetServiceRevision": {"arn": "r/9"},
                "sourceServiceRevisions": [{"arn": "r/5"}],
            },  # the bad deploy: 5 -> 9
            {
                "createdAt": now - timedelta(days=2),
                "targetServiceRevision": {"arn": "r/5"},
                "sourceServiceRevisions": [{"arn": "r/2"}],
            },  # the good deploy: 2 -> 5 (3 and 4 were registered, never deployed)
        ]
        return [ServiceDeployment.from_api(d) for d in raw]

    def describe_service_revisions(self, arns: list[str]) -> dict[str, ServiceRevision]:
        runs = {"r/5b": "web:5", "r/9": "web:9", "r/5": "web:5", "r/2": "web:2"}
        return {arn: ServiceRevision(arn, td(ref), (), {}) for arn, ref in runs.items()}


def test_rolling_back_again_with_history_steps_back_not_forward() -> None:
    from ecsundo_action.modes.rollback import previous_from_history

    service = Service("web", SERVICE_ARN, td("web:5"))
    # The newest deployment's source is web:9, the bad one: never "before" web:5.
    before = previous_from_history(History(), CLUSTER_ARN, service)  # type: ignore[arg-type]
    assert before is not None and before.task_definition == td("web:2")  # not "5 minus 1"


# -- ECS's deployment history end to end, on the stand-in that keeps one ----------------------


def test_history_goes_back_to_what_was_deployed_not_to_the_revision_below(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:2 was registered but never deployed: "previous" is web:1, what ran before."""
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    sim.register(body("web", "2"))
    sim.client("ecs").update_service(
        cluster="prod", service="web", taskDefinition=sim.register(body("web", "3"))
    )
    [web] = rollback(gateway).services
    assert web.status == Status.SUCCESS and web.to == td("web:1"), web
    assert "previous per deployment history" in web.message
    # What the report shows: the images, with the digests ECS recorded, and in words.
    assert [i.image for i in web.before] == ["shop/web:3"] and web.before[0].digest
    assert [i.image for i in web.after] == ["shop/web:1"] and web.after[0].digest
    assert web.what == "updated to web:1"


def test_history_never_takes_ecsundo_s_own_re_registration_as_previous(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:1 -> web:2 -> web:3 (bad) with web:2 deregistered: the first rollback registers
    web:2 again as web:4; the second goes on to web:1, not back to web:3."""
    ecs = sim.client("ecs")
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    for version in ("2", "3"):
        ecs.update_service(
            cluster="prod", service="web", taskDefinition=sim.register(body("web", version))
        )
    ecs.deregister_task_definition(taskDefinition="web:2")
    [first] = rollback(gateway).services
    assert first.action == "re-register" and first.to == td("web:4"), first
    [second] = rollback(gateway).services
    assert second.status == Status.SUCCESS and second.to == td("web:1"), second
    [third] = rollback(gateway).services  # nothing ran before web:1
    assert third.status == Status.FAILED and third.to != td("web:3"), third
