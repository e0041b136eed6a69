"""One request, whichever edge it came from.

Every option is declared once here (its action input, its CLI flag, its default and how
its text is checked); the CLI and the action each fill a Request from their own syntax
with `build`, which checks everything before any AWS call and raises one InputError naming
the input in the edge's own words. Nothing here imports botocore.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from ecsundo_action.aws.arns import CLUSTER_ARN, check_cluster
from ecsundo_action.errors import InputError
from ecsundo_action.modes import selection
from ecsundo_action.plan import PinImages, Scope
from ecsundo_action.snapshots.signing import check_key
from ecsundo_action.snapshots.stores import LATEST, check_snapshot_id, default_store_uri, open_store

E = TypeVar("E", bound=StrEnum)


class Mode(StrEnum):
    SNAPSHOT = "snapshot"
    RESTORE = "restore"
    ROLLBACK = "rollback"
    LIST = "list"
    GUARD = "guard"  # snapshot now; the post step restores it if the job fails
    DISCOVER = "discover"  # the clusters matching a pattern, for a matrix of jobs


# -- how each option's text is checked ----------------------------------------------------

_TRUE, _FALSE = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")  # us-east-1, eusc-de-east-1


def _boolean(text: str, label: str) -> bool:
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise InputError(f"{label}: expected true or false, got {text[:40]!r}")


def _number(low: float, high: float, *, whole: bool = False) -> Callable[[str, str], Any]:
    kind = "a whole number" if whole else "a number"

    def parse(text: str, label: str) -> float | int:
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{label}: expected {kind}, got {text[:40]!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise InputError(f"{label}: expected {kind} from {low:g} to {high:g}, got {text!r}")
        if whole:
            if value != int(value):
                raise InputError(f"{label}: expected {kind}, got {text!r}")
            return int(value)
        return value

    return parse


def _region(text: str, label: str) -> str | None:
    if text and not _REGION.fullmatch(text):
        raise InputError(f"{label}: expected an AWS region such as eu-west-1, got {text[:40]!r}")
    return text or None


def _regions(text: str, label: str) -> tuple[str, ...] | None:
    regions = [r.strip() for r in re.split(r"[,\n]", text) if r.strip()]
    for region in regions:
        _region(region, label)
    return tuple(dict.fromkeys(regions)) or None


def _services(text: str, label: str) -> tuple[str, ...] | None:
    entries = selection.parse(text, label)
    return tuple(entries) if entries else None


def _text(text: str, label: str) -> str:
    return text


def _choice(kind: type[E]) -> Callable[[str, str], E]:
    """One of an enum's values, trimmed and case-insensitive."""
    choices = [member.value for member in kind]

    def parse(text: str, label: str) -> E:
        value = text.strip().lower()
        if value not in choices:
            raise InputError(f"{label}: expected {' or '.join(choices)}, got {text[:40]!r}")
        return kind(value)

    return parse


@dataclass(frozen=True)
class Option:
    field: str  # the Request field it fills
    input: str | None  # the action input (None: CLI only)
    flag: str | None  # the CLI flag (None: action only)
    default: str  # as text, exactly as action.yml declares it
    parse: Callable[[str, str], Any]  # (text, label) -> value, or InputError
    help: str

    def label(self, edge: str) -> str:
        """How this edge's user names the option in an error message."""
        return f"input '{self.input}'" if edge == "action" else str(self.flag)


