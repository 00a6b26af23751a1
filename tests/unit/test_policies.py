"""IAM policy documents and their wiring into `.chalice/config.json` (what Chalice will use)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.config import Config

from chalicelib import state_machines
from chalicelib.platform import config as stage_config
from chalicelib.platform import policies

PROJECT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((PROJECT / ".chalice" / "config.json").read_text())
LISTENER = (
    "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/gate/0123456789abcdef/"
    "fedcba9876543210"
)
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:mwaa-gate/oidc-AbCdEf"


def step_functions() -> list[str]:
    return sorted(set().union(*(state_machines.placeholders(n) for n in state_machines.NAMES)))


def deployed_stage() -> stage_config.StageConfig:
    variables = {
        "ENVIRONMENTS_TABLE": "mwaa-gate-dev-environments",
        "GRANTS_TABLE": "mwaa-gate-dev-grants",
        "ONBOARD_STATE_MACHINE_ARN": (
            "arn:aws:states:eu-west-1:111122223333:stateMachine:mwaa-gate-dev-onboard"
        ),
        "OFFBOARD_STATE_MACHINE_ARN": (
            "arn:aws:states:eu-west-1:111122223333:stateMachine:mwaa-gate-dev-offboard"
        ),
        "DEPLOYMENT_NAME": "mwaa-gate-dev",
        "ALB_LISTENER_ARN": LISTENER,
        "BASE_DOMAIN": "airflow.example.com",
        "OIDC_ISSUER": "https://idp.example.com",
        "OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example.com/authorize",
        "OIDC_TOKEN_ENDPOINT": "https://idp.example.com/token",
        "OIDC_USER_INFO_ENDPOINT": "https://idp.example.com/userinfo",
        "OIDC_CLIENT_ID": "gate",
        "OIDC_CLIENT_SECRET_ARN": SECRET,
        "MWAA_EXECUTION_ROLE_PREFIX": "mwaa-gate-dev/",
    }
    return stage_config.StageConfig("dev", "mwaa-gate", variables, {})


def statement(document: dict, sid: str) -> dict:
    return next(s for s in document["Statement"] if s["Sid"] == sid)


def test_api_policy_names_only_its_tables_and_state_machines() -> None:
    document = policies.api(deployed_stage())

    tables = statement(document, "Tables")["Resource"]
    assert tables == [
        "arn:aws:dynamodb:eu-west-1:111122223333:table/mwaa-gate-dev-environments",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/mwaa-gate-dev-grants",
    ]
    assert statement(document, "StartWorkflows")["Action"] == ["states:StartExecution"]
    assert all(
        ":stateMachine:mwaa-gate-dev-" in r
        for r in statement(document, "StartWorkflows")["Resource"]
    )
    assert statement(document, "ObserveWorkflows")["Action"] == [
        "states:DescribeExecution",
        "states:GetExecutionHistory",
    ]
    assert statement(document, "ObserveWorkflows")["Resource"] == [
        "arn:aws:states:eu-west-1:111122223333:execution:mwaa-gate-dev-offboard:*",
        "arn:aws:states:eu-west-1:111122223333:execution:mwaa-gate-dev-onboard:*",
    ]
    # "*" only for Describe calls, which take no resource (the reconcile route needs them).
    wildcard = [s for s in document["Statement"] if s["Resource"] == "*"]
    assert {s["Sid"] for s in wildcard} == {"ReadNetwork", "ReadLoadBalancer"}
    assert all(a.split(":")[1].startswith("Describe") for s in wildcard for a in s["Action"])
    assert statement(document, "ModifyOwnRule")["Condition"]["StringEquals"] == {
        "aws:ResourceTag/mwaa-gate:deployment": "mwaa-gate-dev"
    }


def test_rbac_policy_allows_one_airflow_role_on_every_environment() -> None:
    document = policies.rbac(deployed_stage(), "Viewer")

    [only] = document["Statement"]
    assert only["Action"] == ["airflow:CreateWebLoginToken"]
    assert only["Resource"] == ["arn:aws:airflow:eu-west-1:111122223333:role/*/Viewer"]


def test_policy_files_are_written_for_the_api_and_each_step_function(tmp_path: Path) -> None:
    (tmp_path / ".chalice").mkdir()

    written = policies.write_files(tmp_path, deployed_stage())

    names = {p.name for p in written}
    assert names == {"policy-api-dev.json", "policy-reconcile-dev.json"} | {
        f"policy-{f}-dev.json" for f in step_functions()
    }
    for path in written:
        function = path.name.removeprefix("policy-").removesuffix("-dev.json")
        expected = (
            policies.api(deployed_stage())
            if function == "api"
            else policies.step(deployed_stage(), function)
        )
        assert json.loads(path.read_text()) == expected


def test_writing_policy_files_refuses_an_unconfigured_stage(tmp_path: Path) -> None:
    (tmp_path / ".chalice").mkdir()
    empty = stage_config.StageConfig("dev", "mwaa-gate", {}, {})

    with pytest.raises(stage_config.ConfigError, match="ALB_LISTENER_ARN is not set"):
        policies.write_files(tmp_path, empty)
    assert list((tmp_path / ".chalice").iterdir()) == []


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_chalice_gives_the_api_and_each_step_lambda_its_own_policy_file(stage: str) -> None:
    from app import app

    # Every Lambda of the app but the API's: step functions, and any scheduled or other one.
    declared = sorted(
        {f.name for f in app.pure_lambda_functions} | {s.name for s in app.event_sources}
    )
    assert set(step_functions()) <= set(declared)
    names = policies.file_names(stage)

    chalice = Config(chalice_stage=stage, config_from_disk=CONFIG)
    api = chalice.scope(stage, "api_handler")
    assert api.autogen_policy is False
    assert api.iam_policy_file == names["api"]
    files = set()
    for function in declared:
        scoped = chalice.scope(stage, function)
        assert scoped.autogen_policy is False
        assert scoped.iam_policy_file == names.get(function), (
            f"{function}: give it its permissions in policies.STEP_NEEDS and its file in "
            f".chalice/config.json ({stage}.lambda_functions)"
        )
        files.add(scoped.iam_policy_file)
    assert len(files) == len(declared)  # one file (so one role) per function


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_every_stage_lists_every_setting(stage: str) -> None:
    variables = CONFIG["stages"][stage]["environment_variables"]

    assert set(stage_config.REQUIRED) <= set(variables)
    assert variables["DEPLOYMENT_NAME"] == f"mwaa-gate-{stage}"
