"""CloudWatch log groups of every Lambda function of the stage, with a retention.

Lambda makes `/aws/lambda/<function>` at the first invocation, without a retention (logs kept
forever). Setup makes them beforehand — for the functions `chalice deploy` made and authX —
with `LOG_RETENTION_DAYS` (default 90) and the deployment tag, and puts the retention back on
a group that lost it. Destroy leaves them (they hold the audit trail); they expire on their own.
"""

from __future__ import annotations

from typing import Any

from .config import StageConfig
from .report import CREATE, UNCHANGED, UPDATE, Report

KIND = "log-group"


def name_of(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def function_names(cfg: StageConfig, authx_function: str) -> list[str]:
    """The Lambda functions of the stage: Chalice's (from their ARNs) and authX."""
    names = {arn.rsplit(":", 1)[-1] for arn in cfg.function_arns.values()}
    return sorted(names | {authx_function})


def _existing(logs: Any, prefix: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        for group in page.get("logGroups", []):
            found[group["logGroupName"]] = group
    return found


def ensure(logs: Any, report: Report, cfg: StageConfig, functions: list[str]) -> None:
    days = cfg.log_retention_days
    existing = _existing(logs, "/aws/lambda/")
    for function in functions:
        name = name_of(function)
        group = existing.get(name)
        if group is None:
            if not report.plan:
                logs.create_log_group(logGroupName=name, tags=dict(cfg.tag))
                logs.put_retention_policy(logGroupName=name, retentionInDays=days)
            report.add(CREATE, KIND, name, f"retention {days} days")
            continue
        if group.get("retentionInDays") == days:
            report.add(UNCHANGED, KIND, name)
            continue
        if not report.plan:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)
        was = group.get("retentionInDays") or "never expire"
        report.add(UPDATE, KIND, name, f"retention {was} → {days} days")
