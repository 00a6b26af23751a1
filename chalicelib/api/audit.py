"""Structured audit events: who changed what, before and after (DESIGN §3)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="mwaa-gate")

REDACTED = "***"
# Members of the MWAA CreateEnvironment input that botocore marks sensitive (their values may
# hold secrets); their values never reach a log line.
SENSITIVE_CREATE_MEMBERS = ("AirflowConfigurationOptions",)


def redact(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a record safe to log: sensitive MWAA parameters replaced by their keys only."""
    if record is None:
        return None
    safe = dict(record)
    create = safe.get("create")
    if isinstance(create, dict):
        create = dict(create)
        for member in SENSITIVE_CREATE_MEMBERS:
            if isinstance(create.get(member), dict):
                create[member] = dict.fromkeys(create[member], REDACTED)
        safe["create"] = create
    return safe


def event(
    action: str,
    *,
    actor: str,
    target: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    **details: Any,
) -> None:
    """Log one change. `action` is e.g. `environment.onboard`, `grant.revoke`."""
    logger.info(
        "audit",
        extra={
            "audit": {
                "action": action,
                "actor": actor,
                "target": target,
                "before": redact(before),
                "after": redact(after),
                **details,
            }
        },
    )
