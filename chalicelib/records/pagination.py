"""Pages over DynamoDB: `?limit=` and an opaque, URL-safe `next_token`.

The token is base64url (no padding) of the bytes: version (2), the first 16 bytes of the
SHA-256 of the scope (route and filters, so a token only resumes the listing it came from),
then the values of the LastEvaluatedKey (strings, by key name in sorted order) in UTF-8,
separated by 0xFF (a byte UTF-8 never uses). Its size depends only on the key, never on the
filters, and its limit comes from DynamoDB's own key limits, so every token issued is
accepted back. Anything else is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Callable
from typing import Any

from chalicelib.api.errors import BadRequestError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_ROUNDS = 50  # DynamoDB calls per page at most; then the page ends early with a token
VERSION = b"\x02"
SCOPE_BYTES = 16
SEPARATOR = b"\xff"
MAX_KEY_VALUES = 2  # partition and sort key
MAX_KEY_VALUE_BYTES = 2048  # DynamoDB's limit for a partition key (a sort key: 1024)
MAX_PAYLOAD_BYTES = (
    len(VERSION) + SCOPE_BYTES + MAX_KEY_VALUES * (MAX_KEY_VALUE_BYTES + len(SEPARATOR))
)
MAX_TOKEN_CHARS = math.ceil(MAX_PAYLOAD_BYTES * 4 / 3)


def limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequestError(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _scope_digest(scope: str) -> bytes:
    return hashlib.sha256(scope.encode("utf-8", "surrogatepass")).digest()[:SCOPE_BYTES]


def encode(scope: str, key: dict[str, Any]) -> str:
    """A DynamoDB LastEvaluatedKey (typed, string attributes) → token."""
    values = [key[name]["S"].encode("utf-8") for name in sorted(key)]
    payload = VERSION + _scope_digest(scope) + SEPARATOR.join(values)
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode(token: str | None, scope: str, key_names: tuple[str, ...]) -> dict[str, Any] | None:
    """Token → ExclusiveStartKey (typed), checked against this listing; None when absent."""
    if token is None:
        return None
    bad = BadRequestError("next_token: not a token from this listing")
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii() or "=" in token:
        raise bad
    try:
        payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:
        raise bad from error
    head = len(VERSION) + SCOPE_BYTES
    if payload[: len(VERSION)] != VERSION or payload[len(VERSION) : head] != _scope_digest(scope):
        raise bad
    parts = payload[head:].split(SEPARATOR)
    names = sorted(key_names)
    if len(parts) != len(names):
        raise bad
    try:
        values = [part.decode("utf-8") for part in parts]
    except UnicodeDecodeError as error:
        raise bad from error
    if not all(0 < len(part) <= MAX_KEY_VALUE_BYTES for part in parts):
        raise bad
    if encode(scope, {n: {"S": v} for n, v in zip(names, values, strict=True)}) != token:
        raise bad  # one spelling per token (no trailing bits, no other alphabet)
    return {name: {"S": value} for name, value in zip(names, values, strict=True)}


def collect(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    page_size: int,
    start: dict[str, Any] | None,
    scope: str,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `page_size` raw items from a Query/Scan, even when a filter drops some.

    Each round asks DynamoDB to evaluate at most the number still missing, so every item it
    evaluated was either kept or filtered out: LastEvaluatedKey is an exact resume point.
    """
    items: list[dict[str, Any]] = []
    key = start
    for _ in range(MAX_ROUNDS):
        request = dict(params, Limit=page_size - len(items))
        if key:
            request["ExclusiveStartKey"] = key
        response = call(**request)
        items.extend(response.get("Items", []))
        key = response.get("LastEvaluatedKey")
        if not key or len(items) >= page_size:
            break
    return items, (encode(scope, key) if key else None)
