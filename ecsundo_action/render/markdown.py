"""The job summary: Markdown a person reads at a glance. Pure functions of the result.

Every cell is escaped (pipes, HTML, backticks, Markdown, mentions, newlines), so names,
images, tags and AWS messages show as text and can neither break the table nor inject
markup. No task-definition environment value is ever read here. The summary is capped
well under GitHub's 1 MiB per step, with a visible note when rows were cut.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from ecsundo_action.aws.arns import short_digest, short_or_dash
from ecsundo_action.aws.records import Kind
from ecsundo_action.reasons import TOLD_BY_WHAT, Why, plural, say
from ecsundo_action.render.text import (
    UNEVENTFUL,
    counted,
    image_parts,
    images_text,
    ordered,
    provenance,
    run_url,
    span,
    task_images,
    took,
)
from ecsundo_action.request import Mode
from ecsundo_action.result import NEEDS_ATTENTION, Outcome, Phase, ServiceResult, Span, Status
from ecsundo_action.snapshots.document import ServiceRecord, Snapshot

LIMIT = 512 * 1024  # bytes; GitHub refuses a step summary over 1 MiB
NOTE_ROOM = 200  # bytes kept for the note that says what was cut
FOLD_OVER = 10  # more unchanged or skipped services than this: in a collapsed section
# The timeline: drawn when this many services changed, or a rollout took longer than this or
# went through stages; at most this many services in it.
TIMELINE_CHANGED = 5
TIMELINE_LONG_ROLLOUT = 60.0  # seconds
TIMELINE_SERVICES = 50

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
# What GitHub counts as a word before an @: after one, it links no mention (ASCII, as its
# mention filter's \w).
_WORD = re.compile(r"[A-Za-z0-9_]")


def escape(text: Any) -> str:
    """Plain text for a table cell: nothing in it renders as Markdown, HTML or a link."""
    out = []
    previous = ""
    for char in " ".join(str(text).split()):  # newlines and runs of blanks -> one space
        if char in _HTML:
            out.append(_HTML[char])
        elif char == "@" and not _WORD.fullmatch(previous):
            # No @mentions of people or teams: GitHub links them in the rendered text, after
            # entities are decoded, so "&#64;" would not do; a zero-width space after @ does.
            # After a word character (repo@sha256:..., a@b) GitHub links no mention, and a
            # digest must copy exactly: no zero-width space there.
            out.append("@\u200b")
        elif char in _MARKDOWN:
            out.append("\\" + char)
        else:
            out.append(char)
        previous = char
    # No autolinks: GitHub links bare https://... and www.... text.
    return "".join(out).replace("://", "&#58;//").replace("www.", "www&#46;")


def _row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(c if isinstance(c, Md) else escape(c) for c in cells) + " |\n"


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


class Md(str):
    """Markdown made safe already (a code span, a link built here): a cell not escaped."""


def code(text: Any, *, table: bool = False) -> Md:
    """An inline code span: what a person copies (an image, digest, ARN, id, command) comes
    out exactly, and nothing inside links, mentions or renders. Its fence is longer than any
    run of backticks in it; in a table cell a pipe is escaped, as GFM requires there (and
    shows it as is)."""
    content = " ".join(str(text).split())
    if table:
        content = content.replace("|", "\\|")
    runs = [len(r) for r in re.findall(r"`+", content)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return Md(f"{fence}{pad}{content}{pad}{fence}")


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _times(result: Outcome) -> str:
    """Absolute start and end (a summary is read long after it is written), then the phases."""
    spent = took(result.timings)
    if result.started_at is None:
        return escape(spent[0].upper() + spent[1:]) + "\n\n" if spent else ""
    line = f"Started {_utc(result.started_at)}"
    if result.ended_at is not None:
        line += f", ended {result.ended_at:%H:%M:%S} UTC"
    return escape(line + (f"; {spent}" if spent else "")) + "\n\n"


def _snapshot_line(result: Outcome, server_url: str | None) -> str:
    """Which snapshot the run used, how old it was when the run began, who took it."""
    snapshot = result.snapshot
    assert snapshot is not None
    taken = snapshot.taken_at
    age = ""
    if result.started_at is not None:
        age = f", {_age(result.started_at - taken)} before this {result.mode}"
    words = provenance(snapshot, result.started_at or datetime.now(UTC), relative=False)
    words = words.removeprefix(f"snapshot {snapshot.id}, ")
    url = run_url(snapshot, server_url)
    verb = "Would restore from" if result.dry_run else "Restored from"
    return (
        f"{verb} snapshot {code(snapshot.id)}, {escape(words)}{escape(age)}"
        + (f" · [the run that took it]({url})" if url else "")
        + "\n\n"
    )


def _age(delta: timedelta) -> str:
    return span(delta.total_seconds()) or "less than a minute"


def console_url(region: str, cluster: str, service: str) -> str:
    """The service in the ECS console, in its Region's console (China and GovCloud have
    their own)."""
    path = f"ecs/v2/clusters/{quote(cluster, safe='')}/services/{quote(service, safe='')}/health"
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn/{path}?region={region}"
    if region.startswith("us-gov-"):
        return f"https://console.amazonaws-us-gov.com/{path}?region={region}"
    return f"https://{region}.console.aws.amazon.com/{path}?region={region}"


# The next step for a service that needs attention, by what went wrong (the first code of
# its reasons found here), in words a person on call acts on.
NEXT: dict[Why, str] = {
    Why.IMAGE_GONE: "push that build again, or run with pin-images never",
    Why.SETTINGS_LEFT: "recreate the resource or change the setting, then run again "
    "(scope: task-definition leaves settings alone)",
    Why.TIMED_OUT: "it may still settle: watch it, then run again",
    Why.RACING: "another deploy changed it meanwhile: let that finish, then decide",
    Why.ROLLOUT_FAILED: "read the service's events and stopped tasks, fix, then run again",
    Why.ECS_ROLLED_BACK: "read the service's events and stopped tasks, fix, then run again",
    Why.BEING_DELETED: "it is being deleted: nothing to restore",
    Why.CODE_DEPLOY: "roll it back with CodeDeploy (aws deploy stop-deployment "
    "--auto-rollback-enabled)",
    Why.TASK_SETS: "roll it back with the tool that manages its task sets",
    Why.NO_BODY: "restore it from another snapshot, or deploy a known-good release",
    Why.NO_EARLIER: "deploy a known-good release: there is nothing earlier to go back to",
    Why.SCHEDULED_GONE: "recreate the rule or schedule, or leave it out with scheduled-tasks",
}


def _next_step(service: ServiceResult) -> str:
    for reason in service.why:
        if reason.why in NEXT:
            return NEXT[reason.why]
    if service.status == Status.MISSING:
        return "recreate the service, or leave it out with services"
    if "AccessDenied" in service.message:
        return "grant what the error names (docs/iam-policy.json), then run again"
    return "run again: only what is not yet right is changed"


def _where(service: ServiceResult) -> str:
    """Where a service is now: the task definition and first image it runs, and whether it
    is still rolling out."""
    on = service.to if service.changed else service.from_
    images = service.after if service.changed else service.before
    if on is None:
        return ""
    where = f" on {code(short_or_dash(on))}"
    if images:
        where += f" ({code(images[0].reference)})"
    if any(r.why in (Why.TIMED_OUT, Why.NOT_WAITED, Why.STOPPED_WAITING) for r in service.why):
        where += ", still rolling out"
    return where


def _cause(service: ServiceResult) -> str:
    """The row's cause without the next step its reasons may carry: the line says it once,
    after "next:"."""
    if not service.has(Why.IMAGE_GONE_NEXT):
        return service.cause
    return say(r for r in service.why if r.why not in (*TOLD_BY_WHAT, Why.IMAGE_GONE_NEXT))


def _needs_attention(result: Outcome) -> str:
    """First, when anything did not end where it should: each such service, where it is,
    why, and what to do next, with a link to it in the ECS console."""
    rows = [s for s in result.services if s.status in NEEDS_ATTENTION]
    if not rows or result.dry_run:
        return ""
    lines = []
    for service in rows:
        line = (
            f"{ICONS.get(str(service.status), '')} **{escape(service.label)}**"
            f"{_where(service)}: {escape(_cause(service))} — "
            f"next: {escape(_next_step(service))}"
        )
        if result.region and service.kind == Kind.SERVICE:
            line += f" · [console]({console_url(result.region, result.cluster, service.name)})"
        lines.append(line)
    return _section("Needs attention", lines, LIMIT // 4) + "\n"


def _apply(result: Outcome) -> str:
    """How to carry out what a dry run planned."""
    if not result.dry_run or not any(s.status == Status.PLANNED for s in result.services):
        return ""
    if result.mode == Mode.RESTORE and result.snapshot is not None:
        command = f"ecsundo cluster restore {result.cluster} --snapshot-id {result.snapshot.id}"
    else:
        command = f"ecsundo cluster {result.cluster}"
    return (
        f"\nTo apply this plan, run the step again without `dry-run` (at a terminal: "
        f"{code(command)}, with the same options).\n"
    )


def run_summary(result: Outcome, server_url: str | None = None) -> str:
    """One order: the heading; what needs attention; the services that changed (or would);
    the quiet ones folded; warnings. A dry run reads as a plan: why, no times."""
    verdict = str(result.verdict)
    head = (
        f"### {ICONS.get(verdict, '')} ecsundo {escape(result.mode)}: "
        f"{escape(verdict)}\n\n"
        f"Cluster **{escape(result.cluster)}**"
    )
    if result.snapshot is not None:
        head += f" · snapshot {code(result.snapshot.id)}"
    counts: dict[str, int] = {}
    for service in result.services:
        counts[str(service.status)] = counts.get(str(service.status), 0) + 1
    head += " · " + ", ".join(f"{n} {escape(s)}" for s, n in sorted(counts.items())) + "\n\n"
    if result.snapshot is not None:
        head += _snapshot_line(result, server_url)
    if not result.dry_run:
        head += _times(result)
    head += _needs_attention(result)
    services = ordered(result.services)
    quiet = [s for s in services if s.status in UNEVENTFUL]
    moved = services[: len(services) - len(quiet)]  # ordered() puts the quiet ones last
    header, cells = (PLAN_HEADER, _plan_cells) if result.dry_run else (HEADER, _cells)
    folded = quiet if moved or len(quiet) > FOLD_OVER else []
    shown = moved if folded or not quiet else quiet
    if not moved:
        nothing = "Nothing would change" if result.dry_run else "Nothing to change"
        head += f"{nothing}: every service is where it should be.\n\n" if quiet else ""
    notes = _timeline(result)
    if folded:
        # A blank line after <summary> and before </details>: GitHub renders the table inside.
        notes += (
            f"\n<details><summary>{plural(len(folded), 'service')} unchanged or skipped"
            "</summary>\n\n"
            + _table(header, [cells(s) for s in folded], LIMIT // 8)
            + "\n</details>\n"
        )
    notes += _apply(result)
    notes += _section("Warnings", [escape(w) for w in result.warnings], LIMIT // 16)
    notes += _section("Notes", [escape(n) for n in result.notices], LIMIT // 16)
    notes += _section(
        "Not in this snapshot (left as they are)",
        [escape(name) for name in result.uncovered],
        LIMIT // 16,
    )
    budget = LIMIT - len(head.encode()) - len(notes.encode())
    table = _table(header, [cells(s) for s in shown], budget) if shown else ""
    return head + table + notes + "\n"


def _timeline(result: Outcome) -> str:
    """A Mermaid gantt of each changed service's register, update and rollout, folded, where
    a picture is faster than reading the table: five or more services changed, or a rollout
    went through stages (blue/green, linear, canary, hooks) or took over a minute."""
    timed = [s for s in result.services if s.spans]
    changed = [s for s in result.services if s.changed]
    long = any(
        part.phase == Phase.ROLLOUT and part.seconds > TIMELINE_LONG_ROLLOUT
        for service in timed
        for part in service.spans
    )
    staged = any(s.staged for s in changed)
    if result.dry_run or not timed or not (len(changed) >= TIMELINE_CHANGED or staged or long):
        return ""
    # Too many: those that need attention are kept. Drawn in the order they began.
    drawn = sorted(ordered(timed)[:TIMELINE_SERVICES], key=lambda s: s.spans[0].began)
    # The times are UTC written without a zone, read and drawn in the reader's local time
    # (Mermaid knows no other): so the axis shows UTC, as the rest of the summary does.
    lines = ["gantt", "dateFormat YYYY-MM-DD HH:mm:ss.SSS", "axisFormat %H:%M:%S"]
    for service in drawn:
        lines.append(f"section {_mermaid_text(service.name)}")
        lines += [_task(service, part) for part in service.spans]
    more = len(timed) - len(drawn)
    note = f"\n_{plural(more, 'more service')} not drawn: the table lists them._\n" if more else ""
    return (
        "\n<details><summary>Timeline (UTC): register, update and rollout of "
        f"{plural(len(drawn), 'service')}</summary>\n\n"
        "```mermaid\n" + "\n".join(lines) + "\n```\n" + note + "\n</details>\n"
    )


def _task(service: ServiceResult, part: Span) -> str:
    """One bar of the gantt: a failed service's last phase (what failed) is critical."""
    name = str(part.phase)
    if part.phase == Phase.ROLLOUT and service.staged:
        name += " (staged)"
    crit = "crit, " if service.status == Status.FAILED and part is service.spans[-1] else ""
    return f"{name} :{crit}{_moment(part.began)}, {_moment(part.ended)}"


