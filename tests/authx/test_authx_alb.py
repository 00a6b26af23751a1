"""The ALB Lambda contract and the pages: response shape, single-value mode, escaping."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from authx import pages
from authx.alb import Response, render
from authx.errors import NotGranted
from authx.handler import lambda_handler


def test_single_value_event_gets_a_single_value_response() -> None:
    event = {
        "httpMethod": "GET",
        "path": "/logout/close",
        "queryStringParameters": {},
        "headers": {"host": "gate.example.com"},
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:x"}},
        "isBase64Encoded": False,
        "body": "",
    }

    response = lambda_handler(event, None)

    assert response["statusCode"] == 200
    assert "multiValueHeaders" not in response
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"


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
