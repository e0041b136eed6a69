"""What a run did, per service and overall: the one shape every mode returns and every
edge reports from (the CLI's text and JSON, the action's outputs, log and summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .document import Snapshot
    from .plan import Plan, Step


class Status(StrEnum):
    SUCCESS = "success"  # changed, and (when waited for) the rollout completed
    UPDATED = "updated"  # changed, not waited for (wait: false)
    UNCHANGED = "unchanged"  # already where it should be: not touched
    PLANNED = "planned"  # dry-run: would change
    FAILED = "failed"
    MISSING = "missing"  # in the snapshot, deleted from the cluster since
    SKIPPED = "skipped"  # not ECS's to deploy (CodeDeploy, task sets): how to, in the message


OK = {Status.SUCCESS, Status.UPDATED, Status.UNCHANGED, Status.PLANNED, Status.SKIPPED}
MOVED = {Status.SUCCESS, Status.UPDATED}


class Verdict(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    DRY_RUN = "dry-run"


@dataclass(frozen=True)
class ServiceResult:
    name: str
    action: str
    from_: str | None
    to: str | None
    status: Status
    seconds: float = 0.0
    message: str = ""
    changed: bool = False  # ECS accepted a change this run asked for, whatever came next

    @classmethod
    def of(
        cls,
        step: Step,
        status: Status,
        *,
        to: str | None = None,
        seconds: float = 0.0,
        message: str | None = None,
        changed: bool = False,
    ) -> ServiceResult:
        """The one way a step becomes a row: to and message default to the step's."""
        return cls(
            step.service,
            str(step.action),
            step.current,
            step.target if to is None else to,
            status,
            seconds,
            step.reason if message is None else message,
            changed,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "from": self.from_,
            "to": self.to,
            "status": str(self.status),
            "seconds": round(self.seconds, 1),
            "message": self.message,
        }


@dataclass
class Outcome:
    """The result of one run of any mode."""

    mode: str
    cluster: str
    services: list[ServiceResult] = field(default_factory=list)
    dry_run: bool = False
    snapshot: Snapshot | None = None  # taken (snapshot, guard) or restored (restore)
    snapshot_uri: str | None = None
    plan: Plan | None = None
    store: str | None = None
    snapshots: list[str] | None = None  # list: ids, oldest first
    # Services of the cluster the selection took that the snapshot does not hold (restore):
    # left as they are.
    uncovered: list[str] = field(default_factory=list)
    # What a person should know though nothing failed: warning annotations in the action.
    warnings: list[str] = field(default_factory=list)

    @property
    def snapshot_id(self) -> str | None:
        if self.snapshot is not None:
            return self.snapshot.id
        return self.snapshots[-1] if self.snapshots else None

    @property
    def verdict(self) -> Verdict:
        if self.dry_run:
            return Verdict.DRY_RUN
        bad = [s for s in self.services if s.status not in OK]
        if not bad:
            reads = self.mode in ("snapshot", "guard", "list")
            moved = any(s.status in MOVED for s in self.services)
            return Verdict.SUCCESS if reads or moved else Verdict.UNCHANGED
        return Verdict.PARTIAL if len(bad) < len(self.services) else Verdict.FAILED

    @property
    def ok(self) -> bool:
        """Every selected service ended where it should (exit status 0)."""
        return self.verdict in (Verdict.SUCCESS, Verdict.UNCHANGED, Verdict.DRY_RUN)

    @property
    def changed_services(self) -> list[str]:
        return [s.name for s in self.services if s.changed]

    def outputs(self) -> dict[str, Any]:
        """The action's step outputs (names fixed by the contract)."""
        values: dict[str, Any] = {
            "result": str(self.verdict),
            "changed-services": self.changed_services,
            "services": [s.to_dict() for s in self.services],
        }
        # A dry-run snapshot stored nothing: no id a later step could try to restore.
        stored = self.mode not in ("snapshot", "guard") or self.snapshot_uri is not None
        if self.snapshot_id and stored:
            values["snapshot-id"] = self.snapshot_id
        if self.snapshot_uri:
            values["snapshot-uri"] = self.snapshot_uri
        return values

    def to_dict(self) -> dict[str, Any]:
        """The CLI's --json: the same facts as the outputs."""
        data: dict[str, Any] = {
            "mode": self.mode,
            "cluster": self.cluster,
            "result": str(self.verdict),
            "snapshotId": self.snapshot_id,
            "snapshotUri": self.snapshot_uri,
            "changedServices": self.changed_services,
            "services": [s.to_dict() for s in self.services],
        }
        if self.snapshots is not None:
            data["store"] = self.store
            data["snapshots"] = self.snapshots
        return data
