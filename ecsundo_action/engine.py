"""execute(request) -> Outcome: the one way into the engine, for every mode and edge.

It opens the store (which signs and verifies with the signing key, if any), connects to
ECS (unless given a gateway), owns the run's threads, and hands the request to its mode's
module. The edges only translate their syntax into a Request and the Outcome into text,
outputs and an exit status.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ecsundo_action.progress import QUIET, Progress
from ecsundo_action.request import SIGNED, Mode, Request
from ecsundo_action.snapshots.signing import Signer
from ecsundo_action.snapshots.stores import open_store

if TYPE_CHECKING:
    from ecsundo_action.aws.gateway import EcsGateway
    from ecsundo_action.result import Outcome


def execute(
    request: Request,
    *,
    gateway: EcsGateway | None = None,
    progress: Progress = QUIET,
    environ: Mapping[str, str] | None = None,
) -> Outcome:
    """Run one request. Raises an EcsundoError (one line) when the run cannot start or its
    snapshot cannot be read; once services are being changed, each one's fate is a row."""
    from ecsundo_action.aws.gateway import EcsGateway
    from ecsundo_action.converge import Options
    from ecsundo_action.modes.discover import discover
    from ecsundo_action.modes.listing import list_snapshots
    from ecsundo_action.modes.restore import restore
    from ecsundo_action.modes.rollback import rollback
    from ecsundo_action.modes.snapshot import github_context, snapshot
    from ecsundo_action.threads import Threads

    environ = os.environ if environ is None else environ
    signer = None
    if request.signing_key and request.mode in SIGNED:
        signer = Signer(request.signing_key, request.region)
    store = open_store(request.store, "store", signer)
    gateway = gateway or EcsGateway.connect(request.region, max_concurrency=request.max_concurrency)
    options = Options(
        dry_run=request.dry_run,
        wait=request.wait,
        timeout=request.timeout_seconds,
        poll_interval=request.poll_interval,
        progress=progress,
    )
    began, started_at = time.monotonic(), datetime.now(UTC)
    with Threads(request.max_concurrency) as threads:
        match request.mode:
            case Mode.SNAPSHOT | Mode.GUARD:
                github = github_context(environ)
                outcome = snapshot(
                    gateway, threads, store, request, github=github, progress=progress
                )
            case Mode.RESTORE:
                outcome = restore(gateway, threads, store, request, options)
            case Mode.ROLLBACK:
                outcome = rollback(gateway, threads, request, options)
            case Mode.LIST:
                outcome = list_snapshots(gateway, store, request, progress)
            case Mode.DISCOVER:
                given = gateway

                def connect(region: str | None) -> EcsGateway:
                    if region is None or region == given.region:
                        return given
                    return EcsGateway.connect(region, max_concurrency=request.max_concurrency)

                outcome = discover(connect, threads, request, progress)
    outcome.timings["total"] = time.monotonic() - began
    outcome.started_at, outcome.ended_at = started_at, datetime.now(UTC)
    outcome.region = gateway.region
    return outcome
