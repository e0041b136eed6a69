"""ECS's service revisions and service deployments, and the image registry ECS resolves
tags in: none of it is in moto, so it is modelled here as AWS documents it.

- Every new deployment of a service (CreateService; UpdateService with a new task
  definition, new service settings or forceNewDeployment) records a *service revision*: the
  task definition, launch type or capacity-provider strategy, platform version, load
  balancers, service registries, network configuration, Service Connect and volume
  configurations, and `containerImages`, each image tag resolved to a digest in the
  registry *at that moment* (software version consistency).
- ...and a *service deployment* from the revision that was serving to the new one, whose
  status follows the rollout: IN_PROGRESS, then SUCCESSFUL, STOPPED (the circuit breaker
  without rollback), or ROLLBACK_SUCCESSFUL (with rollback, or StopServiceDeployment
  ROLLBACK, which returns the service to the source revision and registers nothing).
- DescribeServices shows `currentServiceRevisions` and `currentServiceDeployment`.
- A test pushes a new build under an existing tag with `Registry.push`.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import utcnow
from moto.ecs.exceptions import ECSException

# What a service revision records of the service, by its CreateService/UpdateService name.
SETTINGS = (
    "capacityProviderStrategy",
    "launchType",
    "platformVersion",
    "loadBalancers",
    "serviceRegistries",
    "networkConfiguration",
    "serviceConnectConfiguration",
    "volumeConfigurations",
)
HISTORY_BATCH = 20  # DescribeServiceDeployments / DescribeServiceRevisions take up to 20 ARNs


class ConflictException(ECSException):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


class ServiceDeploymentNotFoundException(ECSException):
    def __init__(self) -> None:
        super().__init__(
            "ServiceDeploymentNotFoundException", "The service deployment does not exist."
        )


class ServiceNotActiveException(ECSException):
    def __init__(self) -> None:
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


def _repository_and_tag(image: str) -> tuple[str, str]:
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = image.rsplit(":", 1)
        return repository, tag
    return image, "latest"


@dataclass
class Registry:
    """Image tags and the digests they point at now, and the builds each repository holds. A
    tag seen for the first time points at a build of its own; push() moves it to a new build
    (the old one stays, untagged, as in ECR); expire() deletes a build, as a lifecycle policy
    does (a tag on it goes too)."""

    tags: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> "sha256:..."
    builds: dict[str, set[str]] = field(default_factory=dict)  # repo -> its digests
    _builds: itertools.count = field(default_factory=lambda: itertools.count(1))

    def resolve(self, image: str) -> str:
        """The digest an image reference runs now."""
        if "@sha256:" in image:
            repository, digest = image.split("@", 1)
            repository = _repository_and_tag(repository)[0]
            self.builds.setdefault(repository, set()).add(digest)  # someone pushed it
            return digest
        repository, tag = _repository_and_tag(image)
        key = f"{repository}:{tag}"
        if key not in self.tags:
            self.tags[key] = self._digest(repository, key)
        return self.tags[key]

    def push(self, image: str) -> str:
        """A new build pushed under image's tag: the tag now points at a new digest. A
        reference by digest (repo@sha256:...) pushes that build (again)."""
        if "@sha256:" in image:
            return self.resolve(image)
        repository, tag = _repository_and_tag(image)
        key = f"{repository}:{tag}"
        self.tags[key] = self._digest(repository, key)
        return self.tags[key]

    def expire(self, image: str) -> str:
        """The build image names (repo:tag, or repo@digest) is deleted; its digest."""
        digest = self.resolve(image)
        repository = _repository_and_tag(image.split("@", 1)[0])[0]
        self.builds.get(repository, set()).discard(digest)
        for key in [
            k for k, d in self.tags.items() if d == digest and k.rsplit(":", 1)[0] == repository
        ]:
            del self.tags[key]
        return digest

    def holds(self, repository: str, digest: str) -> bool | None:
        """Whether the repository holds the build (None: no such repository)."""
        found = self.builds.get(repository)
        return None if found is None else digest in found

    def _digest(self, repository: str, key: str) -> str:
        digest = "sha256:" + hashlib.sha256(f"{key}#{next(self._builds)}".encode()).hexdigest()
        self.builds.setdefault(repository, set()).add(digest)
        return digest


@dataclass
class History:
    """One account and Region's service revisions and deployments."""

    registry: Registry = field(default_factory=Registry)
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # service ARN -> its deployment ARNs, oldest first; and the revision(s) serving now.
    by_service: dict[str, list[str]] = field(default_factory=dict)
    current: dict[str, list[str]] = field(default_factory=dict)
    last_successful: dict[str, str] = field(default_factory=dict)  # service -> revision
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000000))

    def _arn(self, kind: str, service: Any) -> str:
        base = service.arn.replace(":service/", f":{kind}/", 1)
        if base.count("/") == 1:  # a short service ARN: add the cluster
            base = base.replace(f":{kind}/", f":{kind}/{service.cluster_name}/", 1)
        return f"{base}/{next(self._ids)}"

    # -- revisions and deployments ----------------------------------------------------------

    def new_revision(self, backend: Any, service: Any) -> str:
        """Record what the service runs now, its image tags resolved at this moment."""
        arn = self._arn("service-revision", service)
        images = []
        if service.task_definition:
            task_definition = backend.describe_task_definition(service.task_definition)
            for container in task_definition.container_definitions:
                image = container.get("image", "")
                images.append(
                    {
                        "containerName": container.get("name", ""),
                        "image": image,
                        "imageDigest": self.registry.resolve(image),
                    }
                )
        revision: dict[str, Any] = {
            "serviceRevisionArn": arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "taskDefinition": service.task_definition,
            "containerImages": images,
            "createdAt": utcnow(),
        }
        for name, value in settings_of(service).items():
            revision[name] = copy.deepcopy(value)
        self.revisions[arn] = revision
        return arn

    def start(self, backend: Any, service: Any, *, done: bool) -> dict[str, Any]:
        """A deployment from the revisions serving now to a new one of the service's state."""
        source = list(self.current.get(service.arn, []))
        target = self.new_revision(backend, service)
        now = utcnow()
        deployment: dict[str, Any] = {
            "serviceDeploymentArn": self._arn("service-deployment", service),
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "createdAt": now,
            "startedAt": now,
            "updatedAt": now,
            "sourceServiceRevisions": [self._summary(arn, service) for arn in source],
            "targetServiceRevision": self._summary(target, service),
            "status": "IN_PROGRESS",
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
                **copy.deepcopy(getattr(service, "deployment_configuration", None) or {}),
            },
        }
        self.deployments[deployment["serviceDeploymentArn"]] = deployment
        self.by_service.setdefault(service.arn, []).append(deployment["serviceDeploymentArn"])
        self.current[service.arn] = [*source, target]
        if done:
            self.succeed(deployment)
        return deployment

    def _summary(self, revision_arn: str, service: Any) -> dict[str, Any]:
        return {
            "arn": revision_arn,
            "requestedTaskCount": service.desired_count,
            "runningTaskCount": 0,
            "pendingTaskCount": 0,
        }

    def latest(self, service: Any) -> dict[str, Any] | None:
        arns = self.by_service.get(service.arn)
        return self.deployments[arns[-1]] if arns else None

    def succeed(self, deployment: dict[str, Any]) -> None:
        self._finish(deployment, "SUCCESSFUL", "")
        target = deployment["targetServiceRevision"]["arn"]
        self.current[deployment["serviceArn"]] = [target]
        self.last_successful[deployment["serviceArn"]] = target

    def tripped(self, deployment: dict[str, Any], alarms: list[str]) -> None:
        """What stopped it: CloudWatch alarms that went off, or the circuit breaker counting
        failed tasks up to its threshold (ECS: half the desired count, 3 to 200)."""
        if alarms:
            deployment["alarms"] = {
                "status": "TRIGGERED",
                "alarmNames": list(alarms),
                "triggeredAlarmNames": list(alarms),
            }
            return
        desired = deployment["targetServiceRevision"]["requestedTaskCount"]
        threshold = min(200, max(3, -(-desired // 2)))  # half the desired count, 3 to 200
        deployment["deploymentCircuitBreaker"] = {
            "status": "TRIGGERED",
            "failureCount": threshold,
            "threshold": threshold,
        }

    def stop(self, deployment: dict[str, Any], reason: str) -> None:
        """The circuit breaker stopped it without rolling back: the target keeps serving."""
        self._finish(deployment, "STOPPED", reason)
        self.current[deployment["serviceArn"]] = [deployment["targetServiceRevision"]["arn"]]

    def rolled_back(self, deployment: dict[str, Any], reason: str) -> str | None:
        """Back on the source revision; returns it (None when there was none)."""
        # ECS goes back to the last successfully deployed revision, whatever else the
        # deployment replaced (a deploy started over an unfinished one has several sources).
        back = self.last_successful.get(deployment["serviceArn"])
        self._finish(deployment, "ROLLBACK_SUCCESSFUL", reason)
        deployment["rollback"] = {
            "reason": reason,
            "startedAt": deployment["updatedAt"],
            "serviceRevisionArn": back,
        }
        if back:
            self.current[deployment["serviceArn"]] = [back]
        return back

    def _finish(self, deployment: dict[str, Any], status: str, reason: str) -> None:
        now = utcnow()
        deployment.update(status=status, updatedAt=now, finishedAt=now)
        if reason:
            deployment["statusReason"] = reason

    # -- what DescribeServices shows --------------------------------------------------------

    def show(self, service: Any) -> None:
        """Set the service's currentServiceRevisions and currentServiceDeployment."""
        current = self.current.get(service.arn, [])
        service.current_service_revisions = [
            {
                "arn": arn,
                "requestedTaskCount": service.desired_count if i == len(current) - 1 else 0,
                "runningTaskCount": service.running_count if i == len(current) - 1 else 0,
                "pendingTaskCount": 0,
            }
            for i, arn in enumerate(current)
        ]
        latest = self.latest(service)
        service.current_service_deployment = latest["serviceDeploymentArn"] if latest else None


def settings_of(service: Any) -> dict[str, Any]:
    """The service settings a revision records, as the service holds them now."""
    found: dict[str, Any] = {}
    for name in SETTINGS:
        value = getattr(service, _attribute(name), None)
        if value:
            found[name] = value
    return found


def _attribute(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)


def history_of(backend: Any) -> History:
    """The History of a moto ECS backend (moto's reset empties it with the backend)."""
    return backend.__dict__.setdefault("_ecsundo_history", History())
