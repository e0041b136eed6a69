"""AWS's rules for scheduled tasks, layered over moto's EventBridge and EventBridge Scheduler.

moto keeps an ECS target's EcsParameters and RoleArn exactly as sent, finds rules by the exact
target ARN (ListRuleNamesByTarget, per event bus, paged), refuses PutTargets on a missing rule
and DeleteRule on a rule that still has targets, and replaces a schedule's whole target on
UpdateSchedule. Where it is wrong, `install` patches it, once per process, to do what the
EventBridge and EventBridge Scheduler API references say:

- ListTargetsByRule pages by the target's Arn, which every ECS target of a cluster shares: the
  second page repeats the first forever. AWS pages by target (at most 100 per page).
- PutTargets takes any number of entries onto any number of targets, and never fails an
  entry. AWS takes 10 entries per request, 5 targets per rule (LimitExceededException), and
  may fail single entries (FailedEntryCount, FailedEntries): `Rules.target_failures` makes it.
- UpdateSchedule leaves State unset (GetSchedule then shows none) and ignores
  ActionAfterCompletion. AWS resets every field not given to its default: ENABLED, NONE.
- CreateSchedule in a group that does not exist answers HTTP 500; AWS: ResourceNotFoundException.
- ListSchedules takes any MaxResults; AWS takes 1 to 100.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.events.exceptions import ResourceNotFoundException
from moto.events.models import EventsBackend, Rule
from moto.events.responses import EventsHandler
from moto.scheduler.exceptions import ValidationException as SchedulerValidationException
from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule
from moto.scheduler.responses import EventBridgeSchedulerResponse

from simulator.rules import active_rules, page_after

TARGETS_PER_RULE = 5  # EventBridge: "Each rule can have up to five (5) targets"
ENTRIES_PER_REQUEST = 10  # PutTargets and RemoveTargets: "10 entries per request"
TARGETS_PAGE = 100  # ListTargetsByRule: "maximum number of results per page ... is 100"
SCHEDULES_PAGE = (1, 100)  # ListSchedules MaxResults: 1 to 100

_lock = threading.Lock()  # a rule's targets are read, checked and changed in one step


class LimitExceededException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "LimitExceededException", "The requested resource exceeds the maximum number allowed."
        )


class EventsValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class InvalidToken(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidToken", "The pagination token is invalid or expired.")


# --- EventBridge rules and targets -----------------------------------------------------------


def _rule(handler: EventsHandler) -> Rule:
    backend: EventsBackend = handler.events_backend
    name = handler._get_param("Rule")
    bus = backend._normalize_event_bus_arn(handler._get_param("EventBusName"))
    rule = backend._get_event_bus(bus).rules.get(name)
    if rule is None:
        raise ResourceNotFoundException(f"Rule {name} does not exist on EventBus {bus}.")
    return rule


def _list_targets_by_rule(self: EventsHandler) -> tuple[str, dict[str, Any]]:
    """One page of a rule's targets in the order of their Ids (at most 100 a page)."""
    limit = int(self._get_param("Limit") or TARGETS_PAGE)
    if not 1 <= limit <= TARGETS_PAGE:
        raise EventsValidationException(f"Limit must be between 1 and {TARGETS_PAGE}.")
    with _lock:
        targets = list(_rule(self).targets)
    try:
        page, token = page_after(
            targets, lambda t: str(t["Id"]), limit, self._get_param("NextToken")
        )
    except ValueError:
        raise InvalidToken() from None
    answer: dict[str, Any] = {"Targets": page}
    if token is not None:
        answer["NextToken"] = token
    return json.dumps(answer), self.response_headers


def _failed(rule: Rule, ids: list[str]) -> list[dict[str, str]]:
    """The entries `Rules.target_failures` fails, as AWS reports them (the rest go through)."""
    failures = active_rules().target_failures
    found = []
    for target_id in ids:
        code = failures.get((rule.name, target_id)) or failures.get((rule.name, "*"))
        if code is not None:
            message = f"Target {target_id} could not be changed: {code}."
            found.append({"TargetId": target_id, "ErrorCode": code, "ErrorMessage": message})
    return found


def _entries(ids: list[Any], what: str) -> None:
    # PutTargets and RemoveTargets each take at most 10 entries per request.
    if len(ids) > ENTRIES_PER_REQUEST:
        raise EventsValidationException(
            f"1 validation error detected: Value at '{what}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {ENTRIES_PER_REQUEST}"
        )


