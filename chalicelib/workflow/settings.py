"""What the workflow steps need from the stage (environment variables of `.chalice/config.json`).

Read when a step needs them, so a public environment onboards without any ALB setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from chalicelib import oidc

from .errors import ConfigurationError

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


DEFAULT_RECONCILE_MINUTES = 15


def reconcile_minutes() -> int:
    """`RECONCILE_RATE_MINUTES` (1-1440, default 15): how often the reconciler runs. Read when
    the app is imported, which is when `chalice deploy` writes the schedule: `make deploy`
    exports the stage's value for it."""
    raw = os.environ.get("RECONCILE_RATE_MINUTES", "").strip()
    try:
        minutes = int(raw) if raw else DEFAULT_RECONCILE_MINUTES
    except ValueError as error:
        raise ConfigurationError("RECONCILE_RATE_MINUTES must be a whole number") from error
    if not 1 <= minutes <= 1440:
        raise ConfigurationError("RECONCILE_RATE_MINUTES must be between 1 and 1440")
    return minutes


def oidc_variables() -> dict[str, str]:
    """The stage's sign-in settings (`ALB_AUTH_ACTION` and the chosen action's `OIDC_*` or
    `COGNITO_*`), checked: any problem is a configuration error naming it."""
    found = oidc.problems(os.environ)
    if found:
        raise ConfigurationError("the stage's sign-in settings are wrong: " + "; ".join(found))
    return {name: value for name, value in os.environ.items() if name.startswith(oidc.PREFIXES)}
