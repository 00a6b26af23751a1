"""Deploy hardening on devstack: protected tables, log retention, alarms, and `setup --plan`."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import metrics
from chalicelib.platform import setup as platform_setup
from chalicelib.platform.config import ConfigError
from chalicelib.platform.destroy import destroy
from chalicelib.platform.report import CREATE, UNCHANGED, UPDATE

from .conftest import DEPLOYMENT, Platform, aws, step_functions

TABLES = (f"{DEPLOYMENT}-environments", f"{DEPLOYMENT}-grants")
AUTHX = f"{DEPLOYMENT}-authx"


def run_setup(platform: Platform, plan: bool = False, **changes: str) -> Any:
    return platform_setup.setup(
        platform.config(**changes), aws, platform.authx_zip, plan=plan, echo=None,
        propagation_delay=0,
    )  # fmt: skip


def world(platform: Platform) -> dict[str, Any]:
    """Everything setup could make or change, as AWS describes it."""
    elbv2 = aws("elbv2")
    dynamodb = aws("dynamodb")
    tables = {}
    for name in dynamodb.list_tables()["TableNames"]:
        table = dynamodb.describe_table(TableName=name)["Table"]
        backups = dynamodb.describe_continuous_backups(TableName=name)
        tables[name] = (
            table.get("DeletionProtectionEnabled"),
            backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
        )
    return {
        "tables": tables,
        "roles": sorted(r["RoleName"] for r in aws("iam").list_roles()["Roles"]),
        "functions": sorted(f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]),
        "log_groups": aws("logs").describe_log_groups()["logGroups"],
        "alarms": aws("cloudwatch").describe_alarms()["MetricAlarms"],
        "target_groups": elbv2.describe_target_groups()["TargetGroups"],
        "rules": elbv2.describe_rules(ListenerArn=platform.alb["listener_arn"])["Rules"],
        "machines": aws("stepfunctions").list_state_machines()["stateMachines"],
    }


# --- tables ----------------------------------------------------------------------------------


def test_tables_have_deletion_protection_and_point_in_time_recovery(platform: Platform) -> None:
    run_setup(platform)
    dynamodb = aws("dynamodb")

    for name in TABLES:
        table = dynamodb.describe_table(TableName=name)["Table"]
        backups = dynamodb.describe_continuous_backups(TableName=name)
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert table["DeletionProtectionEnabled"] is True
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
        with pytest.raises(ClientError) as refused:
            dynamodb.delete_table(TableName=name)
        assert "DeletionProtectionEnabled" in refused.value.response["Error"]["Message"]


def test_tables_that_lost_their_protection_get_it_back(platform: Platform) -> None:
    run_setup(platform)
    dynamodb = aws("dynamodb")
    dynamodb.update_table(TableName=TABLES[0], DeletionProtectionEnabled=False)
    dynamodb.update_continuous_backups(
        TableName=TABLES[1], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )

    repaired = run_setup(platform)

    assert sorted((c.name, c.detail) for c in repaired.made_changes()) == [
        (TABLES[0], "deletion protection"),
        (TABLES[1], "point-in-time recovery"),
    ]
    assert run_setup(platform).made_changes() == []


# --- log groups ------------------------------------------------------------------------------


def test_every_function_has_a_log_group_with_the_retention(platform: Platform) -> None:
    run_setup(platform)
    groups = {g["logGroupName"]: g for g in aws("logs").describe_log_groups()["logGroups"]}

    wanted = {f"/aws/lambda/mwaa-gate-test-{name}" for name in step_functions()}
    wanted |= {"/aws/lambda/mwaa-gate-test-api_handler", f"/aws/lambda/{AUTHX}"}
    assert set(groups) == wanted
    assert {g.get("retentionInDays") for g in groups.values()} == {90}
    tags = aws("logs").list_tags_log_group(logGroupName=f"/aws/lambda/{AUTHX}")["tags"]
    assert tags["mwaa-gate:deployment"] == DEPLOYMENT


def test_a_changed_retention_updates_only_the_log_groups(platform: Platform) -> None:
    run_setup(platform)
    aws("logs").delete_retention_policy(logGroupName=f"/aws/lambda/{AUTHX}")

    changed = run_setup(platform, LOG_RETENTION_DAYS="30")

    assert {c.kind for c in changed.made_changes()} == {"log-group"}
    assert len(changed.made_changes()) == 16
    details = {c.name: c.detail for c in changed.made_changes()}
    assert details[f"/aws/lambda/{AUTHX}"] == "retention never expire → 30 days"
    groups = aws("logs").describe_log_groups()["logGroups"]
    assert {g["retentionInDays"] for g in groups} == {30}


@pytest.mark.parametrize("days", ["45", "0", "-1", "ninety", "٩٠", "90.0"])
def test_a_retention_cloudwatch_does_not_take_is_refused(platform: Platform, days: str) -> None:
    with pytest.raises(ConfigError, match="LOG_RETENTION_DAYS must be one of"):
        run_setup(platform, LOG_RETENTION_DAYS=days)
    assert aws("logs").describe_log_groups()["logGroups"] == []


# --- alarms ----------------------------------------------------------------------------------


def test_alarms_watch_workflows_authx_and_drift_and_notify_the_topic(platform: Platform) -> None:
    run_setup(platform)
    topic = platform.variables["ALARM_TOPIC_ARN"]
    alarms = {a["AlarmName"]: a for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    group = aws("elbv2").describe_target_groups(Names=[AUTHX])["TargetGroups"][0]

    def watched(name: str) -> tuple[str, str, dict[str, str]]:
        alarm = alarms[f"{DEPLOYMENT}-{name}"]
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]
        if name == "reconciler-drift":  # one period per run; between runs, its state holds
            assert (alarm["Period"], alarm["TreatMissingData"]) == (900, "ignore")
        else:
            assert (alarm["Period"], alarm["TreatMissingData"]) == (300, "notBreaching")
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            1.0,
            "GreaterThanOrEqualToThreshold",
        )
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        return alarm["Namespace"], alarm["MetricName"], dimensions

    assert len(alarms) == 5
    for kind in ("onboard", "offboard"):
        assert watched(f"{kind}-failed") == (
            "AWS/States",
            "ExecutionsFailed",
            {"StateMachineArn": platform.variables[f"{kind.upper()}_STATE_MACHINE_ARN"]},
        )
    balancer = group["LoadBalancerArns"][0].split(":loadbalancer/")[1]
    assert watched("authx-5xx") == (
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        {
            "LoadBalancer": balancer,
            "TargetGroup": "targetgroup/" + group["TargetGroupArn"].split(":targetgroup/")[1],
        },
    )
    assert balancer.startswith("app/")
    assert watched("authx-errors") == ("AWS/Lambda", "Errors", {"FunctionName": AUTHX})
    assert watched("reconciler-drift") == (
        "mwaa-gate",
        metrics.DRIFT_METRIC,
        {"service": "mwaa-gate", "deployment": DEPLOYMENT},
    )
    tags = aws("cloudwatch").list_tags_for_resource(
        ResourceARN=alarms[f"{DEPLOYMENT}-authx-errors"]["AlarmArn"]
    )["Tags"]
    assert {"Key": "mwaa-gate:deployment", "Value": DEPLOYMENT} in tags


def test_the_drift_alarm_follows_the_reconciler_rate(platform: Platform) -> None:
    run_setup(platform)

    changed = run_setup(platform, RECONCILE_RATE_MINUTES="60")

    assert [(c.name, c.detail) for c in changed.made_changes()] == [
        (f"{DEPLOYMENT}-reconciler-drift", "Period")
    ]
    with pytest.raises(ConfigError, match="RECONCILE_RATE_MINUTES must be a whole number"):
        run_setup(platform, RECONCILE_RATE_MINUTES="1441")


def test_a_new_topic_moves_every_alarm_and_a_bad_one_is_refused(platform: Platform) -> None:
    run_setup(platform)
    other = aws("sns").create_topic(Name="other-alarms")["TopicArn"]

    moved = run_setup(platform, ALARM_TOPIC_ARN=other)

    assert sorted(c.detail for c in moved.made_changes()) == ["AlarmActions, OKActions"] * 5
    with pytest.raises(ConfigError, match="ALARM_TOPIC_ARN is in eu-west-1"):
        run_setup(platform, ALARM_TOPIC_ARN=other.replace("us-east-1", "eu-west-1"))
    with pytest.raises(ConfigError, match="ALARM_TOPIC_ARN is not an SNS topic ARN"):
        run_setup(platform, ALARM_TOPIC_ARN="arn:aws:sqs:us-east-1:123456789012:q")


def test_destroy_removes_the_alarms_and_keeps_the_log_groups(platform: Platform) -> None:
    run_setup(platform)

    destroy(platform.config(), aws, delete_tables=True, echo=None)

    assert aws("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert len(aws("logs").describe_log_groups()["logGroups"]) == 16
    assert aws("dynamodb").list_tables()["TableNames"] == []


# --- plan ------------------------------------------------------------------------------------


def test_a_plan_on_a_clean_account_lists_every_resource_to_create_and_changes_nothing(
    platform: Platform,
) -> None:
    before = world(platform)

    plan = run_setup(platform, plan=True)

    assert world(platform) == before
    assert {c.action for c in plan.changes} == {CREATE}
    assert plan.summary() == "would 40 create, 0 update, 0 delete, 0 unchanged (nothing changed)"
    made = run_setup(platform)
    assert [(c.kind, c.name) for c in plan.changes] == [(c.kind, c.name) for c in made.changes]


def test_a_plan_after_setup_changes_nothing_and_shows_drift_without_repairing_it(
    platform: Platform,
) -> None:
    run_setup(platform)
    assert {c.action for c in run_setup(platform, plan=True).changes} == {UNCHANGED}
    aws("dynamodb").update_table(TableName=TABLES[1], DeletionProtectionEnabled=False)
    before = world(platform)

    plan = run_setup(platform, plan=True, LOG_RETENTION_DAYS="365", OIDC_SCOPE="openid email")

    assert world(platform) == before
    changes = {(c.kind, c.name.split(" ")[0]) for c in plan.made_changes()}
    assert ("dynamodb-table", TABLES[1]) in changes
    assert ("listener-rule", "login") in changes
    assert ("log-group", f"/aws/lambda/{AUTHX}") in changes
    assert {c.action for c in plan.made_changes()} == {UPDATE}


def test_the_plan_command_prints_the_plan(
    platform: Platform, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_setup import PROJECT_DIR

    (platform.folder / "authx").symlink_to(PROJECT_DIR / "authx")
    deps = tmp_path / "deps"
    deps.mkdir()
    before = world(platform)
    args = ["--stage", "test", "--project-dir", str(platform.folder), "--authx-deps", str(deps)]

    assert platform_setup.main([*args, "--plan"]) == 0

    out = capsys.readouterr().out
    assert f"create    cloudwatch-alarm       {DEPLOYMENT}-authx-5xx" in out
    assert "plan for stage test: would 40 create, 0 update, 0 delete, 0 unchanged" in out
    assert world(platform) == before
