"""`agentbench view`: the store in a browser, served on this machine."""

from __future__ import annotations

import typer


def view(
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="The port to serve on (0: a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to serve on (127.0.0.1: this machine only)."),
) -> None:
    """Browse the store's runs in a web browser: reports, trajectories, comparisons, release history."""
    from agentbench.store_open import open_store, shown_url
    from agentbench.view.app import create_app
    from agentbench.view.server import LOOPBACK, listen, url_of

    engine = open_store(must_exist=True)
    app = create_app(engine, trusted_hosts=list(LOOPBACK) if host in LOOPBACK else None)
    server = listen(app, host, port)
    typer.echo(f"agentbench view: {url_of(server)} (store {shown_url(str(engine.url))}); Ctrl-C stops it")
    server.serve_forever()  # werkzeug's returns on Ctrl-C, the socket closed
    typer.echo("stopped")
