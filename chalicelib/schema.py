"""DynamoDB table definitions of DESIGN §2, shared by platform setup and the test fixtures."""

from __future__ import annotations

from typing import Any

GRANTS_TTL_ATTRIBUTE = "expires_at"


def environments_table(name: str) -> dict[str, Any]:
    """CreateTable arguments for ENVIRONMENTS_TABLE (key `name`)."""
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": "name", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "name", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def grants_table(name: str) -> dict[str, Any]:
    """CreateTable arguments for GRANTS_TABLE (`principal` + `environment`)."""
    return {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "principal", "KeyType": "HASH"},
            {"AttributeName": "environment", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "principal", "AttributeType": "S"},
            {"AttributeName": "environment", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_tables(dynamodb: Any, environments: str, grants: str) -> None:
    """Create both tables (if missing) with the grants TTL on. Idempotent."""
    existing = set(dynamodb.list_tables()["TableNames"])
    for spec in (environments_table(environments), grants_table(grants)):
        if spec["TableName"] not in existing:
            dynamodb.create_table(**spec)
            dynamodb.get_waiter("table_exists").wait(TableName=spec["TableName"])
    ttl = dynamodb.describe_time_to_live(TableName=grants)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=grants,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": GRANTS_TTL_ATTRIBUTE},
        )
