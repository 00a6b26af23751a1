"""The DynamoDB tables of DESIGN §2 (definitions in chalicelib.schema), with TTL on grants."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib import schema

from .config import StageConfig
from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report

KIND = "dynamodb-table"


def _exists(dynamodb: Any, name: str) -> bool:
    try:
        dynamodb.describe_table(TableName=name)
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise


def ensure(dynamodb: Any, report: Report, cfg: StageConfig) -> None:
    environments, grants = cfg.get("ENVIRONMENTS_TABLE"), cfg.get("GRANTS_TABLE")
    tags = [{"Key": k, "Value": v} for k, v in cfg.tag.items()]
    for spec in (schema.environments_table(environments), schema.grants_table(grants)):
        name = spec["TableName"]
        if _exists(dynamodb, name):
            continue
        dynamodb.create_table(**spec, Tags=tags)
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        report.add(CREATE, KIND, name)
    ttl = dynamodb.describe_time_to_live(TableName=grants)["TimeToLiveDescription"]
    ttl_on = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and (
        ttl.get("AttributeName") == schema.GRANTS_TTL_ATTRIBUTE
    )
    if not ttl_on:
        dynamodb.update_time_to_live(
            TableName=grants,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.GRANTS_TTL_ATTRIBUTE},
        )
    created = {c.name for c in report.changes if c.kind == KIND and c.action == CREATE}
    for name in (environments, grants):
        if name in created:
            continue
        if name == grants and not ttl_on:
            report.add(UPDATE, KIND, name, f"TTL on {schema.GRANTS_TTL_ATTRIBUTE}")
        else:
            report.add(UNCHANGED, KIND, name)


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
    for name in (cfg.get("ENVIRONMENTS_TABLE"), cfg.get("GRANTS_TABLE")):
        if _exists(dynamodb, name):
            dynamodb.delete_table(TableName=name)
            report.add(DELETE, KIND, name)
