"""Hostile inputs shared by the hardening tests: strategies, bodies, table helpers."""

from __future__ import annotations

import boto3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .conftest import GRANTS_TABLE, valid_create

RUN = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Group ids the API accepts: 1-256 printable characters, no whitespace at either end.
GROUP_CHARS = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S"))
VALID_GROUPS = st.text(GROUP_CHARS, min_size=1, max_size=256)
ENVIRONMENT_NAMES = st.from_regex(r"[a-zA-Z][0-9a-zA-Z_-]{0,79}", fullmatch=True).filter(
    lambda name: name.isascii()
)
# Every character Python's str.strip() removes (Unicode White_Space and a few controls).
WHITESPACE = st.sampled_from([chr(c) for c in range(0x3001) if chr(c).isspace()])


def stored_grants() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=GRANTS_TABLE)["Items"]


def delete_all_grants() -> None:
    client = boto3.client("dynamodb")
    for item in stored_grants():
        client.delete_item(
            TableName=GRANTS_TABLE,
            Key={"principal": item["principal"], "environment": item["environment"]},
        )


def with_surrogate_somewhere(value, where: int):
    """The JSON value with one of its strings (keys included) ending in a lone surrogate."""
    seen = [0]

    def count(item) -> int:
        if isinstance(item, dict):
            return sum(count(k) + count(v) for k, v in item.items())
        if isinstance(item, list):
            return sum(count(v) for v in item)
        return int(isinstance(item, str))

    target = where % count(value)

    def mark(item):
        if isinstance(item, dict):
            return {mark(k): mark(v) for k, v in item.items()}
        if isinstance(item, list):
            return [mark(v) for v in item]
        if isinstance(item, str):
            seen[0] += 1
            return item + "\ud800" if seen[0] - 1 == target else item
        return item

    return mark(value)


BODIES = st.sampled_from(
    [
        ("/environments", {"name": "Env1", "mode": "attach", "hostname": "a.example.com"}),
        (
            "/environments",
            {"name": "Env1", "mode": "create", "create": valid_create(Tags={"a": "b"})},
        ),
        ("/grants", {"group": "ops", "environment": "*", "rbac_role": "User"}),
        ("/grants", {"user": "a@example.com", "environment": "Env1", "rbac_role": "Op"}),
        (
            "/grants",
            {"user": "a@example.com", "environment": "*", "rbac_role": "Op", "expires_at": "x"},
        ),
    ]
)
