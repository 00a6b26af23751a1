"""Structured audit events: who changed what, before and after (DESIGN §3)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from . import mwaa_model

logger = Logger(service="mwaa-gate")


def redact(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a record safe to log: what the MWAA model marks sensitive is redacted."""
    if record is None:
        return None
    safe = dict(record)
    if "create" in safe:
        safe["create"] = mwaa_model.redacted(safe["create"])
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
