"""Plain-text reports of an Outcome, for a terminal and for the action's log alike."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from ecsundo_action.aws.arns import short_digest, short_or_dash
from ecsundo_action.aws.records import ContainerImage, Kind, images_of
from ecsundo_action.plan import Action, Plan
from ecsundo_action.progress import Progress
from ecsundo_action.reasons import plural
from ecsundo_action.request import Mode
from ecsundo_action.result import NEEDS_ATTENTION, Outcome, ServiceResult, Status
from ecsundo_action.snapshots.document import ServiceRecord, Snapshot


def table(rows: Sequence[tuple[str, ...]], width: int | None = None) -> str:
    """Left-aligned columns, two spaces apart; the last column is not padded, and is cut
    with an ellipsis where a line would pass width (a terminal's; None: never cut)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        line = (
            "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False))
            + "  "
            + row[-1]
        )
        if width is not None and len(line) > width:
            line = line[: max(width - 1, 0)] + "…"
        lines.append(line)
    return "\n".join(lines)


UNEVENTFUL = (Status.UNCHANGED, Status.SKIPPED)  # rows that did nothing, as expected


def image_parts(
    before: tuple[ContainerImage, ...], after: tuple[ContainerImage, ...]
) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """The images before and after, as a person compares them: the container that changes
    (the first one when none does), as (its tag or short digest, what follows it: the short
    digest when the same tag names another build, and how many other containers it has)."""
    names = [i.container for i in before] or [i.container for i in after]
    old = {i.container: i for i in before}
    new = {i.container: i for i in after}
    changed = [n for n in names if old.get(n) != new.get(n)]
    name = (changed or names or [""])[0]
    was, now = old.get(name), new.get(name)
    differ = (
        was is not None
        and now is not None
        and was.label == now.label  # the same tag, another build
        and was.digest != now.digest
        and None not in (was.digest, now.digest)
    )

    def parts(image: ContainerImage | None, count: int) -> tuple[str, str] | None:
        if image is None:
            return None
        more = f" (+{count - 1} more)" if count > 1 else ""
        build = f" ({short_digest(image.digest)})" if differ else ""
        return image.label, f"{build}{more}"

    return parts(was, len(before)), parts(now, len(after))


def image_change(
    before: tuple[ContainerImage, ...], after: tuple[ContainerImage, ...]
) -> tuple[str, str]:
    """image_parts in words: "web:1.4.2 (9f3c12ab34cd) (+1 more)", "-" when unknown."""
    was, now = image_parts(before, after)
    return ("-" if was is None else "".join(was)), ("-" if now is None else "".join(now))


def ordered(services: list[ServiceResult]) -> list[ServiceResult]:
    """Failed and missing first, then the changed, then the rest, each in plan order."""

    def rank(s: ServiceResult) -> int:
        if s.status in NEEDS_ATTENTION:
            return 0
        return 2 if s.status in UNEVENTFUL else 1

    return sorted(services, key=rank)


def took(timings: dict[str, float]) -> str:
    """ "took 42s: read 3s, register 2s, update 5s, wait 32s" (empty when not measured)."""
    if "total" not in timings:
        return ""
    phases = [
        f"{phase} {timings[phase]:.0f}s"
        for phase in ("read", "register", "update", "wait")
        if phase in timings
    ]
    return f"took {timings['total']:.0f}s" + (": " + ", ".join(phases) if phases else "")


def span(seconds: float) -> str | None:
    """A length of time in the largest unit that fits: "5 minutes", "3 days" (None: less
    than a minute)."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return plural(int(seconds // size), unit)
    return None


def ago(seconds: float) -> str:
    """How long ago: "just now", "5 minutes ago", "3 days ago"."""
    length = span(seconds)
    return f"{length} ago" if length else "just now"


def provenance(snapshot: Snapshot, now: datetime, *, relative: bool = True) -> str:
    """Which snapshot: its id, when it was taken (and how long ago), and by which workflow,
    run, sha and actor."""
    taken = snapshot.taken_at
    text = f"snapshot {snapshot.id}, taken {taken:%Y-%m-%d %H:%M:%S} UTC"
    if relative:
        text += f" ({ago((now - taken).total_seconds())})"
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
    registering = {s.target for s in changing if s.action == Action.REREGISTER}
    if registering:
        title += f", {plural(len(registering), 'task definition')} to register again"
    return title + (" (dry run: nothing changes)" if dry_run else "")


def plan_text(plan: Plan) -> str:
    rows = [("SERVICE", "ACTION", "FROM", "TO", "WHY")]
    rows += [
        (
            s.service if s.kind == Kind.SERVICE else f"{s.service} ({s.kind.replace('-', ' ')})",
            str(s.action),
            short_or_dash(s.current),
            short_or_dash(s.target),
            s.reason,
        )
        for s in plan.steps
    ]
    return table(rows)


def _warnings_text(outcome: Outcome) -> str:
    """The outcome's warnings and notices, a line each, to follow a table."""
    return "".join(f"\nwarning: {w}" for w in outcome.warnings) + "".join(
        f"\nnote: {n}" for n in outcome.notices
    )


