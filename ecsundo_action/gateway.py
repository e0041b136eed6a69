"""The one place that talks to ECS.

Everything else in the engine works on plain data this gateway returns. It pages with
botocore's paginators, batches DescribeServices 10 at a time (AWS's limit), fans
DescribeTaskDefinition out over a bounded pool, and leaves retries to botocore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from .errors import AwsError, NotFoundError
from .pacing import ECS_QUOTAS, Pacer
from .resources import Cluster, TaskDefinition, family_and_revision, short_name

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
else:
    ECSClient = Any

T = TypeVar("T")
R = TypeVar("R")

DESCRIBE_SERVICES_BATCH = 10  # AWS rejects an 11th service in one DescribeServices
LIST_SERVICES_PAGE = 100  # the most ListServices returns in one page
HISTORY_BATCH = 20  # DescribeServiceDeployments / DescribeServiceRevisions take up to 20 ARNs

# Error codes meaning "this API is not there for us": an older endpoint, a partition
# without it, or a role that was not granted it. Rollback then falls back to revisions.
UNAVAILABLE_CODES = frozenset(
    {"UnknownOperationException", "InvalidAction", "AccessDeniedException", "AccessDenied"}
)


def client_config(max_concurrency: int = 8) -> Config:
    """botocore's adaptive retries (backoff, and slowing down after throttles), enough
    connections for the pool, and a user agent that names ecsundo in CloudTrail."""
    return Config(
        retries={"mode": "adaptive", "max_attempts": 10},
        max_pool_connections=max(10, max_concurrency + 2),
        user_agent_extra="ecsundo",
    )


def registerable_fields(ecs: ECSClient) -> tuple[str, ...]:
    """Fields of a described task definition that RegisterTaskDefinition accepts back.

    Read from botocore's service model, so a field AWS adds tomorrow is kept without a
    code change (the original tool hand-copied 10 fields and silently dropped the rest).
    """
    model = ecs.meta.service_model
    request = model.operation_model("RegisterTaskDefinition").input_shape.members
    described = model.shape_for("TaskDefinition").members
    return tuple(name for name in request if name in described)


class HistoryUnavailable(Exception):
    """ECS's service-deployment history cannot be read here (see UNAVAILABLE_CODES)."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def translate(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    """One line saying what was being done and what AWS answered."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Error")
        return AwsError(f"{doing}: {code}: {_one_line(error.get('Message', ''))}")
    if isinstance(exc, NoCredentialsError):
        return AwsError(f"{doing}: no AWS credentials found in the environment")
    return AwsError(f"{doing}: {_one_line(str(exc))}")


