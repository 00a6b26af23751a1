"""Every step is safe to run twice, and many onboardings at once never share a priority."""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib.records import ddb

from .conftest import TABLE, World, aws, create_parameters

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:mwaa-gate-local-onboard:by-hand"
TIMING = {"poll_seconds": 1, "poll_max_seconds": 1, "backoff": 1, "deadline_seconds": 60}


def invoke(step: str, execution: str = EXECUTION, **payload: Any) -> dict[str, Any]:
    response = aws("lambda").invoke(
        FunctionName=f"mwaa-gate-local-{step}",
        Payload=json.dumps(
            {"environment": "Twice", "execution": execution, "timing": TIMING, **payload}
        ),
    )
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def test_each_onboarding_step_run_twice_makes_nothing_twice(world: World) -> None:
    net = world.network("10.6")
    aws("dynamodb").put_item(
        TableName=TABLE,
        Item=ddb.serialize(
            {
                "name": "Twice",
                "status": "PENDING",
                "mode": "create",
                "create": create_parameters(net),
                "version": 1,
                "attempt": 1,
                "execution_arn": EXECUTION,
            }
        ),
    )

    for _ in range(2):
        plan = invoke("onboard_validate")
    assert plan == {"mode": "create", "access_mode": "PRIVATE_ONLY"}
    for _ in range(2):
        wait = invoke("onboard_create_environment")
    while not wait["available"]:
        time.sleep(0.05)
        wait = invoke("onboard_poll_environment", wait=wait)
    for step in (
        "onboard_connect_network",
        "onboard_register_targets",
        "onboard_route_host",
        "onboard_finish",
    ):
        first, second = invoke(step), invoke(step)
        assert first == second, step

    record = world.record("Twice")
    assert record["status"] == "READY"
    tagged = world.tagged("Twice")
    assert len(tagged["mwaa"]) == 1
    assert len(tagged["peerings"]) == 1
    assert len(tagged["security_group_rules"]) == 1
    assert len(tagged["elb"]) == 3
    targets = aws("elbv2").describe_target_health(TargetGroupArn=record["target_group_arn"])
    assert len(targets["TargetHealthDescriptions"]) == 2
    for table in aws("ec2").describe_route_tables(
        RouteTableIds=[world.alb["route_table_id"], *net["route_table_ids"]]
    )["RouteTables"]:
        peered = [r for r in table["Routes"] if r.get("VpcPeeringConnectionId")]
        assert len(peered) == 1
    slots = [
        item["name"]["S"]
        for item in aws("dynamodb").scan(TableName=TABLE)["Items"]
        if item["name"]["S"].startswith("slot#")
    ]
    assert slots == ["slot#1"]

    # Offboarding by hand too, each step twice, deleting the environment it created.
    offboard = EXECUTION.replace("onboard:by-hand", "offboard:by-hand")
    aws("dynamodb").update_item(
        TableName=TABLE,
        Key={"name": {"S": "Twice"}},
        UpdateExpression="SET #s = :s, execution_arn = :e, version = version + :one",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":s": {"S": "OFFBOARDING"},
            ":e": {"S": offboard},
            ":one": {"N": "1"},
        },
    )
    for _ in range(2):
        plan = invoke("offboard_begin", offboard, delete_environment=True)
    assert plan == {"delete_environment": True}
    for _ in range(2):
        assert invoke("offboard_teardown", offboard) == {"removed": True}
    for _ in range(2):
        wait = invoke("offboard_delete_environment", offboard)
    while not wait["gone"]:
        time.sleep(0.05)
        wait = invoke("offboard_poll_deleted", offboard, wait=wait)
    for _ in range(2):
        assert invoke("offboard_finish", offboard, deleted=True) == {"status": "OFFBOARDED"}
    assert world.tagged("Twice") == {
        "peerings": [],
        "security_group_rules": [],
        "elb": [],
        "mwaa": [],
    }
    assert world.record("Twice")["status"] == "OFFBOARDED"


def test_twenty_onboardings_at_once_are_all_ready_with_unique_priorities(world: World) -> None:
    names = [f"Team{i:02d}" for i in range(20)]
    for i, name in enumerate(names):
        world.existing_environment(name, world.network(f"10.{10 + i}"))
    for name in names:
        assert world.onboard(name).status_code == 202

    records = [world.wait(name, timeout=240) for name in names]

    assert [r["status"] for r in records] == ["READY"] * 20, [r.get("error") for r in records]
    rules = [
        r
        for r in aws("elbv2").describe_rules(ListenerArn=world.alb["listener_arn"])["Rules"]
        if not r["IsDefault"]
    ]
    priorities = [int(r["Priority"]) for r in rules]
    assert len(rules) == 40
    assert len(set(priorities)) == 40
    assert sorted(p for p in priorities if p < 10000) == list(range(1001, 1021))
    hosts = {r["login_host"] for r in records}
    assert len(hosts) == 20
    groups = {r["target_group_arn"] for r in records}
    assert len(groups) == 20


def test_a_stale_executions_rollback_leaves_the_record_alone(world: World) -> None:
    world.existing_environment("Owned", world.network("10.7"))
    world.onboard("Owned")
    before = world.wait("Owned")
    assert before["status"] == "READY"

    response = aws("lambda").invoke(
        FunctionName="mwaa-gate-local-onboard_rollback",
        Payload=json.dumps(
            {
                "environment": "Owned",
                "execution": EXECUTION,  # not the execution the record names
                "timing": TIMING,
                "failure": {"Error": "AwsCallFailed", "Cause": "late"},
            }
        ),
    )

    assert json.loads(response["Payload"].read())["status"] == "SKIPPED"
    after = world.record("Owned")
    assert after == before
    assert len(world.tagged("Owned")["elb"]) == 3
