"""How a run tells its story while it runs: phases, and the lines that belong to each.

The engine calls these; each edge decides what they look like (the action: a log group per
phase). The default says nothing.
"""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .document import Snapshot
    from .plan import Plan


class Progress:
    """The engine tells these as they happen; an edge renders them (report.Narrated: as
    phases and lines) or keeps quiet. The engine never renders anything itself."""

    def phase(self, title: str) -> None:
        """A new phase begins. The title is our own words and names, never AWS's text."""

    def note(self, text: str) -> None:
        """A line of the current phase; it may hold text from AWS or a snapshot."""

    def waiting(self, service: str, text: str) -> None:
        """Where a service being waited for is (its rollout, counts, stage), or how it
        settled; told when it changes and at least every 15 s. A line of the phase unless
        the edge shows it otherwise (ecsundo: a live line per service on a terminal)."""
        self.note(f"{service}: {text}")

    def restoring(self, snapshot: Snapshot, cluster: str) -> None:
        """A restore has read the snapshot it puts back."""

    def planned(self, plan: Plan, dry_run: bool) -> None:
        """Everything is read and decided; changes may already be under way."""


QUIET = Progress()


class Live(Progress):
    """`ecsundo`'s progress while it waits, on stderr: on a terminal, one line per service
    updated in place; otherwise a timestamped line each time a service is told of. Phases and
    notes stay quiet: the result table says the rest, and errors stay one line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.lines: dict[str, str] = {}  # service -> its line, in the order first told

    def waiting(self, service: str, text: str) -> None:
        line = _printable(f"{service}: {text}")
        if not self.tty:
            self.stream.write(f"{time.strftime('%H:%M:%S')} {line}\n")
            self.stream.flush()
            return
        drawn = len(self.lines)
        self.lines[service] = line
        width = shutil.get_terminal_size().columns
        # Back to the first line of the block (CSI n F), then each line redrawn and cleared
        # to its end (CSI K), cut to the terminal's width so that none wraps.
        up = f"\x1b[{drawn}F" if drawn else ""
        block = "".join(f"{text[: width - 1]}\x1b[K\n" for text in self.lines.values())
        self.stream.write(up + block)
        self.stream.flush()


def _printable(text: str) -> str:
    """No control characters from AWS's text reach a terminal (escape sequences, returns)."""
    return "".join(c if c.isprintable() else " " for c in text)
