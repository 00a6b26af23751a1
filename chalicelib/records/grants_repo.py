"""GRANTS_TABLE: one item per (principal, environment) with its Airflow role (DESIGN §2)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws_clients

from . import ddb, pagination

KEYS = ("principal", "environment")


def _key(principal: str, environment: str) -> dict[str, Any]:
    return {"principal": {"S": principal}, "environment": {"S": environment}}


def upsert(
    table: str,
    principal: str,
    environment: str,
    rbac_role: str,
    expires_at: int | None,
    actor: str,
    now: str,
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Create or change a grant in one atomic write; (before or None, after)."""
    names = {
        "#r": "rbac_role",
        "#e": "expires_at",
        "#ca": "created_at",
        "#cb": "created_by",
        "#ua": "updated_at",
        "#ub": "updated_by",
    }
    values = {":r": ddb.value(rbac_role), ":now": ddb.value(now), ":me": ddb.value(actor)}
    expression = (
        "SET #r = :r, #ca = if_not_exists(#ca, :now), #cb = if_not_exists(#cb, :me), "
        "#ua = :now, #ub = :me"
    )
    if expires_at is None:
        expression += " REMOVE #e"
    else:
        expression += ", #e = :e"
        values[":e"] = ddb.value(expires_at)
    response = aws_clients.dynamodb().update_item(
        TableName=table,
        Key=_key(principal, environment),
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_OLD",
    )
    before = ddb.deserialize(response.get("Attributes"))
    after: dict[str, Any] = {
        "principal": principal,
        "environment": environment,
        "rbac_role": rbac_role,
        "created_at": (before or {}).get("created_at", now),
        "created_by": (before or {}).get("created_by", actor),
        "updated_at": now,
        "updated_by": actor,
    }
    if expires_at is not None:
        after["expires_at"] = expires_at
    return before, after


def delete(table: str, principal: str, environment: str) -> dict[str, Any] | None:
    """Remove a grant; what it was, or None when there was none."""
    try:
        response = aws_clients.dynamodb().delete_item(
            TableName=table,
            Key=_key(principal, environment),
            ConditionExpression="attribute_exists(principal)",
            ReturnValues="ALL_OLD",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    return ddb.deserialize(response.get("Attributes"))


def page(
    table: str,
    principal: str | None,
    environment: str | None,
    page_size: int,
    token: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Grants filtered exactly: by principal (Query) and/or environment (key or filter)."""
    scope = f"grants?principal={principal or ''}&environment={environment or ''}"
    start = pagination.decode(token, scope, KEYS)
    client = aws_clients.dynamodb()
    params: dict[str, Any] = {"TableName": table}
    if principal is not None:
        call = client.query
        condition = "principal = :p"
        values = {":p": {"S": principal}}
        if environment is not None:
            condition += " AND environment = :e"
            values[":e"] = {"S": environment}
        params.update(KeyConditionExpression=condition, ExpressionAttributeValues=values)
    else:
        call = client.scan
        if environment is not None:
            params.update(
                FilterExpression="environment = :e",
                ExpressionAttributeValues={":e": {"S": environment}},
            )
    items, next_token = pagination.collect(call, params, page_size, start, scope)
    return [ddb.deserialize(item) or {} for item in items], next_token


def for_principals(table: str, principals: list[str]) -> list[dict[str, Any]]:
    """Every grant of these principals, on any environment (all pages)."""
    client = aws_clients.dynamodb()
    grants: list[dict[str, Any]] = []
    for principal in principals:
        params: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "principal = :p",
            "ExpressionAttributeValues": {":p": {"S": principal}},
            "ConsistentRead": True,
        }
        while True:
            response = client.query(**params)
            grants.extend(ddb.deserialize(item) or {} for item in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return grants
