"""The ALB's authenticate-oidc action, as the platform rules and each environment's rules use it.

Settings come from the stage's variables (`OIDC_*`); the client secret from Secrets Manager,
read when a rule is written and passed nowhere else (never logged, never stored).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SESSION_COOKIE = "AWSELBAuthSessionCookie"  # authX expires its shards at logout
DEFAULT_SCOPE = "openid email profile"
DEFAULT_SESSION_TIMEOUT = 28800
REQUIRED = (
    "OIDC_ISSUER",
    "OIDC_AUTHORIZATION_ENDPOINT",
    "OIDC_TOKEN_ENDPOINT",
    "OIDC_USER_INFO_ENDPOINT",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET_ARN",
)


def _value(variables: Mapping[str, str], name: str, default: str = "") -> str:
    return (variables.get(name) or "").strip() or default


def missing(variables: Mapping[str, str]) -> list[str]:
    return [name for name in REQUIRED if not _value(variables, name)]


def authenticate_config(variables: Mapping[str, str]) -> dict[str, Any]:
    """`AuthenticateOidcConfig` without the client secret."""
    return {
        "Issuer": _value(variables, "OIDC_ISSUER"),
        "AuthorizationEndpoint": _value(variables, "OIDC_AUTHORIZATION_ENDPOINT"),
        "TokenEndpoint": _value(variables, "OIDC_TOKEN_ENDPOINT"),
        "UserInfoEndpoint": _value(variables, "OIDC_USER_INFO_ENDPOINT"),
        "ClientId": _value(variables, "OIDC_CLIENT_ID"),
        "SessionCookieName": SESSION_COOKIE,
        "Scope": _value(variables, "OIDC_SCOPE", DEFAULT_SCOPE),
        "SessionTimeout": int(
            _value(variables, "OIDC_SESSION_TIMEOUT", str(DEFAULT_SESSION_TIMEOUT))
        ),
        "OnUnauthenticatedRequest": "authenticate",
    }


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
