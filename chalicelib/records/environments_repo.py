"""ENVIRONMENTS_TABLE: environment records, and the hostname claims that keep hosts unique.

A claim is an item of the same table whose key is `hostname#<host>` (environment names
cannot contain `#`, so it never collides with a record) with `claim_of` = the environment. It
is written in the same transaction as the record that asks for the host, so two environments
can never both hold one host. Lists skip claims (`attribute_not_exists(claim_of)`). A claim
whose holder is gone, OFFBOARDED or now asks for another host is stale and may be taken over.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws_clients
from chalicelib.api.errors import ServiceUnavailableError

from . import ddb, pagination

KEY = "name"
CLAIM_PREFIX = "hostname#"
CLAIM_OF = "claim_of"
NOT_A_CLAIM = "attribute_not_exists(claim_of)"


class RecordChanged(Exception):
    """The record was not in the state the write expected (it exists, or its version moved)."""


class HostnameTaken(Exception):
    def __init__(self, host: str, holder: str) -> None:
        super().__init__(host)
        self.host = host
        self.holder = holder


def claim_key(host: str) -> str:
    return CLAIM_PREFIX + host


def get(table: str, name: str) -> dict[str, Any] | None:
    response = aws_clients.dynamodb().get_item(
        TableName=table, Key={KEY: {"S": name}}, ConsistentRead=True
    )
    return ddb.deserialize(response.get("Item"))


def claim_holder(table: str, host: str) -> str | None:
    item = get(table, claim_key(host))
    return item.get(CLAIM_OF) if item else None


def claim_is_stale(table: str, host: str, holder: str | None) -> bool:
    """A claim may be taken over when its holder no longer wants the host: the holder is gone
    or OFFBOARDED, or neither asked for the host nor was given it by onboarding."""
    if not holder:
        return True
    record = get(table, holder)
    return (
        record is None
        or record.get("status") == "OFFBOARDED"
        or host not in (record.get("hostname"), record.get("login_host"))
    )


def take_claim(table: str, host: str, name: str, stale_holder: str | None = None) -> None:
    """Claim `host` for `name` alone (free, ours already, or taken over from `stale_holder`)."""
    condition = "attribute_not_exists(#n) OR #c = :me"
    values = {":me": ddb.value(name)}
    if stale_holder:
        condition += " OR #c = :stale"
        values[":stale"] = ddb.value(stale_holder)
    try:
        aws_clients.dynamodb().put_item(
            TableName=table,
            Item=ddb.serialize({KEY: claim_key(host), CLAIM_OF: name}),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#n": KEY, "#c": CLAIM_OF},
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise HostnameTaken(host, claim_holder(table, host) or "") from error
        raise


def write(
    table: str,
    record: dict[str, Any],
    *,
    expected_version: int | None,
    host: str | None,
    stale_holder: str | None = None,
) -> None:
    """Put a record (new when `expected_version` is None) and claim its host, atomically."""
    names = {"#n": KEY}
    values: dict[str, Any] = {}
    if expected_version is None:
        condition = "attribute_not_exists(#n)"
    else:
        condition = "attribute_exists(#n) AND #v = :v"
        names["#v"] = "version"
        values[":v"] = ddb.value(expected_version)
    put_record: dict[str, Any] = {
        "TableName": table,
        "Item": ddb.serialize(record),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        put_record["ExpressionAttributeValues"] = values
    items = [{"Put": put_record}]
    if host:
        claim_condition = "attribute_not_exists(#n) OR #c = :me"
        claim_values = {":me": ddb.value(record[KEY])}
        if stale_holder:
            claim_condition += " OR #c = :stale"
            claim_values[":stale"] = ddb.value(stale_holder)
        items.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": ddb.serialize({KEY: claim_key(host), CLAIM_OF: record[KEY]}),
                    "ConditionExpression": claim_condition,
                    "ExpressionAttributeNames": {"#n": KEY, "#c": CLAIM_OF},
                    "ExpressionAttributeValues": claim_values,
                }
            }
        )
    client = aws_clients.dynamodb()
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise RecordChanged(record[KEY]) from error
        if host and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            raise HostnameTaken(host, claim_holder(table, host) or "") from error
        raise


def update(table: str, name: str, expected_version: int, changes: dict[str, Any]) -> dict[str, Any]:
    """SET `changes` and version+1 if the version is still `expected_version`; the new record."""
    names = {"#v": "version"}
    values = {":v": ddb.value(expected_version), ":one": ddb.value(1)}
    sets = ["#v = #v + :one"]
    for index, (field, new) in enumerate(changes.items()):
        names[f"#f{index}"] = field
        values[f":f{index}"] = ddb.value(new)
        sets.append(f"#f{index} = :f{index}")
    try:
        response = aws_clients.dynamodb().update_item(
            TableName=table,
            Key={KEY: {"S": name}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(#n) AND #v = :v",
            ExpressionAttributeNames={**names, "#n": KEY},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise RecordChanged(name) from error
        raise
    return ddb.deserialize(response["Attributes"]) or {}


def page(
    table: str, status: str | None, page_size: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    scope = f"environments?status={status or ''}"
    start = pagination.decode(token, scope, (KEY,))
    params: dict[str, Any] = {"TableName": table, "FilterExpression": NOT_A_CLAIM}
    if status:
        params["FilterExpression"] += " AND #s = :s"
        params["ExpressionAttributeNames"] = {"#s": "status"}
        params["ExpressionAttributeValues"] = {":s": {"S": status}}
    items, next_token = pagination.collect(
        aws_clients.dynamodb().scan, params, page_size, start, scope
    )
    return [ddb.deserialize(item) or {} for item in items], next_token


def all_records(table: str) -> list[dict[str, Any]]:
    """Every environment record (not claims), all pages."""
    client = aws_clients.dynamodb()
    records: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table, "FilterExpression": NOT_A_CLAIM}
    while True:
        response = client.scan(**params)
        records.extend(ddb.deserialize(item) or {} for item in response.get("Items", []))
        if not response.get("LastEvaluatedKey"):
            return records
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get_many(table: str, names: set[str]) -> dict[str, dict[str, Any]]:
    """Records by name (BatchGetItem, 100 at a time, unprocessed keys retried)."""
    client = aws_clients.dynamodb()
    found: dict[str, dict[str, Any]] = {}
    pending = sorted(names)
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request = {table: {"Keys": [{KEY: {"S": name}} for name in chunk], "ConsistentRead": True}}
        for _ in range(10):
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                record = ddb.deserialize(item) or {}
                found[record[KEY]] = record
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        if request:
            raise ServiceUnavailableError("DynamoDB left keys unprocessed; retry the request")
    return found
