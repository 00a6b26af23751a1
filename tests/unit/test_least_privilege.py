"""The service's own permissions, as a reviewer reads the generated policies (issue 9, 19-22):
each step Lambda gets only what it does; PassRole only for the allowed execution roles; tags
only at creation; destructive actions only on what this deployment made; trust policies that
name their callers."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.api import validation
from chalicelib.platform import config as stage_config
from chalicelib.platform import policies

from .test_policies import deployed_stage, step_functions

PROJECT = Path(__file__).resolve().parents[2]
DEPLOYMENT_TAG = "aws:ResourceTag/mwaa-gate:deployment"
ENVIRONMENT_TAG = "aws:ResourceTag/mwaa-gate:environment"
LOGS = "arn:aws:logs:eu-west-1:111122223333:log-group:"

# Every action that removes or repoints something, and must be limited to what this deployment
# made (by tag).
DESTRUCTIVE = {
    "airflow:DeleteEnvironment",
    "ec2:DeleteVpcPeeringConnection",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:DeleteRule",
}


def stage(**changes: str) -> stage_config.StageConfig:
    cfg = deployed_stage()
    return stage_config.StageConfig(
        cfg.stage, cfg.app_name, {**cfg.variables, **changes}, cfg.function_arns
    )


def every_step(cfg: stage_config.StageConfig | None = None) -> dict[str, dict[str, Any]]:
    cfg = cfg or stage()
    return {function: policies.step(cfg, function) for function in step_functions()}


def statements_with(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if action in s["Action"]]


def actions(document: dict[str, Any]) -> set[str]:
    return {action for s in document["Statement"] for action in s["Action"]}


# --- 21: one policy per step function, each with only what it does ----------------------------


def test_every_step_function_has_its_own_policy_naming_its_own_log_group() -> None:
    documents = every_step()

    assert set(documents) == set(policies.STEP_NEEDS) == set(step_functions())
    for function, document in documents.items():
        [logs] = [s for s in document["Statement"] if s["Sid"] == "Logs"]
        group = f"{LOGS}/aws/lambda/mwaa-gate-dev-{function}"
        assert logs["Resource"] == [group, f"{group}:*"], function


def test_only_the_route_step_reads_the_oidc_client_secret() -> None:
    readers = {f for f, d in every_step().items() if "secretsmanager:GetSecretValue" in actions(d)}
    assert readers == {"onboard_route_host"}


@pytest.mark.parametrize(
    ("action", "functions"),
    [
        ("airflow:CreateEnvironment", {"onboard_create_environment"}),
        ("iam:PassRole", {"onboard_create_environment"}),
        ("airflow:DeleteEnvironment", {"onboard_rollback", "offboard_delete_environment"}),
        ("ec2:CreateVpcPeeringConnection", {"onboard_connect_network"}),
        ("ec2:CreateRoute", {"onboard_connect_network"}),
        ("ec2:DeleteRoute", {"onboard_rollback", "offboard_teardown"}),
        ("elasticloadbalancing:CreateTargetGroup", {"onboard_register_targets"}),
        ("elasticloadbalancing:CreateRule", {"onboard_route_host"}),
        ("dynamodb:PutItem", {"onboard_validate"}),
        ("dynamodb:DeleteItem", {"onboard_rollback", "offboard_teardown"}),
    ],
)
def test_each_write_belongs_to_the_steps_that_make_it(action: str, functions: set[str]) -> None:
    assert {f for f, d in every_step().items() if action in actions(d)} == functions


@pytest.mark.parametrize(
    "function", ["onboard_poll_environment", "offboard_begin", "offboard_poll_deleted"]
)
def test_steps_that_only_look_can_only_read(function: str) -> None:
    granted = actions(every_step()[function]) - {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    # (and assume the member role, to look at an environment in a member account)
    assert granted <= {"dynamodb:GetItem", "airflow:GetEnvironment", "sts:AssumeRole"}


def test_no_step_policy_uses_wildcard_actions_or_unneeded_iam() -> None:
    for function, document in every_step().items():
        granted = actions(document)
        assert not any("*" in a for a in granted), function
        assert granted & {"iam:PassRole", "iam:CreateServiceLinkedRole"} <= (
            {"iam:PassRole", "iam:CreateServiceLinkedRole"}
            if function == "onboard_create_environment"
            else set()
        ), function
        for s in document["Statement"]:
            if s["Resource"] == "*":
                assert all(a.split(":")[1].startswith("Describe") for a in s["Action"]), s


# --- 19: PassRole only for the execution roles the settings allow -----------------------------


def test_pass_role_is_limited_to_the_execution_role_prefix_and_to_mwaa() -> None:
    document = every_step(stage(MWAA_EXECUTION_ROLE_PREFIX="mwaa-gate-dev/"))[
        "onboard_create_environment"
    ]

    [passing] = statements_with(document, "iam:PassRole")
    assert passing["Resource"] == ["arn:aws:iam::111122223333:role/mwaa-gate-dev/*"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}
    }


def test_without_an_execution_role_prefix_no_step_may_create_or_pass_a_role() -> None:
    for function, document in every_step(stage(MWAA_EXECUTION_ROLE_PREFIX="")).items():
        assert not actions(document) & {"iam:PassRole", "airflow:CreateEnvironment"}, function


def test_an_execution_role_prefix_with_a_wildcard_is_refused() -> None:
    with pytest.raises(stage_config.ConfigError, match="MWAA_EXECUTION_ROLE_PREFIX"):
        stage(MWAA_EXECUTION_ROLE_PREFIX="*").check()
    stage(MWAA_EXECUTION_ROLE_PREFIX="/service-role/mwaa-").check()


# --- 20: tags only at creation; destructive actions only on what this deployment made --------


def test_tagging_is_allowed_only_inside_the_create_calls() -> None:
    for function, document in every_step().items():
        for s in statements_with(document, "ec2:CreateTags"):
            assert s["Condition"] == {
                "StringEquals": {
                    "ec2:CreateAction": [
                        "AuthorizeSecurityGroupIngress",
                        "CreateVpcPeeringConnection",
                    ]
                }
            }, function
            assert s["Action"] == ["ec2:CreateTags"]
        for s in statements_with(document, "elasticloadbalancing:AddTags"):
            assert s["Action"] == ["elasticloadbalancing:AddTags"]
            assert set(s["Condition"]) == {"StringEquals"}
            assert set(s["Condition"]["StringEquals"]) == {"elasticloadbalancing:CreateAction"}
        for s in statements_with(document, "airflow:TagResource"):
            assert s["Condition"] == {
                "StringEquals": {"aws:RequestTag/mwaa-gate:deployment": "mwaa-gate-dev"}
            }
    taggers = {
        f
        for f, d in every_step().items()
        if actions(d) & {"ec2:CreateTags", "elasticloadbalancing:AddTags", "airflow:TagResource"}
    }
    assert taggers == {
        "onboard_create_environment",
        "onboard_connect_network",
        "onboard_register_targets",
        "onboard_route_host",
    }


def test_destructive_actions_need_this_deployments_tag() -> None:
    seen = set()
    for function, document in every_step().items():
        for action in DESTRUCTIVE & actions(document):
            seen.add(action)
            for s in statements_with(document, action):
                condition = s["Condition"]
                assert condition["StringEquals"][DEPLOYMENT_TAG] == "mwaa-gate-dev", (function, s)
                if action != "ec2:DeleteVpcPeeringConnection":  # shared by one VPC's environments
                    # only per-environment resources: never authX's target group or the
                    # platform's listener rules, which carry the deployment tag alone
                    assert condition["Null"] == {ENVIRONMENT_TAG: "false"}, (function, s)
    assert seen == DESTRUCTIVE


def test_target_group_actions_are_limited_to_the_workflows_name_prefix() -> None:
    for function, document in every_step().items():
        for s in document["Statement"]:
            if any(a.endswith(("TargetGroup", "Targets")) for a in s["Action"]):
                if s["Resource"] == "*":
                    continue  # Describe*
                assert s["Resource"] == [
                    "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/mwaa-gate-*/*"
                ], function


# --- 22: trust policies ---------------------------------------------------------------------


def test_the_state_machines_role_trusts_only_this_accounts_two_machines() -> None:
    [trust] = policies.states_trust(stage())["Statement"]

    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {
            "aws:SourceArn": [
                "arn:aws:states:eu-west-1:111122223333:stateMachine:mwaa-gate-dev-offboard",
                "arn:aws:states:eu-west-1:111122223333:stateMachine:mwaa-gate-dev-onboard",
            ]
        },
    }


def test_the_airflow_token_roles_require_a_source_identity() -> None:
    authx_role = "arn:aws:iam::111122223333:role/mwaa-gate-dev-authx"
    [trust] = policies.rbac_trust(authx_role)["Statement"]

    assert trust["Principal"] == {"AWS": authx_role}
    assert sorted(trust["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert trust["Condition"] == {"StringLike": {"sts:SourceIdentity": "*"}}


def test_generated_files_are_what_chalice_deploys(tmp_path: Path) -> None:
    (tmp_path / ".chalice").mkdir()
    written = {p.name: json.loads(p.read_text()) for p in policies.write_files(tmp_path, stage())}
    config = json.loads((PROJECT / ".chalice" / "config.json").read_text())["stages"]["dev"]

    for function, chalice in config["lambda_functions"].items():
        assert written[chalice["iam_policy_file"]] == policies.step(stage(), function)


# --- 19: the API refuses what PassRole would not allow, and accepts what it would -----------

ROLE_PATHS = st.from_regex(r"\A[\w+=,.@/-]{1,40}\Z", fullmatch=True).filter(str.isascii)


def pass_role_allows(role_arn: str, prefix: str) -> bool:
    """IAM's reading of the PassRole resource `role/<prefix>*` (`*`: any characters, `/` too)."""
    [passing] = statements_with(
        every_step(stage(MWAA_EXECUTION_ROLE_PREFIX=prefix))["onboard_create_environment"],
        "iam:PassRole",
    )
    [pattern] = passing["Resource"]
    return fnmatch.fnmatchcase(role_arn, pattern)


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["mwaa-", "mwaa-gate-dev/", "service-role/AmazonMWAA-"]),
    path_and_name=st.one_of(
        ROLE_PATHS,
        st.sampled_from(["mwaa-", "mwaa-gate-dev/", "service-role/AmazonMWAA-"]).flatmap(
            lambda p: ROLE_PATHS.map(lambda rest: p + rest)
        ),
    ),
)
def test_the_api_accepts_exactly_the_roles_pass_role_allows(
    prefix: str, path_and_name: str
) -> None:
    arn = f"arn:aws:iam::111122223333:role/{path_and_name}"

    accepted = validation.execution_role_problem(arn, prefix) is None

    assert accepted == pass_role_allows(arn, prefix)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111122223333:role/admin",
        "arn:aws:iam::111122223333:role/MWAA-x",  # ARNs match case-sensitively in IAM
        "arn:aws:iam::111122223333:role/mwaa\u2010x",  # a Unicode hyphen
        "arn:aws:iam::111122223333:role/x/mwaa-x",  # the prefix is the start of path and name
        "arn:aws:iam::111122223333:user/mwaa-x",
    ],
)
def test_the_api_refuses_other_execution_roles(arn: str) -> None:
    problem = validation.execution_role_problem(arn, "mwaa-")
    assert problem is not None and '"mwaa-"' in problem


