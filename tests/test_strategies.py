"""Waiting on services that ECS deploys in lifecycle stages (BLUE_GREEN, LINEAR, CANARY) or
holds at a PAUSE hook: every row says where the rollout is, while waiting and on timeout,
and a rollout a hook rolled back says so. Against the simulator's model of those stages."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.aws.records import ServiceDeployment
from ecsundo_action.render.markdown import of
from ecsundo_action.result import Phase, Status
from ecsundo_action.wait import where
from simulator import Rules
from tests.conftest import Lines, body, ecsundo, restore_with, run
from tests.runner import defaults, run_step

PAUSE = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}


def deployment(stage: str, strategy: str = "BLUE_GREEN", **extra: Any) -> dict[str, Any]:
    configuration = {"strategy": strategy, **extra.pop("configuration", {})}
    return {
        "status": "IN_PROGRESS",
        "lifecycleStage": stage,
        "deploymentConfiguration": configuration,
        "targetServiceRevision": {"arn": "r", **extra.pop("target", {})},
        **extra,
    }


@pytest.mark.parametrize(
    ("found", "seconds", "said"),
    [
        (
            deployment("BAKE_TIME", configuration={"bakeTimeInMinutes": 4}),
            0,
            "bake time, 4 min left",
        ),
        (
            deployment("BAKE_TIME", configuration={"bakeTimeInMinutes": 4}),
            61,
            "bake time, 3 min left",
        ),
        (
            deployment("BAKE_TIME", configuration={"bakeTimeInMinutes": 4}),
            900,
            "bake time, 0 min left",
        ),
        (
            deployment(
                "PRODUCTION_TRAFFIC_SHIFT",
                "LINEAR",
                target={"requestedProductionTrafficWeight": 30.0},
                configuration={"linearConfiguration": {"stepPercent": 10.0}},
            ),
            0,
            "linear step 3 of 10 (30% of production traffic)",
        ),
        (
            deployment(
                "PRODUCTION_TRAFFIC_SHIFT",
                "LINEAR",
                target={"requestedProductionTrafficWeight": 20.0},
            ),
            0,
            "linear step 2 of 10 (20% of production traffic)",  # ECS's default: 10% steps
        ),
        (
            deployment(
                "PRODUCTION_TRAFFIC_SHIFT",
                "CANARY",
                target={"requestedProductionTrafficWeight": 5.0},
            ),
            0,
            "canary: 5% of production traffic",
        ),
        (
            deployment(
                "POST_TEST_TRAFFIC_SHIFT",
                lifecycleHookDetails=[
                    {"hookId": "h-0", "targetType": "AWS_LAMBDA", "status": "SUCCEEDED"},
                    {"hookId": "h-1", "targetType": "PAUSE", "status": "AWAITING_ACTION"},
                ],
            ),
            0,
            "paused at POST_TEST_TRAFFIC_SHIFT: hook h-1 waits for ContinueServiceDeployment",
        ),
        (
            deployment(
                "PRE_SCALE_UP",
                lifecycleHookDetails=[{"hookId": "h-2", "status": "IN_PROGRESS"}],
            ),
            0,
            "at PRE_SCALE_UP: hook h-2 running",
        ),
        (
            deployment(
                "SCALE_UP",
                lifecycleHookDetails=[{"hookId": "::warning::x\n", "status": "AWAITING_ACTION"}],
            ),
            0,
            "paused at SCALE_UP: hook ? waits for ContinueServiceDeployment",  # AWS text: inert
        ),
        (deployment("TEST_TRAFFIC_SHIFT"), 0, "at TEST_TRAFFIC_SHIFT"),
        (deployment("SCALE_UP", status="ROLLBACK_IN_PROGRESS"), 0, "ECS is rolling it back"),
        (deployment("::error::NOT_A_STAGE"), 0, None),
        ({"status": "IN_PROGRESS"}, 0, None),  # a rolling update: nothing to add
    ],
)
def test_where_a_staged_rollout_is_in_words(
    found: dict[str, Any], seconds: float, said: str | None
) -> None:
    assert where(ServiceDeployment.from_api(found), seconds) == said


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    sim.create_service("shop", "api", sim.register(body("api", "1")))
    return sim


def deployed_over(sim: Any, configuration: dict[str, Any]) -> None:
    """api moves to revision 2 (the bad deploy), then is configured to deploy this way: the
    restore's own deployment is the first to go through its stages."""
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="api", taskDefinition=sim.register(body("api", "2")))
    ecs.update_service(cluster="shop", service="api", deploymentConfiguration=configuration)


