"""converge.py's rules word for word: the rows of steps never carried out, why ECS stopped a
deployment, a racing deploy; and the Changes against the stand-in, one plan at a time: each
row's status, target and whole message, the phases it tells and times, a stop and both of its
fallbacks, the check of what runs after a rollout, and the reasons read from ECS's history."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import ContainerImage, Deployment, Service, ServiceDeployment
from ecsundo_action.converge import Changes, Options, _racing_deployment, ecs_says, planned
from ecsundo_action.plan import Action, Plan, Registration, Step
from ecsundo_action.progress import Progress
from ecsundo_action.reasons import Why
from ecsundo_action.result import ServiceResult, Status
from ecsundo_action.threads import Threads
from tests.conftest import TD, body, saying, until

SVC = "arn:aws:ecs:us-east-1:123456789012:service/shop/{}"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/shop"


def step(action: Action, reason: str = "", **fields: Any) -> Step:
    fields.setdefault("current", TD.format("web:2"))
    fields.setdefault("target", TD.format("web:1"))
    return Step("web", SVC.format("web"), action, why=saying(reason), **fields)


# -- rows of steps that are not carried out ------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "dry_run", "status", "message"),
    [
        (Action.UNCHANGED, False, Status.UNCHANGED, "why"),
        (Action.MISSING, True, Status.MISSING, "why"),
        (Action.SKIPPED, False, Status.SKIPPED, "why"),
        (Action.SKIP, True, Status.FAILED, "why"),
        (Action.UPDATE, True, Status.PLANNED, "why"),
        (Action.UPDATE, False, Status.FAILED, "not started; why"),
        (Action.REREGISTER, False, Status.FAILED, "not started; why"),
        (Action.STOP, True, Status.PLANNED, "why"),
    ],
)
def test_a_step_not_carried_out_is_a_row_of_its_own_kind(
    action: Action, dry_run: bool, status: Status, message: str
) -> None:
    planned_step = step(action, "why")
    row = planned(planned_step, dry_run)
    assert (row.name, row.action, row.to, row.status, row.message, row.changed) == (
        "web",
        str(action),
        TD.format("web:1"),
        status,
        message,
        False,
    )


def test_a_change_never_started_without_a_reason_says_only_that() -> None:
    assert planned(step(Action.UPDATE), False).message == "not started"


# -- why ECS stopped a deployment ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "words"),
    [
        ({}, ""),
        ({"alarms": None, "deploymentCircuitBreaker": None, "rollback": None}, ""),
        (
            {"alarms": {"status": "TRIGGERED", "triggeredAlarmNames": ["5xx", "p99 latency"]}},
            "alarms went off: 5xx, p99 latency",
        ),
        ({"alarms": {"status": "TRIGGERED", "triggeredAlarmNames": []}}, ""),
        ({"alarms": {"status": "MONITORING_COMPLETE", "triggeredAlarmNames": ["5xx"]}}, ""),
        (
            {
                "deploymentCircuitBreaker": {
                    "status": "TRIGGERED",
                    "failureCount": 4,
                    "threshold": 3,
                }
            },
            "circuit breaker: 4 failed tasks, threshold 3",
        ),
        (
            {"deploymentCircuitBreaker": {"status": "TRIGGERED"}},
            "circuit breaker: ? failed tasks, threshold ?",
        ),
        ({"deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 1}}, ""),
        (
            {
                "lifecycleHookDetails": [
                    {"hookId": "smoke", "status": "FAILED"},
                    {"hookId": "ok", "status": "SUCCEEDED"},
                    {"status": "TIMED_OUT"},
                ]
            },
            "lifecycle hook smoke failed; lifecycle hook ? timed out",
        ),
        ({"rollback": {"reason": "Stopped\n  by   request."}}, "rolled back: Stopped by request."),
        ({"rollback": {"startedAt": "x"}}, ""),
        (
            {
                "alarms": {"status": "TRIGGERED", "triggeredAlarmNames": ["5xx"]},
                "deploymentCircuitBreaker": {
                    "status": "TRIGGERED",
                    "failureCount": 3,
                    "threshold": 3,
                },
                "lifecycleHookDetails": [{"hookId": "h", "status": "TIMED_OUT"}],
                "rollback": {"reason": "r"},
            },
            "alarms went off: 5xx; circuit breaker: 3 failed tasks, threshold 3; "
            "lifecycle hook h timed out; rolled back: r",
        ),
    ],
)
def test_ecs_says_why_it_stopped_a_deployment_in_a_few_words(
    deployment: dict[str, Any], words: str
) -> None:
    says = ecs_says(ServiceDeployment.from_api(deployment))
    if not words:  # ECS said nothing: nothing is added, not an empty "()"
        assert says is None
    else:
        assert says is not None and str(says) == f"({words})"


# -- a deploy racing this run --------------------------------------------------------------------


def deployed(*deployments: Deployment) -> Service:
    return Service("web", SVC.format("web"), TD.format("web:1"), deployments=deployments)


OURS = Deployment("ecs-svc/ours", "PRIMARY", TD.format("web:1"))
BEFORE = Deployment("ecs-svc/before", "ACTIVE", TD.format("web:2"))
THEIRS = Deployment("ecs-svc/theirs", "ACTIVE", TD.format("web:3"))


@pytest.mark.parametrize(
    ("seen", "service", "racing"),
    [
        ((), deployed(OURS, THEIRS), None),  # nothing was read: nothing to compare with
        (("ecs-svc/before",), deployed(OURS, BEFORE), None),
        (("ecs-svc/before",), deployed(OURS, THEIRS, BEFORE), TD.format("web:3")),
        (
            ("ecs-svc/before",),
            deployed(OURS, Deployment("ecs-svc/x", "ACTIVE", None)),
            "?",
        ),
        (("ecs-svc/before",), deployed(OURS), None),  # our own PRIMARY is no race
    ],
)
def test_a_deployment_that_appeared_since_the_read_and_is_not_ours_is_a_race(
    seen: tuple[str, ...], service: Service, racing: str | None
) -> None:
    assert _racing_deployment(step(Action.UPDATE, seen=seen), service) == racing


# -- the Changes against the stand-in ------------------------------------------------------------


class Said(Progress):
    def __init__(self) -> None:
        self.phases: list[str] = []
        self.told: list[tuple[str, str]] = []

    def phase(self, title: str) -> None:
        self.phases.append(title)

    def waiting(self, service: str, text: str) -> None:
        self.told.append((service, text))


@pytest.fixture
def shop(sim: Any) -> Any:
    """web and api on version 1 of their families, one task each."""
    sim.create_cluster("shop")
    for name in ("web", "api"):
        sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=1)
    return sim


def apply(
    gateway: EcsGateway, plan: Plan, *, stopped: bool = False, **options: Any
) -> tuple[list[ServiceResult], Changes, Said]:
    """Start every changing step of plan, then finish: the rows, the changes, what it said."""
    said = Said()
    options = {"timeout": 5.0, "poll_interval": 0.02, "progress": said, **options}
    with Threads(2) as threads:
        if stopped:
            threads.stopped.set()
        changes = Changes(gateway, threads, plan, Options(**options))
        for changing in plan.changing:
            changes.start(changing)
        return changes.finish(), changes, said


def reregister_web() -> Plan:
    """web on web:1, which must be registered again (its body: body("web", "1"))."""
    original = TD.format("web:1")
    plan = Plan(CLUSTER)
    plan.add(
        Step("web", SVC.format("web"), Action.REREGISTER, original, original),
        Registration(original, body("web", "1"), []),
    )
    return plan


def update(name: str, to: str, reason: str = "", **fields: Any) -> Step:
    fields.setdefault("current", TD.format(f"{name}:1"))
    return Step(name, SVC.format(name), Action.UPDATE, target=to, why=saying(reason), **fields)


def test_an_update_waited_for_succeeds_leading_with_what_was_done(
    shop: Any, gateway: EcsGateway
) -> None:
    to = shop.register(body("web", "2"))
    plan = Plan(CLUSTER, [update("web", to, "update to web:2")])
    shop.calls.clear()
    [row], changes, said = apply(gateway, plan)
    assert (row.status, row.to, row.changed) == (Status.SUCCESS, to, True)
    assert row.message == "update to web:2; rollout completed"
    assert said.phases == ["Wait for 1 rollout"]
    assert said.told[-1][0] == "web" and said.told[-1][1].startswith("rollout completed (")
    assert sorted(changes.durations()) == ["update", "wait"]
    # Nothing expected of its images and nothing failed: ECS's history is not asked.
    assert [c.operation for c in shop.calls] == ["UpdateService", "DescribeServices"]


def test_two_services_are_waited_for_in_one_phase_and_rows_keep_the_plan_s_order(
    shop: Any, gateway: EcsGateway
) -> None:
    plan = Plan(
        CLUSTER,
        [
            Step("db", None, Action.MISSING, None, TD.format("db:1"), why=saying("deleted")),
            update("web", shop.register(body("web", "2"))),
            update("api", shop.register(body("api", "2"))),
            Step("worker", SVC.format("worker"), Action.SKIP, None, None, why=saying("no")),
        ],
    )
    rows, _, said = apply(gateway, plan)
    assert [(r.name, r.status, r.message) for r in rows] == [
        ("db", Status.MISSING, "deleted"),
        ("web", Status.SUCCESS, "rollout completed"),
        ("api", Status.SUCCESS, "rollout completed"),
        ("worker", Status.FAILED, "no"),
    ]
    assert said.phases == ["Wait for 2 rollouts"]


def test_a_step_the_run_never_started_is_failed_as_not_started(
    shop: Any, gateway: EcsGateway
) -> None:
    later = update("api", shop.register(body("api", "2")), "update to api:2")
    plan = Plan(CLUSTER, [later])
    with Threads(2) as threads:
        changes = Changes(gateway, threads, plan, Options())
        [row] = changes.finish()  # the run stopped before starting it
    assert (row.status, row.message, row.changed) == (
        Status.FAILED,
        "not started; update to api:2",
        False,
    )
    assert changes.durations() == {}


def test_seconds_count_from_the_update_not_from_the_wait(shop: Any, gateway: EcsGateway) -> None:
    plan = Plan(CLUSTER, [update("web", shop.register(body("web", "2")))])
    with Threads(2) as threads:
        changes = Changes(gateway, threads, plan, Options(poll_interval=0.02))
        changes.start(plan.steps[0])
        time.sleep(0.15)  # the run reads other services before it waits
        [row] = changes.finish()
    assert row.status == Status.SUCCESS and row.seconds >= 0.15


def test_not_waiting_leaves_each_row_updated_to_where_it_went_and_says_so(
    shop: Any, gateway: EcsGateway
) -> None:
    to = shop.register(body("web", "2"))
    original = TD.format("api:1")
    plan = Plan(CLUSTER, [update("web", to, "update to web:2")])
    plan.add(
        Step(
            "api",
            SVC.format("api"),
            Action.REREGISTER,
            original,
            original,
            why=saying("re-register"),
        ),
        Registration(original, body("api", "1"), []),
    )
    rows, changes, said = apply(gateway, plan, wait=False)
    assert [(r.name, r.status, r.to, r.changed, r.seconds, r.message) for r in rows] == [
        ("web", Status.UPDATED, to, True, 0.0, "update to web:2; not waited for"),
        ("api", Status.UPDATED, TD.format("api:2"), True, 0.0, "re-register; not waited for"),
    ]
    assert said.phases == [] and sorted(changes.durations()) == ["register", "update"]


def test_a_failed_rollout_leads_with_what_went_wrong_then_why_from_ecs(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.outcomes["web"] = "fail"
    shop.rules.alarms["web"] = ["web-5xx", "web-latency"]
    to = shop.register(body("web", "2"))
    [row], _, _ = apply(gateway, Plan(CLUSTER, [update("web", to, "update to web:2")]))
    assert (row.status, row.to, row.changed) == (Status.FAILED, to, True)
    assert row.message == (
        "rollout FAILED: ECS deployment circuit breaker: tasks failed to start. "
        "(alarms went off: web-5xx, web-latency); update to web:2"
    )


def test_a_failed_rollout_keeps_its_own_words_when_ecs_s_history_cannot_be_read(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.outcomes["web"] = "fail"
    to = shop.register(body("web", "2"))
    shop.rules.refusals[("DescribeServiceDeployments", "*")] = "AccessDeniedException"
    [row], _, _ = apply(gateway, Plan(CLUSTER, [update("web", to)]))
    assert row.status == Status.FAILED
    assert row.message == "rollout FAILED: ECS deployment circuit breaker: tasks failed to start."


def test_a_rollout_ecs_rolled_back_names_where_the_service_is_and_why(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.outcomes["web"] = "circuit-breaker"
    shop.rules.deploy_seconds = 0.05
    to = shop.register(body("web", "2"))
    # Our deployment is seen beside the one ECS rolled back to: no stale-read grace (5 s) is
    # waited out, so the run ends long before its timeout.
    [row], _, _ = apply(gateway, Plan(CLUSTER, [update("web", to)]), timeout=2.0)
    assert row.status == Status.FAILED
    assert row.message == (
        "service is on web:1, not web:2 (ECS rolled it back, or it was deployed over) "
        "(circuit breaker: 3 failed tasks, threshold 3; rolled back: ECS deployment circuit "
        "breaker: tasks failed to start.)"
    )


def test_a_refused_update_fails_only_its_own_row(shop: Any, gateway: EcsGateway) -> None:
    shop.rules.refusals[("UpdateService", "web")] = "AccessDeniedException"
    plan = Plan(
        CLUSTER,
        [
            update("web", shop.register(body("web", "2"))),
            update("api", shop.register(body("api", "2"))),
        ],
    )
    [web, api], _, _ = apply(gateway, plan)
    assert (web.status, web.changed) == (Status.FAILED, False)
    assert web.message.startswith("update service web: AccessDeniedException: "), web.message
    assert (api.status, api.message) == (Status.SUCCESS, "rollout completed")


def image_of(name: str, version: str) -> ContainerImage:
    return ContainerImage(name, f"shop/{name}:{version}")


def test_a_failed_row_tells_what_runs_after_the_run_not_what_was_wanted(
    shop: Any, gateway: EcsGateway
) -> None:
    """web's update is refused: it still runs web:1's image. api's rollout is rolled back by
    the circuit breaker: read back, it runs web:1's again, and the row says so."""
    shop.rules.refusals[("UpdateService", "web")] = "AccessDeniedException"
    shop.rules.outcomes["api"] = "circuit-breaker"
    web, api = (
        replace(update(n, shop.register(body(n, "2"))), before=(image_of(n, "1"),))
        for n in ("web", "api")
    )
    plan = Plan(CLUSTER, [replace(s, after=(image_of(s.service, "2"),)) for s in (web, api)])
    [refused, rolled_back], _, _ = apply(gateway, plan)
    assert (refused.status, refused.changed) == (Status.FAILED, False)
    assert [i.reference for i in refused.after] == ["shop/web:1"]  # never changed
    assert (rolled_back.status, rolled_back.changed) == (Status.FAILED, True)
    assert rolled_back.to == TD.format("api:1")  # where ECS took it back
    assert [i.image for i in rolled_back.after] == ["shop/api:1"]
    assert rolled_back.to_dict()["to-images"] == [i.reference for i in rolled_back.after]


