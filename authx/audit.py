"""One structured audit line and one metric per decision.

The line holds only the fields listed in `Decision` — who, which environment, asked and
granted role, allow or deny and why, how long it took — never a token, a web token or a
credential: nothing else is ever put on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "mwaa-gate-authx"
DEFAULT_NAMESPACE = "mwaa-gate"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)


@dataclass
class Decision:
    """What the audit line says about one request; filled in as the request is handled."""

    action: str = "unknown"
    method: str = ""
    path: str = ""
    user: str | None = None
    groups_count: int | None = None
    environment: str | None = None
    asked_role: str | None = None
    granted_role: str | None = None
    decision: str = "deny"
    reason: str = ""
    status: int = 0
    aws_error: str | None = None
    latency_ms: float = 0.0


def _metric(decision: Decision) -> None:
    name = {"login": "Login", "logout": "Logout", "portal": "Portal"}.get(
        decision.action, "Request"
    )
    name += "Allowed" if decision.decision == "allow" else "Denied"
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=namespace) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name="reason", value=decision.reason or "ok")


def loggable(value: object) -> object:
    """A request-supplied string the log can always write (lone surrogates shown escaped)."""
    if isinstance(value, str) and not value.isascii():
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [loggable(item) for item in value]
    return value


def emit(decision: Decision) -> None:
    """Write the audit line and count the decision."""
    # vars(), not dataclasses.asdict(): every field is a plain value, nothing to deep-copy.
    fields = {name: loggable(value) for name, value in vars(decision).items() if value is not None}
    if decision.decision == "allow":
        logger.info("authx decision", extra={"audit": fields})
    else:
        logger.warning("authx decision", extra={"audit": fields})
    _metric(decision)
