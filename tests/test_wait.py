"""wait.py's rules word for word: judge's verdicts and the stale-read grace at its edge,
rollback_verdict, where() at the edges of its arithmetic, and wait_for's loop (what it tells,
when, how its pause grows, what seconds it reports) with a fake clock against the stand-in."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from ecsundo_action import wait
from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import Deployment, Service, ServiceDeployment, _number
from ecsundo_action.progress import Progress
from ecsundo_action.threads import Threads
from ecsundo_action.wait import STALE_READ_GRACE, Settled, wait_for, where
from tests.conftest import TD, body, in_words


def judge(*args: Any, **kwargs: Any) -> tuple[bool, str] | None:
    """wait.judge, its reason in words."""
    return in_words(wait.judge(*args, **kwargs))


def rollback_verdict(*args: Any, **kwargs: Any) -> tuple[bool, str] | None:
    """wait.rollback_verdict, its reason in words."""
    return in_words(wait.rollback_verdict(*args, **kwargs))


OLD, NEW = TD.format("web:1"), TD.format("web:2")
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/shop"


def service(*deployments: Deployment, on: str | None = NEW) -> Service:
    return Service(
        "web", "arn:aws:ecs:us-east-1:123456789012:service/shop/web", on, deployments=deployments
    )


def primary(td: str | None = NEW, state: str | None = "COMPLETED", **counts: Any) -> Deployment:
    return Deployment("ecs-svc/2", "PRIMARY", td, state, **counts)


# -- judge ---------------------------------------------------------------------------------------

OVER = "(ECS rolled it back, or it was deployed over)"


@pytest.mark.parametrize(
    ("described", "verdict"),
    [
        (service(primary()), (True, "rollout completed")),
        (
            service(primary(state="FAILED", rollout_state_reason="tasks failed to start.")),
            (False, "rollout FAILED: tasks failed to start."),
        ),
        (service(primary(state="FAILED")), (False, "rollout FAILED")),
        (service(primary(state="IN_PROGRESS")), None),
        (service(on=OLD), (False, f"service is on web:1, not web:2 {OVER}")),
        (service(on=None), (False, f"service is on ?, not web:2 {OVER}")),
        # On the target, but with no deployment driving it there yet: still rolling.
        (service(), None),
        (service(primary(OLD)), None),
        # Without rolloutState: a lone deployment running its count.
        (
            service(primary(state=None, running_count=0, desired_count=0)),
            (True, "0/0 tasks running"),
        ),
        (service(primary(state=None, running_count=3, desired_count=2)), None),
    ],
)
def test_judge_says_each_settled_state_in_exact_words(
    described: Service, verdict: tuple[bool, str] | None
) -> None:
    assert judge(described, NEW) == verdict


def test_the_stale_read_grace_ends_exactly_at_its_length() -> None:
    old = Deployment("ecs-svc/1", "PRIMARY", OLD, "COMPLETED")
    stale = service(old, on=OLD)
    assert judge(stale, NEW, ours="ecs-svc/2", elapsed=STALE_READ_GRACE - 0.001) is None
    assert judge(stale, NEW, ours="ecs-svc/2", elapsed=STALE_READ_GRACE) == (
        False,
        f"service is on web:1, not web:2 {OVER}",
    )


# -- rollback_verdict (the cases test_rare_paths leaves out) -------------------------------------


@pytest.mark.parametrize(
    ("deployment", "verdict"),
    [
        ({"status": "STOPPED"}, (False, "the deployment ended STOPPED instead of rolling back")),
        ({"status": "ROLLBACK_REQUESTED"}, None),
        ({"status": "PENDING"}, None),
        ({}, None),
        (
            {"status": "ROLLBACK_FAILED", "statusReason": "  no  room "},
            (False, "ECS's rollback FAILED: no room"),
        ),
        ({"status": "ROLLBACK_FAILED", "statusReason": " \n "}, (False, "ECS's rollback FAILED")),
    ],
)
def test_rollback_verdict_for_the_remaining_statuses(
    deployment: dict[str, Any], verdict: tuple[bool, str] | None
) -> None:
    assert rollback_verdict(ServiceDeployment.from_api(deployment)) == verdict


# -- where (the edges test_strategies leaves out) ------------------------------------------------


def staged(stage: str, strategy: str = "BLUE_GREEN", **extra: Any) -> dict[str, Any]:
    return {
        "status": "IN_PROGRESS",
        "lifecycleStage": stage,
        "deploymentConfiguration": {"strategy": strategy, **extra.pop("configuration", {})},
        **extra,
    }


def linear(weight: float, step: float | None) -> dict[str, Any]:
    configuration = {"linearConfiguration": {"stepPercent": step} if step else {}}
    return staged(
        "PRODUCTION_TRAFFIC_SHIFT",
        "LINEAR",
        configuration=configuration,
        targetServiceRevision={"requestedProductionTrafficWeight": weight},
    )


def canary(stage: str, weight: float) -> dict[str, Any]:
    return staged(
        stage, "CANARY", targetServiceRevision={"requestedProductionTrafficWeight": weight}
    )


@pytest.mark.parametrize(
    ("found", "seconds", "said"),
    [
        (
            {"status": "ROLLBACK_REQUESTED", "lifecycleStage": "SCALE_UP"},
            0,
            "ECS is rolling it back",
        ),
        ({"status": "ROLLBACK_IN_PROGRESS"}, 0, "ECS is rolling it back"),
        ({"status": "IN_PROGRESS", "lifecycleStage": "SOMETHING_NEW"}, 0, None),
        ({"status": "IN_PROGRESS"}, 0, None),
        # A hook without an id, or with one that is not printable as is, is "?".
        (
            staged("POST_SCALE_UP", lifecycleHookDetails=[{"status": "AWAITING_ACTION"}]),
            0,
            "paused at POST_SCALE_UP: hook ? waits for ContinueServiceDeployment",
        ),
        (
            staged(
                "POST_SCALE_UP", lifecycleHookDetails=[{"hookId": "a b", "status": "IN_PROGRESS"}]
            ),
            0,
            "at POST_SCALE_UP: hook ? running",
        ),
        (
            staged(
                "POST_SCALE_UP",
                lifecycleHookDetails=[
                    {"hookId": "done", "status": "SUCCEEDED"},
                    {"hookId": "arn:aws:lambda:x/y-1.2", "status": "IN_PROGRESS"},
                ],
            ),
            0,
            "at POST_SCALE_UP: hook arn:aws:lambda:x/y-1.2 running",
        ),
        # Bake time left counts whole minutes of 60 s, rounded up.
        (staged("BAKE_TIME", configuration={"bakeTimeInMinutes": 1}), 60, "bake time, 0 min left"),
        (staged("BAKE_TIME", configuration={"bakeTimeInMinutes": 2}), 59, "bake time, 2 min left"),
        (staged("BAKE_TIME", configuration={"bakeTimeInMinutes": "5"}), 0, "bake time, 0 min left"),
        # Linear steps are rounded up, never to the nearest (30% steps: 4 of them).
        (linear(30, 30), 0, "linear step 1 of 4 (30% of production traffic)"),
        (linear(25, 10), 0, "linear step 3 of 10 (25% of production traffic)"),
        (linear(0, 10), 0, "linear step 1 of 10 (0% of production traffic)"),
        (linear(100, 30), 0, "linear step 4 of 4 (100% of production traffic)"),
        (linear(50, None), 0, "linear step 5 of 10 (50% of production traffic)"),
        (linear(math.inf, 10), 0, "linear step 1 of 10 (0% of production traffic)"),
        # Only a CANARY shifting production traffic, and not yet all of it, is a canary.
        (canary("PRODUCTION_TRAFFIC_SHIFT", 5), 0, "canary: 5% of production traffic"),
        (canary("PRODUCTION_TRAFFIC_SHIFT", 100), 0, "at PRODUCTION_TRAFFIC_SHIFT"),
        (canary("TEST_TRAFFIC_SHIFT", 5), 0, "at TEST_TRAFFIC_SHIFT"),
        (staged("PRODUCTION_TRAFFIC_SHIFT"), 0, "at PRODUCTION_TRAFFIC_SHIFT"),
        (staged("SCALE_UP", "LINEAR"), 0, "at SCALE_UP"),
    ],
)
def test_where_at_the_edges_of_its_rules(found: dict[str, Any], seconds: float, said: str) -> None:
    assert where(ServiceDeployment.from_api(found), seconds) == said


@pytest.mark.parametrize(
    ("value", "number"),
    [(3, 3.0), (2.5, 2.5), (math.nan, 0.0), (-math.inf, 0.0), ("7", 0.0), (None, 0.0)],
)
def test_only_finite_numbers_count_as_numbers(value: Any, number: float) -> None:
    assert _number(value) == number


# -- wait_for's loop, with a fake clock ---------------------------------------------------------


class Told(Progress):
    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []

    def waiting(self, service: str, text: str) -> None:
        self.told.append((service, text))


class Clock:
    """Time that passes only when the loop sleeps (and by steps a test chooses)."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    return sim


