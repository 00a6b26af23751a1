"""Web login tokens as MWAA's web server takes them: for the environment they were issued for,
once, within 60 seconds (devstack's web server stand-ins redeem them; see devstack/webserver)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.core.exceptions import ServiceException

from devstack.mwaa import mwaa_backends
from devstack.mwaa.models import WEB_TOKEN_SECONDS
from devstack.mwaa.responses import redeem_web_login_token
from devstack.webserver.standin import redeem_over_http

from .conftest import ACCOUNT, REGION, Stack, create_params


def redeem(stack: Stack, name: str, token: str) -> tuple[int, dict[str, Any]]:
    if stack.url:
        return redeem_over_http(stack.url, REGION, ACCOUNT)(name, token)
    try:
        return 200, mwaa_backends[ACCOUNT][REGION].redeem_web_login_token(name, token)
    except ServiceException as error:
        return {"AccessDeniedException": 403, "ResourceNotFoundException": 404}[error.code], {
            "message": error.message
        }


def test_a_token_opens_one_session_with_what_it_was_issued_for(stack: Stack) -> None:
    mwaa = stack.client("mwaa")
    mwaa.create_environment(**create_params("web", stack.network()))
    token = mwaa.create_web_login_token(Name="web")

    status, issued = redeem(stack, "web", token["WebToken"])
    again, refused = redeem(stack, "web", token["WebToken"])

    assert status == 200
    assert issued["Environment"] == "web"
    assert issued["RbacRole"] == "Admin"  # moto's default caller, as an account root
    assert issued["IamIdentity"] == token["IamIdentity"]
    assert issued["AirflowIdentity"] == token["AirflowIdentity"]
    assert again == 403 and "used already" in refused["message"]


def test_a_token_is_refused_on_another_environment_and_when_made_up(stack: Stack) -> None:
    mwaa = stack.client("mwaa")
    network = stack.network()
    mwaa.create_environment(**create_params("one", network))
    mwaa.create_environment(**create_params("two", network))
    token = mwaa.create_web_login_token(Name="one")["WebToken"]

    assert redeem(stack, "two", token)[0] == 403
    assert redeem(stack, "one", "made-up")[0] == 403
    assert redeem(stack, "ghost", token)[0] == 404
    assert redeem(stack, "one", token)[0] == 200  # the refusals did not use it up


def test_a_token_expires_after_a_minute() -> None:
    import devstack

    with devstack.aws():
        backend = mwaa_backends[ACCOUNT][REGION]
        stack = Stack("in-process")
        stack.client("mwaa").create_environment(**create_params("late", stack.network()))
        token = stack.client("mwaa").create_web_login_token(Name="late")["WebToken"]
        later = time.time() + WEB_TOKEN_SECONDS + 1
        with pytest.raises(ServiceException, match="expired"):
            backend.redeem_web_login_token("late", token, now=later)
        assert backend.redeem_web_login_token("late", token)["Environment"] == "late"


def test_the_redeem_route_refuses_bad_bodies(stack: Stack) -> None:
    bodies = (b"", b"[]", b'{"WebToken": 1}', b'{"WebToken": "x", "Region": "moon"}')
    assert [post_redeem(stack, body) for body in bodies] == [400, 400, 400, 400]


def post_redeem(stack: Stack, body: bytes) -> int:
    """The devstack-only route, over HTTP (server) or called as moto would (in process)."""
    if not stack.url:
        path = "http://127.0.0.1:5000/devstack/webtoken/web/redeem"  # as the server sees it
        return redeem_web_login_token(SimpleNamespace(data=body), path, {})[0]
    url = f"{stack.url}/devstack/webtoken/web/redeem"
    signed = AWSRequest("POST", url, data=body)
    SigV4Auth(Credentials("devstack", "devstack"), "airflow", REGION).add_auth(signed)
    return requests.post(url, data=body, headers=dict(signed.headers), timeout=10).status_code
