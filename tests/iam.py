"""What ecsundo called in AWS across the test suite, for the least-privilege check.

Only calls made by ecsundo's own clients count (their user agent names ecsundo): the
action and the CLI run as subprocesses, the image in `make container-test`. The history
APIs moto lacks are recorded from the Stubber test.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# (service, operation, params) of every call ecsundo made.
USED: list[tuple[str, str, dict[str, Any]]] = []


def record(calls: Iterable[Any]) -> None:
    USED.extend((c.service, c.operation, c.params) for c in calls if "ecsundo" in c.user_agent)


def record_operation(service: str, operation: str, params: dict[str, Any]) -> None:
    USED.append((service, operation, params))
