"""Plain-text reports for a terminal: the plan and the per-service result table."""

from __future__ import annotations

from typing import Any

from .plan import Plan
from .resources import short_name
from .result import RunResult


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


def plan_text(plan: Plan) -> str:
    rows = [("SERVICE", "ACTION", "FROM", "TO", "WHY")]
    rows += [
        (s.service, str(s.action), _short(s.current), _short(s.target), s.reason)
        for s in plan.steps
    ]
    return table(rows)


def result_text(result: RunResult) -> str:
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
        for s in result.services
    ]
    head = f"{result.mode} of cluster {result.cluster}"
    if result.snapshot_id:
        head += f" from snapshot {result.snapshot_id}"
    return f"{head}\n{table(rows)}\nresult: {result.verdict}"


def snapshot_text(document: dict[str, Any], uri: str) -> str:
    """Each captured service, its task definition and container images (never env values)."""
    rows = [("SERVICE", "TASK DEFINITION", "IMAGES")]
    for service in document["services"]:
        body = document["taskDefinitions"][service["taskDefinition"]]["body"]
        images = ", ".join(str(c.get("image", "?")) for c in body["containerDefinitions"])
        rows.append((service["name"], _short(service["taskDefinition"]), images))
    listing = table(rows) if len(rows) > 1 else "(no services)"
    return (
        f"snapshot {document['id']} of cluster {document['cluster']['name']}: "
        f"{len(rows) - 1} services\n{listing}\nstored at {uri}"
    )
