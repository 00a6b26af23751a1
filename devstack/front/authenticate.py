"""The ALB's `authenticate-oidc` and `authenticate-cognito` actions (Authlib's OAuth 2 client).

As AWS documents them:
- a request with a valid session (cookie shards, within `SessionTimeout` of sign-in) goes on
  to the next action with the user's claims;
- without one, `OnUnauthenticatedRequest` decides: `authenticate` (default) → 302 to the IdP's
  authorization endpoint (`response_type=code`, `client_id`, `redirect_uri` =
  `<origin>/oauth2/idpresponse`, `scope`, `state`, `nonce`, plus
  `AuthenticationRequestExtraParams`); `deny` → 401; `allow` → on, without claims;
- `/oauth2/idpresponse` exchanges the code at the token endpoint (client id and secret),
  asks the userinfo endpoint for the claims with the access token, writes the session
  cookies and sends the browser back to the URL it first asked for. An IdP error, or a failed
  exchange, is answered 401 (the IdP said no) or 561 (the IdP could not be used), as the ALB
  does.

Cognito: the endpoints are the user pool domain's `/oauth2/authorize`, `/oauth2/token`,
`/oauth2/userInfo`; a domain devstack serves locally maps to the dev IdP (see Front).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from authlib.integrations.requests_client import OAuth2Session

from . import session as sessions

CALLBACK_PATH = "/oauth2/idpresponse"
STATE_SECONDS = 600  # how long a sign-in may stay at the IdP
DEFAULT_COOKIE = "AWSELBAuthSessionCookie"
DEFAULT_TIMEOUT = 604800  # the ALB's default session timeout: 7 days
IDP_TIMEOUT = 5.0


class Misconfigured(Exception):
    """The action cannot be carried out as configured (a 500 from the ALB)."""


class IdpFailed(Exception):
    """The IdP refused or could not be reached; `status` is what the ALB answers."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    client_id: str
    client_secret: str
    scope: str
    cookie_name: str
    session_timeout: int
    on_unauthenticated: str
    extra_params: Mapping[str, str]


def _timeout(value: Any) -> int:
    try:
        seconds = int(value if value not in (None, "") else DEFAULT_TIMEOUT)
    except (TypeError, ValueError) as error:
        raise Misconfigured("SessionTimeout is not a number") from error
    if not 1 <= seconds <= 604800:
        raise Misconfigured("SessionTimeout must be 1 to 604800 seconds")
    return seconds


def provider(
    action: Mapping[str, Any],
    cognito_client: Callable[[str, str], Mapping[str, Any]],
    cognito_domain_url: Callable[[str, str], str],
    server_side: Callable[[str], str] = lambda url: url,
) -> Provider:
    """The provider an authenticate action names. `cognito_client(pool_arn, client_id)` gives
    the user pool client (its secret); `cognito_domain_url(domain, region)` its base URL as the
    browser reaches it; `server_side(url)` the same URL as the front itself calls it."""
    if action.get("Type") == "authenticate-oidc":
        config = action.get("AuthenticateOidcConfig") or {}
        needed = ("Issuer", "AuthorizationEndpoint", "TokenEndpoint", "UserInfoEndpoint")
        missing = [key for key in (*needed, "ClientId", "ClientSecret") if not config.get(key)]
        if missing:
            raise Misconfigured(f"authenticate-oidc lacks {', '.join(missing)}")
        return Provider(
            issuer=config["Issuer"],
            authorization_endpoint=config["AuthorizationEndpoint"],
            token_endpoint=config["TokenEndpoint"],
            userinfo_endpoint=config["UserInfoEndpoint"],
            client_id=config["ClientId"],
            client_secret=config["ClientSecret"],
            scope=config.get("Scope") or "openid",
            cookie_name=config.get("SessionCookieName") or DEFAULT_COOKIE,
            session_timeout=_timeout(config.get("SessionTimeout")),
            on_unauthenticated=config.get("OnUnauthenticatedRequest") or "authenticate",
            extra_params=dict(config.get("AuthenticationRequestExtraParams") or {}),
        )
    config = action.get("AuthenticateCognitoConfig") or {}
    pool_arn, client_id, domain = (
        config.get("UserPoolArn"),
        config.get("UserPoolClientId"),
        config.get("UserPoolDomain"),
    )
    if not (pool_arn and client_id and domain):
        raise Misconfigured("authenticate-cognito needs UserPoolArn, UserPoolClientId, domain")
    region, pool_id = pool_arn.split(":")[3], pool_arn.rsplit("/", 1)[-1]
    client = cognito_client(pool_arn, client_id)
    base = cognito_domain_url(domain, region)
    return Provider(
        issuer=f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        authorization_endpoint=f"{base}/oauth2/authorize",
        token_endpoint=server_side(f"{base}/oauth2/token"),
        userinfo_endpoint=server_side(f"{base}/oauth2/userInfo"),
        client_id=client_id,
        client_secret=client.get("ClientSecret") or "",
        scope=config.get("Scope") or "openid",
        cookie_name=config.get("SessionCookieName") or DEFAULT_COOKIE,
        session_timeout=_timeout(config.get("SessionTimeout")),
        on_unauthenticated=config.get("OnUnauthenticatedRequest") or "authenticate",
        extra_params=dict(config.get("AuthenticationRequestExtraParams") or {}),
    )


def authorization_redirect(
    sealer: sessions.Sealer,
    idp: Provider,
    rule_arn: str,
    order: int,
    origin: str,
    host: str,
    target: str,
) -> str:
    """Where to send a browser without a session; `state` seals what the callback needs."""
    nonce = secrets.token_urlsafe(24)
    state = sealer.seal(
        {
            "rule": rule_arn,
            "order": order,
            "host": host.lower(),
            "target": target,
            "nonce": nonce,
            "exp": time.time() + STATE_SECONDS,
        },
        "state",
    )
    client = OAuth2Session(idp.client_id, scope=idp.scope, redirect_uri=origin + CALLBACK_PATH)
    url, _ = client.create_authorization_url(
        idp.authorization_endpoint, state=state, nonce=nonce, **dict(idp.extra_params)
    )
    return url


def open_state(sealer: sessions.Sealer, state: str | None, host: str) -> dict[str, Any]:
    opened = sealer.open(state or "", "state")
    if opened is None or opened.get("exp", 0) < time.time():
        raise IdpFailed(401, "The sign-in took too long or did not start here; try again.")
    if opened.get("host") != host.lower():
        raise IdpFailed(401, "The sign-in came back to another address.")
    return opened


def exchange(idp: Provider, code: str, origin: str) -> sessions.Session:
    """Code → tokens → userinfo claims → a session that ends `session_timeout` from now."""
    client = OAuth2Session(
        idp.client_id,
        idp.client_secret,
        scope=idp.scope,
        redirect_uri=origin + CALLBACK_PATH,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
    )
    try:
        token = client.fetch_token(idp.token_endpoint, code=code, timeout=IDP_TIMEOUT)
    except Exception as error:  # Authlib raises OAuthError or a requests error
        raise IdpFailed(561, f"The identity provider's token endpoint failed: {error}") from None
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise IdpFailed(561, "The identity provider returned no access token.")
    try:
        answer = client.get(idp.userinfo_endpoint, timeout=IDP_TIMEOUT)
        claims = answer.json() if answer.status_code == 200 else None
    except Exception:
        claims = None
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
        raise IdpFailed(561, "The identity provider's userinfo endpoint failed.")
    return sessions.Session(
        claims=claims, access_token=access_token, expires_at=time.time() + idp.session_timeout
    )
