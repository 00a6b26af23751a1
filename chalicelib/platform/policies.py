"""Least-privilege IAM policy documents, rendered from a stage's settings (pure; no AWS).

- `api`: the admin API's Lambda (Chalice's `api_handler`): the two tables, start and describe
  executions of the two state machines, and what `POST /environments/{name}/reconcile` does in
  the request (`RECONCILE_NEEDS`, as the scheduled reconciler).
- `step`: one workflow step Lambda: only what that function does (`STEP_NEEDS`): its record,
  EC2 peering/routes/ingress, ELBv2 target groups and rules on the stage's listener, MWAA,
  the OIDC secret (with authenticate-cognito: DescribeUserPoolClient on the user pool instead).
  Tags only at creation; deletes only what this deployment made. The steps that act on an
  environment's side may assume the member role `<DEPLOYMENT_NAME>-member` of member accounts
  (`MEMBER_SIDE_STEPS`), whose own permissions templates/member-account.yaml sets.
- `authx`: the authX Lambda: read the tables (the portal Queries grants by principal), assume
  the Airflow-role IAM roles (its account's, and by name those of member accounts).
- `rbac`: each Airflow-role IAM role: a web login token for that Airflow role only.
- `states`: the state machines' role: invoke exactly the step Lambdas they name.

`python -m chalicelib.platform.policies --stage S` writes `.chalice/policy-api-S.json` and one
`.chalice/policy-<function>-S.json` per step function, the files the stage's `iam_policy_file`
settings name (`make deploy` runs it before `chalice deploy`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chalicelib import oidc
from chalicelib.workflow.tags import DEPLOYMENT

from . import config as stage_config
from .config import StageConfig

VERSION = "2012-10-17"
MWAA_SERVICE = "airflow.amazonaws.com"


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def _statement(sid: str, actions: Iterable[str], resources: Iterable[str] | str, **extra: Any):
    resource = resources if isinstance(resources, str) else sorted(set(resources))
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource, **extra}


def _arn(cfg: StageConfig, service: str, resource: str, region: bool = True) -> str:
    where = cfg.region if region else ""
    return f"arn:{cfg.partition}:{service}:{where}:{cfg.account}:{resource}"


def _table(cfg: StageConfig, name: str) -> str:
    return _arn(cfg, "dynamodb", f"table/{name}")


def _logs(cfg: StageConfig, function_name: str) -> dict[str, Any]:
    """Write to the function's own log group (`*` ends a prefix: the API's functions)."""
    group = _arn(cfg, "logs", f"log-group:/aws/lambda/{function_name}")
    return _statement(
        "Logs",
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        [group, f"{group}:*"],
    )


def trust(service: str) -> dict[str, Any]:
    return document(
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    )


def states_trust(cfg: StageConfig) -> dict[str, Any]:
    """Step Functions may assume the state machines' role only for this stage's two machines
    in this account (confused-deputy protection: `aws:SourceAccount` and `aws:SourceArn`)."""
    variables = ("ONBOARD_STATE_MACHINE_ARN", "OFFBOARD_STATE_MACHINE_ARN")
    machines = sorted(cfg.get(variable) for variable in variables)
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": cfg.account},
                "ArnLike": {"aws:SourceArn": machines},
            },
        }
    )


def rbac_trust(authx_role_arn: str) -> dict[str, Any]:
    """Only authX's role may assume it, and only with a SourceIdentity (the signed-in user,
    which then stays on every session chained from it and in CloudTrail)."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": authx_role_arn},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {"StringLike": {"sts:SourceIdentity": "*"}},
        }
    )


def api(cfg: StageConfig) -> dict[str, Any]:
    tables = [_table(cfg, cfg.get("ENVIRONMENTS_TABLE")), _table(cfg, cfg.get("GRANTS_TABLE"))]
    machines = [cfg.get("ONBOARD_STATE_MACHINE_ARN"), cfg.get("OFFBOARD_STATE_MACHINE_ARN")]
    executions = [arn.replace(":stateMachine:", ":execution:", 1) + ":*" for arn in machines if arn]
    return document(
        _logs(cfg, f"{cfg.app_name}-{cfg.stage}"),
        _statement(
            "Tables",
            [
                "dynamodb:BatchGetItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:UpdateItem",
            ],
            tables,
        ),
        _statement("StartWorkflows", ["states:StartExecution"], machines),
        _statement(
            "ObserveWorkflows",
            ["states:DescribeExecution", "states:GetExecutionHistory"],
            executions,
        ),
        # POST /environments/{name}/reconcile runs the reconciler in the request.
        *_merge_sids([s for need in RECONCILE_NEEDS for s in _grants(cfg, need)]),
    )


