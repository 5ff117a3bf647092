import json
import subprocess
import sys

import pytest

from logtools.parser import LogRecord, parse_line
from logtools.summary import main, summarize

SAMPLE = """\
2024-05-01T10:00:00Z 10.0.0.1 GET /api/users 200 100 10
2024-05-01T10:00:01Z 10.0.0.2 GET /api/users?id=3 200 100 30.5
2024-05-01T10:00:02Z 10.0.0.3 GET /api/users 500 0 100
2024-05-01T10:00:03Z 10.0.0.4 POST /api/users 201 10 20

not a log line
2024-05-01T10:00:04Z 10.0.0.5 GET /api/orders 200 10 5
2024-05-01T10:00:05Z 10.0.0.5 GET /api/orders 404 10 7
2024-05-01T10:00:06Z 10.0.0.6 PUT /api/orders/1 200 1 3.25
2024-05-01T10:00:07Z 10.0.0.6 GET /api/orders 2000 1 3
"""

EXPECTED = {
    "total_requests": 7,
    "malformed_lines": 2,
    "status_counts": {"200": 4, "201": 1, "404": 1, "500": 1},
    "endpoints": {
        "GET /api/users": {"count": 3, "p95_ms": 100.0, "avg_ms": 46.83},
        "POST /api/users": {"count": 1, "p95_ms": 20.0, "avg_ms": 20.0},
        "GET /api/orders": {"count": 2, "p95_ms": 7.0, "avg_ms": 6.0},
        "PUT /api/orders/1": {"count": 1, "p95_ms": 3.25, "avg_ms": 3.25},
    },
    "top_paths": [
        {"path": "/api/users", "count": 4},
        {"path": "/api/orders", "count": 2},
        {"path": "/api/orders/1", "count": 1},
    ],
}


def line(method="GET", target="/x", status="200", size="10", latency="1.5", ts="2024-05-01T10:00:00Z", ip="10.0.0.1"):
    return f"{ts} {ip} {method} {target} {status} {size} {latency}"


def test_parse_valid_line():
    rec = parse_line("2024-05-01T10:00:00Z 10.0.0.1 GET /api/items 200 512 12.5\n")
    assert rec == LogRecord(
        timestamp="2024-05-01T10:00:00Z", ip="10.0.0.1", method="GET", path="/api/items", status=200, bytes=512, latency_ms=12.5
    )
    assert isinstance(rec.status, int) and isinstance(rec.bytes, int) and isinstance(rec.latency_ms, float)


def test_parse_strips_query_string():
    rec = parse_line(line(target="/search?q=a&page=2", latency="7"))
    assert rec.path == "/search"
    assert rec.latency_ms == 7.0


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_parse_all_methods(method):
    assert parse_line(line(method=method)).method == method


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a log line",
        line()[: line().rfind(" ")],  # six fields
        line() + " extra",  # eight fields
        line(status="20O"),
        line(status="99"),
        line(status="600"),
        line(method="get"),
        line(method="FETCH"),
        line(target="api/x"),
        line(size="-1"),
        line(size="1.5"),
        line(latency="fast"),
        line(latency="-0.5"),
    ],
)
def test_parse_malformed_returns_none(bad):
    assert parse_line(bad) is None


def test_summarize_sample():
    assert summarize(SAMPLE.splitlines(keepends=True)) == EXPECTED


def test_summarize_is_json_serialisable_and_stable():
    report = summarize(SAMPLE.splitlines())
    assert json.loads(json.dumps(report)) == EXPECTED


def test_blank_lines_are_not_malformed():
    report = summarize(["", "   ", "\n", line()])
    assert report["malformed_lines"] == 0
    assert report["total_requests"] == 1


def test_empty_input():
    assert summarize([]) == {
        "total_requests": 0,
        "malformed_lines": 0,
        "status_counts": {},
        "endpoints": {},
        "top_paths": [],
    }


def test_p95_nearest_rank():
    lines = [line(latency=str(v)) for v in range(20, 0, -1)]  # 1..20 in reverse
    ep = summarize(lines)["endpoints"]["GET /x"]
    assert ep == {"count": 20, "p95_ms": 19.0, "avg_ms": 10.5}
    lines = [line(latency=str(v)) for v in range(1, 22)]  # 21 values: rank ceil(19.95) = 20
    assert summarize(lines)["endpoints"]["GET /x"]["p95_ms"] == 20.0


def test_avg_is_rounded_to_two_decimals():
    lines = [line(latency=v) for v in ("1", "1", "2")]
    assert summarize(lines)["endpoints"]["GET /x"]["avg_ms"] == 1.33


def test_endpoints_are_split_by_method():
    report = summarize([line(method="GET", target="/a"), line(method="POST", target="/a?x=1")])
    assert set(report["endpoints"]) == {"GET /a", "POST /a"}
    assert report["top_paths"] == [{"path": "/a", "count": 2}]


def test_top_paths_ties_and_limit():
    targets = ["/b", "/a", "/c", "/b", "/d", "/a", "/e?x=1", "/e"]
    report = summarize([line(target=t) for t in targets], top=3)
    assert report["top_paths"] == [
        {"path": "/a", "count": 2},
        {"path": "/b", "count": 2},
        {"path": "/e", "count": 2},
    ]
    assert len(summarize([line(target=t) for t in targets])["top_paths"]) == 5


def test_cli_writes_output_file(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(SAMPLE)
    out = tmp_path / "report.json"
    assert main([str(log), "--output", str(out)]) == 0
    assert json.loads(out.read_text()) == EXPECTED


def test_cli_top_option(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(SAMPLE)
    out = tmp_path / "report.json"
    assert main([str(log), "--top", "1", "--output", str(out)]) == 0
    assert json.loads(out.read_text())["top_paths"] == [{"path": "/api/users", "count": 4}]


def test_cli_module_prints_json_to_stdout(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(SAMPLE)
    proc = subprocess.run(
        [sys.executable, "-m", "logtools.summary", str(log), "--top", "2"], capture_output=True, text=True, timeout=20
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["top_paths"] == EXPECTED["top_paths"][:2]
    assert report["status_counts"] == EXPECTED["status_counts"]


def test_cli_missing_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "logtools.summary", str(tmp_path / "nope.log")], capture_output=True, text=True, timeout=20
    )
    assert proc.returncode == 1
    assert proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
