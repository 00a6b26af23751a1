"""Transient AWS errors, wherever a step meets them (its own calls, its record's reads and
writes, its rollback), are retried by the state machine: the run ends as if they never happened.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from .conftest import World, aws

THROUGHPUT = "ProvisionedThroughputExceededException"


def retried_errors(world: World, record: dict) -> list[str]:
    return [
        event["taskFailedEventDetails"]["error"]
        for event in world.history(record)
        if event["type"] == "TaskFailed"
    ]


@pytest.mark.parametrize("operation", ["GetItem", "UpdateItem", "Scan"])
def test_a_throttled_record_read_or_write_is_retried(world: World, operation: str) -> None:
    world.existing_environment("Hot", world.network("10.5"))
    # The API's POST reads with GetItem too: let its read through, throttle the workflow's.
    world.fail("dynamodb", operation, THROUGHPUT, times=1, after=1 if operation == "GetItem" else 0)

    world.onboard("Hot")
    record = world.wait("Hot")

    assert record["status"] == "READY", record.get("error")
    assert world.calls == [f"dynamodb:{operation}:{THROUGHPUT}"]
    assert retried_errors(world, record) == ["TransientAwsError"]


def test_a_throttled_write_during_rollback_still_ends_failed(world: World) -> None:
    world.existing_environment("Undo", world.network("10.6"))
    world.fail("elbv2", "CreateRule", "AccessDenied")
    # Only the rollback's own write (the one that records FAILED) is throttled.
    world.fail("dynamodb", "UpdateItem", THROUGHPUT, times=1, matching=b'"FAILED"')

    world.onboard("Undo")
    record = world.wait("Undo")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "AwsCallFailed"
    assert "CreateRule failed: AccessDenied" in record["error"]["cause"]
    assert f"dynamodb:UpdateItem:{THROUGHPUT}" in world.calls
    assert world.execution(record)["error"] == "AwsCallFailed"  # not RollbackFailed


def test_a_throttled_write_while_offboarding_still_ends_offboarded(world: World) -> None:
    world.existing_environment("Leave", world.network("10.7"))
    world.onboard("Leave")
    assert world.wait("Leave")["status"] == "READY"
    world.fail("dynamodb", "UpdateItem", THROUGHPUT, times=1, matching=b'"OFFBOARDED"')

    world.offboard("Leave")
    record = world.wait("Leave")

    assert record["status"] == "OFFBOARDED", record.get("error")
    assert world.calls == [f"dynamodb:UpdateItem:{THROUGHPUT}"]


# A botocore error (after botocore's own retries) in each module that used to let it escape.
TIMEOUTS = [
    ("mwaa", "GetEnvironment", ReadTimeoutError),
    ("elbv2", "DescribeTargetGroups", EndpointConnectionError),
    ("elbv2", "CreateRule", ConnectionClosedError),
    ("dynamodb", "PutItem", ReadTimeoutError),
    ("ec2", "DescribeRouteTables", EndpointConnectionError),
]


@pytest.mark.parametrize(("service", "operation", "error"), TIMEOUTS)
def test_a_timeout_or_lost_connection_is_retried(
    world: World, service: str, operation: str, error: type
) -> None:
    world.existing_environment("Slow", world.network("10.8"))
    world.fail(service, operation, "", times=1, raising=error)

    world.onboard("Slow")
    record = world.wait("Slow")

    assert record["status"] == "READY", record.get("error")
    assert world.calls == [f"{service}:{operation}:{error.__name__}"]
    assert retried_errors(world, record) == ["TransientAwsError"]
    assert len(aws("elbv2").describe_target_groups()["TargetGroups"]) == 1


def test_a_refusal_met_by_a_record_write_is_not_retried(world: World) -> None:
    world.existing_environment("Denied", world.network("10.9"))
    world.fail("dynamodb", "UpdateItem", "AccessDeniedException", times=1)

    world.onboard("Denied")
    record = world.wait("Denied")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "AwsCallFailed"
    assert "dynamodb:UpdateItem failed: AccessDeniedException" in record["error"]["cause"]
    assert retried_errors(world, record) == ["AwsCallFailed"]


def test_a_compensation_that_fails_outright_still_ends_failed(world: World) -> None:
    world.existing_environment("Broken", world.network("10.4"))
    world.fail("elbv2", "CreateRule", "AccessDenied")
    # The rollback's own write of FAILED is refused (not transient): the compensation fails.
    world.fail("dynamodb", "UpdateItem", "AccessDeniedException", times=1, matching=b'"FAILED"')

    world.onboard("Broken")
    record = world.wait("Broken")

    assert record["status"] == "FAILED"  # never left ONBOARDING
    assert record["error"]["code"] == "AwsCallFailed"
    assert "CreateRule failed: AccessDenied" in record["error"]["cause"]
    [note] = record["error"]["compensation"]
    assert note.startswith("the compensation failed: AwsCallFailed: dynamodb:UpdateItem failed")
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in world.history(record)
        if e["type"] == "TaskStateEntered"
    ]
    assert entered[-2:] == ["Rollback", "Record failure"]
    world.clear_faults()

    world.offboard("Broken")
    assert world.wait("Broken")["status"] == "OFFBOARDED"
    assert world.tagged("Broken") == {
        "peerings": [],
        "security_group_rules": [],
        "elb": [],
        "mwaa": [],
    }
