"""Login: a verified user, their grants, and the redirect into MWAA (DESIGN §2, §5)."""

from __future__ import annotations

import json
import time

import pytest
from authx_support import (
    ACCOUNT,
    ENV,
    RBAC_ROLE_ARNS,
    AwsCalls,
    World,
    alb_event,
    header,
    login,
    web_token,
)
from moto.sts.models import sts_backends

from authx.handler import lambda_handler
from devstack.alb import SigningKey, mint
from devstack.mwaa import mwaa_backends


def assumed(aws_calls: AwsCalls) -> list[dict]:
    return aws_calls.of("AssumeRole")


def refused(response: dict, status: int, *texts: str) -> None:
    """A refusal: the status, no redirect, an HTML page that says why."""
    assert response["statusCode"] == status, response["body"]
    assert header(response, "Location") is None
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    assert response["body"].startswith("<!doctype html>")
    for text in texts:
        assert text in response["body"]


def test_user_grant_logs_in_with_a_web_token(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "User")

    response = login(mint(signing_key))

    assert web_token(response, world.login_host)
    assert response["statusDescription"] == "302 Found"
    assert response["isBase64Encoded"] is False
    assert response["body"] == ""
    assert header(response, "Cache-Control") == "no-store"
    assert aws_calls.services() == ["dynamodb", "sts", "mwaa"]
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["User"]


def test_each_login_gets_a_fresh_token_from_mwaa(world: World, signing_key: SigningKey) -> None:
    world.grant("user#alice@example.com", ENV, "User")

    first = web_token(login(mint(signing_key)), world.login_host)
    second = web_token(login(mint(signing_key)), world.login_host)

    assert first != second


@pytest.mark.parametrize(
    "groups",
    [
        ["other", "data-eng"],  # a JSON list (Okta, Keycloak…)
        "[other, data-eng]",  # Azure AD through Cognito
        "other,data-eng",  # comma-separated
        '["other","data-eng"]',  # a JSON list inside a string
    ],
    ids=["json-list", "bracketed-string", "comma-string", "json-in-string"],
)
def test_group_grant_in_each_claim_format(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, groups: object
) -> None:
    world.grant("group#data-eng", ENV, "Op")

    response = login(mint(signing_key, {"groups": groups}))

    assert web_token(response, world.login_host)
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["Op"]