def waited(
    gateway: EcsGateway,
    targets: dict[str, str],
    *,
    clock: Clock,
    sleep: Callable[[float], None] | None = None,
    **options: Any,
) -> dict[str, Settled]:
    """wait_for on a pool of two, on the test's clock (which its sleeps advance)."""
    with Threads(2) as threads:
        return wait_for(
            gateway, threads, CLUSTER, targets, clock=clock, sleep=sleep or clock.sleep, **options
        )


def deploy(sim: Any, name: str, *, seconds: float = 600, desired: int = 1) -> tuple[str, str]:
    """name on version 1, then a deploy to version 2 taking seconds; (service ARN, target)."""
    arn = sim.create_service("shop", name, sim.register(body(name, "1")), desired_count=desired)
    sim.rules.deploy_seconds = seconds
    target = sim.register(body(name, "2"))
    sim.client("ecs").update_service(cluster="shop", service=name, taskDefinition=target)
    return arn, target


def test_the_pause_doubles_from_one_second_up_to_the_interval_and_stops_at_the_deadline(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web")
    clock = Clock()
    shop.calls.clear()
    settled = waited(
        gateway,
        {arn: target},
        timeout=20,
        interval=6,
        started={arn: 95.0},
        clock=clock,
    )
    assert clock.slept == [1, 2, 4, 6, 6, 1]  # the last one only up to the deadline
    assert settled[arn].ok is False and settled[arn].seconds == 25  # since the update
    # A rolling update has no stages to tell of: ECS's history is not read for it.
    assert {c.operation for c in shop.calls} == {"DescribeServices"}
    assert settled[arn].message == "timed out after 20s (rollout IN_PROGRESS, 0/1 running)"


def test_an_interval_under_a_second_is_the_pause_from_the_start(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web")
    clock = Clock()
    waited(
        gateway,
        {arn: target},
        timeout=1,
        interval=0.4,
        clock=clock,
    )
    assert clock.slept == pytest.approx([0.4, 0.4, 0.2])


def test_seconds_count_from_when_each_update_was_sent(shop: Any, gateway: EcsGateway) -> None:
    arn, target = deploy(shop, "web", seconds=0)
    clock = Clock(100.0)
    told = Told()
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        started={arn: 93.0},
        progress=told,
        clock=clock,
    )
    assert settled[arn].seconds == 7 and settled[arn].message == "rollout completed"
    assert told.told == [("web", "rollout completed (7s)")]
    assert clock.slept == []  # settled on the first look: no sleep


def test_without_a_start_time_seconds_count_from_the_wait(shop: Any, gateway: EcsGateway) -> None:
    arn, target = deploy(shop, "web", seconds=0)
    other, _ = deploy(shop, "api", seconds=0)
    clock = Clock(100.0)
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        started={other: 50.0},  # another service's start is not this one's
        clock=clock,
    )
    assert settled[arn].seconds == 0


