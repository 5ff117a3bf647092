"""The HTML report's plots, drawn by matplotlib as inline SVG.

Each function takes the report's configurations and returns a `Plot`: the SVG to inline, or a
sentence saying why there is nothing to show, and a note naming the configurations left out.
matplotlib is imported inside the functions (importing agentbench stays fast), figures never
touch pyplot's global state, and text is written as paths: the SVG needs no installed fonts,
and nothing a configuration is called can become markup (matplotlib names each text in an
XML comment, escaped).
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape

from agentbench.report import config_label

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
GRID = "#dddddd"
STYLE = {"svg.fonttype": "path", "text.usetex": False, "font.size": 9, "axes.titleweight": "bold"}


@dataclass(frozen=True)
class Plot:
    """One plot: `svg` (None when there is nothing to show) and `note`, plain text to show under
    it or in its place."""

    title: str
    svg: str | None
    note: str = ""


def legend_label(config: dict) -> str:
    """`model/agent`, with " (baseline)" for the built-in baselines."""
    return config_label(config) + (" (baseline)" if config["baseline"] else "")


def scatter(configs: list[dict], key: str, noun: str, x_label: str, title: str, zero: str = "") -> Plot:
    """Success rate against the per-configuration value `key` (named `noun` in sentences), with
    the rate's 95% interval as error bars. `zero` says why every value may be 0."""
    shown = [(i, c) for i, c in enumerate(configs) if c["rate"] is not None and c[key] is not None]
    why_empty = _why_empty(noun, [c[key] for _, c in shown], zero)
    note = _left_out(configs, key, noun)
    if why_empty:
        return Plot(title, None, f"{why_empty} {note}".strip() if shown else why_empty)
    prefix = f"scatter-{key}"
    with _style(prefix):
        fig, ax = _figure(title, x_label)
        handles = []
        for i, c in shown:
            low, high = c["ci95"]
            handles.append(ax.errorbar([c[key]], [c["rate"]], yerr=[[c["rate"] - low], [high - c["rate"]]], fmt="o",
                                       markersize=7, capsize=4, color=COLOURS[i % len(COLOURS)]))
        return Plot(title, _svg(fig, ax, handles, [legend_label(c) for _, c in shown], prefix), note)


def curves(configs: list[dict], key: str, known: str, noun: str, x_label: str, title: str, zero: str = "") -> Plot:
    """Step curves of the share solved within a budget of `key` (a curve of `anytime`), for the
    configurations whose `known` value is recorded; one that solved nothing is a line at 0."""
    shown = [(i, c) for i, c in enumerate(configs) if c["rate"] is not None and c[known] is not None]
    spends = [x for _, c in shown for x, _ in c["anytime"][key]]
    note = _left_out(configs, known, noun)
    if shown and not spends:
        return Plot(title, None, f"Nothing to plot: no configuration solved a task. {note}".strip())
    why_empty = _why_empty(noun, spends, zero)
    if why_empty:
        return Plot(title, None, f"{why_empty} {note}".strip() if shown else why_empty)
    prefix = f"curves-{key}"
    with _style(prefix):
        fig, ax = _figure(title, x_label)
        handles = []
        for i, c in shown:
            points = c["anytime"][key]
            xs = [0.0, *(x for x, _ in points), max(spends)]
            ys = [0.0, *(y for _, y in points), points[-1][1] if points else 0.0]
            handles += ax.plot(xs, ys, drawstyle="steps-post", marker="o", markersize=4, linewidth=2,
                               color=COLOURS[i % len(COLOURS)])
        return Plot(title, _svg(fig, ax, handles, [legend_label(c) for _, c in shown], prefix), note)


