"""Talking to the GitHub Actions runner safely: logs, annotations, outputs, summary, state.

The runner reads workflow commands (`::name::value`) from stdout, so text that came from
AWS (error messages, image names, tags) or from a snapshot is only ever printed inside a
`::stop-commands::` block with a random token, and annotations go through
actions-toolkit, which escapes newlines and `%`. Outputs and state go through
actions-toolkit's file commands, which use a random heredoc delimiter and refuse a value
that contains it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from typing import Any

from actions_toolkit import core

from ecsundo_action.render.text import Narrated


class Runner(Narrated):
    """stdout and the GITHUB_* files of one step."""

    @staticmethod
    def _command(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    _open = False

    def phase(self, title: str) -> None:
        """Close the open log group, if any, and start a new one (groups do not nest)."""
        self.end_phase()
        self._command(f"::group::{title}")
        self._open = True

    def end_phase(self) -> None:
        if self._open:
            self._command("::endgroup::")
            self._open = False

    def verbatim(self, text: str) -> None:
        """Print text that may hold anything: the runner runs no command inside it."""
        token = secrets.token_hex(16)
        self._command(f"::stop-commands::{token}")
        for line in text.splitlines():
            sys.stdout.write(line + "\n")
        self._command(f"::{token}::")

    def note(self, text: str) -> None:
        """A line of the current phase (Progress): it may hold anything, so verbatim."""
        self.verbatim(text)

    def info(self, text: str) -> None:
        """One line of our own words (no AWS text): printed as is."""
        self._command(text)

    @staticmethod
    def _annotate(annotate: Any, message: str, title: str | None) -> None:
        """An annotation, after what was printed before it; actions-toolkit escapes it onto
        one line."""
        sys.stdout.flush()
        annotate(message, **({"title": title} if title else {}))
        sys.stdout.flush()

    def error(self, message: str, title: str | None = None) -> None:
        self._annotate(core.error, message, title)

    def warning(self, message: str) -> None:
        self._annotate(core.warning, message, None)

    def notice(self, message: str, title: str | None = None) -> None:
        """Worth knowing, nothing wrong."""
        self._annotate(core.notice, message, title)

    @staticmethod
    def set_output(name: str, value: Any) -> None:
        if os.environ.get("GITHUB_OUTPUT"):
            text = value if isinstance(value, str) else json.dumps(value)
            if "\r" in text:  # the runner reads a lone CR as a line end: it would be lost
                raise ValueError(f"output {name} holds a carriage return")
            core.set_output(name, text)

    @staticmethod
    def save_state(name: str, value: str) -> None:
        if os.environ.get("GITHUB_STATE"):
            core.save_state(name, value)

    @staticmethod
    def summary(markdown: str) -> None:
        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(markdown)
