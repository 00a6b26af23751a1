"""What the workflow steps need from the stage (environment variables of `.chalice/config.json`).

Read when a step needs them, so a public environment onboards without any ALB setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ConfigurationError

TAG_PREFIX = "mwaa-gate:"
# ELBv2: at most 100 target groups per ALB (not adjustable); the authX Lambda takes one.
MAX_PRIVATE_ENVIRONMENTS = 99


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"the stage setting {name} is not set")
    return value


def environments_table() -> str:
    return _required("ENVIRONMENTS_TABLE")


def deployment() -> str:
    """Tag value naming this deployment, so that two stages in one account never mix."""
    return os.environ.get("DEPLOYMENT_NAME", "").strip() or "mwaa-gate"


@dataclass(frozen=True)
class Oidc:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    user_info_endpoint: str
    client_id: str
    client_secret_arn: str
    scope: str
    session_timeout: int


@dataclass(frozen=True)
class Alb:
    listener_arn: str
    base_domain: str
    max_private_environments: int


def alb() -> Alb:
    raw_max = os.environ.get("ALB_MAX_PRIVATE_ENVIRONMENTS", "").strip()
    try:
        maximum = int(raw_max) if raw_max else MAX_PRIVATE_ENVIRONMENTS
    except ValueError as error:
        raise ConfigurationError("ALB_MAX_PRIVATE_ENVIRONMENTS must be a number") from error
    if not 1 <= maximum <= MAX_PRIVATE_ENVIRONMENTS:
        raise ConfigurationError(
            f"ALB_MAX_PRIVATE_ENVIRONMENTS must be between 1 and {MAX_PRIVATE_ENVIRONMENTS}"
        )
    return Alb(
        listener_arn=_required("ALB_LISTENER_ARN"),
        base_domain=_required("BASE_DOMAIN").strip(".").lower(),
        max_private_environments=maximum,
    )


def oidc() -> Oidc:
    timeout = os.environ.get("OIDC_SESSION_TIMEOUT", "").strip() or "28800"
    return Oidc(
        issuer=_required("OIDC_ISSUER"),
        authorization_endpoint=_required("OIDC_AUTHORIZATION_ENDPOINT"),
        token_endpoint=_required("OIDC_TOKEN_ENDPOINT"),
        user_info_endpoint=_required("OIDC_USER_INFO_ENDPOINT"),
        client_id=_required("OIDC_CLIENT_ID"),
        client_secret_arn=_required("OIDC_CLIENT_SECRET_ARN"),
        scope=os.environ.get("OIDC_SCOPE", "").strip() or "openid email profile",
        session_timeout=int(timeout),
    )