def _put_targets(self: EventsHandler) -> tuple[str, dict[str, Any]]:
    """At most 10 entries, at most 5 targets on the rule after it; failed entries change
    nothing and are reported, the others are put."""
    targets: list[dict[str, Any]] = self._get_param("Targets") or []
    _entries(targets, "targets")
    with _lock:
        rule = _rule(self)
        failed = _failed(rule, [target["Id"] for target in targets])
        skipped = {entry["TargetId"] for entry in failed}
        going = [target for target in targets if target["Id"] not in skipped]
        ids = {target["Id"] for target in rule.targets} | {target["Id"] for target in going}
        if len(ids) > TARGETS_PER_RULE:
            raise LimitExceededException()
        if going:
            self.events_backend.put_targets(rule.name, self._get_param("EventBusName"), going)
    answer = {"FailedEntryCount": len(failed), "FailedEntries": failed}
    return json.dumps(answer), self.response_headers


def _remove_targets(self: EventsHandler) -> tuple[str, dict[str, Any]]:
    """At most 10 entries; failed entries change nothing and are reported."""
    ids: list[str] = self._get_param("Ids") or []
    _entries(ids, "ids")
    with _lock:
        rule = _rule(self)
        failed = _failed(rule, ids)
        skipped = {entry["TargetId"] for entry in failed}
        rule.remove_targets([target_id for target_id in ids if target_id not in skipped])
    answer = {"FailedEntryCount": len(failed), "FailedEntries": failed}
    return json.dumps(answer), self.response_headers


# --- EventBridge Scheduler -------------------------------------------------------------------

_moto_create_schedule = EventBridgeSchedulerBackend.create_schedule
_moto_list_schedules_response = EventBridgeSchedulerResponse.list_schedules


def _create_schedule(self: EventBridgeSchedulerBackend, **fields: Any) -> Schedule:
    """The group must exist (ResourceNotFoundException); ActionAfterCompletion is NONE unless
    given."""
    self.get_schedule_group(fields.get("group_name"))
    schedule: Schedule = _moto_create_schedule(self, **fields)
    schedule.action_after_completion = fields.get("action_after_completion") or "NONE"
    return schedule


def _update_schedule(self: EventBridgeSchedulerResponse) -> str:
    """UpdateSchedule replaces the whole schedule: every field not given takes its default
    (State ENABLED, ActionAfterCompletion NONE, no Description, no KMS key, no dates, the
    timezone UTC, the target's RetryPolicy 185 attempts over 24 hours)."""
    schedule = self.scheduler_backend.get_schedule(
        self._get_param("GroupName"), self.uri.split("?")[0].split("/")[-1]
    )
    schedule.update(
        description=self._get_param("Description"),
        end_date=self._get_param("EndDate"),
        flexible_time_window=self._get_param("FlexibleTimeWindow"),
        kms_key_arn=self._get_param("KmsKeyArn"),
        schedule_expression=self._get_param("ScheduleExpression"),
        schedule_expression_timezone=self._get_param("ScheduleExpressionTimezone"),
        start_date=self._get_param("StartDate"),
        state=self._get_param("State") or "ENABLED",
        target=self._get_param("Target"),
    )
    schedule.action_after_completion = self._get_param("ActionAfterCompletion") or "NONE"
    return json.dumps({"ScheduleArn": schedule.arn})


def _list_schedules(self: EventBridgeSchedulerResponse) -> str:
    """MaxResults is 1 to 100 (ValidationException), as ListSchedules documents."""
    size = self._get_int_param("MaxResults")
    low, high = SCHEDULES_PAGE
    if size is not None and not low <= size <= high:
        raise SchedulerValidationException(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {high}"
        )
    answer: str = _moto_list_schedules_response(self)
    return answer


def install() -> None:
    """Layer the rules over moto's EventBridge and Scheduler in this process; calling it again
    does nothing."""
    with _lock:
        if getattr(EventsHandler, "_ecsundo_rules", False):
            return
        EventsHandler.list_targets_by_rule = _list_targets_by_rule  # type: ignore[method-assign]
        EventsHandler.put_targets = _put_targets  # type: ignore[method-assign]
        EventsHandler.remove_targets = _remove_targets  # type: ignore[method-assign]
        EventBridgeSchedulerBackend.create_schedule = _create_schedule  # type: ignore[method-assign,assignment]
        EventBridgeSchedulerResponse.update_schedule = _update_schedule  # type: ignore[method-assign]
        EventBridgeSchedulerResponse.list_schedules = _list_schedules  # type: ignore[method-assign]
        EventsHandler._ecsundo_rules = True  # type: ignore[attr-defined]
