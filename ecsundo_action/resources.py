"""Plain data for the ECS resources the engine handles, and their ARNs. No AWS calls:
importing this is cheap, so input checks can use it before anything heavy loads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TD_ARN = re.compile(
    r"^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task-definition/(?P<family>[\w-]+):(?P<rev>\d+)$"
)
CLUSTER_ARN = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):ecs:(?P<region>[\w-]+):(?P<account>\d{12}):cluster/(?P<name>.+)$"
)


def family_and_revision(arn: str) -> tuple[str, int]:
    """Split a full task-definition ARN into its family and revision."""
    match = _TD_ARN.fullmatch(arn)
    if not match:
        raise ValueError(f"not a task-definition ARN: {arn}")
    return match["family"], int(match["rev"])


def short_name(arn: str) -> str:
    """`family:revision` for a task-definition ARN, the last path part for other ARNs."""
    return arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Cluster:
    name: str
    arn: str
    account_id: str
    region: str

    @classmethod
    def from_arn(cls, arn: str) -> Cluster:
        match = CLUSTER_ARN.fullmatch(arn)
        if not match:
            raise ValueError(f"not a cluster ARN: {arn}")
        return cls(match["name"], arn, match["account"], match["region"])


@dataclass(frozen=True)
class TaskDefinition:
    """A described task definition: its registerable body, tags and status."""

    arn: str
    status: str
    body: dict[str, Any]
    tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def family(self) -> str:
        return family_and_revision(self.arn)[0]

    @property
    def revision(self) -> int:
        return family_and_revision(self.arn)[1]

    def tag(self, key: str) -> str | None:
        return next((t["value"] for t in self.tags if t.get("key") == key), None)


def check_cluster(cluster: str, what: str = "cluster") -> str:
    """A cluster name (letters, digits, '-', '_', up to 255) or a cluster ARN."""
    if cluster.startswith("arn:"):
        if CLUSTER_ARN.fullmatch(cluster) and check_cluster(cluster.rsplit("/", 1)[-1], what):
            return cluster
    elif 0 < len(cluster) <= 255 and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in cluster
    ):
        return cluster
    from .errors import InputError

    raise InputError(
        f"{what} {cluster[:80]!r} is not valid: expected a cluster name (letters, digits, "
        "'-', '_') or a cluster ARN"
    )
