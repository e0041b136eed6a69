"""The GitHub Action's edge: inputs in, one engine call, outputs and a summary out.

`read_inputs` checks every input before anything touches AWS and imports nothing heavy;
`main` (entrypoint.py) and `post` (post.py, guard's post step) run a mode and report it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import selection
from .errors import EcsundoError, InputError, NotFoundError
from .resources import check_cluster
from .stores import FileStore, Store, check_snapshot_id, default_store_uri, open_store

if TYPE_CHECKING:
    from .result import RunResult
    from .workflow import Runner

MODES = ("snapshot", "restore", "rollback", "list", "guard")
RECENT_MINUTES = 60  # rollback without `services`: services deployed this recently
GUARD_STATE = "guard"  # the post step reads STATE_guard
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_TRUE, _FALSE = {"true", "True", "TRUE"}, {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Inputs:
    mode: str
    cluster: str
    patterns: list[str] | None
    snapshot_id: str | None
    store: str
    region: str | None
    wait: bool
    timeout_minutes: float
    dry_run: bool
    restore_desired_count: bool
    max_concurrency: int


def _boolean(name: str, text: str, default: bool) -> bool:
    if not text:
        return default
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise InputError(f"input '{name}': expected true or false, got {text[:40]!r}")


def _number(name: str, text: str, default: float, low: float, high: float) -> float:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"input '{name}': expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(
            f"input '{name}': expected a number from {low:g} to {high:g}, got {text!r}"
        )
    return value


def read_inputs(get: Callable[[str], str], environ: Mapping[str, str]) -> Inputs:
    """Every input checked, with a one-line reason naming the input when one is wrong."""
    mode = get("mode").strip()
    if mode not in MODES:
        raise InputError(f"input 'mode': expected one of {', '.join(MODES)}, got {mode[:40]!r}")
    cluster = get("cluster").strip()
    if not cluster:
        raise InputError("input 'cluster': required (a cluster name or ARN)")
    check_cluster(cluster, "input 'cluster'")
    patterns = selection.parse(get("services"), "input 'services'")
    snapshot_id = get("snapshot-id").strip() or None
    if mode == "restore":
        snapshot_id = snapshot_id or "latest"
        if snapshot_id != "latest":
            check_snapshot_id(snapshot_id, "input 'snapshot-id'")
    elif mode in ("snapshot", "guard") and snapshot_id:
        if snapshot_id == "latest":
            raise InputError(
                "input 'snapshot-id': 'latest' names a snapshot to restore; "
                f"{mode} mode takes a new id or none"
            )
        check_snapshot_id(snapshot_id, "input 'snapshot-id'")
    elif mode in ("rollback", "list"):
        snapshot_id = None  # these modes take no snapshot id (a dispatch form may send one)
    store = get("store").strip() or default_store_uri(environ)
    open_store(store, "input 'store'")
    region = get("region").strip() or None
    if region and not _REGION.fullmatch(region):
        raise InputError(
            f"input 'region': expected an AWS region such as eu-west-1, got {region[:40]!r}"
        )
    concurrency = _number("max-concurrency", get("max-concurrency").strip(), 8, 1, 64)
    if concurrency != int(concurrency):
        raise InputError(f"input 'max-concurrency': expected a whole number, got {concurrency:g}")
    return Inputs(
        mode=mode,
        cluster=cluster,
        patterns=patterns,
        snapshot_id=snapshot_id,
        store=store,
        region=region,
        wait=_boolean("wait", get("wait").strip(), True),
        timeout_minutes=_number("timeout-minutes", get("timeout-minutes").strip(), 15, 0.1, 360),
        dry_run=_boolean("dry-run", get("dry-run").strip(), False),
        restore_desired_count=_boolean(
            "restore-desired-count", get("restore-desired-count").strip(), False
        ),
        max_concurrency=int(concurrency),
    )


# -- running a mode -------------------------------------------------------------------------


def _not_found_hint(exc: NotFoundError, store: Store) -> str:
    """A file store in Actions lives for one job: say how to restore across runs."""
    message = str(exc)
    if isinstance(store, FileStore) and message.startswith("no snapshot"):
        message += (
            "; the default store lives in RUNNER_TEMP for one job only: to restore a snapshot"
            " taken in another run, set store: s3://BUCKET/PREFIX for both steps"
        )
    return message


def _report(runner: Runner, result: RunResult) -> None:
    from . import summary
    from .report import result_text

    runner.verbatim(result_text(result))
    for service in result.services:
        if str(service.status) in ("failed", "missing"):
            runner.error(
                f"{service.name}: {service.message or service.status}",
                title=f"ecsundo {result.mode}: {service.name}",
            )
    runner.set_output("result", str(result.verdict))
    runner.set_output("changed-services", result.changed_services)
    runner.set_output("services", [s.to_dict() for s in result.services])
    if result.snapshot_id:
        runner.set_output("snapshot-id", result.snapshot_id)
    if result.snapshot_uri:
        runner.set_output("snapshot-uri", result.snapshot_uri)
    runner.summary(summary.run_summary(result))
    if not result.ok:
        runner.error(f"{result.mode} of cluster {result.cluster}: {result.verdict}")


def run(inputs: Inputs, runner: Runner, environ: Mapping[str, str]) -> int:
    """Run the mode the inputs name; report through the runner; the exit status."""
    from . import summary
    from .apply import ApplyOptions
    from .gateway import EcsGateway
    from .report import snapshot_text
    from .restore import RestoreOptions, restore
    from .rollback import RollbackOptions, rollback
    from .snapshot import github_context, snapshot

    store = open_store(inputs.store, "input 'store'")
    apply = ApplyOptions(
        wait=inputs.wait, timeout=inputs.timeout_minutes * 60, progress=runner.phase
    )
    with EcsGateway.connect(inputs.region, max_concurrency=inputs.max_concurrency) as gateway:
        if inputs.mode in ("snapshot", "guard"):
            with runner.group(f"Snapshot of cluster {inputs.cluster}"):
                taken = snapshot(
                    gateway,
                    store,
                    inputs.cluster,
                    inputs.patterns,
                    snapshot_id=inputs.snapshot_id,
                    github=github_context(environ),
                )
                runner.verbatim(snapshot_text(taken.document, taken.uri))
            runner.set_output("snapshot-id", taken.id)
            runner.set_output("snapshot-uri", taken.uri)
            runner.set_output("result", "success")
            runner.set_output("changed-services", [])
            runner.set_output(
                "services",
                [
                    {
                        "name": s["name"],
                        "action": "snapshot",
                        "from": s["taskDefinition"],
                        "to": s["taskDefinition"],
                        "status": "success",
                        "seconds": 0,
                        "message": "",
                    }
                    for s in taken.document["services"]
                ],
            )
            if inputs.mode == "guard":
                runner.save_state(
                    GUARD_STATE,
                    json.dumps(
                        {
                            "cluster": taken.document["cluster"]["arn"],
                            "store": inputs.store,
                            "snapshotId": taken.id,
                            "region": taken.document["region"],
                        }
                    ),
                )
                runner.info("guard: the post step restores this snapshot if the job fails")
            runner.summary(summary.snapshot_summary(taken.document, taken.uri, inputs.mode))
            return 0
        if inputs.mode == "list":
            where = gateway.describe_cluster(inputs.cluster)
            ids = store.list(where)
            runner.verbatim("\n".join(ids) or f"no snapshots in {store.uri}")
            if ids:
                runner.set_output("snapshot-id", ids[-1])
                runner.set_output("snapshot-uri", store.location(store.key(where, ids[-1])))
            runner.set_output("result", "success")
            runner.summary(summary.list_summary(where.name, store.uri, ids))
            return 0
        with runner.group(f"Plan the {inputs.mode} of cluster {inputs.cluster}"):
            try:
                if inputs.mode == "restore":
                    result = restore(
                        gateway,
                        store,
                        inputs.cluster,
                        RestoreOptions(
                            snapshot_id=inputs.snapshot_id or "latest",
                            patterns=inputs.patterns,
                            restore_desired_count=inputs.restore_desired_count,
                            dry_run=inputs.dry_run,
                            apply=apply,
                        ),
                    )
                else:
                    result = rollback(
                        gateway,
                        inputs.cluster,
                        RollbackOptions(
                            # Unless services are named, only those the last deploy touched.
                            changed_within_minutes=None if inputs.patterns else RECENT_MINUTES,
                            patterns=inputs.patterns,
                            dry_run=inputs.dry_run,
                            apply=apply,
                        ),
                    )
            except NotFoundError as exc:
                raise NotFoundError(_not_found_hint(exc, store)) from None
    _report(runner, result)
    return 0 if result.ok else 1


def _fail(runner: Runner, mode: str, exc: Exception) -> int:
    from . import summary

    runner.error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    runner.summary(summary.error_summary(mode or "action", str(exc)))
    return 1


def main(environ: Mapping[str, str] | None = None) -> int:
    """The main step: entrypoint.py calls this."""
    from actions_toolkit import core

    from .workflow import Runner

    environ = os.environ if environ is None else environ
    runner = Runner()
    try:
        inputs = read_inputs(core.get_input, environ)
    except EcsundoError as exc:
        return _fail(runner, "", exc)
    except Exception as exc:  # never a traceback in the log
        return _fail(runner, "", RuntimeError(f"internal error: {type(exc).__name__}: {exc}"))
    try:
        return run(inputs, runner, environ)
    except EcsundoError as exc:
        return _fail(runner, inputs.mode, exc)
    except Exception as exc:  # never a traceback in the log: one line, exit 1
        return _fail(
            runner, inputs.mode, RuntimeError(f"internal error: {type(exc).__name__}: {exc}")
        )


def post(environ: Mapping[str, str] | None = None) -> int:
    """Guard's post step (post.py): restore the guard's snapshot; the job failed
    (action.yml runs it only then). Without a guard snapshot it does nothing."""
    from actions_toolkit import core

    from .workflow import Runner

    environ = os.environ if environ is None else environ
    runner = Runner()
    state = core.get_state(GUARD_STATE)
    if not state:
        runner.info("ecsundo: no guard snapshot in this job; nothing to restore")
        return 0
    try:
        saved = json.loads(state)
        inputs = read_inputs(core.get_input, environ)
        inputs = Inputs(
            mode="restore",
            cluster=saved["cluster"],
            patterns=inputs.patterns,
            snapshot_id=saved["snapshotId"],
            store=saved["store"],
            region=saved["region"],
            wait=inputs.wait,
            timeout_minutes=inputs.timeout_minutes,
            dry_run=inputs.dry_run,
            restore_desired_count=inputs.restore_desired_count,
            max_concurrency=inputs.max_concurrency,
        )
        check_snapshot_id(inputs.snapshot_id or "", "guard state 'snapshotId'")
        runner.info("ecsundo guard: the job failed; restoring the snapshot taken before it")
        return run(inputs, runner, environ)
    except (ValueError, KeyError, TypeError) as exc:
        return _fail(runner, "guard", InputError(f"guard state is unreadable: {exc}"))
    except EcsundoError as exc:
        return _fail(runner, "guard", exc)
    except Exception as exc:
        return _fail(runner, "guard", RuntimeError(f"internal error: {type(exc).__name__}: {exc}"))
