"""List: the snapshots of a cluster in a store, oldest first."""

from __future__ import annotations

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.progress import Progress
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from ecsundo_action.snapshots.stores import Store


def list_snapshots(
    gateway: EcsGateway, store: Store, request: Request, progress: Progress
) -> Outcome:
    where = gateway.describe_cluster(request.cluster)
    progress.phase(f"Snapshots of cluster {where.name}")
    ids = store.list(where)
    uri = store.location(store.key(where, ids[-1])) if ids else None
    return Outcome(Mode.LIST, where.name, snapshot_uri=uri, store=store.uri, snapshots=ids)
