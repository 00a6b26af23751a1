"""Issue 9 (sign-in): one identity per person, and a 401 for every token defect, whatever its
shape, before any AWS call."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from authx_support import ACCOUNT, ENV, AwsCalls, World, header, login, web_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.sts.models import sts_backends

from authx.roles import iam_name
from devstack.alb import ALB_ARN, KeyServer, SigningKey, b64url, mint

KELVIN = "\u212a"
SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def unauthorised(response: dict, aws_calls: AwsCalls, reason: str) -> None:
    assert response["statusCode"] == 401, response["body"]
    assert header(response, "Location") is None
    assert reason in response["body"]
    assert aws_calls.calls == []


# --- 1. One user, one principal (DESIGN §2) ---


def test_kelvin_sign_address_does_not_get_kates_grant(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#kate.king@example.com", ENV, "Admin")

    response = login(mint(signing_key, {"email": f"{KELVIN}ate.king@example.com"}))

    assert response["statusCode"] == 403, response["body"]
    assert aws_calls.of("AssumeRole") == []
    (batch,) = aws_calls.of("BatchGetItem")
    asked = {
        key["principal"]["S"]
        for table in batch["RequestItems"].values()
        for key in table["Keys"]
        if "principal" in key
    }
    assert asked == {f"user#{KELVIN}ate.king@example.com"}


def test_non_ascii_user_signs_in_with_a_distinct_source_identity(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    user = f"{KELVIN}ate.king@example.com"
    world.grant(f"user#{user}", ENV, "Viewer")

    assert web_token(
        login(mint(signing_key, {"email": f"{KELVIN}ATE.King@Example.com"})), world.login_host
    )

    (sent,) = aws_calls.of("AssumeRole")
    assert sent["SourceIdentity"] == sent["RoleSessionName"] == iam_name(user)
    assert sent["SourceIdentity"] != "kate.king@example.com"
    (recorded,) = sts_backends[ACCOUNT]["aws"].assumed_roles
    assert recorded.source_identity == iam_name(user)


@pytest.mark.parametrize(
    "email",
    [
        "alice@example.com\n",
        "alice\u200b@example.com",
        "\u202emoc.elpmaxe@ecila",
        "alice\u2028@example.com",
        "alice\x00@example.com",
    ],
)
def test_user_claim_with_control_or_format_characters_is_refused(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, email: str
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    unauthorised(login(mint(signing_key, {"email": email})), aws_calls, "token_user_claim_invalid")


# --- 2. Unverified email ---


@pytest.mark.parametrize("verified", [False, "false", "False", "FALSE"])
def test_unverified_email_is_refused(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, verified: object
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    response = login(mint(signing_key, {"email_verified": verified}))

    unauthorised(response, aws_calls, "token_email_unverified")


@pytest.mark.parametrize("verified", [True, "true", "True", None])
def test_verified_or_absent_email_verified_is_accepted(
    world: World, signing_key: SigningKey, verified: object
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    assert web_token(login(mint(signing_key, {"email_verified": verified})), world.login_host)


@pytest.mark.parametrize("verified", [0, 1, "yes", "", [], {}, 1.5])
def test_email_verified_of_another_type_is_refused(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, verified: object
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    unauthorised(
        login(mint(signing_key, {"email_verified": verified})), aws_calls, "token_claim_invalid"
    )


def test_unverified_email_may_be_allowed_for_an_idp_that_never_verifies(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUIRE_VERIFIED_EMAIL", "false")
    world.grant("user#alice@example.com", ENV, "Admin")

    assert web_token(login(mint(signing_key, {"email_verified": "false"})), world.login_host)


def test_email_verified_does_not_matter_for_another_user_claim(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER_CLAIM", "preferred_username")
    world.grant("user#carol", ENV, "Admin")

    token = mint(signing_key, {"preferred_username": "carol", "email_verified": False})
    assert web_token(login(token), world.login_host)


def test_require_verified_email_must_be_true_or_false(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUIRE_VERIFIED_EMAIL", "no")

    response = login(mint(signing_key))

    assert response["statusCode"] == 500
    assert "REQUIRE_VERIFIED_EMAIL must be true or false" in response["body"]


# --- 3. Group ids are exact ---


@pytest.mark.parametrize(
    "group", ["airflow-admins\u00a0", " airflow-admins", "\u3000airflow-admins", "Airflow-Admins"]
)
def test_a_group_that_only_looks_like_the_granted_one_gets_nothing(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, group: str
) -> None:
    world.grant("group#airflow-admins", ENV, "Admin")

    response = login(mint(signing_key, {"groups": [group]}))

    assert response["statusCode"] == 403, response["body"]
    assert aws_calls.of("AssumeRole") == []


def test_a_string_groups_claim_trims_ascii_spaces_around_separators(
    world: World, signing_key: SigningKey
) -> None:
    world.grant("group#airflow-admins", ENV, "Admin")

    token = mint(signing_key, {"groups": "[analysts ,  airflow-admins ]"})
    assert web_token(login(token), world.login_host)


# --- 4 and 5. Every token defect, whatever its JSON shape, is a 401 before any AWS call ---

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.mark.parametrize("exp", [float("nan"), float("inf"), float("-inf"), "9999999999", True])
@pytest.mark.parametrize("where", ["header", "claims"])
def test_exp_must_be_a_finite_number(
    world: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    key_server: KeyServer,
    where: str,
    exp: object,
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")
    token = mint(signing_key, **{where: {"exp": exp}})

    unauthorised(login(token), aws_calls, "token_malformed")
    if where == "header":
        assert key_server.fetches == []  # refused before the key was fetched


@pytest.mark.parametrize("where", [0, 1])
def test_deeply_nested_json_is_malformed_not_a_crash(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, where: int
) -> None:
    # Signed, so that the payload is read too: json.loads raises RecursionError, not ValueError.
    deep = b"[" * 5000 + b"]" * 5000
    parts = mint(signing_key).split(".")[:2]
    parts[where] = b64url(deep)
    signature = b64url(signing_key.sign(".".join(parts).encode()))

    unauthorised(login(".".join([*parts, signature])), aws_calls, "token_malformed")


def test_json_nan_and_infinity_really_reach_authx(signing_key: SigningKey) -> None:
    # mint writes what json.dumps writes: the bare NaN / Infinity tokens json.loads accepts.
    import base64

    head = mint(signing_key, header={"exp": float("nan")}).split(".")[0]
    assert b'"exp":NaN' in base64.urlsafe_b64decode(head)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("signer", [ALB_ARN], "token_signer_rejected"),
        ("signer", {"arn": ALB_ARN}, "token_signer_rejected"),
        ("signer", 1, "token_signer_rejected"),
        ("alg", ["ES256"], "token_algorithm_rejected"),
        ("alg", {"ES256": 1}, "token_algorithm_rejected"),
        ("kid", ["x"], "token_kid_rejected"),
        ("kid", {"x": 1}, "token_kid_rejected"),
        ("exp", [1], "token_malformed"),
        ("exp", {"a": 1}, "token_malformed"),
    ],
)
def test_header_field_of_the_wrong_json_type(
    world: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    field: str,
    value: object,
    reason: str,
) -> None:
    unauthorised(login(mint(signing_key, header={field: value})), aws_calls, reason)


HEADER_FIELDS = ("kid", "signer", "alg", "exp", "typ", "crit", "b64", "iss", "client")
PAYLOAD_FIELDS = ("exp", "email", "groups", "email_verified", "sub", "jti", "iss", "nbf", "iat")


def _right_type(where: str, field: str, value: Any, signing_key: SigningKey) -> bool:
    """Whether `value` is a value of the right type that the ALB could really put there.

    None stands for the field left out (`mint` removes it).
    """
    if value is None:
        return field not in (
            ("kid", "signer", "alg", "exp") if where == "header" else ("exp", "email")
        )
    if where == "header":
        return {
            "kid": value == signing_key.kid,
            "signer": value == ALB_ARN,
            "alg": value == "ES256",
            "exp": _finite_number(value) and value > time.time(),
            "crit": False,  # no critical extension is understood: any is refused
            "b64": value is True,  # only the default, base64url-encoded payload
        }.get(field, True)
    return {
        "exp": _finite_number(value) and value > time.time(),
        "email": isinstance(value, str) and value.strip() != "",
        "groups": value is None
        or isinstance(value, str)
        or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
        "email_verified": value is True
        or (isinstance(value, str) and value.isascii() and value.lower() == "true"),
        "sub": isinstance(value, str),
        "jti": isinstance(value, str),
    }.get(field, True)


@settings(max_examples=150, deadline=None, suppress_health_check=SUPPRESSED)
@given(
    where=st.sampled_from(["header", "claims"]),
    data=st.data(),
    value=json_values,
)
def test_any_field_of_any_json_shape_is_a_401_or_a_normal_answer(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, where: str, data: Any, value: Any
) -> None:
    field = data.draw(st.sampled_from(HEADER_FIELDS if where == "header" else PAYLOAD_FIELDS))
    aws_calls.calls.clear()

    response = login(mint(signing_key, **{where: {field: value}}))

    status = response["statusCode"]
    if status == 401:
        assert aws_calls.calls == []
        assert "Sign-in could not be verified" in response["body"]
    else:
        # Nothing granted: a token that passed every check ends as a 403 after DynamoDB.
        assert status == 403, response["body"]
        assert _right_type(where, field, value, signing_key), (field, value)
    if not _right_type(where, field, value, signing_key):
        assert status == 401, (field, value)
        assert aws_calls.calls == []
    json.dumps(response)  # the answer itself is plain JSON


# --- Siblings: every name authX compares is lower-cased in ASCII only ---


@pytest.mark.parametrize(
    "host",
    [
        "{kelvin}",  # U+212A KELVIN SIGN for each 'k' (str.lower() makes it 'k')
        "{host}:\u0664\u0664\u0663",  # a port in Arabic-Indic digits (str.isdigit() accepts it)
        "\u3000{host}",  # an ideographic space (str.strip() removes it)
    ],
    ids=["kelvin", "unicode-port", "unicode-space"],
)
def test_a_host_that_only_looks_like_an_environments_is_not_it(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, host: str
) -> None:
    world.environment("Kiosk", login_host="kiosk.mwaa.example.com")
    world.grant("user#alice@example.com", "*", "Admin")
    kelvin = "kiosk.mwaa.example.com".replace("k", KELVIN)
    sent = host.format(kelvin=kelvin, host="kiosk.mwaa.example.com")

    response = login(mint(signing_key), env=None, headers={"host": sent})

    assert response["statusCode"] == 400, response["body"]
    assert "Name the environment with ?mwaa_env=" in response["body"]
    assert aws_calls.of("AssumeRole") == []


def test_header_names_are_lower_cased_in_ascii_only(world: World, signing_key: SigningKey) -> None:
    # "coo\u212aie" is not the Cookie header: logout expires only the usual four shards.
    from authx.handler import lambda_handler
    from devstack.alb import alb_event

    event = alb_event(path="/logout")
    event["multiValueHeaders"][f"coo{KELVIN}ie"] = ["AWSELBAuthSessionCookie-9=x"]
    cookies = lambda_handler(event, None)["multiValueHeaders"]["Set-Cookie"]

    assert [c.split("=", 1)[0] for c in cookies] == [
        f"AWSELBAuthSessionCookie-{n}" for n in range(4)
    ] + ["_token", "session"]  # and Airflow's own session cookies (authx/airflow_paths.py)


def test_role_names_are_matched_in_ascii_case_only() -> None:
    from authx.roles import canonical_role

    assert canonical_role("VIEWER") == "Viewer"
    assert canonical_role("ADM\u0130N") is None  # İ is not I
    assert canonical_role("Admin\u200b") is None
