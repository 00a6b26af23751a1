"""Least-privilege IAM policy documents, rendered from a stage's settings (pure; no AWS).

- `api`: the admin API's Lambda (Chalice's `api_handler`): the two tables, start and describe
  executions of the two state machines.
- `steps`: the workflow step Lambdas: the environments table, EC2 peering/routes/security
  group rules, ELBv2 target groups and rules on the stage's listener, MWAA, the OIDC secret
  (or, with authenticate-cognito, DescribeUserPoolClient on the user pool).
- `authx`: the authX Lambda: read the tables (the portal Queries grants by principal), assume
  the Airflow-role IAM roles.
- `rbac`: each Airflow-role IAM role: a web login token for that Airflow role only.
- `states`: the state machines' role: invoke exactly the step Lambdas they name.

`python -m chalicelib.platform.policies --stage S` writes `api` and `steps` as
`.chalice/policy-api-S.json` and `.chalice/policy-steps-S.json`, the files the stage's
`iam_policy_file` settings name (`make deploy` runs it before `chalice deploy`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chalicelib import oidc

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


def _logs(cfg: StageConfig, function_prefix: str) -> dict[str, Any]:
    return _statement(
        "Logs",
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        [_arn(cfg, "logs", f"log-group:/aws/lambda/{function_prefix}*")],
    )


def trust(service: str) -> dict[str, Any]:
    return document(
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    )


def rbac_trust(authx_role_arn: str) -> dict[str, Any]:
    """Only authX's role may assume it, and it must be able to set the SourceIdentity."""
    return document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": authx_role_arn},
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
        }
    )


def api(cfg: StageConfig) -> dict[str, Any]:
    tables = [_table(cfg, cfg.get("ENVIRONMENTS_TABLE")), _table(cfg, cfg.get("GRANTS_TABLE"))]
    machines = [cfg.get("ONBOARD_STATE_MACHINE_ARN"), cfg.get("OFFBOARD_STATE_MACHINE_ARN")]
    executions = [arn.replace(":stateMachine:", ":execution:", 1) + ":*" for arn in machines if arn]
    return document(
        _logs(cfg, f"{cfg.app_name}-{cfg.stage}-"),
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
        _statement("ObserveWorkflows", ["states:DescribeExecution"], executions),
    )


def steps(cfg: StageConfig) -> dict[str, Any]:
    listener = cfg.listener_arn
    # listener/app/<lb>/<id>/<id> → its rules are listener-rule/app/<lb>/<id>/<id>/<rule id>
    rules = listener.replace(":listener/", ":listener-rule/", 1) + "/*"
    return document(
        _logs(cfg, f"{cfg.app_name}-{cfg.stage}-"),
        _statement(
            "EnvironmentsTable",
            [
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:UpdateItem",
            ],
            [_table(cfg, cfg.get("ENVIRONMENTS_TABLE"))],
        ),
        _statement(
            "Describe",
            [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeVpcs",
                "elasticloadbalancing:DescribeAccountLimits",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "*",  # Describe* calls take no resource-level permissions
        ),
        _statement(
            "Network",
            [
                "ec2:AcceptVpcPeeringConnection",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:CreateRoute",
                "ec2:CreateTags",
                "ec2:CreateVpcPeeringConnection",
                "ec2:DeleteRoute",
                "ec2:DeleteVpcPeeringConnection",
                "ec2:ReplaceRoute",
                "ec2:RevokeSecurityGroupIngress",
            ],
            [
                _arn(cfg, "ec2", "vpc/*"),
                _arn(cfg, "ec2", "vpc-peering-connection/*"),
                _arn(cfg, "ec2", "route-table/*"),
                _arn(cfg, "ec2", "security-group/*"),
                _arn(cfg, "ec2", "security-group-rule/*"),
            ],
        ),
        _statement(
            "TargetGroups",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RegisterTargets",
            ],
            [_arn(cfg, "elasticloadbalancing", "targetgroup/*")],
        ),
        _statement(
            "ListenerRules",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
            ],
            [listener, rules],
        ),
        _statement(
            "Mwaa",
            [
                "airflow:CreateEnvironment",
                "airflow:DeleteEnvironment",
                "airflow:GetEnvironment",
                "airflow:ListTagsForResource",
                "airflow:TagResource",
            ],
            [_arn(cfg, "airflow", "environment/*")],
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
        _statement(
            "PassExecutionRoleToMwaa",
            ["iam:PassRole"],
            [_arn(cfg, "iam", "role/*", region=False)],
            Condition={"StringEquals": {"iam:PassedToService": MWAA_SERVICE}},
        ),
        _statement(
            "MwaaServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            [_arn(cfg, "iam", "role/aws-service-role/airflow.amazonaws.com/*", region=False)],
            Condition={"StringEquals": {"iam:AWSServiceName": MWAA_SERVICE}},
        ),
        _sign_in(cfg),
    )


def _sign_in(cfg: StageConfig) -> dict[str, Any]:
    """What writing a rule with the stage's sign-in action needs: the OIDC client secret, or
    for authenticate-cognito the app client (ELB checks it with the caller's permissions)."""
    if oidc.needs_client_secret(cfg.variables):
        return _statement(
            "OidcClientSecret",
            ["secretsmanager:GetSecretValue"],
            [cfg.get("OIDC_CLIENT_SECRET_ARN")],
        )
    return _statement(
        "CognitoUserPoolClient",
        ["cognito-idp:DescribeUserPoolClient"],
        [cfg.get("COGNITO_USER_POOL_ARN")],
    )


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
    )


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


def file_names(stage: str) -> dict[str, str]:
    return {"api": f"policy-api-{stage}.json", "steps": f"policy-steps-{stage}.json"}


def write_files(project_dir: Path, cfg: StageConfig) -> list[Path]:
    """Write (or rewrite) the stage's policy files; the paths written."""
    cfg.check()
    rendered = {"api": api(cfg), "steps": steps(cfg)}
    written = []
    for key, name in file_names(cfg.stage).items():
        path = project_dir / ".chalice" / name
        path.write_text(json.dumps(rendered[key], indent=2) + "\n")
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
