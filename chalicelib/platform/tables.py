"""The DynamoDB tables of DESIGN §2 (definitions in chalicelib.schema), hardened for production.

Each table: deletion protection on (a `delete-table` by mistake is refused by DynamoDB) and
point-in-time recovery on (restore to any second of the last 35 days); grants with TTL on
`expires_at`. Observe (DescribeTable, DescribeContinuousBackups, DescribeTimeToLive), plan
the difference, apply only that — or, in a plan, only report it.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib import schema

from .config import StageConfig
from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report

KIND = "dynamodb-table"
PITR = "point-in-time recovery"
PROTECTION = "deletion protection"


def _describe(dynamodb: Any, name: str) -> dict[str, Any] | None:
    try:
        return dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def _exists(dynamodb: Any, name: str) -> bool:
    return _describe(dynamodb, name) is not None


def _pitr_on(dynamodb: Any, name: str) -> bool:
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    return status == "ENABLED"


def _ttl_on(dynamodb: Any, name: str) -> bool:
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and (
        ttl.get("AttributeName") == schema.GRANTS_TTL_ATTRIBUTE
    )


def _plan(dynamodb: Any, name: str, table: dict[str, Any], ttl: bool) -> list[str]:
    """What an existing table lacks."""
    missing = []
    if not table.get("DeletionProtectionEnabled"):
        missing.append(PROTECTION)
    if not _pitr_on(dynamodb, name):
        missing.append(PITR)
    if ttl and not _ttl_on(dynamodb, name):
        missing.append(f"TTL on {schema.GRANTS_TTL_ATTRIBUTE}")
    return missing


def _apply(dynamodb: Any, name: str, missing: list[str]) -> None:
    if PROTECTION in missing:
        dynamodb.update_table(TableName=name, DeletionProtectionEnabled=True)
        dynamodb.get_waiter("table_exists").wait(TableName=name)
    if PITR in missing:
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    if any(item.startswith("TTL") for item in missing):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.GRANTS_TTL_ATTRIBUTE},
        )


def ensure(dynamodb: Any, report: Report, cfg: StageConfig) -> None:
    environments, grants = cfg.get("ENVIRONMENTS_TABLE"), cfg.get("GRANTS_TABLE")
    tags = [{"Key": k, "Value": v} for k, v in cfg.tag.items()]
    for spec in (schema.environments_table(environments), schema.grants_table(grants)):
        name = spec["TableName"]
        ttl = name == grants
        everything = [PROTECTION, PITR] + ([f"TTL on {schema.GRANTS_TTL_ATTRIBUTE}"] * ttl)
        table = _describe(dynamodb, name)
        if table is None:
            if not report.plan:
                dynamodb.create_table(**spec, Tags=tags, DeletionProtectionEnabled=True)
                dynamodb.get_waiter("table_exists").wait(TableName=name)
                _apply(dynamodb, name, [item for item in everything if item != PROTECTION])
            report.add(CREATE, KIND, name, ", ".join(everything))
            continue
        missing = _plan(dynamodb, name, table, ttl)
        if missing and not report.plan:
            _apply(dynamodb, name, missing)
        report.add(UPDATE if missing else UNCHANGED, KIND, name, ", ".join(missing))


def live_environments(dynamodb: Any, cfg: StageConfig) -> list[str]:
    """Environments not OFFBOARDED (records only, not the claim items)."""
    table = cfg.get("ENVIRONMENTS_TABLE")
    if not _exists(dynamodb, table):
        return []
    params: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "attribute_not_exists(claim_of) AND #s <> :off",
        "ExpressionAttributeNames": {"#s": "status", "#n": "name"},
        "ExpressionAttributeValues": {":off": {"S": "OFFBOARDED"}},
        "ProjectionExpression": "#n",
    }
    names: list[str] = []
    while True:
        page = dynamodb.scan(**params)
        names.extend(item["name"]["S"] for item in page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            return sorted(names)
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete(dynamodb: Any, report: Report, cfg: StageConfig) -> None:
    """Both tables (destroy --delete-tables): deletion protection off first, as asked."""
    for name in (cfg.get("ENVIRONMENTS_TABLE"), cfg.get("GRANTS_TABLE")):
        table = _describe(dynamodb, name)
        if table is None:
            continue
        if table.get("DeletionProtectionEnabled"):
            dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=name)
        report.add(DELETE, KIND, name)
