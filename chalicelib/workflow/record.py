"""The environment record as the workflow sees it: owned by one execution, written conditionally."""

from __future__ import annotations

from typing import Any

from chalicelib.records import clock, environments_repo

from . import settings
from .errors import WrongExecution, aws_call


def load(name: str) -> dict[str, Any]:
    with aws_call("dynamodb:GetItem"):
        record = environments_repo.get(settings.environments_table(), name)
    if record is None or record.get(environments_repo.CLAIM_OF):
        raise WrongExecution(f"there is no record for environment {name}")
    return record


def owned(name: str, execution: str) -> dict[str, Any]:
    """The record, if this execution is the one it names (a stale execution must not act)."""
    record = load(name)
    if record.get("execution_arn") != execution:
        raise WrongExecution(
            f"environment {name} is now handled by {record.get('execution_arn')}, not {execution}"
        )
    return record


def save(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Write `changes` if nobody else wrote since `record` was read; the new record."""
    changes["updated_at"] = clock.iso()
    try:
        with aws_call("dynamodb:UpdateItem"):
            return environments_repo.update(
                settings.environments_table(), record["name"], int(record["version"]), changes
            )
    except environments_repo.RecordChanged as error:
        raise WrongExecution(
            f"the record of {record['name']} changed while its workflow was running"
        ) from error


def others(name: str) -> list[dict[str, Any]]:
    """Every environment record but `name`'s."""
    with aws_call("dynamodb:Scan"):
        records = environments_repo.all_records(settings.environments_table())
    return [other for other in records if other.get("name") != name]


def created(record: dict[str, Any]) -> dict[str, Any]:
    return dict(record.get("created") or {})


def remember(record: dict[str, Any], **items: Any) -> dict[str, Any]:
    """Note resources this service made, for compensation and offboarding."""
    return save(record, created={**created(record), **items})
