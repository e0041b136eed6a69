"""Which services a command acts on: names, glob patterns, service ARNs or cluster/name,
comma- or newline-separated (what CloudFormation and CDK outputs give works as it is)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from ecsundo_action.aws.arns import SERVICE_ARN
from ecsundo_action.aws.records import Cluster
from ecsundo_action.errors import InputError, NotFoundError

if TYPE_CHECKING:  # importing it would load botocore before the inputs are checked
    from ecsundo_action.aws.records import ScheduledTask

# A service or cluster name, or a glob pattern of one.
NAME_OR_PATTERN = re.compile(r"[A-Za-z0-9_\-*?\[\]!]{1,255}")
_CLUSTER_AND_NAME = re.compile(r"^(?P<cluster>[A-Za-z0-9_-]{1,255})/(?P<name>[^/]+)$")


def is_pattern(entry: str) -> bool:
    """A glob pattern (it may pick several services, or none), not one service's name."""
    return any(c in entry for c in "*?[")


def _split(entry: str) -> tuple[str | None, str]:
    """(the cluster it names, if any; the service name or pattern)."""
    if entry.startswith("arn:"):
        match = SERVICE_ARN.fullmatch(entry)
        if match:
            return match["cluster"], match["name"]
        return None, entry  # refused below, as not a name
    match = _CLUSTER_AND_NAME.fullmatch(entry)
    if match:
        return match["cluster"], match["name"]
    return None, entry


def entries(text: str | Iterable[str] | None) -> list[str]:
    raw = [text] if isinstance(text, str) else list(text or ())
    return [e.strip() for chunk in raw for e in re.split(r"[,\n]", chunk) if e.strip()]


def places(text: str | Iterable[str] | None) -> tuple[tuple[str, str], ...]:
    """The (Region, account) of each service ARN in a selection."""
    found = (SERVICE_ARN.fullmatch(entry) for entry in entries(text))
    return tuple(dict.fromkeys((match["region"], match["account"]) for match in found if match))


def check_places(
    cluster: Cluster, named: Iterable[tuple[str, str]], what: str = "services"
) -> None:
    """Service ARNs of another Region or account than the cluster's, once it is described
    (before anything changes): refused, naming both."""
    for region, account in named:
        if region != cluster.region:
            raise InputError(
                f"{what}: a service ARN is in Region {region}, but cluster {cluster.name} "
                f"is in {cluster.region}"
            )
        if account != cluster.account_id:
            raise InputError(
                f"{what}: a service ARN is in account {account}, but cluster {cluster.name} "
                f"is in account {cluster.account_id}"
            )


def parse(
    text: str | Iterable[str] | None,
    what: str = "services",
    cluster: str | None = None,
    *,
    region: str | None = None,
    account: str | None = None,
) -> list[str] | None:
    """The names and patterns a selection holds; None (every service) when it is empty.

    An entry that names a cluster (an ARN, or cluster/name) must name `cluster`, when given;
    a service ARN must be of the run's Region and the cluster's account, where known: ECS
    would otherwise act on the service of the same name here.
    """
    names = []
    for entry in entries(text):
        arn = SERVICE_ARN.fullmatch(entry)
        if arn and region and arn["region"] != region:
            raise InputError(
                f"{what} entry {entry[:120]!r} is in Region {arn['region']}, but this run is "
                f"in {region}"
            )
        if arn and account and arn["account"] != account:
            raise InputError(
                f"{what} entry {entry[:120]!r} is in account {arn['account']}, but cluster "
                f"is in account {account}"
            )
        named_cluster, name = _split(entry)
        if not NAME_OR_PATTERN.fullmatch(name):
            raise InputError(
                f"{what} entry {entry[:80]!r} is not valid: expected a service name, a glob "
                "pattern (letters, digits, '-', '_', '*', '?', '[...]'), a service ARN or "
                "cluster/name"
            )
        if cluster is not None and named_cluster is not None and named_cluster != cluster:
            raise InputError(
                f"{what} entry {entry[:80]!r} names cluster {named_cluster!r}, not {cluster!r}"
            )
        names.append(name)
    return list(dict.fromkeys(names)) or None


def pick(available: Iterable[str], patterns: Sequence[str] | None) -> list[str]:
    """The available names the patterns pick (all when there are none), in their order."""
    names = list(available)
    if patterns is None:
        return names
    return [name for name in names if any(fnmatchcase(name, p) for p in patterns)]


def select(
    available: Iterable[str],
    patterns: Sequence[str] | None,
    where: str,
    *,
    what: str = "services",
    one: str = "service",
) -> list[str]:
    """The available names the patterns pick, in the order available gives them.

    An entry that picks nothing is an error: a typo must not silently act on nothing.
    """
    names = list(available)
    for pattern in patterns or ():
        if not any(fnmatchcase(name, pattern) for name in names):
            kind = "pattern" if is_pattern(pattern) else one
            raise NotFoundError(f"{what}: {kind} {pattern!r} matches no {one} in {where}")
    return pick(names, patterns)


# A rule or schedule name, after its event bus or schedule group when not the default one,
# or a glob pattern of one (EventBridge and Scheduler names: letters, digits, . - _).
SCHEDULED_NAME = re.compile(r"[A-Za-z0-9._\-*?\[\]!]{1,64}(/[A-Za-z0-9._\-*?\[\]!]{1,64})?")


def scheduled(
    tasks: Iterable[ScheduledTask], patterns: Sequence[str] | None, where: str
) -> list[ScheduledTask]:
    """The scheduled tasks the names and patterns take, by name (all when there are none;
    a name or pattern that takes none is an error, as for services)."""
    found = list(tasks)
    what, one = "scheduled-tasks", "scheduled task"
    names = set(select([t.name for t in found], patterns, where, what=what, one=one))
    return [t for t in found if t.name in names]


def takes_scheduled(request: Any) -> bool:
    """Whether a run takes scheduled tasks: named ones; by default, every one, unless the
    services were narrowed (a run for `web` must not change every nightly job too)."""
    patterns = request.scheduled_tasks
    return bool(patterns) or (patterns is None and request.services is None)


def parse_scheduled(text: str, what: str) -> tuple[str, ...] | None:
    """The scheduled tasks a run takes: None, every one that runs in the cluster (empty);
    (), none (false); else the names and patterns given."""
    if text.strip() in ("false", "False", "FALSE"):
        return ()
    found = entries(text)
    for entry in found:
        if not SCHEDULED_NAME.fullmatch(entry):
            raise InputError(
                f"{what} entry {entry[:80]!r} is not valid: expected a rule or schedule name "
                "(BUS/NAME or GROUP/NAME outside the default ones), a glob pattern, or false"
            )
    return tuple(dict.fromkeys(found)) or None