CAUSES_NAMED = 5  # services whose cause the verdict line names; the rest counted
CAUSE_CHARS = 120  # of each cause


def verdict_line(outcome: Outcome) -> str:
    """The run in one line, for the final annotation: counts by result, then each service
    that needs attention with its cause ("restore of cluster shop: partial: 1 failed, 3
    success; web: rollout FAILED (...)")."""
    counts: dict[str, int] = {}
    for service in outcome.services:
        counts[str(service.status)] = counts.get(str(service.status), 0) + 1
    line = f"{outcome.mode} of cluster {outcome.cluster}: {outcome.verdict}"
    if counts:
        line += ": " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    attention = [s for s in ordered(outcome.services) if s.status in NEEDS_ATTENTION]
    causes = [f"{s.label}: {_cut(s.cause, CAUSE_CHARS)}" for s in attention[:CAUSES_NAMED]]
    if len(attention) > CAUSES_NAMED:
        causes.append(f"{len(attention) - CAUSES_NAMED} more (see the job summary)")
    return "; ".join([line, *causes])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        rows.append(
            (service.name, short_or_dash(service.task_definition), images_text(taken, service))
        )
    for task in taken.scheduled_tasks or ():
        rows.append(
            (
                f"{task.name} ({task.kind})",
                short_or_dash(task.task_definition),
                task_images(taken, task.task_definition),
            )
        )
    listing = table(rows) if len(rows) > 1 else "(no services)"
    where = (
        "dry run: nothing stored"
        if outcome.snapshot_uri is None
        else f"stored at {outcome.snapshot_uri}"
    )
    return (
        f"snapshot {taken.id} of cluster {outcome.cluster}: "
        f"{counted(taken)}\n{listing}{_warnings_text(outcome)}\n{where}"
    )


def counted(taken: Snapshot) -> str:
    """ "4 services", "4 services, 2 scheduled tasks"."""
    said = plural(len(taken.services), "service")
    if taken.scheduled_tasks:
        said += ", " + plural(len(taken.scheduled_tasks), "scheduled task")
    return said


def task_images(taken: Snapshot, task_definition: str) -> str:
    """The images of a kept task definition (a scheduled task's: no digests are known)."""
    kept = taken.task_definitions.get(task_definition)
    return ", ".join(i.label for i in images_of(kept.body)) if kept else "-"


def discover_text(outcome: Outcome) -> str:
    found = outcome.clusters or []
    if not found:
        return f"no cluster matches {outcome.cluster}"
    return table([("CLUSTER", "REGION"), *((c["cluster"], c["region"]) for c in found)])


def list_text(outcome: Outcome) -> str:
    if outcome.snapshots:
        return "\n".join(outcome.snapshots)
    return f"no snapshots of {outcome.cluster} in {outcome.store}"


def _which_snapshot(outcome: Outcome) -> str:
    """A restore names the snapshot it used, and when and by what it was taken: `latest`
    is resolved, and the reader sees to what."""
    if outcome.snapshot is None or outcome.mode != Mode.RESTORE:
        return ""
    return f" from {provenance(outcome.snapshot, datetime.now(UTC))}"


def quiet(services: list[ServiceResult]) -> list[ServiceResult]:
    """The rows that did nothing, as expected (unchanged, skipped)."""
    return [s for s in services if s.status in UNEVENTFUL]


def service_rows(services: list[ServiceResult], width: int | None = None) -> str:
    """One line per service: images before and after, what happened, how long, and the
    message; the last column is cut at width (a terminal's)."""
    rows = [("SERVICE", "RESULT", "BEFORE", "AFTER", "TIME", "WHAT HAPPENED")]
    for s in services:
        before, after = image_change(s.before, s.after)
        if s.kind == Kind.SCALABLE_TARGET:  # no images: its range before and after
            before, after = s.from_ or "-", s.to or "-"
        said = "; ".join(part for part in (s.what, s.message) if part)
        rows.append((s.label, str(s.status), before, after, f"{s.seconds:.0f}s", said))
    return table(rows, width)


