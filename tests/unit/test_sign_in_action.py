"""The sign-in action builder (`chalicelib.oidc`) and what it asks of IAM: pure functions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib import oidc
from chalicelib.platform import policies

from .test_policies import deployed_stage, statement

POOL = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Ab12Cd34"
COGNITO = {
    "ALB_AUTH_ACTION": "authenticate-cognito",
    "COGNITO_USER_POOL_ARN": POOL,
    "COGNITO_USER_POOL_CLIENT_ID": "1example23456789",
    "COGNITO_USER_POOL_DOMAIN": "mwaa-users",
}
OIDC = {
    "OIDC_ISSUER": "https://idp.example.com",
    "OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example.com/authorize",
    "OIDC_TOKEN_ENDPOINT": "https://idp.example.com/token",
    "OIDC_USER_INFO_ENDPOINT": "https://idp.example.com/userinfo",
    "OIDC_CLIENT_ID": "gate",
    "OIDC_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
}


def test_oidc_is_the_default_and_carries_the_secret_only_when_given() -> None:
    with_secret = oidc.authenticate_action(OIDC, "s3cret")
    to_compare = oidc.authenticate_action(OIDC)

    assert with_secret["Type"] == "authenticate-oidc" and with_secret["Order"] == 1
    assert with_secret["AuthenticateOidcConfig"]["ClientSecret"] == "s3cret"
    assert "ClientSecret" not in to_compare["AuthenticateOidcConfig"]
    assert oidc.comparable(with_secret) == oidc.comparable(to_compare)
    assert oidc.needs_client_secret(OIDC)
    assert oidc.problems(OIDC) == []
    assert oidc.logout_url(OIDC, "https://x/logout/close") is None


def test_cognito_action_never_takes_a_secret() -> None:
    action = oidc.authenticate_action(COGNITO, "ignored", order=2)

    assert action == {
        "Type": "authenticate-cognito",
        "Order": 2,
        "AuthenticateCognitoConfig": {
            "UserPoolArn": POOL,
            "UserPoolClientId": "1example23456789",
            "UserPoolDomain": "mwaa-users",
            "Scope": "openid",
            "SessionCookieName": "AWSELBAuthSessionCookie",
            "SessionTimeout": 28800,
            "OnUnauthenticatedRequest": "authenticate",
        },
    }
    assert not oidc.needs_client_secret(COGNITO)
    assert oidc.problems(COGNITO) == []
    assert oidc.comparable(action) != oidc.comparable(oidc.authenticate_action(OIDC))


@pytest.mark.parametrize(
    ("domain", "host"),
    [
        ("mwaa-users", "mwaa-users.auth.eu-west-1.amazoncognito.com"),
        ("auth.example.com", "auth.example.com"),
    ],
)
def test_cognito_logout_url(domain: str, host: str) -> None:
    url = oidc.logout_url(
        {**COGNITO, "COGNITO_USER_POOL_DOMAIN": domain},
        "https://gate.example.com/logout/close?x=1&y=2",
    )
    assert url == (
        f"https://{host}/logout?client_id=1example23456789"
        "&logout_uri=https%3A%2F%2Fgate.example.com%2Flogout%2Fclose%3Fx%3D1%26y%3D2"
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"ALB_AUTH_ACTION": "cognito"}, "ALB_AUTH_ACTION must be"),
        ({"COGNITO_USER_POOL_DOMAIN": ""}, "COGNITO_USER_POOL_DOMAIN is not set"),
        ({"COGNITO_USER_POOL_DOMAIN": "-bad-"}, "COGNITO_USER_POOL_DOMAIN must be"),
        ({"COGNITO_USER_POOL_DOMAIN": "x.example.com\r\n"}, None),  # stripped like every value
        (
            {"COGNITO_USER_POOL_ARN": POOL.replace("eu-west-1_", "us-east-1_")},
            "not a Cognito user pool ARN",
        ),
        ({"COGNITO_USER_POOL_CLIENT_ID": "abc/def"}, "COGNITO_USER_POOL_CLIENT_ID is not"),
        ({"OIDC_SESSION_TIMEOUT": "0"}, "OIDC_SESSION_TIMEOUT must be"),
        ({"OIDC_SESSION_TIMEOUT": "٣"}, "OIDC_SESSION_TIMEOUT must be"),  # a non-ASCII digit
    ],
)
def test_problems_name_each_bad_setting(changes: dict[str, str], problem: str | None) -> None:
    found = oidc.problems({**COGNITO, **changes})
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


def test_steps_policy_follows_the_sign_in_action() -> None:
    stage = deployed_stage()
    cognito = replace(stage, variables={**stage.variables, **COGNITO})

    with_oidc = policies.step(stage, "onboard_route_host")
    with_cognito = policies.step(cognito, "onboard_route_host")

    assert statement(with_oidc, "OidcClientSecret")["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement(with_cognito, "CognitoUserPoolClient") == {
        "Sid": "CognitoUserPoolClient",
        "Effect": "Allow",
        "Action": ["cognito-idp:DescribeUserPoolClient"],
        "Resource": [POOL],
    }
    assert "secretsmanager" not in str(with_cognito)


def test_authx_may_query_the_tables() -> None:
    document = policies.authx(deployed_stage(), "gate-authx", ["arn:aws:iam::1:role/r"])
    assert "dynamodb:Query" in statement(document, "ReadTables")["Action"]