def _mermaid_text(text: str) -> str:
    """A name Mermaid reads as plain text: in a gantt, `:` ends a task's name, `#` and `%%`
    start a comment and `;` ends a statement; anything else unusual could be markup. ECS
    names are letters, digits, - and _ already."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:100] or "_"


def _moment(at: datetime) -> str:
    """A UTC time as the gantt's dateFormat reads it, to the millisecond."""
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}"


HEADER = ["service", "before", "after", "what happened", "result", "time"]
PLAN_HEADER = ["service", "now", "would run", "what would happen", "why"]


def _images(service: ServiceResult) -> tuple[Md | str, Md | str]:
    """The images before and after, each in a code span (the tag, or the short digest that
    tells two builds of one tag apart, and how many other containers)."""
    if service.kind == Kind.SCALABLE_TARGET:  # no images: its range before and after
        return escape(service.from_ or "-"), escape(service.to or "-")
    was, now = image_parts(service.before, service.after)
    return _image_cell(was), _image_cell(now)


def _image_cell(part: tuple[str, str] | None) -> Md | str:
    if part is None:
        return "-"
    label, rest = part
    return Md(code(label, table=True) + (" " + escape(rest) if rest else ""))


def _cells(service: ServiceResult) -> list[Any]:
    """One row: the images before and after, what happened in words, result, time."""
    before, after = _images(service)
    return [
        service.label,
        before,
        after,
        service.what or service.action,
        f"{ICONS.get(str(service.status), '')} {service.status}",
        _seconds(service.seconds),
    ]


