"""rollback.py's rules word for word, in process against the stand-in: which services are
chosen, what "before" is (ECS's history, else the revisions), each row's action, from, to,
status and whole message, ECS's own rollback of an in-flight deploy, and what the run tells
its progress.

Rollback without a snapshot: deployment history (Stubber) and the revisions fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.ecs.models import ecs_backends

from ecsundo_action import converge as converge_module
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import (
    ContainerImage,
    Deployment,
    Service,
    ServiceDeployment,
    ServiceRevision,
)
from ecsundo_action.engine import execute
from ecsundo_action.errors import EcsundoError
from ecsundo_action.modes import rollback as rollback_module
from ecsundo_action.plan import PROVENANCE_TAG, Step
from ecsundo_action.progress import Progress
from ecsundo_action.reasons import Why
from ecsundo_action.render.text import Narrated
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome, ServiceResult, Status, Verdict
from simulator.history import History, history_of
from simulator.rules import rules_lock
from tests import iam
from tests.conftest import TD, body

BY_HISTORY = "previous per deployment history"
BY_REVISIONS = "previous per task-definition revisions"
REGISTRY = [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}]
# How a row tells that a deploy added REGISTRY (longer than 80 characters: by its ARN, whole).
REGISTRY_ADDED = (
    'serviceRegistries[0].registryArn: "arn:aws:servicediscovery:us-east-1:123456789012:'
    'service/srv-1" -> none'
)
STOP = "stop the in-flight deployment; ECS rolls back to web:1"


def td(ref: str) -> str:
    return TD.format(ref)


class Recorder(Narrated):
    """What the run tells its progress: the phases and the lines of each."""

    def __init__(self) -> None:
        self.phases: list[str] = []
        self.notes: list[str] = []

    def phase(self, title: str) -> None:
        self.phases.append(title)

    def note(self, text: str) -> None:
        self.notes.append(text)


def rollback(gateway: EcsGateway, progress: Progress | None = None, **fields: Any) -> Outcome:
    """A rollback of cluster prod through the engine; every service unless told otherwise."""
    fields.setdefault("since_minutes", 0)
    fields.setdefault("poll_interval", 0.05)
    fields.setdefault("timeout_minutes", 0.5)
    if fields.get("services") is not None:
        fields["services"] = tuple(fields["services"])
    request = Request(mode=Mode.ROLLBACK, cluster="prod", **fields)
    return execute(request, gateway=gateway, progress=progress or Progress(), environ={})


def row(result: ServiceResult) -> tuple[str, str | None, str | None, Status, str]:
    return result.action, result.from_, result.to, result.status, result.message


def deploy(sim: Any, service: str, version: str, family: str | None = None, **update: Any) -> str:
    """UpdateService to a new revision of family (the service's name unless told), its image
    shop/<family>:<version>."""
    arn = sim.register(body(family or service, version))
    sim.client("ecs").update_service(cluster="prod", service=service, taskDefinition=arn, **update)
    return arn


def in_flight(
    sim: Any, service: str, version: str, family: str | None = None, **update: Any
) -> None:
    """A deploy that stays IN_PROGRESS until the test is over."""
    sim.rules.deploy_seconds = 600
    deploy(sim, service, version, family, **update)
    sim.rules.deploy_seconds = 0


def web_1_then_2(sim: Any) -> None:
    """Service web ran web:1, then web:2 was deployed (both ACTIVE, history kept)."""
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    deploy(sim, "web", "2")


def ecs_history(sim: Any) -> History:
    """The stand-in's record of service deployments and revisions, to age parts out."""
    return history_of(ecs_backends[sim.account_id][sim.region])


def revision_of(sim: Any, ref: str) -> str:
    """The ARN of the (only) service revision that ran task definition ref."""
    [arn] = [a for a, r in ecs_history(sim).revisions.items() if r["taskDefinition"] == td(ref)]
    return arn


@pytest.fixture
def no_history(sim: Any) -> Any:
    """An endpoint without ECS's service-deployment history: the revisions answer."""
    sim.rules.history = False
    return sim


# -- the run: its rows, its story, its outcome ------------------------------------------------


def test_a_rollback_by_history_updates_each_service_and_tells_its_story(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    sim.create_service("prod", "api", sim.register(body("api", "1")))
    deploy(sim, "api", "2")
    progress = Recorder()

    result = rollback(gateway, progress)

    done = f"{BY_HISTORY}; rollout completed"
    assert [(s.name, *row(s)) for s in result.services] == [
        ("api", "update", td("api:2"), td("api:1"), Status.SUCCESS, done),
        ("web", "update", td("web:2"), td("web:1"), Status.SUCCESS, done),
    ]
    assert (result.mode, result.cluster, result.warnings) == ("rollback", "prod", [])
    assert result.plan is not None and result.plan.registrations == {}  # updates register none
    assert [s.action for s in result.plan.steps] == ["update", "update"]
    assert 0 <= result.timings["read"] <= result.timings["total"]
    assert progress.phases[:2] == [
        "Find what 2 services of cluster prod ran before",
        "Plan: 2 services to change of 2",
    ]
    assert sorted(progress.notes[:2]) == [
        "api: api:1 (per deployment history)",
        "web: web:1 (per deployment history)",
    ]
    assert progress.notes[2] == (
        "SERVICE  ACTION  FROM   TO     WHY\n"
        "api      update  api:2  api:1  previous per deployment history\n"
        "web      update  web:2  web:1  previous per deployment history"
    )


def test_a_dry_run_plans_the_same_rows_and_says_nothing_changes(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    changes = len(sim.mutating_calls())
    progress = Recorder()

    result = rollback(gateway, progress, dry_run=True)

    [web] = result.services
    assert row(web) == ("update", td("web:2"), td("web:1"), Status.PLANNED, BY_HISTORY)
    assert web.what == "update to web:1"
    assert progress.phases == [
        "Find what 1 service of cluster prod ran before",
        "Plan: 1 service to change of 1 (dry run: nothing changes)",
    ]
    assert len(sim.mutating_calls()) == changes


# -- which services: since minutes, or named ------------------------------------------------


def test_services_not_deployed_within_since_minutes_are_left_alone_with_a_warning(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    for name in ("api", "db"):
        sim.create_service("prod", name, sim.register(body(name, "1")))
        deploy(sim, name, "2")
        sim.age_deployments(name, hours=3)
    progress = Recorder()

    result = rollback(gateway, progress, since_minutes=60, dry_run=True)

    old = "not deployed in the last 60 minutes"
    warning = (
        "2 services not deployed in the last 60 minutes, left alone: name them in services "
        "(--services), or set since to 0 (--since 0) for all"
    )
    assert [(s.name, *row(s)) for s in result.services] == [
        ("api", "unchanged", td("api:2"), td("api:2"), Status.UNCHANGED, old),
        ("db", "unchanged", td("db:2"), td("db:2"), Status.UNCHANGED, old),
        ("web", "update", td("web:2"), td("web:1"), Status.PLANNED, BY_HISTORY),
    ]
    assert result.notices == [warning] and result.warnings == []  # expected: not a warning
    assert f"note: {warning}" in progress.notes
    assert progress.phases[0] == "Find what 3 services of cluster prod ran before"


def test_a_window_of_one_minute_is_a_window_too(sim: Any, gateway: EcsGateway) -> None:
    web_1_then_2(sim)
    sim.age_deployments("web", hours=1)

    result = rollback(gateway, since_minutes=1, dry_run=True)

    [web] = result.services
    assert row(web) == (
        "unchanged",
        td("web:2"),
        td("web:2"),
        Status.UNCHANGED,
        "not deployed in the last 1 minutes",
    )
    assert result.notices == [
        "1 service not deployed in the last 1 minutes, left alone: name them in services "
        "(--services), or set since to 0 (--since 0) for all"
    ]


def test_named_services_are_rolled_back_however_long_ago_they_were_deployed(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    sim.create_service("prod", "api", sim.register(body("api", "1")))
    sim.age_deployments("web", hours=3)

    result = rollback(gateway, services=["web"], since_minutes=60, dry_run=True)

    assert [(s.name, *row(s)) for s in result.services] == [
        ("web", "update", td("web:2"), td("web:1"), Status.PLANNED, BY_HISTORY)
    ]
    assert result.warnings == []


def test_a_task_set_service_is_left_alone_saying_how_or_outside_the_window(
    sim: Any, gateway: EcsGateway
) -> None:
    """Its task sets deploy it (EXTERNAL): as restore does, rollback says how to roll it back
    and changes nothing; it fails the run only when it was named."""
    sim.create_cluster("prod")
    sim.client("ecs").create_service(
        cluster="prod",
        serviceName="sets",
        desiredCount=1,
        deploymentController={"type": "EXTERNAL"},
    )

    [every] = rollback(gateway, dry_run=True).services
    assert (every.action, every.to, every.status) == ("skipped", None, Status.SKIPPED)
    assert every.has(Why.TASK_SETS) and every.what == "skipped: task-set-controlled (EXTERNAL)"
    [named] = rollback(gateway, services=["sets"], dry_run=True).services
    assert (named.action, named.status) == ("skip", Status.FAILED) and named.has(Why.TASK_SETS)
    # Its task sets have no primary deployment: never "deployed in the last 60 minutes".
    [windowed] = rollback(gateway, since_minutes=60, dry_run=True).services
    assert row(windowed) == (
        "unchanged",
        None,
        None,
        Status.UNCHANGED,
        "not deployed in the last 60 minutes",
    )


def test_a_name_that_matches_no_service_is_an_error_naming_the_cluster(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    with pytest.raises(EcsundoError) as raised:
        rollback(gateway, services=["wbe"])
    assert str(raised.value) == "services: service 'wbe' matches no service in cluster 'prod'"


def test_deployed_in_the_last_minutes_includes_the_first_of_them() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    def deployed(at: datetime | None) -> Service:
        primary = Deployment("d1", "PRIMARY", td("web:2"), created_at=at)
        return Service("web", "arn:web", td("web:2"), deployments=(primary,) if at else ())

    assert rollback_module._recent(deployed(now - timedelta(minutes=60)), 60, now)
    assert not rollback_module._recent(deployed(now - timedelta(minutes=60, seconds=1)), 60, now)
    assert not rollback_module._recent(deployed(None), 60, now)  # no primary deployment


# -- the revisions, where ECS's history is not available or holds nothing earlier -------------


def test_without_history_the_revisions_answer_and_the_row_says_so(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    sim.create_service("prod", "api", sim.register(body("api", "1")))
    deploy(sim, "api", "2")

    result = rollback(gateway, dry_run=True)

    assert [(s.name, *row(s)) for s in result.services] == [
        ("api", "update", td("api:2"), td("api:1"), Status.PLANNED, BY_REVISIONS),
        ("web", "update", td("web:2"), td("web:1"), Status.PLANNED, BY_REVISIONS),
    ]
    web = result.services[1]
    # No digests without the history: the images as the task definitions name them.
    assert web.before == (ContainerImage("web", "shop/web:2"),)
    assert web.after == (ContainerImage("web", "shop/web:1"),)


def test_a_history_that_holds_nothing_earlier_falls_back_to_the_revisions(
    sim: Any, gateway: EcsGateway
) -> None:
    sim.create_cluster("prod")
    sim.register(body("web", "1"))  # registered, but the service was created on web:2
    sim.create_service("prod", "web", sim.register(body("web", "2")))
    progress = Recorder()

    [web] = rollback(gateway, progress, dry_run=True).services

    source = "task-definition revisions: ECS's deployment history holds nothing earlier"
    assert row(web) == (
        "update",
        td("web:2"),
        td("web:1"),
        Status.PLANNED,
        f"previous per {source}",
    )
    assert progress.notes[0] == f"web: web:1 (per {source})"


def test_no_earlier_revision_is_unchanged_or_named_a_failure_and_the_progress_says_so(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    progress = Recorder()

    [web] = rollback(gateway, progress).services

    # Taken by a whole-cluster rollback, it is left as it is, saying why.
    assert row(web) == (
        "unchanged",
        td("web:1"),
        td("web:1"),
        Status.UNCHANGED,
        "no earlier task definition (task-definition revisions)",
    )
    assert progress.notes[0] == "web: nothing earlier (per task-definition revisions)"
    # Named, it was asked for and cannot be done: a failure.
    [named] = rollback(gateway, services=["web"]).services
    assert (named.action, named.status) == ("skip", Status.FAILED) and named.has(Why.NO_EARLIER)


def test_the_revisions_are_compared_by_number_not_as_text(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    sim.create_cluster("prod")
    for version in range(1, 11):
        sim.register(body("web", str(version)))
    sim.create_service("prod", "web", sim.register(body("web", "11")))

    [web] = rollback(gateway, dry_run=True).services

    assert web.to == td("web:10")  # as text, web:9 sorts above web:10


def test_the_revisions_skip_ecsundo_s_own_re_registrations(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    ecs = sim.client("ecs")
    sim.create_cluster("prod")
    sim.register(body("web", "1"))
    sim.create_service("prod", "web", sim.register(body("web", "2")))
    ecs.deregister_task_definition(taskDefinition=td("web:1"))
    [first] = rollback(gateway).services
    assert (first.action, first.to) == ("re-register", td("web:3"))  # web:1 again, tagged
    deploy(sim, "web", "4")

    [web] = rollback(gateway, dry_run=True).services

    # web:3 is lower and its containers differ, but it is ecsundo's copy: web:2 is taken.
    assert row(web) == ("update", td("web:4"), td("web:2"), Status.PLANNED, BY_REVISIONS)


def test_the_current_task_definition_deleted_leaves_nothing_to_compare_with(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    ecs = sim.client("ecs")
    web_1_then_2(sim)
    ecs.deregister_task_definition(taskDefinition=td("web:2"))
    ecs.delete_task_definitions(taskDefinitions=[td("web:2")])

    [web] = rollback(gateway, dry_run=True).services

    assert row(web) == (
        "unchanged",
        td("web:2"),
        td("web:2"),
        Status.UNCHANGED,
        "no earlier task definition (task-definition revisions)",
    )
    assert web.before == ()


def test_a_pinned_re_registration_counts_as_its_original_in_the_revisions(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:3 is ecsundo's copy of web:1 pinned to its digest: with only the revisions to go
    by, nothing ran before it (web:1 itself, its containers named by tag, is not earlier)."""
    web_1_then_2(sim)
    [first] = rollback(gateway, pin_images="always").services
    assert (first.action, first.to, first.status) == ("re-register", td("web:3"), Status.SUCCESS)
    sim.rules.history = False

    [web] = rollback(gateway, dry_run=True).services

    assert row(web) == (
        "unchanged",
        td("web:3"),
        td("web:3"),
        Status.UNCHANGED,
        "no earlier task definition (task-definition revisions)",
    )


# -- ECS's deployment history: which deployment and which source ------------------------------


def test_a_source_revision_aged_out_of_the_history_leaves_it_to_the_revisions(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    with rules_lock():  # ECS answers MISSING for it from now on
        del ecs_history(sim).revisions[revision_of(sim, "web:1")]

    [web] = rollback(gateway, dry_run=True).services

    source = "task-definition revisions: ECS's deployment history holds nothing earlier"
    assert row(web) == (
        "update",
        td("web:2"),
        td("web:1"),
        Status.PLANNED,
        f"previous per {source}",
    )


def test_an_aged_out_source_is_passed_over_for_the_next_source_of_the_same_deployment(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:3 was deployed over web:2's unfinished rollout: its sources are web:1 and web:2,
    and web:1's revision has aged out."""
    web_1 = sim.register(body("web", "1"))
    sim.create_cluster("prod")
    sim.create_service("prod", "web", web_1)
    in_flight(sim, "web", "2")
    deploy(sim, "web", "3")
    with rules_lock():
        del ecs_history(sim).revisions[revision_of(sim, "web:1")]

    [web] = rollback(gateway, dry_run=True).services

    assert row(web) == ("update", td("web:3"), td("web:2"), Status.PLANNED, BY_HISTORY)


def test_a_deployment_listed_without_a_date_is_taken_as_the_oldest(
    sim: Any, gateway: EcsGateway
) -> None:
    """An undated deployment sorts after the dated ones (it used to fail the service's lookup:
    the gateway compared a datetime with 0)."""
    web_1_then_2(sim)
    with rules_lock():
        for deployment in ecs_history(sim).deployments.values():
            if not deployment["sourceServiceRevisions"]:  # the service's first
                del deployment["createdAt"], deployment["startedAt"]

    [web] = rollback(gateway, dry_run=True).services

    assert row(web) == ("update", td("web:2"), td("web:1"), Status.PLANNED, BY_HISTORY)


def test_a_service_ecs_already_rolled_back_is_unchanged_never_one_release_too_far(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:3 was deployed over an unfinished deploy of other:1, and ECS's circuit breaker
    took the service back to web:2, the release before the bad deploy. ECS's rollback is not
    a release: rolling back again would go one release too far (to web:1)."""
    web_1_then_2(sim)
    in_flight(sim, "web", "1", family="other")
    sim.rules.outcomes["web"] = "circuit-breaker"
    deploy(sim, "web", "3")
    sim.rules.outcomes.clear()
    sim.calls.clear()

    for named in (None, ["web"]):
        result = rollback(gateway, services=named)
        [web] = result.services
        assert row(web) == (
            "unchanged",
            td("web:2"),
            td("web:2"),
            Status.UNCHANGED,
            "ECS already rolled it back from web:3: it runs the release before that deploy",
        )
        assert web.has(Why.ECS_ROLLED_BACK_ALREADY) and result.verdict == Verdict.UNCHANGED
    assert sim.mutating_calls() == []


def test_a_restart_is_not_a_release_for_the_window(sim: Any, gateway: EcsGateway) -> None:
    """web:2 was released before the window; the bad deploy only restarted web
    (forceNewDeployment: same task definition, same build). Its release did not start in the
    window: a whole-cluster rollback leaves it alone; named, it still goes back to web:1."""
    web_1_then_2(sim)
    history = ecs_history(sim)
    for deployment in history.deployments.values():  # web:2's release: two hours ago
        deployment["createdAt"] = deployment["createdAt"] - timedelta(hours=2)
    sim.client("ecs").update_service(cluster="prod", service="web", forceNewDeployment=True)

    [web] = rollback(gateway, since_minutes=60, dry_run=True).services
    assert row(web) == (
        "unchanged",
        td("web:2"),
        td("web:2"),
        Status.UNCHANGED,
        "not deployed in the last 60 minutes",
    )
    [named] = rollback(gateway, services=["web"], dry_run=True).services
    assert row(named) == ("update", td("web:2"), td("web:1"), Status.PLANNED, BY_HISTORY)


def test_without_history_a_restart_is_not_a_release_for_the_window(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    """The revisions fallback: web:2 was registered and released two hours ago; the bad
    deploy only restarted it. Its task definition's registration bounds when the release
    began, so a whole-cluster rollback leaves it alone; named, it goes back to web:1."""
    web_1_then_2(sim)
    sim.age_deployments("web", hours=2)
    sim.client("ecs").update_service(cluster="prod", service="web", forceNewDeployment=True)

    [web] = rollback(gateway, since_minutes=60, dry_run=True).services
    assert row(web) == (
        "unchanged",
        td("web:2"),
        td("web:2"),
        Status.UNCHANGED,
        "runs web:2, registered before the last 60 minutes: restarted or returned to since, "
        "not released (name it to roll it back)",
    )
    [named] = rollback(gateway, services=["web"], dry_run=True).services
    assert row(named) == ("update", td("web:2"), td("web:1"), Status.PLANNED, BY_REVISIONS)


def test_without_history_ecs_own_rollback_is_not_a_release_either(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    """web:2 ran for hours; web:3 failed and ECS's circuit breaker took the service back to
    web:2 a minute ago. Without ECS's history, web:2's registration shows that its release
    began before the window: going back to web:1 would be one release too far."""
    web_1_then_2(sim)
    sim.age_deployments("web", hours=3)
    sim.rules.outcomes["web"] = "circuit-breaker"
    deploy(sim, "web", "3")
    sim.rules.outcomes.clear()
    sim.calls.clear()

    result = rollback(gateway, since_minutes=60)

    [web] = result.services
    assert (web.action, web.from_, web.status) == ("unchanged", td("web:2"), Status.UNCHANGED)
    assert web.has(Why.REGISTERED_BEFORE) and result.verdict == Verdict.UNCHANGED
    assert sim.mutating_calls() == []


def test_without_history_a_release_in_the_window_goes_back(
    sim: Any, no_history: Any, gateway: EcsGateway
) -> None:
    """web:2 was registered and deployed a minute ago: a release in the window."""
    web_1_then_2(sim)

    [web] = rollback(gateway, since_minutes=60, dry_run=True).services

    assert row(web) == ("update", td("web:2"), td("web:1"), Status.PLANNED, BY_REVISIONS)


def test_a_rebuilt_re_registration_is_stepped_past_not_taken_back_to_its_earlier_build(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:1 -> web:2 -> web:3 (bad), web:2 deregistered: the rollback registers web:2 again
    as web:4. A new build of shop/web:2 is then deployed on web:4 (forceNewDeployment): web:4
    stands for web:2, so what ran before it is web:1, not web:4's earlier build."""
    ecs = sim.client("ecs")
    web_1_then_2(sim)
    deploy(sim, "web", "3")
    ecs.deregister_task_definition(taskDefinition=td("web:2"))
    [first] = rollback(gateway).services
    assert (first.action, first.to, first.status) == ("re-register", td("web:4"), Status.SUCCESS)
    sim.push("shop/web:2")
    ecs.update_service(cluster="prod", service="web", forceNewDeployment=True)

    [web] = rollback(gateway, dry_run=True).services

    assert row(web) == ("update", td("web:4"), td("web:1"), Status.PLANNED, BY_HISTORY)


# -- what going back needs: settings, pins, a registration -----------------------------------


def test_settings_are_compared_with_what_runs_now_not_with_the_deployment_that_made_it(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:2 was deployed, then a service registry added (a deployment of web:2 again): the
    service's settings are those of its newest revision, which web:1 did not have."""
    web_1_then_2(sim)
    sim.client("ecs").update_service(cluster="prod", service="web", serviceRegistries=REGISTRY)

    [web] = rollback(gateway, dry_run=True).services

    why = f"{BY_HISTORY}; {REGISTRY_ADDED}"
    assert row(web) == ("update", td("web:2"), td("web:1"), Status.PLANNED, why)
    assert web.what == "update to web:1 and its settings (serviceRegistries)"


def test_pins_and_setting_differences_are_each_told_in_the_message(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    sim.client("ecs").update_service(cluster="prod", service="web", serviceRegistries=REGISTRY)
    digest = sim.digest("shop/web:1")

    [web] = rollback(gateway, dry_run=True, pin_images="always").services

    why = (
        f"{BY_HISTORY}; pinning to {digest[7:19]} as in the snapshot; {REGISTRY_ADDED}; "
        "web:1 pinned; registering it again"
    )
    assert row(web) == ("re-register", td("web:2"), td("web:1"), Status.PLANNED, why)


def test_pin_images_never_keeps_the_tag_and_the_rollout_is_found_on_another_build(
    sim: Any, gateway: EcsGateway
) -> None:
    """Both revisions name shop/web:latest; a new build was pushed before web:2 went out, so
    going back to web:1 by tag runs that new build, not the one web:1 ran."""
    latest = "shop/web:latest"
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", image=latest, env={"V": "1"})))
    sim.push(latest)
    new = sim.register(body("web", image=latest, env={"V": "2"}))
    sim.client("ecs").update_service(cluster="prod", service="web", taskDefinition=new)

    [web] = rollback(gateway, pin_images="never").services

    assert row(web) == (
        "update",
        td("web:2"),
        td("web:1"),
        Status.FAILED,
        "rollout completed, but web runs another build than the snapshot saw (its tag has "
        f"moved): restore again with pin-images: always; {BY_HISTORY}",
    )


def test_pin_images_always_re_registers_even_an_unmoved_tag(sim: Any, gateway: EcsGateway) -> None:
    web_1_then_2(sim)
    digest = sim.digest("shop/web:1")

    result = rollback(gateway, dry_run=True, pin_images="always")

    [web] = result.services
    why = f"{BY_HISTORY}; pinning to {digest[7:19]} as in the snapshot; web:1 pinned; "
    assert row(web) == (
        "re-register",
        td("web:2"),
        td("web:1"),
        Status.PLANNED,
        why + "registering it again",
    )
    assert web.after == (ContainerImage("web", "shop/web:1", digest),)
    assert result.plan is not None
    [registration] = result.plan.registrations.values()
    assert registration.original == td("web:1")
    assert registration.body["containerDefinitions"][0]["image"] == f"shop/web@{digest}"


def test_a_pinned_copy_registered_before_is_reused_not_registered_again(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    [first] = rollback(gateway, pin_images="always").services
    assert (first.action, first.to, first.status) == ("re-register", td("web:3"), Status.SUCCESS)
    sim.client("ecs").update_service(cluster="prod", service="web", taskDefinition=td("web:2"))

    [web] = rollback(gateway, dry_run=True, pin_images="always").services

    why = (
        f"{BY_HISTORY}; pinning to {sim.digest('shop/web:1')[7:19]} as in the snapshot; "
        "web:1 pinned; reusing its re-registration web:3"
    )
    assert row(web) == ("update", td("web:2"), td("web:3"), Status.PLANNED, why)


def test_a_previous_task_definition_deleted_since_is_a_skip_with_the_reason(
    sim: Any, gateway: EcsGateway
) -> None:
    ecs = sim.client("ecs")
    web_1_then_2(sim)
    ecs.deregister_task_definition(taskDefinition=td("web:1"))
    ecs.delete_task_definitions(taskDefinitions=[td("web:1")])

    [web] = rollback(gateway, dry_run=True).services

    why = f"{BY_HISTORY}; web:1 is deleted and no snapshot holds its body"
    assert row(web) == ("skip", td("web:2"), td("web:1"), Status.FAILED, why)


# -- ECS's own rollback of an in-flight deploy (StopServiceDeployment) ------------------------


@pytest.mark.parametrize("scope", ["service", "task-definition"])
def test_an_in_flight_deploy_is_stopped_for_ecs_to_roll_back(
    sim: Any, gateway: EcsGateway, scope: str
) -> None:
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    in_flight(sim, "web", "2")

    [web] = rollback(gateway, dry_run=True, scope=scope).services

    assert row(web) == ("stop", td("web:2"), td("web:1"), Status.PLANNED, STOP)
    assert web.what == "stop the in-flight deployment (ECS rolls back to web:1)"


def test_a_stopped_deploy_ends_on_what_ran_before(sim: Any, gateway: EcsGateway) -> None:
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    in_flight(sim, "web", "2")

    [web] = rollback(gateway).services

    done = "ECS rolled the deployment back"  # what says what was stopped, and to what
    assert row(web) == ("stop", td("web:2"), td("web:1"), Status.SUCCESS, done)
    now = sim.client("ecs").describe_services(cluster="prod", services=["web"])["services"][0]
    assert now["taskDefinition"] == td("web:1")


def test_an_in_flight_deploy_that_changed_a_setting_is_stopped_only_with_scope_service(
    sim: Any, gateway: EcsGateway
) -> None:
    """ECS's rollback puts back the settings of the revision it returns to: what scope
    service wants, and what scope task-definition must not do."""
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    in_flight(sim, "web", "2", serviceRegistries=REGISTRY)

    [service] = rollback(gateway, dry_run=True, scope="service").services
    [task_definition] = rollback(gateway, dry_run=True, scope="task-definition").services

    assert row(service) == ("stop", td("web:2"), td("web:1"), Status.PLANNED, STOP)
    # The normal path: an update to web:1, the setting left as the deploy made it.
    assert row(task_definition) == ("update", td("web:2"), td("web:1"), Status.PLANNED, BY_HISTORY)
    assert task_definition.what == "update to web:1"


def test_an_in_flight_rebuild_of_the_same_task_definition_is_stopped(
    sim: Any, gateway: EcsGateway
) -> None:
    """A new build of shop/web:1 going out on web:1 with a service registry added: ECS's
    rollback returns to the earlier build and the earlier settings."""
    sim.create_cluster("prod")
    sim.create_service("prod", "web", sim.register(body("web", "1")))
    sim.push("shop/web:1")
    sim.rules.deploy_seconds = 600
    sim.client("ecs").update_service(
        cluster="prod", service="web", forceNewDeployment=True, serviceRegistries=REGISTRY
    )
    sim.rules.deploy_seconds = 0

    [web] = rollback(gateway, dry_run=True, pin_images="never").services

    assert row(web) == ("stop", td("web:1"), td("web:1"), Status.PLANNED, STOP)


def test_an_in_flight_deploy_from_a_deregistered_revision_is_stopped_not_sent_to_its_copy(
    sim: Any, gateway: EcsGateway
) -> None:
    """web:1 is INACTIVE, and web:2 is an earlier re-registration of it (as a restore leaves
    it): ECS's own rollback still returns to web:1 itself."""
    ecs = sim.client("ecs")
    sim.create_cluster("prod")
    original = sim.register(body("web", "1"))
    sim.create_service("prod", "web", original)
    copy = ecs.register_task_definition(
        **body("web", "1"), tags=[{"key": PROVENANCE_TAG, "value": original}]
    )
    assert copy["taskDefinition"]["taskDefinitionArn"] == td("web:2")
    ecs.deregister_task_definition(taskDefinition=original)
    in_flight(sim, "web", "3")

    [web] = rollback(gateway, dry_run=True).services

    assert row(web) == ("stop", td("web:3"), td("web:1"), Status.PLANNED, STOP)


def test_a_service_whose_plan_cannot_be_made_is_left_alone_and_the_others_go_on(
    sim: Any, gateway: EcsGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    web_1_then_2(sim)
    sim.create_service("prod", "api", sim.register(body("api", "1")))
    deploy(sim, "api", "2")
    stop_step = converge_module.stop_step

    def failing_for_web(normal: Step, *args: Any) -> Step | None:
        if normal.service == "web":
            raise RuntimeError("no plan")  # a bug in planning costs this one row
        return stop_step(normal, *args)

    monkeypatch.setattr(converge_module, "stop_step", failing_for_web)

    result = rollback(gateway, dry_run=True)

    failure = "internal error: RuntimeError: no plan"
    assert [(s.name, *row(s)) for s in result.services] == [
        ("api", "update", td("api:2"), td("api:1"), Status.PLANNED, BY_HISTORY),
        ("web", "skip", td("web:2"), None, Status.FAILED, "not rolled back: " + failure),
    ]


def test_a_service_whose_lookup_fails_is_left_alone_with_the_reason(
    sim: Any, gateway: EcsGateway
) -> None:
    web_1_then_2(sim)
    sim.create_service("prod", "api", sim.register(body("api", "1")))
    deploy(sim, "api", "2")
    sim.rules.refusals[("DescribeTaskDefinition", "*")] = "AccessDeniedException"

    result = rollback(gateway, dry_run=True)

    def refused(ref: str) -> str:
        return (
            f"not rolled back: describe task definition {ref}: AccessDeniedException: User: "
            "arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform: "
            "ecs:DescribeTaskDefinition on resource: * because no identity-based policy allows "
            "the ecs:DescribeTaskDefinition action"
        )

    # Each failed on its own: neither failure stops the other's row.
    assert [(s.name, *row(s)) for s in result.services] == [
        ("api", "skip", td("api:2"), None, Status.FAILED, refused("api:2")),
        ("web", "skip", td("web:2"), None, Status.FAILED, refused("web:2")),
    ]


ACCOUNT, REGION = "123456789012", "us-east-1"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web"


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
    result = rollback(gateway, services=["web"])
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


class HistoryCalls:
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
    before = previous_from_history(HistoryCalls(), CLUSTER_ARN, service)  # type: ignore[arg-type]
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
    assert third.status == Status.UNCHANGED and third.to == td("web:1"), third


def test_a_codedeploy_service_is_left_alone_and_the_others_still_roll_back(
    sim: Any, gateway: EcsGateway
) -> None:
    """ECS refuses a task definition for a CodeDeploy service: rollback never sends one, says
    how to roll it back there, and the run is a success on the services it could do."""
    web_1_then_2(sim)
    sim.create_service(
        "prod",
        "blue",
        sim.register(body("blue", "1")),
        deploymentController={"type": "CODE_DEPLOY"},
    )

    result = rollback(gateway)

    blue, web = result.services
    assert (blue.action, blue.status, blue.changed) == ("skipped", Status.SKIPPED, False)
    assert blue.has(Why.CODE_DEPLOY) and blue.message.startswith("skipped: CodeDeploy deploys")
    assert (web.status, web.to) == (Status.SUCCESS, td("web:1"))
    assert result.verdict == Verdict.SUCCESS
    updated = [str(c.params.get("service")) for c in sim.mutating_calls()]
    assert any(s.endswith("/web") or s == "web" for s in updated), updated
    assert not any(s.endswith("/blue") or s == "blue" for s in updated), updated
