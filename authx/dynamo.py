"""The few DynamoDB low-level helpers authX needs: attribute values to Python, batched reads.

Kept here instead of importing boto3's TypeDeserializer (importing boto3 costs more than
this whole module). Only the types the tables of DESIGN §2 use are decoded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from authx import aws
from authx.errors import AwsCause, AwsUnavailable

MAX_BATCH_KEYS = 100  # BatchGetItem's limit per request
UNPROCESSED_ATTEMPTS = 4
UNPROCESSED_BACKOFF_SECONDS = 0.05


def value(attribute: dict[str, Any]) -> Any:
    """One DynamoDB attribute value (`{"S": "x"}`…) as a plain Python value."""
    (kind, raw), *_ = attribute.items()
    if kind in ("S", "B", "BOOL"):
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [value(item) for item in raw]
    if kind == "M":
        return item(raw)
    if kind in ("SS", "BS"):
        return set(raw)
    if kind == "NS":
        return {Decimal(number) for number in raw}
    raise ValueError(f"unsupported DynamoDB type {kind}")


def item(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: value(attribute) for name, attribute in attributes.items()}


def _chunks(
    requests: Iterable[tuple[str, dict[str, str]]],
) -> Iterable[list[tuple[str, dict[str, str]]]]:
    chunk: list[tuple[str, dict[str, str]]] = []
    for request in requests:
        chunk.append(request)
        if len(chunk) == MAX_BATCH_KEYS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def batch_get(
    region: str,
    keys: list[tuple[str, dict[str, str]]],
    projections: dict[str, list[str]],
) -> dict[str, list[dict[str, Any]]]:
    """Read (table, key) pairs with as few BatchGetItem calls as the 100-key limit allows.

    Strongly consistent (a revoked grant stops working at once). Unprocessed keys are retried a
    few times with backoff; if DynamoDB still holds some back, or fails, it is `AwsUnavailable`.
    """
    client = aws.client("dynamodb", region)
    found: dict[str, list[dict[str, Any]]] = {table: [] for table, _ in keys}
    for chunk in _chunks(keys):
        request: dict[str, Any] = {}
        for table, key in chunk:
            if table not in request:
                names = {f"#a{i}": name for i, name in enumerate(projections[table])}
                request[table] = {
                    "Keys": [],
                    "ConsistentRead": True,
                    "ProjectionExpression": ", ".join(names),
                    "ExpressionAttributeNames": names,
                }
            request[table]["Keys"].append({name: {"S": text} for name, text in key.items()})
        for attempt in range(UNPROCESSED_ATTEMPTS):
            if attempt:
                time.sleep(UNPROCESSED_BACKOFF_SECONDS * (2 ** (attempt - 1)))
            try:
                answer = client.batch_get_item(RequestItems=request)
            except aws.errors() as error:
                cause = AwsCause(aws.error_code(error) or type(error).__name__)
                raise AwsUnavailable("The grants could not be read; try again.") from cause
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(item(raw) for raw in items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise AwsUnavailable("The grants could not be read; try again.") from AwsCause(
                "UnprocessedKeys"
            )
    return found


def scan(region: str, table: str, attributes: list[str]) -> list[dict[str, Any]]:
    """Every item of a (small) table, with only the attributes asked for."""
    client = aws.client("dynamodb", region)
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
    }
    return _all_pages(client.scan, request, "The environments could not be read; try again.")


def query(
    region: str, table: str, key_name: str, key_value: str, attributes: list[str]
) -> list[dict[str, Any]]:
    """Every item of one partition (all pages, strongly consistent), with only `attributes`."""
    client = aws.client("dynamodb", region)
    names = {"#k": key_name, **{f"#a{i}": name for i, name in enumerate(attributes)}}
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#k = :k",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {":k": {"S": key_value}},
        "ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(attributes))),
        "ConsistentRead": True,
    }
    return _all_pages(client.query, request, "The grants could not be read; try again.")


def _all_pages(call: Any, request: dict[str, Any], refusal: str) -> list[dict[str, Any]]:
    """The items of every page of a Scan or Query; an AWS failure is `AwsUnavailable`."""
    items: list[dict[str, Any]] = []
    try:
        while True:
            answer = call(**request)
            items.extend(item(raw) for raw in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return items
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    except aws.errors() as error:
        cause = AwsCause(aws.error_code(error) or type(error).__name__)
        raise AwsUnavailable(refusal) from cause
