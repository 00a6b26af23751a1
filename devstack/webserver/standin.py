"""One MWAA environment's web server, as a browser meets it.

- `GET <login>?login=true#<token>`: a page whose script reads the token from the URL fragment
  (which never reaches a server) and posts it back, as MWAA's page does;
- `POST <login>?login=true`: the token is redeemed at devstack's MWAA (valid for this
  environment only, once, within 60 s) and an Airflow session opens, with the Airflow role and
  IAM identity the token was issued for; a refused token opens nothing (403);
- any page with a session shows who is signed in, where and as which role, with Airflow's
  logout link; without a session the browser is sent where MWAA sends it;
- Airflow's logout path (when it reaches the web server) closes the Airflow session.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote

from devstack.httpserver import LocalHTTPServer

from .paths import WebServerPaths, for_version

MAX_BODY = 16384
STYLE = "body{font-family:sans-serif;max-width:40rem;margin:3rem auto}dt{font-weight:bold}"


@dataclass(frozen=True)
class AirflowSession:
    user: str
    rbac_role: str
    iam_identity: str
    airflow_identity: str


Redeemer = Callable[[str, str], "tuple[int, dict[str, Any]]"]  # (env, token) → (status, body)


def _page(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


class WebServer:
    def __init__(self, environment: str, airflow_version: str, redeem: Redeemer):
        self.environment = environment
        self.airflow_version = airflow_version
        self.paths: WebServerPaths = for_version(airflow_version)
        self._redeem = redeem
        self.sessions: dict[str, AirflowSession] = {}
        self.logins = 0
        self.refused = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._get(self)

            def do_POST(self) -> None:
                server._post(self)

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = LocalHTTPServer(("127.0.0.1", 0), Handler)
        self.address = ("127.0.0.1", self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- answers -----------------------------------------------------------------------------

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        handler.send_response(status)
        for name, value in headers or []:
            handler.send_header(name, value)
        if body:
            handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Cache-Control", "no-store")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _session(self, handler: BaseHTTPRequestHandler) -> AirflowSession | None:
        for header in handler.headers.get_all("Cookie") or []:
            for pair in header.split(";"):
                name, _, value = pair.strip().partition("=")
                if name == self.paths.session_cookie and value in self.sessions:
                    return self.sessions[value]
        return None

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        params = parse_qs(query)
        if path == self.paths.login and params.get("login") == ["true"]:
            return self._send(handler, 200, self._token_page())
        if path == self.paths.logout:
            expired = f"{self.paths.session_cookie}=; Max-Age=0; Path=/; Secure; HttpOnly"
            headers = [("Set-Cookie", expired)]
            headers.append(("Location", self.paths.no_session))
            return self._send(handler, 302, headers=headers)
        found = self._session(handler)
        if found is None:
            if path == self.paths.no_session:  # what MWAA shows when no one sent a token
                page = _page(
                    "Sign in",
                    "<h1 id='no-session'>Sign in</h1><p>Open this environment from your "
                    "organisation's sign-in page.</p>",
                )
                return self._send(handler, 401, page)
            return self._send(handler, 302, headers=[("Location", self.paths.no_session)])
        return self._send(handler, 200, self._home(found))

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.partition("?")[0]
        length = int(handler.headers.get("Content-Length") or 0)
        if path != self.paths.login or not 0 < length <= MAX_BODY:
            return self._send(handler, 400, _page("Bad request", "<h1>Bad request</h1>"))
        form = parse_qs(handler.rfile.read(length).decode(errors="replace"))
        token = (form.get("token") or [""])[0]
        status, answer = self._redeem(self.environment, token) if token else (403, {})
        if status != 200:
            self.refused += 1
            reason = escape(str(answer.get("message") or "The sign-in token is not valid."))
            page = _page("Sign-in refused", f"<h1 id='refused'>Sign-in refused</h1><p>{reason}</p>")
            return self._send(handler, 403, page)
        identity = str(answer.get("IamIdentity", ""))
        made = AirflowSession(
            user=identity.rsplit("/", 1)[-1],
            rbac_role=str(answer.get("RbacRole", "")),
            iam_identity=identity,
            airflow_identity=str(answer.get("AirflowIdentity", "")),
        )
        sid = secrets.token_urlsafe(24)
        self.sessions[sid] = made
        self.logins += 1
        cookie = f"{self.paths.session_cookie}={sid}; Path=/; Secure; HttpOnly; SameSite=Lax"
        return self._send(
            handler, 302, headers=[("Set-Cookie", cookie), ("Location", self.paths.home)]
        )

    # --- pages -------------------------------------------------------------------------------

    def _token_page(self) -> bytes:
        # Back to the web-login path with `login=true`: the route the ALB sends to MWAA.
        action = escape(f"{self.paths.login}?login=true")
        script = (
            "var t=decodeURIComponent(window.location.hash.slice(1));"
            "history.replaceState(null,'',window.location.pathname+window.location.search);"
            "if(t){document.getElementById('token').value=t;"
            "document.getElementById('login').submit();}"
            "else{document.getElementById('status').textContent='No sign-in token.';}"
        )
        return _page(
            "Signing in",
            f"<p id='status'>Signing in…</p><form id='login' method='post' action='{action}'>"
            "<input type='hidden' name='token' id='token'></form>"
            f"<script>{script}</script>",
        )

    def _home(self, found: AirflowSession) -> bytes:
        rows = (
            ("Environment", self.environment, "environment"),
            ("Airflow", self.airflow_version, "airflow-version"),
            ("User", found.user, "user"),
            ("Role", found.rbac_role, "role"),
            ("IAM identity", found.iam_identity, "iam-identity"),
        )
        details = "".join(
            f"<dt>{escape(label)}</dt><dd id='{anchor}'>{escape(value)}</dd>"
            for label, value, anchor in rows
        )
        return _page(
            f"Airflow — {self.environment}",
            f"<h1>Airflow — {escape(self.environment)}</h1><dl>{details}</dl>"
            f"<p><a id='logout' href='{escape(self.paths.logout)}'>Log out</a></p>",
        )


def redeem_over_http(aws_url: str, region: str, account: str) -> Redeemer:
    """Redeem at devstack's MWAA (its devstack-only route; see devstack/mwaa/responses.py)."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = Credentials("devstack", "devstack")

    def redeem(environment: str, token: str) -> tuple[int, dict[str, Any]]:
        url = f"{aws_url}/devstack/webtoken/{quote(environment, safe='')}/redeem"
        body = json.dumps({"WebToken": token, "Region": region, "AccountId": account})
        signed = AWSRequest("POST", url, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(credentials, "airflow", region).add_auth(signed)  # moto routes by signature
        answer = requests.post(url, data=body, headers=dict(signed.headers), timeout=10)
        try:
            body = answer.json()
        except ValueError:
            body = {}
        return answer.status_code, body if isinstance(body, dict) else {}

    return redeem
