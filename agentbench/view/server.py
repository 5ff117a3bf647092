"""Serving the app: werkzeug's threaded server on a socket we bind ourselves, so that a port in
use is one sentence rather than werkzeug's exit."""

from __future__ import annotations

import errno
import socket

from werkzeug.serving import (
    BaseWSGIServer,
    WSGIRequestHandler,
    make_server,
    select_address_family,
)

from agentbench.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class QuietHandler(WSGIRequestHandler):
    """No line per request on the terminal."""

    def log_request(self, *args) -> None:
        pass


def listen(app, host: str, port: int) -> BaseWSGIServer:
    """A server for `app` bound to host:port (port 0: a free one), not yet serving."""
    try:
        sock = socket.create_server((host, port), family=select_address_family(host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"Port {port} on {host} is in use; pick another with --port (--port 0 picks a free one).") from None
        reason = (exc.strerror or str(exc)).partition(" (while attempting")[0]  # create_server names the address again
        raise UserError(f"Cannot listen on {host} port {port}: {reason}.") from None
    with sock:
        return make_server(host, port, app, threaded=True, request_handler=QuietHandler, fd=sock.fileno())


def url_of(server: BaseWSGIServer) -> str:
    host = f"[{server.host}]" if ":" in server.host else server.host
    return f"http://{host}:{server.port}/"
