"""moto in server mode (real HTTP) with AWS's ECS rules, a log of every call, and seeding helpers.

    with Simulator() as sim:
        ecs = sim.client("ecs")                       # or run a subprocess with env=sim.env
        ...
        assert [c.operation for c in sim.mutating_calls()] == ["UpdateService"]

moto keeps its state per process, so only one Simulator runs in a process at a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import random
import socket
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import quote

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

from simulator import kms, scaling, schedules
from simulator.rules import (
    Rules,
    activate,
    age_deployments,
    install,
    missing_resource,
    rules_lock,
)
from simulator.wire import UnparsedCall, parse_call, service_model

#: Dummy credentials: moto accepts any, and maps these to its default account.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"

READ_PREFIXES = ("Describe", "List", "Get", "Head", "Verify")  # VerifyMac changes nothing

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Call(NamedTuple):
    """One AWS request the simulator received.

    `service` is the signing name of the request (ecs, s3, sts); `operation` the botocore
    operation name; `params` the request's parameters under botocore's member names
    (for S3 PutObject: Bucket, Key, ServerSideEncryption, SSEKMSKeyId, Body, ...).
    """

    service: str
    operation: str
    params: dict[str, Any]
    at: float = 0.0  # wall-clock arrival (time.time()), for timing other processes
    user_agent: str = ""  # who called: ecsundo's clients say "ecsundo" in theirs


def _signing_service(authorization: str) -> str | None:
    """The service in a SigV4 credential scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request."""
    _, found, rest = authorization.partition("Credential=")
    scope = rest.split(",")[0].split("/")
    return scope[3] if found and len(scope) > 3 else None


def _signing_region(authorization: str) -> str:
    """The Region in a SigV4 credential scope."""
    scope = authorization.partition("Credential=")[2].split(",")[0].split("/")
    return scope[2] if len(scope) > 2 else "us-east-1"


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    return stream.read() if environ.get("wsgi.input_terminated") else b""


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers under their HTTP names (WSGI keeps them as HTTP_X_AMZ_TARGET)."""
    found = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-").title()] = environ[key]
    return found


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as sent, still percent-encoded (PATH_INFO is decoded once already)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    return quote(environ.get("PATH_INFO", "/"))


def _parse_call(service: str, environ: dict[str, Any], body: bytes) -> Call:
    """Name the operation and read its parameters (raises UnparsedCall)."""
    operation, params = parse_call(
        service,
        environ.get("REQUEST_METHOD", "GET"),
        _raw_path(environ),
        environ.get("QUERY_STRING", ""),
        _headers(environ),
        body,
    )
    return Call(service, operation, params)


