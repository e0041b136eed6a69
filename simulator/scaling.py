"""AWS's rules for ECS service auto scaling, layered over moto's Application Auto Scaling.

moto keeps a scaling policy's TargetTrackingScalingPolicyConfiguration and
StepScalingPolicyConfiguration exactly as sent, updates only the MinCapacity and MaxCapacity a
RegisterScalableTarget gives, and filters DescribeScalableTargets by ResourceIds exactly. Where
it is wrong, `install` patches it, once per process, to do what the Application Auto Scaling
API reference says:

- RegisterScalableTarget: moto answers ECS's ClusterNotFoundException for an unknown cluster,
  HTTP 500 for a ResourceId that is not service/CLUSTER/SERVICE, takes a deleted service, a
  new target without MinCapacity or MaxCapacity, and a minimum above the maximum; it leaves
  SuspendedState and RoleARN out when not given and never touches the service's desired count.
  AWS answers ValidationException for each, reports the defaults (nothing suspended, the ECS
  service-linked role) and moves the desired count into the new range.
- DescribeScalableTargets pages with a token that never advances (the second page repeats
  forever); AWS pages (MaxResults 1 to 50, 50 by default) and takes at most 50 ResourceIds.
- PutScalingPolicy takes a policy for a target never registered; AWS: ObjectNotFoundException.
- DescribeScalingPolicies matches ResourceId as a substring (service/prod/api's policies show
  for service/prod/api-v2), ignores PolicyNames and gives 100 a page; AWS matches exactly,
  filters by PolicyNames (at most 50) and gives 10 a page (MaxResults 1 to 10).
- DeleteScalingPolicy and DeregisterScalableTarget of nothing answer ValidationException;
  AWS: ObjectNotFoundException. Deregistering keeps the target's policies; AWS deletes them.
"""

from __future__ import annotations

import json
import threading
from typing import Any, cast

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import (
    ApplicationAutoscalingBackend,
    FakeApplicationAutoscalingPolicy,
    FakeScalableTarget,
    _target_params_are_valid,
)
from moto.applicationautoscaling.responses import (
    ApplicationAutoScalingResponse,
    _build_policy,
    _build_target,
)
from moto.core.exceptions import JsonRESTError

from simulator.rules import active_service, keep_desired_count_within, page_after, rules_lock

TARGETS_PAGE = 50  # DescribeScalableTargets MaxResults: 1 to 50, 50 by default
POLICIES_PAGE = 10  # DescribeScalingPolicies MaxResults: 1 to 10, 10 by default
FILTER_LIMIT = 50  # ResourceIds and PolicyNames: at most 50 each
# Nothing is suspended unless asked ("false (default)").
NOT_SUSPENDED = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}
# Application Auto Scaling uses this service-linked role for ECS services.
ECS_ROLE = (
    "arn:aws:iam::{account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ECSService"
)

_lock = threading.Lock()


class ObjectNotFoundException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ObjectNotFoundException", message)


class InvalidNextTokenException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidNextTokenException", "The next token supplied was invalid.")


def _no_target(namespace: str, resource_id: str, dimension: str) -> ObjectNotFoundException:
    return ObjectNotFoundException(
        f"No scalable target registered for service namespace: {namespace}, resource ID: "
        f"{resource_id}, scalable dimension: {dimension}"
    )


