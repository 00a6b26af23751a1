"""DynamoDB table definitions of DESIGN §2 (platform setup makes them: platform/tables.py)."""

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