class _Buckets:
    """Token buckets, one per quota (an operation, or a service's shared budget), refilled by
    the clock."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}  # quota -> (tokens, stamp)
        self._lock = threading.Lock()

    def take(self, operation: str, burst: float, rate: float) -> bool:
        with self._lock:
            now = time.monotonic()
            tokens, stamp = self._state.get(operation, (burst, now))
            tokens = min(burst, tokens + (now - stamp) * rate)
            allowed = tokens >= 1
            self._state[operation] = (tokens - 1 if allowed else tokens, now)
            return allowed

    def clear(self) -> None:
        with self._lock:
            self._state.clear()


_INTERNAL = json.dumps({"__type": "ServerException", "message": "Service unavailable"}).encode()


# What ECS (or KMS) says with each error code a test may inject (Rules.refusals).
_REFUSALS = {
    "AccessDeniedException": "User: arn:aws:sts::{account}:assumed-role/deploy/ci is not "
    "authorized to perform: {prefix}:{operation} on resource: {name} because no "
    "identity-based policy allows the {prefix}:{operation} action",
    "InvalidParameterException": "Invalid parameter for {operation}: {name}.",
    "ClientException": "{operation} failed for {name}: the request was refused.",
    "ServiceNotFoundException": "Service not found.",
    "ClusterNotFoundException": "Cluster not found.",
}


# Services whose calls Rules.refusals may refuse, and how IAM names their actions.
_IAM_PREFIX = {
    "ecs": "ecs",
    "tagging": "tag",
    "kms": "kms",
    "ecr": "ecr",
    "events": "events",
    "scheduler": "scheduler",
    "application-autoscaling": "application-autoscaling",
}


def _names(params: dict[str, Any]) -> set[str]:
    """The services, families, clusters, rules and schedules a request names, by their short
    names (a scalable target's ResourceId service/CLUSTER/SERVICE names both)."""
    found: set[str] = set()
    for key in ("service", "family", "cluster", "taskDefinition", "Name", "Rule", "TargetArn"):
        value = params.get(key)
        if isinstance(value, str):
            found.add(value.rsplit("/", 1)[-1].split(":")[0])
    for value in params.get("services") or []:
        found.add(str(value).rsplit("/", 1)[-1])
    for value in [params.get("ResourceId"), *(params.get("ResourceIds") or [])]:
        kind, _, rest = str(value).partition("/")
        if kind == "service" and rest:
            found.update(rest.split("/"))
    return found


# The HTTP status a REST-JSON service (Scheduler) answers each error with; the JSON 1.1
# services answer 400 for all of them.
_REST_STATUS = {
    "AccessDeniedException": "403 Forbidden",
    "ResourceNotFoundException": "404 Not Found",
    "ConflictException": "409 Conflict",
    "ThrottlingException": "429 Too Many Requests",
}


def _error(
    start_response: Callable[..., Any], service: str, code: str, message: str
) -> list[bytes]:
    """An AWS error in the service's own protocol: JSON 1.1 {"__type", "message"} with 400,
    or REST-JSON's X-Amzn-ErrorType header, {"Message"} and the error's own status."""
    if _protocol(service) == "rest-json":
        body = json.dumps({"Message": message}).encode()
        status = _REST_STATUS.get(code, "400 Bad Request")
        return _answer(start_response, status, body, "application/json", code)
    body = json.dumps({"__type": code, "message": message}).encode()
    return _answer(start_response, "400 Bad Request", body)


def _protocol(service: str) -> str:
    try:
        return str(service_model(service).resolved_protocol)
    except Exception:  # a signing name botocore does not know: the recorder said so already
        return "json"


def _refusal(rules: Rules, call: Call) -> tuple[str, str] | None:
    """The injected error for this call: (code, message), or None."""
    for name in [*sorted(_names(call.params)), "*"]:
        code = rules.refusals.get((call.operation, name))
        if code is not None:
            template = _REFUSALS.get(code, "{operation} refused.")
            prefix = _IAM_PREFIX.get(call.service, call.service)
            message = template.format(
                account=DEFAULT_ACCOUNT_ID, operation=call.operation, name=name, prefix=prefix
            )
            return code, message
    return None


def _quota(rules: Rules, call: Call) -> tuple[str, tuple[float, float]] | None:
    """The token bucket this call draws from and its (burst, rate), if it is throttled."""
    if call.service == "ecs":
        keys = [call.operation]
    else:
        keys = [f"{call.service}:{call.operation}", f"{call.service}:*"]
    return next(((key, rules.quotas[key]) for key in keys if key in rules.quotas), None)


def _answer(
    start_response: Callable[..., Any],
    status: str,
    body: bytes,
    content_type: str = "application/x-amz-json-1.1",
    error_type: str | None = None,
) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if error_type is not None:
        headers.append(("X-Amzn-ErrorType", error_type))
    start_response(status, headers)
    return [body]


def _drop(environ: dict[str, Any]) -> list[bytes]:
    """Close the connection without an answer, as a network fault or a dead endpoint does."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("simulated dropped connection")


class _Recorder:
    """WSGI middleware that logs every signed AWS request, applies the Rules' latency,
    refusals and quotas, then hands the request to moto.

    Requests arrive on several threads; list.append is atomic, so the logs need no lock.
    """

    def __init__(self, app: WSGIApp, rules: Callable[[], Rules]) -> None:
        self.app = app
        self.rules = rules
        self.calls: list[Call] = []
        self.throttled: list[Call] = []
        self.unparsed: list[str] = []  # requests it could not name: each fails its test
        self.buckets = _Buckets()
        self.served: Counter[str] = Counter()  # requests handed to moto, per operation
        self._lock = threading.Lock()
        self._random = random.Random(0)
        self._seed: int | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        service = _signing_service(environ.get("HTTP_AUTHORIZATION", ""))
        if not service:
            return self.app(environ, start_response)
        arrived = time.time()
        try:
            call = _parse_call(service, environ, body)
        except Exception as error:  # UnparsedCall, or a bug in reading it: the same to a test
            # Never an un-metered call: the request fails, and the fixture fails its test.
            # 501, not 500: botocore retries a 500 up to ten times before giving up.
            why = error if isinstance(error, UnparsedCall) else repr(error)
            line = f"{service} {environ.get('REQUEST_METHOD')} {_raw_path(environ)}: {why}"
            self.unparsed.append(line)
            answer = {"__type": "UnparsedCall", "message": f"the simulator cannot read {line}"}
            return _answer(start_response, "501 Not Implemented", json.dumps(answer).encode())
        call = call._replace(at=arrived, user_agent=environ.get("HTTP_USER_AGENT", ""))
        self.calls.append(call)
        rules = self.rules()
        if rules.latency_seconds:
            time.sleep(rules.latency_seconds)
        if self._down(rules, call):
            return _drop(environ)
        fault = self._fault(rules)
        if fault == "drop":
            return _drop(environ)
        if fault == "error":
            return _answer(start_response, "500 Internal Server Error", _INTERNAL)
        refusal = _refusal(rules, call) if service in _IAM_PREFIX and rules.refusals else None
        if (
            refusal is None
            and service == "ecs"
            and call.operation in ("CreateService", "UpdateService")
        ):
            region = _signing_region(environ.get("HTTP_AUTHORIZATION", ""))
            refusal = missing_resource(call.params, rules.deleted, DEFAULT_ACCOUNT_ID, region)
        if refusal is not None:
            return _error(start_response, service, *refusal)
        quota = _quota(rules, call)
        if fault == "throttle" or (quota and not self.buckets.take(quota[0], *quota[1])):
            self.throttled.append(call)
            return _error(start_response, service, "ThrottlingException", "Rate exceeded")
        if rules.before_request is not None:
            rules.before_request(call)
        self.served[call.operation] += 1
        return self.app(environ, start_response)

    def _down(self, rules: Rules, call: Call) -> bool:
        if rules.outage_after is None:
            return False
        operation, count = rules.outage_after
        return self.served[operation] >= count

    def _fault(self, rules: Rules) -> str | None:
        if not (rules.throttle_rate or rules.error_rate or rules.drop_rate):
            return None
        with self._lock:
            if self._seed != rules.seed:
                self._random, self._seed = random.Random(rules.seed), rules.seed
            draw = self._random.random()
        for fault, rate in (
            ("throttle", rules.throttle_rate),
            ("error", rules.error_rate),
            ("drop", rules.drop_rate),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return None


_running_lock = threading.Lock()
_running: Simulator | None = None


class Simulator:
    """An AWS endpoint for tests: moto's server with ECS's real rules. Not started on creation."""

    account_id = DEFAULT_ACCOUNT_ID

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._rules = Rules()
        self._server: ThreadedMotoServer | None = None
        self._recorder: _Recorder | None = None
        self._endpoint_url: str | None = None
        self._session: boto3.session.Session | None = None
        self._ecs_client: Any = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Simulator:
        global _running
        with _running_lock:
            if _running is not None:
                raise RuntimeError(
                    "a Simulator is already running in this process; moto's state is per "
                    "process, so stop it first"
                )
            install()
            kms.install()
            schedules.install()
            scaling.install()
            activate(self._rules)
            _quiet_request_log()
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            # Wrap the app before anyone knows the port: no request can slip past the log.
            wsgi_server = server._server
            assert wsgi_server is not None
            self._recorder = _Recorder(wsgi_server.app, lambda: self._rules)
            wsgi_server.app = self._recorder
            host, port = server.get_host_and_port()
            self._server = server
            self._endpoint_url = f"http://{host}:{port}"
            _running = self
        return self

    def stop(self) -> None:
        global _running
        with _running_lock:
            if self._server is not None:
                self._server.stop()
            self._server = None
            self._endpoint_url = None
            self._session = None
            self._ecs_client = None
            if _running is self:
                _running = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        unparsed = list(self.unparsed) if self._recorder is not None else []
        self.stop()
        if exc is None and unparsed:
            # A benchmark or demo whose calls went unmetered must not print its figures.
            raise RuntimeError("the simulator could not read: " + "; ".join(unparsed))

    def reset(self) -> None:
        """Wipe every moto backend, clear the call log and restore the default Rules."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(request) as response:
            response.read()
        self.calls.clear()
        self.throttled.clear()
        self.unparsed.clear()
        if self._recorder is not None:
            self._recorder.buckets.clear()
            self._recorder.served.clear()
        self.rules = Rules()

    # --- where and how to connect ------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the Simulator is not started")
        return self._endpoint_url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 in a subprocess at the simulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for `service` on the simulator with dummy credentials."""
        if self._session is None:
            self._session = boto3.session.Session(
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                region_name=self.region,
            )
        return self._session.client(service, endpoint_url=self.endpoint_url, **kwargs)

    @property
    def rules(self) -> Rules:
        """The Rules the simulated ECS follows; change its fields at any time."""
        return self._rules

    @rules.setter
    def rules(self, rules: Rules) -> None:
        """New Rules start afresh: full token buckets (an idle account), no requests counted
        toward an outage."""
        self._rules = rules
        if self._recorder is not None:
            self._recorder.buckets.clear()
            self._recorder.served.clear()
        if _running is self:
            activate(rules)

    # --- the call log ------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every AWS request received since the last reset, in arrival order.

        The live log: `sim.calls.clear()` forgets the calls that seeded a test's state.
        """
        if self._recorder is None:
            raise RuntimeError("the Simulator is not started")
        return self._recorder.calls

    @property
    def throttled(self) -> list[Call]:
        """The calls answered with ThrottlingException (they are in `calls` too)."""
        if self._recorder is None:
            raise RuntimeError("the Simulator is not started")
        return self._recorder.throttled

    @property
    def unparsed(self) -> list[str]:
        """Signed requests the recorder could not name or read (each was answered with a 501),
        one line each: service, method, path and why. The `sim` fixture fails a test that
        leaves any."""
        if self._recorder is None:
            raise RuntimeError("the Simulator is not started")
        return self._recorder.unparsed

    def mutating_calls(self) -> list[Call]:
        """The calls that may change something: not Describe*, List*, Get*, Head* or Verify*."""
        return [call for call in self.calls if not call.operation.startswith(READ_PREFIXES)]

    # --- seeding (over HTTP, like any client, except what no API can do) ----------------------

    def _ecs(self) -> Any:
        if self._ecs_client is None:
            self._ecs_client = self.client("ecs")
        return self._ecs_client

    def create_cluster(self, name: str) -> str:
        """Create a cluster; returns its ARN."""
        return self._ecs().create_cluster(clusterName=name)["cluster"]["clusterArn"]

    def register(self, body: dict[str, Any]) -> str:
        """Register a task definition (RegisterTaskDefinition's arguments); returns its ARN."""
        response = self._ecs().register_task_definition(**body)
        return response["taskDefinition"]["taskDefinitionArn"]

    def create_service(
        self,
        cluster: str,
        name: str,
        task_definition: str,
        desired_count: int = 2,
        scheduling_strategy: str = "REPLICA",
        launch_type: str | None = "EC2",
        capacity_provider_strategy: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> str:
        """Create a service; returns its ARN.

        A DAEMON service is sent no desiredCount; a capacity provider strategy replaces the
        launch type. `extra` holds any other CreateService arguments (tags, ...).
        """
        request: dict[str, Any] = {
            "cluster": cluster,
            "serviceName": name,
            "taskDefinition": task_definition,
            "schedulingStrategy": scheduling_strategy,
            **extra,
        }
        if scheduling_strategy != "DAEMON":
            request["desiredCount"] = desired_count
        if capacity_provider_strategy:
            request["capacityProviderStrategy"] = capacity_provider_strategy
        elif launch_type:
            request["launchType"] = launch_type
        return self._ecs().create_service(**request)["service"]["serviceArn"]

    def push(self, image: str) -> str:
        """A new build pushed under image's tag (`repo:tag`): deployments from now on resolve
        the tag to the returned digest; the ones before keep the digest they resolved."""
        from moto.ecs.models import ecs_backends

        from simulator.history import history_of

        with rules_lock():
            return history_of(ecs_backends[self.account_id][self.region]).registry.push(image)

    def expire(self, image: str) -> str:
        """ECR deletes the build image names (repo:tag or repo@digest), as a lifecycle policy
        does; returns its digest. A deployment of it would fail to pull."""
        from moto.ecs.models import ecs_backends

        from simulator.history import history_of

        with rules_lock():
            return history_of(ecs_backends[self.account_id][self.region]).registry.expire(image)

    def digest(self, image: str) -> str:
        """The digest image's tag points at now."""
        from moto.ecs.models import ecs_backends

        from simulator.history import history_of

        with rules_lock():
            return history_of(ecs_backends[self.account_id][self.region]).registry.resolve(image)

    def finish_deployments(self) -> None:
        """Time passes: every deployment under way is due now (it settles on the next call
        that looks at its service), except one paused at a lifecycle hook."""
        from moto.ecs.models import ecs_backends

        with rules_lock():
            for service in ecs_backends[self.account_id][self.region].services.values():
                rollout = getattr(service, "_ecsundo_rollout", None)
                if rollout is not None and (rollout.stages is None or not rollout.stages.waiting):
                    rollout.stages, rollout.due = None, 0.0  # a paused one waits on

    # --- scheduled tasks and service auto scaling ----------------------------------------------

    def cluster_arn(self, cluster: str) -> str:
        """The ARN of a cluster given by name (an ARN is returned as it is)."""
        if cluster.startswith("arn:"):
            return cluster
        return f"arn:aws:ecs:{self.region}:{self.account_id}:cluster/{cluster}"

    def put_rule_target(
        self,
        rule: str,
        cluster: str,
        task_definition: str,
        *,
        target_id: str = "ecs-task",
        schedule_expression: str = "cron(0 3 * * ? *)",
        role_arn: str | None = None,
        **ecs_parameters: Any,
    ) -> str:
        """A scheduled task as an EventBridge rule (made on first use, on the default bus) whose
        target `target_id` runs `task_definition` in `cluster` (name or ARN); `ecs_parameters`
        are the target's other EcsParameters under the API's names (TaskCount=2, ...).
        Returns the rule's ARN."""
        events = self.client("events")
        try:
            arn = str(events.describe_rule(Name=rule)["Arn"])
        except events.exceptions.ResourceNotFoundException:
            arn = events.put_rule(Name=rule, ScheduleExpression=schedule_expression)["RuleArn"]
        target = {
            "Id": target_id,
            "Arn": self.cluster_arn(cluster),
            "RoleArn": role_arn or f"arn:aws:iam::{self.account_id}:role/ecsEventsRole",
            "EcsParameters": {"TaskDefinitionArn": task_definition, **ecs_parameters},
        }
        answer = events.put_targets(Rule=rule, Targets=[target])
        if answer["FailedEntryCount"]:
            raise RuntimeError(f"PutTargets failed: {answer['FailedEntries']}")
        return arn

    def delete_rule(self, rule: str) -> None:
        """Delete a rule as AWS lets one: its targets first, then the rule."""
        events = self.client("events")
        ids = [target["Id"] for target in events.list_targets_by_rule(Rule=rule)["Targets"]]
        if ids:
            events.remove_targets(Rule=rule, Ids=ids)
        events.delete_rule(Name=rule)

    def create_schedule(
        self,
        name: str,
        cluster: str,
        task_definition: str,
        *,
        group: str = "default",
        schedule_expression: str = "cron(0 3 * * ? *)",
        role_arn: str | None = None,
        **ecs_parameters: Any,
    ) -> str:
        """A scheduled task as an EventBridge Scheduler schedule (in `group`, made on first
        use) that runs `task_definition` in `cluster` (name or ARN); `ecs_parameters` are the
        target's other EcsParameters under the API's names. Returns the schedule's ARN."""
        scheduler = self.client("scheduler")
        if group != "default":
            try:
                scheduler.get_schedule_group(Name=group)
            except scheduler.exceptions.ResourceNotFoundException:
                scheduler.create_schedule_group(Name=group)
        target = {
            "Arn": self.cluster_arn(cluster),
            "RoleArn": role_arn or f"arn:aws:iam::{self.account_id}:role/ecsSchedulerRole",
            "EcsParameters": {"TaskDefinitionArn": task_definition, **ecs_parameters},
        }
        answer = scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=schedule_expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
        )
        return str(answer["ScheduleArn"])

    def register_scalable_target(
        self,
        cluster: str,
        service: str,
        min_capacity: int,
        max_capacity: int,
        suspended: dict[str, bool] | None = None,
    ) -> str:
        """Service auto scaling for `service` of `cluster` (names): its desired count kept
        within [min_capacity, max_capacity]; `suspended` is a SuspendedState
        ({"DynamicScalingInSuspended": True, ...}). Returns the scalable target's ARN."""
        extra = {"SuspendedState": suspended} if suspended is not None else {}
        answer = self.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{cluster}/{service}",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=min_capacity,
            MaxCapacity=max_capacity,
            **extra,
        )
        return str(answer["ScalableTargetARN"])

    def put_scaling_policy(
        self,
        cluster: str,
        service: str,
        name: str,
        target_value: float,
        metric: str = "ECSServiceAverageCPUUtilization",
    ) -> str:
        """A target tracking policy on the service's scalable target (register it first):
        `metric` (a predefined ECS metric) held at `target_value`. Returns the policy's ARN."""
        answer = self.client("application-autoscaling").put_scaling_policy(
            PolicyName=name,
            ServiceNamespace="ecs",
            ResourceId=f"service/{cluster}/{service}",
            ScalableDimension="ecs:service:DesiredCount",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": target_value,
                "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
            },
        )
        return str(answer["PolicyARN"])

    def age_deployments(self, service: str, hours: float, cluster: str | None = None) -> None:
        """Make the deployments of `service` (in `cluster`, or any cluster) `hours` older.

        No AWS API can backdate a deployment: this edits moto's state in this process.
        """
        age_deployments(self.account_id, self.region, service, cluster, timedelta(hours=hours))


def _quiet_request_log() -> None:
    """werkzeug logs every request at INFO; keep its warnings and errors unless told otherwise."""
    logger = logging.getLogger("werkzeug")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
