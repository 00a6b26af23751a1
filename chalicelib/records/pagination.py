"""Pages over DynamoDB: `?limit=` and an opaque, URL-safe `next_token`.

The token is base64url (no padding) of `{"v": 1, "s": <scope>, "k": <LastEvaluatedKey>}`:
the scope (route and filters) binds a token to the listing it came from, and the key must
have exactly the table's key attributes as strings. Anything else is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from chalicelib.api.errors import BadRequestError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_TOKEN_CHARS = 4096
MAX_ROUNDS = 50  # DynamoDB calls per page at most; then the page ends early with a token


def limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadRequestError(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def encode(scope: str, key: dict[str, Any]) -> str:
    """A DynamoDB LastEvaluatedKey (typed) → token."""
    flat = {name: value["S"] for name, value in key.items()}
    payload = json.dumps({"v": 1, "s": scope, "k": flat}, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(token: str | None, scope: str, key_names: tuple[str, ...]) -> dict[str, Any] | None:
    """Token → ExclusiveStartKey (typed), checked against this listing; None when absent."""
    if token is None:
        return None
    bad = BadRequestError("next_token: not a token from this listing")
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise bad from error
    if (
        not isinstance(payload, dict)
        or payload.get("v") != 1
        or payload.get("s") != scope
        or not isinstance(payload.get("k"), dict)
        or set(payload["k"]) != set(key_names)
        or not all(isinstance(v, str) and 0 < len(v) <= 1024 for v in payload["k"].values())
    ):
        raise bad
    return {name: {"S": value} for name, value in payload["k"].items()}


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
