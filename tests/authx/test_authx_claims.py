"""Claim parsing: the groups claim formats, exact group ids, and every wrong JSON type refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authx.errors import ClaimInvalid
from authx.token import parse_groups


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        (["a", "b", "a", ""], ("a", "b")),
        ("[a, b]", ("a", "b")),
        ("[]", ()),
        ("a,b, c", ("a", "b", "c")),
        ("  a ,  b  ", ("a", "b")),
        ("single", ("single",)),
        ('["x y", "z"]', ("x y", "z")),
        ('[" x", "y "]', (" x", "y ")),  # a JSON list of strings is taken exactly
        ("['a', 'b']", ("'a'", "'b'")),  # quotes are part of the ids: nothing is guessed
        ("[0]", ("0",)),
        ("[a", ("[a",)),  # one bracket is part of the id
        (None, ()),
        ("", ()),
    ],
)
def test_groups_claim_formats(claim: object, groups: tuple[str, ...]) -> None:
    assert parse_groups(claim) == groups


@pytest.mark.parametrize(
    "group",
    ["airflow-admins\u00a0", " airflow-admins", "\u3000airflow-admins", "airflow-admins\u2003"],
)
def test_json_list_group_ids_are_never_stripped(group: str) -> None:
    # Issue 9 §3: Unicode whitespace around a group id is part of the id, never stripped.
    assert parse_groups([group]) == (group,)
    assert parse_groups([group, "airflow-admins"]) == (group, "airflow-admins")


def test_string_formats_trim_ascii_spaces_only() -> None:
    assert parse_groups("a\u00a0, b") == ("a\u00a0", "b")
    assert parse_groups("[\u3000a , b]") == ("\u3000a", "b")


def test_group_ids_with_control_or_format_characters_are_left_out() -> None:
    assert parse_groups(["ops\u200b", "ops\n", "ops\u202e", "ops"]) == ("ops",)


@pytest.mark.parametrize(
    "claim",
    [{"a": 1}, 3, 2.5, True, False, ["a", 3], ["a", None], ["a", ["b"]], ["a", {"b": 1}]],
)
def test_groups_claim_of_another_json_type_is_refused(claim: object) -> None:
    with pytest.raises(ClaimInvalid):
        parse_groups(claim)


@given(st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True), max_size=10))
def test_every_groups_format_gives_the_same_groups(groups: list[str]) -> None:
    expected = tuple(dict.fromkeys(groups))
    assert parse_groups(groups) == expected
    assert parse_groups("[" + ", ".join(groups) + "]") == expected
    assert parse_groups(",".join(groups)) == expected


@given(st.lists(st.text(max_size=12), max_size=6))
def test_json_list_groups_are_kept_exactly(groups: list[str]) -> None:
    # Whatever the strings: each is kept as it is or left out (empty, control/format), never
    # changed; so two different group ids can never become one principal.
    parsed = parse_groups(groups)
    assert set(parsed) <= set(groups)
    assert len(parsed) == len(set(parsed))
