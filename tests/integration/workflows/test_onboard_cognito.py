"""Onboarding with `authenticate-cognito` chosen: the environment's rules in devstack's ELBv2."""

from __future__ import annotations

from .conftest import World, aws
from .test_onboard import rules_of

USER_POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC123xyz"
COGNITO = {
    "ALB_AUTH_ACTION": "authenticate-cognito",
    "COGNITO_USER_POOL_ARN": USER_POOL_ARN,
    "COGNITO_USER_POOL_CLIENT_ID": "4pq2rcf7exampleclient",
    "COGNITO_USER_POOL_DOMAIN": "mwaa-users",
    "OIDC_CLIENT_SECRET_ARN": "",  # not needed, and not read
}


def test_private_environment_rules_sign_in_through_the_user_pool(world: World) -> None:
    world.stack.project.extra_env.update(COGNITO)
    world.existing_environment("Cog1", world.network("10.1"))

    assert world.onboard("Cog1").status_code == 202
    record = world.wait("Cog1")

    assert record["status"] == "READY", record.get("error")
    rules = rules_of(world)
    assert [int(r["Priority"]) for r in rules] == [1001, 20001]
    for rule in rules:
        actions = sorted(rule["Actions"], key=lambda a: a["Order"])
        assert [a["Type"] for a in actions] == ["authenticate-cognito", "forward"]
        config = actions[0]["AuthenticateCognitoConfig"]
        assert config["UserPoolArn"] == USER_POOL_ARN
        assert config["UserPoolClientId"] == "4pq2rcf7exampleclient"
        assert config["UserPoolDomain"] == "mwaa-users"
        assert config["SessionCookieName"] == "AWSELBAuthSessionCookie"
        assert actions[1]["TargetGroupArn"] == record["target_group_arn"]
    assert sorted(record["rule_arns"]) == sorted(r["RuleArn"] for r in rules)


def test_bad_cognito_settings_fail_onboarding_with_the_cause(world: World) -> None:
    world.stack.project.extra_env.update({**COGNITO, "COGNITO_USER_POOL_ARN": "pool"})
    world.existing_environment("Cog2", world.network("10.2"))

    world.onboard("Cog2")
    record = world.wait("Cog2")

    assert record["status"] == "FAILED"
    assert "COGNITO_USER_POOL_ARN is not a Cognito user pool ARN" in str(record["error"])
    assert rules_of(world) == []
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
