"""How a run tells its story while it runs: phases, and the lines that belong to each.

The engine calls these; each edge decides what they look like (the action: a log group per
phase). The default says nothing.
"""

from __future__ import annotations


class Progress:
    def phase(self, title: str) -> None:
        """A new phase begins. The title is our own words and names, never AWS's text."""

    def note(self, text: str) -> None:
        """A line of the current phase; it may hold text from AWS or a snapshot."""


QUIET = Progress()
