"""The pytest plugin the grader loads into a check's test run (copied into the grader's
container as `agentbench_evidence_<nonce>`; it imports nothing of agentbench).

It writes each test's outcome to a file as the test ends, and puts two canary tests first in
the run, in a file whose name the agent cannot know: one must pass, one must fail. A test
runner that the code under test has tampered with gets them wrong. The failing canary's report
is recorded as pytest made it, then shown as skipped, so that it leaves the exit status alone.
It also names every loaded file that implements a hook able to change a test's result, so that
a patch adding one is seen.

Written for every Python and pytest a SWE-bench environment may hold (Python 3.5+, pytest 3+).
"""

import json
import os

import pytest

_RESULTS = os.environ.pop("AGENTBENCH_EVIDENCE", "")
_CANARY = os.environ.pop("AGENTBENCH_CANARY", "")
_MUST_FAIL = os.environ.pop("AGENTBENCH_MUST_FAIL", "")


def _write(record):
    if not _RESULTS:
        return
    with open(_RESULTS, "a") as out:
        out.write(json.dumps(record) + "\n")


_write({"event": "loaded", "pid": os.getpid()})
_armed = []  # the first session only: a test's own inner pytest runs are not the check's
RESULT_HOOKS = ("pytest_runtest_protocol", "pytest_runtest_call", "pytest_pyfunc_call", "pytest_runtest_makereport",
                "pytest_runtest_logreport", "pytest_report_teststatus")


class _Recorder(object):
    def __init__(self):
        self.paths = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            self.paths[item.nodeid] = str(getattr(item, "path", None) or item.fspath)

    def pytest_collection_finish(self, session):
        for plugin in session.config.pluginmanager.get_plugins():
            hooks = [name for name in RESULT_HOOKS if hasattr(plugin, name)]
            source = getattr(plugin, "__file__", None)
            if hooks and source and plugin is not self:
                _write({"event": "hooks", "file": os.path.abspath(source), "hooks": hooks})

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if _MUST_FAIL and item.nodeid.endswith("::" + _MUST_FAIL) and report.when == "call":
            _write({"event": "canary", "nodeid": report.nodeid, "outcome": report.outcome})
            if report.failed:
                report.outcome = "skipped"
                report.longrepr = (str(item.fspath), 0, "Skipped: agentbench's canary failed, as it must")

    def pytest_runtest_logreport(self, report):
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        _write({"event": "test", "nodeid": report.nodeid, "path": self.paths.get(report.nodeid, ""),
                "when": report.when, "outcome": outcome})

    def pytest_sessionfinish(self, session, exitstatus):
        _write({"event": "finished", "exitstatus": int(exitstatus)})


def pytest_configure(config):
    if _armed:
        return
    _armed.append(config)
    config.pluginmanager.register(_Recorder(), "agentbench-recorder")
    if _CANARY and os.path.isfile(_CANARY) and hasattr(config, "args"):
        config.args.insert(0, _CANARY)
