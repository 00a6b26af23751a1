"""The ALB Lambda contract and the pages: response shape, single-value mode, escaping."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authx import pages
from authx.alb import Response, render
from authx.errors import NotGranted
from authx.handler import lambda_handler


@pytest.mark.parametrize("path", ["/logout", "/logout/close", "/aws_mwaa/aws-console-sso"])
def test_single_value_mode_is_refused_as_a_configuration_error(path: str) -> None:
    # With multi-value headers off, the ALB keeps one Set-Cookie only: logout would expire one
    # shard and say "signed out". authX refuses to run that way, on every path, and says why.
    event = {
        "httpMethod": "GET",
        "path": path,
        "queryStringParameters": {},
        "headers": {"host": "gate.example.com", "cookie": "AWSELBAuthSessionCookie-0=a"},
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:x"}},
        "isBase64Encoded": False,
        "body": "",
    }

    response = lambda_handler(event, None)

    assert response["statusCode"] == 500
    assert "multiValueHeaders" not in response
    assert "Set-Cookie" not in response["headers"]
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "lambda.multi_value_headers.enabled = true" in response["body"]
    assert "single_value_headers" in response["body"]


def test_an_event_that_is_not_an_alb_request_is_a_bad_request() -> None:
    response = lambda_handler({"hello": "world"}, None)

    assert response["statusCode"] == 400
    assert "This is not a load balancer request." in response["body"]
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"


def test_response_shape_is_what_the_alb_expects() -> None:
    response = render(Response(status=302, headers=[("Location", "https://x.example/")]))

    assert set(response) == {
        "statusCode",
        "statusDescription",
        "isBase64Encoded",
        "multiValueHeaders",
        "body",
    }
    assert response["isBase64Encoded"] is False
    assert all(isinstance(v, list) for v in response["multiValueHeaders"].values())


@given(st.text(max_size=200))
def test_pages_escape_whatever_they_are_given(text: str) -> None:
    body = pages.refusal(NotGranted(text or "x"))

    message = body.split("<p>", 1)[1].split("</p>", 1)[0]
    assert html.unescape(message) == (text or "x")
    assert not any(dangerous in message for dangerous in ("<", ">", '"', "'"))
