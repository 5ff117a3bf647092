"""Was the endpoint down when an attempt's model call failed? The answer decides whether the
attempt is left out of the rate (an infrastructure error) or counted as the configuration's
failure, so an endpoint must not be able to steer it: it is judged from traffic the endpoint
cannot tell from real work. Up, when any call to the endpoint from this process was answered
after the failed call began (other attempts' calls count), or when, after a pause, the endpoint
answers the attempt's own first request again (same model, tools and streaming). A one-token
"Say OK." would be easy to recognise and to fail on purpose.
"""

from __future__ import annotations

import threading
import time

_answered: dict[str, float] = {}  # endpoint URL -> when a call to it was last answered (monotonic)
_lock = threading.Lock()
PAUSE_S = 2.0


def note_answered(url: str) -> None:
    with _lock:
        _answered[url] = time.monotonic()


def answered_since(url: str, since: float) -> bool:
    with _lock:
        return _answered.get(url, float("-inf")) >= since


def endpoint_down(caller, pause_s: float = PAUSE_S) -> str | None:
    """None when the endpoint of `caller` (a ModelCaller whose call failed) was up, with why in
    `caller.up_because`; else what failed, in a few words. The probe's tokens go to the caller's
    `overhead` (the run's books), never to the attempt's."""
    url, since = caller.endpoint.base_url, caller.failed_at if caller.failed_at is not None else time.monotonic()
    for pause in (0.0, pause_s):
        time.sleep(pause)
        if answered_since(url, since):
            caller.up_because = "the endpoint answered other calls after this one failed"
            return None
    if caller.first_request is None:
        return "no request of this attempt was ever answered"
    problem = caller.probe(*caller.first_request)
    if problem is None:
        caller.up_because = "the endpoint answered this attempt's first request again after a pause"
    return problem
