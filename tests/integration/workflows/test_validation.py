"""What onboarding refuses before it makes anything, with a message that says why."""

from __future__ import annotations

import json

from .conftest import LOCAL_ENV, World, aws, create_parameters

NOTHING = {"peerings": [], "security_group_rules": [], "elb": [], "mwaa": []}


def test_a_vpc_overlapping_the_albs_is_refused(world: World) -> None:
    world.existing_environment("Overlap", world.network("10.0"))  # the ALB's VPC is 10.0/16

    world.onboard("Overlap")
    record = world.wait("Overlap")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "NetworkConflict"
    assert "overlaps the ALB's VPC" in record["error"]["cause"]
    assert world.tagged("Overlap") == NOTHING


def test_a_vpc_overlapping_another_peered_environment_is_refused(world: World) -> None:
    world.existing_environment("One", world.network("10.9"))
    world.onboard("One")
    assert world.wait("One")["status"] == "READY"
    world.existing_environment("Two", world.network("10.9"))  # another VPC, same CIDR

    world.onboard("Two")
    record = world.wait("Two")

    assert record["status"] == "FAILED"
    assert "overlaps the VPC of environment One" in record["error"]["cause"]
    assert world.record("One")["status"] == "READY"


def test_attaching_an_unknown_environment_fails(world: World) -> None:
    world.onboard("Ghost")
    record = world.wait("Ghost")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "EnvironmentUnavailable"
    assert "no environment named Ghost" in record["error"]["cause"]


def test_attaching_a_pending_environment_explains_the_missing_endpoints(world: World) -> None:
    world.existing_environment("Waiting", world.network("10.1"), EndpointManagement="CUSTOMER")

    world.onboard("Waiting")
    record = world.wait("Waiting")

    assert record["status"] == "FAILED"
    assert "customer-managed VPC endpoints" in record["error"]["cause"]


def test_public_and_private_access_is_not_served(world: World) -> None:
    world.existing_environment(
        "Both", world.network("10.1"), WebserverAccessMode="PUBLIC_AND_PRIVATE"
    )

    world.onboard("Both")
    record = world.wait("Both")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "UnsupportedEnvironment"


def test_a_full_alb_refuses_another_private_environment(world: World) -> None:
    world.stack.project.extra_env["ALB_MAX_PRIVATE_ENVIRONMENTS"] = "1"
    world.existing_environment("Only", world.network("10.1"))
    world.onboard("Only")
    assert world.wait("Only")["status"] == "READY"
    world.existing_environment("Extra", world.network("10.2"))

    world.onboard("Extra")
    record = world.wait("Extra")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "CapacityExhausted"
    assert "maximum of 1 private environments" in record["error"]["cause"]
    assert world.tagged("Extra") == NOTHING


def test_a_create_over_a_foreign_environment_of_that_name_is_refused(world: World) -> None:
    net = world.network("10.3")
    world.existing_environment("Theirs", net)

    world.onboard("Theirs", mode="create", create=create_parameters(net))
    record = world.wait("Theirs")

    assert record["status"] == "FAILED"
    assert "onboard it with mode 'attach'" in record["error"]["cause"]
    # Never delete what the platform team made.
    assert aws("mwaa").get_environment(Name="Theirs")["Environment"]["Status"] == "AVAILABLE"


def test_a_host_held_by_a_live_environment_is_refused(world: World) -> None:
    world.existing_environment("a_b", world.network("10.4"))
    world.onboard("a_b")
    assert world.wait("a_b")["status"] == "READY"
    world.existing_environment("a-b", world.network("10.5"))  # derives the same host

    world.onboard("a-b")
    record = world.wait("a-b")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "HostnameInUse"
    assert "a-b.airflow.example.com" in record["error"]["cause"]


def test_the_api_will_not_hand_out_a_host_onboarding_derived_for_a_live_environment(
    world: World,
) -> None:
    world.existing_environment("Analytics", world.network("10.6"))
    world.onboard("Analytics")
    assert world.wait("Analytics")["login_host"] == "analytics.airflow.example.com"
    world.existing_environment("Other", world.network("10.7"))

    response = world.onboard("Other", hostname="analytics.airflow.example.com")

    assert response.status_code == 409
    assert "Analytics" in response.json_body["Message"]


def test_an_execution_role_outside_the_allowed_prefix_is_refused_at_the_api(
    world: World,
) -> None:
    net = world.network("10.3")
    # The local stage allows roles whose name starts with `mwaa-` (MWAA_EXECUTION_ROLE_PREFIX).
    admin = "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"
    body = create_parameters(net, ExecutionRoleArn=admin)

    response = world.onboard("Escalate", mode="create", create=body)

    assert response.status_code == 400
    message = json.loads(response.body)["Message"]
    assert "create.ExecutionRoleArn" in message
    assert '"mwaa-"' in message and "OrganizationAccountAccessRole" in message
    assert world.record("Escalate") == {}  # nothing stored, no workflow started
    assert (
        aws("stepfunctions").list_executions(
            stateMachineArn=LOCAL_ENV["ONBOARD_STATE_MACHINE_ARN"]
        )["executions"]
        == []
    )

    allowed = create_parameters(net, ExecutionRoleArn="arn:aws:iam::123456789012:role/mwaa-x")
    assert world.onboard("Escalate", mode="create", create=allowed).status_code == 202
