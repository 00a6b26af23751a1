"""`python -m chalicelib.platform.setup --stage S [--plan]`: the platform, after `chalice deploy`.

In order: the tables (deletion protection, point-in-time recovery); authX's role and the
Airflow-role IAM roles that trust it; the authX Lambda; the log groups of every function with
their retention; authX's target group; the platform listener rules; the state machines and
their role; the alarms. Every part observes what exists and changes only the difference, so a
second run reports everything `unchanged`; `--plan` observes and reports what it would change,
and changes nothing. Exit 0 when done, 2 for a configuration problem, 1 for an AWS error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from authx.roles import ROLES
from chalicelib import oidc

from . import (
    alarms,
    authx_function,
    authx_package,
    iam_roles,
    listener_rules,
    log_groups,
    policies,
    propagation,
    tables,
    target_group,
    workflows,
)
from . import config as stage_config
from .config import ConfigError, StageConfig
from .report import Report

ClientFactory = Callable[[str], Any]
AUTHX_OPTIONAL = (
    "USER_CLAIM",
    "GROUPS_CLAIM",
    "IDP_LOGOUT_URL",
    "ALB_PUBLIC_KEY_URL",
    "ALB_COOKIE_NAME",
    "PORTAL_CONTACT",
    "AIRFLOW_PATHS",  # the per-version path overrides (authx/airflow_paths.py), if any
)


# --- names of what setup makes -------------------------------------------------------------------


def authx_name(cfg: StageConfig) -> str:
    return f"{cfg.deployment}-authx"


def rbac_role_name(cfg: StageConfig, airflow_role: str) -> str:
    return f"{cfg.deployment}-airflow-{airflow_role}"


def states_role_name(cfg: StageConfig) -> str:
    return f"{cfg.deployment}-states"


def permission_id(cfg: StageConfig) -> str:
    return f"{cfg.deployment}-alb"


# --- the roles setup makes (also the CloudFormation template's: one definition) ---------------


@dataclass(frozen=True)
class RoleSpec:
    name: str
    trust: dict[str, Any]
    policy: dict[str, Any]
    description: str


def rbac_role_arns(cfg: StageConfig) -> dict[str, str]:
    return {
        role: f"arn:{cfg.partition}:iam::{cfg.account}:role/{rbac_role_name(cfg, role)}"
        for role in ROLES
    }


def authx_role(cfg: StageConfig) -> RoleSpec:
    name = authx_name(cfg)
    return RoleSpec(
        name,
        policies.trust("lambda.amazonaws.com"),
        policies.authx(cfg, name, rbac_role_arns(cfg).values()),
        "mwaa-gate authX Lambda",
    )


def rbac_roles(cfg: StageConfig, authx_role_arn: Any) -> list[RoleSpec]:
    """One per Airflow role; `authx_role_arn` may be a CloudFormation reference."""
    return [
        RoleSpec(
            rbac_role_name(cfg, role),
            policies.rbac_trust(authx_role_arn),
            policies.rbac(cfg, role),
            f"mwaa-gate: MWAA web login as Airflow {role}",
        )
        for role in ROLES
    ]


def states_role(cfg: StageConfig, step_arns: Iterable[str]) -> RoleSpec:
    return RoleSpec(
        states_role_name(cfg),
        policies.states_trust(cfg),
        policies.states(step_arns),
        "mwaa-gate onboard/offboard state machines",
    )


def _ensure_role(iam: Any, report: Report, spec: RoleSpec, cfg: StageConfig) -> str:
    return iam_roles.ensure(
        iam, report, spec.name, spec.trust, spec.policy, cfg.tag, spec.description
    )


# --- checks --------------------------------------------------------------------------------------


def check_account(client: ClientFactory, cfg: StageConfig) -> None:
    """The credentials and region in use are those of the stage's listener."""
    account = client("sts").get_caller_identity()["Account"]
    region = client("elbv2").meta.region_name
    if (account, region) != (cfg.account, cfg.region):
        raise ConfigError(
            f"the credentials are for account {account} in {region}, but ALB_LISTENER_ARN is "
            f"in account {cfg.account}, {cfg.region}: use that account and region"
        )


def load_balancer_arn(elbv2: Any, cfg: StageConfig) -> str:
    listeners = elbv2.describe_listeners(ListenerArns=[cfg.listener_arn])["Listeners"]
    listener = listeners[0]
    if listener.get("Protocol") != "HTTPS":
        raise ConfigError(
            "ALB_LISTENER_ARN must be an HTTPS listener (authenticate-oidc/-cognito need it)"
        )
    return listener["LoadBalancerArn"]


