"""AWS failures map to pages: MWAA AccessDenied 403, ResourceNotFound 404, throttling/5xx 502."""

from __future__ import annotations

import pytest
from authx_support import ENV, AwsCalls, World, header, login, mwaa_answers

from authx import aws
from devstack.alb import SigningKey, mint


def page(response: dict, status: int, *texts: str) -> None:
    assert response["statusCode"] == status, response["body"]
    assert header(response, "Location") is None
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    for text in texts:
        assert text in response["body"]


@pytest.fixture
def granted(world: World) -> World:
    world.grant("user#alice@example.com", "*", "Admin")
    return world


@pytest.mark.parametrize(
    ("http_status", "code", "status", "text"),
    [
        (403, "AccessDeniedException", 403, "Amazon MWAA refused this sign-in."),
        (404, "ResourceNotFoundException", 404, "Amazon MWAA has no environment named"),
        (400, "ThrottlingException", 502, "please try again"),
        (500, "InternalServerException", 502, "please try again"),
        (503, "ServiceUnavailable", 502, "please try again"),
    ],
)
def test_mwaa_errors_are_mapped(
    granted: World,
    signing_key: SigningKey,
    aws_calls: AwsCalls,
    http_status: int,
    code: str,
    status: int,
    text: str,
) -> None:
    aws.session().register("before-call.mwaa.CreateWebLoginToken", mwaa_answers(http_status, code))

    response = login(mint(signing_key))

    page(response, status, text)
    assert aws_calls.services() == ["dynamodb", "sts", "mwaa"]


def test_environment_gone_from_mwaa_is_not_found(granted: World, signing_key: SigningKey) -> None:
    # Recorded READY here, but devstack's MWAA has no such environment: its real 404.
    granted.environment("Ghost", login_host="ghost.mwaa.example.com")

    response = login(mint(signing_key), env="Ghost")

    page(response, 404, "Amazon MWAA has no environment named &#x27;Ghost&#x27;")


def test_sts_access_denied_is_a_configuration_error(
    granted: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    aws.session().register("before-call.sts.AssumeRole", mwaa_answers(403, "AccessDenied"))

    response = login(mint(signing_key))

    page(response, 500, "authX may not assume the IAM role for the Airflow role Admin.")
    assert aws_calls.services() == ["dynamodb", "sts"]


def test_sts_throttling_is_retryable(granted: World, signing_key: SigningKey) -> None:
    aws.session().register("before-call.sts.AssumeRole", mwaa_answers(400, "Throttling"))

    page(login(mint(signing_key)), 502, "please try again")


def test_dynamodb_failure_is_retryable(
    granted: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRANTS_TABLE", "no-such-table")

    page(login(mint(signing_key)), 502, "The grants could not be read; try again.")


def test_airflow_role_without_an_iam_role_is_a_configuration_error(
    granted: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch, aws_calls: AwsCalls
) -> None:
    monkeypatch.setenv("RBAC_ROLE_ARNS", '{"Viewer": "arn:aws:iam::123456789012:role/viewer"}')

    page(login(mint(signing_key)), 500, "No IAM role is configured for the Airflow role Admin.")
    assert aws_calls.services() == ["dynamodb"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RBAC_ROLE_ARNS", "not json"),
        ("RBAC_ROLE_ARNS", '{"Superuser": "arn:aws:iam::123456789012:role/x"}'),
        ("RBAC_ROLE_ARNS", '{"Admin": "arn:aws:iam::123456789012:user/x"}'),
        ("ALB_ARNS", " , "),
        ("ALB_COOKIE_NAME", "bad name;"),
        ("IDP_LOGOUT_URL", "http://idp.example.com/logout"),
    ],
)
def test_misconfiguration_is_a_500_page(
    granted: World,
    signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    aws_calls: AwsCalls,
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)

    page(login(mint(signing_key)), 500, "Sign-in is not configured correctly")
    assert aws_calls.calls == []


def test_login_host_in_the_record_must_be_a_host(granted: World, signing_key: SigningKey) -> None:
    granted.environment(ENV, login_host="evil.example.com/@x")

    page(login(mint(signing_key)), 500, "has no valid login host")