def result_text(outcome: Outcome, width: int | None = None, *, quiet_rows: bool = True) -> str:
    """The rows in one order: those that need attention, the changed, then the quiet ones
    (or, quiet_rows False, one line that counts them: "150 unchanged or skipped")."""
    services = ordered(outcome.services)
    calm = quiet(services)
    shown = services if quiet_rows else services[: len(services) - len(calm)]
    head = f"{outcome.mode} of cluster {outcome.cluster}{_which_snapshot(outcome)}"
    body = service_rows(shown, width) if shown else ""
    if calm and not quiet_rows:
        counted = f"{len(calm)} unchanged or skipped (--verbose lists them)"
        body = f"{body}\n{counted}" if body else counted
    spent = took(outcome.timings)
    return (
        f"{head}\n{body}{_warnings_text(outcome)}\n"
        + (f"{spent}\n" if spent else "")
        + f"result: {outcome.verdict}"
    )


def text(outcome: Outcome, width: int | None = None, *, quiet_rows: bool = True) -> str:
    """What a person reads after any mode (width: a terminal's, to cut long lines at;
    quiet_rows False: unchanged and skipped services counted in one line, not listed)."""
    if outcome.mode in (Mode.SNAPSHOT, Mode.GUARD):
        return snapshot_text(outcome)
    if outcome.mode == Mode.LIST:
        return list_text(outcome)
    if outcome.mode == Mode.DISCOVER:
        return discover_text(outcome)
    if outcome.dry_run and outcome.plan is not None:
        which = _which_snapshot(outcome)
        return (
            f"plan for {outcome.mode} of cluster {outcome.cluster}{which} (dry run: nothing "
            "changed)\n"
            f"{plan_text(outcome.plan)}{_warnings_text(outcome)}\nresult: {outcome.verdict}"
        )
    return result_text(outcome, width, quiet_rows=quiet_rows)


AGGREGATE_EVERY = 15.0  # seconds: the wait's line at most this often...
AGGREGATE_AT_LEAST = 60.0  # ...and at least this often, when nothing else changed
ROLLING_NAMED = 5  # services still rolling named in it; the rest counted


def duration(seconds: float) -> str:
    """ "45s", "2m30s", "15m"."""
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return f"{rest}s"
    return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"


def wait_line(
    elapsed: float, limit: float, done: int, settled: Sequence[str], rolling: Mapping[str, str]
) -> str:
    """The whole wait in one line: "2m30s of 15m: 47 done (api, web), 3 rolling: search
    rollout IN_PROGRESS, 0/2 running; ..."."""
    line = f"{duration(elapsed)} of {duration(limit)}: {done} done"
    if settled:
        line += f" ({', '.join(settled[:ROLLING_NAMED])}{_more(len(settled))})"
    if rolling:
        named = "; ".join(f"{n} {t}" for n, t in list(rolling.items())[:ROLLING_NAMED])
        line += f", {len(rolling)} rolling: {named}{_more(len(rolling))}"
    return line


def _more(count: int) -> str:
    return f" and {count - ROLLING_NAMED} more" if count > ROLLING_NAMED else ""


class Narrated(Progress):
    """Progress whose events are told as phases and lines (the action's log, tests). While
    waiting, one line for the whole wait at most every 15 s (and at least every minute), a
    line of its own for each service that fails: a 50-service wait stays readable."""

    _told_at = -math.inf
    _told = ""
    _settled: list[str] | None = None  # settled well since the last line

    def clock(self) -> float:
        return time.monotonic()

    def waiting(self, service: str, text: str) -> None:
        """Told in the wait's line instead."""

    def settled(self, service: str, text: str, ok: bool) -> None:
        if ok:
            self._settled = [*(self._settled or []), service]
        else:
            self.note(f"{service}: {text}")

    def rollouts(
        self,
        elapsed: float,
        limit: float,
        done: int,
        rolling: Mapping[str, str],
        *,
        final: bool = False,
    ) -> None:
        now = self.clock()
        line = wait_line(elapsed, limit, done, self._settled or [], rolling)
        quiet = now - self._told_at
        changed = line.split(": ", 1)[1] != self._told.split(": ", 1)[-1]
        soon = quiet < AGGREGATE_EVERY or (not changed and quiet < AGGREGATE_AT_LEAST)
        if rolling and soon and not final:
            return
        self.note(line)
        self._told_at, self._told, self._settled = now, line, []

    def restoring(self, snapshot: Snapshot, cluster: str) -> None:
        self.phase(f"Read snapshot {snapshot.id} of cluster {cluster}")
        self.note(provenance(snapshot, datetime.now(UTC)))

    def planned(self, plan: Plan, dry_run: bool) -> None:
        self.phase(plan_title(plan, dry_run))
        self.note(plan_text(plan))
