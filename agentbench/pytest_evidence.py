"""The pytest plugin the grader loads into a check's test run (copied into the grader's
container as `agentbench_evidence_<nonce>`; it imports nothing of agentbench).

It writes each test's outcome to a file as the test ends, and puts two canary tests first in
the run, in a file whose name the agent cannot know; more canaries sit inside the hidden test
files themselves (agentbench/canaries.py). Canaries named in AGENTBENCH_MUST_FAIL must fail:
their report is recorded as pytest made it, then shown as skipped, so that they leave the exit
status alone. It also records what could change a result without touching a test: every
implementation of a result-deciding hook and where it came from, hooks registered after the
session started, pytest's and pluggy's own functions replaced, test modules that were not
loaded from their files, tests whose item or function changed after collection, and tests
deselected.

The writer and what it needs are taken when the plugin loads, before any code under test runs,
and held in a closure: wrapping this module's names, `open`, `os.write` or `json.dumps` later
changes nothing it writes.

Written for every Python and pytest a SWE-bench environment may hold (Python 3.5+, pytest 3+).
"""

import json
import os
import sys

import pytest


def _writer(path, _open=os.open, _write=os.write, _dumps=json.dumps, _flags=os.O_WRONLY | os.O_APPEND | os.O_CREAT):
    fd = _open(path, _flags, 0o600) if path else None

    def write(record):
        if fd is not None:
            _write(fd, (_dumps(record) + "\n").encode("utf-8"))
    return write


RESULT_HOOKS = ("pytest_runtest_protocol", "pytest_runtest_call", "pytest_pyfunc_call", "pytest_runtest_makereport",
                "pytest_runtest_logreport", "pytest_report_teststatus", "pytest_runtestloop", "pytest_sessionfinish")
MACHINERY = (  # (module, attribute path): what runs a test and makes its report; missing ones are skipped
    ("_pytest.runner", "runtestprotocol"), ("_pytest.runner", "call_and_report"), ("_pytest.runner", "call_runtest_hook"),
    ("_pytest.runner", "CallInfo.from_call"), ("_pytest.runner", "pytest_runtest_makereport"),
    ("_pytest.runner", "pytest_runtest_protocol"), ("_pytest.reports", "TestReport.from_item_and_call"),
    ("_pytest.reports", "TestReport.__init__"), ("_pytest.python", "Function.runtest"), ("_pytest.python", "Function.setup"),
    ("_pytest.python", "pytest_pyfunc_call"), ("_pytest.python", "Module._importtestmodule"), ("_pytest.main", "pytest_runtestloop"),
    ("_pytest.main", "Session.perform_collect"), ("_pytest.skipping", "pytest_runtest_makereport"),
    ("_pytest.unittest", "TestCaseFunction.runtest"), ("_pytest.terminal", "TerminalReporter.pytest_runtest_logreport"),
    ("_pytest.outcomes", "fail"), ("_pytest.outcomes", "skip"), ("pluggy._callers", "_multicall"),
    ("pluggy.callers", "_multicall"), ("pluggy._hooks", "HookCaller.__call__"), ("pluggy._hooks", "_HookCaller.__call__"),
    ("pluggy.hooks", "_HookCaller.__call__"), ("pluggy._manager", "PluginManager._hookexec"),
    ("pluggy.manager", "PluginManager._hookexec"), ("builtins", "AssertionError"),
)
ITEM_METHODS = ("runtest", "setup", "teardown", "_getobj", "repr_failure")  # set on one item, they change only its run
LOADERS = ("SourceFileLoader", "SourcelessFileLoader", "AssertionRewritingHook", "AssertionRewriter")


def _resolve(module, path):
    """The object at `path` in a loaded module, a class's attributes as they are stored (a
    classmethod itself, not a new bound method each time)."""
    obj = sys.modules.get(module)
    for part in path.split("."):
        if isinstance(obj, type):
            obj = next((vars(klass)[part] for klass in obj.__mro__ if part in vars(klass)), None)
        else:
            obj = getattr(obj, part, None) if obj is not None else None
    return obj


def _code(obj):
    return getattr(getattr(obj, "__func__", obj), "__code__", None)


def _machinery():
    found = {}
    for module, path in MACHINERY:
        obj = _resolve(module, path)
        if obj is not None:
            found[(module, path)] = (obj, _code(obj))
    return found


def _hookimpls(pluginmanager):
    """(hook name, plugin, function, file) for every implementation of a result-deciding hook."""
    found = []
    for name in RESULT_HOOKS:
        caller = getattr(pluginmanager.hook, name, None)
        impls = caller.get_hookimpls() if hasattr(caller, "get_hookimpls") else \
            list(getattr(caller, "_wrappers", [])) + list(getattr(caller, "_nonwrappers", []))
        for impl in impls:
            function = getattr(impl, "function", None)
            code = getattr(getattr(function, "__func__", function), "__code__", None)
            found.append((name, impl.plugin, function, getattr(code, "co_filename", None)))
    return found