OPTIONS: tuple[Option, ...] = (
    Option("services", "services", "--services", "", _services, "names or glob patterns"),
    Option("snapshot_id", "snapshot-id", "--snapshot-id", "", _text, "a snapshot id, or latest"),
    Option("store", "store", "--store", "", _text, "file://DIR or s3://BUCKET/PREFIX"),
    Option("region", "region", "--region", "", _region, "AWS region"),
    Option("wait", "wait", "--no-wait", "true", _boolean, "wait for rollouts"),
    Option(
        "timeout_minutes",
        "timeout-minutes",
        "--timeout",
        "15",
        _number(0.1, 360),
        "minutes to wait for rollouts",
    ),
    Option("dry_run", "dry-run", "--dry-run", "false", _boolean, "report the plan only"),
    Option(
        "restore_desired_count",
        "restore-desired-count",
        "--restore-desired-count",
        "false",
        _boolean,
        "also restore desiredCount",
    ),
    Option(
        "max_concurrency",
        "max-concurrency",
        "--max-concurrency",
        "8",
        _number(1, 64, whole=True),
        "parallel AWS calls",
    ),
    Option(
        "since_minutes",
        "since",
        "--since",
        "60",
        _number(0, 525600),
        "rollback: only services deployed in the last MINUTES (0: every service)",
    ),
    Option(
        "scope",
        "scope",
        "--scope",
        "service",
        _choice(Scope),
        "restore the service settings too (service) or only the task definition",
    ),
    Option(
        "pin_images",
        "pin-images",
        "--pin-images",
        "auto",
        _choice(PinImages),
        "pin images to the snapshot's digests: when their tag moved (auto), always, never",
    ),
    Option(
        "full",
        "full",
        "--full",
        "false",
        _boolean,
        "snapshot: describe every task definition again instead of reusing the previous "
        "snapshot's (tags can change after registration)",
    ),
    Option(
        "regions",
        "regions",
        "--regions",
        "",
        _regions,
        "discover: comma-separated Regions to look in (default: the current one)",
    ),
    Option(
        "signing_key",
        "signing-key",
        "--signing-key",
        "",
        check_key,
        "a KMS HMAC key (id, ARN, alias/NAME): sign snapshots, read only those it verifies",
    ),
    Option(
        "scheduled_tasks",
        "scheduled-tasks",
        "--scheduled-tasks",
        "",
        selection.parse_scheduled,
        "rule or schedule names or globs (default: every one that runs in the cluster; "
        "false: none)",
    ),
    Option("poll_interval", None, "--poll-interval", "6", _number(0.01, 300), "seconds"),
)
# The modes that store or read snapshots: the only ones a signing key means anything to.
SIGNED = (Mode.SNAPSHOT, Mode.GUARD, Mode.RESTORE)
BY_FIELD = {option.field: option for option in OPTIONS}


def _default(field: str) -> Any:
    option = BY_FIELD[field]
    return option.parse(option.default, field)


@dataclass(frozen=True)
class Request:
    """Everything one run needs to know. Built by `build`; tests may construct it directly.

    Its defaults are those of OPTIONS, declared once."""

    mode: Mode
    cluster: str
    services: tuple[str, ...] | None = _default("services")  # names, globs; None: all
    snapshot_id: str | None = None  # restore: an id or LATEST; snapshot, guard: a new id
    store: str = default_store_uri({})  # build() takes the environment's default
    region: str | None = _default("region")
    wait: bool = _default("wait")
    timeout_minutes: float = _default("timeout_minutes")
    dry_run: bool = _default("dry_run")
    restore_desired_count: bool = _default("restore_desired_count")
    max_concurrency: int = _default("max_concurrency")
    # Rollback without named services: only those deployed in the last this-many minutes
    # (the ones the bad deploy touched); 0: every service. Named services are always taken.
    since_minutes: float = _default("since_minutes")
    scope: Scope = _default("scope")  # service: settings too; task-definition: only that
    pin_images: PinImages = _default("pin_images")
    poll_interval: float = _default("poll_interval")  # seconds between looks at rollouts
    regions: tuple[str, ...] | None = _default("regions")  # discover; None: the current one
    # snapshot: describe every task definition, not only those the previous one lacks
    full: bool = _default("full")
    # A KMS key: snapshots are signed with it when stored, and only those it verifies are
    # read (restore, latest, an incremental snapshot's base). None: checksums only.
    signing_key: str | None = _default("signing_key")
    # snapshot, guard, restore: the scheduled tasks taken, by name or glob (None: every one
    # that runs in the cluster; (): none).
    scheduled_tasks: tuple[str, ...] | None = _default("scheduled_tasks")
    # The (Region, account) that service ARNs in `services` name: each must be the
    # cluster's (checked once the cluster is described, before anything changes).
    places: tuple[tuple[str, str], ...] = ()

    @property
    def timeout_seconds(self) -> float:
        return self.timeout_minutes * 60


