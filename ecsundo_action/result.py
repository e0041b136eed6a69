"""What a run did, per service and overall: the one shape every edge reports from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plan import Plan


class Status(StrEnum):
    SUCCESS = "success"  # changed, and (when waited for) the rollout completed
    UPDATED = "updated"  # changed, not waited for (--no-wait)
    UNCHANGED = "unchanged"  # already where it should be: not touched
    PLANNED = "planned"  # dry-run: would change
    FAILED = "failed"
    MISSING = "missing"  # in the snapshot, deleted from the cluster since


OK = {Status.SUCCESS, Status.UPDATED, Status.UNCHANGED, Status.PLANNED}
CHANGED = {Status.SUCCESS, Status.UPDATED}


class Verdict(StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    DRY_RUN = "dry-run"


@dataclass
class ServiceResult:
    name: str
    action: str
    from_: str | None
    to: str | None
    status: Status
    seconds: float = 0.0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        data["status"] = str(self.status)
        data["seconds"] = round(self.seconds, 1)
        return {
            k: data[k] for k in ("name", "action", "from", "to", "status", "seconds", "message")
        }


@dataclass
class RunResult:
    mode: str
    cluster: str
    services: list[ServiceResult] = field(default_factory=list)
    dry_run: bool = False
    snapshot_id: str | None = None
    snapshot_uri: str | None = None
    plan: Plan | None = None

    @property
    def verdict(self) -> Verdict:
        if self.dry_run:
            return Verdict.DRY_RUN
        bad = [s for s in self.services if s.status not in OK]
        changed = [s for s in self.services if s.status in CHANGED]
        if not bad:
            return Verdict.SUCCESS if changed else Verdict.UNCHANGED
        return Verdict.PARTIAL if len(bad) < len(self.services) else Verdict.FAILED

    @property
    def ok(self) -> bool:
        """Every selected service ended where it should (exit status 0)."""
        return self.verdict in (Verdict.SUCCESS, Verdict.UNCHANGED, Verdict.DRY_RUN)

    @property
    def changed_services(self) -> list[str]:
        return [s.name for s in self.services if s.status in CHANGED]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "cluster": self.cluster,
            "result": str(self.verdict),
            "snapshotId": self.snapshot_id,
            "snapshotUri": self.snapshot_uri,
            "changedServices": self.changed_services,
            "services": [s.to_dict() for s in self.services],
        }
