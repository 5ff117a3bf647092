"""The HTML report: self-contained, rendered by headless Chromium with no network, model text escaped."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from sqlmodel import Session
from test_compare import TASKS, store_run

from agentbench.html_report import COLOURS
from agentbench.store import StepRow, attempt_id

HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install Debian's chromium (.ci/run does)")
        pytest.skip("no chromium on this machine")
    return path


def headless(*args, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def html_report(engine, tmp_path):
    store_run(engine, "web", {t: i % 3 != 0 for i, t in enumerate(TASKS)}, model="m1", cost=0.02)
    with Session(engine) as session:
        session.add(StepRow(attempt_id=attempt_id("web", TASKS[1], "m1", "fast", 0), index=0, content=HOSTILE,
                            tool_calls_json=json.dumps([{"name": "bash", "args": {"command": "echo '</pre><b>x</b>'"}}]),
                            tool_results_json=json.dumps(["exit code: 0\n</pre><b>x</b>"])))
        session.commit()
    path = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "agentbench", "report", "web", "--html", str(path)],
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert done.returncode == 0, done.stderr
    return path


def test_html_is_self_contained_and_escapes_model_text(html_report):
    page = html_report.read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert page.count("<svg") == 5 and "Outcomes per task" in page and "<details" in page


def test_chromium_renders_the_plots_and_shows_model_text_as_text(html_report, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    done = headless("--window-size=1400,2400", f"--screenshot={shot}", html_report.as_uri(), tmp_path=tmp_path)
    assert shot.is_file(), done.stderr
    image = Image.open(shot).convert("RGB")
    colour = tuple(int(COLOURS[0][i:i + 2], 16) for i in (1, 3, 5))
    counts = {rgb: count for count, rgb in image.getcolors(maxcolors=1 << 24)}
    assert counts.get(colour, 0) > 50  # the plotted points and curves are drawn
    dom = headless("--dump-dom", html_report.as_uri(), tmp_path=tmp_path).stdout
    assert "<title>agentbench web</title>" in dom  # the hostile script never ran
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
