"""The one place the local front departs from the ALB's address: TLS on 443.

An ALB listens with HTTPS on 443, so the product writes `https://<host>/…` (authX's redirect to
the environment, its close page). The local front is plain HTTP on one port of 127.0.0.1, so
such a URL, for a host on this machine (`*.localhost`), becomes `http://<host>:<port>/…` (the
front's port, or the dev IdP's for its host) wherever a browser would follow it: Location
headers that pass through the front, and the dev IdP's post-logout redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SERVED_SUFFIX = ".localhost"


def served(host: str) -> bool:
    host = host.lower()
    return host == "localhost" or host.endswith(SERVED_SUFFIX)


class LocalOrigins:
    """`port`: the front's; `ports`: hosts served elsewhere on this machine (the dev IdP)."""

    def __init__(self, port: int, ports: dict[str, int] | None = None):
        self.port = port
        self.ports = {host.lower(): number for host, number in (ports or {}).items()}

    def to_local(self, url: str) -> str:
        """`https://h.localhost[:443]/p?q#f` → `http://h.localhost:<port>/p?q#f`; else as is."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return url
        host = parts.hostname or ""
        if parts.scheme != "https" or port not in (None, 443) or not served(host):
            return url
        local = f"{host}:{self.ports.get(host, self.port)}"
        return urlunsplit(("http", local, parts.path, parts.query, parts.fragment))

    def server_side(self, url: str) -> str:
        """`http://h.localhost:<port>/…` → `http://127.0.0.1:<port>/…`: how a server on this
        machine reaches what a browser reaches by name (the resolver need not know
        `*.localhost`; browsers do)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return url
        if parts.scheme != "http" or not served(parts.hostname or "") or port is None:
            return url
        return urlunsplit(("http", f"127.0.0.1:{port}", parts.path, parts.query, parts.fragment))

    def origin(self, host: str) -> str:
        """The browser-facing origin of a host the front serves."""
        return f"http://{host}:{self.ports.get(host.lower(), self.port)}"
