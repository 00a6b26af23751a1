"""The local ALB front's actions over HTTP, on devstack's server: authenticate-oidc with each
`OnUnauthenticatedRequest`, the IdP round trip and its session cookie, session timeout,
fixed-response, redirect, and what the front answers when a rule cannot be followed."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

import devstack
from devstack import alb, landscape
from devstack.front.server import Front
from devstack.idp import IdentityProvider, User

HOST = "app.airflow.localhost"
SECRET = "front-test-secret"


class Setup:
    def __init__(self, server: devstack.Server):
        self.elbv2 = boto3.client(
            "elbv2",
            region_name="us-east-1",
            endpoint_url=server.url,
            config=Config(inject_host_prefix=False),
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",
        )
        factory = lambda service: boto3.client(  # noqa: E731
            service,
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",
        )
        self.landscape = landscape.build(factory, alb_cidr="10.9")
        self.listener = self.landscape["listener_arn"]
        self.idp = IdentityProvider(
            "front-test",
            SECRET,
            redirect_uri_pattern=r"http://[a-z.]+\.localhost:\d+/oauth2/idpresponse",
            post_logout_pattern=r"$^",
            presets=[User("ann@example.com", "Ann", ("g1",))],
        ).start()
        self.front = Front(
            aws_url=server.url,
            listener_arn=self.listener,
            signing_key=alb.SigningKey(),
            web_servers=lambda ip, port: None,
        ).start()
        self.priority = 100

    def authenticate(self, unauthenticated: str = "authenticate", timeout: int = 3600) -> dict:
        endpoints = self.idp.endpoints()
        return {
            "Type": "authenticate-oidc",
            "Order": 1,
            "AuthenticateOidcConfig": {
                "Issuer": endpoints["issuer"],
                "AuthorizationEndpoint": endpoints["authorization_endpoint"],
                "TokenEndpoint": endpoints["token_endpoint"],
                "UserInfoEndpoint": endpoints["userinfo_endpoint"],
                "ClientId": "front-test",
                "ClientSecret": SECRET,
                "Scope": "openid email",
                "SessionTimeout": timeout,
                "OnUnauthenticatedRequest": unauthenticated,
            },
        }

    def rule(self, path: str, *actions: dict[str, Any]) -> None:
        self.priority += 1
        self.elbv2.create_rule(
            ListenerArn=self.listener,
            Priority=self.priority,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": [path]}}],
            Actions=list(actions),
        )

    def get(self, path: str, cookies: dict[str, str] | None = None) -> requests.Response:
        headers = {"Host": f"{HOST}:{self.front.port}"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return requests.get(
            f"http://127.0.0.1:{self.front.port}{path}",
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )

    def sign_in(self, path: str) -> dict[str, str]:
        """Follow the front to the IdP, sign in as the sample user, come back; the cookies."""
        first = self.get(path)
        assert first.status_code == 302
        idp = requests.Session()
        page = idp.get(first.headers["Location"].replace("idp.localhost", "127.0.0.1"), timeout=10)
        form = re.search(
            r"action='([^']+)'><input type='hidden' name='csrf' value='([^']+)'", page.text
        )
        assert form is not None
        answer = idp.post(
            f"{self.idp.local_base}{unescape(form.group(1))}",
            data={"csrf": form.group(2), "email": "ann@example.com", "name": "Ann", "groups": "g1"},
            allow_redirects=False,
            timeout=10,
        )
        callback = urlsplit(answer.headers["Location"])
        back = self.get(f"{callback.path}?{callback.query}")
        assert back.status_code == 302 and back.headers["Location"] == path
        return {
            c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0]
            for c in back.raw.headers.getlist("Set-Cookie")
        }


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    with devstack.server() as server:
        made = Setup(server)
        try:
            yield made
        finally:
            made.front.stop()
            made.idp.stop()


def fixed(body: str, order: int = 2) -> dict[str, Any]:
    return {
        "Type": "fixed-response",
        "Order": order,
        "FixedResponseConfig": {
            "StatusCode": "200",
            "ContentType": "text/plain",
            "MessageBody": body,
        },
    }


def test_the_default_action_answers_what_no_rule_matches(setup: Setup) -> None:
    answer = setup.get("/nothing/here")
    assert (answer.status_code, answer.text) == (404, "Not found")  # the landscape's default


def test_deny_is_a_401_and_allow_passes_without_claims(setup: Setup) -> None:
    setup.rule("/denied", setup.authenticate("deny"), fixed("secret"))
    setup.rule("/allowed", setup.authenticate("allow"), fixed("open"))
    assert setup.get("/denied").status_code == 401
    allowed = setup.get("/allowed")
    assert (allowed.status_code, allowed.text) == (200, "open")


def test_authenticate_sends_the_browser_to_the_idp_with_state_and_nonce(setup: Setup) -> None:
    setup.rule("/private", setup.authenticate(), fixed("private"))
    answer = setup.get("/private?x=1")
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert answer.status_code == 302
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == setup.idp.endpoints()["authorization_endpoint"]
    )
    assert query["response_type"] == ["code"] and query["client_id"] == ["front-test"]
    assert query["redirect_uri"] == [f"http://{HOST}:{setup.front.port}/oauth2/idpresponse"]
    assert query["scope"] == ["openid email"]
    assert query["state"][0] and query["nonce"][0]


def test_the_idp_round_trip_opens_a_session_that_passes(setup: Setup) -> None:
    setup.rule("/session", setup.authenticate(), fixed("inside"))
    cookies = setup.sign_in("/session")
    assert list(cookies) == ["AWSELBAuthSessionCookie-0"]
    inside = setup.get("/session", cookies)
    assert (inside.status_code, inside.text) == (200, "inside")
    sealed = cookies["AWSELBAuthSessionCookie-0"]
    # The first character is the random nonce's: change it to one it is not.
    forged = {"AWSELBAuthSessionCookie-0": ("B" if sealed[0] == "A" else "A") + sealed[1:]}
    assert setup.get("/session", forged).status_code == 302


def test_a_session_ends_after_the_session_timeout(setup: Setup) -> None:
    setup.rule("/short", setup.authenticate(timeout=1), fixed("short"))
    cookies = setup.sign_in("/short")
    assert setup.get("/short", cookies).status_code == 200
    time.sleep(1.2)
    assert setup.get("/short", cookies).status_code == 302


def test_a_callback_with_a_state_the_front_did_not_make_is_refused(setup: Setup) -> None:
    assert setup.get("/oauth2/idpresponse?code=abc&state=made-up").status_code == 401
    assert setup.get("/oauth2/idpresponse").status_code == 401


def test_redirect_fills_its_placeholders(setup: Setup) -> None:
    setup.rule(
        "/old/*",
        {
            "Type": "redirect",
            "Order": 1,
            "RedirectConfig": {
                "Protocol": "HTTPS",
                "Path": "/new/#{path}",
                "StatusCode": "HTTP_301",
            },
        },
    )
    answer = setup.get("/old/page?q=1")
    assert answer.status_code == 301
    # https on 443 for a local host is this front's port (origins.py)
    assert answer.headers["Location"] == f"http://{HOST}:{setup.front.port}/new/old/page?q=1"


def test_a_forward_to_an_address_nothing_serves_is_a_502(setup: Setup) -> None:
    group = setup.elbv2.create_target_group(
        Name="nowhere", Protocol="HTTPS", Port=443, VpcId=setup.landscape["vpc_id"], TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    setup.rule("/nowhere", {"Type": "forward", "Order": 1, "TargetGroupArn": group})
    assert setup.get("/nowhere").status_code == 503  # no target registered
    setup.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.9.1.10", "Port": 443}])
    assert setup.get("/nowhere").status_code == 502


def raw(setup: Setup, head: str) -> str:
    """Send `head` as is; the status line that comes back."""
    with socket.create_connection(("127.0.0.1", setup.front.port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_bad_or_oversized_bodies_are_refused_before_any_rule(setup: Setup) -> None:
    base = f"POST /allowed HTTP/1.1\r\nHost: {HOST}\r\n"
    assert raw(setup, base + "Content-Length: -1\r\n\r\n").endswith("400 Bad Request")
    assert raw(setup, base + "Content-Length: 2000000\r\n\r\n").endswith(
        "413 Request Entity Too Large"
    )
    assert raw(setup, base + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").endswith(
        "400 Bad Request"
    )


@pytest.mark.parametrize("host", ["", "[::1]:80", "a..b", "ünïcode.localhost", "x" * 300, "h:1:2"])
def test_odd_hosts_reach_the_default_rule(setup: Setup, host: str) -> None:
    status = raw(setup, f"GET /anything HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    assert status.endswith("404 Not Found")
