"""The pool attempts run on: bounded, every item once, and a run that stops does not wait."""

import _thread
import threading
import time

import pytest

from agentbench.daemon_pool import DaemonPool


def test_every_item_runs_once_with_at_most_the_workers_at_once():
    lock, running, peak, seen = threading.Lock(), [0], [0], []

    def call(item):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
            seen.append(item)

    DaemonPool(3, threading.Event()).run(call, range(12))
    assert sorted(seen) == list(range(12))
    assert peak[0] == 3


def test_a_failing_call_is_raised_and_no_new_item_starts():
    stopping, started = threading.Event(), []

    def call(item):
        started.append(item)
        if item == 0:
            raise ValueError("broken")
        time.sleep(0.2)

    with pytest.raises(ValueError, match="broken"):
        DaemonPool(1, stopping).run(call, range(5))
    assert stopping.is_set() and started == [0]


def test_an_interrupt_returns_at_once_while_a_call_still_blocks():
    """A model call blocked on a slow endpoint cannot hold a stopping run (it would wait for minutes)."""
    stopping, release = threading.Event(), threading.Event()
    pool = DaemonPool(2, stopping)
    threading.Timer(0.3, _thread.interrupt_main).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        pool.run(lambda item: release.wait(600), range(4))
    assert time.monotonic() - started < 3
    assert stopping.is_set() and all(thread.daemon and thread.is_alive() for thread in pool.threads)
    pool.join(0.1)  # gives up on the blocked calls after the grace
    release.set()
    pool.join(5)
    assert not any(thread.is_alive() for thread in pool.threads)