def test_a_failed_row_whose_service_cannot_be_read_back_says_unknown(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.outcomes["api"] = "circuit-breaker"
    api = replace(update("api", shop.register(body("api", "2"))), after=(image_of("api", "2"),))
    shop.rules.refusals[("DescribeServiceRevisions", "*")] = "AccessDeniedException"
    [row], _, _ = apply(gateway, Plan(CLUSTER, [api]), wait=True)
    assert row.status == Status.FAILED and row.after == ()  # unknown, not the wanted images


def test_a_registration_whose_update_is_refused_is_kept_and_said(
    shop: Any, gateway: EcsGateway
) -> None:
    shop.rules.refusals[("UpdateService", "web")] = "AccessDeniedException"
    plan = reregister_web()
    [row], _, _ = apply(gateway, plan)
    assert (row.status, row.changed) == (Status.FAILED, False)
    assert row.what == "re-registered web:1 as web:2; the update failed"
    assert row.has(Why.REGISTERED_ONLY) and row.has(Why.CALL_FAILED)
    assert row.message.startswith("update service web: AccessDeniedException: "), row.message
    assert row.message.endswith("; web:2 was registered and is kept: a later restore reuses it")


def test_a_bug_costs_one_row_never_the_report(shop: Any, gateway: EcsGateway) -> None:
    broken = Step("web", None, Action.UPDATE, TD.format("web:1"), TD.format("web:2"))
    plan = Plan(CLUSTER, [broken, update("api", shop.register(body("api", "2")))])
    [row, api], _, _ = apply(gateway, plan)
    assert (row.status, row.message) == (Status.FAILED, "internal error: AssertionError: ")
    assert (api.status, api.message) == (Status.SUCCESS, "rollout completed")


def test_once_the_run_is_stopping_nothing_is_changed(shop: Any, gateway: EcsGateway) -> None:
    plan = Plan(CLUSTER, [update("web", shop.register(body("web", "2")))])
    shop.calls.clear()
    [row], _, _ = apply(gateway, plan, stopped=True)
    assert (row.status, row.message) == (Status.FAILED, "not changed: the run was interrupted")
    assert row.has(Why.INTERRUPTED) and not row.has(Why.CALL_FAILED)  # ours, not ECS's
    assert shop.mutating_calls() == []


def test_a_deploy_that_raced_the_run_fails_the_row_after_the_update(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    read = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    to = shop.register(body("web", "2"))
    shop.rules.deploy_seconds = 600  # both deploys stay in flight
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3"))
    )
    seen = tuple(d["id"] for d in read["deployments"])
    [row], _, said = apply(gateway, Plan(CLUSTER, [update("web", to, seen=seen)]))
    assert (row.status, row.to, row.changed) == (Status.FAILED, to, True)
    assert row.message == (
        "another deploy (to web:3) started after ecsundo read this service; ecsundo's update "
        "went over it: check the service, then rerun"
    )
    assert said.phases == []  # nothing left to wait for


def test_a_race_with_a_re_registration_names_the_copy_it_went_to(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    read = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    shop.rules.deploy_seconds = 600
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "9"))
    )
    original = TD.format("web:1")
    plan = Plan(CLUSTER)
    seen = tuple(d["id"] for d in read["deployments"])
    plan.add(
        Step("web", SVC.format("web"), Action.REREGISTER, original, original, seen=seen),
        Registration(original, body("web", "1"), []),
    )
    [row], _, _ = apply(gateway, plan)
    assert (row.status, row.to) == (Status.FAILED, TD.format("web:3"))
    assert row.message.startswith("another deploy (to web:2) started after ecsundo read")