# --- the step Lambdas: each function gets only what it does ----------------------------------

# What each step Lambda of app.py does, as the permission sets of `_grants` below. Every function
# the state machines name is listed (a test checks it), and each gets its own policy file and so
# its own role (Chalice makes `<app>-<stage>-<function>` for a function with its own file).
STEP_NEEDS: dict[str, tuple[str, ...]] = {
    "onboard_validate": (
        "read_record",
        "write_record",
        "scan_records",
        "claim",
        "read_mwaa",
        "read_network",
        "read_alb",
    ),
    "onboard_create_environment": ("read_record", "write_record", "read_mwaa", "create_mwaa"),
    "onboard_poll_environment": ("read_record", "read_mwaa"),
    "onboard_connect_network": (
        "read_record",
        "write_record",
        "scan_records",
        "read_mwaa",
        "read_network",
        "read_alb",
        "connect_network",
    ),
    "onboard_register_targets": (
        "read_record",
        "write_record",
        "read_mwaa",
        "read_network",
        "read_alb",
        "register_targets",
    ),
    "onboard_route_host": ("read_record", "write_record", "read_alb", "route_host", "sign_in"),
    "onboard_finish": ("read_record", "write_record", "read_mwaa"),
    "onboard_rollback": (
        "read_record",
        "write_record",
        "scan_records",
        "release_slot",
        "read_mwaa",
        "read_network",
        "read_alb",
        "teardown",
        "delete_mwaa",
    ),
    "offboard_begin": ("read_record",),
    "offboard_teardown": (
        "read_record",
        "write_record",
        "scan_records",
        "release_slot",
        "read_network",
        "read_alb",
        "teardown",
    ),
    "offboard_delete_environment": ("read_record", "read_mwaa", "delete_mwaa"),
    "offboard_poll_deleted": ("read_record", "read_mwaa"),
    "offboard_finish": ("read_record", "write_record"),
    "offboard_fail": ("read_record", "write_record"),
}

# Steps that act on an environment's side, which may be a member account (DESIGN §4).
MEMBER_SIDE_STEPS = (
    "onboard_validate",
    "onboard_create_environment",
    "onboard_poll_environment",
    "onboard_connect_network",
    "onboard_register_targets",
    "onboard_finish",
    "onboard_rollback",
    "offboard_teardown",
    "offboard_delete_environment",
    "offboard_poll_deleted",
)
for _step_name in MEMBER_SIDE_STEPS:
    STEP_NEEDS[_step_name] = (*STEP_NEEDS[_step_name], "member_role")

# The scheduled reconciler (docs/airflow.md): reads every record and MWAA (in member accounts
# too), re-registers targets, rewrites the health check and the rules it made, writes records.
RECONCILE_NEEDS: tuple[str, ...] = (
    "read_record",
    "write_record",
    "scan_records",
    "read_mwaa",
    "read_network",
    "read_alb",
    "register_targets",
    "route_host",
    "sign_in",
    "member_role",
)
# Every Lambda of app.py but the API's, with its permission sets: one policy file (role) each.
FUNCTION_NEEDS: dict[str, tuple[str, ...]] = {**STEP_NEEDS, "reconcile": RECONCILE_NEEDS}

# What the workflow tags (chalicelib/workflow/tags.py) and names (targets.target_group_name).
ENVIRONMENT_TAG = "mwaa-gate:environment"
TARGET_GROUP_PREFIX = "mwaa-gate-"
# EC2 actions the workflow calls with TagSpecifications; CreateTags is allowed only inside them.
# (Routes cannot be tagged: `created.routes` on the record says which are ours.)
EC2_TAGGING_CREATE_ACTIONS = ("AuthorizeSecurityGroupIngress", "CreateVpcPeeringConnection")


def _made_for_an_environment(cfg: StageConfig) -> dict[str, Any]:
    """Only what this deployment made for an environment: the deployment tag, and an
    environment tag (which the platform's own rules and authX's target group do not carry)."""
    return {
        "StringEquals": {f"aws:ResourceTag/{DEPLOYMENT}": cfg.deployment},
        "Null": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": "false"},
    }


def _elb_created_by(action: str) -> dict[str, Any]:
    """AddTags only as part of `action` (tag on create), never on an existing resource."""
    return {"StringEquals": {"elasticloadbalancing:CreateAction": action}}


