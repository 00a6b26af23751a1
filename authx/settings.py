"""authX configuration: the environment variables of DESIGN §5, read and checked in one place.

Settings are re-read only when one of those variables changes (cheap to compare), so a warm
container pays nothing per request and tests that change the environment get fresh settings.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authx import airflow_paths
from authx.errors import Misconfigured
from authx.roles import canonical_role
from authx.token_roles import RbacRole, check_pattern

_VARIABLES = (
    "GRANTS_TABLE",
    "ENVIRONMENTS_TABLE",
    "ALB_ARNS",
    "ALB_PUBLIC_KEY_URL",
    "ALB_TOKEN_ISSUERS",
    "ALB_TOKEN_CLIENT_IDS",
    "RBAC_ROLE_ARNS",
    "RBAC_ROLE_ARN_PATTERN",
    "USER_CLAIM",
    "GROUPS_CLAIM",
    "IDP_LOGOUT_URL",
    "ALB_COOKIE_NAME",
    "REQUIRE_VERIFIED_EMAIL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    airflow_paths.ENV_VARIABLE,
)

# arn:<partition>:iam::<account>:role/<path/>name
_ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$", re.ASCII)
# RFC 6265 cookie-name token characters (no separators, no spaces, no controls).
_COOKIE_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# devstack's ALB key service runs on this machine; anywhere else the key URL must be https.
_LOOPBACK_HTTP = re.compile(
    r"http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?(/|\Z)", re.ASCII
)


@dataclass(frozen=True)
class Settings:
    grants_table: str
    environments_table: str
    alb_arns: frozenset[str]
    public_key_url: str
    rbac_roles: Mapping[str, RbacRole]
    user_claim: str
    groups_claim: str
    idp_logout_url: str | None
    cookie_name: str
    region: str
    airflow_paths: Mapping[int, airflow_paths.Paths] = field(
        default_factory=lambda: dict(airflow_paths.DEFAULTS)
    )
    require_verified_email: bool = True
    # One ARN pattern for the token roles of every account (DESIGN §4); see token_roles.py.
    rbac_role_pattern: str | None = None
    # The sign-in action's IdP issuer and app client (ALB_TOKEN_ISSUERS, ALB_TOKEN_CLIENT_IDS):
    # a token from another authenticate rule of the same load balancer is refused. Empty: any.
    token_issuers: frozenset[str] = frozenset()
    token_clients: frozenset[str] = frozenset()


def _names(environ: Mapping[str, str], name: str) -> frozenset[str]:
    """A comma-separated list of exact values (spaces around commas trimmed)."""
    return frozenset(part.strip() for part in environ.get(name, "").split(",") if part.strip())


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise Misconfigured(f"{name} is not set")
    return value


def _rbac_roles(raw: str) -> dict[str, RbacRole]:
    try:
        parsed: Any = json.loads(raw)
    except ValueError as error:
        raise Misconfigured("RBAC_ROLE_ARNS is not JSON") from error
    if not isinstance(parsed, dict) or not parsed:
        raise Misconfigured("RBAC_ROLE_ARNS must be a JSON object of Airflow role to IAM role ARN")
    roles: dict[str, RbacRole] = {}
    for name, arn in parsed.items():
        role = canonical_role(name)
        match = _ROLE_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if role is None or match is None:
            raise Misconfigured(f"RBAC_ROLE_ARNS has a bad entry for {name!r}")
        roles[role] = RbacRole(arn=arn, partition=match.group(1), account=match.group(2))
    return roles


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise Misconfigured(f"{name} must be true or false")
    return raw == "true"


def from_environ(environ: Mapping[str, str]) -> Settings:
    """Build and check the settings; any problem is a `Misconfigured` error (HTTP 500)."""
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
    if not region:
        raise Misconfigured("AWS_REGION is not set")
    alb_arns = frozenset(a.strip() for a in _required(environ, "ALB_ARNS").split(",") if a.strip())
    if not alb_arns:
        raise Misconfigured("ALB_ARNS names no load balancer")
    key_url = environ.get("ALB_PUBLIC_KEY_URL", "").strip() or (
        f"https://public-keys.auth.elb.{region}.amazonaws.com"
    )
    if not key_url.startswith("https://") and not _LOOPBACK_HTTP.match(key_url):
        raise Misconfigured("ALB_PUBLIC_KEY_URL must be an https URL (http only on loopback)")
    cookie_name = environ.get("ALB_COOKIE_NAME", "").strip() or "AWSELBAuthSessionCookie"
    if not _COOKIE_NAME.fullmatch(cookie_name):
        raise Misconfigured("ALB_COOKIE_NAME is not a valid cookie name")
    try:
        paths = airflow_paths.parse(environ.get(airflow_paths.ENV_VARIABLE))
    except airflow_paths.AirflowPathsError as error:
        raise Misconfigured(str(error)) from error
    idp_logout_url = environ.get("IDP_LOGOUT_URL", "").strip() or None
    if idp_logout_url is not None and not idp_logout_url.startswith("https://"):
        raise Misconfigured("IDP_LOGOUT_URL must be an https URL")
    pattern = environ.get("RBAC_ROLE_ARN_PATTERN", "").strip()
    raw_roles = environ.get("RBAC_ROLE_ARNS", "").strip()
    if not pattern and not raw_roles:
        raise Misconfigured("RBAC_ROLE_ARN_PATTERN (or RBAC_ROLE_ARNS) is not set")
    return Settings(
        token_issuers=_names(environ, "ALB_TOKEN_ISSUERS"),
        token_clients=_names(environ, "ALB_TOKEN_CLIENT_IDS"),
        grants_table=_required(environ, "GRANTS_TABLE"),
        environments_table=_required(environ, "ENVIRONMENTS_TABLE"),
        alb_arns=alb_arns,
        public_key_url=key_url.rstrip("/"),
        rbac_roles=_rbac_roles(raw_roles) if raw_roles or not pattern else {},
        user_claim=environ.get("USER_CLAIM", "").strip() or "email",
        groups_claim=environ.get("GROUPS_CLAIM", "").strip() or "groups",
        idp_logout_url=idp_logout_url,
        cookie_name=cookie_name,
        region=region,
        airflow_paths=paths,
        require_verified_email=_flag(environ, "REQUIRE_VERIFIED_EMAIL", default=True),
        rbac_role_pattern=check_pattern(pattern) if pattern else None,
    )


_cache: tuple[tuple[str | None, ...], Settings] | None = None


def current() -> Settings:
    """The settings of the running process, rebuilt only when a variable changed."""
    global _cache
    snapshot = tuple(os.environ.get(name) for name in _VARIABLES)
    if _cache is None or _cache[0] != snapshot:
        _cache = (snapshot, from_environ(os.environ))
    return _cache[1]
