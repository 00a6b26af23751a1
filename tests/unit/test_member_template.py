"""The member-account template (templates/member-account.yaml): cfn-lint clean, and the roles
and permissions README promises, read from the template itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "member-account.yaml"
AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")


def _template() -> dict[str, Any]:
    template, problems = decode(str(TEMPLATE))
    assert not problems, problems
    return template


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_cfn_lint_finds_nothing_in_any_region() -> None:
    """cfn-lint, every rule (warnings and informational ones too), in the regions a StackSet
    may run it in."""
    config = ManualArgs(regions=["us-east-1", "eu-west-1", "ap-southeast-2"], include_checks=["I"])
    matches = lint_file(TEMPLATE, config)
    assert [str(match) for match in matches] == []


def test_parameters_are_the_service_account_the_deployment_name_and_the_role_prefix() -> None:
    parameters = _template()["Parameters"]
    assert set(parameters) == {"ServiceAccountId", "DeploymentName", "ExecutionRolePrefix"}
    assert parameters["ExecutionRolePrefix"]["Default"] == ""  # optional: <DeploymentName>/
    assert parameters["ServiceAccountId"]["AllowedPattern"] == "^[0-9]{12}$"


def test_a_member_role_and_one_token_role_per_airflow_role() -> None:
    roles = {
        name: resource
        for name, resource in _template()["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    names = sorted(str(r["Properties"]["RoleName"]) for r in roles.values())
    assert names == sorted(
        ["{'Fn::Sub': '${DeploymentName}-member'}"]
        + [f"{{'Fn::Sub': '${{DeploymentName}}-airflow-{role}'}}" for role in AIRFLOW_ROLES]
    )


def test_token_roles_trust_only_authx_and_allow_only_web_login_for_their_role() -> None:
    resources = _template()["Resources"]
    for role in AIRFLOW_ROLES:
        properties = resources[f"Airflow{role}Role"]["Properties"]
        (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
        assert sorted(_actions(trust)) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
        principal = trust["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::Sub"]
        assert principal.endswith(":role/${DeploymentName}-authx")
        (allowed,) = _statements(resources[f"Airflow{role}Role"])
        assert _actions(allowed) == ["airflow:CreateWebLoginToken"]
        assert allowed["Resource"]["Fn::Sub"].endswith(f":${{AWS::AccountId}}:role/*/{role}")


def test_member_role_trusts_only_the_workflow_steps_and_never_grants_wildcard_actions() -> None:
    member = _template()["Resources"]["MemberRole"]
    (trust,) = member["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    patterns = [p["Fn::Sub"] for p in trust["Condition"]["ArnLike"]["aws:PrincipalArn"]]
    assert all("${ServiceAccountId}:role/${DeploymentName}-" in p for p in patterns)
    statements = _statements(member)
    for statement in statements:
        assert all("*" not in action for action in _actions(statement)), statement
        if statement["Resource"] == "*":
            assert all(":Describe" in action for action in _actions(statement)), statement
    by_sid = {s["Sid"]: s for s in statements}
    # Tag-limited where AWS supports it: deletion of environments it created, tags it sets.
    assert "aws:ResourceTag/mwaa-gate:deployment" in str(
        by_sid["DeleteOnlyEnvironmentsItCreated"]["Condition"]
    )
    for sid in ("TagIngressRulesAtCreation", "TagPeeringsTheServiceRequested"):
        assert "aws:RequestTag/mwaa-gate:deployment" in str(by_sid[sid])
    assert "ec2:RequesterVpc" in str(by_sid["AcceptPeeringFromTheServiceAccount"]["Condition"])
