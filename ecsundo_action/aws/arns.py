"""ECS ARNs and names: how they are read and shortened, and the checks of the names a user
gives. No AWS calls: importing this is cheap, so input checks can use it before anything
heavy loads.
"""

from __future__ import annotations

import re

TD_ARN = re.compile(
    r"^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:task-definition/(?P<family>[\w-]+):(?P<rev>\d+)$"
)
CLUSTER_ARN = re.compile(
    r"^arn:(?P<partition>aws[\w-]*):ecs:(?P<region>[\w-]+):(?P<account>\d{12}):cluster/(?P<name>.+)$"
)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
SERVICE_ARN = re.compile(
    r"^arn:aws[\w-]*:ecs:(?P<region>[\w-]+):(?P<account>\d{12}):service/"
    r"(?:(?P<cluster>[\w-]+)/)?(?P<name>[\w-]+)$"
)


def family_and_revision(arn: str) -> tuple[str, int]:
    """Split a full task-definition ARN into its family and revision."""
    match = TD_ARN.fullmatch(arn)
    if not match:
        raise ValueError(f"not a task-definition ARN: {arn}")
    return match["family"], int(match["rev"])


def short_digest(digest: str | None) -> str:
    """The first 12 hex digits of a sha256 digest, as people quote them ("?" when unknown)."""
    return (digest or "?").removeprefix("sha256:")[:12]


def short_name(arn: str) -> str:
    """`family:revision` for a task-definition ARN, the last path part for other ARNs."""
    return arn.rsplit("/", 1)[-1]


def short_or_dash(arn: str | None) -> str:
    """short_name for a table cell: "-" when there is no ARN."""
    return short_name(arn) if arn else "-"


def _cluster_name(text: str) -> bool:
    return 0 < len(text) <= 255 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def check_cluster(cluster: str, what: str = "cluster") -> str:
    """A cluster name (letters, digits, '-', '_', up to 255) or a cluster ARN."""
    match = CLUSTER_ARN.fullmatch(cluster)
    if _cluster_name(match["name"] if match else cluster):  # an ARN's whole name
        return cluster
    from ecsundo_action.errors import InputError

    raise InputError(
        f"{what} {cluster[:80]!r} is not valid: expected a cluster name (letters, digits, "
        "'-', '_') or a cluster ARN"
    )