def test_our_deployment_seen_under_another_task_definition_fails_at_once(
    shop: Any, gateway: EcsGateway
) -> None:
    """Someone deployed over ours: no stale-read grace once our deployment has been seen."""
    arn, target = deploy(shop, "web")
    ecs = shop.client("ecs")
    ours = ecs.describe_services(cluster="shop", services=["web"])["services"][0]["deployments"][0]
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3"))
    )
    clock = Clock(100.0)
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        started={arn: 100.0},
        ours={arn: ours["id"]},
        clock=clock,
    )
    assert settled[arn].message == f"service is on web:3, not web:2 {OVER}"
    assert clock.slept == []


def test_a_stale_read_is_waited_out_for_the_grace_counted_from_the_update(
    shop: Any, gateway: EcsGateway
) -> None:
    """ECS still shows the old task definition and not our deployment: a stale read, until
    STALE_READ_GRACE seconds after the update."""
    arn = shop.create_service("shop", "web", shop.register(body("web", "1")), desired_count=1)
    target = shop.register(body("web", "2"))  # the update ECS has not shown yet
    clock = Clock(100.0)
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        started={arn: 97.0},
        ours={arn: "ecs-svc/ours"},
        clock=clock,
    )
    assert clock.slept == [1, 2]  # looks 3, 4 and 6 s after the update
    assert (settled[arn].ok, settled[arn].seconds, settled[arn].message) == (
        False,
        6.0,
        f"service is on web:1, not web:2 {OVER}",
    )


