"""The threads of one run: a bounded pool for reads, one for changes, and a queue of
registrations; and the loop that handles reads' results on one thread as they finish.

The run owns them; the gateway owns none. Work given to the pool reads (the gateway, the
store) and never waits on the pool, so a full pool never waits on itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

REGISTERING_THREADS = 2


class Threads:
    def __init__(self, concurrency: int = 8) -> None:
        self.concurrency = concurrency
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ecs")
        # Changes (UpdateService, StopServiceDeployment) never queue behind reads: a restore
        # or rollback starts its first change while the other services are still being read.
        self.changes = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="change")
        # RegisterTaskDefinition's quota (1/s) is the slowest by far: registrations, and the
        # updates that wait for them, queue on threads of their own so that they never hold
        # the threads every other call needs. The queue is first in, first out, so an update
        # queued behind its registration only ever waits for one that has already started.
        self.registrations = ThreadPoolExecutor(
            max_workers=REGISTERING_THREADS, thread_name_prefix="register"
        )
        # Set when the run ends on an error or Ctrl-C: work already running checks it before
        # it changes anything, so no change starts once the run is stopping.
        self.stopped = threading.Event()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn over items on the pool, results in input order; the first error is raised."""
        items = list(items)
        if len(items) <= 1:
            return [fn(item) for item in items]
        return list(self.pool.map(fn, items))

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        return self.pool.submit(fn, *args)

    def aside(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run fn(*args) on a thread of its own, which may hand work to the pool and wait
        for it (work on the pool may not)."""
        future: Future[R] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # the caller's result() raises it
                future.set_exception(exc)

        threading.Thread(target=run, name="aside", daemon=True).start()
        return future

    def change(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run fn(*args), a change to ECS, on the changes' own pool."""
        return self.changes.submit(fn, *args)

    def register(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Run fn(*args) with the registrations, after everything queued there before."""
        return self.registrations.submit(fn, *args)

    def close(self, *, cancel: bool = False) -> None:
        if cancel:
            self.stopped.set()
        for executor in (self.registrations, self.changes, self.pool):
            executor.shutdown(wait=True, cancel_futures=cancel)

    def __enter__(self) -> Threads:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        # On an error or Ctrl-C, queued work is dropped: no further change is started.
        self.close(cancel=exc_type is not None)


class Loop:
    """Reads on the run's pool whose results are handled one at a time, as they finish (those
    that finish together in no set order), on the thread that runs the loop: a handler may
    start more reads and needs no lock, and what a batch needs next starts as soon as that
    batch is read."""

    def __init__(self, threads: Threads) -> None:
        self._threads = threads
        self._pending: dict[Future[Any], Callable[[Future[Any]], None]] = {}

    def start(
        self, then: Callable[[Future[R]], None], fn: Callable[..., R], *args: Any
    ) -> Future[R]:
        """Run fn(*args) on the pool; then(its future) runs on the loop's thread."""
        future = self._threads.submit(fn, *args)
        self._pending[future] = then
        return future

    def pending(self, future: Future[Any]) -> bool:
        """Started here and not yet handled."""
        return future in self._pending

    def run(self) -> None:
        """Handle results as they come until nothing is pending; a handler's error ends it."""
        while self._pending:
            done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
            for future in done:
                self._pending.pop(future)(future)
