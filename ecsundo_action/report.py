"""Plain-text reports of an Outcome, for a terminal and for the action's log alike."""

from __future__ import annotations

from .plan import Plan
from .resources import short_name
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


def plan_text(plan: Plan) -> str:
    rows = [("SERVICE", "ACTION", "FROM", "TO", "WHY")]
    rows += [
        (s.service, str(s.action), _short(s.current), _short(s.target), s.reason)
        for s in plan.steps
    ]
    return table(rows)


def snapshot_text(outcome: Outcome) -> str:
    """Each captured service, its task definition and container images (never env values)."""
    taken = outcome.snapshot
    assert taken is not None
    rows = [("SERVICE", "TASK DEFINITION", "IMAGES")]
    for service in taken.services:
        body = taken.kept(service.task_definition).body
        images = ", ".join(str(c.get("image", "?")) for c in body["containerDefinitions"])
        rows.append((service.name, _short(service.task_definition), images))
    listing = table(rows) if len(rows) > 1 else "(no services)"
    where = (
        "dry run: nothing stored"
        if outcome.snapshot_uri is None
        else f"stored at {outcome.snapshot_uri}"
    )
    return (
        f"snapshot {taken.id} of cluster {outcome.cluster}: "
        f"{plural(len(taken.services), 'service')}\n{listing}\n{where}"
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
    return f"{head}\n{table(rows)}\nresult: {outcome.verdict}"


def text(outcome: Outcome) -> str:
    """What a person reads after any mode."""
    if outcome.mode in ("snapshot", "guard"):
        return snapshot_text(outcome)
    if outcome.mode == "list":
        return list_text(outcome)
    if outcome.dry_run and outcome.plan is not None:
        return (
            f"plan for {outcome.mode} of cluster {outcome.cluster} (dry run: nothing changed)\n"
            f"{plan_text(outcome.plan)}\nresult: {outcome.verdict}"
        )
    return result_text(outcome)
