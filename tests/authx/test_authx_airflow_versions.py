"""authX and Airflow versions: the redirect follows the recorded version, the stage may override
the paths, Airflow 3's paths are answered, a DEGRADED environment answers a 503 page."""

from __future__ import annotations

import pytest
from authx_support import ENV, ENVIRONMENTS_TABLE, World, alb_event, header, login

from authx.handler import lambda_handler
from devstack.alb import SigningKey, mint


def record_version(world: World, version: str | None, status: str = "READY") -> None:
    world.environment(ENV, status=status, login_host=world.login_host)
    if version is not None:
        world.dynamodb.update_item(
            TableName=ENVIRONMENTS_TABLE,
            Key={"name": {"S": ENV}},
            UpdateExpression="SET airflow_version = :v",
            ExpressionAttributeValues={":v": {"S": version}},
        )


@pytest.mark.parametrize(
    ("version", "path"),
    [
        (None, "/aws_mwaa/aws-console-sso"),
        ("2.10.3", "/aws_mwaa/aws-console-sso"),
        ("3.0.6", "/pluginsv2/aws_mwaa/aws-console-sso"),
    ],
)
def test_the_redirect_follows_the_recorded_version(
    world: World, signing_key: SigningKey, version: str | None, path: str
) -> None:
    record_version(world, version)
    world.grant("user#alice@example.com", ENV, "User")

    location = header(login(mint(signing_key)), "Location")

    assert location is not None
    assert location.startswith(f"https://{world.login_host}{path}?login=true#")


def test_the_stage_may_override_a_versions_paths(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_PATHS", '{"3": {"web_login": "/custom/sso"}}')
    record_version(world, "3.0.6")
    world.grant("user#alice@example.com", ENV, "User")

    location = header(login(mint(signing_key)), "Location")

    assert location is not None
    assert location.startswith(f"https://{world.login_host}/custom/sso?login=true#")


def test_a_bad_override_is_a_configuration_error_page(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_PATHS", '{"3": {"web_login": "//evil.example.com/"}}')
    world.grant("user#alice@example.com", ENV, "User")

    response = login(mint(signing_key))

    assert response["statusCode"] == 500
    assert "not configured correctly" in response["body"]
    assert header(response, "Location") is None


def test_an_airflow_version_without_paths_is_refused_clearly(
    world: World, signing_key: SigningKey
) -> None:
    record_version(world, "4.0.0")
    world.grant("user#alice@example.com", ENV, "User")

    response = login(mint(signing_key))

    assert response["statusCode"] == 500
    assert "no paths are known for Airflow 4" in response["body"]


def test_airflow_3_no_session_path_is_a_login(world: World, signing_key: SigningKey) -> None:
    record_version(world, "3.0.6")
    world.grant("user#alice@example.com", ENV, "User")
    event = alb_event(
        path="/auth/login/",
        query={"next": "http://evil.example.com/"},
        headers={"host": world.login_host, "x-amzn-oidc-data": mint(signing_key)},
    )

    response = lambda_handler(event, None)

    assert response["statusCode"] == 302, response["body"]
    location = header(response, "Location")
    assert location is not None
    assert location.startswith(f"https://{world.login_host}/pluginsv2/aws_mwaa/aws-console-sso?")
    assert "evil" not in location


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_airflow_3_logout_ends_both_sessions(method: str) -> None:
    response = lambda_handler(alb_event(path="/auth/logout", method=method), None)

    assert response["statusCode"] == 302
    cookies = [c.split("=", 1)[0] for c in response["multiValueHeaders"]["Set-Cookie"]]
    assert {"AWSELBAuthSessionCookie-0", "_token", "session"} <= set(cookies)


def test_airflow_3_logout_answers_get_and_post_only() -> None:
    response = lambda_handler(alb_event(path="/auth/logout/", method="DELETE"), None)

    assert response["statusCode"] == 405
    assert header(response, "Allow") == "GET, POST"


def test_a_degraded_environment_answers_a_clear_503_page(
    world: World, signing_key: SigningKey
) -> None:
    record_version(world, "2.10.3", status="DEGRADED")
    world.grant("user#alice@example.com", ENV, "User")

    response = login(mint(signing_key))

    assert response["statusCode"] == 503
    assert header(response, "Location") is None
    assert "This Airflow environment is unavailable" in response["body"]
    assert "try again" in response["body"]
