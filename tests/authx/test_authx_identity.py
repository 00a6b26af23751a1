"""The identity rule of DESIGN §2 (`authx.roles`), shared by authX and the admin API.

One claim, one user id; two different user ids never share a principal, a RoleSessionName or a
SourceIdentity; control and format characters are refused, not removed.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from authx.roles import (
    IdentityRefused,
    ascii_lower,
    group_id_problem,
    group_principal,
    iam_name,
    identity_problem,
    principals,
    user_id,
    user_principal,
)

IAM_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
KELVIN = "\u212a"

# Claims the way an attacker would write them: ASCII, look-alikes, combining marks, wide and
# narrow spaces, RTL, surrogates, controls.
claims = st.text(
    alphabet=st.one_of(
        st.characters(codec="ascii"),
        st.sampled_from(
            "Kk\u212a\u0130i\u0131\u017fs\u00df\u1e9e\u00e9e\u0301\u00a0\u3000\u2028\u202e\u200b"
            "\ufeff\u0085\u00c5\u212b"
        ),
        st.characters(),
    ),
    min_size=1,
    max_size=80,
)
# The same lookalikes and hostile characters, less those an identity may not hold: drawing valid
# claims directly keeps the pair tests from discarding most examples (hypothesis filter_too_much).
_REFUSED = ("Cc", "Cf", "Cs", "Zl", "Zp")
valid_claims = st.text(
    alphabet=st.one_of(
        st.characters(codec="ascii", exclude_categories=_REFUSED),
        st.sampled_from(
            "Kk\u212a\u0130i\u0131\u017fs\u00df\u1e9e\u00e9e\u0301\u00a0\u3000\u00c5\u212b"
        ),
        st.characters(exclude_categories=_REFUSED),
    ),
    min_size=1,
    max_size=80,
)


def _same_but_for_ascii_case(first: str, second: str) -> bool:
    """The oracle: equal character by character, A-Z and a-z counted as one, nothing else."""

    def fold(char: str) -> str:
        return char.lower() if "A" <= char <= "Z" else char

    return len(first) == len(second) and all(
        fold(a) == fold(b) for a, b in zip(first, second, strict=True)
    )


def test_kelvin_sign_is_not_k() -> None:
    # str.lower() folds U+212A KELVIN SIGN to 'k': another address would be Kate's principal.
    assert user_id(f"{KELVIN}ate.king@example.com") == f"{KELVIN}ate.king@example.com"
    assert user_principal(f"{KELVIN}ate.king@example.com") != user_principal(
        "kate.king@example.com"
    )
    assert iam_name(user_id(f"{KELVIN}ate.king@example.com")) != "kate.king@example.com"


def test_ascii_letters_only_are_lower_cased() -> None:
    assert user_id("Kate.King@Example.COM") == "kate.king@example.com"
    assert user_id("\u00c9LISE@example.com") == "\u00c9lise@example.com"  # É kept
    assert user_id("\u0130stanbul@example.com") == "\u0130stanbul@example.com"  # İ kept
    assert ascii_lower("ABC\u212a\u00c5xyz") == "abc\u212a\u00c5xyz"


def test_nothing_is_stripped_or_normalised() -> None:
    assert user_id(" alice@example.com") == " alice@example.com"
    assert user_id("e\u0301@example.com") != user_id("\u00e9@example.com")
    assert group_principal("ops\u00a0") == "group#ops\u00a0"


@pytest.mark.parametrize(
    "claim",
    [
        "alice@example.com\n",
        "alice\r\n@example.com",
        "al\x00ice@example.com",
        "alice\u0085@example.com",  # NEL (Cc)
        "alice\u200b@example.com",  # zero-width space (Cf)
        "\u202eoc.elpmaxe@ecila",  # right-to-left override (Cf)
        "alice\ufeff@example.com",  # BOM (Cf)
        "alice\u2028@example.com",  # line separator (Zl)
        "alice\u2029@example.com",  # paragraph separator (Zp)
        "alice\ud800@example.com",  # lone surrogate (Cs): not valid Unicode
        "",
    ],
)
def test_control_and_format_characters_are_refused(claim: str) -> None:
    assert identity_problem(claim) is not None
    assert group_id_problem(claim) is not None
    with pytest.raises(IdentityRefused):
        user_id(claim)
    with pytest.raises(IdentityRefused):
        user_principal(claim)
    with pytest.raises(IdentityRefused):
        group_principal(claim)


def test_problem_names_the_character() -> None:
    assert identity_problem("a\u202eb") == (
        "must not contain control or format characters (U+202E at position 1)"
    )
    assert identity_problem("alice@example.com") is None


@pytest.mark.parametrize("group", [" ops", "ops ", "\u3000ops", "ops\u00a0", "\tops"])
def test_api_refuses_group_ids_with_surrounding_whitespace(group: str) -> None:
    assert group_id_problem(group) is not None


def test_group_ids_are_exact() -> None:
    assert group_id_problem("Data Engineers") is None
    assert group_principal("Data-Eng") == "group#Data-Eng"  # case kept
    assert principals("a@x.io", ["ops", "ops\u200b", "", "Ops"]) == [
        "user#a@x.io",
        "group#ops",
        "group#Ops",
    ]


@given(valid_claims, valid_claims)
@example(f"{KELVIN}ate@x.io", "kate@x.io")
@example("\u0130@x.io", "i\u0307@x.io")
@example("stra\u00dfe@x.io", "strasse@x.io")
@example("alice@x.io ", "alice@x.io")
def test_two_claims_share_a_principal_only_when_they_differ_in_ascii_case(
    first: str, second: str
) -> None:
    assume(identity_problem(first) is None and identity_problem(second) is None)
    same_user = _same_but_for_ascii_case(first, second)
    assert (user_principal(first) == user_principal(second)) == same_user
    assert (iam_name(user_id(first)) == iam_name(user_id(second))) == same_user


@given(valid_claims)
def test_iam_name_is_always_valid_for_sts(claim: str) -> None:
    assume(identity_problem(claim) is None)
    name = iam_name(user_id(claim))
    assert IAM_NAME.fullmatch(name)
    assert name == name.lower()  # STS compares some names case-insensitively


@given(valid_claims)
def test_a_kept_name_never_meets_a_hashed_one(claim: str) -> None:
    # The hashed form of one user, given as another user's id, is kept only if it is not
    # shaped like a hashed name: so it is hashed again and the two stay apart.
    assume(identity_problem(claim) is None)
    name = iam_name(user_id(claim))
    assume(name != user_id(claim))  # a hashed name
    assert iam_name(name) != name


def test_iam_name_keeps_a_valid_user_id() -> None:
    assert iam_name("alice+ops@example.com") == "alice+ops@example.com"
    long = iam_name("x" * 65)
    assert long.startswith("x" * 37 + "-") and len(long) == 64
    assert iam_name("o'brien@example.com").startswith("o-brien@example.com-")
    assert iam_name("o-brien@example.com") == "o-brien@example.com"


@given(claims)
def test_a_claim_is_an_identity_exactly_when_it_holds_no_refused_character(claim: str) -> None:
    refused = any(unicodedata.category(char) in _REFUSED for char in claim)
    if refused:
        with pytest.raises(IdentityRefused):
            user_id(claim)
    else:
        assert user_id(claim) == "".join(
            char.lower() if "A" <= char <= "Z" else char for char in claim
        )