def _recorder(emit, must_fail):
    """The plugin object; `emit` and `must_fail` live in its methods' closure, not on the object."""
    class _Recorder(object):
        def __init__(self):
            self.paths = {}
            self.collected = {}  # nodeid -> its function's code when collection ended
            self.known_hooks = None  # (hook, id(plugin), function) at the session's start
            self.machinery = {}

        def pytest_sessionstart(self, session):
            pm = session.config.pluginmanager
            self.known_hooks = set((name, id(plugin), function) for name, plugin, function, _ in _hookimpls(pm))
            self.machinery = _machinery()

        def check(self, session, when):
            """Record what changed since the session started that could change a result."""
            for name, plugin, function, source in _hookimpls(session.config.pluginmanager):
                module_file = getattr(plugin, "__file__", None)
                if plugin is not self and (module_file or source):
                    emit({"event": "hooks", "file": os.path.abspath(module_file or source), "hooks": [name]})
                if self.known_hooks is not None and (name, id(plugin), function) not in self.known_hooks and \
                        not (module_file and os.path.basename(module_file) == "conftest.py"):
                    emit({"event": "late-hook", "when": when, "hook": name, "file": source, "module": bool(module_file)})
            for (module, path), (obj, code) in self.machinery.items():
                now = _resolve(module, path)
                if now is not obj or _code(now) is not code:
                    emit({"event": "replaced", "when": when, "name": module + "." + path})

        def pytest_collection_modifyitems(self, items):
            for item in items:
                self.paths[item.nodeid] = str(getattr(item, "path", None) or item.fspath)

        def pytest_deselected(self, items):
            for item in items:
                emit({"event": "deselected", "nodeid": item.nodeid})

        def pytest_collection_finish(self, session):
            self.check(session, "collected")
            seen = set()
            for item in session.items:
                self.collected[item.nodeid] = _code(getattr(item, "obj", None))
                module = getattr(item, "module", None)
                if module is None or id(module) in seen:
                    continue
                seen.add(id(module))
                spec = getattr(module, "__spec__", None)
                loader = type(getattr(spec, "loader", None)).__name__
                origin = getattr(spec, "origin", None)
                if loader not in LOADERS or not origin or os.path.abspath(origin) != os.path.abspath(str(module.__file__)):
                    emit({"event": "foreign-module", "file": str(getattr(module, "__file__", "")), "loader": loader})

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(self, item):
            """Before the test's own setup: its item and its function's code are as collected
            (plugins that wrap a test while calling it, such as async runners, come later)."""
            code = self.collected.get(item.nodeid)
            swapped = code is not None and _code(getattr(item, "obj", None)) is not code
            if swapped or any(attr in vars(item) for attr in ITEM_METHODS):
                emit({"event": "item-changed", "nodeid": item.nodeid})

        @pytest.hookimpl(hookwrapper=True, tryfirst=True)
        def pytest_runtest_makereport(self, item, call):
            outcome = yield
            report = outcome.get_result()
            name = item.nodeid.rsplit("::", 1)[-1]
            if name in must_fail and report.when == "call":
                emit({"event": "canary", "nodeid": report.nodeid, "outcome": report.outcome})
                if report.failed:
                    report.outcome = "skipped"
                    report.longrepr = (str(item.fspath), 0, "Skipped: agentbench's canary failed, as it must")

        def pytest_runtest_logreport(self, report):
            outcome = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            emit({"event": "test", "nodeid": report.nodeid, "path": self.paths.get(report.nodeid, ""),
                  "when": report.when, "outcome": outcome})

        @pytest.hookimpl(tryfirst=True)
        def pytest_sessionfinish(self, session, exitstatus):
            self.check(session, "finished")
            emit({"event": "finished", "exitstatus": int(exitstatus)})
    return _Recorder()


def _arm():
    """The plugin's pytest_configure, holding what the grader set (taken out of the environment
    here, before any code under test runs) in its closure."""
    emit = _writer(os.environ.pop("AGENTBENCH_EVIDENCE", ""))
    canary = os.environ.pop("AGENTBENCH_CANARY", "")
    must_fail = frozenset(name for name in os.environ.pop("AGENTBENCH_MUST_FAIL", "").split(",") if name)
    emit({"event": "loaded", "pid": os.getpid()})
    armed = []  # the first session only: a test's own inner pytest runs are not the check's

    def pytest_configure(config):
        if armed:
            return
        armed.append(config)
        config.pluginmanager.register(_recorder(emit, must_fail), "agentbench-recorder")
        if canary and os.path.isfile(canary) and hasattr(config, "args"):
            config.args.insert(0, canary)
    return pytest_configure


pytest_configure = _arm()
