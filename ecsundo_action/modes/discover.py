"""Discover: the clusters whose names match a pattern, in one or more Regions, as the
{cluster, region} pairs a GitHub Actions matrix takes (`strategy.matrix.include`).

ECS's quotas are per account and Region, so a fleet fans out: one matrix job per cluster,
each with its own run of ecsundo, none slowing the others.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.progress import Progress
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from ecsundo_action.threads import Threads


def discover(
    connect: Callable[[str | None], EcsGateway],
    threads: Threads,
    request: Request,
    progress: Progress,
) -> Outcome:
    """The clusters matching request.cluster (a glob) in request.regions (default: the
    Region the run is in), sorted by Region then name."""
    regions = list(request.regions or (request.region,))

    def clusters_in(region: str | None) -> list[dict[str, str]]:
        gateway = connect(region)
        names = gateway.list_cluster_names()
        return [
            {"cluster": name, "region": gateway.region}
            for name in sorted(names)
            if fnmatchcase(name, request.cluster)
        ]

    found = [pair for pairs in threads.map(clusters_in, regions) for pair in pairs]
    found.sort(key=lambda p: (p["region"], p["cluster"]))
    where = ", ".join(sorted({p["region"] for p in found})) or "no Region"
    progress.phase(f"Discover clusters matching {request.cluster}")
    progress.note(f"{len(found)} found in {where}")
    return Outcome(Mode.DISCOVER, request.cluster, clusters=found)
