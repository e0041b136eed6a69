"""The job summary: Markdown a person reads at a glance. Pure functions of the result.

Every cell is escaped (pipes, HTML, backticks, Markdown, mentions, newlines), so names,
images, tags and AWS messages show as text and can neither break the table nor inject
markup. No task-definition environment value is ever read here. The summary is capped
well under GitHub's 1 MiB per step, with a visible note when rows were cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from ecsundo_action.aws.arns import short_or_dash
from ecsundo_action.reasons import plural
from ecsundo_action.render.text import (
    UNEVENTFUL,
    image_change,
    images_text,
    ordered,
    provenance,
    run_url,
    took,
)
from ecsundo_action.request import Mode
from ecsundo_action.result import NEEDS_ATTENTION, Outcome, ServiceResult
from ecsundo_action.snapshots.document import Snapshot

LIMIT = 512 * 1024  # bytes; GitHub refuses a step summary over 1 MiB
NOTE_ROOM = 200  # bytes kept for the note that says what was cut
FOLD_OVER = 10  # more unchanged or skipped services than this: in a collapsed section

ICONS = {
    "success": "✅",
    "updated": "🔄",
    "unchanged": "⚪",
    "planned": "📝",
    "failed": "❌",
    "missing": "⚠️",
    "skipped": "⏭️",
    "partial": "⚠️",
    "dry-run": "📝",
    "interrupted": "⛔",
}

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# Markdown punctuation that could start emphasis, links, images, code, headings or tables.
_MARKDOWN = set("\\`*_{}[]()#+!|~")


def escape(text: Any) -> str:
    """Plain text for a table cell: nothing in it renders as Markdown, HTML or a link."""
    out = []
    for char in " ".join(str(text).split()):  # newlines and runs of blanks -> one space
        if char in _HTML:
            out.append(_HTML[char])
        elif char == "@":
            # No @mentions of people or teams: GitHub links them in the rendered text, after
            # entities are decoded, so "&#64;" would not do; a zero-width space after @ does.
            out.append("@\u200b")
        elif char in _MARKDOWN:
            out.append("\\" + char)
        else:
            out.append(char)
    # No autolinks: GitHub links bare https://... and www.... text.
    return "".join(out).replace("://", "&#58;//").replace("www.", "www&#46;")


def _row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(escape(c) for c in cells) + " |\n"


def _capped(text: str, lines: list[str], budget: int, cut: Callable[[int], str]) -> str:
    """text, then as many lines as fit in budget bytes (room kept for the note), then
    cut(how many were left out) when some were."""
    size = len(text.encode())
    for shown, line in enumerate(lines):
        size += len(line.encode())
        if size > budget - NOTE_ROOM:
            return text + cut(len(lines) - shown)
        text += line
    return text


def _table(header: list[str], rows: list[list[Any]], budget: int) -> str:
    """A table that stops, with a note, before it would pass budget bytes."""
    return _capped(
        _row(header) + "|" + "---|" * len(header) + "\n",
        [_row(cells) for cells in rows],
        budget,
        lambda left: (
            f"\n_{left} more not shown to keep this summary under GitHub's size "
            "limit; the `services` output lists every one._\n"
        ),
    )


def _seconds(value: float) -> str:
    return f"{value:.0f}s"


def of(outcome: Outcome, server_url: str | None = None) -> str:
    """The summary of any mode's outcome; server_url (GITHUB_SERVER_URL) makes run links."""
    if outcome.mode in (Mode.SNAPSHOT, Mode.GUARD):
        return snapshot_summary(outcome)
    if outcome.mode == Mode.LIST:
        return list_summary(outcome)
    if outcome.mode == Mode.DISCOVER:
        return discover_summary(outcome)
    return run_summary(outcome, server_url)


def _provenance(snapshot: Snapshot, server_url: str | None) -> str:
    """Which snapshot this run used, with a link to the run that took it when known."""
    line = escape(provenance(snapshot, datetime.now(UTC)))
    url = run_url(snapshot, server_url)
    return line + (f" · [the run that took it]({url})" if url else "")


def _section(title: str, lines: list[str], budget: int) -> str:
    """A bulleted section of escaped lines, cut with a note past budget bytes."""
    if not lines:
        return ""
    return _capped(
        f"\n**{title}**\n\n",
        [f"- {line}\n" for line in lines],
        budget,
        lambda left: f"- _{left} more: see the `services` output_\n",
    )