def _at_most(values: list[Any] | None, limit: int, what: str) -> None:
    if values is not None and len(values) > limit:
        raise AWSValidationException(
            f"1 validation error detected: Value at '{what}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )


def _page_size(value: int | None, limit: int) -> int:
    if value is not None and not 1 <= value <= limit:
        raise AWSValidationException(f"MaxResults must be between 1 and {limit}.")
    return value or limit


# --- scalable targets ------------------------------------------------------------------------

_moto_register = ApplicationAutoscalingBackend.register_scalable_target
_moto_put_scaling_policy = ApplicationAutoscalingBackend.put_scaling_policy


def _register_scalable_target(
    self: ApplicationAutoscalingBackend,
    namespace: str,
    r_id: str,
    dimension: str,
    min_capacity: int | None,
    max_capacity: int | None,
    role_arn: str | None,
    suspended_state: dict[str, bool] | None,
) -> FakeScalableTarget:
    """An ECS service's scalable target, as RegisterScalableTarget documents it: the service
    must exist; a new target needs both capacities; an update changes only what it gives; the
    service's desired count is moved into the range."""
    if namespace != "ecs":
        target: FakeScalableTarget = _moto_register(
            self,
            namespace,
            r_id,
            dimension,
            min_capacity,
            max_capacity,
            cast(str, role_arn),
            cast(str, suspended_state),  # moto's hints say str; it holds the JSON object
        )
        return target
    _target_params_are_valid(namespace, r_id, dimension)
    kind, _, rest = r_id.partition("/")
    cluster, _, name = rest.partition("/")
    with rules_lock():
        service = active_service(self.account_id, self.region_name, cluster, name)
        if kind != "service" or not name or "/" in name or service is None:
            raise AWSValidationException(f"ECS service doesn't exist: {r_id}")
        existing = self.targets.get(dimension, {}).get(r_id)
        if existing is not None:  # an update keeps what it does not give
            low = cast(int, existing.min_capacity) if min_capacity is None else min_capacity
            high = cast(int, existing.max_capacity) if max_capacity is None else max_capacity
        elif min_capacity is None or max_capacity is None:
            raise AWSValidationException(
                "MinCapacity and MaxCapacity are required when registering a new scalable target."
            )
        else:
            low, high = min_capacity, max_capacity
        if low > high:
            raise AWSValidationException(
                "Minimum capacity cannot be greater than maximum capacity."
            )
        if existing is None:
            existing = FakeScalableTarget(
                self,
                namespace,
                r_id,
                dimension,
                low,
                high,
                role_arn or ECS_ROLE.format(account=self.account_id),
                cast(str, {**NOT_SUSPENDED, **(suspended_state or {})}),
            )
            self._add_scalable_target(existing)
        else:
            existing.min_capacity, existing.max_capacity = low, high
            # Members not given are left as they were, like every parameter of an update.
            was = cast(dict[str, bool], existing.suspended_state) or NOT_SUSPENDED
            existing.suspended_state = cast(str, {**was, **(suspended_state or {})})
        keep_desired_count_within(service, low, high)
        return existing


def _describe_scalable_targets(self: ApplicationAutoScalingResponse) -> str:
    """Filtered by ResourceIds (at most 50) and ScalableDimension, 1 to 50 a page."""
    self._validate_params()
    resource_ids = self._get_param("ResourceIds")
    _at_most(resource_ids, FILTER_LIMIT, "resourceIds")
    size = _page_size(self._get_int_param("MaxResults"), TARGETS_PAGE)
    found = self.applicationautoscaling_backend.describe_scalable_targets(
        self._get_param("ServiceNamespace"), resource_ids, self._get_param("ScalableDimension")
    )
    try:
        page, token = page_after(
            found,
            lambda t: f"{t.resource_id}\t{t.scalable_dimension}",
            size,
            self._get_param("NextToken"),
        )
    except ValueError:
        raise InvalidNextTokenException() from None
    return json.dumps({"ScalableTargets": [_build_target(t) for t in page], "NextToken": token})


def _deregister_scalable_target(
    self: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str
) -> None:
    """Deregistering deletes the target's scaling policies and scheduled actions."""
    if not self._scalable_target_exists(r_id, dimension):
        raise _no_target(namespace, r_id, dimension)
    for policy in list(self.policies.values()):
        if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
            namespace,
            r_id,
            dimension,
        ):
            self.delete_scaling_policy(policy.policy_name, namespace, r_id, dimension)
    self.scheduled_actions = [
        action
        for action in self.scheduled_actions
        if (action.service_namespace, action.resource_id, action.scalable_dimension)
        != (namespace, r_id, dimension)
    ]
    del self.targets[dimension][r_id]


