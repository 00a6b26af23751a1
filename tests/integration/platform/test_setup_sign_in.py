"""Platform setup's sign-in choices and portal rule, checked in devstack's ELBv2 and Lambda."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.platform.config import ConfigError
from chalicelib.platform.report import UPDATE

from .conftest import ACCOUNT, REGION, Platform, aws
from .test_setup import AUTHX, rules_by_priority, run_setup

USER_POOL_ARN = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_AbC123xyz"
COGNITO = {
    "ALB_AUTH_ACTION": "authenticate-cognito",
    "COGNITO_USER_POOL_ARN": USER_POOL_ARN,
    "COGNITO_USER_POOL_CLIENT_ID": "4pq2rcf7exampleclient",
    "COGNITO_USER_POOL_DOMAIN": "mwaa-users",
    "GROUPS_CLAIM": "custom:idp-groups",
    "PORTAL_HOST": "portal.airflow.example.com",
    "OIDC_CLIENT_SECRET_ARN": "",  # Cognito needs no client secret from us
}
AUTHENTICATED = ("1", "3", "10000")


def kinds(rule: dict[str, Any]) -> list[str]:
    return [a["Type"] for a in sorted(rule["Actions"], key=lambda a: a["Order"])]


def authx_variables() -> dict[str, str]:
    function = aws("lambda").get_function(FunctionName=AUTHX)["Configuration"]
    return function["Environment"]["Variables"]


def test_cognito_rules_portal_and_logout_written_by_setup(platform: Platform) -> None:
    first = run_setup(platform, **COGNITO)

    rules = rules_by_priority(platform)
    for priority in AUTHENTICATED:
        assert kinds(rules[priority]) == ["authenticate-cognito", "forward"], priority
        config = rules[priority]["Actions"][0]["AuthenticateCognitoConfig"]
        assert config["UserPoolArn"] == USER_POOL_ARN
        assert config["UserPoolClientId"] == "4pq2rcf7exampleclient"
        assert config["UserPoolDomain"] == "mwaa-users"
        assert config["Scope"] == "openid"
        assert config["SessionCookieName"] == "AWSELBAuthSessionCookie"
        assert config["OnUnauthenticatedRequest"] == "authenticate"
        assert "AuthenticateOidcConfig" not in rules[priority]["Actions"][0]
    assert kinds(rules["2"]) == ["forward"]
    hosts = [c for c in rules["3"]["Conditions"] if c["Field"] == "host-header"]
    assert hosts[0]["HostHeaderConfig"]["Values"] == ["portal.airflow.example.com"]
    variables = authx_variables()
    assert variables["PORTAL_HOST"] == "portal.airflow.example.com"
    assert variables["GROUPS_CLAIM"] == "custom:idp-groups"
    assert variables["IDP_LOGOUT_URL"] == (
        "https://mwaa-users.auth.us-east-1.amazoncognito.com/logout"
        "?client_id=4pq2rcf7exampleclient"
        "&logout_uri=https%3A%2F%2Fportal.airflow.example.com%2Flogout%2Fclose"
    )
    assert first.made_changes()

    again = run_setup(platform, **COGNITO)
    assert again.made_changes() == []


def test_switching_the_sign_in_action_rewrites_the_authenticated_rules(
    platform: Platform,
) -> None:
    run_setup(platform)
    before = rules_by_priority(platform)

    switched = run_setup(platform, **COGNITO)

    updates = sorted((c.kind, c.name.split(" ")[0]) for c in switched.made_changes())
    assert updates == [
        ("lambda-function", AUTHX),
        ("listener-rule", "login"),
        ("listener-rule", "logout"),
        ("listener-rule", "portal"),
    ]
    assert {c.action for c in switched.made_changes()} == {UPDATE}
    after = rules_by_priority(platform)
    assert {p: r["RuleArn"] for p, r in after.items()} == {
        p: r["RuleArn"] for p, r in before.items()
    }  # modified in place, same priorities
    assert all(kinds(after[p])[0] == "authenticate-cognito" for p in AUTHENTICATED)

    back = run_setup(platform)

    assert all(
        kinds(rules_by_priority(platform)[p])[0] == "authenticate-oidc" for p in AUTHENTICATED
    )
    assert "IDP_LOGOUT_URL" not in authx_variables()
    assert len(back.made_changes()) == 4


def test_authx_accepts_tokens_of_the_chosen_sign_in_action_only(platform: Platform) -> None:
    run_setup(platform)
    oidc_origin = authx_variables()
    assert oidc_origin["ALB_TOKEN_ISSUERS"] == platform.variables["OIDC_ISSUER"]
    assert oidc_origin["ALB_TOKEN_CLIENT_IDS"] == platform.variables["OIDC_CLIENT_ID"]

    run_setup(platform, **COGNITO)

    cognito_origin = authx_variables()
    pool_id = USER_POOL_ARN.rsplit("/", 1)[1]
    assert cognito_origin["ALB_TOKEN_ISSUERS"] == (
        f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    )
    assert cognito_origin["ALB_TOKEN_CLIENT_IDS"] == COGNITO["COGNITO_USER_POOL_CLIENT_ID"]


def test_an_explicit_logout_url_and_a_custom_domain(platform: Platform) -> None:
    run_setup(platform, **{**COGNITO, "COGNITO_USER_POOL_DOMAIN": "login.example.com"})
    assert authx_variables()["IDP_LOGOUT_URL"].startswith(
        "https://login.example.com/logout?client_id=4pq2rcf7exampleclient&logout_uri="
    )

    run_setup(platform, **COGNITO, IDP_LOGOUT_URL="https://sso.example.com/bye?to={close_url}")
    assert authx_variables()["IDP_LOGOUT_URL"] == "https://sso.example.com/bye?to={close_url}"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"COGNITO_USER_POOL_ARN": ""}, "COGNITO_USER_POOL_ARN is not set"),
        (
            {"COGNITO_USER_POOL_ARN": f"arn:aws:iam::{ACCOUNT}:role/x"},
            "COGNITO_USER_POOL_ARN is not a Cognito user pool ARN",
        ),
        ({"COGNITO_USER_POOL_DOMAIN": "Bad_Domain!"}, "COGNITO_USER_POOL_DOMAIN must be"),
        ({"COGNITO_USER_POOL_CLIENT_ID": "a b"}, "COGNITO_USER_POOL_CLIENT_ID is not"),
        ({"ALB_AUTH_ACTION": "authenticate-saml"}, "ALB_AUTH_ACTION must be"),
        ({"OIDC_SESSION_TIMEOUT": "9999999"}, "OIDC_SESSION_TIMEOUT must be"),
        ({"PORTAL_HOST": "portal.example.com/evil"}, "PORTAL_HOST (or BASE_DOMAIN) is not"),
        ({"PORTAL_CONTACT": "ask\r\nSet-Cookie: x"}, "PORTAL_CONTACT must be"),
    ],
)
def test_bad_sign_in_settings_are_refused_before_anything_is_made(
    platform: Platform, changes: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        run_setup(platform, **{**COGNITO, **changes})

    assert message in str(refused.value)
    assert aws("iam").list_roles()["Roles"] == []


def test_the_cloudformation_path_writes_the_cognito_action(tmp_path: Any) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    from .test_package import REGION as PACKAGE_REGION
    from .test_package import package, project

    pool = USER_POOL_ARN.replace(REGION, PACKAGE_REGION).replace(ACCOUNT, "123456789012")
    folder = project(
        tmp_path / "project",
        ALB_AUTH_ACTION="authenticate-cognito",
        COGNITO_USER_POOL_ARN=pool,
        COGNITO_USER_POOL_CLIENT_ID="4pq2rcf7exampleclient",
        COGNITO_USER_POOL_DOMAIN="mwaa-users",
        OIDC_CLIENT_SECRET_ARN="",
    )
    assert package(folder, folder / "out") == 0
    text = (folder / "out" / "sam.json").read_text()
    resources = json.loads(text)["Resources"]

    for name in ("PlatformRuleLogout", "PlatformRulePortal", "PlatformRuleLogin"):
        first = resources[name]["Properties"]["Actions"][0]
        assert first["Type"] == "authenticate-cognito"
        assert first["AuthenticateCognitoConfig"]["UserPoolArn"] == pool
    assert "secretsmanager" not in text
    variables = resources["AuthxFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["IDP_LOGOUT_URL"].startswith(
        f"https://mwaa-users.auth.{PACKAGE_REGION}.amazoncognito.com/logout?client_id="
    )
    lint = subprocess.run(  # noqa: S603 - the venv's cfn-lint
        [str(Path(sys.executable).with_name("cfn-lint")), str(folder / "out" / "sam.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (lint.returncode, lint.stdout) == (0, "")