def test_a_stopped_deployment_is_followed_through_ecs_s_rollback(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web")
    ecs = shop.client("ecs")
    deployment = ecs.describe_services(cluster="shop", services=["web"])["services"][0][
        "currentServiceDeployment"
    ]
    shop.rules.deploy_seconds = 600  # ECS's rollback takes until the test lets time pass
    gateway.stop_service_deployment(deployment)
    clock = Clock(100.0)
    told = Told()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 2:
            shop.finish_deployments()

    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        started={arn: 99.0},
        stopped={arn: deployment},
        progress=told,
        clock=clock,
        sleep=sleep,
    )
    assert told.told == [
        ("web", "ECS is rolling it back (ROLLBACK_IN_PROGRESS)"),
        ("web", "ECS rolled the deployment back (4s)"),
    ]
    assert settled[arn].ok and settled[arn].seconds == 4
    assert settled[arn].revisions == () and settled[arn].deployment is None


def test_a_state_is_told_again_only_when_it_changes_or_15_seconds_on(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web", desired=2)
    clock = Clock(0.0)
    told: list[tuple[float, str]] = []

    class At(Progress):
        def waiting(self, service: str, text: str) -> None:
            told.append((clock.now, text))

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 16:
            shop.finish_deployments()

    waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=5,
        progress=At(),
        clock=clock,
        sleep=sleep,
    )
    # Looks at 0, 1, 3, 7, 12, 17: told at 0, again at 17 (15 s on), then settled.
    assert told == [
        (0, "rollout IN_PROGRESS, 0/2 running"),
        (17, "rollout completed (17s)"),
    ]


def test_a_repeat_is_due_at_exactly_15_seconds(shop: Any, gateway: EcsGateway) -> None:
    arn, target = deploy(shop, "web")
    clock = Clock(0.0)
    told: list[float] = []

    class At(Progress):
        def waiting(self, service: str, text: str) -> None:
            told.append(clock.now)

    waited(
        gateway,
        {arn: target},
        timeout=30,
        interval=15,
        progress=At(),
        clock=clock,
        sleep=lambda s: clock.sleep(15),  # every look 15 s after the last
    )
    assert told == [0, 15, 30]


def test_a_read_that_fails_settles_every_pending_service_in_words(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web")
    shop.rules.refusals[("DescribeServices", "*")] = "AccessDeniedException"
    clock = Clock(100.0)
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        clock=clock,
    )
    assert settled[arn].ok is False and settled[arn].message == (
        "updated, but its rollout could not be followed: describe services: "
        "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not "
        "authorized to perform: ecs:DescribeServices on resource: * because no identity-based "
        "policy allows the ecs:DescribeServices action"
    )
    assert settled[arn].seconds == 0 and clock.slept == []


def test_a_service_deleted_while_waiting_is_a_failure_in_words(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web")
    shop.client("ecs").delete_service(cluster="shop", service="web", force=True)
    clock = Clock(100.0)
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        clock=clock,
    )
    assert settled[arn].message == "service was deleted while waiting"
    assert settled[arn].ok is False and clock.slept == []


