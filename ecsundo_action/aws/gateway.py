"""The one place that talks to ECS: synchronous, thread-safe, paced, typed.

Each method makes the calls one question needs and returns typed records (records.py),
with AWS errors turned into one-line AwsErrors that say what was being done. It owns no
threads: a caller that wants batches described concurrently passes its own `map`. It pages
with botocore's paginators, batches DescribeServices 10 at a time (AWS's limit), takes a
token from the API's bucket before every call (pacing.py) and leaves retries to botocore.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoRegionError,
    ProfileNotFound,
)
from botocore.model import StructureShape

from ecsundo_action.aws.arns import family_and_revision, short_name
from ecsundo_action.aws.failures import translate
from ecsundo_action.aws.images import Registries
from ecsundo_action.aws.pacing import ECS_QUOTAS, Pacer
from ecsundo_action.aws.records import (
    Cluster,
    Service,
    ServiceDeployment,
    ServiceRevision,
    TaskDefinition,
)
from ecsundo_action.aws.scaling import AutoScaling
from ecsundo_action.aws.schedules import ScheduledTasks
from ecsundo_action.errors import (
    AwsError,
    Conflict,
    EcsundoError,
    NotFoundError,
    SettingsGone,
)

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
else:
    ECSClient = Any

T = TypeVar("T")
R = TypeVar("R")
Mapper = Callable[[Callable[[T], R], Iterable[T]], Iterable[R]]

DESCRIBE_SERVICES_BATCH = 10  # AWS rejects an 11th service in one DescribeServices
LIST_SERVICES_PAGE = 100  # the most ListServices returns in one page
HISTORY_BATCH = 20  # DescribeServiceDeployments / DescribeServiceRevisions take up to 20 ARNs

# -- ECS's rules: what counts as gone or unavailable ---------------------------------------

# Error codes meaning "this API is not there for us": an older endpoint, a partition
# without it, or a role that was not granted it. Rollback then falls back to revisions.
UNAVAILABLE_CODES = frozenset(
    {"UnknownOperationException", "InvalidAction", "AccessDeniedException", "AccessDenied"}
)


def _task_definition_gone(exc: ClientError) -> bool:
    """DescribeTaskDefinition's answer for a deleted revision (a deregistered one, INACTIVE,
    is still described): ClientException "Unable to describe task definition"."""
    error = exc.response.get("Error", {})
    return error.get("Code") == "ClientException" and "Unable to describe" in error.get(
        "Message", ""
    )


def _service_gone(service: Service) -> bool:
    """A deleted service stays describable for a while, as INACTIVE: it is gone for us."""
    return service.status == "INACTIVE"


# -- clients ----------------------------------------------------------------------------------

# Retries: botocore's standard mode, 10 attempts, on top of our own pacing. Adaptive mode
# stacks a second rate limiter on ours and crawls under random throttling; legacy mode has
# no retry quota to stop a storm. What the user set (environment or config file) wins.
RETRIES = {"mode": "standard", "total_max_attempts": 10}  # 10 attempts: the first and 9 retries
# Each setting: (its environment variable, its name in the config file).
_USER_SETTINGS = {
    "mode": ("AWS_RETRY_MODE", "retry_mode"),
    "total_max_attempts": ("AWS_MAX_ATTEMPTS", "max_attempts"),
}


def retries(environ: Mapping[str, str], profile_config: Mapping[str, Any]) -> dict[str, Any]:
    """Our retry defaults, minus each setting the user chose themselves."""
    chosen = {
        key
        for key, (variable, setting) in _USER_SETTINGS.items()
        if environ.get(variable) or profile_config.get(setting)
    }
    return {key: value for key, value in RETRIES.items() if key not in chosen}


def make_client(service: str, region: str | None = None, *, max_concurrency: int = 8) -> Any:
    """A botocore client from the environment (AWS_* variables, profiles, AWS_ENDPOINT_URL),
    named "ecsundo" in CloudTrail's user agent, with connections enough for the run's pool."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    try:
        config = Config(
            retries=cast(Any, retries(os.environ, core.get_scoped_config())),
            # The run's reads, changes and registrations (threads.py) at once.
            max_pool_connections=max(10, 2 * max_concurrency + 4),
            user_agent_extra="ecsundo",
        )
        session: Any = boto3.session.Session(botocore_session=core)
        return session.client(service, region_name=region or None, config=config)
    except NoRegionError:
        raise AwsError("no AWS region: set the region input, --region or AWS_REGION") from None
    except ProfileNotFound as exc:
        raise AwsError(f"AWS profile {exc.kwargs.get('profile')!r} not found") from None


