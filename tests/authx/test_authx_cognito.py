"""Sign-in through a Cognito user pool: groups from its claims, logout through its domain."""

from __future__ import annotations

import pytest
from authx_support import ENV, AwsCalls, World, alb_event, header, login, web_token

from authx.handler import lambda_handler
from chalicelib import oidc
from devstack.alb import SigningKey, mint

COGNITO = {
    "ALB_AUTH_ACTION": "authenticate-cognito",
    "COGNITO_USER_POOL_ARN": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Ab1",
    "COGNITO_USER_POOL_CLIENT_ID": "4pq2rcf7exampleclient",
    "COGNITO_USER_POOL_DOMAIN": "mwaa-users",
}
PORTAL_CLOSE = "https://gate.example.com/logout/close"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("cognito:groups", ["Amazon MWAA-Test-Admins", "other"]),  # user pool groups: a list
        ("custom:idp-groups", "[Amazon MWAA-Test-Admins, other]"),  # SAML groups, mapped
    ],
    ids=["cognito-groups", "custom-idp-groups"],
)
def test_login_with_groups_from_either_cognito_claim(
    world: World,
    signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    claim: str,
    value: object,
) -> None:
    monkeypatch.setenv("GROUPS_CLAIM", claim)
    world.grant("group#Amazon MWAA-Test-Admins", ENV, "Admin")

    token = mint(signing_key, {claim: value, "email_verified": "true"})
    response = login(token, role="Admin")

    assert web_token(response, world.login_host)


def test_the_other_claim_is_not_read(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUPS_CLAIM", "custom:idp-groups")
    world.grant("group#admins", ENV, "Admin")

    response = login(mint(signing_key, {"cognito:groups": ["admins"]}))

    assert response["statusCode"] == 403


def test_logout_ends_the_user_pool_session_then_shows_the_close_page(
    monkeypatch: pytest.MonkeyPatch, aws_calls: AwsCalls
) -> None:
    # What platform setup writes into authX's IDP_LOGOUT_URL when Cognito signs users in.
    url = oidc.logout_url(COGNITO, PORTAL_CLOSE)
    assert url is not None
    monkeypatch.setenv("IDP_LOGOUT_URL", url)

    response = lambda_handler(
        alb_event(
            path="/logout/",
            headers={
                "host": "sales.airflow.example.com",
                "cookie": "AWSELBAuthSessionCookie-0=a; AWSELBAuthSessionCookie-1=b",
            },
        ),
        None,
    )

    assert response["statusCode"] == 302
    assert header(response, "Location") == (
        "https://mwaa-users.auth.us-east-1.amazoncognito.com/logout"
        "?client_id=4pq2rcf7exampleclient"
        "&logout_uri=https%3A%2F%2Fgate.example.com%2Flogout%2Fclose"
    )
    cookies = response["multiValueHeaders"]["Set-Cookie"]
    assert [c.split("=", 1)[0] for c in cookies] == [
        f"AWSELBAuthSessionCookie-{n}" for n in range(4)
    ] + ["_token", "session"]  # and Airflow's own session cookies (authx/airflow_paths.py)
    assert all("Max-Age=0" in c for c in cookies)
    assert aws_calls.calls == []