def authx_variables(cfg: StageConfig, alb_arns: str, rbac_arns: dict[str, str]) -> dict[str, str]:
    variables = {
        "GRANTS_TABLE": cfg.get("GRANTS_TABLE"),
        "ENVIRONMENTS_TABLE": cfg.get("ENVIRONMENTS_TABLE"),
        "ALB_ARNS": alb_arns,
        "RBAC_ROLE_ARNS": json.dumps(rbac_arns, sort_keys=True, separators=(",", ":")),
        "RBAC_ROLE_ARN_PATTERN": policies.token_role_arn_pattern(cfg),
        "POWERTOOLS_SERVICE_NAME": "mwaa-gate-authx",
        "LOG_LEVEL": cfg.get("LOG_LEVEL", "INFO"),
    }
    for name in AUTHX_OPTIONAL:
        if cfg.get(name):
            variables[name] = cfg.get(name)
    variables["PORTAL_HOST"] = cfg.portal_host
    issuer, client = oidc.token_origin(cfg.variables)
    if issuer and client:  # refuse tokens of any other sign-in action on the load balancer
        variables["ALB_TOKEN_ISSUERS"], variables["ALB_TOKEN_CLIENT_IDS"] = issuer, client
    if not cfg.get("IDP_LOGOUT_URL"):
        # With Cognito, logout ends the user pool's session too, then shows the portal host's
        # close page: the one sign-out URL the app client must allow.
        cognito_logout = oidc.logout_url(cfg.variables, f"https://{cfg.portal_host}/logout/close")
        if cognito_logout:
            variables["IDP_LOGOUT_URL"] = cognito_logout
    return variables


# --- setup ---------------------------------------------------------------------------------------


def setup(
    cfg: StageConfig,
    client: ClientFactory,
    authx_zip: bytes,
    *,
    rotate_client_secret: bool = False,
    plan: bool = False,
    echo: Callable[[str], None] | None = print,
    propagation_delay: float = propagation.DELAY_SECONDS,
) -> Report:
    """Make or repair the platform; with `plan`, only report what that would change."""
    cfg.check()
    step_arns = workflows.step_function_arns(cfg)  # fails early when chalice deploy is missing
    check_account(client, cfg)
    report = Report(echo=echo, plan=plan)
    iam, elbv2, lambda_client = client("iam"), client("elbv2"), client("lambda")
    balancer = load_balancer_arn(elbv2, cfg)
    alb_arns = cfg.get("ALB_ARNS") or balancer

    tables.ensure(client("dynamodb"), report, cfg)

    authx = authx_name(cfg)
    rbac_arns = rbac_role_arns(cfg)
    authx_role_arn = _ensure_role(iam, report, authx_role(cfg), cfg)
    for spec in rbac_roles(cfg, authx_role_arn):
        _ensure_role(iam, report, spec, cfg)

    function_arn = authx_function.ensure(
        lambda_client,
        report,
        authx,
        authx_role_arn,
        authx_zip,
        authx_variables(cfg, alb_arns, rbac_arns),
        cfg.tag,
        propagation_delay=propagation_delay,
    )
    log_groups.ensure(client("logs"), report, cfg, log_groups.function_names(cfg, authx))
    group_arn = target_group.ensure(elbv2, report, authx, cfg.tag)
    authx_function.ensure_alb_permission(
        lambda_client, report, authx, permission_id(cfg), group_arn
    )
    target_group.ensure_target(elbv2, report, group_arn, authx, function_arn)
    listener_rules.ensure(
        elbv2, client("secretsmanager"), report, cfg, group_arn, rotate_client_secret
    )

    states_role_arn = _ensure_role(iam, report, states_role(cfg, step_arns.values()), cfg)
    machines = workflows.ensure(
        client("stepfunctions"), report, cfg, states_role_arn, propagation_delay
    )
    wanted_alarms = alarms.wanted(
        cfg,
        state_machine_arns=machines,
        load_balancer_arn=balancer,
        target_group_arn=group_arn,
        authx_function=authx,
    )
    alarms.ensure(client("cloudwatch"), report, cfg, wanted_alarms)
    return report


def boto3_clients(region: str | None = None) -> ClientFactory:
    session = boto3.session.Session(region_name=region)
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = session.client(service)
        return made[service]

    return client


def authx_zip(project_dir: Path, dependencies: Path | None) -> bytes:
    source = project_dir / "authx"
    if dependencies is None:
        dependencies = authx_package.dependencies_dir(source, project_dir / "build")
    return authx_package.build(source, dependencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--project-dir", type=Path, default=stage_config.PROJECT_ROOT)
    parser.add_argument(
        "--authx-deps",
        type=Path,
        help="authX's dependencies installed already (else pip installs Linux wheels into build/)",
    )
    parser.add_argument(
        "--rotate-client-secret",
        action="store_true",
        help="rewrite the login/logout rules with the OIDC client secret as it is now",
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="print what setup would change, and change nothing",
    )
    args = parser.parse_args(argv)
    try:
        cfg = stage_config.load(args.project_dir, args.stage)
        cfg.check()
        package = authx_zip(args.project_dir, args.authx_deps)
        report = setup(
            cfg,
            boto3_clients(cfg.region),
            package,
            rotate_client_secret=args.rotate_client_secret,
            plan=args.plan,
        )
    except ConfigError as error:
        print(f"setup: {error}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"setup: AWS refused: {error}", file=sys.stderr)
        return 1
    if args.plan:
        print(f"plan for stage {args.stage}: {report.summary()}")
    else:
        print(f"setup of stage {args.stage} done: {report.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
