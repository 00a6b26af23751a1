"""The local ALB front's other parts: session cookie shards, the Lambda target's event and
answer, the https-on-443 ↔ local-port mapping, and authenticate action settings."""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devstack.front import authenticate, lambda_target
from devstack.front import session as sessions
from devstack.front.origins import LocalOrigins

COOKIE = "AWSELBAuthSessionCookie"


def a_session(groups: int = 1) -> sessions.Session:
    claims = {
        "sub": "u-1",
        "email": "a@example.com",
        "groups": [f"g-{n:04d}" for n in range(groups)],
    }
    return sessions.Session(claims=claims, access_token="at", expires_at=time.time() + 60)


# --- session cookie shards ----------------------------------------------------------------


def test_a_small_session_is_one_cookie_and_reads_back() -> None:
    sealer, made = sessions.Sealer(), a_session()
    shards = sessions.encode(sealer, made, COOKIE)
    assert [name for name, _ in shards] == [f"{COOKIE}-0"]
    found = sessions.decode(sealer, dict(shards), COOKIE)
    assert found is not None
    assert (found.claims, found.access_token) == (made.claims, made.access_token)
    assert abs(found.expires_at - made.expires_at) < 1e-6 and not found.expired()
    assert found.expired(now=made.expires_at)


def test_a_session_above_4_kb_is_split_into_shards_of_at_most_4000_characters() -> None:
    sealer = sessions.Sealer()
    shards = sessions.encode(sealer, a_session(groups=400), COOKIE)
    assert [name for name, _ in shards] == [f"{COOKIE}-{n}" for n in range(len(shards))]
    assert len(shards) >= 2
    assert all(len(value) <= sessions.SHARD_SIZE for _, value in shards)
    found = sessions.decode(sealer, dict(shards), COOKIE)
    assert found is not None and len(found.claims["groups"]) == 400


def test_more_than_four_shards_is_refused() -> None:
    with pytest.raises(sessions.SessionTooLarge):
        sessions.encode(sessions.Sealer(), a_session(groups=3000), COOKIE)


def test_missing_tampered_or_foreign_shards_are_no_session() -> None:
    sealer = sessions.Sealer()
    shards = dict(sessions.encode(sealer, a_session(groups=400), COOKIE))
    assert sessions.decode(sealer, {}, COOKIE) is None
    assert (
        sessions.decode(sealer, {k: v for k, v in shards.items() if k != f"{COOKIE}-1"}, COOKIE)
        is None
    )
    sealed = shards[f"{COOKIE}-0"]
    # The first character is the random nonce's: change it to one it is not.
    tampered = {**shards, f"{COOKIE}-0": ("B" if sealed[0] == "A" else "A") + sealed[1:]}
    assert sessions.decode(sealer, tampered, COOKIE) is None
    assert sessions.decode(sessions.Sealer(), shards, COOKIE) is None  # another front's key


def test_fewer_shards_than_before_expire_the_leftovers() -> None:
    headers = sessions.set_cookie_headers(
        [(f"{COOKIE}-0", "v")],
        {f"{COOKIE}-0": "x", f"{COOKIE}-1": "y", "other": "z"},
        COOKIE,
        time.time() + 60,
    )
    assert headers[0].startswith(f"{COOKIE}-0=v;") and "Secure; HttpOnly" in headers[0]
    assert headers[1].startswith(f"{COOKIE}-1=;") and "Max-Age=0" in headers[1]
    assert len(headers) == 2


@given(st.text(max_size=200))
def test_any_cookie_header_parses_without_error(header: str) -> None:
    assert isinstance(sessions.parse_cookies([header]), dict)


# --- Lambda target ---------------------------------------------------------------------------

HEADERS = [("Host", "a.localhost"), ("Cookie", "a=1"), ("Cookie", "b=2")]


def test_multi_value_event_keeps_every_value_and_the_query_as_sent() -> None:
    event = lambda_target.event("tg", "GET", "/p", "x=1&x=%2F&y", HEADERS, b"", multi_value=True)
    assert event["multiValueHeaders"]["cookie"] == ["a=1", "b=2"]
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "%2F"], "y": [""]}
    assert "headers" not in event and event["requestContext"]["elb"]["targetGroupArn"] == "tg"


def test_single_value_event_keeps_the_last_value() -> None:
    event = lambda_target.event("tg", "GET", "/p", "x=1&x=2", HEADERS, b"", multi_value=False)
    assert event["headers"]["cookie"] == "b=2"
    assert event["queryStringParameters"] == {"x": "2"}


def test_a_binary_body_is_sent_base64() -> None:
    event = lambda_target.event("tg", "POST", "/p", "", [], b"\xff\x00", multi_value=True)
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\xff\x00"


