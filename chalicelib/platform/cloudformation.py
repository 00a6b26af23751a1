"""The platform as CloudFormation: the template `chalice package --merge-template` merges.

What platform setup makes with API calls, as resources of the app's own stack, for teams that
deploy through CloudFormation, StackSets or their own pipelines (`make package STAGE=S`): the
tables (deletion protection, point-in-time recovery, TTL; kept when the stack goes), authX's
role and the Airflow-role IAM roles, the authX function (`./authx.zip`), its target group and
the ELB invoke permission, the platform listener rules, the state machines and their role, the
log groups of every function, and the alarms. The IAM documents are `policies.py`'s, the
rules `listener_rules.py`'s, the alarms `alarms.py`'s: one definition for both paths.

Chalice's functions get the names `chalice deploy` gives them (`<app>-<stage>-<function>`,
`<app>-<stage>` for the API handler), merged into Chalice's own resources, so the policies,
log groups and state machine ARNs are the same on both paths. The OIDC client secret is a
dynamic reference (`{{resolve:secretsmanager:<arn>:SecretString:client_secret}}`): the secret
must hold JSON with `client_secret` for this path, and its value never enters the template.
"""

from __future__ import annotations

from typing import Any

from chalice.utils import to_cfn_resource_name

from authx.roles import ROLES
from chalicelib import oidc, schema, state_machines

from . import alarms, authx_function, authx_package, iam_roles, listener_rules, log_groups
from .config import ConfigError, StageConfig
from .setup import (
    RoleSpec,
    authx_name,
    authx_role,
    authx_variables,
    rbac_role_arns,
    rbac_roles,
    states_role,
)

AUTHX_ZIP = "authx.zip"
API_HANDLER = "api_handler"
TABLES = {"EnvironmentsTable": "ENVIRONMENTS_TABLE", "GrantsTable": "GRANTS_TABLE"}
MACHINES = {"onboard": "OnboardStateMachine", "offboard": "OffboardStateMachine"}


def _get_arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _tag_list(cfg: StageConfig) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in cfg.tag.items()]


def chalice_function_name(cfg: StageConfig, function: str) -> str:
    """The name `chalice deploy` gives a function of the stage."""
    if function == API_HANDLER:
        return f"{cfg.app_name}-{cfg.stage}"
    return f"{cfg.app_name}-{cfg.stage}-{function}"


def chalice_logical_id(function: str) -> str:
    """The logical id `chalice package` gives a function (`APIHandler` for the API's)."""
    return "APIHandler" if function == API_HANDLER else to_cfn_resource_name(function)


def load_balancer_arn(cfg: StageConfig) -> str:
    """`…:loadbalancer/app/<name>/<id>` of the listener `…:listener/app/<name>/<id>/<id>`."""
    prefix, _, path = cfg.listener_arn.partition(":listener/")
    return f"{prefix}:loadbalancer/{path.rsplit('/', 1)[0]}"


def _role(cfg: StageConfig, spec: RoleSpec) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": spec.name,
            "Description": spec.description,
            "AssumeRolePolicyDocument": spec.trust,
            "Policies": [{"PolicyName": iam_roles.POLICY_NAME, "PolicyDocument": spec.policy}],
            "Tags": _tag_list(cfg),
        },
    }


def _tables(cfg: StageConfig) -> dict[str, Any]:
    resources = {}
    specs = {
        "EnvironmentsTable": schema.environments_table(cfg.get("ENVIRONMENTS_TABLE")),
        "GrantsTable": schema.grants_table(cfg.get("GRANTS_TABLE")),
    }
    for logical_id, spec in specs.items():
        properties: dict[str, Any] = {
            **spec,
            "DeletionProtectionEnabled": True,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "Tags": _tag_list(cfg),
        }
        if logical_id == "GrantsTable":
            properties["TimeToLiveSpecification"] = {
                "AttributeName": schema.GRANTS_TTL_ATTRIBUTE,
                "Enabled": True,
            }
        resources[logical_id] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": properties,
        }
    return resources


def _authx(cfg: StageConfig) -> dict[str, Any]:
    name = authx_name(cfg)
    rbac_arns = rbac_role_arns(cfg)
    alb_arns = cfg.get("ALB_ARNS") or load_balancer_arn(cfg)
    resources: dict[str, Any] = {"AuthxRole": _role(cfg, authx_role(cfg))}
    for role, spec in zip(ROLES, rbac_roles(cfg, _get_arn("AuthxRole")), strict=True):
        resources[f"Airflow{role}Role"] = _role(cfg, spec)
    resources["AuthxFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "FunctionName": name,
            "Description": "mwaa-gate authX: ALB sign-in to MWAA",
            "CodeUri": f"./{AUTHX_ZIP}",
            "Handler": authx_package.HANDLER,
            "Runtime": authx_package.RUNTIME,
            "Timeout": authx_function.TIMEOUT_SECONDS,
            "MemorySize": authx_function.MEMORY_MB,
            "Role": _get_arn("AuthxRole"),
            "Environment": {"Variables": authx_variables(cfg, alb_arns, rbac_arns)},
            "Tags": dict(cfg.tag),
        },
    }
    resources["AuthxInvokePermission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": _get_arn("AuthxFunction"),
            "Action": "lambda:InvokeFunction",
            "Principal": authx_function.ELB_PRINCIPAL,
            # The group's ARN ends in an id CloudFormation makes: its name, any id.
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:"
                f"${{AWS::AccountId}}:targetgroup/{name}/*"
            },
        },
    }
    resources["AuthxTargetGroup"] = {
        "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "DependsOn": "AuthxInvokePermission",  # ELB checks it may invoke when registering
        "Properties": {
            "Name": name,
            "TargetType": "lambda",
            "Targets": [{"Id": _get_arn("AuthxFunction")}],
            "TargetGroupAttributes": [
                {"Key": "lambda.multi_value_headers.enabled", "Value": "true"}
            ],
            "Tags": _tag_list(cfg),
        },
    }
    return resources


