"""`agentbench view`: the pages over a store of synthetic runs, clicked through in a real headless
Chromium (Playwright driving Debian's chromium), model text escaped, nothing fetched from the
network; the lock diff; the command's port and Ctrl-C handling."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest
from sqlmodel import Session, select
from test_cli import agentbench
from test_compare import TASKS, store_run
from test_html_report import HOSTILE, chromium

from agentbench.store import AttemptRow, RunRow, StepRow, attempt_id
from agentbench.store_open import open_store
from agentbench.view.app import create_app
from agentbench.view.compare import ABSENT, flatten, lock_differences
from agentbench.view.server import listen, url_of

HOSTILE_ARGS = "echo '</pre><b>x</b>'"
LOCK = {"harness": {"agentbench": "0.1.0", "revision": "aaa"}, "settings": {"epochs": 1, "budget": {"steps": 30}}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two labelled releases, the second regressed on six tasks (three of them stopped by the
    step limit, one flagged, one with a hostile trajectory), and an unlabelled third run."""
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('view') / 'store.db'}")
    store_run(engine, "base", {t: True for t in TASKS}, labels={"release": "1.3.0"})
    store_run(engine, "cand", {t: i >= 6 for i, t in enumerate(TASKS)}, cost=0.02, labels={"release": "1.4.0"})
    store_run(engine, "other", {t: True for t in TASKS[:2]}, model="x")
    store_run(engine, "two", {t: True for t in TASKS}, model="m1")
    with Session(engine) as session:
        for row in session.exec(select(AttemptRow).where(AttemptRow.run == "two")).all():
            solved = TASKS.index(row.task) % 2 == 0
            session.add(AttemptRow(**{**row.model_dump(), "id": row.id + "-m2", "model": "m2", "solved": solved,
                                      "status": "solved" if solved else "unsolved"}))
        for name, revision in (("base", "aaa"), ("cand", "bbb")):
            session.get(RunRow, name).lock_json = json.dumps({**LOCK, "harness": {**LOCK["harness"], "revision": revision}})
        for row in session.exec(select(AttemptRow).where(AttemptRow.run == "cand", AttemptRow.task.in_(TASKS[:3]))):
            row.stop_reason = "step_limit"
        session.get(AttemptRow, attempt_id("cand", TASKS[3], "m", "fast", 0)).flags = "web_lookup"
        session.add(StepRow(attempt_id=attempt_id("cand", TASKS[1], "m", "fast", 0), index=0, content=HOSTILE,
                            tool_calls_json=json.dumps([{"name": "bash", "args": {"command": HOSTILE_ARGS}}]),
                            tool_results_json=json.dumps(["exit code: 0\n</pre><b>x</b>"])))
        session.commit()
    return engine


@pytest.fixture(scope="module")
def client(store):
    return create_app(store).test_client()