def test_without_a_prefix_the_api_creates_no_environment() -> None:
    problem = validation.execution_role_problem("arn:aws:iam::111122223333:role/mwaa-x", "")
    assert problem is not None and "mode attach" in problem


# --- the same rules in the member-account template (templates/member-account.yaml) -------------


def member_template() -> dict[str, Any]:
    from cfnlint.decode import decode

    template, problems = decode(str(PROJECT / "templates" / "member-account.yaml"))
    assert not problems, problems
    return template


def test_member_token_roles_require_a_source_identity() -> None:
    roles = [
        r
        for name, r in member_template()["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and name.startswith("Airflow")
    ]
    assert len(roles) == 5
    for role in roles:
        [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"]["StringLike"] == {"sts:SourceIdentity": "*"}


def member_statements() -> list[dict[str, Any]]:
    role = member_template()["Resources"]["MemberRole"]
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_member_role_tags_only_at_creation_and_passes_only_allowed_roles() -> None:
    by_sid = {s["Sid"]: s for s in member_statements()}

    # Ingress rules are tagged inside AuthorizeSecurityGroupIngress only.
    rules = by_sid["TagIngressRulesAtCreation"]
    assert rules["Action"] == "ec2:CreateTags"
    assert "security-group-rule/*" in json.dumps(rules["Resource"])
    assert rules["Condition"]["StringEquals"]["ec2:CreateAction"] == (
        "AuthorizeSecurityGroupIngress"
    )
    # The accepter's side of a peering (tags are per account) only for peerings the service
    # account requested, only with the service's two tags.
    peerings = by_sid["TagPeeringsTheServiceRequested"]
    assert "vpc-peering-connection/*" in json.dumps(peerings["Resource"])
    assert "${ServiceAccountId}:vpc/*" in json.dumps(peerings["Condition"]["ArnLike"])
    for statement in (rules, peerings):
        assert statement["Condition"]["StringEquals"]["aws:RequestTag/mwaa-gate:deployment"]
        assert statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == [
            "mwaa-gate:environment",
            "mwaa-gate:deployment",
        ]
    tagging = [s for s in member_statements() if "ec2:CreateTags" in json.dumps(s["Action"])]
    assert tagging == [rules, peerings]
    passing = by_sid["PassExecutionRoleToMwaa"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}
    }
    resources = json.dumps(passing["Resource"])
    assert "role/*" not in resources
    assert "role/${DeploymentName}/*" in resources and "role/${ExecutionRolePrefix}*" in resources


def test_the_workflow_tags_only_at_creation() -> None:
    """The policies allow tagging only inside a create call, so the code must never tag
    afterwards (it would fail in AWS with AccessDenied) — but for the one thing that cannot be
    tagged at creation: the accepter's side of a peering in a member account (tags are per
    account), which the member template allows for peerings the service account requested."""
    later = re.compile(r"\.(create_tags|add_tags|tag_resource)\(")
    found = [
        (path.name, line.strip())
        for path in sorted((PROJECT / "chalicelib" / "workflow").rglob("*.py"))
        for line in path.read_text().splitlines()
        if later.search(line)
    ]
    assert found == [
        (
            "network.py",
            "where.ec2().create_tags(Resources=[peering_id], "
            "Tags=tags.key_value_list(environment))",
        )
    ]
