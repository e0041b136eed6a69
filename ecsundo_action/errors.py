"""Errors the engine raises. Each carries one line a person can act on.

The edges (CLI, entrypoint) print ``str(error)`` and exit 1; nothing below them prints.
"""


class EcsundoError(Exception):
    """Base of every error this tool reports as a one-line reason."""


class InputError(EcsundoError):
    """An input (argument, action input, store URI, snapshot id) is malformed."""


class NotFoundError(EcsundoError):
    """A cluster, service, snapshot or task definition that was asked for does not exist."""


class SnapshotNotFound(NotFoundError):
    """No snapshot with that id, or none at all, for the cluster in the store."""


class SnapshotRefused(EcsundoError):
    """A stored snapshot document failed its checksum, schema or ownership checks."""


class SigningKeyError(EcsundoError):
    """The signing key cannot be used: KMS has none such, it is disabled or pending deletion,
    it is no HMAC key, or this role may not use it."""


class StoreError(EcsundoError):
    """The snapshot store could not be read or written."""


class AwsError(EcsundoError):
    """An AWS call failed; the message says what was being done."""


class Conflict(AwsError):
    """ECS refused a change the resource's state no longer allows (ConflictException)."""


class SettingsGone(AwsError):
    """ECS refused service settings that name a resource deleted since (a security group,
    subnet, target group, Cloud Map namespace...): the settings by their API names."""

    def __init__(self, message: str, settings: tuple[str, ...]) -> None:
        super().__init__(message)
        self.settings = settings


class Terminated(BaseException):
    """SIGTERM, raised in the main thread as KeyboardInterrupt is for SIGINT (GitHub sends
    SIGINT on cancel, then SIGTERM about 7.5 s later)."""


STOPPING = (KeyboardInterrupt, Terminated)


def signal_number(exc: BaseException) -> int:
    """The signal that stopped a run: 15 for SIGTERM, else 2 (SIGINT, Ctrl-C)."""
    return 15 if isinstance(exc, Terminated) else 2


def raise_on_sigterm() -> None:
    """From now on SIGTERM stops the run as Ctrl-C does, so that it can report (only the
    main thread can be told of signals: elsewhere, nothing changes)."""
    import signal
    import threading

    def stop(*_: object) -> None:
        raise Terminated

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def reason(exc: BaseException) -> str:
    """One line for any error: ours as they are, anything else named as internal."""
    if isinstance(exc, EcsundoError):
        text = str(exc)
    else:
        text = f"internal error: {type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__