@pytest.fixture(scope="module")
def served(store):
    """The app on a free port of 127.0.0.1, served from a thread; its URL."""
    server = listen(create_app(store, trusted_hosts=["127.0.0.1"]), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url_of(server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: pip install -e '.[dev]' (playwright)")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served):
    """A fresh page that records every dialog and every request; none may leave the app's origin."""
    context = browser.new_context()
    page = context.new_page()
    dialogs, requests = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert dialogs == []
    assert requests and all(url.startswith(served) for url in requests), requests


def test_tick_two_runs_and_compare_shows_the_regression(page, served):
    page.goto(served)
    assert page.title() == "Runs - agentbench view"
    page.check("input[name=run][value=cand]")
    page.check("input[name=run][value=base]")
    page.click("text=Compare")
    page.wait_for_url(re.compile(r"/compare\?"))
    pair = page.locator("section.pair")
    assert pair.locator("h2").inner_text() == "base → cand"  # oldest first: base is the baseline
    assert pair.locator("td.p-value").inner_text() == "0.0157"  # one-sided: 6 regressed, 0 improved -> 1/64
    assert pair.locator("td.regression").inner_text() == "significant regression"
    assert pair.locator("li.regressed").inner_text() == "regressed (m/fast): " + ", ".join(TASKS[:6])
    lock = pair.locator("table.lock tr").all_inner_texts()
    assert lock[1:] == ['harness.revision\t"aaa"\t"bbb"']
    assert page.locator("table.outcomes tr", has_text=TASKS[0]).inner_text().split("\t")[1:] == ["solved", "unsolved"]


def test_run_report_attempts_filters_and_a_hostile_trajectory(page, served):
    page.goto(served)
    page.click("a:text-is('cand')")
    assert page.locator("h1").inner_text() == "Run cand"
    assert "25% [3%, 65%]" in page.locator("table").first.inner_text()
    page.click("text=Attempts and trajectories")
    page.select_option("select[name=outcome]", "unsolved")
    page.click("button:text('Filter')")
    assert page.locator("p.count").inner_text() == "6 of 8 attempts"
    page.select_option("select[name=stop]", "step_limit")
    page.click("button:text('Filter')")
    assert page.locator("p.count").inner_text() == "3 of 8 attempts"
    page.fill("input[name=q]", "PWNED")  # trajectory text, any case
    page.click("button:text('Filter')")
    assert page.locator("p.count").inner_text() == "1 of 8 attempts"
    page.click(f"a:text-is('{TASKS[1]}')")
    trajectory = page.locator("pre.trajectory").inner_text()
    assert f"assistant: {HOSTILE}" in trajectory and HOSTILE_ARGS in trajectory and "| </pre><b>x</b>" in trajectory
    assert page.title() == f"{TASKS[1]} - agentbench view"
    assert page.locator("script, img, pre b").count() == 0


def test_flag_filters(client):
    def count(query):
        return re.search(r"(\d+) of 8 attempts", client.get(f"/runs/cand/attempts?{query}").text).group(1)

    assert count("flag=*") == count("flag=web_lookup") == "1"
    assert count("flag=") == "8" and count("q=suite/t7") == "1"


def test_model_text_is_escaped_in_the_page_source(client):
    page = client.get(f"/runs/cand/attempts/{attempt_id('cand', TASKS[1], 'm', 'fast', 0)}").text
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    assert "<script" not in page and "<b>x" not in page


def test_three_runs_are_compared_oldest_first_pair_by_pair(client):
    page = client.get("/compare?run=other&run=cand&run=base").text
    pairs = re.findall(r"<h2>(\w+) &rarr; (\w+)</h2>", page)
    assert pairs == [("base", "cand"), ("cand", "other")]
    assert "<td class=\"left\">m/fast</td><td class=\"left\">x/fast</td>" in page  # their only configurations, paired
    assert "A run has no lock record" in page  # other has none


def test_unknown_run_and_too_few_runs_are_one_sentence(client):
    for url in ("/runs/nope", "/runs/nope/attempts", "/compare?run=base&run=nope"):
        missing = client.get(url)
        assert missing.status_code == 404 and "<p class=\"message\">No run &#39;nope&#39; in the store.</p>" in missing.text
    one = client.get("/compare?run=base")
    assert one.status_code == 400 and "Pick two or more runs to compare" in one.text
    assert client.get("/no/such/page").status_code == 404


def test_runs_page_shows_labels_and_headlines(client):
    page = client.get("/").text
    assert page.index("cand") < page.index("base") and "release=1.4.0" in page
    assert "2/8" in page and "25% [3%, 65%]" in page and "$0.0800" in page and "2.0 s" in page  # cost/solved: 8 x 0.02 / 2


def test_downloads_are_the_reports_of_agentbench_report(client, store, tmp_path):
    document = client.get("/runs/cand/report.json").json
    assert document["run"] == "cand" and document["labels"] == {"release": "1.4.0"} and len(document["attempts"]) == 8
    html = client.get("/runs/cand/report.html").text
    assert "&lt;script&gt;document.title" in html and "<script" not in html
    written = tmp_path / "cand.html"
    done = agentbench("report", "cand", "--html", str(written), env={"AGENTBENCH_DB": str(store.url)})
    assert done.returncode == 0, done.stderr
    assert html == written.read_text()


def test_a_run_of_two_models_shows_the_adjusted_effect(client):
    page = client.get("/runs/two").text
    assert "<h2>Effects on the rate</h2>" in page and "reference" in page and "-50%" in page
    assert "<h2>Effects on the rate</h2>" not in client.get("/runs/base").text  # one configuration: nothing to attribute


def test_history_by_release(client):
    page = client.get("/history?label=release").text
    assert page.index("1.3.0") < page.index("1.4.0") and "<strong>regressed</strong>" in page
    assert "No run carries the label sprint" in client.get("/history?label=sprint").text
    assert 'href="/history?label=release"' in client.get("/history").text


def test_a_request_for_another_host_is_refused(store):
    client = create_app(store, trusted_hosts=["127.0.0.1"]).test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "rebound.example:8765"}).status_code == 400


def test_lock_differences_are_the_differing_leaves():
    a = {"harness": {"revision": "aaa", "dirty": False}, "images": {"python": "sha:1"}, "settings": {"hints": ["x"]}}
    b = {"harness": {"revision": "bbb", "dirty": False}, "images": {}, "settings": {"hints": ["x", "y"]}, "suite": {"tasks": 3}}
    assert flatten(a) == {"harness.revision": "aaa", "harness.dirty": False, "images.python": "sha:1", "settings.hints": ["x"]}
    assert lock_differences(a, b) == [
        ("harness.revision", '"aaa"', '"bbb"'),
        ("images", ABSENT, "{}"),
        ("images.python", '"sha:1"', ABSENT),
        ("settings.hints", '["x"]', '["x", "y"]'),
        ("suite.tasks", ABSENT, "3"),
    ]
    assert lock_differences(a, json.loads(json.dumps(a))) == []
    assert lock_differences({"a": None}, {}) == [("a", "null", ABSENT)]


def agentbench_view(*args):
    return subprocess.Popen([sys.executable, "-m", "agentbench", "view", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def test_view_on_a_port_in_use_is_one_sentence(engine):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        view = agentbench_view("--port", str(port))
        _, err = view.communicate(timeout=60)
    assert view.returncode == 2
    assert err.strip() == f"error: Port {port} on 127.0.0.1 is in use; pick another with --port (--port 0 picks a free one)."


def test_view_serves_until_ctrl_c(engine):
    store_run(engine, "only", {"t": True})
    view = agentbench_view("--port", "0")
    try:
        url = re.search(r"http://\S+/", view.stdout.readline()).group(0)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "only" in response.read().decode()
    finally:
        view.send_signal(signal.SIGINT)
        out, err = view.communicate(timeout=30)
    assert view.returncode == 0 and out == "stopped\n" and err == "", err
