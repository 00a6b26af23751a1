"""Fixtures of the platform setup tests: devstack in process, the landscape a platform team
already has (devstack.landscape), and a Chalice project folder for a stage `test` as
`chalice deploy --stage test` would have left it (config.json and deployed/test.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

import devstack
from chalicelib import state_machines
from chalicelib.platform import authx_package
from chalicelib.platform import config as stage_config
from devstack import landscape

REGION = landscape.REGION
ACCOUNT = "123456789012"
STAGE = "test"
DEPLOYMENT = "mwaa-gate-test"


def aws(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def step_functions() -> set[str]:
    return set().union(*(state_machines.placeholders(name) for name in state_machines.NAMES))


def function_arn(name: str) -> str:
    return state_machines.function_arn(REGION, ACCOUNT, "mwaa-gate", STAGE, name)


def stage_variables(alb: dict[str, Any]) -> dict[str, str]:
    return {
        **landscape.stage_settings(alb),
        "DEPLOYMENT_NAME": DEPLOYMENT,
        "ENVIRONMENTS_TABLE": f"{DEPLOYMENT}-environments",
        "GRANTS_TABLE": f"{DEPLOYMENT}-grants",
        "ONBOARD_STATE_MACHINE_ARN": (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{DEPLOYMENT}-onboard"
        ),
        "OFFBOARD_STATE_MACHINE_ARN": (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{DEPLOYMENT}-offboard"
        ),
        "USER_CLAIM": "email",
        "GROUPS_CLAIM": "groups",
    }


def write_project(
    folder: Path, variables: dict[str, str], functions: set[str] | None = None
) -> stage_config.StageConfig:
    """A project folder with the stage `test`, deployed with `functions` (default: all steps)."""
    chalice = folder / ".chalice"
    (chalice / "deployed").mkdir(parents=True, exist_ok=True)
    config = {
        "version": "2.0",
        "app_name": "mwaa-gate",
        "environment_variables": {"LOG_LEVEL": "INFO"},
        "stages": {STAGE: {"api_gateway_stage": "api", "environment_variables": variables}},
    }
    (chalice / "config.json").write_text(json.dumps(config, indent=2))
    names = step_functions() if functions is None else functions
    resources: list[dict[str, Any]] = [
        {"name": "default-role", "resource_type": "iam_role", "role_name": "x", "role_arn": "x"}
    ]
    resources += [
        {"name": name, "resource_type": "lambda_function", "lambda_arn": function_arn(name)}
        for name in sorted(names | {"api_handler"})
    ]
    deployed = {"resources": resources, "schema_version": "2.0", "backend": "api"}
    (chalice / "deployed" / f"{STAGE}.json").write_text(json.dumps(deployed))
    return stage_config.load(folder, STAGE)


@dataclass
class Platform:
    alb: dict[str, Any]
    variables: dict[str, str]
    folder: Path
    authx_zip: bytes

    def config(self, **changes: str) -> stage_config.StageConfig:
        return write_project(self.folder, {**self.variables, **changes})


@pytest.fixture(scope="session")
def authx_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """authX's zip with a stand-in dependency folder (no pip, no network in tests)."""
    deps = tmp_path_factory.mktemp("authx-deps")
    (deps / "jwt").mkdir()
    (deps / "jwt" / "__init__.py").write_text("# stand-in for PyJWT\n")
    return authx_package.build(dependencies=deps)


@pytest.fixture
def platform(tmp_path: Path, authx_zip: bytes) -> Iterator[Platform]:
    with devstack.aws():
        alb = landscape.build(aws)
        topic = aws("sns").create_topic(Name="platform-alarms")["TopicArn"]
        variables = {**stage_variables(alb), "ALARM_TOPIC_ARN": topic}
        write_project(tmp_path, variables)
        yield Platform(alb, variables, tmp_path, authx_zip)
