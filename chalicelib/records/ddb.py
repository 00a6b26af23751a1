"""Plain Python values ⇄ DynamoDB attribute values, for the low-level client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _to_dynamodb(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamodb(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamodb(item) for item in value]
    return value


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to int/float, recursively, for JSON answers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain(item) for item in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(_to_dynamodb(value)) for key, value in item.items()}


def value(python_value: Any) -> dict[str, Any]:
    return _SERIALIZER.serialize(_to_dynamodb(python_value))


def deserialize(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not item:
        return None
    return plain({key: _DESERIALIZER.deserialize(raw) for key, raw in item.items()})
