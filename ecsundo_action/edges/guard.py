"""Guard: one step that snapshots now and restores in the job's post step if it fails.

The first half is a snapshot whose whereabouts are saved in the step's state; the second
(post.py, in a fresh container) turns that state back into a restore request. Both halves
run through engine.execute like every other mode.
"""

from __future__ import annotations

import json
from dataclasses import replace

from ecsundo_action.errors import InputError
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from ecsundo_action.snapshots.stores import check_snapshot_id

STATE = "guard"  # the post step reads it as STATE_guard


def state(request: Request, taken: Outcome) -> str | None:
    """What the post step needs to find the snapshot again; None when nothing was stored."""
    if taken.snapshot is None or taken.snapshot_uri is None:
        return None
    return json.dumps(
        {
            "cluster": taken.snapshot.cluster.arn,
            "store": request.store,
            "snapshotId": taken.snapshot.id,
            "region": taken.snapshot.cluster.region,
        }
    )


def restore_request(request: Request, saved: str) -> Request:
    """The post step's restore: the guard's snapshot, with the step's other inputs."""
    try:
        fields = json.loads(saved)
        cluster, store = str(fields["cluster"]), str(fields["store"])
        snapshot_id, region = str(fields["snapshotId"]), str(fields["region"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"guard state is unreadable: {type(exc).__name__}: {exc}") from None
    check_snapshot_id(snapshot_id, "guard state 'snapshotId'")
    return replace(
        request,
        mode=Mode.RESTORE,
        cluster=cluster,
        store=store,
        snapshot_id=snapshot_id,
        region=region,
    )
