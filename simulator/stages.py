"""ECS's deployment strategies as lifecycle stages, for the simulator.

A ROLLING deployment has no stages: it runs for `Rules.deploy_seconds`, then its outcome
applies. BLUE_GREEN, LINEAR and CANARY deployments (2025) go through ECS's lifecycle stages,
as AWS documents them: the green revision scales up (SCALE_UP takes `deploy_seconds`), takes
the test traffic, then the production traffic (all at once; in steps of `stepPercent` with
`stepBakeTimeInMinutes` between them; or `canaryPercent` for `canaryBakeTimeInMinutes`, then
the rest), bakes for `bakeTimeInMinutes` beside the blue one, and the blue one is cleaned up.
A PAUSE lifecycle hook stops the deployment on entering its stage until
ContinueServiceDeployment, or until its timeout, when its timeout action (ROLLBACK by
default) applies. AWS_LAMBDA hooks are taken as succeeding at once (no Lambda here).

Minutes are `minute` real seconds long, so that tests can bake for "4 minutes" in a second.
The service deployment (DescribeServiceDeployments) shows the stage in `lifecycleStage`,
the traffic weights on its revisions and the hooks in `lifecycleHookDetails`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from moto.core.utils import utcnow

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
# ECS's defaults, from the DeploymentConfiguration reference.
LINEAR_STEP_PERCENT, LINEAR_STEP_BAKE_MINUTES = 10.0, 6
CANARY_PERCENT, CANARY_BAKE_MINUTES = 5.0, 10
HOOK_TIMEOUT_MINUTES, HOOK_TIMEOUT_ACTION = 1440, "ROLLBACK"

State = Literal["running", "done", "rollback"]


@dataclass(frozen=True)
class Stage:
    name: str  # a ServiceDeploymentLifecycleStage
    minutes: float  # how long the stage lasts (0: it passes at once), pauses aside
    production: float  # the green revision's share of production traffic, in %
    test: float  # ... and of test traffic


def stages_of(configuration: Mapping[str, Any]) -> list[Stage]:
    """The lifecycle stages of a deployment with this deploymentConfiguration ([]: ROLLING).
    SCALE_UP's minutes are 0: it lasts the simulator's deploy_seconds instead."""
    strategy = configuration.get("strategy") or "ROLLING"
    if strategy == "ROLLING":
        return []
    stages = [
        Stage("PRE_SCALE_UP", 0, 0, 0),
        Stage("SCALE_UP", 0, 0, 0),
        Stage("POST_SCALE_UP", 0, 0, 0),
        Stage("TEST_TRAFFIC_SHIFT", 0, 0, 100),
        Stage("POST_TEST_TRAFFIC_SHIFT", 0, 0, 100),
    ]
    stages += [
        Stage("PRODUCTION_TRAFFIC_SHIFT", bake, weight, 100)
        for weight, bake in _shifts(strategy, configuration)
    ]
    return [
        *stages,
        Stage("POST_PRODUCTION_TRAFFIC_SHIFT", 0, 100, 100),
        Stage("BAKE_TIME", configuration.get("bakeTimeInMinutes") or 0, 100, 100),
        Stage("CLEAN_UP", 0, 100, 100),
    ]


def _shifts(strategy: str, configuration: Mapping[str, Any]) -> list[tuple[float, float]]:
    """(production weight after the shift, minutes it bakes before the next) per shift."""
    if strategy == "LINEAR":
        linear = configuration.get("linearConfiguration") or {}
        step = float(linear.get("stepPercent") or LINEAR_STEP_PERCENT)
        bake = linear.get("stepBakeTimeInMinutes", LINEAR_STEP_BAKE_MINUTES)
        count = math.ceil(round(100 / step, 6))
        weights = [min(100.0, round(step * i, 1)) for i in range(1, count + 1)]
        return [(w, bake if w < 100 else 0) for w in weights]  # no bake after 100%
    if strategy == "CANARY":
        canary = configuration.get("canaryConfiguration") or {}
        percent = float(canary.get("canaryPercent") or CANARY_PERCENT)
        return [(percent, canary.get("canaryBakeTimeInMinutes", CANARY_BAKE_MINUTES)), (100, 0)]
    return [(100.0, 0)]


_hook_ids = itertools.count(1)


@dataclass
class Progression:
    """Where a staged deployment is: its stage, since when, and the hook it waits for.

    Time is passed in (monotonic seconds); the stage moves on lazily, when someone looks.
    """

    stages: list[Stage]
    hooks: list[Mapping[str, Any]]  # the deployment configuration's lifecycleHooks
    scale_up_seconds: float
    minute: float  # real seconds per minute of the configuration
    index: int = -1
    ends: float = 0.0  # when the current stage ends (monotonic seconds)
    waiting: dict[str, Any] | None = None  # the hook detail awaiting action, if any
    expires: float = math.inf  # ... and when it times out
    details: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(
        cls, configuration: Mapping[str, Any], scale_up_seconds: float, minute: float
    ) -> Progression | None:
        stages = stages_of(configuration)
        if not stages:
            return None
        hooks = list(configuration.get("lifecycleHooks") or [])
        return cls(stages, hooks, scale_up_seconds, minute)

    def stop_after_scale_up(self) -> None:
        """A deployment whose tasks fail never gets past scaling up."""
        names = [s.name for s in self.stages]
        self.stages = self.stages[: names.index("SCALE_UP") + 1]

    @property
    def stage(self) -> Stage | None:
        return self.stages[self.index] if 0 <= self.index < len(self.stages) else None

    def begin(self, now: float, deployment: dict[str, Any]) -> None:
        self._enter(0, now, deployment)

    def advance(self, now: float, deployment: dict[str, Any]) -> State:
        """Move through every stage whose time is over; show where it is on deployment."""
        while True:
            if self.waiting is not None:
                if now < self.expires:
                    return "running"
                action, expired = self.waiting["timeoutAction"], self.expires
                self._resolve("TIMED_OUT", deployment)
                if action == "ROLLBACK":
                    return "rollback"
                self.ends = expired + self._seconds(self.stage)
            if now < self.ends:
                return "running"
            if self.index + 1 >= len(self.stages):
                return "done"
            self._enter(self.index + 1, self.ends, deployment)

    def proceed(self, hook_id: str, now: float, deployment: dict[str, Any]) -> bool:
        """ContinueServiceDeployment CONTINUE: False when no such hook awaits action."""
        if self.waiting is None or self.waiting["hookId"] != hook_id:
            return False
        self._resolve("SUCCEEDED", deployment)
        self.ends = now + self._seconds(self.stage)
        return True

    def give_up(self, hook_id: str, deployment: dict[str, Any]) -> bool:
        """ContinueServiceDeployment ROLLBACK: False when no such hook awaits action."""
        if self.waiting is None or self.waiting["hookId"] != hook_id:
            return False
        self._resolve("FAILED", deployment)
        return True

    def _seconds(self, stage: Stage | None) -> float:
        if stage is None:
            return 0.0
        if stage.name == "SCALE_UP":
            return self.scale_up_seconds
        return stage.minutes * self.minute

    def _enter(self, index: int, at: float, deployment: dict[str, Any]) -> None:
        first_entry = self.stage is None or self.stage.name != self.stages[index].name
        self.index = index
        stage = self.stages[index]
        deployment["lifecycleStage"] = stage.name
        deployment["targetServiceRevision"].update(
            requestedProductionTrafficWeight=stage.production,
            requestedTestTrafficWeight=stage.test,
        )
        for source in deployment.get("sourceServiceRevisions", []):
            source.update(
                requestedProductionTrafficWeight=100.0 - stage.production,
                requestedTestTrafficWeight=100.0 - stage.test,
            )
        self.ends = at + self._seconds(stage)
        if not first_entry:
            return  # a hook runs once per stage, not once per linear step
        for hook in self.hooks:
            if stage.name not in (hook.get("lifecycleStages") or []):
                continue
            detail = {
                "hookId": f"hook-{next(_hook_ids):06d}",
                "targetType": hook.get("targetType") or "AWS_LAMBDA",
                "status": "SUCCEEDED",
            }
            if hook.get("hookTargetArn"):
                detail["targetArn"] = hook["hookTargetArn"]
            self.details.append(detail)
            if detail["targetType"] == "PAUSE":
                timeout = hook.get("timeoutConfiguration") or {}
                minutes = timeout.get("timeoutInMinutes") or HOOK_TIMEOUT_MINUTES
                detail.update(
                    status="AWAITING_ACTION",
                    expiresAt=utcnow() + timedelta(seconds=minutes * self.minute),
                    timeoutAction=timeout.get("action") or HOOK_TIMEOUT_ACTION,
                )
                self.waiting, self.expires = detail, at + minutes * self.minute
                self.ends = math.inf
                break
        deployment["lifecycleHookDetails"] = [dict(d) for d in self.details]

    def _resolve(self, status: str, deployment: dict[str, Any]) -> None:
        assert self.waiting is not None
        self.waiting["status"] = status
        self.waiting, self.expires = None, math.inf
        deployment["lifecycleHookDetails"] = [dict(d) for d in self.details]
