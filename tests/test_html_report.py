"""The HTML report: self-contained, rendered by headless Chromium with no network, model text
escaped, its plots drawn by matplotlib (agentbench.plots)."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from sqlmodel import Session
from test_compare import TASKS, store_run

from agentbench import plots
from agentbench.html_report import render_html
from agentbench.plots import COLOURS, GRID
from agentbench.report import build_report
from agentbench.store import AttemptRow, RunRow, StepRow, attempt_id, get_run, run_attempts, utcnow

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


NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
LOCK = {"harness": {"agentbench": "0.1.0", "revision": "abc123", "dirty": False}, "suite": {"hash": "5e1f", "tasks": 8},
        "models": {"m1": {"profile": {"provider": "openai", "prompt": HOSTILE}}}}


@pytest.fixture
def html_report(engine, tmp_path):
    """A run of m1/fast (solves 5 of 8, $0.02 each) beside the noop baseline (solves nothing, for $0)."""
    store_run(engine, "web", {t: i % 3 != 0 for i, t in enumerate(TASKS)}, model="m1", cost=0.02)
    with Session(engine) as session:
        session.add_all(AttemptRow(id=attempt_id("web", t, "noop", "fast", 0), run="web", task=t, model="noop", agent="fast", epoch=0,
                                   baseline=True, status="unsolved", stop_reason="submitted", grade_status="failed", wall_s=0.5,
                                   cost_usd=0.0, started_at=utcnow()) for t in TASKS)
        run = session.get(RunRow, "web")
        run.spec_json, run.lock_json = json.dumps({"models": ["m1", "noop"], "epochs": 1, "network": False}), json.dumps(LOCK)
        session.add(run)
        session.add(StepRow(attempt_id=attempt_id("web", TASKS[1], "m1", "fast", 0), index=0, content=HOSTILE,
                            tool_calls_json=json.dumps([{"name": "bash", "args": {"command": "echo '</pre><b>x</b>'"}}]),
                            tool_results_json=json.dumps(["exit code: 0\n</pre><b>x</b>"])))
        session.commit()
    path = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "agentbench", "report", "web", "--html", str(path)],
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert done.returncode == 0, done.stderr
    return path


def without_namespaces(page: str) -> str:
    for namespace in NAMESPACES:
        page = page.replace(namespace, "")
    return page


def config(model: str, rate: float | None, x: float | None, curve: list, baseline: bool = False) -> dict:
    """A report configuration with only what the plots read; `x` is every per-configuration value."""
    return {"model": model, "agent": "fast", "baseline": baseline, "rate": rate, "ci95": [0.0, 1.0] if rate is None else
            [max(0.0, rate - 0.2), min(1.0, rate + 0.2)], "cost_per_attempt_usd": x, "wall_s_median": x, "output_tokens_per_s": x,
            "anytime": {"wall_s": curve, "cost_usd": curve}}


def page_of(engine, run: str) -> str:
    return render_html(build_report(get_run(engine, run), run_attempts(engine, run)), {})


def test_html_is_self_contained_and_escapes_model_text(html_report):
    page = html_report.read_text()
    assert "<script" not in page and "http://" not in without_namespaces(page) and "https://" not in page
    assert not re.search(r"""(src|href)=["'](?!#)""", page)  # nothing is loaded, links only go within the page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert page.count("<svg") == 4 and "Outcomes per task" in page and "<details" in page
    assert "No output tokens/s to plot: no configuration recorded any." in page  # no attempt spent time on a model


def test_the_page_shows_the_settings_and_the_lock(html_report):
    page = html_report.read_text()
    section = page[page.index("<h2>Settings and lock</h2>"):page.index("<h2>Trajectories</h2>")]
    assert "<td>models</td><td>m1, noop</td>" in section and "<td>network</td><td>false</td>" in section
    assert "<td>harness.revision</td><td>abc123</td>" in section and "<td>suite.tasks</td><td>8</td>" in section
    assert "<summary>Lock as JSON</summary>" in section and "&quot;provider&quot;: &quot;openai&quot;" in section
    assert "&lt;script&gt;" in section and "<script" not in section  # the model profile's text stays text


def test_no_two_elements_of_the_page_share_an_id(html_report):
    page = html_report.read_text()
    ids = re.findall(r"""\bid=["']([^"']+)["']""", page)
    assert len(ids) > 100 and len(ids) == len(set(ids))  # five plots' ticks, glyphs, clip paths, and the trajectories
    references = set(re.findall(r"""(?:url\(#|href=["']#)([^"')]+)""", page))
    assert references and references <= set(ids)  # every reference reaches its own plot's element


def test_plots_have_ticks_gridlines_labels_a_title_and_a_legend():
    configs = [config("m1", 0.6, 0.02, [(0.01, 0.2), (0.03, 0.6)]), config("m2", 0.2, 0.005, [(0.004, 0.2)])]
    for plot in (plots.scatter(configs, "cost_per_attempt_usd", "cost", "cost per attempt (USD)", "Success vs cost"),
                 plots.curves(configs, "cost_usd", "cost_per_attempt_usd", "cost", "cost budget (USD)", "Solved within a cost budget")):
        svg = plot.svg
        assert svg.startswith("<svg ") and plot.note == ""
        assert len(re.findall(r'<g id="[^"]*-xtick_\d+"', svg)) >= 3 and len(re.findall(r'<g id="[^"]*-ytick_\d+"', svg)) >= 3
        assert svg.count(f"stroke: {GRID}") >= 6  # gridlines along both axes
        for text in ("<!-- 0% -->", "<!-- 100% -->", "<!-- solved -->", f"<!-- {plot.title} -->", "<!-- m1/fast -->", "<!-- m2/fast -->"):
            assert text in svg  # text is drawn as paths, each glyph run named in a comment
        assert "<text" not in svg and "http" not in without_namespaces(svg)