def registerable_fields(ecs: ECSClient) -> tuple[str, ...]:
    """Fields of a described task definition that RegisterTaskDefinition accepts back.

    Read from botocore's service model, so a field AWS adds tomorrow is kept without a
    code change (the original tool hand-copied 10 fields and silently dropped the rest).
    """
    model = ecs.meta.service_model
    request = cast(StructureShape, model.operation_model("RegisterTaskDefinition").input_shape)
    described = cast(StructureShape, model.shape_for("TaskDefinition"))
    return tuple(name for name in request.members if name in described.members)


class HistoryUnavailable(AwsError):
    """ECS's service-deployment history cannot be used here (see UNAVAILABLE_CODES): callers
    that can do without it catch this; to the others it is one more AWS error."""


_GONE = re.compile(r"does ?n[o']t exist|not found|was ?n[o']t found|no longer exists", re.I)


def _settings_gone(exc: ClientError, settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The settings whose referenced resource ECS says no longer exists (empty: refused
    for another reason). ECS names the missing ID or ARN in its message, except for a
    Service Connect namespace, which has its own error code."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), str(error.get("Message", ""))
    if code == "NamespaceNotFoundException" and "serviceConnectConfiguration" in settings:
        return ("serviceConnectConfiguration",)
    if code not in ("InvalidParameterException", "ClientException") or not _GONE.search(message):
        return ()
    return tuple(
        name
        for name, value in settings.items()
        if any(len(text) > 3 and text in message for text in _strings(value))
    )


def _strings(value: Any) -> Iterator[str]:
    """Every string in a setting's value (IDs, ARNs, names)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EcsGateway:
    """ECS calls the engine needs, as typed records, with AWS errors turned into one-liners.

    Thread-safe: botocore clients are, and so is the pacer hooked into this one.
    """

    def __init__(
        self,
        ecs: ECSClient,
        *,
        quotas: Mapping[str, tuple[float, float]] | None = ECS_QUOTAS,
        tagging: Any | None = None,
        make_tagging: Callable[[], Any] | None = None,
        make_ecr: Callable[[str], Any] | None = None,
        make_client: Callable[[str], Any] | None = None,
    ) -> None:
        self.ecs = ecs
        # EventBridge and Scheduler in this Region, by service name, for the scheduled tasks
        # that run in a cluster (None: scheduled tasks are not read).
        self.scheduled = ScheduledTasks(make_client) if make_client is not None else None
        # Application Auto Scaling: each service's scalable target and policies (None: not read).
        self.scaling = AutoScaling(make_client) if make_client is not None else None
        # ECR, by Region, to check that pinned digests still exist (None: not checked).
        self.images = Registries(make_ecr) if make_ecr is not None else None
        # The Resource Groups Tagging API, to find resources by tag in one call (None: not
        # used; lookups that would use it scan instead). make_tagging makes it on first use:
        # a snapshot never needs one, and a client costs tens of milliseconds to make.
        self._tagging = tagging
        self._make_tagging = make_tagging
        self._tagging_lock = threading.Lock()
        self.region: str = ecs.meta.region_name
        self.fields = registerable_fields(ecs)
        Pacer(quotas).attach(ecs)

    @classmethod
    def connect(cls, region: str | None = None, *, max_concurrency: int = 8) -> EcsGateway:
        ecs = make_client("ecs", region, max_concurrency=max_concurrency)
        region_name = ecs.meta.region_name
        return cls(
            ecs,
            make_tagging=lambda: make_client("resourcegroupstaggingapi", region_name),
            make_ecr=lambda region: make_client("ecr", region, max_concurrency=max_concurrency),
            make_client=lambda service: make_client(
                service, region_name, max_concurrency=max_concurrency
            ),
        )

    @property
    def tagging(self) -> Any | None:
        """The tagging client (None: not used), made on first use."""
        with self._tagging_lock:
            if self._tagging is None and self._make_tagging is not None:
                self._tagging, self._make_tagging = self._make_tagging(), None
            return self._tagging

    def _call(self, doing: str, fn: Callable[..., R], **kwargs: Any) -> R:
        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise translate(doing, exc) from exc

    # -- clusters and services -----------------------------------------------------------

    def describe_cluster(self, cluster: str) -> Cluster:
        answer = self._call(
            f"describe cluster {cluster!r}", self.ecs.describe_clusters, clusters=[cluster]
        )
        found = [c for c in answer.get("clusters", []) if c.get("status") != "INACTIVE"]
        if not found:
            raise NotFoundError(f"cluster {cluster!r} not found in region {self.region}")
        try:
            return Cluster.from_arn(found[0]["clusterArn"])
        except ValueError as exc:
            raise AwsError(f"describe cluster {cluster!r}: {exc}") from None

    def list_cluster_names(self) -> list[str]:
        """The names of the Region's clusters (ListClusters, paged by botocore)."""

        def pages() -> list[str]:
            names: list[str] = []
            for page in self.ecs.get_paginator("list_clusters").paginate():
                names.extend(short_name(arn) for arn in page.get("clusterArns", []))
            return names

        return self._call(f"list clusters in {self.region}", pages)

    def list_service_arns(self, cluster_arn: str) -> list[str]:
        return [arn for page in self.service_arn_pages(cluster_arn) for arn in page]

    def service_arn_pages(self, cluster_arn: str) -> Iterator[list[str]]:
        """The cluster's service ARNs a page (ListServices, 100) at a time, as they come."""
        paginator = self.ecs.get_paginator("list_services")
        pages = paginator.paginate(
            cluster=cluster_arn, PaginationConfig={"PageSize": LIST_SERVICES_PAGE}
        )
        try:
            for page in pages:
                yield list(page.get("serviceArns", []))
        except (ClientError, BotoCoreError) as exc:
            raise translate("list services", exc) from exc

    def describe_services(
        self, cluster_arn: str, services: Sequence[str], map: Mapper[Any, Any] = map
    ) -> tuple[list[Service], list[str]]:
        """Describe services (names or ARNs) 10 a call, the calls run by map; returns
        (found, missing), a deleted service counting as missing."""

        def batch(names: Sequence[str]) -> Mapping[str, Any]:
            return self._call(
                "describe services",
                self.ecs.describe_services,
                cluster=cluster_arn,
                services=list(names),
            )

        found: list[Service] = []
        missing: list[str] = []
        for answer in map(batch, list(chunks(list(services), DESCRIBE_SERVICES_BATCH))):
            for raw in answer.get("services", []):
                service = Service.from_api(raw)
                if _service_gone(service):
                    missing.append(service.arn)
                else:
                    found.append(service)
            missing.extend(f["arn"] for f in answer.get("failures", []))
        return found, missing

    def update_service(
        self,
        cluster_arn: str,
        service_arn: str,
        task_definition: str | None,
        desired_count: int | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Service:
        """UpdateService; task_definition None leaves it as it is (so a service still running
        a deregistered revision can be scaled, or its settings put back, without naming
        it). settings: service settings by their API names (networkConfiguration, ...)."""
        kwargs: dict[str, Any] = {
            "cluster": cluster_arn,
            "service": service_arn,
            **(settings or {}),
        }
        if "capacityProviderStrategy" in kwargs:
            # ECS refuses a capacity-provider change that does not force a new deployment.
            kwargs["forceNewDeployment"] = True
        if task_definition is not None:
            kwargs["taskDefinition"] = task_definition
        if desired_count is not None:
            kwargs["desiredCount"] = desired_count
        try:
            answer = self._call(
                f"update service {short_name(service_arn)}", self.ecs.update_service, **kwargs
            )
        except AwsError as exc:
            refused = exc.__cause__
            gone = (
                _settings_gone(refused, settings or {}) if isinstance(refused, ClientError) else ()
            )
            if gone:
                raise SettingsGone(str(exc), gone) from refused
            raise
        return Service.from_api(answer["service"])

    # -- task definitions ----------------------------------------------------------------

    def describe_task_definition(self, ref: str) -> TaskDefinition | None:
        """Describe with tags; None when ECS no longer knows it (deleted)."""
        doing = f"describe task definition {short_name(ref)}"
        try:
            answer = self.ecs.describe_task_definition(taskDefinition=ref, include=["TAGS"])
        except ClientError as exc:
            if _task_definition_gone(exc):
                return None
            raise translate(doing, exc) from exc
        except BotoCoreError as exc:
            raise translate(doing, exc) from exc
        return self._to_task_definition(answer["taskDefinition"], answer.get("tags", []))

    def list_task_definitions(
        self,
        family: str,
        status: Literal["ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"],
        sort: Literal["ASC", "DESC"] = "DESC",
    ) -> list[str]:
        def pages() -> list[str]:
            paginator = self.ecs.get_paginator("list_task_definitions")
            arns: list[str] = []
            for page in paginator.paginate(familyPrefix=family, status=status, sort=sort):
                arns.extend(page.get("taskDefinitionArns", []))
            return arns

        # familyPrefix matches by prefix: keep only this exact family.
        return [
            arn
            for arn in self._call(f"list revisions of {family}", pages)
            if family_and_revision(arn)[0] == family
        ]

    def task_definitions_tagged(self, key: str, value: str) -> list[str] | None:
        """ARNs of the task definitions tagged key=value (ACTIVE or not: describe to tell),
        from the Resource Groups Tagging API; None where it cannot be asked (not set up,
        refused, or unknown to the endpoint): the caller scans instead."""
        try:
            tagging = self.tagging  # made now, on first use
        except EcsundoError:
            return None
        if tagging is None:
            return None
        try:
            arns: list[str] = []
            pages = tagging.get_paginator("get_resources").paginate(
                ResourceTypeFilters=["ecs:task-definition"],
                TagFilters=[{"Key": key, "Values": [value]}],
            )
            for page in pages:
                arns.extend(m["ResourceARN"] for m in page.get("ResourceTagMappingList", []))
            return arns
        except (ClientError, BotoCoreError):
            return None

    def register_task_definition(
        self, body: dict[str, Any], tags: list[dict[str, str]]
    ) -> TaskDefinition:
        kwargs = dict(body)
        if tags:
            kwargs["tags"] = tags
        answer = self._call(
            f"register task definition {body.get('family')}",
            self.ecs.register_task_definition,
            **kwargs,
        )
        return self._to_task_definition(answer["taskDefinition"], answer.get("tags", tags))

    def _to_task_definition(
        self, described: Mapping[str, Any], tags: Sequence[Mapping[str, Any]]
    ) -> TaskDefinition:
        body = {name: described[name] for name in self.fields if name in described}
        registered = described.get("registeredAt")
        return TaskDefinition(
            described["taskDefinitionArn"],
            described.get("status", "ACTIVE"),
            body,
            [dict(tag) for tag in tags],
            registered if isinstance(registered, datetime) else None,
        )

    # -- service-deployment history (2024 APIs; not everywhere) --------------------------

    def _history_call(self, fn: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = fn(**kwargs)
            return answer
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in UNAVAILABLE_CODES:
                raise HistoryUnavailable(
                    str(translate("read service-deployment history", exc))
                ) from exc
            raise translate("read service-deployment history", exc) from exc
        except BotoCoreError as exc:
            raise translate("read service-deployment history", exc) from exc

    def list_service_deployments(self, cluster_arn: str, service_arn: str) -> list[str]:
        """The ARNs of a service's deployments, newest first."""
        briefs: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"cluster": cluster_arn, "service": service_arn}
            if token:
                kwargs["nextToken"] = token
            page = self._history_call(self.ecs.list_service_deployments, **kwargs)
            briefs.extend(page.get("serviceDeployments", []))
            token = page.get("nextToken")
            if not token:
                break
        # An undated one sorts last; 0 would not compare with the others' datetimes.
        undated = datetime.min.replace(tzinfo=UTC)
        newest = sorted(
            briefs,
            key=lambda b: b.get("createdAt") or b.get("startedAt") or undated,
            reverse=True,
        )
        return [b["serviceDeploymentArn"] for b in newest if b.get("serviceDeploymentArn")]

    def describe_service_deployments(self, arns: Sequence[str]) -> list[ServiceDeployment]:
        found: list[ServiceDeployment] = []
        for chunk in chunks(list(arns), HISTORY_BATCH):
            answer = self._history_call(
                self.ecs.describe_service_deployments, serviceDeploymentArns=list(chunk)
            )
            found.extend(
                ServiceDeployment.from_api(raw) for raw in answer.get("serviceDeployments", [])
            )
        return found

    def stop_service_deployment(self, arn: str) -> None:
        """StopServiceDeployment(ROLLBACK): ECS rolls the service back to the deployment's
        source revision itself. Conflict once the deployment has finished."""
        doing = "stop the in-flight deployment"
        try:
            self.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                raise Conflict(str(translate(doing, exc))) from exc
            raise translate(doing, exc) from exc
        except BotoCoreError as exc:
            raise translate(doing, exc) from exc

    def describe_service_revisions(
        self, arns: Sequence[str], map: Mapper[Any, Any] = map
    ) -> dict[str, ServiceRevision]:
        """Service revisions by ARN, 20 a call, the calls run by map; unknown ARNs (aged out)
        are left out. Raises HistoryUnavailable where the API cannot be used."""

        def batch(chunk: Sequence[str]) -> dict[str, Any]:
            return self._history_call(
                self.ecs.describe_service_revisions, serviceRevisionArns=list(chunk)
            )

        found: dict[str, ServiceRevision] = {}
        for answer in map(batch, list(chunks(list(dict.fromkeys(arns)), HISTORY_BATCH))):
            for raw in answer.get("serviceRevisions", []):
                revision = ServiceRevision.from_api(raw)
                found[revision.arn] = revision
        return found
