"""Naming JSON values in messages."""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as a caller would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
