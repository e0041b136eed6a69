"""`ecsundo`'s progress on a terminal (or a log) while it waits."""

from __future__ import annotations

import shutil
import time
from typing import TextIO

from ecsundo_action.progress import Progress


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