def _grants(cfg: StageConfig, need: str) -> list[dict[str, Any]]:
    table = [_table(cfg, cfg.get("ENVIRONMENTS_TABLE"))]
    listener = cfg.listener_arn
    # listener/app/<lb>/<id>/<id> → its rules are listener-rule/app/<lb>/<id>/<id>/<rule id>
    rules = listener.replace(":listener/", ":listener-rule/", 1) + "/*"
    groups = _arn(cfg, "elasticloadbalancing", f"targetgroup/{TARGET_GROUP_PREFIX}*/*")
    environments = _arn(cfg, "airflow", "environment/*")
    if need == "read_record":
        return [_statement("ReadRecord", ["dynamodb:GetItem"], table)]
    if need == "write_record":
        return [_statement("WriteRecord", ["dynamodb:UpdateItem"], table)]
    if need == "scan_records":
        return [_statement("ScanRecords", ["dynamodb:Scan"], table)]
    if need == "claim":
        return [_statement("ClaimHostAndSlot", ["dynamodb:PutItem"], table)]
    if need == "release_slot":
        return [_statement("ReleaseSlot", ["dynamodb:DeleteItem"], table)]
    if need == "read_mwaa":
        return [_statement("ReadMwaa", ["airflow:GetEnvironment"], [environments])]
    if need == "read_network":
        return [
            _statement(
                "ReadNetwork",
                [
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeSecurityGroupRules",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcEndpoints",
                    "ec2:DescribeVpcPeeringConnections",
                    "ec2:DescribeVpcs",
                ],
                "*",  # Describe* calls take no resource-level permissions
            )
        ]
    if need == "read_alb":
        return [
            _statement(
                "ReadLoadBalancer",
                [
                    "elasticloadbalancing:DescribeAccountLimits",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTags",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                "*",
            )
        ]
    if need == "create_mwaa":
        return _create_mwaa(cfg, environments)
    if need == "delete_mwaa":
        return [
            _statement(
                "DeleteOwnMwaa",
                ["airflow:DeleteEnvironment"],
                [environments],
                Condition=_made_for_an_environment(cfg),
            )
        ]
    if need == "member_role":
        return [_statement("AssumeMemberRole", ["sts:AssumeRole"], member_role_arns(cfg))]
    if need == "connect_network":
        return [
            _statement(
                "Peer",
                ["ec2:AcceptVpcPeeringConnection", "ec2:CreateVpcPeeringConnection"],
                [_arn(cfg, "ec2", "vpc/*"), _arn(cfg, "ec2", "vpc-peering-connection/*")],
            ),
            # A peering request names the peer VPC, which may be a member account's.
            _statement(
                "PeerWithMemberAccounts",
                ["ec2:CreateVpcPeeringConnection"],
                [f"arn:{cfg.partition}:ec2:{cfg.region}:*:vpc/*"],
            ),
            _statement(
                "Route",
                ["ec2:CreateRoute", "ec2:ReplaceRoute"],
                [_arn(cfg, "ec2", "route-table/*")],
            ),
            _statement(
                "AllowHttpsFromAlb",
                ["ec2:AuthorizeSecurityGroupIngress"],
                [_arn(cfg, "ec2", "security-group/*"), _arn(cfg, "ec2", "security-group-rule/*")],
            ),
            _statement(
                "TagOnlyAtCreation",
                ["ec2:CreateTags"],
                [
                    _arn(cfg, "ec2", "vpc-peering-connection/*"),
                    _arn(cfg, "ec2", "security-group-rule/*"),
                ],
                Condition={"StringEquals": {"ec2:CreateAction": list(EC2_TAGGING_CREATE_ACTIONS)}},
            ),
        ]
    if need == "register_targets":
        return [
            _statement("CreateTargetGroup", ["elasticloadbalancing:CreateTargetGroup"], [groups]),
            _statement(
                "TagTargetGroupAtCreation",
                ["elasticloadbalancing:AddTags"],
                [groups],
                Condition=_elb_created_by("CreateTargetGroup"),
            ),
            _statement(
                "RegisterOwnTargets",
                ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
                [groups],
                Condition=_made_for_an_environment(cfg),
            ),
            _statement(  # the health check follows the environment's Airflow version
                "ModifyOwnTargetGroup",
                ["elasticloadbalancing:ModifyTargetGroup"],
                [groups],
                Condition=_made_for_an_environment(cfg),
            ),
        ]
    if need == "route_host":
        return [
            _statement("CreateRule", ["elasticloadbalancing:CreateRule"], [listener, rules]),
            _statement(
                "TagRuleAtCreation",
                ["elasticloadbalancing:AddTags"],
                [rules],
                Condition=_elb_created_by("CreateRule"),
            ),
            _statement(
                "DeleteOwnRule",
                ["elasticloadbalancing:DeleteRule"],
                [rules],
                Condition=_made_for_an_environment(cfg),
            ),
            _statement(  # paths follow the environment's Airflow version
                "ModifyOwnRule",
                ["elasticloadbalancing:ModifyRule"],
                [rules],
                Condition=_made_for_an_environment(cfg),
            ),
        ]
    if need == "teardown":
        return [
            _statement(
                "DeleteOwnRule",
                ["elasticloadbalancing:DeleteRule"],
                [rules],
                Condition=_made_for_an_environment(cfg),
            ),
            _statement(
                "DeleteOwnTargetGroup",
                ["elasticloadbalancing:DeleteTargetGroup"],
                [groups],
                Condition=_made_for_an_environment(cfg),
            ),
            _statement(
                "DeleteOwnPeering",
                ["ec2:DeleteVpcPeeringConnection"],
                [_arn(cfg, "ec2", "vpc-peering-connection/*")],
                # shared by the environments of one VPC: this deployment's, whichever made it
                Condition={"StringEquals": {f"aws:ResourceTag/{DEPLOYMENT}": cfg.deployment}},
            ),
            _statement(
                "RemoveRoutesAndIngress",
                ["ec2:DeleteRoute", "ec2:RevokeSecurityGroupIngress"],
                [
                    _arn(cfg, "ec2", "route-table/*"),
                    _arn(cfg, "ec2", "security-group/*"),
                    _arn(cfg, "ec2", "security-group-rule/*"),
                ],
            ),
        ]
    if need == "sign_in":  # what writing a rule with the stage's sign-in action needs
        if oidc.needs_client_secret(cfg.variables):
            return [
                _statement(
                    "OidcClientSecret",
                    ["secretsmanager:GetSecretValue"],
                    [cfg.get("OIDC_CLIENT_SECRET_ARN")],
                )
            ]
        # authenticate-cognito: ELB looks the app client up with the caller's permissions.
        return [
            _statement(
                "CognitoUserPoolClient",
                ["cognito-idp:DescribeUserPoolClient"],
                [cfg.get("COGNITO_USER_POOL_ARN")],
            )
        ]
    raise ValueError(f"unknown permission set {need!r}")


def _create_mwaa(cfg: StageConfig, environments: str) -> list[dict[str, Any]]:
    """CreateEnvironment with an execution role the settings allow, tagged as this deployment's.

    No MWAA_EXECUTION_ROLE_PREFIX: this deployment does not create environments (the API
    refuses mode `create`), and the function gets none of this.
    """
    prefix = execution_role_prefix(cfg)
    if not prefix:
        return []
    return [
        _statement("CreateMwaa", ["airflow:CreateEnvironment"], [environments]),
        # MWAA has no CreateAction key: TagResource is limited to requests that carry this
        # deployment's tag, and only this function has it.
        _statement(
            "TagMwaaAsOurs",
            ["airflow:TagResource"],
            [environments],
            Condition={"StringEquals": {f"aws:RequestTag/{DEPLOYMENT}": cfg.deployment}},
        ),
        _statement(
            "PassExecutionRoleToMwaa",
            ["iam:PassRole"],
            [_arn(cfg, "iam", f"role/{prefix}*", region=False)],
            Condition={"StringEquals": {"iam:PassedToService": MWAA_SERVICE}},
        ),
        _statement(
            "MwaaServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            [_arn(cfg, "iam", "role/aws-service-role/airflow.amazonaws.com/*", region=False)],
            Condition={"StringEquals": {"iam:AWSServiceName": MWAA_SERVICE}},
        ),
        _statement(
            "MwaaCreatesItsEndpoints",
            ["ec2:CreateNetworkInterface", "ec2:CreateVpcEndpoint"],
            [
                _arn(cfg, "ec2", "vpc-endpoint/*"),
                _arn(cfg, "ec2", "vpc/*"),
                _arn(cfg, "ec2", "subnet/*"),
                _arn(cfg, "ec2", "security-group/*"),
                _arn(cfg, "ec2", "network-interface/*"),
            ],
        ),
    ]


def execution_role_prefix(cfg: StageConfig) -> str:
    """MWAA_EXECUTION_ROLE_PREFIX without a leading `/`: the start of the execution roles'
    path and name after `role/` (`mwaa-gate/` for a path, `mwaa-` for a name prefix)."""
    return cfg.get("MWAA_EXECUTION_ROLE_PREFIX").lstrip("/")


def step(cfg: StageConfig, function: str) -> dict[str, Any]:
    """The policy of one step Lambda (or the reconciler): its log group and the permission sets
    it needs."""
    if function not in FUNCTION_NEEDS:
        raise ValueError(f"no permissions are defined for the step function {function!r}")
    statements = [_logs(cfg, f"{cfg.app_name}-{cfg.stage}-{function}")]
    for need in FUNCTION_NEEDS[function]:
        statements.extend(_grants(cfg, need))
    return document(*_merge_sids(statements))


def _merge_sids(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One statement per Sid (two permission sets may both grant e.g. DeleteOwnRule)."""
    seen: dict[str, dict[str, Any]] = {}
    for statement in statements:
        known = seen.get(statement["Sid"])
        if known is None:
            seen[statement["Sid"]] = statement
        elif known != statement:
            raise ValueError(f"two different statements named {statement['Sid']}")
    return list(seen.values())


def authx(cfg: StageConfig, function_name: str, rbac_role_arns: Iterable[str]) -> dict[str, Any]:
    tables = [_table(cfg, cfg.get("ENVIRONMENTS_TABLE")), _table(cfg, cfg.get("GRANTS_TABLE"))]
    return document(
        _logs(cfg, function_name),
        _statement(
            "ReadTables",
            ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
            tables,
        ),
        _statement(
            "AssumeAirflowRoles", ["sts:AssumeRole", "sts:SetSourceIdentity"], rbac_role_arns
        ),
        # The same token roles in member accounts (templates/member-account.yaml), which trust
        # this role only.
        _statement(
            "AssumeAirflowRolesInMemberAccounts",
            ["sts:AssumeRole", "sts:SetSourceIdentity"],
            [token_role_arn_pattern(cfg).replace("{account}", "*").replace("{role}", "*")],
        ),
    )


def token_role_arn_pattern(cfg: StageConfig) -> str:
    """authX's RBAC_ROLE_ARN_PATTERN: the token roles of every account (DESIGN §4)."""
    return f"arn:{cfg.partition}:iam::{{account}}:role/{cfg.deployment}-airflow-{{role}}"


def member_role_arns(cfg: StageConfig) -> list[str]:
    """The member roles the step Lambdas assume in member accounts (any account's)."""
    return [f"arn:{cfg.partition}:iam::*:role/{cfg.deployment}-member"]


def rbac(cfg: StageConfig, airflow_role: str) -> dict[str, Any]:
    return document(
        _statement(
            "WebLoginAs" + airflow_role,
            ["airflow:CreateWebLoginToken"],
            [_arn(cfg, "airflow", f"role/*/{airflow_role}")],
        )
    )


def states(function_arns: Iterable[str]) -> dict[str, Any]:
    arns = sorted(set(function_arns))
    return document(
        _statement("InvokeSteps", ["lambda:InvokeFunction"], arns + [f"{arn}:*" for arn in arns])
    )


# --- the policy files of .chalice/ ---------------------------------------------------------------


API = "api"


def file_names(stage: str) -> dict[str, str]:
    """`{"api" or a step function: its policy file in .chalice/}` for a stage."""
    names = {API: f"policy-api-{stage}.json"}
    names.update(
        {function: f"policy-{function}-{stage}.json" for function in sorted(FUNCTION_NEEDS)}
    )
    return names


def rendered(cfg: StageConfig) -> dict[str, dict[str, Any]]:
    return {key: api(cfg) if key == API else step(cfg, key) for key in file_names(cfg.stage)}


def write_files(project_dir: Path, cfg: StageConfig) -> list[Path]:
    """Write (or rewrite) the stage's policy files; the paths written."""
    cfg.check()
    documents = rendered(cfg)
    written = []
    for key, name in file_names(cfg.stage).items():
        path = project_dir / ".chalice" / name
        path.write_text(json.dumps(documents[key], indent=2) + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the stage's Chalice IAM policy files.")
    parser.add_argument("--stage", required=True)
    parser.add_argument("--project-dir", type=Path, default=stage_config.PROJECT_ROOT)
    args = parser.parse_args(argv)
    try:
        cfg = stage_config.load(args.project_dir, args.stage, need_deployed=False)
        for path in write_files(args.project_dir, cfg):
            print(f"wrote {path}")
    except stage_config.ConfigError as error:
        print(f"policies: {error}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