def _listener_rules(cfg: StageConfig) -> dict[str, Any]:
    secret = None  # authenticate-cognito: the ALB reads the app client's secret itself
    if oidc.needs_client_secret(cfg.variables):
        secret = (
            "{{resolve:secretsmanager:" + cfg.get("OIDC_CLIENT_SECRET_ARN") + ":SecretString:"
            "client_secret}}"
        )
    resources = {}
    for rule in listener_rules.rules(cfg):
        logical_id = "PlatformRule" + to_cfn_resource_name(rule.key.replace("-", "_"))
        resources[logical_id] = {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": cfg.listener_arn,
                "Priority": rule.priority,
                "Conditions": listener_rules.conditions(rule),
                "Actions": listener_rules.actions(
                    rule,
                    {"Ref": "AuthxTargetGroup"},
                    cfg.variables,
                    secret if rule.authenticate else None,
                ),
            },
        }
    return resources


def app_functions(app: Any) -> set[str]:
    """The Lambda functions `chalice package` makes for a Chalice app: its pure functions,
    its event handlers (schedules…) and, with routes, the API handler."""
    names = {function.name for function in app.pure_lambda_functions}
    names |= {source.name for source in app.event_sources}
    if app.routes:
        names.add(API_HANDLER)
    return names


def _workflows(cfg: StageConfig, functions: set[str]) -> dict[str, Any]:
    arns = [
        f"arn:{cfg.partition}:lambda:{cfg.region}:{cfg.account}:function:"
        + chalice_function_name(cfg, function)
        for function in sorted(functions)
    ]
    resources: dict[str, Any] = {"StatesRole": _role(cfg, states_role(cfg, arns))}
    for kind, logical_id in MACHINES.items():
        variable = f"{kind.upper()}_STATE_MACHINE_ARN"
        substitutions = {
            placeholder: _get_arn(chalice_logical_id(placeholder))
            for placeholder in sorted(state_machines.placeholders(kind))
        }
        resources[logical_id] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": cfg.state_machine_name(variable),
                "StateMachineType": "STANDARD",
                "RoleArn": _get_arn("StatesRole"),
                # `${function}` placeholders are Fn::Sub variables already.
                "DefinitionString": {"Fn::Sub": [state_machines.template(kind), substitutions]},
                "Tags": _tag_list(cfg),
            },
        }
    return resources


def _function_names(cfg: StageConfig, functions: set[str]) -> dict[str, Any]:
    """Chalice's functions, named as `chalice deploy` names them (merged into its resources)."""
    return {
        chalice_logical_id(function): {
            "Properties": {"FunctionName": chalice_function_name(cfg, function)}
        }
        for function in sorted(functions)
    }


def _log_groups(cfg: StageConfig, functions: set[str]) -> dict[str, Any]:
    names = {chalice_function_name(cfg, f): chalice_logical_id(f) for f in functions}
    names[authx_name(cfg)] = "AuthxFunction"
    resources = {}
    for name, function_id in sorted(names.items()):
        resources[f"{function_id}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "LogGroupName": log_groups.name_of(name),
                "RetentionInDays": cfg.log_retention_days,
                "Tags": _tag_list(cfg),
            },
        }
    return resources


def _alarms(cfg: StageConfig) -> dict[str, Any]:
    wanted = alarms.wanted(
        cfg,
        state_machine_arns={kind: "machine" for kind in MACHINES},
        load_balancer_arn=load_balancer_arn(cfg),
        target_group_arn="group",
        authx_function=authx_name(cfg),
    )
    resources = {}
    for alarm in wanted:
        parameters = alarms.put_parameters(cfg, alarm)  # one definition of an alarm
        dimensions = []
        for dimension in parameters["Dimensions"]:
            value: Any = dimension["Value"]
            if dimension["Name"] == "StateMachineArn":
                kind = alarm.suffix.removesuffix("-failed")
                value = {"Ref": MACHINES[kind]}
            elif dimension["Name"] == "TargetGroup":
                value = {"Fn::GetAtt": ["AuthxTargetGroup", "TargetGroupFullName"]}
            dimensions.append({"Name": dimension["Name"], "Value": value})
        properties = {k: v for k, v in parameters.items() if k != "Dimensions"}
        if not properties["AlarmActions"]:
            del properties["AlarmActions"], properties["OKActions"]
        properties["Dimensions"] = dimensions
        logical_id = to_cfn_resource_name(alarm.suffix.replace("-", "_")) + "Alarm"
        resources[logical_id] = {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}
        if alarm.namespace == "AWS/Lambda":
            resources[logical_id]["DependsOn"] = "AuthxFunction"
    return resources


def template(cfg: StageConfig, functions: set[str]) -> dict[str, Any]:
    """The merge template of the stage for an app with these Lambda functions (`app_functions`;
    checked settings; pure, no AWS call)."""
    cfg.check()
    steps = set().union(*(state_machines.placeholders(name) for name in state_machines.NAMES))
    missing = sorted(steps - functions)
    if missing:
        raise ConfigError(f"the app has no Lambda function for {', '.join(missing)}")
    resources: dict[str, Any] = {}
    for part in (
        _tables(cfg),
        _authx(cfg),
        _listener_rules(cfg),
        _workflows(cfg, steps),
        _function_names(cfg, functions),
        _log_groups(cfg, functions),
        _alarms(cfg),
    ):
        overlap = set(part) & set(resources)
        if overlap:
            raise ValueError(f"two resources named {', '.join(sorted(overlap))}")
        resources.update(part)
    return {"Resources": resources}
