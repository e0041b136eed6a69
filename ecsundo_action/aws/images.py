"""Whether the image digests a change will pull still exist in ECR.

A snapshot (or ECS's history) pins images by digest; a lifecycle policy may have expired
that build since. ECS would accept the change and then fail to pull, after the whole
timeout or a circuit-breaker rollback, without saying the image is gone. BatchGetImage asks
first: one call per repository and 100 digests, paced to ECR's quota, each digest asked
once per run. Images outside ECR cannot be asked, and are said to be unchecked.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecsundo_action.aws.pacing import Pacer

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag]@sha256:<64 hex>
ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::[\w][\w.-]{0,127})?@(?P<digest>sha256:[0-9a-f]{64})"
)
BATCH = 100  # BatchGetImage takes up to 100 image IDs
ECR_QUOTAS = {"BatchGetImage": (2000.0, 2000.0)}  # ECR's documented rate, per account and Region
# Answers that mean the build is not there; any other failure (KMS, a pull-through cache)
# says nothing about whether it exists.
NOT_THERE = {"ImageNotFound", "ImageTagDoesNotMatchDigest"}
NOT_IN_ECR = "not in ECR"  # why an image outside ECR is unchecked


@dataclass(frozen=True)
class Checked:
    """What ECR said of some image references."""

    gone: tuple[str, ...] = ()  # ECR no longer has them (or their repository)
    unchecked: tuple[tuple[str, str], ...] = ()  # (reference, why it could not be asked)


def by_digest(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The images of a task-definition body that are pulled by digest, in container order."""
    images = (c.get("image") for c in body.get("containerDefinitions") or [])
    return tuple(dict.fromkeys(i for i in images if isinstance(i, str) and "@sha256:" in i))


class Registries:
    """ECR in each Region an image names, asked through clients made on first use."""

    def __init__(self, make_ecr: Callable[[str], Any]) -> None:
        self._make_ecr = make_ecr
        self._clients: dict[str, Any] = {}
        self._pacer = Pacer(ECR_QUOTAS)
        self._known: dict[str, bool | str] = {}  # reference -> there, or why it is not known
        self._lock = threading.Lock()

    def _client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                client = self._make_ecr(region)
                self._pacer.attach(client)
                self._clients[region] = client
            return self._clients[region]

    def check(self, references: Iterable[str]) -> Checked:
        """Ask ECR about each reference pulled by digest (read-only)."""
        wanted = list(dict.fromkeys(references))
        asking: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
        for reference in wanted:
            match = ECR_IMAGE.fullmatch(reference)
            with self._lock:
                known = reference in self._known
            if match is None or known:
                continue
            where = (match["account"], match["region"], match["repository"])
            asking[where].append((reference, match["digest"]))
        for (account, region, repository), images in asking.items():
            for start in range(0, len(images), BATCH):
                found = self._ask(account, region, repository, images[start : start + BATCH])
                with self._lock:
                    self._known.update(found)
        gone: list[str] = []
        unchecked: list[tuple[str, str]] = []
        for reference in wanted:
            with self._lock:
                there = self._known.get(reference, NOT_IN_ECR)
            if there is False:
                gone.append(reference)
            elif there is not True:
                unchecked.append((reference, str(there)))
        return Checked(tuple(gone), tuple(unchecked))

    def _ask(
        self, account: str, region: str, repository: str, images: list[tuple[str, str]]
    ) -> dict[str, bool | str]:
        try:
            answer = self._client(region).batch_get_image(
                registryId=account,
                repositoryName=repository,
                imageIds=[{"imageDigest": digest} for _, digest in images],
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Error")
            if code == "RepositoryNotFoundException":
                return {reference: False for reference, _ in images}
            return {reference: f"ECR answered {code}" for reference, _ in images}
        except BotoCoreError as exc:
            return {
                reference: f"ECR could not be asked: {type(exc).__name__}"
                for reference, _ in images
            }
        missing = {
            f.get("imageId", {}).get("imageDigest")
            for f in answer.get("failures", [])
            if f.get("failureCode") in NOT_THERE
        }
        failed = {
            f.get("imageId", {}).get("imageDigest"): str(f.get("failureCode"))
            for f in answer.get("failures", [])
            if f.get("failureCode") not in NOT_THERE
        }
        return {
            reference: (
                f"ECR answered {failed[digest]}" if digest in failed else digest not in missing
            )
            for reference, digest in images
        }