def _settle(target: Future[R], source: Future[R]) -> None:
    exc = source.exception()
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EcsGateway:
    """ECS calls the engine needs, as plain data, with AWS errors turned into one-liners."""

    def __init__(
        self,
        ecs: ECSClient,
        *,
        max_concurrency: int = 8,
        quotas: Mapping[str, tuple[float, float]] | None = ECS_QUOTAS,
    ) -> None:
        self.ecs = ecs
        self.region: str = ecs.meta.region_name
        self.max_concurrency = max_concurrency
        self.fields = registerable_fields(ecs)
        self.pacer = Pacer(quotas)
        self.pacer.attach(ecs)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="ecs")
        # RegisterTaskDefinition's quota (1/s) is the slowest by far: its waits get their own
        # lane so they never hold the threads every other call needs.
        self._slow = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ecs-register")

    @classmethod
    def connect(cls, region: str | None = None, *, max_concurrency: int = 8) -> EcsGateway:
        """Build a client from the environment (AWS_* variables, profiles, AWS_ENDPOINT_URL)."""
        import boto3

        try:
            ecs = boto3.session.Session().client(
                "ecs", region_name=region or None, config=client_config(max_concurrency)
            )
        except NoRegionError:
            raise AwsError("no AWS region: set the region input, --region or AWS_REGION") from None
        return cls(ecs, max_concurrency=max_concurrency)

    def close(self) -> None:
        self._slow.shutdown(wait=True)
        self._pool.shutdown(wait=True)

    def __enter__(self) -> EcsGateway:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        # On an error or Ctrl-C, queued work is dropped: no further change is started.
        self._slow.shutdown(wait=True, cancel_futures=exc_type is not None)
        self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)

    # -- plumbing ------------------------------------------------------------------------

    def _call(self, doing: str, fn: Callable[..., R], **kwargs: Any) -> R:
        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise translate(doing, exc) from exc

    def submit(self, fn: Callable[..., R], *args: Any, slow: bool = False) -> Future[R]:
        """Run fn(*args) on the pool (or the slow lane) and return its future."""
        return (self._slow if slow else self._pool).submit(fn, *args)

    def then(self, first: Future[T], fn: Callable[[T], R], *, inline: bool = False) -> Future[R]:
        """A future for fn(first's result), run as soon as first is done: on the pool, or
        inline (in the thread that finished first) for quick work that must not queue."""
        done: Future[R] = Future()

        def start(finished: Future[T]) -> None:
            try:
                if inline:
                    done.set_result(fn(finished.result()))
                    return
                follow = self._pool.submit(fn, finished.result())
            except BaseException as exc:  # first or fn failed: so does what follows it
                done.set_exception(exc)
                return
            follow.add_done_callback(lambda f: _settle(done, f))

        first.add_done_callback(start)
        return done

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run fn over items on the bounded pool, results in input order.

        Not re-entrant: fn must not call map itself, or a full pool waits on itself.
        """
        items = list(items)
        if len(items) <= 1:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

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

    def list_service_arns(self, cluster_arn: str) -> list[str]:
        def pages() -> list[str]:
            paginator = self.ecs.get_paginator("list_services")
            arns: list[str] = []
            pages = paginator.paginate(
                cluster=cluster_arn, PaginationConfig={"PageSize": LIST_SERVICES_PAGE}
            )
            for page in pages:
                arns.extend(page.get("serviceArns", []))
            return arns

        return self._call("list services", pages)

    def describe_services(
        self, cluster_arn: str, services: Sequence[str]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Describe services (names or ARNs) 10 at a time; returns (found, missing).

        A service that was deleted (status INACTIVE) counts as missing.
        """

        def batch(names: Sequence[str]) -> dict[str, Any]:
            return self._call(
                "describe services",
                self.ecs.describe_services,
                cluster=cluster_arn,
                services=list(names),
            )

        found: list[dict[str, Any]] = []
        missing: list[str] = []
        for answer in self.map(batch, _chunks(list(services), DESCRIBE_SERVICES_BATCH)):
            for service in answer.get("services", []):
                if service.get("status") == "INACTIVE":
                    missing.append(service["serviceArn"])
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
    ) -> dict[str, Any]:
        """UpdateService; task_definition None changes only the desired count (so a service
        still running a deregistered revision can be scaled without naming it)."""
        kwargs: dict[str, Any] = {"cluster": cluster_arn, "service": service_arn}
        if task_definition is not None:
            kwargs["taskDefinition"] = task_definition
        if desired_count is not None:
            kwargs["desiredCount"] = desired_count
        answer = self._call(
            f"update service {short_name(service_arn)}", self.ecs.update_service, **kwargs
        )
        return answer["service"]

    # -- task definitions ----------------------------------------------------------------

    def describe_task_definition(self, ref: str) -> TaskDefinition | None:
        """Describe with tags; None when ECS no longer knows it (deleted)."""
        try:
            answer = self.ecs.describe_task_definition(taskDefinition=ref, include=["TAGS"])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ClientException" and "Unable to describe" in error.get(
                "Message", ""
            ):
                return None
            raise translate(f"describe task definition {short_name(ref)}", exc) from exc
        except BotoCoreError as exc:
            raise translate(f"describe task definition {short_name(ref)}", exc) from exc
        return self._to_task_definition(answer["taskDefinition"], answer.get("tags", []))

    def describe_task_definitions(self, refs: Iterable[str]) -> dict[str, TaskDefinition | None]:
        """Describe each distinct reference once, concurrently."""
        distinct = list(dict.fromkeys(refs))
        return dict(zip(distinct, self.map(self.describe_task_definition, distinct), strict=True))

    def list_task_definitions(self, family: str, status: str, sort: str = "DESC") -> list[str]:
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
        self, described: dict[str, Any], tags: list[dict[str, str]]
    ) -> TaskDefinition:
        body = {name: described[name] for name in self.fields if name in described}
        return TaskDefinition(
            described["taskDefinitionArn"], described.get("status", "ACTIVE"), body, tags
        )

    # -- service-deployment history (2025 APIs; not everywhere) --------------------------

    def _history_call(self, fn: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in UNAVAILABLE_CODES:
                raise HistoryUnavailable(str(exc)) from exc
            raise translate("read service-deployment history", exc) from exc
        except BotoCoreError as exc:
            raise translate("read service-deployment history", exc) from exc

    def list_service_deployments(self, cluster_arn: str, service_arn: str) -> list[dict[str, Any]]:
        """Deployments of a service, newest first."""
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
        return sorted(
            briefs, key=lambda b: b.get("createdAt") or b.get("startedAt") or 0, reverse=True
        )

    def describe_service_deployments(self, arns: Sequence[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for chunk in _chunks(list(arns), HISTORY_BATCH):
            answer = self._history_call(
                self.ecs.describe_service_deployments, serviceDeploymentArns=list(chunk)
            )
            found.extend(answer.get("serviceDeployments", []))
        return found

    def describe_service_revisions(self, arns: Sequence[str]) -> dict[str, str]:
        """Service-revision ARN -> the task-definition ARN it ran."""
        found: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(arns)), HISTORY_BATCH):
            answer = self._history_call(
                self.ecs.describe_service_revisions, serviceRevisionArns=list(chunk)
            )
            for revision in answer.get("serviceRevisions", []):
                found[revision["serviceRevisionArn"]] = revision["taskDefinition"]
        return found
