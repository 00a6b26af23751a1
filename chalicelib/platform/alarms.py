"""CloudWatch alarms on what an operator must hear about, to the SNS topic `ALARM_TOPIC_ARN`.

    <deployment>-onboard-failed     AWS/States ExecutionsFailed of the onboard state machine
    <deployment>-offboard-failed    the same for offboarding
    <deployment>-authx-5xx          AWS/ApplicationELB HTTPCode_Target_5XX_Count of authX's
                                    target group (authX answered 5xx: AWS failed behind it)
    <deployment>-authx-errors       AWS/Lambda Errors of authX (the ALB answers 502 for those)
    <deployment>-reconciler-drift   the reconciler's drift metric (chalicelib.metrics)

Each fires on one event in five minutes and treats missing data as fine (no traffic is not
a problem) — except the drift alarm, whose period is the reconciler's rate
(`RECONCILE_RATE_MINUTES`) and which keeps its state between runs (missing data ignored: the
reconciler reports every run, zero included, so only a run changes it). Without
`ALARM_TOPIC_ARN` the alarms exist without an action (visible in the console) and the report
says so. Observe (DescribeAlarms by name), compare the settings that
matter, PutMetricAlarm only what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import metrics

from .config import StageConfig
from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report, is_planned

KIND = "cloudwatch-alarm"
PERIOD_SECONDS = 300
COMPARED = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "ActionsEnabled",
)


@dataclass(frozen=True)
class Alarm:
    suffix: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    period: int = PERIOD_SECONDS
    missing_data: str = "notBreaching"


def _load_balancer_dimension(arn: str) -> str:
    """`app/<name>/<id>`, the ALB metrics' LoadBalancer dimension, from the ALB's ARN."""
    return arn if is_planned(arn) else arn.split(":loadbalancer/", 1)[-1]


def _target_group_dimension(arn: str) -> str:
    """`targetgroup/<name>/<id>`, the TargetGroup dimension, from the group's ARN."""
    return arn if is_planned(arn) else "targetgroup/" + arn.split(":targetgroup/", 1)[-1]


def wanted(
    cfg: StageConfig,
    *,
    state_machine_arns: dict[str, str],
    load_balancer_arn: str,
    target_group_arn: str,
    authx_function: str,
) -> list[Alarm]:
    alarms = [
        Alarm(
            f"{kind}-failed",
            f"mwaa-gate {cfg.deployment}: a {kind} workflow execution failed "
            f"(GET /environments/<name> shows the error and the failing step)",
            "AWS/States",
            "ExecutionsFailed",
            {"StateMachineArn": arn},
        )
        for kind, arn in sorted(state_machine_arns.items())
    ]
    alarms += [
        Alarm(
            "authx-5xx",
            f"mwaa-gate {cfg.deployment}: authX answered 5xx to sign-ins (AWS failed behind it)",
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            {
                "LoadBalancer": _load_balancer_dimension(load_balancer_arn),
                "TargetGroup": _target_group_dimension(target_group_arn),
            },
        ),
        Alarm(
            "authx-errors",
            f"mwaa-gate {cfg.deployment}: the authX Lambda failed (the ALB answered 502)",
            "AWS/Lambda",
            "Errors",
            {"FunctionName": authx_function},
        ),
        Alarm(
            "reconciler-drift",
            f"mwaa-gate {cfg.deployment}: the reconciler found an environment drifted or degraded",
            metrics.namespace(cfg.variables),
            metrics.DRIFT_METRIC,
            metrics.dimensions(cfg.variables),
            period=cfg.reconcile_minutes * 60,
            missing_data="ignore",
        ),
    ]
    return alarms


def name_of(cfg: StageConfig, alarm: Alarm) -> str:
    return f"{cfg.deployment}-{alarm.suffix}"


def put_parameters(cfg: StageConfig, alarm: Alarm) -> dict[str, Any]:
    actions = [cfg.alarm_topic_arn] if cfg.alarm_topic_arn else []
    return {
        "AlarmName": name_of(cfg, alarm),
        "AlarmDescription": alarm.description,
        "Namespace": alarm.namespace,
        "MetricName": alarm.metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(alarm.dimensions.items())],
        "Statistic": "Sum",
        "Period": alarm.period,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": alarm.missing_data,
        "ActionsEnabled": True,
        "AlarmActions": actions,
        "OKActions": actions,
    }


def _differences(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    changed = [key for key in COMPARED if current.get(key) != wanted[key]]
    dimensions = sorted((d["Name"], d["Value"]) for d in current.get("Dimensions", []))
    if dimensions != sorted((d["Name"], d["Value"]) for d in wanted["Dimensions"]):
        changed.append("Dimensions")
    for key in ("AlarmActions", "OKActions"):
        if sorted(current.get(key, [])) != sorted(wanted[key]):
            changed.append(key)
    return changed


def _existing(cloudwatch: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    found = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm"])
    return {alarm["AlarmName"]: alarm for alarm in found.get("MetricAlarms", [])}


def ensure(cloudwatch: Any, report: Report, cfg: StageConfig, alarms: list[Alarm]) -> None:
    existing = _existing(cloudwatch, [name_of(cfg, alarm) for alarm in alarms])
    tags = [{"Key": k, "Value": v} for k, v in cfg.tag.items()]
    note = "" if cfg.alarm_topic_arn else "no ALARM_TOPIC_ARN: no notification"
    for alarm in alarms:
        parameters = put_parameters(cfg, alarm)
        name = parameters["AlarmName"]
        current = existing.get(name)
        if current is None:
            if not report.plan:
                cloudwatch.put_metric_alarm(**parameters, Tags=tags)
            report.add(CREATE, KIND, name, note)
            continue
        changed = _differences(current, parameters)
        if changed and not report.plan:
            cloudwatch.put_metric_alarm(**parameters)
        report.add(UPDATE if changed else UNCHANGED, KIND, name, ", ".join(changed))


def delete(cloudwatch: Any, report: Report, cfg: StageConfig, suffixes: list[str]) -> None:
    names = [f"{cfg.deployment}-{suffix}" for suffix in suffixes]
    present = sorted(_existing(cloudwatch, names))
    if present:
        cloudwatch.delete_alarms(AlarmNames=present)
    for name in present:
        report.add(DELETE, KIND, name)


SUFFIXES = (
    "onboard-failed",
    "offboard-failed",
    "authx-5xx",
    "authx-errors",
    "reconciler-drift",
)
