"""The ALB's sign-in action, as the platform rules and each environment's rules use it.

The stage chooses it with `ALB_AUTH_ACTION`:

- `authenticate-oidc` (the default): any OpenID Connect IdP, settings `OIDC_*`; the client
  secret comes from Secrets Manager, read when a rule is written and passed nowhere else (never
  logged, never stored).
- `authenticate-cognito`: a Cognito user pool (which may federate a SAML IdP), settings
  `COGNITO_USER_POOL_ARN`, `COGNITO_USER_POOL_CLIENT_ID`, `COGNITO_USER_POOL_DOMAIN` (prefix or
  full domain) and `COGNITO_SCOPE` (default `openid`: the user info then holds every attribute
  the app client may read). The ALB reads the app client's secret itself.

Both take `OIDC_SESSION_TIMEOUT` (seconds) and use the session cookie authX expires at logout.
`authenticate_action` builds the action; `problems` checks the settings for it; `logout_url`
is Cognito's `/logout` (authX's `IDP_LOGOUT_URL` when Cognito signs users in).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

SESSION_COOKIE = "AWSELBAuthSessionCookie"  # authX expires its shards at logout
DEFAULT_SCOPE = "openid email profile"
DEFAULT_COGNITO_SCOPE = "openid"
DEFAULT_SESSION_TIMEOUT = 28800
MAX_SESSION_TIMEOUT = 604800  # the ALB's limit (7 days)

OIDC = "authenticate-oidc"
COGNITO = "authenticate-cognito"
ACTIONS = (OIDC, COGNITO)
ACTION_VARIABLE = "ALB_AUTH_ACTION"
CONFIG_KEYS = {OIDC: "AuthenticateOidcConfig", COGNITO: "AuthenticateCognitoConfig"}
SECRET_KEYS = ("ClientSecret", "UseExistingClientSecret")

REQUIRED = {
    OIDC: (
        "OIDC_ISSUER",
        "OIDC_AUTHORIZATION_ENDPOINT",
        "OIDC_TOKEN_ENDPOINT",
        "OIDC_USER_INFO_ENDPOINT",
        "OIDC_CLIENT_ID",
        "OIDC_CLIENT_SECRET_ARN",
    ),
    COGNITO: (
        "COGNITO_USER_POOL_ARN",
        "COGNITO_USER_POOL_CLIENT_ID",
        "COGNITO_USER_POOL_DOMAIN",
    ),
}
# The prefix of every variable a sign-in action may read (the workflow passes these on).
PREFIXES = ("OIDC_", "COGNITO_", ACTION_VARIABLE)

USER_POOL_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):cognito-idp:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):userpool/(?P=region)_[0-9A-Za-z]{1,55}"
)
# A Cognito domain prefix: lower-case letters, digits and hyphens; or a custom domain's name.
DOMAIN_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+")
CLIENT_ID = re.compile(r"[\w+]{1,128}")


def _value(variables: Mapping[str, str], name: str, default: str = "") -> str:
    return (variables.get(name) or "").strip() or default


def action_type(variables: Mapping[str, str]) -> str:
    """The chosen action (`authenticate-oidc` unless set); an unknown choice is a ValueError."""
    chosen = _value(variables, ACTION_VARIABLE, OIDC).lower()
    if chosen not in ACTIONS:
        raise ValueError(f"{ACTION_VARIABLE} must be {' or '.join(ACTIONS)}, not {chosen!r}")
    return chosen


def missing(variables: Mapping[str, str]) -> list[str]:
    """The required settings of the chosen action that are not set."""
    return [name for name in REQUIRED[action_type(variables)] if not _value(variables, name)]


def problems(variables: Mapping[str, str]) -> list[str]:
    """Everything wrong with the sign-in settings, each said plainly (empty when all is well)."""
    try:
        chosen = action_type(variables)
    except ValueError as error:
        return [str(error)]
    found = [f"{name} is not set" for name in missing(variables)]
    timeout = _value(variables, "OIDC_SESSION_TIMEOUT", str(DEFAULT_SESSION_TIMEOUT))
    if not (timeout.isascii() and timeout.isdigit() and 1 <= int(timeout) <= MAX_SESSION_TIMEOUT):
        found.append(f"OIDC_SESSION_TIMEOUT must be 1-{MAX_SESSION_TIMEOUT} seconds")
    if chosen == COGNITO:
        arn = _value(variables, "COGNITO_USER_POOL_ARN")
        if arn and not USER_POOL_ARN.fullmatch(arn):
            found.append("COGNITO_USER_POOL_ARN is not a Cognito user pool ARN")
        domain = _value(variables, "COGNITO_USER_POOL_DOMAIN")
        if domain and not (DOMAIN_PREFIX.fullmatch(domain) or DOMAIN_NAME.fullmatch(domain)):
            found.append(
                "COGNITO_USER_POOL_DOMAIN must be the user pool's domain prefix or custom domain"
            )
        client = _value(variables, "COGNITO_USER_POOL_CLIENT_ID")
        if client and not CLIENT_ID.fullmatch(client):
            found.append("COGNITO_USER_POOL_CLIENT_ID is not an app client id")
    return found


def needs_client_secret(variables: Mapping[str, str]) -> bool:
    """Whether writing a rule needs the OIDC client secret (Cognito's the ALB reads itself)."""
    return action_type(variables) == OIDC


def _session_timeout(variables: Mapping[str, str]) -> int:
    return int(_value(variables, "OIDC_SESSION_TIMEOUT", str(DEFAULT_SESSION_TIMEOUT)))


def authenticate_config(variables: Mapping[str, str]) -> dict[str, Any]:
    """The chosen action's config (`AuthenticateOidcConfig` without the client secret, or
    `AuthenticateCognitoConfig`)."""
    common = {
        "SessionCookieName": SESSION_COOKIE,
        "SessionTimeout": _session_timeout(variables),
        "OnUnauthenticatedRequest": "authenticate",
    }
    if action_type(variables) == COGNITO:
        return {
            "UserPoolArn": _value(variables, "COGNITO_USER_POOL_ARN"),
            "UserPoolClientId": _value(variables, "COGNITO_USER_POOL_CLIENT_ID"),
            "UserPoolDomain": _value(variables, "COGNITO_USER_POOL_DOMAIN"),
            "Scope": _value(variables, "COGNITO_SCOPE", DEFAULT_COGNITO_SCOPE),
            **common,
        }
    return {
        "Issuer": _value(variables, "OIDC_ISSUER"),
        "AuthorizationEndpoint": _value(variables, "OIDC_AUTHORIZATION_ENDPOINT"),
        "TokenEndpoint": _value(variables, "OIDC_TOKEN_ENDPOINT"),
        "UserInfoEndpoint": _value(variables, "OIDC_USER_INFO_ENDPOINT"),
        "ClientId": _value(variables, "OIDC_CLIENT_ID"),
        "Scope": _value(variables, "OIDC_SCOPE", DEFAULT_SCOPE),
        **common,
    }


def authenticate_action(
    variables: Mapping[str, str], client_secret: str | None = None, order: int = 1
) -> dict[str, Any]:
    """The listener rule action that signs users in, as the stage chose it.

    `client_secret` is added for `authenticate-oidc` when given (CreateRule needs it; a
    comparison with DescribeRules, which never returns it, does not).
    """
    chosen = action_type(variables)
    config = authenticate_config(variables)
    if chosen == OIDC and client_secret is not None:
        config["ClientSecret"] = client_secret
    return {"Type": chosen, "Order": order, CONFIG_KEYS[chosen]: config}


def comparable(action: Mapping[str, Any]) -> tuple[Any, ...]:
    """An authenticate action as DescribeRules shows it, without the secret: for comparisons."""
    config = action.get(CONFIG_KEYS.get(action.get("Type", ""), ""), {}) or {}
    settings = tuple(
        sorted(
            (key, str(value))
            for key, value in config.items()
            if key not in SECRET_KEYS and key != "AuthenticationRequestExtraParams"
        )
    )
    return (action.get("Type"), settings)


def cognito_domain(variables: Mapping[str, str]) -> str:
    """The user pool's sign-in host: `<prefix>.auth.<region>.amazoncognito.com` or the custom
    domain as it is."""
    domain = _value(variables, "COGNITO_USER_POOL_DOMAIN")
    if "." in domain:
        return domain
    match = USER_POOL_ARN.fullmatch(_value(variables, "COGNITO_USER_POOL_ARN"))
    if match is None:
        raise ValueError("COGNITO_USER_POOL_ARN is not a Cognito user pool ARN")
    return f"{domain}.auth.{match['region']}.amazoncognito.com"


def token_origin(variables: Mapping[str, str]) -> tuple[str, str]:
    """The `iss` and `client` the ALB writes into its token's header for the chosen action:
    the OIDC issuer and client id, or the user pool's issuer URL and app client id. authX
    refuses tokens of any other sign-in action on the same load balancer."""
    if action_type(variables) == COGNITO:
        match = USER_POOL_ARN.fullmatch(_value(variables, "COGNITO_USER_POOL_ARN"))
        if match is None:
            raise ValueError("COGNITO_USER_POOL_ARN is not a Cognito user pool ARN")
        pool_id = match.group(0).rsplit("/", 1)[1]
        issuer = f"https://cognito-idp.{match['region']}.amazonaws.com/{pool_id}"
        return issuer, _value(variables, "COGNITO_USER_POOL_CLIENT_ID")
    return _value(variables, "OIDC_ISSUER"), _value(variables, "OIDC_CLIENT_ID")


def logout_url(variables: Mapping[str, str], close_url: str) -> str | None:
    """Cognito's sign-out endpoint, back to `close_url` (which must be one of the app client's
    allowed sign-out URLs); None for `authenticate-oidc` (its logout URL is a setting)."""
    if action_type(variables) != COGNITO:
        return None
    client = quote(_value(variables, "COGNITO_USER_POOL_CLIENT_ID"), safe="")
    return (
        f"https://{cognito_domain(variables)}/logout"
        f"?client_id={client}&logout_uri={quote(close_url, safe='')}"
    )


def client_secret(secretsmanager: Any, secret_arn: str) -> str:
    """The secret's value, or its `client_secret` member when it is JSON."""
    value = secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"]
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, dict) and isinstance(parsed.get("client_secret"), str):
        return parsed["client_secret"]
    return value