def run_summary(result: Outcome, server_url: str | None = None) -> str:
    """Heading with mode, cluster, snapshot and verdict; one row per service."""
    verdict = str(result.verdict)
    head = (
        f"### {ICONS.get(verdict, '')} ecsundo {escape(result.mode)}: "
        f"{escape(verdict)}\n\n"
        f"Cluster **{escape(result.cluster)}**"
    )
    if result.snapshot is not None:
        head += f" · snapshot **{escape(result.snapshot.id)}**"
    counts: dict[str, int] = {}
    for service in result.services:
        counts[str(service.status)] = counts.get(str(service.status), 0) + 1
    head += " · " + ", ".join(f"{n} {escape(s)}" for s, n in sorted(counts.items())) + "\n\n"
    if result.snapshot is not None:
        head += f"Restored from {_provenance(result.snapshot, server_url)}\n\n"
    spent = took(result.timings)
    if spent:
        head += f"{escape(spent[0].upper() + spent[1:])}\n\n"
    services = ordered(result.services)
    quiet = [s for s in services if s.status in UNEVENTFUL]
    folded = quiet if len(quiet) > FOLD_OVER else []
    shown = services[: len(services) - len(folded)]  # ordered() puts the quiet ones last
    failures = [s for s in result.services if s.status in NEEDS_ATTENTION]
    notes = _section(
        "What went wrong",
        [f"**{escape(s.name)}**: {escape(s.message)}" for s in failures],
        LIMIT // 4,
    )
    notes += _section("Warnings", [escape(w) for w in result.warnings], LIMIT // 16)
    notes += _section(
        "Not in this snapshot (left as they are)",
        [escape(name) for name in result.uncovered],
        LIMIT // 16,
    )
    if folded:
        # A blank line after <summary> and before </details>: GitHub renders the table inside.
        notes += (
            f"\n<details><summary>{plural(len(folded), 'service')} unchanged or skipped"
            "</summary>\n\n"
            + _table(HEADER, [_cells(s) for s in folded], LIMIT // 8)
            + "\n</details>\n"
        )
    table = _table(
        HEADER, [_cells(s) for s in shown], LIMIT - len(head.encode()) - len(notes.encode())
    )
    return head + table + notes + "\n"


HEADER = ["service", "before", "after", "what happened", "result", "time"]


def _cells(service: ServiceResult) -> list[Any]:
    """One row: the images before and after, what happened in words, result, time."""
    before, after = image_change(service.before, service.after)
    return [
        service.name,
        before,
        after,
        service.what or service.action,
        f"{ICONS.get(str(service.status), '')} {service.status}",
        _seconds(service.seconds),
    ]


def snapshot_summary(outcome: Outcome) -> str:
    """What was captured: each service, its task definition and container images."""
    taken = outcome.snapshot
    assert taken is not None
    where = (
        f"stored at `{_code(outcome.snapshot_uri)}`"
        if outcome.snapshot_uri
        else "dry run: nothing stored"
    )
    head = (
        f"### 📸 ecsundo {escape(outcome.mode)}: {plural(len(taken.services), 'service')} "
        f"captured\n\nCluster **{escape(outcome.cluster)}** · snapshot **{escape(taken.id)}** · "
        f"{where}\n\n"
    )
    rows = []
    for service in taken.services:
        rows.append(
            [service.name, short_or_dash(service.task_definition), images_text(taken, service)]
        )
    notes = _section("Warnings", [escape(w) for w in outcome.warnings], LIMIT // 16)
    budget = LIMIT - len(head.encode()) - len(notes.encode())
    table = _table(["service", "task definition", "images"], rows, budget)
    return head + table + notes + "\n"


def list_summary(outcome: Outcome) -> str:
    ids = outcome.snapshots or []
    head = (
        f"### 🗂️ ecsundo list: {plural(len(ids), 'snapshot')}\n\n"
        f"Cluster **{escape(outcome.cluster)}** in `{_code(outcome.store or '')}` "
        "(newest first)\n\n"
    )
    rows = [[i] for i in reversed(ids)]
    return head + _table(["snapshot id"], rows, LIMIT - len(head.encode())) + "\n"


def discover_summary(outcome: Outcome) -> str:
    found = outcome.clusters or []
    head = (
        f"### 🔭 ecsundo discover: {plural(len(found), 'cluster')}\n\n"
        f"Matching **{escape(outcome.cluster)}**\n\n"
    )
    rows = [[c["cluster"], c["region"]] for c in found]
    return head + _table(["cluster", "region"], rows, LIMIT - len(head.encode())) + "\n"


def error_summary(mode: str, message: str) -> str:
    return f"### ❌ ecsundo {escape(mode)}: failed\n\n{escape(message)}\n"


def _code(text: str) -> str:
    """Inline code span content: no backticks or newlines can end it early."""
    return " ".join(text.replace("`", "'").split())
