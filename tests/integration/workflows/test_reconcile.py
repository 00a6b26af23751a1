"""Reconciliation on devstack (DESIGN §4): moved endpoint IPs re-registered, a deleted
environment DEGRADED (and logins answer a page), a repaired one READY again, the route's
refusals, and the scheduled run's figures."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from devstack.alb import KeyServer

from .airflow_support import (
    SignIn,
    api_with_stage_settings,
    mwaa_environment,
    post,
    reconcile,
    registered,
    rules_by_priority,
)
from .conftest import TABLE, World, aws

HOST = "sales.airflow.example.com"


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture
def ready(world: World) -> dict:
    """A private Airflow 2 environment, READY, with the API seeing the stage's settings."""
    api_with_stage_settings(world)
    world.existing_environment("Sales", world.network("10.1"))
    assert world.onboard("Sales").status_code == 202
    record = world.wait("Sales")
    assert record["status"] == "READY", record.get("error")
    return record


def test_moved_endpoint_ips_are_registered_again_by_one_reconcile(
    world: World, ready: dict
) -> None:
    elbv2 = aws("elbv2")
    # Someone else's rule on the listener: reconciliation never touches it.
    foreign = elbv2.create_rule(
        ListenerArn=world.alb["listener_arn"],
        Priority=500,
        Conditions=[{"Field": "path-pattern", "Values": ["/other"]}],
        Actions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain"},
            }
        ],
    )["Rules"][0]
    old = registered(ready)
    moved = sorted(mwaa_environment("Sales").replace_webserver_addresses())
    assert set(moved).isdisjoint(old)

    first = reconcile(world, "Sales")

    assert first.status_code == 200, first.json_body
    body = first.json_body
    assert body["status"] == "READY"
    assert f"targets registered: {', '.join(moved)}" in body["changes"]
    assert f"targets deregistered: {', '.join(old)}" in body["changes"]
    assert registered(ready) == moved
    assert sorted(world.record("Sales")["endpoint_ips"]) == moved
    assert body["endpoint_ips"] == world.record("Sales")["endpoint_ips"]
    assert rules_by_priority(world)[500]["RuleArn"] == foreign["RuleArn"]

    second = reconcile(world, "Sales")
    assert second.status_code == 200
    assert second.json_body["changes"] == []
    assert registered(ready) == moved


def test_a_deleted_environment_is_degraded_and_comes_back_when_repaired(
    world: World, ready: dict, monkeypatch: pytest.MonkeyPatch, key_server: KeyServer
) -> None:
    signin = SignIn(world, monkeypatch, key_server)
    signin.grant("Sales")
    assert signin.location(HOST).startswith(f"https://{HOST}/aws_mwaa/aws-console-sso?")
    net = {
        "subnet_ids": ready_subnets(),
        "security_group_id": ready_group(),
    }
    aws("mwaa").delete_environment(Name="Sales")  # deleted outside mwaa-gate

    answer = reconcile(world, "Sales")

    assert answer.status_code == 200, answer.json_body
    body = answer.json_body
    assert body["status"] == "DEGRADED"
    assert body["error"] == {
        "code": "EnvironmentDegraded",
        "cause": "MWAA has no environment named Sales any more",
    }
    assert "login_url" not in body
    listed = world.get("/environments?status=DEGRADED").json_body["items"]
    assert [item["name"] for item in listed] == ["Sales"]
    assert world.get("/environments/Sales").json_body["status"] == "DEGRADED"
    page = signin.request(HOST, "/aws_mwaa/aws-console-sso")
    assert page["statusCode"] == 503
    assert "This Airflow environment is unavailable" in page["body"]
    assert "environment_degraded" in page["body"]
    assert reconcile(world, "Sales").json_body["changes"] == []  # still degraded: no change

    # Repaired: the platform team makes it again, in the same subnets (new endpoint, new IPs).
    world.existing_environment("Sales", net)
    repaired = reconcile(world, "Sales")

    assert repaired.status_code == 200, repaired.json_body
    assert repaired.json_body["status"] == "READY"
    assert "status: DEGRADED → READY" in repaired.json_body["changes"]
    assert "error" not in repaired.json_body
    assert registered(world.record("Sales")) == sorted(world.record("Sales")["endpoint_ips"])
    assert signin.location(HOST).startswith(f"https://{HOST}/aws_mwaa/aws-console-sso?")
    assert reconcile(world, "Sales").json_body["changes"] == []


def ready_subnets() -> list[str]:
    environment = aws("mwaa").get_environment(Name="Sales")["Environment"]
    return environment["NetworkConfiguration"]["SubnetIds"]


def ready_group() -> str:
    environment = aws("mwaa").get_environment(Name="Sales")["Environment"]
    return environment["NetworkConfiguration"]["SecurityGroupIds"][0]


def test_reconcile_refuses_unknown_names_and_states_it_does_not_touch(world: World) -> None:
    api_with_stage_settings(world)
    aws("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "name": {"S": "Broken"},
            "status": {"S": "FAILED"},
            "mode": {"S": "attach"},
            "version": {"N": "3"},
        },
    )

    missing = reconcile(world, "Nope")
    failed = reconcile(world, "Broken")
    bad = reconcile(world, "not%20a%20name")

    assert missing.status_code == 404
    assert missing.json_body["Code"] == "NotFoundError"
    assert failed.status_code == 422
    assert "FAILED" in failed.json_body["Message"]
    assert bad.status_code == 400
    assert post(world, "/environments/Broken/reconcile?x=1").status_code == 400


def scheduled(world: World) -> dict:
    """The event EventBridge sends on the reconciler's schedule."""
    return world.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )


def test_scheduled_run_reconciles_every_ready_environment_and_counts(
    world: World, ready: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    mwaa_environment("Sales").replace_webserver_addresses()
    capsys.readouterr()

    summary = world.client.lambda_.invoke("reconcile", scheduled(world)).payload

    assert summary["checked"] == 1
    assert (summary["drifted"], summary["fixed"], summary["degraded"]) == (1, 1, 0)
    assert list(summary["changes"]) == ["Sales"]
    metrics = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    figures = {
        name: m[name]
        for m in metrics
        for name in m
        if name.startswith(("Environments", "Reconcile"))
    }
    assert figures["EnvironmentsChecked"] in (1, 1.0, [1.0])
    assert figures["EnvironmentsDrifted"] in (1, 1.0, [1.0])
    assert figures["EnvironmentsFixed"] in (1, 1.0, [1.0])
    assert figures["EnvironmentsDegraded"] in (0, 0.0, [0.0])
    again = world.client.lambda_.invoke("reconcile", scheduled(world)).payload
    assert (again["checked"], again["drifted"]) == (1, 0)
