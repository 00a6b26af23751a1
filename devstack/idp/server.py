"""The dev IdP's HTTP side: a Flask app around Authlib's authorization server.

Authlib does the protocol (request validation, codes, client authentication, bearer tokens,
ID tokens with `nonce` and `at_hash`, RP-initiated logout); this module keeps state in memory
and draws the sign-in page. Hosts: the browser uses `http://idp.localhost:<port>`; servers (the
local ALB front) reach the same endpoints at `http://127.0.0.1:<port>`.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common import security
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, Response, jsonify, make_response, redirect, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

from . import pages
from .models import AuthorizationCode, Client, Token, User

SESSION_COOKIE = "devidp_session"
TOKEN_SECONDS = 3600
MAX_FIELD = 256
MAX_GROUPS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _loopback_names_are_secure() -> None:
    """Authlib refuses plain http except for `localhost` and loopback addresses (RFC 8252);
    `*.localhost` names are loopback too (RFC 6761 §6.3), and they are what the local stack
    uses. Widen Authlib's transport check by exactly that, nothing else (no
    AUTHLIB_INSECURE_TRANSPORT)."""
    from authlib.oauth2.rfc6749 import errors

    original = security.is_secure_transport
    if getattr(errors.is_secure_transport, "devstack", False):
        return

    def is_secure_transport(uri: str) -> bool:
        try:
            parts = urlsplit(uri)
        except ValueError:
            return False
        host = (parts.hostname or "").lower()
        if parts.scheme == "http" and host.endswith(".localhost"):
            return True
        return bool(original(uri))

    is_secure_transport.devstack = True  # type: ignore[attr-defined]
    errors.is_secure_transport = is_secure_transport


_loopback_names_are_secure()


def _groups(raw: str) -> tuple[str, ...]:
    groups = tuple(g.strip() for g in raw.split(",") if g.strip())
    if len(groups) > MAX_GROUPS or any(len(g) > MAX_FIELD for g in groups):
        raise ValueError(f"at most {MAX_GROUPS} groups of {MAX_FIELD} characters")
    return groups


def user_from_form(form: Any) -> User:
    email = (form.get("email") or "").strip()
    name = (form.get("name") or "").strip()
    if not email or "@" not in email or len(email) > MAX_FIELD:
        raise ValueError("an email address is needed")
    if len(name) > MAX_FIELD or _CONTROL.search(email + name + (form.get("groups") or "")):
        raise ValueError("names hold no control characters and at most 256 characters")
    return User(email=email, name=name, groups=_groups(form.get("groups") or ""))


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # URLs carry codes and state
        return None


class IdentityProvider:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri_pattern: str,
        post_logout_pattern: str,
        local_url: Callable[[str], str] = lambda url: url,
        presets: Iterable[User] = (),
        port: int = 0,
        browser_host: str = "idp.localhost",
        groups_attribute: str | None = None,
    ):
        self.presets = list(presets)
        self.local_url = local_url
        self.client = Client(
            client_id,
            client_secret,
            re.compile(redirect_uri_pattern),
            re.compile(post_logout_pattern),
        )
        self.clients = {client_id: self.client}
        # As a Cognito user pool federating SAML answers: the groups in a custom attribute,
        # one string `[a, b]`, instead of a `groups` list.
        self.groups_attribute = groups_attribute
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, Token] = {}
        self.sessions: dict[str, User] = {}
        self._forms: dict[str, float] = {}  # csrf token → when the page was drawn
        self.pages_shown = 0  # sign-in pages drawn (tests: "no second visit")
        self.sign_ins = 0
        self._lock = threading.Lock()
        self.app = self._app()
        self._server = make_server(
            "127.0.0.1", port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self.issuer = f"http://{browser_host}:{self.port}"
        self.local_base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> IdentityProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Another relying party with the same redirect and logout rules (a user pool's app
        client, whose id and secret Cognito made)."""
        with self._lock:
            self.clients[client_id] = Client(
                client_id,
                client_secret,
                self.client.redirect_uri_pattern,
                self.client.post_logout_pattern,
            )

    def user_info(self, user: User) -> dict[str, Any]:
        claims = user.claims()
        if self.groups_attribute:
            claims[self.groups_attribute] = "[" + ", ".join(claims.pop("groups")) + "]"
        return claims

    def endpoints(self) -> dict[str, str]:
        """Where each party reaches the IdP: the browser by name, servers by address."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.local_base}/token",
            "userinfo_endpoint": f"{self.local_base}/userinfo",
            "jwks_uri": f"{self.local_base}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
        }

    # --- the Flask app -----------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("devstack-idp")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": TOKEN_SECONDS}
        idp = self

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

            def save_authorization_code(self, code: str, req: Any) -> None:
                idp.codes[code] = AuthorizationCode(
                    code=code,
                    client_id=req.client.client_id,
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.scope,
                    user=req.user,
                    nonce=req.payload.data.get("nonce"),
                    auth_time=int(time.time()),
                )

            def query_authorization_code(self, code: str, client: Client) -> Any:
                item = idp.codes.get(code)
                if item and item.client_id == client.client_id and not item.is_expired():
                    return item
                return None

            def delete_authorization_code(self, item: AuthorizationCode) -> None:
                idp.codes.pop(item.code, None)

            def authenticate_user(self, item: AuthorizationCode) -> User:
                return item.user

        class IdToken(OpenIDCode):
            def resolve_client_private_key(self, client: Client) -> Any:
                return idp.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": idp.issuer, "aud": [client.client_id]}

            def get_encode_header(self, client: Client) -> dict[str, Any]:
                return {"alg": "RS256", "kid": idp.key.kid}

            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(c.nonce == nonce for c in idp.codes.values())

            def generate_user_info(self, user: User, scope: str) -> UserInfo:
                return UserInfo(idp.user_info(user))

        def save_token(token: dict[str, Any], req: Any) -> None:
            idp.tokens[token["access_token"]] = Token(
                access_token=token["access_token"],
                client=req.client,
                user=req.user,
                scope=token.get("scope", ""),
                expires_in=int(token.get("expires_in", TOKEN_SECONDS)),
            )

        server = AuthorizationServer(
            app,
            query_client=idp.clients.get,
            save_token=save_token,
        )
        server.register_grant(CodeGrant, [IdToken(require_nonce=False)])

        class Bearer(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> Token | None:
                return idp.tokens.get(token_string)

        protector = ResourceProtector()
        protector.register_token_validator(Bearer())

        class UserInfoAnswer(UserInfoEndpoint):
            def get_issuer(self) -> str:
                return idp.issuer

            def generate_user_info(self, user: User, scope: str) -> UserInfo:
                return UserInfo(idp.user_info(user))

        server.register_endpoint(UserInfoAnswer(resource_protector=protector))

        class EndSession(EndSessionEndpoint):
            def get_server_jwks(self) -> KeySet:
                return KeySet([idp.key])

            def _is_valid_post_logout_redirect_uri(self, client: Client, uri: str) -> bool:
                return bool(client.post_logout_pattern.fullmatch(uri))

            def is_post_logout_redirect_uri_legitimate(self, *args: Any) -> bool:
                return True  # the client is named and the address matches its pattern

            def end_session(self, end_session_request: Any) -> None:
                idp._end_session()

        server.register_endpoint(EndSession)

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(
                {
                    **idp.endpoints(),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "email", "profile"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_basic",
                        "client_secret_post",
                    ],
                    "claims_supported": ["sub", "email", "email_verified", "name", "groups"],
                }
            )

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify({"keys": [idp.key.as_dict(private=False)]})

        @app.route("/authorize", methods=["GET", "POST"])
        @app.route("/oauth2/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            user = idp._session_user()
            if request.method == "POST":
                if not idp._take_form(request.form.get("csrf", "")):
                    return make_response(pages.error("The sign-in form expired; try again."), 400)
                try:
                    user = user_from_form(request.form)
                except ValueError as error:
                    return make_response(pages.error(str(error)), 400)
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return make_response(pages.error(error.description or error.error), 400)
            if request.method == "POST":
                answer = server.create_authorization_response(grant_user=user, grant=grant)
                idp._open_session(answer, user)
                return answer
            if user is not None and request.args.get("prompt") != "login":
                return server.create_authorization_response(grant_user=user, grant=grant)
            idp.pages_shown += 1
            action = f"{request.path}?{urlencode(list(request.args.items(multi=True)))}"
            page = pages.sign_in(action, idp._new_form(), idp.presets, idp.client.client_id)
            answer = make_response(page)
            answer.headers["Cache-Control"] = "no-store"
            return answer

        @app.post("/token")
        @app.post("/oauth2/token")
        def token() -> Any:
            return server.create_token_response()

        @app.route("/userinfo", methods=["GET", "POST"])
        @app.route("/oauth2/userInfo", methods=["GET", "POST"])
        def userinfo() -> Any:
            return server.create_endpoint_response("userinfo")

        @app.route("/logout", methods=["GET", "POST"])
        def logout() -> Any:
            cognito_return = request.args.get("logout_uri")
            if cognito_return is not None:  # Cognito's form: client_id + logout_uri
                idp._end_session()
                client = idp.clients.get(request.args.get("client_id", ""))
                if client is not None and client.post_logout_pattern.fullmatch(cognito_return):
                    return idp._clear_cookie(redirect(idp.local_url(cognito_return), 302))
                return idp._clear_cookie(make_response(pages.signed_out()))
            try:
                checked = server.validate_endpoint_request("end_session")
            except OAuth2Error:
                idp._end_session()
                return idp._clear_cookie(make_response(pages.signed_out()))
            answer = server.create_endpoint_response("end_session", checked)
            if answer is None or answer.status_code != 302:
                return idp._clear_cookie(make_response(pages.signed_out()))
            target = idp.local_url(answer.headers["Location"])
            return idp._clear_cookie(redirect(target, 302))

        return app

    # --- IdP session and forms ---------------------------------------------------------------

    def _session_user(self) -> User | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    def _open_session(self, answer: Response, user: User) -> None:
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self.sessions[sid] = user
            self.sign_ins += 1
        answer.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="Lax", path="/")

    def _end_session(self) -> None:
        with self._lock:
            self.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)

    @staticmethod
    def _clear_cookie(answer: Response) -> Response:
        answer.delete_cookie(SESSION_COOKIE, path="/")
        return answer

    def _new_form(self) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            now = time.time()
            self._forms = {k: t for k, t in self._forms.items() if now - t < 600}
            self._forms[token] = now
        return token

    def _take_form(self, token: str) -> bool:
        with self._lock:
            return self._forms.pop(token, None) is not None
