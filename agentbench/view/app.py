"""The routes of `agentbench view`; what each page shows is built in pages.py and compare.py."""

from __future__ import annotations

import json

from flask import Flask, Response, abort, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from agentbench.errors import UserError
from agentbench.history import history_of
from agentbench.html_report import attempt_key, render_html
from agentbench.patch_look import patch_flags
from agentbench.report import build_report, trajectory_text
from agentbench.store import (
    AttemptRow,
    RunRow,
    attempt_steps,
    get_run,
    list_runs,
    run_attempts,
    run_servers,
)
from agentbench.store_open import shown_url
from agentbench.view import pages
from agentbench.view.compare import compare_runs
from agentbench.view.formats import FILTERS


def create_app(engine, trusted_hosts: list[str] | None = None) -> Flask:
    """The web app over the store `engine` opens; with `trusted_hosts`, a request naming another
    host is refused (a page elsewhere cannot reach a local server through a name of its own)."""
    app = Flask(__name__)
    app.config["TRUSTED_HOSTS"] = trusted_hosts
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    store = shown_url(str(engine.url))

    @app.context_processor
    def header() -> dict:
        return {"store": store}

    def run_or_404(name: str) -> RunRow:
        try:
            return get_run(engine, name)
        except UserError:
            abort(404, f"No run {name!r} in the store.")

    def report_of(name: str) -> tuple[RunRow, list[AttemptRow], dict]:
        """A run, its attempts and its report, as `agentbench report` builds it."""
        row = run_or_404(name)
        rows = run_attempts(engine, name)
        return row, rows, build_report(row, rows, run_servers(engine, name))

    @app.errorhandler(HTTPException)
    def error_page(error: HTTPException):
        message = vars(error).get("description") or _SENTENCES.get(error.code, error.description)  # ours, else one sentence
        return render_template("message.html", title=error.name, message=message), error.code

    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError):
        return Response("This server answers only to the names of this machine.\n", 400, mimetype="text/plain")

    @app.errorhandler(UserError)
    def user_error(error: UserError):
        return render_template("message.html", title="Cannot show this", message=str(error)), 400

    @app.get("/")
    def runs():
        return render_template("runs.html", runs=pages.run_summaries(engine))

    @app.get("/runs/<name>")
    def run(name: str):
        row, rows, document = report_of(name)
        return render_template("run.html", report=document, grid=pages.outcome_grid(rows), spec=json.loads(row.spec_json or "{}"))

    @app.get("/runs/<name>/report.json")
    def report_json(name: str):
        return Response(json.dumps(report_of(name)[2], indent=2) + "\n", mimetype="application/json")

    @app.get("/runs/<name>/report.html")
    def report_html(name: str):
        _, rows, document = report_of(name)
        trajectories = {attempt_key(record): trajectory_text(attempt, attempt_steps(engine, attempt.id))
                        for attempt, record in zip(rows, document["attempts"], strict=True)}
        histories = [history_of(engine, label) for label in document["labels"]]
        return Response(render_html(document, trajectories, histories), mimetype="text/html")

    @app.get("/runs/<name>/attempts")
    def attempts(name: str):
        run_or_404(name)
        rows = run_attempts(engine, name)
        chosen = {key: request.args.get(key, "").strip() for key in ("stop", "flag", "outcome", "q")}
        matches = pages.attempts_with_text(engine, name, chosen["q"]) if chosen["q"] else set()
        kept = pages.filter_attempts(rows, **chosen, text_matches=frozenset(matches))
        return render_template("attempts.html", run=name, rows=kept, total=len(rows), chosen=chosen,
                               choices=pages.filter_choices(rows), any_flag=pages.ANY_FLAG, outcome_of=pages.outcome_of)

    @app.get("/runs/<name>/attempts/<path:attempt_id>")
    def attempt(name: str, attempt_id: str):
        run_or_404(name)
        row: AttemptRow | None = next((a for a in run_attempts(engine, name) if a.id == attempt_id), None)
        if row is None:
            abort(404, f"No attempt {attempt_id!r} in run {name!r}.")
        return render_template("attempt.html", run=name, attempt=row,
                               trajectory=trajectory_text(row, attempt_steps(engine, row.id)),
                               patch_flags=[str(flag) for flag in patch_flags(row.patch)])

    @app.get("/compare")
    def compare():
        names = [name for name in request.args.getlist("run") if name]
        if len(names) < 2:
            raise UserError("Pick two or more runs to compare (tick them on the runs page).")
        runs = sorted((run_or_404(name) for name in names), key=lambda run: run.created_at)
        return render_template("compare.html", comparison=compare_runs(engine, [run.name for run in runs]))

    @app.get("/history")
    def history():
        label = request.args.get("label", "").strip()
        reference = request.args.get("reference", "").strip() or None
        labels = sorted({key for run in list_runs(engine) for key in pages.labels_of(run)})
        return render_template("history.html", label=label, labels=labels,
                               series=history_of(engine, label, reference=reference) if label else None)

    return app


_SENTENCES = {404: "There is no page at this address.", 400: "The request could not be read.",
              500: "Showing this page failed; the server's terminal has the details."}
