"""The authX Lambda function: code from `authx_package`, its settings, the ALB's invoke right."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from . import authx_package, propagation
from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report, planned

KIND = "lambda-function"
PERMISSION_KIND = "lambda-permission"
ELB_PRINCIPAL = "elasticloadbalancing.amazonaws.com"
TIMEOUT_SECONDS = 10
MEMORY_MB = 256


def code_sha256(zip_bytes: bytes) -> str:
    """Lambda's CodeSha256: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _configuration(role_arn: str, variables: dict[str, str]) -> dict[str, Any]:
    return {
        "Role": role_arn,
        "Handler": authx_package.HANDLER,
        "Runtime": authx_package.RUNTIME,
        "Timeout": TIMEOUT_SECONDS,
        "MemorySize": MEMORY_MB,
        "Environment": {"Variables": variables},
    }


def _differences(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    differences = []
    for key, value in wanted.items():
        have = current.get(key)
        if key == "Environment":
            have = {"Variables": (have or {}).get("Variables", {})}
        if have != value:
            differences.append("environment" if key == "Environment" else key.lower())
    return differences


def _wait_updated(lambda_client: Any, name: str) -> None:
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
    )


def ensure(
    lambda_client: Any,
    report: Report,
    name: str,
    role_arn: str,
    zip_bytes: bytes,
    variables: dict[str, str],
    tags: dict[str, str],
    propagation_delay: float = propagation.DELAY_SECONDS,
) -> str:
    """The function with this code and configuration; its ARN."""
    wanted = _configuration(role_arn, variables)
    try:
        current = lambda_client.get_function(FunctionName=name)["Configuration"]
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        if report.plan:
            report.add(CREATE, KIND, name)
            return planned(KIND, name)
        made = propagation.while_iam_propagates(
            lambda_client.create_function,
            FunctionName=name,
            Code={"ZipFile": zip_bytes},
            Description="mwaa-gate authX: ALB sign-in to MWAA",
            Tags=tags,
            delay=propagation_delay,
            **wanted,
        )
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
        )
        report.add(CREATE, KIND, name)
        return made["FunctionArn"]
    changed = []
    if current.get("CodeSha256") != code_sha256(zip_bytes):
        if not report.plan:
            lambda_client.update_function_code(FunctionName=name, ZipFile=zip_bytes)
            _wait_updated(lambda_client, name)
        changed.append("code")
    differences = _differences(current, wanted)
    if differences and not report.plan:
        propagation.while_iam_propagates(
            lambda_client.update_function_configuration,
            FunctionName=name,
            delay=propagation_delay,
            **wanted,
        )
        _wait_updated(lambda_client, name)
    changed.extend(differences)
    report.add(UPDATE if changed else UNCHANGED, KIND, name, ", ".join(changed))
    return current["FunctionArn"]


def _statements(lambda_client: Any, name: str) -> list[dict[str, Any]]:
    try:
        policy = lambda_client.get_policy(FunctionName=name)["Policy"]
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            return []
        raise
    return json.loads(policy).get("Statement", [])


def _source_arn(statement: dict[str, Any]) -> str | None:
    condition = statement.get("Condition", {}).get("ArnLike", {})
    return condition.get("AWS:SourceArn")


def ensure_alb_permission(
    lambda_client: Any, report: Report, name: str, statement_id: str, target_group_arn: str
) -> None:
    """Only this target group (through ELB) may invoke the function."""
    label = f"{name}/{statement_id}"
    for statement in _statements(lambda_client, name):
        if statement.get("Sid") != statement_id:
            continue
        if _source_arn(statement) == target_group_arn:
            report.add(UNCHANGED, PERMISSION_KIND, label)
            return
        if report.plan:
            report.add(UPDATE, PERMISSION_KIND, label, "target group")
            return
        lambda_client.remove_permission(FunctionName=name, StatementId=statement_id)
        break
    if report.plan:
        report.add(CREATE, PERMISSION_KIND, label)
        return
    lambda_client.add_permission(
        FunctionName=name,
        StatementId=statement_id,
        Action="lambda:InvokeFunction",
        Principal=ELB_PRINCIPAL,
        SourceArn=target_group_arn,
    )
    report.add(CREATE, PERMISSION_KIND, label)


def delete(lambda_client: Any, report: Report, name: str) -> None:
    try:
        lambda_client.delete_function(FunctionName=name)
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            return
        raise
    report.add(DELETE, KIND, name)
