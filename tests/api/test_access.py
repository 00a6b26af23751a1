"""GET /access/{email}: the effective role per environment, by the rule authX uses."""

from __future__ import annotations

import boto3

from .conftest import GRANTS_TABLE, onboard, post, set_record


def grant(client, **body):
    response = post(client, "/grants", body)
    assert response.status_code == 201, response.json_body


def access(client, path):
    response = client.http.get(path)
    assert response.status_code == 200, response.json_body
    return {item["environment"]: item for item in response.json_body["environments"]}


def test_highest_of_user_group_and_star_grants_wins(client):
    for name in ("Env1", "Env2", "Env3"):
        onboard(client, name)
    set_record("Env1", status="READY", login_host="env1.example.com")
    set_record("Env2", status="READY", login_host="env2.example.com")
    grant(client, user="jane@example.com", environment="Env1", rbac_role="Viewer")
    grant(client, group="ops", environment="Env1", rbac_role="Op")
    grant(client, group="admins", environment="Env2", rbac_role="Admin")
    grant(client, user="jane@example.com", environment="*", rbac_role="User")

    with_groups = access(client, "/access/Jane@Example.com?groups=ops,admins")
    alone = access(client, "/access/jane@example.com")

    assert {env: item["rbac_role"] for env, item in with_groups.items()} == {
        "Env1": "Op",
        "Env2": "Admin",
        "Env3": "User",
    }
    assert {env: item["rbac_role"] for env, item in alone.items()} == {
        "Env1": "User",
        "Env2": "User",
        "Env3": "User",
    }
    assert with_groups["Env1"]["login_url"] == "https://env1.example.com/aws_mwaa/aws-console-sso"
    assert with_groups["Env3"]["status"] == "PENDING"
    assert "login_url" not in with_groups["Env3"]


def test_offboarded_environments_and_other_users_are_left_out(client):
    onboard(client, "Env1")
    onboard(client, "Env2")
    set_record("Env2", status="OFFBOARDED")
    grant(client, user="a@example.com", environment="Env1", rbac_role="User")
    grant(client, user="b@example.com", environment="*", rbac_role="Admin")

    assert list(access(client, "/access/a@example.com")) == ["Env1"]
    assert list(access(client, "/access/c@example.com?groups=x")) == []
    assert list(access(client, "/access/b@example.com")) == ["Env1"]


def test_expired_grants_do_not_count(client):
    onboard(client, "Env1")
    grant(client, user="a@example.com", environment="Env1", rbac_role="Viewer")
    boto3.client("dynamodb").put_item(  # an Admin grant that expired (TTL not yet run)
        TableName=GRANTS_TABLE,
        Item={
            "principal": {"S": "group#ops"},
            "environment": {"S": "Env1"},
            "rbac_role": {"S": "Admin"},
            "expires_at": {"N": "1000"},
        },
    )

    assert access(client, "/access/a@example.com?groups=ops")["Env1"]["rbac_role"] == "Viewer"


def test_answer_shape(client):
    response = client.http.get("/access/a@example.com?groups=ops,%20qa,,")
    assert response.json_body == {
        "user": "a@example.com",
        "groups": ["ops", "qa"],
        "environments": [],
    }
