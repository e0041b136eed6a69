"""How a run tells its story while it runs: phases, and the lines that belong to each.

The engine calls these; each edge decides what they look like (the action: a log group per
phase). The default says nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecsundo_action.plan import Plan
    from ecsundo_action.snapshots.document import Snapshot


class Progress:
    """The engine tells these as they happen; an edge renders them (render.text.Narrated:
    as phases and lines) or keeps quiet. The engine never renders anything itself."""

    def phase(self, title: str) -> None:
        """A new phase begins. The title is our own words and names, never AWS's text."""

    def note(self, text: str) -> None:
        """A line of the current phase; it may hold text from AWS or a snapshot."""

    def waiting(self, service: str, text: str) -> None:
        """Where a service being waited for is (its rollout, counts, stage), or how it
        settled; told when it changes and at least every 15 s. A line of the phase unless
        the edge shows it otherwise (ecsundo: a live line per service on a terminal)."""
        self.note(f"{service}: {text}")

    def settled(self, service: str, text: str, ok: bool) -> None:
        """A service being waited for settled; text says how (ok: where it should be)."""
        self.waiting(service, text)

    def rollouts(
        self,
        elapsed: float,
        limit: float,
        done: int,
        rolling: Mapping[str, str],
        *,
        final: bool = False,
    ) -> None:
        """Where the whole wait stands, after each look: seconds waited of the limit, how
        many services settled, and where each one still rolling is (by name); final: the
        wait is over (the time is up for those still rolling)."""

    def restoring(self, snapshot: Snapshot, cluster: str) -> None:
        """A restore has read the snapshot it puts back."""

    def planned(self, plan: Plan, dry_run: bool) -> None:
        """Everything is read and decided; changes may already be under way."""


QUIET = Progress()
