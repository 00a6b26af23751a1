"""Platform setup and destroy on devstack: what exists afterwards; a re-run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.platform import setup as platform_setup
from chalicelib.platform.config import ConfigError
from chalicelib.platform.destroy import destroy
from chalicelib.platform.report import CREATE, DELETE, UPDATE

from .conftest import (
    ACCOUNT,
    DEPLOYMENT,
    REGION,
    Platform,
    aws,
    function_arn,
    step_functions,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]

AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")
AUTHX = f"{DEPLOYMENT}-authx"
ROLE_NAMES = [AUTHX, f"{DEPLOYMENT}-states"] + [f"{DEPLOYMENT}-airflow-{r}" for r in AIRFLOW_ROLES]


def run_setup(platform: Platform, **changes: str) -> Any:
    return platform_setup.setup(
        platform.config(**changes), aws, platform.authx_zip, echo=None, propagation_delay=0
    )


def rules_by_priority(platform: Platform) -> dict[str, dict[str, Any]]:
    rules = aws("elbv2").describe_rules(ListenerArn=platform.alb["listener_arn"])["Rules"]
    return {rule["Priority"]: rule for rule in rules if not rule["IsDefault"]}


def snapshot(platform: Platform) -> dict[str, Any]:
    """Everything setup makes, as AWS describes it (ids included, so a re-creation shows)."""
    iam, elbv2, lam, states = aws("iam"), aws("elbv2"), aws("lambda"), aws("stepfunctions")
    roles = {}
    for name in ROLE_NAMES:
        role = iam.get_role(RoleName=name)["Role"]
        policy = iam.get_role_policy(RoleName=name, PolicyName="mwaa-gate")["PolicyDocument"]
        roles[name] = (role["RoleId"], role["AssumeRolePolicyDocument"], policy)
    group = elbv2.describe_target_groups(Names=[AUTHX])["TargetGroups"][0]
    function = lam.get_function(FunctionName=AUTHX)["Configuration"]
    machines = {
        m["name"]: states.describe_state_machine(stateMachineArn=m["stateMachineArn"])
        for m in states.list_state_machines()["stateMachines"]
    }
    return {
        "roles": roles,
        "target_group": group,
        "attributes": elbv2.describe_target_group_attributes(
            TargetGroupArn=group["TargetGroupArn"]
        )["Attributes"],
        "targets": elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ],
        "function": {
            k: function.get(k)
            for k in ("FunctionArn", "CodeSha256", "Role", "Handler", "Runtime", "Environment")
        },
        "permission": lam.get_policy(FunctionName=AUTHX)["Policy"],
        "rules": rules_by_priority(platform),
        "machines": {
            name: (m["stateMachineArn"], m["definition"], m["roleArn"], m["type"])
            for name, m in machines.items()
        },
        "tables": sorted(aws("dynamodb").list_tables()["TableNames"]),
    }


def test_setup_makes_the_platform_and_a_second_run_changes_nothing(platform: Platform) -> None:
    first = run_setup(platform)
    before = snapshot(platform)

    second = run_setup(platform)

    assert {c.action for c in first.changes} == {CREATE}
    assert {c.kind for c in first.changes} == {
        "dynamodb-table",
        "iam-role",
        "lambda-function",
        "target-group",
        "lambda-permission",
        "target",
        "listener-rule",
        "state-machine",
        "log-group",
        "cloudwatch-alarm",
    }
    assert second.made_changes() == []
    assert len(second.changes) == len(first.changes)
    assert snapshot(platform) == before


def test_airflow_roles_trust_only_authx_and_allow_one_role_each(platform: Platform) -> None:
    run_setup(platform)
    iam = aws("iam")
    authx_role = iam.get_role(RoleName=AUTHX)["Role"]["Arn"]

    for airflow_role in AIRFLOW_ROLES:
        name = f"{DEPLOYMENT}-airflow-{airflow_role}"
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        policy = iam.get_role_policy(RoleName=name, PolicyName="mwaa-gate")["PolicyDocument"]
        assert trust["Statement"] == [
            {
                "Effect": "Allow",
                "Principal": {"AWS": authx_role},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                # no session without a SourceIdentity (the signed-in user)
                "Condition": {"StringLike": {"sts:SourceIdentity": "*"}},
            }
        ]
        [statement] = policy["Statement"]
        assert statement["Action"] == ["airflow:CreateWebLoginToken"]
        assert statement["Resource"] == [
            f"arn:aws:airflow:{REGION}:{ACCOUNT}:role/*/{airflow_role}"
        ]
    authx_policy = iam.get_role_policy(RoleName=AUTHX, PolicyName="mwaa-gate")["PolicyDocument"]
    assume = next(s for s in authx_policy["Statement"] if s["Sid"] == "AssumeAirflowRoles")
    assert sorted(assume["Resource"]) == sorted(
        f"arn:aws:iam::{ACCOUNT}:role/{DEPLOYMENT}-airflow-{r}" for r in AIRFLOW_ROLES
    )
    members = next(
        s for s in authx_policy["Statement"] if s["Sid"] == "AssumeAirflowRolesInMemberAccounts"
    )
    assert members["Resource"] == [f"arn:aws:iam::*:role/{DEPLOYMENT}-airflow-*"]


def test_authx_lambda_target_group_and_invoke_permission(platform: Platform) -> None:
    run_setup(platform)
    elbv2, lam = aws("elbv2"), aws("lambda")

    function = lam.get_function(FunctionName=AUTHX)["Configuration"]
    group = elbv2.describe_target_groups(Names=[AUTHX])["TargetGroups"][0]
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_target_group_attributes(TargetGroupArn=group["TargetGroupArn"])[
            "Attributes"
        ]
    }
    targets = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
    [statement] = json.loads(lam.get_policy(FunctionName=AUTHX)["Policy"])["Statement"]
    variables = function["Environment"]["Variables"]

    assert function["Handler"] == "authx.handler.lambda_handler"
    assert function["Role"].endswith(f":role/{AUTHX}")
    assert json.loads(variables["RBAC_ROLE_ARNS"]) == {
        r: f"arn:aws:iam::{ACCOUNT}:role/{DEPLOYMENT}-airflow-{r}" for r in AIRFLOW_ROLES
    }
    assert variables["RBAC_ROLE_ARN_PATTERN"] == (
        f"arn:aws:iam::{{account}}:role/{DEPLOYMENT}-airflow-{{role}}"
    )
    assert variables["ALB_ARNS"] == platform.alb["load_balancer_arn"]
    assert variables["GRANTS_TABLE"] == f"{DEPLOYMENT}-grants"
    assert variables["USER_CLAIM"] == "email"
    assert "IDP_LOGOUT_URL" not in variables
    assert variables["PORTAL_HOST"] == platform.variables["BASE_DOMAIN"]
    assert not any("secret" in value.lower() for value in variables.values())
    assert group["TargetType"] == "lambda"
    assert attributes["lambda.multi_value_headers.enabled"] == "true"
    assert [d["Target"]["Id"] for d in targets["TargetHealthDescriptions"]] == [
        function["FunctionArn"]
    ]
    assert statement["Principal"] == {"Service": "elasticloadbalancing.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == group["TargetGroupArn"]


def test_listener_rules_route_login_and_logout_to_authx(platform: Platform) -> None:
    foreign = aws("elbv2").create_rule(
        ListenerArn=platform.alb["listener_arn"],
        Priority=500,
        Conditions=[{"Field": "path-pattern", "Values": ["/other"]}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "204"}}],
    )["Rules"][0]["RuleArn"]

    run_setup(platform)

    rules = rules_by_priority(platform)
    group = aws("elbv2").describe_target_groups(Names=[AUTHX])["TargetGroups"][0]
    assert sorted(rules, key=int) == ["1", "2", "3", "500", "10000"]
    assert rules["500"]["RuleArn"] == foreign

    def paths(rule: dict[str, Any]) -> list[str]:
        [paths] = [c for c in rule["Conditions"] if c["Field"] == "path-pattern"]
        return paths["PathPatternConfig"]["Values"]

    def kinds(rule: dict[str, Any]) -> list[str]:
        return [a["Type"] for a in sorted(rule["Actions"], key=lambda a: a["Order"])]

    assert paths(rules["1"]) == ["/logout", "/logout/"]
    assert paths(rules["2"]) == ["/logout/close"]
    assert paths(rules["10000"]) == ["/aws_mwaa/aws-console-sso"]
    assert paths(rules["3"]) == ["/"]  # the portal, on its host only
    [portal_host] = [c for c in rules["3"]["Conditions"] if c["Field"] == "host-header"]
    assert portal_host["HostHeaderConfig"]["Values"] == [platform.variables["BASE_DOMAIN"]]
    assert kinds(rules["1"]) == kinds(rules["10000"]) == ["authenticate-oidc", "forward"]
    assert kinds(rules["3"]) == ["authenticate-oidc", "forward"]
    assert kinds(rules["2"]) == ["forward"]  # the close page must not sign the user in again
    for priority in ("1", "2", "3", "10000"):
        forward = next(a for a in rules[priority]["Actions"] if a["Type"] == "forward")
        assert forward["TargetGroupArn"] == group["TargetGroupArn"]
    oidc = rules["10000"]["Actions"][0]["AuthenticateOidcConfig"]
    assert oidc["ClientId"] == platform.variables["OIDC_CLIENT_ID"]
    assert oidc["Issuer"] == platform.variables["OIDC_ISSUER"]
    assert oidc["OnUnauthenticatedRequest"] == "authenticate"


def test_state_machines_call_the_deployed_step_lambdas_and_nothing_else(
    platform: Platform,
) -> None:
    run_setup(platform)
    states, iam = aws("stepfunctions"), aws("iam")
    role = iam.get_role(RoleName=f"{DEPLOYMENT}-states")["Role"]
    policy = iam.get_role_policy(RoleName=f"{DEPLOYMENT}-states", PolicyName="mwaa-gate")[
        "PolicyDocument"
    ]

    for kind in ("onboard", "offboard"):
        arn = platform.variables[f"{kind.upper()}_STATE_MACHINE_ARN"]
        machine = states.describe_state_machine(stateMachineArn=arn)
        assert machine["type"] == "STANDARD"
        assert machine["roleArn"] == role["Arn"]
        assert "${" not in machine["definition"]
        assert f"function:mwaa-gate-test-{kind}_" in machine["definition"]
    [statement] = policy["Statement"]
    arns = {function_arn(name) for name in step_functions()}
    assert statement["Action"] == ["lambda:InvokeFunction"]
    assert set(statement["Resource"]) == arns | {f"{arn}:*" for arn in arns}
    assert function_arn("api_handler") not in json.dumps(policy)
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    # confused-deputy protection: only this account's two state machines
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {
            "aws:SourceArn": sorted(
                platform.variables[f"{kind}_STATE_MACHINE_ARN"] for kind in ("ONBOARD", "OFFBOARD")
            )
        },
    }


def test_tables_exist_with_ttl_on_grants(platform: Platform) -> None:
    run_setup(platform)
    dynamodb = aws("dynamodb")

    ttl = dynamodb.describe_time_to_live(TableName=f"{DEPLOYMENT}-grants")["TimeToLiveDescription"]

    assert {f"{DEPLOYMENT}-environments", f"{DEPLOYMENT}-grants"} <= set(
        dynamodb.list_tables()["TableNames"]
    )
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == "expires_at"


def test_a_changed_setting_updates_only_what_depends_on_it(platform: Platform) -> None:
    run_setup(platform)
    role_ids = snapshot(platform)["roles"]

    changed = run_setup(platform, OIDC_SCOPE="openid email groups", GROUPS_CLAIM="cognito:groups")

    updates = sorted((c.kind, c.name.split(" ")[0]) for c in changed.made_changes())
    assert updates == [
        ("lambda-function", AUTHX),
        ("listener-rule", "login"),
        ("listener-rule", "logout"),
        ("listener-rule", "portal"),
    ]
    assert {c.action for c in changed.made_changes()} == {UPDATE}
    rules = rules_by_priority(platform)
    assert rules["1"]["Actions"][0]["AuthenticateOidcConfig"]["Scope"] == "openid email groups"
    variables = aws("lambda").get_function(FunctionName=AUTHX)["Configuration"]["Environment"]
    assert variables["Variables"]["GROUPS_CLAIM"] == "cognito:groups"
    assert snapshot(platform)["roles"] == role_ids


def test_drift_is_repaired(platform: Platform) -> None:
    run_setup(platform)
    elbv2, iam = aws("elbv2"), aws("iam")
    group = elbv2.describe_target_groups(Names=[AUTHX])["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=group,
        Attributes=[{"Key": "lambda.multi_value_headers.enabled", "Value": "false"}],
    )
    iam.put_role_policy(
        RoleName=f"{DEPLOYMENT}-airflow-Viewer",
        PolicyName="mwaa-gate",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "airflow:*", "Resource": "*"}],
            }
        ),
    )

    repaired = run_setup(platform)

    assert sorted((c.kind, c.name) for c in repaired.made_changes()) == [
        ("iam-role", f"{DEPLOYMENT}-airflow-Viewer"),
        ("target-group", AUTHX),
    ]
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=group)["Attributes"]
    assert {"Key": "lambda.multi_value_headers.enabled", "Value": "true"} in attributes


def test_destroy_removes_what_setup_made_and_keeps_tables_unless_asked(
    platform: Platform,
) -> None:
    foreign = aws("elbv2").create_rule(
        ListenerArn=platform.alb["listener_arn"],
        Priority=500,
        Conditions=[{"Field": "path-pattern", "Values": ["/other"]}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "204"}}],
    )["Rules"][0]["RuleArn"]
    run_setup(platform)
    cfg = platform.config()

    removed = destroy(cfg, aws, echo=None)

    assert {c.action for c in removed.changes} == {DELETE}
    assert [r["RuleArn"] for r in rules_by_priority(platform).values()] == [foreign]
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
    assert aws("lambda").list_functions()["Functions"] == []
    assert aws("stepfunctions").list_state_machines()["stateMachines"] == []
    left = {r["RoleName"] for r in aws("iam").list_roles()["Roles"]}
    assert not left & set(ROLE_NAMES)
    assert f"{DEPLOYMENT}-grants" in aws("dynamodb").list_tables()["TableNames"]

    again = destroy(cfg, aws, delete_tables=True, echo=None)

    assert [(c.action, c.kind) for c in again.changes] == [(DELETE, "dynamodb-table")] * 2
    assert aws("dynamodb").list_tables()["TableNames"] == []


def test_destroy_refuses_while_environments_are_onboarded(platform: Platform) -> None:
    run_setup(platform)
    table = f"{DEPLOYMENT}-environments"
    dynamodb = aws("dynamodb")
    dynamodb.put_item(TableName=table, Item={"name": {"S": "Env1"}, "status": {"S": "READY"}})
    dynamodb.put_item(TableName=table, Item={"name": {"S": "Old"}, "status": {"S": "OFFBOARDED"}})
    dynamodb.put_item(TableName=table, Item={"name": {"S": "slot#1"}, "claim_of": {"S": "Env1"}})

    with pytest.raises(ConfigError, match=r"1 environment\(s\) are still onboarded \(Env1\)"):
        destroy(platform.config(), aws, echo=None)
    assert aws("lambda").list_functions()["Functions"] != []

    forced = destroy(platform.config(), aws, force=True, echo=None)
    assert forced.made_changes()


def test_a_taken_platform_priority_is_refused_clearly(platform: Platform) -> None:
    aws("elbv2").create_rule(
        ListenerArn=platform.alb["listener_arn"],
        Priority=10000,
        Conditions=[{"Field": "path-pattern", "Values": ["/someone-else"]}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "204"}}],
    )

    with pytest.raises(RuntimeError, match="listener priority 10000 is taken by"):
        run_setup(platform)


def test_setup_needs_the_deployed_step_lambdas(platform: Platform, tmp_path: Any) -> None:
    from .conftest import write_project

    cfg = write_project(tmp_path / "half", platform.variables, functions={"onboard_validate"})

    with pytest.raises(ConfigError, match=r"run `chalice deploy --stage test`"):
        platform_setup.setup(cfg, aws, platform.authx_zip, echo=None)
    assert aws("iam").list_roles()["Roles"] == []


def test_setup_refuses_missing_or_inconsistent_settings(platform: Platform) -> None:
    with pytest.raises(ConfigError) as missing:
        run_setup(platform, OIDC_CLIENT_ID="", DEPLOYMENT_NAME="")
    with pytest.raises(ConfigError, match="names region eu-west-1"):
        run_setup(
            platform,
            ONBOARD_STATE_MACHINE_ARN=f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:x",
        )
    with pytest.raises(ConfigError, match="DEPLOYMENT_NAME must be"):
        run_setup(platform, DEPLOYMENT_NAME="a-deployment-name-far-too-long")

    assert "OIDC_CLIENT_ID is not set" in str(missing.value)
    assert "DEPLOYMENT_NAME is not set" in str(missing.value)
    assert aws("iam").list_roles()["Roles"] == []


def test_the_commands_report_each_resource_and_exit_0(
    platform: Platform, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.platform import destroy as platform_destroy

    (platform.folder / "authx").symlink_to(PROJECT_DIR / "authx")
    deps = tmp_path / "deps"
    deps.mkdir()
    args = ["--stage", "test", "--project-dir", str(platform.folder), "--authx-deps", str(deps)]

    assert platform_setup.main(args) == 0
    first = capsys.readouterr().out
    assert platform_setup.main(args) == 0
    second = capsys.readouterr().out
    assert platform_destroy.main([*args[:4], "--delete-tables"]) == 0
    removed = capsys.readouterr().out

    assert f"create    lambda-function        {AUTHX}" in first
    assert "setup of stage test done: 40 create, 0 update, 0 delete, 0 unchanged" in first
    assert "setup of stage test done: 0 create, 0 update, 0 delete, 40 unchanged" in second
    assert "destroy of stage test done: 0 create, 0 update, 22 delete, 0 unchanged" in removed
    secret = aws("secretsmanager").get_secret_value(SecretId=platform.alb["oidc_secret_arn"])
    assert json.loads(secret["SecretString"])["client_secret"] not in first + second + removed


def test_the_command_exits_2_for_a_configuration_problem(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert platform_setup.main(["--stage", "nope", "--project-dir", str(tmp_path)]) == 2
    assert "config.json is missing" in capsys.readouterr().err
