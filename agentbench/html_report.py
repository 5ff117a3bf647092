"""The self-contained HTML report: tables, inline SVG plots, the outcome grid and every
trajectory, one file that opens with no network. Everything a model wrote is escaped."""

from __future__ import annotations

import hashlib
import json
from html import escape

from agentbench import plots
from agentbench.books import books_line
from agentbench.sequential import decision_line
from agentbench.report import config_label, cost_per_solved_text, server_line

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; } figure { margin: 0; max-width: 500px; }
figure svg { max-width: 100%; height: auto; } figcaption { font-size: 0.9rem; color: #555; }
.cell-all { background: #b7e4b0; } .cell-some { background: #fbe3a0; } .cell-none { background: #f4b6b0; } .cell-error { background: #ccc; }
pre { background: #f6f6f6; padding: 8px; white-space: pre-wrap; max-height: 40rem; overflow: auto; }
.baseline { color: #777; font-style: italic; } .change-regressed { color: #b00; font-weight: 600; } .change-improved { color: #070; }
"""


def render_html(report: dict, trajectories: dict[str, str], histories: list[dict] = ()) -> str:
    """The whole page; `trajectories` maps an attempt's key (task|model|agent|epoch) to its text,
    `histories` are the release series (agentbench.history) of the run's labels."""
    configs = report["configs"]
    sections = [
        f"<h1>agentbench run {escape(report['run'])}</h1>",
        f"<p>status {escape(report['status'])}, agentbench {escape(report['agentbench_version'])}, "
        f"created {escape(report['created_at'])}. Baselines are marked <span class='baseline'>(baseline)</span>.</p>",
        f"<p><b>{escape(decision_line(report['decision']))}</b></p>" if report.get("decision") else "",
        _config_table(configs),
        _broken(report),
        _models(report),
        _plots(configs),
        *[_releases(history) for history in histories],
        _effects(report["effects"]),
        _grid(report),
        _settings(report),
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
    books = books_line(report["harness"]) if "harness" in report else None
    items += [f"<li>{escape(books)}</li>"] if books else []
    return f"<h2>Prices and servers</h2><ul>{''.join(items)}</ul>" if items else ""


def attempt_key(attempt: dict) -> str:
    return f"{attempt['task']}|{attempt['model']}|{attempt['agent']}|{attempt['epoch']}"


def _config_table(configs: list[dict]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("model", "agent", "solved", "rate [95% CI]", "tampered", "errors", "median wall", "p90 wall",
                                            "wall/solved", "tokens/solved", "cost/solved", "output tok/s", "valid calls", "frontier"))
    rows = []
    for c in configs:
        model = escape(c["model"]) + (" <span class='baseline'>(baseline)</span>" if c["baseline"] else "")
        rate = "-" if c["rate"] is None else f"{c['rate']:.0%} [{c['ci95'][0]:.0%}, {c['ci95'][1]:.0%}]"
        frontier = "+".join(axis for axis, placed in c["frontier"].items() if placed) or "-"
        cells = [model, escape(c["agent"]), f"{c['solved']}/{c['attempts'] - c['errors']}", rate, str(c["tampered"]), _errors_cell(c),
                 _num(c["wall_s_median"], "{:.1f} s"), _num(c["wall_s_p90"], "{:.1f} s"), _num(c["wall_s_per_solved"], "{:.1f} s"),
                 _num(c["tokens_per_solved"], "{:,.0f}"), escape(cost_per_solved_text(c)), _num(c["output_tokens_per_s"], "{:.1f}"),
                 _num(c["valid_tool_call_share"], "{:.0%}"), frontier]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _errors_cell(config: dict) -> str:
    """The error count, and the rate with errors counted as failures when there are any."""
    if not config["errors"]:
        return "0"
    few = config.get("errors_on_few_tasks") or []
    on = f"; mostly on {escape(', '.join(few))}" if few else ""
    return f"{config['errors']} (rate with them as failures {_num(config['rate_with_errors'], '{:.0%}', '-')}{on})"


def _plots(configs: list[dict]) -> str:
    """The frontier scatters and anytime curves; a plot with nothing to show is a sentence saying why."""
    free = "every attempt cost $0 (built-in baselines)"
    drawn = [
        plots.scatter(configs, "cost_per_attempt_usd", "cost", "cost per attempt (USD)", "Success vs cost per attempt", free),
        plots.scatter(configs, "wall_s_median", "wall time", "median wall time (s)", "Success vs wall time"),
        plots.scatter(configs, "output_tokens_per_s", "output tokens/s", "output tokens/s", "Success vs output tokens/s"),
        plots.curves(configs, "wall_s", "wall_s_median", "wall time", "time budget (s)", "Solved within a time budget"),
        plots.curves(configs, "cost_usd", "cost_per_attempt_usd", "cost", "cost budget (USD)", "Solved within a cost budget", free),
    ]
    figures = [f"<figure>{plot.svg}<figcaption>{escape(plot.note)}</figcaption></figure>" if plot.svg
               else f"<figure><figcaption><b>{escape(plot.title)}</b>: {escape(plot.note)}</figcaption></figure>" for plot in drawn]
    return f"<h2>Frontiers and anytime curves</h2><div class='plots'>{''.join(figures)}</div>"


def _releases(history: dict) -> str:
    """A release series: its plot, and per configuration each release's numbers and change."""
    plot = plots.releases(history)
    figure = plot.svg or ""
    rows = []
    for config in history["configs"]:
        for point in config["points"]:
            moved = "".join(f"<td class='change-{c['verdict'] if c else 'none'}'>{escape(_moved(c))}</td>"
                            for c in (point["change"], point["from_reference"]))
            rows.append(f"<tr><td>{escape(config['config'])}</td><td>{escape(point['release'])}</td><td>{escape(point['run'])}</td>"
                        f"<td>{point['solved']}/{point['graded']}</td><td>{_num(point['rate'], '{:.0%}', '-')}</td>"
                        f"<td>{escape(cost_per_solved_text(point))}</td><td>{_num(point['wall_s_per_solved'], '{:.1f} s')}</td>"
                        f"{moved}</tr>")
    return (f"<h2>By {escape(history['label'])}</h2><figure>{figure}<figcaption>{escape(plot.note)}</figcaption></figure>"
            "<table><tr><th>configuration</th><th>release</th><th>run</th><th>solved</th><th>rate</th><th>cost/solved</th>"
            f"<th>wall/solved</th><th>change from the one before (paired)</th><th>change from {escape(str(history['reference']))}</th>"
            f"</tr>{''.join(rows)}</table><p>Marks are decided together over every configuration, release and direction "
            f"(Holm), so the chance of any false mark is at most {history['alpha']:g}; p-values shown adjusted.</p>")


def _moved(change: dict | None) -> str:
    if change is None:
        return "-"
    p = change["p_improved_adjusted"] if change["verdict"] == "improved" else change["p_adjusted"]
    return f"{change['verdict']}: -{len(change['regressed'])} +{len(change['improved'])} of {change['tasks']}, p={p:.2g}"


def _effects(effects: dict) -> str:
    """Each factor's levels: raw rate and cost, and the rate effect against the reference level,
    adjusted for the other factors and the task; then the interactions and the design's notes."""
    rows = []
    for factor, entry in effects["factors"].items():
        for level, e in entry["levels"].items():
            interval = e["cost_per_solved_ci95"]
            cost = _num(e["cost_per_solved_usd"], "${:.4f}") + (f" {_usd_interval(interval)}" if interval else "")
            if entry["reference"] is None:
                effect = "-"  # one level: nothing to compare it with
            else:
                effect = "reference" if level == entry["reference"] else _effect_text(e["rate_effect"], e["rate_effect_ci95"])
            rows.append(f"<tr><td>{escape(factor)}</td><td>{escape(level)}</td><td>{e['attempts']}</td><td>{_num(e['rate'], '{:.0%}', '-')} "
                        f"[{e['ci95'][0]:.0%}, {e['ci95'][1]:.0%}]</td><td>{effect}</td><td>{cost}</td></tr>")
    for term in effects["interactions"]:
        rows.append(f"<tr><td>interaction</td><td>{escape(term['terms'])}</td><td></td><td></td>"
                    f"<td>{_effect_text(term['effect'], term['ci95'])}</td><td></td></tr>")
    notes = [f"<li>{escape(note)}</li>" for note in effects["notes"]]
    if effects["interaction_p"] is not None:
        notes.append(f"<li>interactions tested together: p={effects['interaction_p']:.2g}</li>")
    return ("<h2>Effects: which factor moved the rate (adjusted for the others and the task)</h2><table><tr><th>factor</th>"
            "<th>level</th><th>attempts</th><th>rate [95% CI]</th><th>effect vs reference [95% CI]</th><th>cost/solved [95% CI]</th></tr>"
            f"{''.join(rows)}</table>" + (f"<ul>{''.join(notes)}</ul>" if notes else ""))


def _effect_text(effect: float | None, interval: list | None) -> str:
    if effect is None:
        return "not estimable"
    return f"{effect:+.0%}" + (f" [{interval[0]:+.0%}, {interval[1]:+.0%}]" if interval else "")


def _usd_interval(interval: list) -> str:
    return "[" + ", ".join("unbounded" if end is None else f"${end:.4f}" for end in interval) + "]"


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
        lines = "".join(f"<li><code>{escape(line)}</code></li>" for line in a["patch_flags"])
        look = f"<p>the patch reaches into the test machinery:</p><ul>{lines}</ul>" if lines else ""
        items.append(f"<details id='{_anchor(a)}'><summary>{escape(summary)}</summary>{look}<pre>{escape(text)}</pre></details>")
    return "<h2>Trajectories</h2>" + "".join(items)


def _settings(report: dict) -> str:
    """The run's stored settings and its lock record (what decided its results besides chance):
    their scalar values in tables, and each whole, as pretty-printed JSON."""
    parts = ["<h2>Settings and lock</h2>"]
    for title, record in (("Settings", report.get("spec") or {}), ("Lock", report.get("lock") or {})):
        if not record:
            parts.append(f"<p>{title}: none recorded.</p>")
            continue
        rows = "".join(f"<tr><td>{escape(key)}</td><td>{escape(value)}</td></tr>" for key, value in _scalars(record))
        parts.append(f"<h3>{title}</h3><table><tr><th>key</th><th>value</th></tr>{rows}</table>"
                     f"<details><summary>{title} as JSON</summary><pre>{escape(json.dumps(record, indent=2))}</pre></details>")
    return "".join(parts)


def _scalars(record: dict, prefix: str = "", depth: int = 2):
    """(dotted key, text) for the values of `record` that are scalars or lists of scalars, down
    to `depth` levels of nesting; deeper ones are left to the JSON."""
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth > 1:
                yield from _scalars(value, f"{path}.", depth - 1)
        elif isinstance(value, list):
            if all(not isinstance(item, (dict, list)) for item in value):
                yield path, ", ".join(_text(item) for item in value) or "[]"
        else:
            yield path, _text(value)


def _text(value) -> str:
    """A scalar as JSON writes it, strings unquoted."""
    return value if isinstance(value, str) else json.dumps(value)


def _anchor(attempt: dict) -> str:
    return "a-" + hashlib.sha1(attempt_key(attempt).encode()).hexdigest()[:12]


def _num(value, fmt: str, missing: str = "n/a") -> str:
    return missing if value is None else fmt.format(value)
