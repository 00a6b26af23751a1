"""A threading HTTP server for devstack's local servers that stays quiet when a browser
hangs up mid-answer (a closed tab, a cancelled favicon): that is not an error worth a
traceback on the terminal."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)
