"""The ALB token checks: every failure is a 401 page, before any AWS call (DESIGN §5)."""

from __future__ import annotations

import time

import pytest
from authx_support import ENV, AwsCalls, World, header, login, web_token

from devstack.alb import ALB_ARN, OTHER_ALB_ARN, KeyServer, SigningKey, b64url, mint


def unauthorised(response: dict, aws_calls: AwsCalls, reason: str) -> None:
    """A 401 page naming the check that failed, and not one AWS call made."""
    assert response["statusCode"] == 401, response["body"]
    assert response["statusDescription"] == "401 Unauthorized"
    assert header(response, "Location") is None
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    assert "Sign-in could not be verified" in response["body"]
    assert reason in response["body"]
    assert aws_calls.calls == []


@pytest.fixture
def granted(world: World) -> World:
    world.grant("user#alice@example.com", ENV, "Admin")
    return world


def test_padded_token_is_accepted(granted: World, signing_key: SigningKey) -> None:
    token = mint(signing_key)
    header_segment, payload_segment, signature = token.split(".")
    assert signature.endswith("=")  # 64 bytes always pad: the ALB's form, kept on purpose
    assert "=" in header_segment + payload_segment or signature.endswith("==")

    assert web_token(login(token), granted.login_host)


def test_key_is_fetched_once_for_many_logins(
    granted: World, signing_key: SigningKey, key_server: KeyServer
) -> None:
    for _ in range(5):
        assert web_token(login(mint(signing_key)), granted.login_host)

    assert key_server.fetches == [f"/{signing_key.kid}"]


def test_missing_token(granted: World, aws_calls: AwsCalls) -> None:
    unauthorised(login(None), aws_calls, "token_missing")


def test_unsigned_identity_headers_are_ignored(
    granted: World, aws_calls: AwsCalls, signing_key: SigningKey
) -> None:
    response = login(
        None,
        headers={
            "x-amzn-oidc-identity": "alice@example.com",
            "x-amzn-oidc-accesstoken": mint(signing_key),
        },
    )

    unauthorised(response, aws_calls, "token_missing")


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b",
        "a.b.c.d",
        "..",
        "!!!.e30=.c2ln",
        b64url(b"not json") + ".e30=.c2ln",
        b64url(b"[1, 2]") + ".e30=.c2ln",
        b64url(b'{"kid":') + ".e30=.c2ln",
        "x" * 20000,
    ],
    ids=[
        "one-part",
        "two-parts",
        "four-parts",
        "empty-parts",
        "bad-base64",
        "not-json",
        "json-array",
        "truncated-json",
        "too-long",
    ],
)
def test_malformed_token(granted: World, aws_calls: AwsCalls, token: str) -> None:
    unauthorised(login(token), aws_calls, "token_malformed")


def test_expired_in_the_header_only(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls, key_server: KeyServer
) -> None:
    token = mint(signing_key, header_exp=time.time() - 60, payload_exp=time.time() + 600)

    unauthorised(login(token), aws_calls, "token_expired")
    assert key_server.fetches == []  # refused before the key was even fetched