def parse_mode(text: str, label: str) -> Mode:
    """A mode, trimmed and case-insensitive."""
    try:
        return Mode(text.strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in Mode)
        raise InputError(f"{label}: expected one of {names}, got {text.strip()[:40]!r}") from None


def run_place(
    cluster: str, region: str | None, environ: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """Where a run is, as far as is known before any AWS call: the cluster ARN's Region and
    account; else the Region given, or the one the environment names (as botocore reads it)."""
    where = CLUSTER_ARN.fullmatch(cluster)
    if where:
        return where["region"], where["account"]
    return region or environ.get("AWS_DEFAULT_REGION") or environ.get("AWS_REGION"), None


def build(
    mode: Mode,
    cluster: str,
    given: Mapping[str, str | None],
    *,
    edge: str,
    environ: Mapping[str, str],
) -> Request:
    """A checked Request from option texts keyed by Request field (absent, None or blank:
    the default). edge ("action" or "cli") only chooses how errors name the option."""
    cluster = cluster.strip()
    cluster_label = "input 'cluster'" if edge == "action" else "cluster"
    if not cluster:
        raise InputError(f"{cluster_label}: required (a cluster name or ARN)")
    if mode is Mode.DISCOVER:
        if not selection.NAME_OR_PATTERN.fullmatch(cluster):
            raise InputError(
                f"{cluster_label} {cluster[:80]!r} is not valid: expected a cluster name or a "
                "glob pattern of one (letters, digits, '-', '_', '*', '?', [...])"
            )
    else:
        check_cluster(cluster, cluster_label)
    values: dict[str, Any] = {}
    for option in OPTIONS:
        text = (given.get(option.field) or "").strip() or option.default
        values[option.field] = option.parse(text, option.label(edge))

    # Entries may name their cluster (a service ARN, cluster/name): it must be this one.
    label = BY_FIELD["services"].label(edge)
    if mode is not Mode.DISCOVER:
        region, account = run_place(cluster, values["region"], environ)
        name = cluster.rsplit("/", 1)[-1]
        selection.parse(given.get("services"), label, name, region=region, account=account)
        values["places"] = selection.places(given.get("services"))

    values["store"] = values["store"] or default_store_uri(environ)
    open_store(values["store"], BY_FIELD["store"].label(edge))

    snapshot_label = BY_FIELD["snapshot_id"].label(edge)
    snapshot_id = values["snapshot_id"] or None
    if mode is Mode.RESTORE:
        if snapshot_id is None and edge == "action":
            # An empty step output must never silently mean "the newest snapshot": a failed
            # or misspelt snapshot step would restore whatever was stored last.
            raise InputError(
                f"{snapshot_label}: required for restore: a snapshot id, or 'latest' for the "
                "newest; it is empty, often because the step output it names is empty (the "
                "snapshot step failed or did not run, or its id is misspelt)"
            )
        snapshot_id = snapshot_id or LATEST  # the CLI without --snapshot-id: the newest
        if snapshot_id != LATEST:
            check_snapshot_id(snapshot_id, snapshot_label)
    elif mode in (Mode.SNAPSHOT, Mode.GUARD) and snapshot_id:
        if snapshot_id == LATEST:
            raise InputError(
                f"{snapshot_label}: '{LATEST}' names a snapshot to restore; "
                f"{mode} takes a new id or none"
            )
        check_snapshot_id(snapshot_id, snapshot_label)
    else:
        snapshot_id = None  # rollback and list take none (a dispatch form may send one)
    values["snapshot_id"] = snapshot_id
    if mode not in SIGNED:
        values["signing_key"] = None  # rollback, list and discover read no snapshot's body
        values["scheduled_tasks"] = ()  # nor take scheduled tasks
    return Request(mode=mode, cluster=cluster, **values)
