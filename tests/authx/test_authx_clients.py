"""Issue 15: nothing is built per sign-in, and each sign-in's MWAA call is signed with that
sign-in's own assumed-role credentials, never another user's, never authX's own."""

from __future__ import annotations

import re
import threading
from typing import Any

import botocore
import pytest
from authx_support import ACCOUNT, ENV, REGION, AwsCalls, World, login, web_token
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import ReadOnlyCredentials
from moto.sts.models import sts_backends

from authx import aws
from devstack.alb import SigningKey, mint
from devstack.mwaa import mwaa_backends

CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **kwargs: Any) -> None:
        self.count += 1


class MwaaRequests:
    """What each MWAA request carried when it left botocore (`before-send`)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def __call__(self, request: Any, **kwargs: Any) -> None:
        match = CREDENTIAL.search(request.headers.get("Authorization", b"").decode())
        assert match is not None, "an MWAA request left unsigned"
        self.sent.append(
            {
                "access_key": match.group(1),
                "region": match.group(2),
                "service": match.group(3),
                "token": request.headers.get("X-Amz-Security-Token", b"").decode(),
            }
        )


@pytest.fixture
def built(aws_calls: AwsCalls) -> Counter:
    """botocore clients built from now on (one `creating-client-class` per create_client)."""
    counter = Counter()
    aws.session().register("creating-client-class", counter)
    return counter


@pytest.fixture
def mwaa_requests(aws_calls: AwsCalls) -> MwaaRequests:
    recorder = MwaaRequests()
    aws.session().register("before-send.mwaa", recorder)
    return recorder


@pytest.fixture
def two_users(world: World) -> World:
    world.grant("user#alice@example.com", ENV, "Admin")
    world.grant("user#bob@example.com", ENV, "Viewer")
    return world


def test_a_warm_sign_in_builds_no_client(
    two_users: World, signing_key: SigningKey, built: Counter
) -> None:
    alice = mint(signing_key)
    bob = mint(signing_key, {"email": "bob@example.com"})

    assert web_token(login(alice), two_users.login_host)
    assert built.count == 3  # the first sign-in: DynamoDB, STS and MWAA, once each

    for token in (bob, alice, bob, alice):
        assert web_token(login(token), two_users.login_host)

    assert built.count == 3


def test_two_users_sign_mwaa_with_their_own_credentials(
    two_users: World, signing_key: SigningKey, mwaa_requests: MwaaRequests
) -> None:
    for email in ("alice@example.com", "bob@example.com", "alice@example.com"):
        assert web_token(login(mint(signing_key, {"email": email})), two_users.login_host)

    sessions = sts_backends[ACCOUNT]["aws"].assumed_roles
    assert [s.session_name for s in sessions] == [
        "alice@example.com",
        "bob@example.com",
        "alice@example.com",
    ]
    # Each MWAA call was signed with the credentials STS issued for that very sign-in...
    assert [r["access_key"] for r in mwaa_requests.sent] == [s.access_key_id for s in sessions]
    assert [r["token"] for r in mwaa_requests.sent] == [s.session_token for s in sessions]
    assert all(r["service"] == "airflow" and r["region"] == REGION for r in mwaa_requests.sent)
    # ...so no two sign-ins shared credentials, not even the same user's twice, and none used
    # authX's own ("testing" here).
    assert len({r["access_key"] for r in mwaa_requests.sent}) == 3
    assert "testing" not in {r["access_key"] for r in mwaa_requests.sent}
    # MWAA saw each user's own assumed-role session, with that user's Airflow role.
    logins = mwaa_backends[ACCOUNT][REGION].web_logins[-3:]
    assert [(w["iam_identity"].rsplit("/", 1)[1], w["role"]) for w in logins] == [
        ("alice@example.com", "Admin"),
        ("bob@example.com", "Viewer"),
        ("alice@example.com", "Admin"),
    ]


def test_the_mwaa_client_holds_no_credentials_and_refuses_to_send_unsigned(
    aws_calls: AwsCalls,
) -> None:
    client = aws.mwaa(REGION)

    assert client.meta.config.signature_version is botocore.UNSIGNED
    assert aws.mwaa(REGION) is client  # one per region, for the container's life
    with pytest.raises(RuntimeError, match=r"outside aws\.signing_as"):
        client.create_web_login_token(Name=ENV)


def test_the_signature_covers_the_request_as_sent(
    two_users: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    # Recompute SigV4 over the request exactly as it left botocore, with the credentials STS
    # issued: nothing signed was changed after signing (User-Agent, retry headers...).
    sent: list[Any] = []
    aws.session().register("before-send.mwaa", lambda request, **kwargs: sent.append(request))

    assert web_token(login(mint(signing_key)), two_users.login_host)

    (request,) = sent
    (session,) = sts_backends[ACCOUNT]["aws"].assumed_roles
    authorization = request.headers["Authorization"].decode()
    signed = re.search(r"SignedHeaders=([^,]+)", authorization).group(1).split(";")
    copy = AWSRequest(method=request.method, url=request.url, data=request.body)
    for name in signed:
        if name != "host":  # SigV4 takes the host from the URL
            value = request.headers[name]
            copy.headers[name] = value.decode() if isinstance(value, bytes) else value
    copy.context["timestamp"] = request.headers["X-Amz-Date"].decode()
    signer = SigV4Auth(
        ReadOnlyCredentials(
            session.access_key_id, session.secret_access_key, session.session_token
        ),
        "airflow",
        REGION,
    )
    canonical = signer.canonical_request(copy)
    expected = signer.signature(signer.string_to_sign(copy, canonical), copy)
    assert authorization.endswith(f"Signature={expected}")
    assert "x-amz-security-token" in signed


class _Body:
    """A raw HTTP body as botocore reads it."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Any:
        yield self.data


def test_concurrent_sign_ins_never_see_each_others_credentials(aws_calls: AwsCalls) -> None:
    # Two threads inside signing_as at the same time, their requests interleaved: each request
    # carries its own thread's credentials (a context variable, not a client attribute).
    session = aws.session()
    barrier = threading.Barrier(2)
    seen: dict[str, str] = {}

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        barrier.wait(timeout=5)  # both requests are signed and in flight together
        match = CREDENTIAL.search(request.headers["Authorization"].decode())
        assert match is not None
        seen[threading.current_thread().name] = match.group(1)
        body = b'{"WebToken": "w", "WebServerHostname": "h"}'
        return AWSResponse(request.url, 200, {"content-type": "application/json"}, _Body(body))

    session.get_component("event_emitter").register_first("before-send.mwaa", answer)
    client = aws.mwaa(REGION)
    errors: list[BaseException] = []

    def sign_in(name: str) -> None:
        credentials = {"AccessKeyId": f"ASIA{name}", "SecretAccessKey": "s", "SessionToken": "t"}
        try:
            with aws.signing_as(credentials):
                assert client.create_web_login_token(Name=ENV)["WebToken"] == "w"
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sign_in, args=(n,), name=n) for n in ("ALICE", "BOB")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert seen == {"ALICE": "ASIAALICE", "BOB": "ASIABOB"}
