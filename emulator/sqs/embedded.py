"""moto's SQS server in this process, on a loopback port: the default SQS endpoint.

Started from a worker thread (moto's import alone takes a good part of a
second), never at import time, and only when SQS is needed.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["EmbeddedSqs"]


class EmbeddedSqs:
    """``start()`` returns the server's URL; ``stop()`` ends it. Blocking: run in a thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: Any = None

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        # werkzeug would log every request of the pollers to standard error.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self._host, port=0, verbose=False)
        server.start()
        self._server = server
        host, port = server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
