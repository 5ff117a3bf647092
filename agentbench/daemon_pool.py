"""A bounded pool of daemon threads that a run can walk away from.

A model call can block for minutes and an HTTP read cannot be cut from another thread, so an
interrupted run does not wait for its workers: it cleans up, and the process exits past them.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Iterable, TypeVar

Item = TypeVar("Item")


class DaemonPool:
    """Calls `call(item)` for every item on at most `workers` daemon threads. `stopping` is set
    when the pool gives up (a call raised, or the waiting thread was interrupted); workers then
    take no new item."""

    def __init__(self, workers: int, stopping: threading.Event):
        self.workers = max(1, workers)
        self.stopping = stopping
        self.threads: list[threading.Thread] = []

    def run(self, call: Callable[[Item], object], items: Iterable[Item]) -> None:
        """Return when every call has returned; re-raise the first call's exception, or the
        interrupt, without waiting for the calls still in flight."""
        todo: queue.SimpleQueue = queue.SimpleQueue()
        count = 0
        for item in items:
            todo.put(item)
            count += 1
        outcomes: queue.SimpleQueue = queue.SimpleQueue()

        def work() -> None:
            while not self.stopping.is_set():
                try:
                    item = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    call(item)
                    outcomes.put(None)
                except BaseException as exc:  # handed to the waiting thread, which re-raises it
                    self.stopping.set()
                    outcomes.put(exc)

        self.threads = [threading.Thread(target=work, name=f"attempt-{n}", daemon=True) for n in range(min(self.workers, count))]
        try:
            for thread in self.threads:
                thread.start()
            for _ in range(count):
                failure = _next(outcomes)
                if failure is not None:
                    raise failure
        except BaseException:
            self.stopping.set()
            raise

    def join(self, grace_s: float) -> None:
        """Give the workers still running up to `grace_s` seconds in all to notice the stop."""
        deadline = time.monotonic() + grace_s
        for thread in self.threads:
            thread.join(max(deadline - time.monotonic(), 0.0))


def _next(outcomes: queue.SimpleQueue) -> BaseException | None:
    """The next outcome, waiting in short slices so that a signal's handler runs promptly."""
    while True:
        try:
            return outcomes.get(timeout=0.5)
        except queue.Empty:
            continue
