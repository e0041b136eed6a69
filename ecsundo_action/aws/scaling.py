"""Service auto scaling: each service's Application Auto Scaling scalable target (its minimum,
maximum and suspended state) and scaling policies, read and put back as the API documents.

DescribeScalableTargets takes up to 50 ResourceIds (service/CLUSTER/SERVICE); policies are
read per service that has a target. RegisterScalableTarget on an existing target changes
what it is given and moves the service's desired count into [min, max]; PutScalingPolicy
creates or replaces a policy by its name. Application Auto Scaling documents no request
rates: calls are paced modestly and botocore retries a ThrottlingException.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecsundo_action.aws.failures import translate
from ecsundo_action.aws.pacing import Pacer
from ecsundo_action.aws.records import NONE, POLICY_FIELDS, SUSPENDED, ScalableTarget

NAMESPACE, DIMENSION = "ecs", "ecs:service:DesiredCount"
TARGETS_BATCH = 50  # DescribeScalableTargets takes up to 50 ResourceIds
# No documented rate (https://docs.aws.amazon.com/autoscaling/application/userguide/
# application-auto-scaling-quotas.html lists resource counts only): a modest bucket each.
SCALING_QUOTAS = {op: (20.0, 10.0) for op in ("DescribeScalableTargets", "DescribeScalingPolicies")}
Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


class AutoScaling:
    """Application Auto Scaling in the cluster's Region, through a client made on first use."""

    def __init__(self, make_client: Callable[[str], Any]) -> None:
        self._make = make_client
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make("application-autoscaling")
                Pacer(SCALING_QUOTAS).attach(self._client)
            return self._client

    def _pages(self, doing: str, operation: str, **kwargs: Any) -> list[Any]:
        try:
            return list(self.client().get_paginator(operation).paginate(**kwargs))
        except (ClientError, BotoCoreError) as exc:
            raise translate(doing, exc) from exc

    def read(
        self, cluster: str, services: Sequence[str], map_: Mapper = map
    ) -> dict[str, ScalableTarget]:
        """Each service's scalable target and policies (NONE: it has no target)."""
        found: dict[str, ScalableTarget] = dict.fromkeys(services, NONE)
        ids = [resource_id(cluster, s) for s in services]
        raw: list[Mapping[str, Any]] = []
        for start in range(0, len(ids), TARGETS_BATCH):
            pages = self._pages(
                f"describe the scalable targets of cluster {cluster}",
                "describe_scalable_targets",
                ServiceNamespace=NAMESPACE,
                ResourceIds=ids[start : start + TARGETS_BATCH],
                ScalableDimension=DIMENSION,
            )
            raw += [t for page in pages for t in page.get("ScalableTargets", [])]
        with_target = [t for t in raw if t.get("ResourceId", "").split("/")[-1] in found]

        def whole(target: Mapping[str, Any]) -> tuple[str, ScalableTarget]:
            name = target["ResourceId"].split("/")[-1]
            pages = self._pages(
                f"describe the scaling policies of service {name}",
                "describe_scaling_policies",
                ServiceNamespace=NAMESPACE,
                ResourceId=target["ResourceId"],
                ScalableDimension=DIMENSION,
            )
            policies = tuple(
                {k: p[k] for k in POLICY_FIELDS if k in p}
                for page in pages
                for p in page.get("ScalingPolicies", [])
            )
            state = target.get("SuspendedState") or {}
            return name, ScalableTarget(
                True,
                int(target["MinCapacity"]),
                int(target["MaxCapacity"]),
                {k: bool(state.get(k, False)) for k in SUSPENDED},
                tuple(sorted(policies, key=lambda p: str(p.get("PolicyName")))),
            )

        found.update(map_(whole, with_target))
        return found

    def register(self, cluster: str, service: str, target: ScalableTarget) -> None:
        """The service's scalable target as recorded: its range and suspended state."""
        try:
            self.client().register_scalable_target(
                **_where(cluster, service),
                MinCapacity=target.min_capacity,
                MaxCapacity=target.max_capacity,
                SuspendedState={k: bool(target.suspended.get(k, False)) for k in SUSPENDED},
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(f"register the scalable target of service {service}", exc) from exc

    def put_policies(
        self, cluster: str, service: str, policies: Sequence[Mapping[str, Any]]
    ) -> None:
        """Each scaling policy as recorded (created, or replaced by its name)."""
        for policy in policies:
            try:
                self.client().put_scaling_policy(**_where(cluster, service), **policy)
            except (ClientError, BotoCoreError) as exc:
                doing = f"put back scaling policy {policy.get('PolicyName')} of service {service}"
                raise translate(doing, exc) from exc


def _where(cluster: str, service: str) -> dict[str, str]:
    return {
        "ServiceNamespace": NAMESPACE,
        "ResourceId": resource_id(cluster, service),
        "ScalableDimension": DIMENSION,
    }
