"""Each step Lambda's own policy (chalicelib/platform/policies.py) grants every AWS action the
step really calls: whole onboard/offboard runs on devstack, every call of the app's clients
recorded with the step function that made it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import aws_clients
from chalicelib.platform import policies
from chalicelib.platform.config import StageConfig

from .conftest import LOCAL_ENV, World, create_parameters

CLIENTS = ("dynamodb", "ec2", "elbv2", "mwaa", "secretsmanager")


def _step_of_caller() -> str | None:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name in policies.STEP_NEEDS:
            return frame.f_code.co_name
        frame = frame.f_back
    return None


@pytest.fixture
def calls(world: World) -> Iterator[set[tuple[str, str]]]:
    """(step function, IAM action) of every call the app's clients make from a step."""
    seen: set[tuple[str, str]] = set()

    def record(model: Any, **_: Any) -> None:
        step = _step_of_caller()
        if step is not None:
            seen.add((step, f"{model.service_model.signing_name}:{model.name}"))

    clients = [getattr(aws_clients, name)() for name in CLIENTS]
    for client in clients:
        client.meta.events.register("before-call", record)
    yield seen
    for client in clients:
        client.meta.events.unregister("before-call", record)


def granted(world: World) -> dict[str, set[str]]:
    cfg = StageConfig("local", "mwaa-gate", {**LOCAL_ENV, **_listener(world)}, {})
    return {
        function: {a for s in policies.step(cfg, function)["Statement"] for a in s["Action"]}
        for function in policies.STEP_NEEDS
    }


def _listener(world: World) -> dict[str, str]:
    return {"ALB_LISTENER_ARN": world.alb["listener_arn"], "OIDC_CLIENT_SECRET_ARN": "x"}


def missing(world: World, calls: set[tuple[str, str]]) -> list[tuple[str, str]]:
    allowed = granted(world)
    return sorted((step, action) for step, action in calls if action not in allowed[step])


def test_every_call_of_a_full_run_is_granted_to_its_step(
    world: World, calls: set[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVSTACK_MWAA_CREATE_SECONDS", "1")
    net = world.network("10.3")
    world.onboard("Made", mode="create", create=create_parameters(net))
    assert world.wait("Made")["status"] == "READY"
    world.offboard("Made", delete_environment=True)
    assert world.wait("Made")["status"] == "OFFBOARDED"

    assert missing(world, calls) == []
    stepped = {step for step, _ in calls}
    assert stepped >= set(policies.STEP_NEEDS) - {"onboard_rollback", "offboard_fail"}


def test_every_call_of_a_rollback_and_a_failed_offboarding_is_granted(
    world: World, calls: set[tuple[str, str]]
) -> None:
    world.fail("elbv2", "CreateRule", "AccessDenied")
    world.onboard("Undone", mode="create", create=create_parameters(world.network("10.4")))
    assert world.wait("Undone")["status"] == "FAILED"
    world.clear_faults()
    world.existing_environment("Kept", world.network("10.5"))
    world.onboard("Kept")
    assert world.wait("Kept")["status"] == "READY"
    world.fail("ec2", "RevokeSecurityGroupIngress", "AccessDenied")
    world.offboard("Kept")
    assert world.wait("Kept")["status"] == "FAILED"

    assert missing(world, calls) == []
    assert {"onboard_rollback", "offboard_fail"} <= {step for step, _ in calls}