def test_bake_time_left_counts_from_when_the_stage_was_first_seen(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    arn = shop.create_service("shop", "web", shop.register(body("web", "1")), desired_count=1)
    pause = {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}
    configuration = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2, "lifecycleHooks": [pause]}
    ecs.update_service(cluster="shop", service="web", deploymentConfiguration=configuration)
    shop.rules.minute_seconds = 600  # it bakes for the whole test (real time)
    target = shop.register(body("web", "2"))
    ecs.update_service(cluster="shop", service="web", taskDefinition=target)
    clock = Clock(1000.0)
    told: list[tuple[float, str]] = []

    class At(Progress):
        def waiting(self, service: str, text: str) -> None:
            told.append((clock.now - 1000, text))

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now == 1031:  # someone lets the paused rollout go on: it bakes from here
            [deployment] = ecs.describe_service_deployments(
                serviceDeploymentArns=[
                    ecs.describe_services(cluster="shop", services=["web"])["services"][0][
                        "currentServiceDeployment"
                    ]
                ]
            )["serviceDeployments"]
            [hook] = deployment["lifecycleHookDetails"]
            ecs.continue_service_deployment(
                serviceDeploymentArn=deployment["serviceDeploymentArn"], hookId=hook["hookId"]
            )

    waited(
        gateway,
        {arn: target},
        timeout=130,
        interval=60,
        progress=At(),
        clock=clock,
        sleep=sleep,
    )
    # Looks at 0, 1, 3, 7, 15, 31, 63, 123 and 130 s; baking from 31 s: a minute less at 123.
    running = "rollout IN_PROGRESS, 0/1 running"
    assert [(at, text.split("; ")[1]) for at, text in told] == [
        (0, told[0][1].split("; ")[1]),
        (15, told[0][1].split("; ")[1]),
        (31, "bake time, 2 min left"),
        (63, "bake time, 2 min left"),
        (123, "bake time, 1 min left"),
    ]
    assert told[0][1].startswith(f"{running}; paused at POST_SCALE_UP: hook ")
    assert all(text.startswith(running) for _, text in told)


def test_a_staged_service_whose_stage_says_nothing_is_told_by_its_counts_alone(
    shop: Any, gateway: EcsGateway
) -> None:
    ecs = shop.client("ecs")
    arn = shop.create_service("shop", "web", shop.register(body("web", "1")), desired_count=1)
    hook = {
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
        "roleArn": "arn:aws:iam::123456789012:role/ecs-hooks",
        "lifecycleStages": ["POST_SCALE_UP"],
    }
    configuration = {"strategy": "ROLLING", "lifecycleHooks": [hook]}
    ecs.update_service(cluster="shop", service="web", deploymentConfiguration=configuration)
    target = shop.register(body("web", "2"))
    shop.rules.deploy_seconds = 600
    ecs.update_service(cluster="shop", service="web", taskDefinition=target)
    clock = Clock(0.0)
    told = Told()
    settled = waited(
        gateway,
        {arn: target},
        timeout=1,
        interval=6,
        progress=told,
        clock=clock,
    )
    assert told.told == [("web", "rollout IN_PROGRESS, 0/1 running")]
    assert settled[arn].message == "timed out after 1s (rollout IN_PROGRESS, 0/1 running)"


def test_a_stopped_deployment_whose_rollback_cannot_be_read_settles_failed_at_once(
    shop: Any, gateway: EcsGateway
) -> None:
    arn, target = deploy(shop, "web")
    shop.rules.refusals[("DescribeServiceDeployments", "*")] = "AccessDeniedException"
    clock = Clock(100.0)
    told = Told()
    settled = waited(
        gateway,
        {arn: target},
        timeout=60,
        interval=6,
        started={arn: 98.0},
        stopped={arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/web/x"},
        progress=told,
        clock=clock,
    )
    said = settled[arn].message
    assert said.startswith(
        "stopped, but ECS's rollback could not be followed: read service-deployment history: "
        "AccessDeniedException: "
    ), said
    assert (settled[arn].ok, settled[arn].seconds, settled[arn].message) == (False, 2.0, said)
    assert told.told == [("web", f"{said} (2s)")] and clock.slept == []


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        # An endpoint without rolloutState: the counts alone.
        (lambda d: d.pop("rolloutState"), "rollout unknown, 0/1 running"),
        # No deployment is PRIMARY (between two of ECS's writes): nothing to count.
        (lambda d: d.update(status="ACTIVE"), "rollout unknown"),
    ],
)
def test_a_rollout_ecs_says_nothing_about_is_told_as_unknown(
    shop: Any, gateway: EcsGateway, edit: Any, said: str
) -> None:
    from moto.ecs.models import ecs_backends

    from simulator.rules import rules_lock

    arn, target = deploy(shop, "web")
    with rules_lock():  # no API makes ECS answer this way: moto's state, in this process
        edit(ecs_backends[shop.account_id][shop.region].services["shop:web"].deployments[0])
    clock = Clock(0.0)
    told = Told()
    settled = waited(
        gateway,
        {arn: target},
        timeout=1,
        interval=6,
        progress=told,
        clock=clock,
    )
    assert told.told == [("web", said)]
    assert settled[arn].message == f"timed out after 1s ({said})"
