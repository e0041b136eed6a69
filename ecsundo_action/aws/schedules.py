"""Scheduled tasks: EventBridge rule targets and EventBridge Scheduler schedules that run a
task definition in the cluster, read and put back as their APIs document them.

A rule's ECS target is found with ListRuleNamesByTarget (the target's Arn is the cluster's)
on each event bus, then read whole with ListTargetsByRule; PutTargets puts it back whole
(same Id), and answers a refused entry in FailedEntries, not as an error. Scheduler has no
lookup by target: ListSchedules' summaries carry the target's Arn, and GetSchedule reads
each match whole. UpdateSchedule replaces the whole schedule (a field not sent goes back to
its default), so it is always sent everything GetSchedule said. Each API is paced to its
documented quota; botocore retries the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecsundo_action.aws.arns import CLUSTER_ARN
from ecsundo_action.aws.failures import translate
from ecsundo_action.aws.pacing import Pacer
from ecsundo_action.aws.records import Kind, ScheduledTask, jsonable
from ecsundo_action.errors import AwsError, NotFoundError

# EventBridge: 50 requests a second for every API but PutEvents, one budget for all of them
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). Scheduler: 50 a
# second for each of these (https://docs.aws.amazon.com/scheduler/latest/UserGuide/
# scheduler-quotas.html).
EVENTS_QUOTAS = {"*": (50.0, 50.0)}
SCHEDULER_QUOTAS = {op: (50.0, 50.0) for op in ("ListSchedules", "GetSchedule", "UpdateSchedule")}
DEFAULT_BUS, DEFAULT_GROUP = "default", "default"

Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


def _name(container: str, resource: str, default: str) -> str:
    return resource if container == default else f"{container}/{resource}"


class ScheduledTasks:
    """EventBridge and Scheduler in the cluster's Region, through clients made on first use."""

    def __init__(self, make_client: Callable[[str], Any]) -> None:
        self._make = make_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                client = self._make(service)
                quotas = EVENTS_QUOTAS if service == "events" else SCHEDULER_QUOTAS
                Pacer(quotas).attach(client)
                self._clients[service] = client
            return self._clients[service]

    def _call(self, doing: str, service: str, operation: str, **kwargs: Any) -> Any:
        """One call; None when AWS says the resource is not found (it was deleted)."""
        return self._calling(doing, lambda: getattr(self._client(service), operation)(**kwargs))

    def _pages(self, doing: str, service: str, operation: str, **kwargs: Any) -> list[Any]:
        """Every page (empty when AWS says the resource is not found)."""
        pages = self._client(service).get_paginator(operation)
        return self._calling(doing, lambda: list(pages.paginate(**kwargs))) or []

    @staticmethod
    def _calling(doing: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise translate(doing, exc) from exc
        except BotoCoreError as exc:
            raise translate(doing, exc) from exc

    # -- reading -------------------------------------------------------------------------

    def of_cluster(self, cluster_arn: str, map_: Mapper = map) -> list[ScheduledTask]:
        """Every rule target and schedule that runs a task in the cluster, by name."""
        found = self._rule_targets(cluster_arn, map_) + self._schedules(cluster_arn, map_)
        return sorted(found, key=lambda task: (task.name, task.key))

    def _buses(self) -> list[str]:
        buses: list[str] = []
        token: str | None = None
        while True:  # ListEventBuses has no paginator in botocore
            page = self._call(
                "list event buses",
                "events",
                "list_event_buses",
                **({"NextToken": token} if token else {}),
            )
            buses += [bus["Name"] for bus in page.get("EventBuses", [])]
            token = page.get("NextToken")
            if not token:
                return buses or [DEFAULT_BUS]

    def _rule_targets(self, cluster_arn: str, map_: Mapper) -> list[ScheduledTask]:
        def rules_on(bus: str) -> list[tuple[str, str]]:
            pages = self._pages(
                f"list the rules that target cluster {cluster_arn} on event bus {bus}",
                "events",
                "list_rule_names_by_target",
                TargetArn=cluster_arn,
                EventBusName=bus,
            )
            return [(bus, name) for page in pages for name in page.get("RuleNames", [])]

        rules = [rule for found in map_(rules_on, self._buses()) for rule in found]
        tasks: list[ScheduledTask] = []
        for found in map_(lambda rule: self._read_rule(cluster_arn, *rule), rules):
            tasks += found
        return tasks

    def _read_rule(self, cluster_arn: str, bus: str, rule: str) -> list[ScheduledTask]:
        """The rule's targets that run a task in the cluster (none: the rule is gone)."""
        pages = self._pages(
            f"list the targets of rule {rule}",
            "events",
            "list_targets_by_rule",
            Rule=rule,
            EventBusName=bus,
        )
        targets = [t for page in pages for t in page.get("Targets", [])]
        ours = [t for t in targets if t.get("Arn") == cluster_arn and t.get("EcsParameters")]
        name = _name(bus, rule, DEFAULT_BUS)
        return [
            ScheduledTask(
                Kind.RULE,
                name if len(ours) == 1 else f"{name}/{t['Id']}",
                _rule_arn(cluster_arn, bus, rule),
                bus,
                rule,
                t["Id"],
                t,
            )
            for t in ours
        ]

    def _schedules(self, cluster_arn: str, map_: Mapper) -> list[ScheduledTask]:
        pages = self._pages(
            "list schedules", "scheduler", "list_schedules", PaginationConfig={"PageSize": 100}
        )
        ours = [
            (s["GroupName"], s["Name"])
            for page in pages
            for s in page.get("Schedules", [])
            if s.get("Target", {}).get("Arn") == cluster_arn
        ]
        found = map_(lambda where: self._read_schedule(*where), ours)
        return [task for task in found if task is not None]

    def _read_schedule(self, group: str, name: str) -> ScheduledTask | None:
        """The schedule as UpdateSchedule takes it (None: it is gone)."""
        answer = self._call(
            f"get schedule {group}/{name}", "scheduler", "get_schedule", Name=name, GroupName=group
        )
        if answer is None:
            return None
        # What UpdateSchedule takes back (botocore's model says which): all it must be sent.
        model = self._client("scheduler").meta.service_model.operation_model("UpdateSchedule")
        definition = {k: v for k, v in answer.items() if k in model.input_shape.members}
        return ScheduledTask(
            Kind.SCHEDULE,
            _name(group, name, DEFAULT_GROUP),
            str(answer.get("Arn", "")),
            group,
            name,
            None,
            jsonable(definition),
        )

    def read(self, recorded: ScheduledTask, cluster_arn: str) -> ScheduledTask | None:
        """The scheduled task as it is now (None: its rule, target or schedule is gone)."""
        if recorded.kind == Kind.SCHEDULE:
            return self._read_schedule(recorded.container, recorded.resource)
        for task in self._read_rule(cluster_arn, recorded.container, recorded.resource):
            if task.target_id == recorded.target_id:
                return task
        return None

    # -- putting back --------------------------------------------------------------------

    def put(self, task: ScheduledTask, definition: Mapping[str, Any]) -> None:
        """Put the rule's target, or the whole schedule, as `definition` says. AWS's words
        are not repeated when it refuses: they may quote the target's Input."""
        try:
            self._put(task, definition)
        except AwsError as exc:
            if isinstance(exc, NotFoundError) or exc.__cause__ is None:
                raise
            code = getattr(exc.__cause__, "response", {}).get("Error", {}).get("Code")
            raise AwsError(
                f"{_doing(task)}: {code or type(exc.__cause__).__name__} (AWS's message is not "
                "shown: it may quote the target's input)"
            ) from None

    def _put(self, task: ScheduledTask, definition: Mapping[str, Any]) -> None:
        doing = _doing(task)
        if task.kind == Kind.SCHEDULE:
            sent = self._schedule_update(task, definition)
            if self._call(doing, "scheduler", "update_schedule", **sent) is None:
                raise NotFoundError(f"{doing}: the schedule no longer exists")
            return
        answer = self._call(
            doing,
            "events",
            "put_targets",
            Rule=task.resource,
            EventBusName=task.container,
            Targets=[dict(definition)],
        )
        if answer is None:
            raise NotFoundError(f"{doing}: the rule no longer exists")
        for failed in answer.get("FailedEntries") or []:  # refused per entry, not as an error
            raise AwsError(
                f"{doing}: {failed.get('ErrorCode', 'Error')} (AWS's message is not shown: it "
                "may quote the target's input)"
            )

    def _schedule_update(
        self, task: ScheduledTask, definition: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What UpdateSchedule is sent: the definition as read (only what UpdateSchedule
        takes), but a start date already past (Scheduler refuses one more than 5 minutes old,
        and a schedule that started is started). A schedule whose end date is past has ended:
        updating it would start nothing."""
        sent = dict(definition)
        now = datetime.now(UTC)
        end = _moment(sent.get("EndDate"))
        if end is not None and end <= now:
            raise AwsError(f"{_doing(task)}: it ended at {sent['EndDate']}; left as it is")
        start = _moment(sent.get("StartDate"))
        if start is not None and start <= now:
            del sent["StartDate"]
        return sent


def _doing(task: ScheduledTask) -> str:
    if task.kind == Kind.SCHEDULE:
        return f"update schedule {task.name}"
    return f"put the target of rule {task.name}"


def _moment(value: Any) -> datetime | None:
    """A schedule's date, as botocore gives it or as a snapshot keeps it (ISO 8601)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _rule_arn(cluster_arn: str, bus: str, rule: str) -> str:
    match = CLUSTER_ARN.fullmatch(cluster_arn)
    if match is None:
        return rule
    where = f"{match['partition']}:events:{match['region']}:{match['account']}"
    return f"arn:{where}:rule/{rule if bus == DEFAULT_BUS else f'{bus}/{rule}'}"