def _plan_cells(service: ServiceResult) -> list[Any]:
    """One row of a plan: the images now and after, what would be done, and why."""
    before, after = _images(service)
    return [service.label, before, after, service.what or service.action, service.message]


# A registry host: a name with a dot, or a port (docker's rule for the first path part).
_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?|[A-Za-z0-9-]+:\d+")


def _registry(images: Iterable[str]) -> str | None:
    """The registry most images come from (ECR's host, ghcr.io...), to name once."""
    hosts: dict[str, int] = {}
    for image in images:
        first = image.split("/", 1)[0]
        if "/" in image and _HOST.fullmatch(first):
            hosts[first] = hosts.get(first, 0) + 1
    return max(hosts, key=lambda h: hosts[h]) if hosts else None


def _short_images(taken: Snapshot, record: ServiceRecord, registry: str | None) -> Md:
    """Each container's image, in code, as repository:tag without the registry named once
    above, and the short digest it ran."""
    parts = []
    for image in record.images or ():
        name = image.image
        if registry and name.startswith(registry + "/"):
            name = name[len(registry) + 1 :]
        digest = f" {escape(f'({short_digest(image.digest)})')}" if image.digest else ""
        parts.append(code(name, table=True) + ("" if "@" in name else digest))
    if not parts:
        return Md(escape(images_text(taken, record)))
    return Md(", ".join(parts))


