"""IAM roles with one inline policy each: observe (GetRole), plan (trust, policy, tags), apply."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report, planned

KIND = "iam-role"
POLICY_NAME = "mwaa-gate"


def _document(raw: Any) -> Any:
    """IAM answers policy documents URL-encoded; boto3 usually decodes them already."""
    if isinstance(raw, str):
        return json.loads(unquote(raw))
    return raw


def _same(left: Any, right: Any) -> bool:
    return json.dumps(_document(left), sort_keys=True) == json.dumps(right, sort_keys=True)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def existing(iam: Any, name: str) -> dict[str, Any] | None:
    try:
        return iam.get_role(RoleName=name)["Role"]
    except ClientError as error:
        if _code(error) == "NoSuchEntity":
            return None
        raise


def ensure(
    iam: Any,
    report: Report,
    name: str,
    trust: dict[str, Any],
    policy: dict[str, Any],
    tags: dict[str, str],
    description: str,
) -> str:
    """The role `name` with exactly this trust policy and inline policy; its ARN."""
    role = existing(iam, name)
    if role is None and report.plan:
        report.add(CREATE, KIND, name)
        return planned(KIND, name)
    if role is None:
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=description,
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["Role"]
        iam.put_role_policy(
            RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy)
        )
        report.add(CREATE, KIND, name)
        return role["Arn"]
    apply = not report.plan
    changed = []
    if not _same(role["AssumeRolePolicyDocument"], trust):
        if apply:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
        changed.append("trust policy")
    try:
        current = iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"]
    except ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        current = None
    if current is None or not _same(current, policy):
        if apply:
            iam.put_role_policy(
                RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy)
            )
        changed.append("policy")
    for other in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        if other != POLICY_NAME:
            if apply:
                iam.delete_role_policy(RoleName=name, PolicyName=other)
            changed.append(f"removed policy {other}")
    present = {tag["Key"]: tag["Value"] for tag in iam.list_role_tags(RoleName=name)["Tags"]}
    missing = {k: v for k, v in tags.items() if present.get(k) != v}
    if missing:
        if apply:
            iam.tag_role(RoleName=name, Tags=[{"Key": k, "Value": v} for k, v in missing.items()])
        changed.append("tags")
    report.add(UPDATE if changed else UNCHANGED, KIND, name, ", ".join(changed))
    return role["Arn"]


def delete(iam: Any, report: Report, name: str) -> None:
    if existing(iam, name) is None:
        return
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)
    report.add(DELETE, KIND, name)