def test_expired_in_the_payload_only(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    token = mint(signing_key, header_exp=time.time() + 600, payload_exp=time.time() - 60)

    unauthorised(login(token), aws_calls, "token_expired")


def test_expiry_has_a_small_leeway_only(granted: World, signing_key: SigningKey) -> None:
    just_now = time.time() - 1
    assert web_token(login(mint(signing_key, header_exp=just_now)), granted.login_host)
    assert login(mint(signing_key, header_exp=time.time() - 30))["statusCode"] == 401


@pytest.mark.parametrize("where", ["header", "claims"])
def test_missing_exp(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls, where: str
) -> None:
    token = mint(signing_key, **{where: {"exp": None}})

    unauthorised(login(token), aws_calls, "token_malformed")


def test_signed_by_another_key(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    impostor = SigningKey(kid=signing_key.kid)  # same kid, different private key

    unauthorised(login(mint(impostor)), aws_calls, "token_signature_invalid")


def test_tampered_claims(granted: World, signing_key: SigningKey, aws_calls: AwsCalls) -> None:
    head, _, signature = mint(signing_key).split(".")
    _, payload, _ = mint(signing_key, {"email": "mallory@example.com"}).split(".")

    unauthorised(login(f"{head}.{payload}.{signature}"), aws_calls, "token_signature_invalid")


def test_other_albs_signer(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls, key_server: KeyServer
) -> None:
    unauthorised(login(mint(signing_key, signer=OTHER_ALB_ARN)), aws_calls, "token_signer_rejected")
    assert key_server.fetches == []


def test_missing_signer(granted: World, signing_key: SigningKey, aws_calls: AwsCalls) -> None:
    unauthorised(
        login(mint(signing_key, header={"signer": None})), aws_calls, "token_signer_rejected"
    )


def test_alg_none(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls, key_server: KeyServer
) -> None:
    # Unsigned, as `none` means: no signature segment at all.
    unauthorised(login(mint(signing_key, alg="none")), aws_calls, "token_malformed")
    # `none` in the header over a genuine ES256 signature: the header's alg is refused anyway.
    _, payload, signature = mint(signing_key).split(".")
    head = mint(signing_key, alg="none").split(".")[0]
    unauthorised(login(f"{head}.{payload}.{signature}"), aws_calls, "token_algorithm_rejected")
    assert key_server.fetches == []


def test_hs256_signed_with_the_public_key(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    unauthorised(login(mint(signing_key, alg="HS256")), aws_calls, "token_algorithm_rejected")


def test_es256_header_over_an_hs256_signature(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    # The header claims ES256; the signature is an HMAC keyed with the public key: the pinned
    # algorithm verifies it as ES256, and it fails.
    head, payload, _ = mint(signing_key).split(".")
    _, _, hmac_signature = mint(signing_key, alg="HS256").split(".")

    unauthorised(login(f"{head}.{payload}.{hmac_signature}"), aws_calls, "token_signature_invalid")


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "../" + "0" * 8 + "-0000-0000-0000-" + "0" * 12,
        "d3b07384-d113-4ec8-98c4-b0f1b23c6e4e?x=1",
        "user@evil.example",
        "%2fd3b07384-d113-4ec8-98c4-b0f1b23c6e4e",
        "d3b07384%2fd113-4ec8-98c4-b0f1b23c6e4e",
        "d3b07384-d113-4ec8-98c4-b0f1b23c6e4e\n",
        "",
    ],
    ids=[
        "dotdot",
        "dotdot-uuid",
        "query",
        "at",
        "pct2f-prefix",
        "pct2f-inside",
        "newline",
        "empty",
    ],
)
def test_kid_outside_the_pattern_is_refused_without_fetching(
    granted: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    key_server: KeyServer,
    kid: str,
) -> None:
    unauthorised(login(mint(signing_key, kid=kid)), aws_calls, "token_kid_rejected")
    assert key_server.fetches == []


def test_kid_not_a_string(granted: World, signing_key: SigningKey, aws_calls: AwsCalls) -> None:
    unauthorised(login(mint(signing_key, header={"kid": 42})), aws_calls, "token_kid_rejected")


def test_unknown_kid_is_fetched_once_and_refused(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls, key_server: KeyServer
) -> None:
    stranger = SigningKey()  # never published

    unauthorised(login(mint(stranger)), aws_calls, "token_key_unknown")
    assert key_server.fetches == [f"/{stranger.kid}"]  # a 404 is not retried


def test_key_service_down(
    granted: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALB_PUBLIC_KEY_URL", "http://127.0.0.1:9")  # discard port: refused

    response = login(mint(signing_key))

    # Not the user's fault, and not a refusal of the token: AWS's key service failed (502).
    assert response["statusCode"] == 502, response["body"]
    assert "token_key_unavailable" in response["body"]
    assert aws_calls.calls == []


def test_missing_user_claim(granted: World, signing_key: SigningKey, aws_calls: AwsCalls) -> None:
    unauthorised(login(mint(signing_key, {"email": None})), aws_calls, "token_user_claim_missing")
    unauthorised(login(mint(signing_key, {"email": "  "})), aws_calls, "token_user_claim_missing")
    unauthorised(login(mint(signing_key, {"email": ["a"]})), aws_calls, "token_user_claim_missing")


def test_token_is_checked_before_the_request(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    # A bad role name and no environment: still a 401 first, when the token fails.
    response = login(mint(signing_key, signer=OTHER_ALB_ARN), env=None, role="Nope")

    unauthorised(response, aws_calls, "token_signer_rejected")


def test_pyjwt_agrees_with_authx_on_alb_tokens(granted: World, signing_key: SigningKey) -> None:
    """A well-kept JWT library and authX agree: each accepts the other's ES256 tokens."""
    import jwt  # PyJWT 2.15.1: a test dependency, never imported by authX

    padded = mint(signing_key)
    verified = jwt.decode(
        padded,
        signing_key.private.public_key(),
        algorithms=["ES256"],
        options={"verify_aud": False},
    )
    assert verified["email"] == "Alice@Example.com"

    now = int(time.time())
    by_pyjwt = jwt.encode(
        {"email": "alice@example.com", "exp": now + 120, "sub": "0b8f7c1e"},
        signing_key.private,
        algorithm="ES256",
        headers={"kid": signing_key.kid, "signer": ALB_ARN, "exp": now + 120},
    )
    assert web_token(login(by_pyjwt), granted.login_host)