# --- scaling policies ------------------------------------------------------------------------


def _put_scaling_policy(
    self: ApplicationAutoscalingBackend,
    policy_name: str,
    service_namespace: str,
    resource_id: str,
    scalable_dimension: str,
    policy_body: dict[str, Any],
    policy_type: str | None,
) -> FakeApplicationAutoscalingPolicy:
    """A scaling policy needs its registered scalable target (ObjectNotFoundException)."""
    if not self._scalable_target_exists(resource_id, scalable_dimension):
        raise _no_target(service_namespace, resource_id, scalable_dimension)
    policy: FakeApplicationAutoscalingPolicy = _moto_put_scaling_policy(
        self,
        policy_name,
        service_namespace,
        resource_id,
        scalable_dimension,
        policy_body,
        policy_type,
    )
    return policy


def _describe_scaling_policies(self: ApplicationAutoScalingResponse) -> str:
    """Exact ResourceId and ScalableDimension, PolicyNames (at most 50), 1 to 10 a page."""
    namespace = self._get_param("ServiceNamespace")
    resource_id = self._get_param("ResourceId")
    dimension = self._get_param("ScalableDimension")
    names = self._get_param("PolicyNames")
    _at_most(names, FILTER_LIMIT, "policyNames")
    size = _page_size(self._get_int_param("MaxResults"), POLICIES_PAGE)
    found = [
        policy
        for policy in self.applicationautoscaling_backend.policies.values()
        if policy.service_namespace == namespace
        and resource_id in (None, policy.resource_id)
        and dimension in (None, policy.scalable_dimension)
        and (not names or policy.policy_name in names)
    ]
    try:
        page, token = page_after(
            found,
            lambda p: f"{p.resource_id}\t{p.scalable_dimension}\t{p.policy_name}",
            size,
            self._get_param("NextToken"),
        )
    except ValueError:
        raise InvalidNextTokenException() from None
    return json.dumps({"ScalingPolicies": [_build_policy(p) for p in page], "NextToken": token})


_moto_delete_scaling_policy = ApplicationAutoscalingBackend.delete_scaling_policy


def _delete_scaling_policy(
    self: ApplicationAutoscalingBackend,
    policy_name: str,
    service_namespace: str,
    resource_id: str,
    scalable_dimension: str,
) -> None:
    """Deleting a policy that does not exist: ObjectNotFoundException."""
    key = FakeApplicationAutoscalingPolicy.formulate_key(
        service_namespace, resource_id, scalable_dimension, policy_name
    )
    if key not in self.policies:
        raise ObjectNotFoundException(
            f"No scaling policy found for service namespace: {service_namespace}, resource ID: "
            f"{resource_id}, scalable dimension: {scalable_dimension}, policy name: {policy_name}"
        )
    _moto_delete_scaling_policy(
        self, policy_name, service_namespace, resource_id, scalable_dimension
    )


def install() -> None:
    """Layer the rules over moto's Application Auto Scaling in this process; calling it again
    does nothing."""
    with _lock:
        backend, response = ApplicationAutoscalingBackend, ApplicationAutoScalingResponse
        if getattr(backend, "_ecsundo_rules", False):
            return
        backend.register_scalable_target = _register_scalable_target  # type: ignore[method-assign,assignment]
        backend.deregister_scalable_target = _deregister_scalable_target  # type: ignore[method-assign]
        backend.put_scaling_policy = _put_scaling_policy  # type: ignore[method-assign]
        backend.delete_scaling_policy = _delete_scaling_policy  # type: ignore[method-assign]
        response.describe_scalable_targets = _describe_scalable_targets  # type: ignore[method-assign]
        response.describe_scaling_policies = _describe_scaling_policies  # type: ignore[method-assign]
        backend._ecsundo_rules = True  # type: ignore[attr-defined]