def test_a_restore_into_a_paused_service_says_where_it_waits_and_times_out_saying_so(
    shop: Any, workspace: Path
) -> None:
    snap = run_step("entrypoint.py", defaults(mode="snapshot", cluster="shop"), shop.env, workspace)
    deployed_over(shop, {"strategy": "BLUE_GREEN", "lifecycleHooks": [PAUSE]})
    shop.rules.deploy_seconds = 0.1
    began = time.monotonic()
    restored = run_step(
        "entrypoint.py",
        defaults(
            mode="restore",
            cluster="shop",
            snapshot_id=snap.outputs["snapshot-id"],
            timeout_minutes="0.1",
        ),
        shop.env,
        workspace,
    )
    waited = time.monotonic() - began
    assert restored.returncode == 1
    # How long it waited, not only what it says: 0.1 minute is 6 s. A unit mix-up would end
    # the wait at once (0.1 s) or after hours (every real restore would time out or hang).
    assert 6.0 <= waited < 60, waited
    paused = re.compile(
        r"paused at POST_TEST_TRAFFIC_SHIFT: hook hook-\d+ waits for ContinueServiceDeployment"
    )
    # The wait's last line, when the time is up, says where it was left.
    waiting = (
        rf"\d+s of 6s: 0 done, 1 rolling: api rollout IN_PROGRESS, 0/2 running; {paused.pattern}"
    )
    assert re.search(waiting, restored.stdout), restored.stdout
    [api] = json.loads(restored.outputs["services"])
    assert api["status"] == "failed" and api["message"].startswith("timed out after 6s"), api
    assert paused.search(api["message"])
    assert paused.search(restored.summary.replace("\\", ""))  # Markdown-escaped there
    assert any(paused.search(e) for e in restored.errors)


def test_a_linear_rollout_is_followed_step_by_step_to_success(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    deployed_over(
        shop,
        {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 4,
            "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1},
        },
    )
    shop.rules = Rules(deploy_seconds=0.1, minute_seconds=0.3)
    said = Lines()
    result = restore_with(gateway, store, said)
    [api] = result.services
    assert api.status == Status.SUCCESS, api
    step = next(i for i, line in enumerate(said.lines) if "linear step 1 of 2 (50% of" in line)
    bake = [i for i, line in enumerate(said.lines) if line.endswith("; bake time, 4 min left")]
    assert said.lines[step].startswith("api: rollout IN_PROGRESS, ") and step < bake[0]
    # A line when the words change, not one per look.
    assert len(bake) == 1, said.lines
    # The row knows ECS staged its rollout: the summary draws its timeline for that alone.
    assert api.staged and [s.phase for s in api.spans] == [Phase.UPDATE, Phase.ROLLOUT]
    assert "rollout (staged) :" in of(result)


def test_a_rollout_a_hook_rolled_back_fails_saying_which_hook(
    shop: Any, gateway: EcsGateway, tmp_path: Path
) -> None:
    store = f"file://{tmp_path}"
    run(gateway, "snapshot", "shop", store=store)
    hook = {**PAUSE, "timeoutConfiguration": {"timeoutInMinutes": 2, "action": "ROLLBACK"}}
    deployed_over(shop, {"strategy": "CANARY", "lifecycleHooks": [hook]})
    shop.rules = Rules(deploy_seconds=0.1, minute_seconds=0.2)
    said = Lines()
    result = restore_with(gateway, store, said)
    [api] = result.services
    assert api.status == Status.FAILED, api
    assert re.search(r"lifecycle hook hook-\d+ timed out", api.message), api.message
    # Seen while failing, or (on a busy machine, which looks less often) once ECS's rollback
    # has settled: either way the row says it failed and names the hook.
    assert api.message.startswith(("rollout FAILED", "service is on api:2, not api:1"))
    assert any("waits for ContinueServiceDeployment" in line for line in said.lines)


def test_through_the_cli_a_timeout_says_where_the_rollout_waits(shop: Any, tmp_path: Path) -> None:
    store = f"file://{tmp_path}"
    taken = ecsundo(shop, "cluster", "snapshot", "shop", "--store", store)
    assert taken.returncode == 0, taken.stderr
    deployed_over(shop, {"strategy": "BLUE_GREEN", "lifecycleHooks": [PAUSE]})
    shop.rules.deploy_seconds = 0.1
    began = time.monotonic()
    restored = ecsundo(
        shop,
        *("cluster", "restore", "shop", "--store", store, "--snapshot-id", "latest"),
        *("--timeout", "0.1", "--poll-interval", "0.2", "--json"),
    )
    waited = time.monotonic() - began
    assert restored.returncode == 1, restored.stderr
    [api] = json.loads(restored.stdout)["services"]
    assert api["status"] == "failed" and api["message"].startswith("timed out after 6s"), api
    assert 6.0 <= waited < 60, waited  # --timeout 0.1 is 6 s of waiting, as said
    assert "waits for ContinueServiceDeployment" in api["message"], api
