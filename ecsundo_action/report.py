"""Plain-text reports of an Outcome, for a terminal and for the action's log alike."""

from __future__ import annotations

import re
from datetime import datetime

from .document import ServiceRecord, Snapshot
from .plan import Plan
from .resources import short_digest, short_name
from .result import Outcome


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    )


def _short(arn: str | None) -> str:
    return short_name(arn) if arn else "-"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def ago(seconds: float) -> str:
    """How long ago, in the largest unit that fits: "just now", "5 minutes ago", "3 days ago"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return f"{plural(int(seconds // size), unit)} ago"
    return "just now"


def provenance(snapshot: Snapshot, now: datetime) -> str:
    """Which snapshot: its id, when it was taken, and by which workflow, run, sha and actor."""
    taken = snapshot.taken_at
    text = (
        f"snapshot {snapshot.id}, taken {taken:%Y-%m-%d %H:%M:%S} UTC "
        f"({ago((now - taken).total_seconds())})"
    )
    github = snapshot.github or {}
    by = [
        f"{label} {github[key][:12] if key == 'sha' else github[key]}"
        for key, label in (
            ("workflow", "workflow"),
            ("runId", "run"),
            ("sha", "sha"),
            ("actor", "actor"),
        )
        if github.get(key)
    ]
    return text + (" by " + ", ".join(by) if by else ", outside GitHub Actions")


_SERVER = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def run_url(snapshot: Snapshot, server_url: str | None) -> str | None:
    """The link to the run that took the snapshot, when every part of it checks out."""
    github = snapshot.github or {}
    repository, run = github.get("repository", ""), github.get("runId", "")
    if not (server_url and _SERVER.fullmatch(server_url) and _REPOSITORY.fullmatch(repository)):
        return None
    return f"{server_url}/{repository}/actions/runs/{run}" if run.isdigit() else None


def plan_title(plan: Plan, dry_run: bool) -> str:
    """The plan's phase: how many services change and how many task definitions come back."""
    changing = plan.changing
    title = f"Plan: {plural(len(changing), 'service')} to change of {len(plan.steps)}"
    registering = {s.target for s in changing if s.action == "re-register"}
    if registering:
        title += f", {plural(len(registering), 'task definition')} to register again"
    return title + (" (dry run: nothing changes)" if dry_run else "")


def plan_text(plan: Plan) -> str:
    rows = [("SERVICE", "ACTION", "FROM", "TO", "WHY")]
    rows += [
        (s.service, str(s.action), _short(s.current), _short(s.target), s.reason)
        for s in plan.steps
    ]
    return table(rows)


def _warnings(outcome: Outcome) -> str:
    """The outcome's warnings, a line each, to follow a table."""
    return "".join(f"\nwarning: {w}" for w in outcome.warnings)


def images_text(snapshot: Snapshot, record: ServiceRecord) -> str:
    """Each container's image, with the digest it ran when the snapshot knows it."""
    if record.images:
        return ", ".join(
            f"{i.image} ({short_digest(i.digest)})" if i.digest and "@" not in i.image else i.image
            for i in record.images
        )
    if record.task_definition is None:
        return f"(task sets of a {record.controller} service)"
    body = snapshot.kept(record.task_definition).body
    return ", ".join(str(c.get("image", "?")) for c in body["containerDefinitions"])


def snapshot_text(outcome: Outcome) -> str:
    """Each captured service, its task definition and container images (never env values)."""
    taken = outcome.snapshot
    assert taken is not None
    rows = [("SERVICE", "TASK DEFINITION", "IMAGES")]
    for service in taken.services:
        rows.append((service.name, _short(service.task_definition), images_text(taken, service)))
    listing = table(rows) if len(rows) > 1 else "(no services)"
    where = (
        "dry run: nothing stored"
        if outcome.snapshot_uri is None
        else f"stored at {outcome.snapshot_uri}"
    )
    return (
        f"snapshot {taken.id} of cluster {outcome.cluster}: "
        f"{plural(len(taken.services), 'service')}\n{listing}{_warnings(outcome)}\n{where}"
    )


def list_text(outcome: Outcome) -> str:
    if outcome.snapshots:
        return "\n".join(outcome.snapshots)
    return f"no snapshots of {outcome.cluster} in {outcome.store}"


def result_text(outcome: Outcome) -> str:
    rows = [("SERVICE", "ACTION", "FROM", "TO", "RESULT", "TIME", "MESSAGE")]
    rows += [
        (
            s.name,
            s.action,
            _short(s.from_),
            _short(s.to),
            str(s.status),
            f"{s.seconds:.0f}s",
            s.message,
        )
        for s in outcome.services
    ]
    head = f"{outcome.mode} of cluster {outcome.cluster}"
    if outcome.snapshot is not None:
        head += f" from snapshot {outcome.snapshot.id}"
    return f"{head}\n{table(rows)}{_warnings(outcome)}\nresult: {outcome.verdict}"


def text(outcome: Outcome) -> str:
    """What a person reads after any mode."""
    if outcome.mode in ("snapshot", "guard"):
        return snapshot_text(outcome)
    if outcome.mode == "list":
        return list_text(outcome)
    if outcome.dry_run and outcome.plan is not None:
        return (
            f"plan for {outcome.mode} of cluster {outcome.cluster} (dry run: nothing changed)\n"
            f"{plan_text(outcome.plan)}{_warnings(outcome)}\nresult: {outcome.verdict}"
        )
    return result_text(outcome)