def _how_to_restore(outcome: Outcome, snapshot_id: str) -> str:
    """A ready restore step and command line for this snapshot."""
    store = outcome.store or ""
    step = (
        "- uses: org/ecsundo-action@v1\n"
        "  with:\n"
        "    mode: restore\n"
        f"    cluster: {_yaml(outcome.cluster)}\n"
        f"    snapshot-id: {_yaml(snapshot_id)}\n"
        + (f"    store: {_yaml(store)}\n" if store else "")
    )
    command = f"ecsundo cluster restore {outcome.cluster} --snapshot-id {snapshot_id}"
    command += f" --store {store}" if store else ""
    fence = "~~~"  # no value can close it: each is one line, quoted when unusual
    return (
        f"**To restore it**, a step:\n\n{fence}yaml\n{step}{fence}\n\n"
        f"or at a terminal: {code(command)}\n\n"
    )


def _yaml(value: str) -> str:
    """A YAML scalar that reads back as the same string (quoted when it must be)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*", value) and ": " not in value:
        return value
    return json.dumps(" ".join(value.split()))


def snapshot_summary(outcome: Outcome) -> str:
    """What was captured and how to use it: where it is stored (and for how long), a ready
    restore step and command, then each service, its task definition and images."""
    taken = outcome.snapshot
    assert taken is not None
    where = (
        f"stored at {code(outcome.snapshot_uri)}"
        if outcome.snapshot_uri
        else "dry run: nothing stored"
    )
    head = (
        f"### 📸 ecsundo {escape(outcome.mode)}: {escape(counted(taken))} "
        f"captured\n\nCluster **{escape(outcome.cluster)}** · snapshot {code(taken.id)} · "
        f"{where}\n\n"
    )
    if outcome.snapshot_uri and outcome.snapshot_uri.startswith("file:"):
        head += (
            "⚠️ A folder store lasts as long as its folder: the default one, under "
            "RUNNER\\_TEMP, for this job only. To restore from another run, set "
            "`store: s3://BUCKET/PREFIX` on both steps.\n\n"
        )
    if outcome.snapshot_uri:
        head += _how_to_restore(outcome, taken.id)
    registry = _registry(i.image for s in taken.services for i in s.images or ())
    if registry:
        head += f"Images from {code(registry)} unless named otherwise.\n\n"
    rows = [
        [s.name, short_or_dash(s.task_definition), _short_images(taken, s, registry)]
        for s in taken.services
    ]
    rows += [
        [
            f"{t.name} ({t.kind})",
            short_or_dash(t.task_definition),
            task_images(taken, t.task_definition),
        ]
        for t in taken.scheduled_tasks or ()
    ]
    header = ["service", "task definition", "images"]
    notes = _section("Warnings", [escape(w) for w in outcome.warnings], LIMIT // 16)
    budget = LIMIT - len(head.encode()) - len(notes.encode())
    if len(rows) > FOLD_OVER:
        opening = f"<details><summary>{plural(len(rows), 'service')}</summary>\n\n"
        closing = "\n</details>\n"
        table = opening + _table(header, rows, budget - len(opening) - len(closing)) + closing
    else:
        table = _table(header, rows, budget)
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
