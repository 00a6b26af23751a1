"""authX's Lambda target group: multi-value headers on, the function registered."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report, is_planned, planned

KIND = "target-group"
MULTI_VALUE_HEADERS = "lambda.multi_value_headers.enabled"


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def find(elbv2: Any, name: str) -> dict[str, Any] | None:
    try:
        return elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]
    except ClientError as error:
        if _code(error) == "TargetGroupNotFound":
            return None
        raise


def ensure(elbv2: Any, report: Report, name: str, tags: dict[str, str]) -> str:
    """The Lambda target group `name` with multi-value headers on; its ARN."""
    group = find(elbv2, name)
    created = group is None
    if group is None and report.plan:
        report.add(CREATE, KIND, name, "Lambda targets, multi-value headers on")
        return planned(KIND, name)
    if group is None:
        group = elbv2.create_target_group(
            Name=name,
            TargetType="lambda",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["TargetGroups"][0]
    elif group.get("TargetType") != "lambda":
        raise RuntimeError(f"target group {name} exists with target type {group['TargetType']}")
    arn = group["TargetGroupArn"]
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    }
    changed = attributes.get(MULTI_VALUE_HEADERS) != "true"
    if changed and not report.plan:
        elbv2.modify_target_group_attributes(
            TargetGroupArn=arn, Attributes=[{"Key": MULTI_VALUE_HEADERS, "Value": "true"}]
        )
    if created:
        report.add(CREATE, KIND, name, "Lambda targets, multi-value headers on")
    else:
        report.add(UPDATE if changed else UNCHANGED, KIND, name, "multi-value headers on" * changed)
    return arn


def ensure_target(elbv2: Any, report: Report, group_arn: str, name: str, function_arn: str) -> None:
    """`function_arn` is the group's only target."""
    label = f"{name} → {function_arn.rsplit(':', 1)[-1]}"
    if is_planned(group_arn):
        report.add(CREATE, "target", label)
        return
    health = elbv2.describe_target_health(TargetGroupArn=group_arn)["TargetHealthDescriptions"]
    registered = {d["Target"]["Id"] for d in health}
    stale = registered - {function_arn}
    if stale and not report.plan:
        elbv2.deregister_targets(TargetGroupArn=group_arn, Targets=[{"Id": t} for t in stale])
    if function_arn not in registered:
        if not report.plan:
            elbv2.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": function_arn}])
        report.add(CREATE, "target", label)
    else:
        report.add(UPDATE if stale else UNCHANGED, "target", label, "stale targets" * bool(stale))


def delete(elbv2: Any, report: Report, name: str) -> None:
    group = find(elbv2, name)
    if group is None:
        return
    elbv2.delete_target_group(TargetGroupArn=group["TargetGroupArn"])
    report.add(DELETE, KIND, name)
