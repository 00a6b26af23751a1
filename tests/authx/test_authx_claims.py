"""Claim parsing and IAM-safe names: pure functions, checked over many inputs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authx.token import parse_groups
from authx.weblogin import iam_name

IAM_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        (["a", "b", "a", "", 3, True, None], ("a", "b", "3")),
        ("[a, b]", ("a", "b")),
        ("[]", ()),
        ("a,b, c", ("a", "b", "c")),
        ("single", ("single",)),
        ('["x y", "z"]', ("x y", "z")),
        ("['a', 'b']", ("a", "b")),
        (None, ()),
        ({"a": 1}, ()),
        ("", ()),
    ],
)
def test_groups_claim_formats(claim: object, groups: tuple[str, ...]) -> None:
    assert parse_groups(claim) == groups


@given(st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True), max_size=10))
def test_every_groups_format_gives_the_same_groups(groups: list[str]) -> None:
    expected = tuple(dict.fromkeys(groups))
    assert parse_groups(groups) == expected
    assert parse_groups("[" + ", ".join(groups) + "]") == expected
    assert parse_groups(",".join(groups)) == expected


@given(st.text(min_size=1, max_size=300))
def test_iam_name_is_always_valid(user: str) -> None:
    assert IAM_NAME.fullmatch(iam_name(user))


@given(st.text(min_size=1, max_size=100), st.text(min_size=1, max_size=100))
def test_iam_names_of_different_users_differ(first: str, second: str) -> None:
    if first != second:
        assert iam_name(first) != iam_name(second)


def test_iam_name_keeps_a_valid_user_id() -> None:
    assert iam_name("alice+ops@example.com") == "alice+ops@example.com"
    assert iam_name("x" * 65).startswith("x" * 53 + "-")
