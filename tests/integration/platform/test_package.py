"""`make package`: one CloudFormation template (Chalice's app merged with the platform) that
cfn-lint accepts, beside reproducible zips that ship bytecode."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib import state_machines
from chalicelib.platform import bytecode
from chalicelib.platform import package as platform_package

PROJECT_DIR = Path(__file__).resolve().parents[3]
ACCOUNT, REGION = "123456789012", "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:platform-alarms"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gate-oidc-AbCdEf"
LISTENER = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/gate/0123456789abcdef/"
    "fedcba9876543210"
)
SETTINGS = {
    "ONBOARD_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:gate-onboard",
    "OFFBOARD_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:gate-offboard",
    "ALB_LISTENER_ARN": LISTENER,
    "BASE_DOMAIN": "airflow.example.com",
    "OIDC_ISSUER": "https://idp.example.com",
    "OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example.com/authorize",
    "OIDC_TOKEN_ENDPOINT": "https://idp.example.com/token",
    "OIDC_USER_INFO_ENDPOINT": "https://idp.example.com/userinfo",
    "OIDC_CLIENT_ID": "gate",
    "OIDC_CLIENT_SECRET_ARN": SECRET,
    "ALARM_TOPIC_ARN": TOPIC,
    "LOG_RETENTION_DAYS": "365",
}
SETTINGS_DEPLOYMENT = "mwaa-gate-dev"  # the dev stage's DEPLOYMENT_NAME
STAGE = "dev"  # the repository's stage layout (policy files, per-function settings)


def project(folder: Path, **changes: str) -> Path:
    """A copy of the project (links to its code) whose `dev` stage is filled in; no
    requirements, so Chalice downloads nothing."""
    folder.mkdir()
    for name in ("app.py", "chalicelib", "vendor", "authx", "statemachines"):
        (folder / name).symlink_to(PROJECT_DIR / name)
    (folder / "requirements.txt").write_text("")
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    stage = config["stages"][STAGE]
    stage["environment_variables"].update({**SETTINGS, **changes})
    config["stages"] = {STAGE: stage}
    (folder / ".chalice").mkdir()
    (folder / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
    return folder


def package(folder: Path, out: Path) -> int:
    deps = folder / "authx-deps"
    deps.mkdir(exist_ok=True)
    return platform_package.main(
        [
            "--stage",
            STAGE,
            "--project-dir",
            str(folder),
            "--out",
            str(out),
            "--authx-deps",
            str(deps),
        ]
    )


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = project(tmp_path_factory.mktemp("package") / "project")
    out = folder / "out"
    assert package(folder, out) == 0
    return out, json.loads((out / "sam.json").read_text())


def test_the_packaged_template_passes_cfn_lint(packaged: tuple[Path, dict[str, Any]]) -> None:
    out, _ = packaged

    result = subprocess.run(  # noqa: S603 - the venv's cfn-lint
        [str(Path(sys.executable).with_name("cfn-lint")), str(out / "sam.json")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_template_holds_the_app_and_the_platform(
    packaged: tuple[Path, dict[str, Any]],
) -> None:
    _, template = packaged
    resources = template["Resources"]
    types = {name: resource["Type"] for name, resource in resources.items()}

    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert types["RestAPI"] == "AWS::Serverless::Api"
    for table in ("EnvironmentsTable", "GrantsTable"):
        properties = resources[table]["Properties"]
        assert properties["DeletionProtectionEnabled"] is True
        assert properties["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }
        assert resources[table]["DeletionPolicy"] == "Retain"
    assert resources["GrantsTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert {
        name for name, kind in types.items() if kind == "AWS::ElasticLoadBalancingV2::ListenerRule"
    } == {
        "PlatformRuleLogout",
        "PlatformRuleLogoutClose",
        "PlatformRulePortal",
        "PlatformRuleLogin",
    }
    group = resources["AuthxTargetGroup"]["Properties"]
    assert group["TargetType"] == "lambda"
    assert group["TargetGroupAttributes"] == [
        {"Key": "lambda.multi_value_headers.enabled", "Value": "true"}
    ]
    assert resources["AuthxFunction"]["Properties"]["CodeUri"] == "./authx.zip"
    assert [n for n, k in types.items() if k == "AWS::IAM::Role" and n.startswith("Airflow")]


def test_chalice_functions_keep_their_deploy_names_and_the_machines_call_them(
    packaged: tuple[Path, dict[str, Any]],
) -> None:
    _, template = packaged
    resources = template["Resources"]
    functions = {
        name: resource["Properties"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }

    names = {props["FunctionName"] for props in functions.values()}
    steps = set().union(*(state_machines.placeholders(n) for n in state_machines.NAMES))
    assert {f"mwaa-gate-dev-{s}" for s in steps} | {"mwaa-gate-dev", "mwaa-gate-dev-authx"} <= names
    chalice_made = {n: p for n, p in functions.items() if p["CodeUri"] == "./deployment.zip"}
    assert all(p["FunctionName"].startswith("mwaa-gate-dev") for p in chalice_made.values())
    assert len(names) == len(functions)  # every function named, no two alike
    for machine, kind in (("OnboardStateMachine", "onboard"), ("OffboardStateMachine", "offboard")):
        text, variables = resources[machine]["Properties"]["DefinitionString"]["Fn::Sub"]
        assert set(re.findall(r"\$\{([A-Za-z0-9_.]+)\}", text)) == set(variables)
        for variable, reference in variables.items():
            assert reference["Fn::GetAtt"][0] in functions, variable
        assert resources[machine]["Properties"]["StateMachineName"] == f"gate-{kind}"
    groups = {
        props["LogGroupName"]: props["RetentionInDays"]
        for props in (
            r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"
        )
    }
    assert groups == {f"/aws/lambda/{name}": 365 for name in names}


def test_alarms_notify_the_topic_and_the_client_secret_is_a_reference(
    packaged: tuple[Path, dict[str, Any]],
) -> None:
    out, template = packaged
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]

    assert len(alarms) == 5
    assert all(alarm["AlarmActions"] == [TOPIC] for alarm in alarms)
    text = (out / "sam.json").read_text()
    assert "{{resolve:secretsmanager:" + SECRET + ":SecretString:client_secret}}" in text


def test_both_zips_ship_bytecode_and_are_reproducible(
    packaged: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = packaged
    again = tmp_path / "again"
    folder = project(tmp_path / "project")

    assert package(folder, again) == 0

    for name in ("deployment.zip", "authx.zip"):
        built = (out / name).read_bytes()
        assert (again / name).read_bytes() == built, name
        listed = zipfile.ZipFile(io.BytesIO(built)).namelist()
        sources = [n for n in listed if n.endswith(".py")]
        assert sources
        assert bytecode.compiled_names(built) == sorted(bytecode.pyc_name(n) for n in sources)
    assert (
        "chalicelib/__pycache__/metrics.cpython-311.pyc".replace(
            "cpython-311", sys.implementation.cache_tag
        )
        in zipfile.ZipFile(out / "deployment.zip").namelist()
    )


def test_a_configuration_problem_exits_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path / "project", LOG_RETENTION_DAYS="45", ALB_LISTENER_ARN="")

    assert package(folder, tmp_path / "out") == 2

    error = capsys.readouterr().err
    assert "LOG_RETENTION_DAYS must be one of" in error
    assert "ALB_LISTENER_ARN is not set" in error
    assert not (tmp_path / "out").exists()
    assert not list((folder / ".chalice").glob("policy-*.json"))


def test_chalice_deploy_reuses_the_app_package_built_with_bytecode(tmp_path: Path) -> None:
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.deployer import create_build_stage
    from chalice.deploy.swagger import TemplatedSwaggerGenerator
    from chalice.utils import UI, OSUtils

    from chalicelib.platform import app_package

    folder = project(tmp_path / "project")

    path = app_package.prebuild(folder, STAGE)

    built = path.read_bytes()
    sources = [n for n in zipfile.ZipFile(io.BytesIO(built)).namelist() if n.endswith(".py")]
    assert bytecode.compiled_names(built) == sorted(bytecode.pyc_name(n) for n in sources)
    assert app_package.prebuild(folder, STAGE) == path  # a second run finds it
    assert path.read_bytes() == built
    # `chalice deploy`'s own build step picks this very file and leaves it as it is.
    config = CLIFactory(str(folder)).create_config_obj(chalice_stage_name=STAGE)
    stage = create_build_stage(OSUtils(), UI(), TemplatedSwaggerGenerator(), config)
    packager = next(s for s in stage._steps if hasattr(s, "_packager"))._packager
    assert packager.create_deployment_package(str(folder), config.lambda_python_version) == str(
        path
    )
    assert path.read_bytes() == built


def test_the_template_roles_are_the_ones_setup_makes(
    packaged: tuple[Path, dict[str, Any]],
) -> None:
    from chalicelib.platform import config as stage_config
    from chalicelib.platform import setup as platform_setup

    out, template = packaged
    cfg = stage_config.load(out.parent, STAGE, need_deployed=False)
    resources = template["Resources"]

    def role(logical_id: str) -> tuple[Any, Any]:
        properties = resources[logical_id]["Properties"]
        return properties["AssumeRolePolicyDocument"], properties["Policies"][0]["PolicyDocument"]

    authx = platform_setup.authx_role(cfg)
    assert role("AuthxRole") == (authx.trust, authx.policy)
    states_trust = platform_setup.states_role(cfg, []).trust
    assert role("StatesRole")[0] == states_trust
    for spec in platform_setup.rbac_roles(cfg, {"Fn::GetAtt": ["AuthxRole", "Arn"]}):
        logical_id = "Airflow" + spec.name.rsplit("-", 1)[1] + "Role"
        assert role(logical_id) == (spec.trust, spec.policy)
