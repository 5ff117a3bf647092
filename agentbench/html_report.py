"""The self-contained HTML report: tables, inline SVG plots, the outcome grid and every
trajectory, one file that opens with no network. Everything a model wrote is escaped."""

from __future__ import annotations

import hashlib
from html import escape

from agentbench.report import config_label, server_line

WIDTH, HEIGHT, PAD = 460, 300, 48
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5rem; } figure { margin: 0; width: 470px; } figcaption { font-weight: 600; }
.cell-all { background: #b7e4b0; } .cell-some { background: #fbe3a0; } .cell-none { background: #f4b6b0; } .cell-error { background: #ccc; }
pre { background: #f6f6f6; padding: 8px; white-space: pre-wrap; max-height: 40rem; overflow: auto; }
.baseline { color: #777; font-style: italic; }
"""


def render_html(report: dict, trajectories: dict[str, str]) -> str:
    """The whole page; `trajectories` maps an attempt's key (task|model|agent|epoch) to its text."""
    configs = report["configs"]
    colours = {config_label(c): COLOURS[i % len(COLOURS)] for i, c in enumerate(configs)}
    sections = [
        f"<h1>agentbench run {escape(report['run'])}</h1>",
        f"<p>status {escape(report['status'])}, agentbench {escape(report['agentbench_version'])}, "
        f"created {escape(report['created_at'])}. Baselines are marked <span class='baseline'>(baseline)</span>.</p>",
        _config_table(configs),
        _broken(report),
        _models(report),
        "<h2>Frontiers and anytime curves</h2><div class='plots'>",
        _scatter(configs, colours, "cost_per_attempt_usd", "cost per task (USD)", "Success vs cost per task"),
        _scatter(configs, colours, "wall_s_median", "median wall time (s)", "Success vs wall time"),
        _scatter(configs, colours, "output_tokens_per_s", "output tokens/s", "Success vs output tokens/s"),
        _curves(configs, colours, "wall_s", "time budget (s)", "Solved within a time budget"),
        _curves(configs, colours, "cost_usd", "cost budget (USD)", "Solved within a cost budget"),
        "</div>",
        _effects(report["effects"]),
        _grid(report),
        _trajectories(report, trajectories),
    ]
    body = "\n".join(sections)
    return f"<!doctype html><html><head><meta charset='utf-8'><title>agentbench {escape(report['run'])}</title><style>{STYLE}</style></head><body>{body}</body></html>"


def _broken(report: dict) -> str:
    """Tasks whose grading is broken (the oracle failed them, or their check cannot start)."""
    items = [f"<li>{escape(task)}: {escape(why)}</li>" for task, why in report.get("broken_tasks", {}).items()]
    return f"<h2>Broken tasks</h2><p>Their verdicts say nothing about the agents.</p><ul>{''.join(items)}</ul>" if items else ""


def _models(report: dict) -> str:
    """The prices each model was charged at, with their dates, and its vLLM servers' load."""
    items = [f"<li>{escape(model)}: {escape(prices['text'])}</li>" for model, prices in report.get("prices", {}).items()]
    items += [f"<li>{escape(server_line(server))}</li>" for server in report.get("servers", [])]
    return f"<h2>Prices and servers</h2><ul>{''.join(items)}</ul>" if items else ""


def attempt_key(attempt: dict) -> str:
    return f"{attempt['task']}|{attempt['model']}|{attempt['agent']}|{attempt['epoch']}"


def _config_table(configs: list[dict]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("model", "agent", "solved", "rate [95% CI]", "tampered", "errors", "median wall", "p90 wall",
                                            "tokens/solved", "cost/solved", "output tok/s", "valid calls", "frontier"))
    rows = []
    for c in configs:
        model = escape(c["model"]) + (" <span class='baseline'>(baseline)</span>" if c["baseline"] else "")
        rate = "-" if c["rate"] is None else f"{c['rate']:.0%} [{c['ci95'][0]:.0%}, {c['ci95'][1]:.0%}]"
        frontier = "+".join(axis for axis, placed in c["frontier"].items() if placed) or "-"
        cells = [model, escape(c["agent"]), f"{c['solved']}/{c['attempts'] - c['errors']}", rate, str(c["tampered"]), str(c["errors"]),
                 _num(c["wall_s_median"], "{:.1f} s"), _num(c["wall_s_p90"], "{:.1f} s"), _num(c["tokens_per_solved"], "{:,.0f}"),
                 _num(c["cost_per_solved_usd"], "${:.4f}"), _num(c["output_tokens_per_s"], "{:.1f}"),
                 _num(c["valid_tool_call_share"], "{:.0%}"), frontier]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _scale(values: list[float], low_px: float, high_px: float):
    low, high = min(values, default=0.0), max(values, default=1.0)
    span = (high - low) or 1.0
    return lambda v: low_px + (v - low) / span * (high_px - low_px)


def _axes(x_label: str, y_label: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> str:
    left, bottom, right, top = PAD, HEIGHT - PAD, WIDTH - 12, 12
    return (
        f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#444'/>"
        f"<line x1='{left}' y1='{bottom}' x2='{left}' y2='{top}' stroke='#444'/>"
        f"<text x='{(left + right) / 2}' y='{HEIGHT - 10}' text-anchor='middle' font-size='12'>{escape(x_label)}</text>"
        f"<text x='14' y='{(top + bottom) / 2}' text-anchor='middle' font-size='12' transform='rotate(-90 14 {(top + bottom) / 2})'>{escape(y_label)}</text>"
        f"<text x='{left}' y='{bottom + 16}' font-size='10'>{x_range[0]:.3g}</text>"
        f"<text x='{right}' y='{bottom + 16}' font-size='10' text-anchor='end'>{x_range[1]:.3g}</text>"
        f"<text x='{left - 4}' y='{bottom}' font-size='10' text-anchor='end'>{y_range[0]:.0%}</text>"
        f"<text x='{left - 4}' y='{top + 8}' font-size='10' text-anchor='end'>{y_range[1]:.0%}</text>"
    )


def _figure(title: str, svg_body: str, legend: str = "") -> str:
    return (f"<figure><figcaption>{escape(title)}</figcaption>"
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{escape(title)}'>{svg_body}</svg>"
            f"{legend}</figure>")


def _legend(colours: dict[str, str]) -> str:
    items = "".join(f"<span style='color:{colour}'>&#9679; {escape(label)}</span> " for label, colour in colours.items())
    return f"<div>{items}</div>"


def _scatter(configs: list[dict], colours: dict[str, str], key: str, x_label: str, title: str) -> str:
    points = [(config_label(c), c[key], c["rate"]) for c in configs if c[key] is not None and c["rate"] is not None]
    if not points:
        return _figure(title, f"<text x='20' y='40'>no {escape(x_label)} recorded</text>")
    xs = [p[1] for p in points]
    sx, sy = _scale(xs, PAD + 10, WIDTH - 30), _scale([0.0, 1.0], HEIGHT - PAD, 20)
    marks = "".join(
        f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='6' fill='{colours[label]}' fill-opacity='0.8'><title>{escape(label)}: {y:.0%}, {x:.4g}</title></circle>"
        for label, x, y in points
    )
    return _figure(title, _axes(x_label, "solved", (min(xs), max(xs)), (0.0, 1.0)) + marks, _legend(colours))


def _curves(configs: list[dict], colours: dict[str, str], key: str, x_label: str, title: str) -> str:
    series = {config_label(c): c["anytime"][key] for c in configs if c["anytime"][key]}
    if not series:
        return _figure(title, "<text x='20' y='40'>nothing solved</text>")
    xs = [x for curve in series.values() for x, _ in curve]
    sx, sy = _scale([0.0, *xs], PAD + 10, WIDTH - 30), _scale([0.0, 1.0], HEIGHT - PAD, 20)
    lines = []
    for label, curve in series.items():
        points, share = [f"{sx(0):.1f},{sy(0):.1f}"], 0.0
        for x, y in curve:
            points += [f"{sx(x):.1f},{sy(share):.1f}", f"{sx(x):.1f},{sy(y):.1f}"]
            share = y
        points.append(f"{sx(max(xs)):.1f},{sy(share):.1f}")
        lines.append(f"<polyline fill='none' stroke='{colours[label]}' stroke-width='2' points='{' '.join(points)}'><title>{escape(label)}</title></polyline>")
    return _figure(title, _axes(x_label, "solved", (0.0, max(xs)), (0.0, 1.0)) + "".join(lines), _legend(colours))


def _effects(effects: dict) -> str:
    rows = []
    for factor, levels in effects.items():
        for level, e in levels.items():
            interval = e["cost_per_solved_ci95"]
            cost = _num(e["cost_per_solved_usd"], "${:.4f}") + (f" [${interval[0]:.4f}, {_num(interval[1], '${:.4f}', 'unbounded')}]" if interval else "")
            rows.append(f"<tr><td>{escape(factor)}</td><td>{escape(level)}</td><td>{e['attempts']}</td><td>{e['rate']:.0%} "
                        f"[{e['ci95'][0]:.0%}, {e['ci95'][1]:.0%}]</td><td>{e['rate_effect']:+.0%}</td><td>{cost}</td>"
                        f"<td>{_num(e['cost_effect_usd'], '{:+.4f}')}</td></tr>")
    return ("<h2>Main effects: which factor moved the rate and the cost</h2><table><tr><th>factor</th><th>level</th>"
            "<th>attempts</th><th>rate [95% CI]</th><th>rate vs all</th><th>cost/solved [95% CI]</th><th>cost vs all</th></tr>"
            f"{''.join(rows)}</table>")


def _grid(report: dict) -> str:
    labels = [config_label(c) for c in report["configs"]]
    cells: dict[tuple[str, str], list[dict]] = {}
    for a in report["attempts"]:
        cells.setdefault((a["task"], f"{a['model']}/{a['agent']}"), []).append(a)
    head = "<tr><th>task</th>" + "".join(f"<th>{escape(label)}</th>" for label in labels) + "</tr>"
    rows = []
    for task in sorted({a["task"] for a in report["attempts"]}):
        row = [f"<td>{escape(task)}</td>"]
        for label in labels:
            attempts = cells.get((task, label), [])
            graded = [a for a in attempts if a["status"] != "error"]
            solved = sum(a["solved"] for a in graded)
            css = "cell-error" if not graded else "cell-all" if solved == len(graded) else "cell-some" if solved else "cell-none"
            links = " ".join(f"<a href='#{_anchor(a)}'>#{a['epoch']}{'⚑' if a['flags'] else ''}</a>" for a in attempts)
            row.append(f"<td class='{css}'>{solved}/{len(graded)} {links}</td>")
        rows.append("<tr>" + "".join(row) + "</tr>")
    return f"<h2>Outcomes per task</h2><table>{head}{''.join(rows)}</table>"


def _trajectories(report: dict, trajectories: dict[str, str]) -> str:
    items = []
    for a in report["attempts"]:
        text = trajectories.get(attempt_key(a), "(no trajectory stored)")
        flagged = f"; flagged: {', '.join(a['flags'])}" if a["flags"] else ""
        summary = f"{a['task']} {a['model']}/{a['agent']} #{a['epoch']}: {a['status']} ({a['stop_reason']}{flagged})"
        items.append(f"<details id='{_anchor(a)}'><summary>{escape(summary)}</summary><pre>{escape(text)}</pre></details>")
    return "<h2>Trajectories</h2>" + "".join(items)


def _anchor(attempt: dict) -> str:
    return "a-" + hashlib.sha1(attempt_key(attempt).encode()).hexdigest()[:12]


def _num(value, fmt: str, missing: str = "n/a") -> str:
    return missing if value is None else fmt.format(value)
