"""Findings of the attacker's review of authX: each is a test that failed before its fix."""

from __future__ import annotations

import io
import json
import logging

import pytest
from authx_support import ENV, AwsCalls, World, header, login, web_token
from cryptography.hazmat.primitives.asymmetric import ec

from authx import audit, keys
from authx.roles import MAX_GROUP_ID
from authx.settings import from_environ
from devstack.alb import CLIENT_ID, ISSUER, SigningKey, mint


def test_two_token_headers_are_a_401_whichever_is_genuine(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")
    genuine = mint(signing_key)

    response = login(None, headers={"x-amzn-oidc-data": [genuine, genuine]})

    assert response["statusCode"] == 401, response["body"]
    assert header(response, "Location") is None
    assert aws_calls.calls == []


def test_a_group_id_no_grant_can_name_is_left_out_not_a_failed_sign_in(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    # An over-long group id would exceed DynamoDB's 2,048-byte key limit (which moto does not
    # enforce) and so fail every sign-in of that user: it is never looked up.
    world.grant("group#ops", ENV, "Op")
    groups = ["x" * (MAX_GROUP_ID + 1), "ops", "é" * 1100]

    response = login(mint(signing_key, {"groups": groups}))

    assert web_token(response, world.login_host)
    (lookup,) = aws_calls.of("BatchGetItem")
    principals = {
        key["principal"]["S"]
        for request in lookup["RequestItems"].values()
        for key in request["Keys"]
        if "principal" in key
    }
    assert "group#ops" in principals
    assert all(len(principal) <= len("group#") + MAX_GROUP_ID for principal in principals)


def test_an_audit_line_is_written_for_a_path_with_a_lone_surrogate(
    world: World, signing_key: SigningKey
) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as Lambda's stdout
    handler = logging.StreamHandler(stream)
    handler.setFormatter(audit.logger.registered_formatter)
    audit.logger.addHandler(handler)
    try:
        response = login(mint(signing_key), headers={"x-amzn-trace-id": "Root=1-\ud800"})
    finally:
        audit.logger.removeHandler(handler)

    stream.flush()
    (line,) = [json.loads(text) for text in stream.buffer.getvalue().decode().splitlines()]
    assert line["audit"]["status"] == response["statusCode"]
    assert "\\ud800" in line["correlation_id"] or "\\ud800" in json.dumps(line)


BASE = {"AWS_REGION": "us-east-1", "ALB_ARNS": "arn:x", "GRANTS_TABLE": "g"}
BASE |= {"ENVIRONMENTS_TABLE": "e", "RBAC_ROLE_ARN_PATTERN": ""}


@pytest.mark.parametrize(
    "url",
    ["http://keys.example.com", "http://127.0.0.1.evil.example", "http://localhost@evil.example"],
)
def test_the_key_service_is_https_except_on_loopback(url: str) -> None:
    with pytest.raises(Exception, match="ALB_PUBLIC_KEY_URL"):
        from_environ({**BASE, "ALB_PUBLIC_KEY_URL": url})


def test_a_key_in_use_stays_cached_while_others_come_and_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fetched: list[str] = []
    pem = SigningKey().pem()

    def fetch(url: str) -> bytes:
        fetched.append(url.rsplit("/", 1)[1])
        return pem

    monkeypatch.setattr(keys, "_fetch_pem", fetch)
    keys._cache.clear()
    hot = "00000000-0000-4000-8000-000000000000"
    assert isinstance(keys.public_key("https://k.example", hot), ec.EllipticCurvePublicKey)
    for number in range(1, keys.MAX_CACHED_KEYS + 5):
        keys.public_key("https://k.example", f"00000000-0000-4000-8000-{number:012d}")
        keys.public_key("https://k.example", hot)  # in use on every sign-in

    assert fetched.count(hot) == 1


@pytest.mark.parametrize(
    ("header_changes", "accepted"),
    [
        ({}, True),  # devstack mints with ISSUER and CLIENT_ID, as the configured action
        ({"iss": "https://other-idp.example.com"}, False),
        ({"client": "another-app-client"}, False),
        ({"iss": None}, False),
        ({"client": [CLIENT_ID]}, False),
    ],
)
def test_only_tokens_of_this_deployments_sign_in_action_are_accepted(
    world: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    monkeypatch: pytest.MonkeyPatch,
    header_changes: dict,
    accepted: bool,
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")
    monkeypatch.setenv("ALB_TOKEN_ISSUERS", f"https://elsewhere.example.com, {ISSUER}")
    monkeypatch.setenv("ALB_TOKEN_CLIENT_IDS", CLIENT_ID)

    response = login(mint(signing_key, header=header_changes))

    if accepted:
        assert web_token(response, world.login_host)
    else:
        assert response["statusCode"] == 401, response["body"]
        assert "token_origin_rejected" in response["body"]
        assert aws_calls.calls == []