def test_a_count_on_the_same_task_definition_does_not_name_it(
    shop: Any, gateway: EcsGateway
) -> None:
    """It may have been deregistered since: ECS would refuse it by name."""
    now = TD.format("web:1")
    shop.client("ecs").deregister_task_definition(taskDefinition=now)
    shop.calls.clear()
    scale = update("web", now, "desired count to 2", desired_count=2)
    [row], _, _ = apply(gateway, Plan(CLUSTER, [scale]))
    assert (row.status, row.to, row.message) == (
        Status.SUCCESS,
        now,
        "desired count to 2; rollout completed",
    )
    [sent] = [c.params for c in shop.calls if c.operation == "UpdateService"]
    assert "taskDefinition" not in sent and sent["desiredCount"] == 2


def test_the_same_task_definition_with_nothing_else_to_send_is_named(
    shop: Any, gateway: EcsGateway
) -> None:
    now = TD.format("web:1")
    shop.calls.clear()
    [row], _, _ = apply(gateway, Plan(CLUSTER, [update("web", now)]))
    [sent] = [c.params for c in shop.calls if c.operation == "UpdateService"]
    assert sent["taskDefinition"] == now and row.status == Status.SUCCESS


def test_settings_alone_on_the_same_task_definition_do_not_name_it(
    shop: Any, gateway: EcsGateway
) -> None:
    now = TD.format("web:1")
    shop.client("ecs").deregister_task_definition(taskDefinition=now)
    registries = [{"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}]
    shop.calls.clear()
    settings = update(
        "web", now, "put back serviceRegistries", settings={"serviceRegistries": registries}
    )
    [row], _, _ = apply(gateway, Plan(CLUSTER, [settings]))
    [sent] = [c.params for c in shop.calls if c.operation == "UpdateService"]
    assert "taskDefinition" not in sent and sent["serviceRegistries"] == registries
    assert (row.status, row.message) == (
        Status.SUCCESS,
        "put back serviceRegistries; rollout completed",
    )


def test_a_phase_s_span_widens_to_cover_every_part_of_it(gateway: EcsGateway) -> None:
    with Threads(1) as threads:
        changes = Changes(gateway, threads, Plan(CLUSTER), Options())
        now = time.monotonic()
        changes._span("update", now - 10)
        changes._span("update", now - 1)  # a later, shorter part: the span stays wide
        changes._span("wait", now - 2)
    spans = changes.durations()
    assert sorted(spans) == ["update", "wait"]
    assert 10 <= spans["update"] < 11 and 2 <= spans["wait"] < 3


# -- re-registration -----------------------------------------------------------------------------


def test_one_registration_serves_every_service_that_needs_it(
    shop: Any, gateway: EcsGateway
) -> None:
    original = TD.format("web:1")
    registration = Registration(original, body("web", "1"), [{"key": "team", "value": "shop"}])
    plan = Plan(CLUSTER)
    for name in ("web", "api"):
        plan.add(
            Step(name, SVC.format(name), Action.REREGISTER, TD.format(f"{name}:1"), original),
            registration,
        )
    shop.calls.clear()
    rows, changes, _ = apply(gateway, plan)
    registered = [c for c in shop.calls if c.operation == "RegisterTaskDefinition"]
    assert len(registered) == 1
    assert [(r.status, r.to) for r in rows] == [(Status.SUCCESS, TD.format("web:2"))] * 2
    assert sorted(changes.durations()) == ["register", "update", "wait"]


def test_a_service_started_after_its_registration_ended_is_updated_to_it_at_once(
    shop: Any, gateway: EcsGateway
) -> None:
    original = TD.format("web:1")
    plan = Plan(CLUSTER)
    registration = Registration(original, body("web", "1"), [])
    for name in ("web", "api"):
        plan.add(
            Step(name, SVC.format(name), Action.REREGISTER, TD.format(f"{name}:1"), original),
            registration,
        )
    shop.calls.clear()
    with Threads(2) as threads:
        changes = Changes(gateway, threads, plan, Options(poll_interval=0.02))
        changes.start(plan.steps[0])
        # web's update follows its registration: once it is sent, the registration is done.
        until(
            lambda: any(c.operation == "UpdateService" for c in list(shop.calls)),
            "web's UpdateService after its registration",
        )
        changes.start(plan.steps[1])
        rows = changes.finish()
    assert [(r.name, r.status, r.to) for r in rows] == [
        ("web", Status.SUCCESS, TD.format("web:2")),
        ("api", Status.SUCCESS, TD.format("web:2")),
    ]
    assert [c.operation for c in shop.calls].count("RegisterTaskDefinition") == 1


def test_a_re_registered_service_s_seconds_count_from_its_registration(
    shop: Any, gateway: EcsGateway
) -> None:
    plan = reregister_web()

    def slow_registration(call: Any) -> None:  # RegisterTaskDefinition's quota is 1/s
        if call.operation == "RegisterTaskDefinition":
            time.sleep(0.15)

    shop.rules.before_request = slow_registration
    [row], _, _ = apply(gateway, plan)
    assert row.status == Status.SUCCESS and row.seconds >= 0.15


def test_a_registration_that_fails_fails_each_update_behind_it(
    shop: Any, gateway: EcsGateway
) -> None:
    plan = reregister_web()
    shop.rules.refusals[("RegisterTaskDefinition", "*")] = "AccessDeniedException"
    [row], changes, _ = apply(gateway, plan)
    assert row.status == Status.FAILED and row.message.startswith(
        "not updated: register task definition web: AccessDeniedException: "
    ), row.message
    assert sorted(changes.durations()) == ["register"]


# -- a stop, and its fallbacks -------------------------------------------------------------------


def in_flight(sim: Any, name: str = "web") -> str:
    """A deploy of name to version 2 that stays IN_PROGRESS: its service deployment ARN."""
    sim.rules.deploy_seconds = 600
    sim.client("ecs").update_service(
        cluster="shop", service=name, taskDefinition=sim.register(body(name, "2"))
    )
    described = sim.client("ecs").describe_services(cluster="shop", services=[name])
    return str(described["services"][0]["currentServiceDeployment"])


def stop(deployment: str, fallback: Step) -> Step:
    return Step(
        "web",
        SVC.format("web"),
        Action.STOP,
        TD.format("web:2"),
        TD.format("web:1"),
        why=saying("stop the in-flight deployment; ECS rolls back to web:1"),
        deployment=deployment,
        fallback=fallback,
    )


def test_a_stop_is_followed_through_ecs_s_own_rollback(shop: Any, gateway: EcsGateway) -> None:
    deployment = in_flight(shop)  # ECS's rollback, too, lasts until the second look
    looks: list[str] = []

    def second_look_finds_it_done(call: Any) -> None:
        if call.operation == "DescribeServiceDeployments":
            looks.append(call.operation)
            if len(looks) == 2:
                shop.finish_deployments()

    shop.rules.before_request = second_look_finds_it_done
    normal = update("web", TD.format("web:1"), "update to web:1", current=TD.format("web:2"))
    shop.calls.clear()
    [row], changes, said = apply(gateway, Plan(CLUSTER, [stop(deployment, normal)]))
    assert (row.action, row.status, row.to, row.changed) == (
        "stop",
        Status.SUCCESS,
        TD.format("web:1"),
        True,
    )
    assert row.message == (
        "stop the in-flight deployment; ECS rolls back to web:1; ECS rolled the deployment back"
    )
    assert said.told[0] == ("web", "ECS is rolling it back (ROLLBACK_IN_PROGRESS)")
    assert [c.operation for c in shop.mutating_calls()] == ["StopServiceDeployment"]
    assert sorted(changes.durations()) == ["update", "wait"]


def test_a_refused_stop_takes_the_normal_step_and_the_row_says_so(
    shop: Any, gateway: EcsGateway
) -> None:
    deployment = in_flight(shop)
    shop.rules.deploy_seconds = 0
    shop.rules.refusals[("StopServiceDeployment", "*")] = "AccessDeniedException"
    normal = update("web", TD.format("web:1"), "update to web:1", current=TD.format("web:2"))
    [row], changes, _ = apply(gateway, Plan(CLUSTER, [stop(deployment, normal)]))
    assert (row.action, row.status, row.to) == ("update", Status.SUCCESS, TD.format("web:1"))
    assert row.what == "updated to web:1"
    prefix = (
        "update to web:1; in-flight deployment not stopped (the stop failed: stop the in-flight "
        "deployment: AccessDeniedException: "
    )
    assert row.message.startswith(prefix), row.message
    assert row.message.endswith("): updated instead; rollout completed"), row.message
    assert sorted(changes.durations()) == ["update", "wait"]


def test_a_deploy_that_finished_first_is_re_registered_instead(
    shop: Any, gateway: EcsGateway
) -> None:
    deployment = in_flight(shop)
    shop.rules.deploy_seconds = 0
    original = TD.format("web:1")

    def finish_first(call: Any) -> None:
        if call.operation == "StopServiceDeployment":
            shop.finish_deployments()

    shop.rules.before_request = finish_first
    normal = Step(
        "web",
        SVC.format("web"),
        Action.REREGISTER,
        TD.format("web:2"),
        original,
        why=saying("re-register web:1"),
    )
    plan = Plan(CLUSTER)
    plan.add(stop(deployment, normal), Registration(original, body("web", "1"), []))
    [row], _, _ = apply(gateway, plan)
    assert (row.action, row.status, row.to) == (
        "re-register",
        Status.SUCCESS,
        TD.format("web:3"),
    )
    assert row.message == (
        "re-register web:1; in-flight deployment not stopped (it finished first): updated "
        "instead; rollout completed"
    )


# -- what runs after a rollout -------------------------------------------------------------------


def moved_tag(sim: Any) -> tuple[Step, str, str]:
    """web's target uses shop/web:good, whose tag moved after the snapshot saw it:
    (the update, the digest the snapshot saw, the digest the tag points at now)."""
    to = sim.register(body("web", "2", image="shop/web:good"))
    saw = sim.digest("shop/web:good")
    now = sim.push("shop/web:good")
    return update("web", to, "update to web:2"), saw, now


def test_a_completed_rollout_of_another_build_than_the_snapshot_saw_fails(
    shop: Any, gateway: EcsGateway
) -> None:
    normal, saw, _ = moved_tag(shop)
    expecting = replace(normal, expect=frozenset({("web", saw)}))
    [row], _, _ = apply(gateway, Plan(CLUSTER, [expecting]))
    assert row.status == Status.FAILED and row.seconds > 0
    assert row.message == (
        "rollout completed, but web runs another build than the snapshot saw (its tag has "
        "moved): restore again with pin-images: always; update to web:2"
    )


def test_every_container_on_another_build_is_named_in_order(shop: Any, gateway: EcsGateway) -> None:
    two = body("web", "2", image="shop/web:good")
    two["containerDefinitions"].append({"name": "log", "image": "shop/log:good", "memory": 64})
    to = shop.register(two)
    saw = {"web": shop.digest("shop/web:good"), "log": shop.digest("shop/log:good")}
    shop.push("shop/web:good")
    shop.push("shop/log:good")
    moved = update("web", to, expect=frozenset(saw.items()))
    [row], _, _ = apply(gateway, Plan(CLUSTER, [moved]))
    assert row.message == (
        "rollout completed, but log, web runs another build than the snapshot saw (its tag has "
        "moved): restore again with pin-images: always"
    )


def test_a_rollout_of_the_build_the_snapshot_saw_succeeds(shop: Any, gateway: EcsGateway) -> None:
    normal, _, now = moved_tag(shop)
    expects = frozenset({("web", now), ("sidecar", "sha256:" + "0" * 64)})  # gone: not judged
    [row], _, _ = apply(gateway, Plan(CLUSTER, [replace(normal, expect=expects)]))
    assert (row.status, row.message) == (Status.SUCCESS, "update to web:2; rollout completed")


def test_when_what_runs_cannot_be_read_the_rollout_s_word_stands(
    shop: Any, gateway: EcsGateway
) -> None:
    normal, saw, _ = moved_tag(shop)
    shop.rules.refusals[("DescribeServiceRevisions", "*")] = "AccessDeniedException"
    expecting = replace(normal, expect=frozenset({("web", saw)}))
    [row], _, _ = apply(gateway, Plan(CLUSTER, [expecting]))
    assert (row.status, row.message) == (Status.SUCCESS, "update to web:2; rollout completed")
