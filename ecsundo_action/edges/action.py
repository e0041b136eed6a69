"""The GitHub Action's edge: inputs in, one engine call, outputs and a summary out.

`read_inputs` turns the step's inputs into a Request (every check before anything touches
AWS, nothing heavy imported); `main` (entrypoint.py) and `post` (post.py, guard's post
step) execute it and report the Outcome through the runner.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ecsundo_action.edges import guard
from ecsundo_action.errors import (
    STOPPING,
    SnapshotNotFound,
    raise_on_sigterm,
    reason,
    signal_number,
)
from ecsundo_action.request import OPTIONS, Mode, Request, build, parse_mode
from ecsundo_action.snapshots.stores import default_store_uri

if TYPE_CHECKING:
    from ecsundo_action.edges.runner import Runner
    from ecsundo_action.result import Outcome

# GitHub shows 10 error annotations per step: at most this many per service, then the
# verdict (the summary and the `services` output list every failure); and 10 warnings.
SERVICE_ERRORS = 9
WARNINGS = 10
NOTICES = 9  # and the verdict's


def read_inputs(get: Callable[[str], str], environ: Mapping[str, str]) -> Request:
    """Every input checked, with a one-line reason naming the input when one is wrong."""
    mode = parse_mode(get("mode"), "input 'mode'")
    given = {option.field: get(option.input) for option in OPTIONS if option.input}
    return build(mode, get("cluster"), given, edge="action", environ=environ)


def _not_found_hint(exc: SnapshotNotFound, request: Request) -> str:
    """A file store in Actions lives for one job: say how to restore across runs."""
    message = str(exc)
    if isinstance(exc, SnapshotNotFound) and request.store.startswith("file:"):
        message += (
            "; the default store lives in RUNNER_TEMP for one job only: to restore a snapshot"
            " taken in another run, set store: s3://BUCKET/PREFIX for both steps"
        )
    return message


# In a workflow file's text: workflow_dispatch as a trigger (a key under on:, an item of
# its list, or inline: on: [push, workflow_dispatch]), and a step that restores.
_DISPATCH = re.compile(
    r"^\s*(?:workflow_dispatch\s*:|-\s*workflow_dispatch\s*$|on\s*:.*\bworkflow_dispatch\b)",
    re.MULTILINE,
)
_RESTORE_STEP = re.compile(r"^\s*mode:\s*['\"]?restore\b", re.MULTILINE)


def offers_manual_restore(environ: Mapping[str, str]) -> bool:
    """Whether the running workflow can also be started by hand (workflow_dispatch) and has
    a restore step: read from its file in the checkout (GITHUB_WORKFLOW_REF names it); False
    when it is not checked out or cannot be read."""
    ref = environ.get("GITHUB_WORKFLOW_REF", "")  # owner/repo/.github/workflows/x.yml@ref
    workspace = environ.get("GITHUB_WORKSPACE")
    parts = ref.split("@", 1)[0].split("/", 2)
    if not workspace or len(parts) < 3:
        return False
    root = Path(workspace).resolve()
    path = (root / parts[2]).resolve()
    if not path.is_relative_to(root):
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            text = file.read(1_000_000)
    except OSError:
        return False
    return _DISPATCH.search(text) is not None and _RESTORE_STEP.search(text) is not None


def store_warning(request: Request, environ: Mapping[str, str]) -> str | None:
    """A snapshot in a store that lasts for this job only, taken in a workflow that also
    restores when started by hand: that later run will not find it."""
    if request.mode is not Mode.SNAPSHOT or request.store != default_store_uri(environ):
        return None
    if environ.get("GITHUB_ACTIONS") != "true" or not offers_manual_restore(environ):
        return None
    return (
        "store: the default store lives in RUNNER_TEMP for this job only, but this workflow "
        "also restores when started by hand (workflow_dispatch): that run will not find this "
        "snapshot; set store: s3://BUCKET/PREFIX for both"
    )


def _report(runner: Runner, request: Request, outcome: Outcome, environ: Mapping[str, str]) -> None:
    from ecsundo_action.reasons import plural
    from ecsundo_action.render import markdown as summary
    from ecsundo_action.render.text import quiet, service_rows, text, verdict_line
    from ecsundo_action.result import NEEDS_ATTENTION

    if outcome.mode in (Mode.RESTORE, Mode.ROLLBACK):
        runner.end_phase()  # the result table stands outside the groups, seen at a glance
    runner.verbatim(text(outcome, quiet_rows=False))
    runner.end_phase()
    calm = quiet(outcome.services)
    if calm and outcome.mode in (Mode.RESTORE, Mode.ROLLBACK):  # folded, as in the summary
        runner.phase(f"{plural(len(calm), 'service')} unchanged or skipped")
        runner.verbatim(service_rows(calm))
        runner.end_phase()
    failures = [s for s in outcome.services if s.status in NEEDS_ATTENTION]
    for service in failures[:SERVICE_ERRORS]:
        runner.error(
            f"{service.name}: {service.message or service.status}",
            title=f"ecsundo {outcome.mode}: {service.name}",
        )
    for warning in outcome.warnings[:WARNINGS]:
        runner.warning(warning)
    for notice in outcome.notices[:NOTICES]:
        runner.notice(notice)
    for name, value in outcome.outputs().items():
        runner.set_output(name, value)
    if request.mode is Mode.GUARD:
        saved = guard.state(request, outcome)
        if saved is not None:
            runner.save_state(guard.STATE, saved)
            runner.info("guard: the post step restores this snapshot if the job fails")
    runner.summary(summary.of(outcome, environ.get("GITHUB_SERVER_URL")))
    # The last annotation is the run in one line: counts, and the causes of what failed.
    if outcome.mode in (Mode.RESTORE, Mode.ROLLBACK) or not outcome.ok:
        title = f"ecsundo {outcome.mode}: {outcome.verdict}"
        if outcome.ok:
            runner.notice(verdict_line(outcome), title=title)
        else:
            runner.error(verdict_line(outcome), title=title)


def run(request: Request, runner: Runner, environ: Mapping[str, str]) -> int:
    """Execute the request; report through the runner; the exit status."""
    from ecsundo_action.engine import execute

    try:
        outcome = execute(request, progress=runner, environ=environ)
    except SnapshotNotFound as exc:
        runner.end_phase()
        raise SnapshotNotFound(_not_found_hint(exc, request)) from None
    except BaseException:
        runner.end_phase()
        raise
    warning = store_warning(request, environ)
    if warning is not None:
        outcome.warnings.append(warning)
    _report(runner, request, outcome, environ)
    return outcome.exit_status


def _stopped(runner: Runner, mode: str, exc: BaseException) -> int:
    """Interrupted outside the changes (reading, or reporting): one line, the signal's exit
    status. Interrupted while changing, the run reports its rows instead (converge)."""
    from ecsundo_action.render import markdown as summary

    runner.end_phase()
    said = f"interrupted ({'SIGTERM' if signal_number(exc) == 15 else 'SIGINT'})"
    runner.error(said)
    runner.summary(summary.error_summary(mode or "action", said))
    return 128 + signal_number(exc)


def _fail(runner: Runner, mode: str, exc: BaseException) -> int:
    from ecsundo_action.render import markdown as summary

    runner.error(reason(exc))
    runner.summary(summary.error_summary(mode or "action", reason(exc)))
    return 1


def main(environ: Mapping[str, str] | None = None) -> int:
    """The main step: entrypoint.py calls this."""
    from actions_toolkit import core

    from ecsundo_action.edges.runner import Runner

    environ = os.environ if environ is None else environ
    runner = Runner()
    raise_on_sigterm()  # a cancelled job gets SIGINT, then SIGTERM: both report
    mode = ""
    try:
        request = read_inputs(core.get_input, environ)
        mode = str(request.mode)
        return run(request, runner, environ)
    except STOPPING as exc:  # before any change could start: nothing to report but that
        return _stopped(runner, mode, exc)
    except Exception as exc:  # never a traceback in the log: one line, exit 1
        return _fail(runner, mode, exc)


def post(environ: Mapping[str, str] | None = None) -> int:
    """Guard's post step (post.py): restore the guard's snapshot; the job did not succeed
    (action.yml's post-if). Without a guard snapshot it does nothing."""
    from actions_toolkit import core

    from ecsundo_action.edges.runner import Runner

    environ = os.environ if environ is None else environ
    runner = Runner()
    raise_on_sigterm()
    saved = core.get_state(guard.STATE)
    if not saved:
        runner.info("ecsundo: no guard snapshot in this job; nothing to restore")
        return 0
    try:
        request = guard.restore_request(read_inputs(core.get_input, environ), saved)
        runner.info(
            "ecsundo guard: the job did not succeed; restoring the snapshot taken before it"
        )
        return run(request, runner, environ)
    except STOPPING as exc:
        return _stopped(runner, "guard", exc)
    except Exception as exc:
        return _fail(runner, "guard", exc)
