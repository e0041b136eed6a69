"""Which services a command acts on: names or glob patterns, comma- or newline-separated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from .errors import InputError, NotFoundError

_PATTERN = re.compile(r"^[A-Za-z0-9_\-*?\[\]!]{1,255}$")


def parse(text: str | Iterable[str] | None, what: str = "services") -> list[str] | None:
    """Split a selection into entries; None (every service) when it is empty."""
    if text is None:
        return None
    raw = [text] if isinstance(text, str) else list(text)
    entries = [e.strip() for chunk in raw for e in re.split(r"[,\n]", chunk) if e.strip()]
    for entry in entries:
        if not _PATTERN.fullmatch(entry):
            raise InputError(
                f"{what} entry {entry[:80]!r} is not valid: expected a service name or a glob "
                "pattern (letters, digits, '-', '_', '*', '?', '[...]')"
            )
    return list(dict.fromkeys(entries)) or None


def pick(available: Iterable[str], patterns: Sequence[str] | None) -> list[str]:
    """The available names the patterns pick (all when there are none), in their order."""
    names = list(available)
    if patterns is None:
        return names
    return [name for name in names if any(fnmatchcase(name, p) for p in patterns)]


def select(available: Iterable[str], patterns: Sequence[str] | None, where: str) -> list[str]:
    """The available names the patterns pick, in the order available gives them.

    An entry that picks nothing is an error: a typo must not silently act on nothing.
    """
    names = list(available)
    for pattern in patterns or ():
        if not any(fnmatchcase(name, pattern) for name in names):
            kind = "pattern" if any(c in pattern for c in "*?[") else "service"
            raise NotFoundError(f"services: {kind} {pattern!r} matches no service in {where}")
    return pick(names, patterns)