def test_answers_are_read_per_the_multi_value_setting() -> None:
    answer = {
        "statusCode": 302,
        "multiValueHeaders": {"Set-Cookie": ["a=; Max-Age=0", "b=; Max-Age=0"], "Location": ["/x"]},
        "body": "",
    }
    reply = lambda_target.reply(json.dumps(answer).encode(), False, multi_value=True)
    assert reply.status == 302
    assert [v for k, v in reply.headers if k == "Set-Cookie"] == ["a=; Max-Age=0", "b=; Max-Age=0"]


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"statusCode": "200"}',
        b'{"statusCode": 99}',
        b'{"statusCode": 200, "multiValueHeaders": {"a": "b"}}',
        b'{"statusCode": 200, "multiValueHeaders": {"a": ["x\\r\\nInjected: 1"]}}',
        b'{"statusCode": 200, "body": 5}',
        b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
    ],
)
def test_an_invalid_answer_is_a_502(payload: bytes) -> None:
    with pytest.raises(lambda_target.BadLambdaResponse):
        lambda_target.reply(payload, False, multi_value=True)


def test_a_function_error_is_a_502() -> None:
    with pytest.raises(lambda_target.BadLambdaResponse):
        lambda_target.reply(b'{"statusCode": 200}', True, multi_value=True)


# --- origins -------------------------------------------------------------------------------


def test_https_urls_of_local_hosts_map_to_their_local_port() -> None:
    origins = LocalOrigins(8080, {"idp.localhost": 8081})
    assert (
        origins.to_local("https://a.airflow.localhost/aws_mwaa/aws-console-sso?login=true#tok")
        == "http://a.airflow.localhost:8080/aws_mwaa/aws-console-sso?login=true#tok"
    )
    assert (
        origins.to_local("https://idp.localhost/logout?x=1")
        == "http://idp.localhost:8081/logout?x=1"
    )
    assert origins.to_local("https://a.localhost:443/") == "http://a.localhost:8080/"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "http://a.localhost/",
        "https://a.localhost:8443/",
        "/relative",
        "https://[::1",
    ],
)
def test_other_urls_are_left_alone(url: str) -> None:
    assert LocalOrigins(8080).to_local(url) == url


# --- authenticate settings -------------------------------------------------------------------


def oidc(**overrides: object) -> dict[str, object]:
    config = {
        "Issuer": "https://idp",
        "AuthorizationEndpoint": "https://idp/a",
        "TokenEndpoint": "https://idp/t",
        "UserInfoEndpoint": "https://idp/u",
        "ClientId": "c",
        "ClientSecret": "s",
        **overrides,
    }
    return {"Type": "authenticate-oidc", "AuthenticateOidcConfig": config}


def no_cognito(*_: str) -> dict[str, str]:
    raise AssertionError("not Cognito")


def test_oidc_defaults_are_the_albs() -> None:
    idp = authenticate.provider(oidc(), no_cognito, no_cognito)  # type: ignore[arg-type]
    assert (idp.cookie_name, idp.session_timeout, idp.on_unauthenticated, idp.scope) == (
        "AWSELBAuthSessionCookie",
        604800,
        "authenticate",
        "openid",
    )


@pytest.mark.parametrize(
    "bad", [{"ClientSecret": ""}, {"SessionTimeout": "x"}, {"SessionTimeout": 0}]
)
def test_an_unusable_authenticate_action_is_a_misconfiguration(bad: dict[str, object]) -> None:
    with pytest.raises(authenticate.Misconfigured):
        authenticate.provider(oidc(**bad), no_cognito, no_cognito)  # type: ignore[arg-type]


def test_cognito_endpoints_come_from_the_user_pool_domain() -> None:
    action = {
        "Type": "authenticate-cognito",
        "AuthenticateCognitoConfig": {
            "UserPoolArn": "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc",
            "UserPoolClientId": "client",
            "UserPoolDomain": "gate",
        },
    }
    idp = authenticate.provider(
        action,
        lambda pool, client: {"ClientSecret": "shh"},
        lambda domain, region: f"https://{domain}.auth.{region}.amazoncognito.com",
    )
    assert (
        idp.authorization_endpoint
        == "https://gate.auth.eu-west-1.amazoncognito.com/oauth2/authorize"
    )
    assert idp.userinfo_endpoint.endswith("/oauth2/userInfo")
    assert idp.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert idp.client_secret == "shh"


def test_state_is_bound_to_its_host_and_expires() -> None:
    sealer = sessions.Sealer()
    idp = authenticate.provider(oidc(), no_cognito, no_cognito)  # type: ignore[arg-type]
    url = authenticate.authorization_redirect(
        sealer, idp, "rule", 1, "http://a.localhost:1", "a.localhost", "/x"
    )
    state = url.split("state=")[1].split("&")[0]
    assert authenticate.open_state(sealer, state, "A.localhost")["target"] == "/x"
    with pytest.raises(authenticate.IdpFailed):
        authenticate.open_state(sealer, state, "b.localhost")
    with pytest.raises(authenticate.IdpFailed):
        authenticate.open_state(sealer, state + "x", "a.localhost")