def test_groups_claim_name_is_configurable(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUPS_CLAIM", "cognito:groups")
    world.grant("group#data-eng", ENV, "Viewer")

    assert web_token(login(mint(signing_key, {"cognito:groups": ["data-eng"]})), world.login_host)
    refused(login(mint(signing_key, {"groups": ["data-eng"]})), 403)


def test_star_grant_opens_every_environment(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", "*", "Viewer")

    response = login(mint(signing_key))

    assert web_token(response, world.login_host)
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["Viewer"]


def test_admin_grant_may_log_in_as_viewer(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    response = login(mint(signing_key), role="Viewer")

    assert web_token(response, world.login_host)
    call = assumed(aws_calls)[0]
    assert call["RoleArn"] == RBAC_ROLE_ARNS["Viewer"]
    assert f"role/{ENV}/Viewer" in call["Policy"]


def test_role_name_is_matched_case_insensitively(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    assert web_token(login(mint(signing_key), role="oP"), world.login_host)
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["Op"]


def test_viewer_grant_asking_admin_is_forbidden(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Viewer")

    response = login(mint(signing_key), role="Admin")

    refused(response, 403, "Access denied", "your role there is Viewer")
    assert aws_calls.services() == ["dynamodb"]


def test_highest_of_user_and_group_grants_wins(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Viewer")
    world.grant("group#ops", "*", "Op")
    world.grant("group#not-mine", ENV, "Admin")

    response = login(mint(signing_key, {"groups": ["ops"]}))

    assert web_token(response, world.login_host)
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["Op"]
    refused(login(mint(signing_key, {"groups": ["ops"]}), role="Admin"), 403)


def test_expired_grant_is_ignored(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin", expires_at=time.time() - 60)
    world.grant("group#readers", ENV, "Viewer", expires_at=time.time() + 3600)
    token = mint(signing_key, {"groups": ["readers"]})

    assert web_token(login(token), world.login_host)
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["Viewer"]
    refused(login(token, role="Admin"), 403, "your role there is Viewer")


def test_only_expired_grants_is_forbidden(world: World, signing_key: SigningKey) -> None:
    world.grant("user#alice@example.com", ENV, "Admin", expires_at=time.time() - 1)

    refused(login(mint(signing_key)), 403, "You have no access to the environment")


def test_no_grant_is_forbidden_without_sts_or_mwaa(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#bob@example.com", ENV, "Admin")  # someone else's
    world.grant("user#alice@example.com", "Env2", "Admin")  # another environment

    response = login(mint(signing_key))

    refused(response, 403, "You have no access to the environment &#x27;Env1&#x27;")
    assert aws_calls.services() == ["dynamodb"]


def test_unknown_environment_is_not_found(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", "*", "Admin")

    refused(login(mint(signing_key), env="Nope"), 404, "There is no environment named")
    assert aws_calls.services() == ["dynamodb"]


@pytest.mark.parametrize("status", ["PENDING", "ONBOARDING", "FAILED", "OFFBOARDING", "OFFBOARDED"])
def test_environment_not_ready_is_not_found(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, status: str
) -> None:
    world.environment(ENV, status=status, login_host=world.login_host)
    world.grant("user#alice@example.com", "*", "Admin")

    refused(login(mint(signing_key)), 404, "is not open for sign-in")
    assert aws_calls.services() == ["dynamodb"]


def test_environment_derived_from_the_request_host(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "User")

    response = login(mint(signing_key), env=None, headers={"host": f"{world.login_host}:443"})

    assert web_token(response, world.login_host)
    assert aws_calls.of("CreateWebLoginToken") == [{"Name": ENV}]
    # Warm: the host map is cached, so the next login is again DynamoDB, STS, MWAA only.
    aws_calls.calls.clear()
    login(mint(signing_key), env=None, headers={"host": world.login_host.upper()})
    assert aws_calls.services() == ["dynamodb", "sts", "mwaa"]


def test_unknown_host_is_not_found(world: World, signing_key: SigningKey) -> None:
    world.grant("user#alice@example.com", "*", "Admin")

    response = login(mint(signing_key), env=None, headers={"host": "nobody.example.com"})

    refused(response, 404, "No environment is served at this address.")


def test_unknown_role_name_is_a_bad_request(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    for asked in ("Administrator", "admin ", "<b>Op</b>"):
        refused(login(mint(signing_key), role=asked), 400, "is not an Airflow role")
    refused(login(mint(signing_key), role="<b>Op</b>"), 400, "&lt;b&gt;Op&lt;/b&gt;")
    assert aws_calls.calls == []


@pytest.mark.parametrize("env", ["*", "../Env1", "Env1#x", "1Env", "Env1\n", "E" * 81])
def test_invalid_environment_name_is_a_bad_request(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, env: str
) -> None:
    world.grant("user#alice@example.com", "*", "Admin")

    refused(login(mint(signing_key), env=env), 400, "not a valid environment name")
    assert aws_calls.calls == []


def test_parameter_given_twice_is_a_bad_request(world: World, signing_key: SigningKey) -> None:
    world.grant("user#alice@example.com", "*", "Admin")
    event = alb_event(
        query={"mwaa_env": [ENV, "Other"]}, headers={"x-amzn-oidc-data": mint(signing_key)}
    )

    refused(lambda_handler(event, None), 400, "must be given once")


def test_query_values_are_url_decoded(world: World, signing_key: SigningKey) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")
    event = alb_event(headers={"x-amzn-oidc-data": mint(signing_key)})
    # As the ALB passes them: still percent-encoded ('%31' is '1', '%69' is 'i').
    event["multiValueQueryStringParameters"] = {"mwaa_env": ["Env%31"], "rbac_role": ["V%69ewer"]}

    response = lambda_handler(event, None)

    assert web_token(response, world.login_host)


def test_groups_past_one_hundred_keys_are_read_in_chunks(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    groups = [f"team-{n:03d}" for n in range(120)]
    world.grant("group#team-119", ENV, "Op")

    response = login(mint(signing_key, {"groups": groups}))

    assert web_token(response, world.login_host)
    batches = aws_calls.of("BatchGetItem")
    sizes = [sum(len(t["Keys"]) for t in b["RequestItems"].values()) for b in batches]
    # 1 environment key + (user + 120 groups) x (Env1, *) = 243 keys: 100 + 100 + 43.
    assert sizes == [100, 100, 43]
    assert assumed(aws_calls)[0]["RoleArn"] == RBAC_ROLE_ARNS["Op"]


def test_sts_sees_source_identity_session_name_and_narrowing_policy(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    assert web_token(login(mint(signing_key), role="Op"), world.login_host)

    # moto records the role, session name and session policy of every AssumeRole...
    (recorded,) = sts_backends[ACCOUNT]["aws"].assumed_roles
    assert recorded.role_arn == RBAC_ROLE_ARNS["Op"]
    assert recorded.session_name == "alice@example.com"
    assert json.loads(recorded.policy) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "airflow:CreateWebLoginToken",
                "Resource": f"arn:aws:airflow:us-east-1:{ACCOUNT}:role/{ENV}/Op",
            }
        ],
    }
    # ...and devstack keeps the SourceIdentity STS accepted (moto alone drops it).
    assert recorded.source_identity == "alice@example.com"
    (sent,) = assumed(aws_calls)
    assert sent["DurationSeconds"] == 900
    # MWAA was called with the assumed role's credentials, not authX's own: MWAA saw the
    # assumed-role session, and mapped it to the Airflow role the session policy allows.
    assert recorded.access_key_id != "testing"
    web_login = mwaa_backends[ACCOUNT]["us-east-1"].web_logins[-1]  # this login's
    assert (
        web_login["iam_identity"]
        == f"assumed-role/{RBAC_ROLE_ARNS['Op'].split('/')[-1]}/alice@example.com"
    )
    assert web_login["role"] == "Op"


def test_user_id_unsafe_for_iam_is_made_safe_and_distinct(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.grant("user#o'brien+ops@example.com", ENV, "User")

    assert web_token(
        login(mint(signing_key, {"email": "O'Brien+Ops@example.com"})), world.login_host
    )

    (sent,) = assumed(aws_calls)
    assert sent["RoleSessionName"] == sent["SourceIdentity"]
    assert sent["SourceIdentity"].startswith("o-brien+ops@example.com-")
    (recorded,) = sts_backends[ACCOUNT]["aws"].assumed_roles
    assert recorded.session_name == sent["RoleSessionName"]
    assert recorded.source_identity == sent["SourceIdentity"]


def test_user_claim_is_configurable(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch, aws_calls: AwsCalls
) -> None:
    monkeypatch.setenv("USER_CLAIM", "preferred_username")
    world.grant("user#carol@corp.example", ENV, "Viewer")

    token = mint(signing_key, {"preferred_username": "Carol@Corp.Example"})

    assert web_token(login(token), world.login_host)
    assert assumed(aws_calls)[0]["SourceIdentity"] == "carol@corp.example"