def test_a_run_whose_costs_are_all_zero_shows_a_sentence_instead_of_the_cost_plots(engine):
    store_run(engine, "free", {t: i % 2 == 0 for i, t in enumerate(TASKS)}, model="oracle", cost=0.0)
    page = page_of(engine, "free")
    assert page.count("No cost to plot: every attempt cost $0 (built-in baselines).") == 2
    assert page.count("<svg") == 2 and "Success vs cost per attempt</b>" in page and "Solved within a cost budget</b>" in page
    assert "Solved within a time budget -->" in page  # the wall-time plots are still drawn


def test_a_configuration_that_solves_nothing_is_a_visible_line_above_the_axis():
    noop = config("noop", 0.0, 0.0, [], baseline=True)
    plot = plots.curves([config("m1", 0.5, 3.0, [(1.0, 0.25), (3.0, 0.5)]), noop], "wall_s", "wall_s_median", "wall time",
                        "time budget (s)", "Solved within a time budget")
    assert "<!-- noop/fast (baseline) -->" in plot.svg
    noop_line = re.search(rf'<path d="([^"]+)" clip-path="[^"]+" style="fill: none; stroke: {COLOURS[1]}', plot.svg).group(1)
    ys = {float(y) for y in re.findall(r"[ML] [\d.]+ ([\d.]+)", noop_line)}
    x_axis = float(re.search(r'<use xlink:href="#[^"]+" x="[\d.]+" y="([\d.]+)"', plot.svg).group(1))  # the first x tick mark
    assert len(ys) == 1 and ys.pop() < x_axis - 3  # flat, and a few points above the axis (SVG's y grows downwards)


def test_a_plot_leaves_out_configurations_without_a_value_and_names_them():
    configs = [config("m1", 0.5, 12.0, [(3.0, 0.5)]), config("unpriced", 0.5, None, [(4.0, 0.5)]), config("broken", None, 1.0, [])]
    plot = plots.scatter(configs, "output_tokens_per_s", "output tokens/s", "output tokens/s", "Success vs output tokens/s")
    assert "<!-- m1/fast -->" in plot.svg and "unpriced/fast" not in plot.svg and "broken/fast" not in plot.svg
    assert plot.note == ("Left out for having no output tokens/s: unpriced/fast. "
                         "Left out for having no graded attempt: broken/fast.")
    nothing = plots.curves([config("noop", 0.0, 1.0, [], baseline=True)], "wall_s", "wall_s_median", "wall time", "s", "t")
    assert nothing.svg is None and nothing.note == "Nothing to plot: no configuration solved a task."
    no_values = plots.scatter([config("noop", 0.0, None, [])], "output_tokens_per_s", "output tokens/s", "s", "t")
    assert no_values.svg is None and no_values.note == "No output tokens/s to plot: no configuration recorded any."


def test_a_dollar_sign_in_a_profile_name_is_not_tex():
    plot = plots.scatter([config("price$a$", 0.5, 1.0, [])], "wall_s_median", "wall time", "s", "t")
    assert "<!-- price$a$/fast -->" in plot.svg


def test_chromium_renders_the_plots_and_shows_model_text_as_text(html_report, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    done = headless("--window-size=1400,2400", f"--screenshot={shot}", html_report.as_uri(), tmp_path=tmp_path)
    assert shot.is_file(), done.stderr
    image = Image.open(shot).convert("RGB")
    colour = tuple(int(COLOURS[0][i:i + 2], 16) for i in (1, 3, 5))
    counts = {rgb: count for count, rgb in image.getcolors(maxcolors=1 << 24)}
    assert counts.get(colour, 0) > 50  # the plotted points and curves are drawn
    noop = tuple(int(COLOURS[1][i:i + 2], 16) for i in (1, 3, 5))
    assert counts.get(noop, 0) > 50  # so is the baseline that solved nothing
    dom = headless("--dump-dom", html_report.as_uri(), tmp_path=tmp_path).stdout
    assert "<title>agentbench web</title>" in dom  # the hostile script never ran
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom


def test_a_labelled_run_draws_its_release_series_with_the_regression_marked(engine, tmp_path):
    store_run(engine, "r1", {t: True for t in TASKS}, model="m1", labels={"release": "1.9.0"})
    store_run(engine, "r2", {t: i >= 6 for i, t in enumerate(TASKS)}, model="m1", labels={"release": "1.10.0"})
    path = tmp_path / "r2.html"
    done = subprocess.run([sys.executable, "-m", "agentbench", "report", "r2", "--html", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    page = path.read_text()
    assert "<h2>By release</h2>" in page and 'aria-label="Solved by release"' in page
    assert page.index("<td>1.9.0</td>") < page.index("<td>1.10.0</td>")
    assert "<td class='change-regressed'>regressed: -6 +0 of 8, p=0.031</td>" in page  # 1/64, Holm over both directions
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    only = plots.releases({"label": "release", "releases": [{"value": "1.0", "run": "a", "created_at": ""}], "configs": []})
    assert only.svg is None and only.note == "One release so far: a series needs two."