def releases(history: dict) -> Plot:
    """Each configuration's rate release over release (`agentbench.history`), with its 95%
    interval; a significant regression is a red ring around its point."""
    title = f"Solved by {history['label']}"
    names = [release["value"] for release in history["releases"]]
    if len(names) < 2:
        return Plot(title, None, f"One {history['label']} so far: a series needs two.")
    prefix = f"releases-{re.sub(r'[^A-Za-z0-9_-]', '_', history['label'])}"
    with _style(prefix):
        fig, ax = _figure(title, history["label"])
        ax.xaxis.set_major_locator(_fixed(range(len(names))))
        ax.xaxis.set_major_formatter(_names(names))
        handles, labels = [], []
        for i, config in enumerate(history["configs"]):
            points = [p for p in config["points"] if p["rate"] is not None]
            xs, ys = [names.index(p["release"]) for p in points], [p["rate"] for p in points]
            errors = [[p["rate"] - p["ci95"][0] for p in points], [p["ci95"][1] - p["rate"] for p in points]]
            colour = COLOURS[i % len(COLOURS)]
            handles.append(ax.errorbar(xs, ys, yerr=errors, fmt="-o", capsize=4, markersize=6, color=colour))
            labels.append(config["config"])
            dropped = [(x, p["rate"]) for x, p in zip(xs, points)
                       if any(p[key] and p[key]["verdict"] == "regressed" for key in ("change", "from_reference"))]
            if dropped:
                ax.scatter(*zip(*dropped), s=220, facecolors="none", edgecolors="red", linewidths=2, zorder=3)
        return Plot(title, _svg(fig, ax, handles, labels, prefix), "A red ring marks a significant regression from the release before or from the reference.")


def _fixed(positions):
    from matplotlib.ticker import FixedLocator

    return FixedLocator(list(positions))


def _names(names: list[str]):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: names[int(round(value))] if 0 <= round(value) < len(names) else "")


def _why_empty(noun: str, values: list[float], zero: str) -> str:
    """The sentence shown instead of a plot whose x values are all missing or all 0, else ""."""
    if not values:
        return f"No {noun} to plot: no configuration recorded any."
    if not any(values):
        return f"No {noun} to plot: {zero or f'every known {noun} is 0'}."
    return ""


def _left_out(configs: list[dict], key: str, noun: str) -> str:
    """Names the configurations a plot leaves out: those without a value or without a rate."""
    no_value = [legend_label(c) for c in configs if c["rate"] is not None and c[key] is None]
    no_rate = [legend_label(c) for c in configs if c["rate"] is None]
    parts = [f"Left out for having no {noun}: {', '.join(no_value)}." if no_value else "",
             f"Left out for having no graded attempt: {', '.join(no_rate)}." if no_rate else ""]
    return " ".join(part for part in parts if part)


@contextmanager
def _style(prefix: str):
    """matplotlib's default style whatever the local matplotlibrc says, text as paths, and ids
    of markers and clip paths salted with `prefix`, for drawing one plot."""
    import matplotlib
    import matplotlib.style

    with matplotlib.style.context("default"), matplotlib.rc_context({**STYLE, "svg.hashsalt": prefix}):
        yield


def _figure(title: str, x_label: str):
    """A figure with one set of axes: title, labels, gridlines, and a percent y axis that starts a
    little below 0, so that a line at 0 shows above the axis."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    fig = Figure(figsize=(5.0, 3.2))
    FigureCanvasSVG(fig)
    ax = fig.subplots()
    ax.set_title(title)
    ax.set_xlabel(x_label)
    ax.set_ylabel("solved")
    ax.set_ylim(-0.03, 1.03)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # few enough that labels like 0.0025 never overlap
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _svg(fig, ax, handles: list, labels: list[str], prefix: str) -> str:
    """The figure, with its legend under the axes, as an `<svg>` element to inline: no XML
    header, no metadata, and every id (and each reference to one) prefixed with `prefix`, so
    that several plots in one page never share an id."""
    legend = ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, frameon=False)
    for text in legend.get_texts():
        text.set_parse_math(False)  # a `$` in a profile's name is a dollar sign, not TeX
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):].replace("<svg ", f'<svg role="img" aria-label="{escape(ax.get_title())}" ', 1)
    return re.sub(r'(id="|url\(#|href="#)', rf"\g<1>{prefix}-", svg)
