"""Sampling a vLLM server's Prometheus /metrics while a run uses it."""

from __future__ import annotations

import threading
import time
from typing import Callable

import httpx

from agentbench.store import ServerSampleRow

# Each reading, by the names vLLM has exported it under across versions (newest first).
GAUGES = {
    "running": ("vllm:num_requests_running",),
    "waiting": ("vllm:num_requests_waiting",),
    "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    "prefix_hits": ("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total", "vllm:prefix_cache_hits"),
    "prefix_queries": ("vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total", "vllm:prefix_cache_queries"),
}


def parse_metrics(text: str, at_s: float = 0.0) -> ServerSampleRow:
    """The readings in a Prometheus text exposition, summed over label sets (e.g. engines); a
    reading the server does not export is None. The row's server is the caller's to set."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_and_labels, _, value = line.rpartition(" ")
        name = name_and_labels.split("{", 1)[0].strip()
        try:
            totals[name] = totals.get(name, 0.0) + float(value)
        except ValueError:
            continue
    readings = {field: next((totals[n] for n in names if n in totals), None) for field, names in GAUGES.items()}
    return ServerSampleRow(at_s=at_s, **readings)


class MetricsSampler:
    """Reads `url` every `interval_s` seconds on a daemon thread and hands each sample on."""

    def __init__(self, url: str, on_sample: Callable[[ServerSampleRow], None], interval_s: float = 5.0):
        self.url = url
        self.on_sample = on_sample
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="vllm-metrics")
        self._started = time.monotonic()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                response = httpx.get(self.url, timeout=5)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                self.on_sample(parse_metrics(response.text, time.monotonic() - self._started))

    def __enter__(self) -> MetricsSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
