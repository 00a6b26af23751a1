"""A stage's settings for platform setup: `.chalice/config.json` and its deployed file.

The stage's environment variables (top level merged with the stage's, as Chalice does) are the
one place every setting lives; setup reads the same values the app and the step Lambdas get.
The deployed file is what `chalice deploy` recorded: the ARNs of the app's Lambda functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authx import portal_settings
from authx.errors import Misconfigured
from chalicelib import oidc
from chalicelib.workflow.tags import DEPLOYMENT

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"stateMachine:(?P<name>[A-Za-z0-9_-]{1,80})"
)
LISTENER_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):elasticloadbalancing:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):listener/app/[A-Za-z0-9-]+/[0-9a-f]+/[0-9a-f]+"
)
SNS_TOPIC_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"[A-Za-z0-9_-]{1,256}(?:\.fifo)?"
)
# The values CloudWatch Logs accepts for retentionInDays.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
DEFAULT_LOG_RETENTION_DAYS = 90
DEFAULT_RECONCILE_MINUTES = 15  # as chalicelib.workflow.settings
# Target group names hold at most 32 characters; `<DEPLOYMENT_NAME>-authx` must fit.
MAX_DEPLOYMENT_NAME = 26
DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
# MWAA_EXECUTION_ROLE_PREFIX: the start of an IAM role's path and name (no wildcards).
EXECUTION_ROLE_PREFIX = re.compile(r"/?[A-Za-z0-9+=,.@_/-]{1,200}")
REQUIRED = (
    "ENVIRONMENTS_TABLE",
    "GRANTS_TABLE",
    "ONBOARD_STATE_MACHINE_ARN",
    "OFFBOARD_STATE_MACHINE_ARN",
    "DEPLOYMENT_NAME",
    "ALB_LISTENER_ARN",
    "BASE_DOMAIN",
)  # and the sign-in action's own settings (chalicelib.oidc.problems)


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class StageConfig:
    stage: str
    app_name: str
    variables: dict[str, str]
    function_arns: dict[str, str]  # Chalice function name → Lambda ARN (from the deployed file)

    def get(self, name: str, default: str = "") -> str:
        return (self.variables.get(name) or "").strip() or default

    @property
    def deployment(self) -> str:
        return self.get("DEPLOYMENT_NAME")

    @property
    def tag(self) -> dict[str, str]:
        return {DEPLOYMENT: self.deployment}

    @property
    def portal_host(self) -> str:
        """The portal's host: `PORTAL_HOST`, default `BASE_DOMAIN` (lower-case, no final dot)."""
        return (self.get("PORTAL_HOST") or self.get("BASE_DOMAIN")).rstrip(".").lower()

    @property
    def listener_arn(self) -> str:
        return self.get("ALB_LISTENER_ARN")

    @property
    def region(self) -> str:
        match = LISTENER_ARN.fullmatch(self.listener_arn)
        return match["region"] if match else ""

    @property
    def account(self) -> str:
        match = LISTENER_ARN.fullmatch(self.listener_arn)
        return match["account"] if match else ""

    @property
    def partition(self) -> str:
        match = LISTENER_ARN.fullmatch(self.listener_arn)
        return match["partition"] if match else "aws"

    @property
    def log_retention_days(self) -> int:
        value = self.get("LOG_RETENTION_DAYS", str(DEFAULT_LOG_RETENTION_DAYS))
        return int(value) if value.isascii() and value.isdigit() else -1

    @property
    def reconcile_minutes(self) -> int:
        value = self.get("RECONCILE_RATE_MINUTES", str(DEFAULT_RECONCILE_MINUTES))
        return int(value) if value.isascii() and value.isdigit() else -1

    @property
    def alarm_topic_arn(self) -> str:
        return self.get("ALARM_TOPIC_ARN")

    def state_machine_name(self, variable: str) -> str:
        match = STATE_MACHINE_ARN.fullmatch(self.get(variable))
        if not match:
            raise ConfigError(f"{variable} is not a state machine ARN")
        return match["name"]

    def check(self) -> None:
        """Every required setting present and well-formed, or one error naming them all."""
        problems = [f"{name} is not set" for name in REQUIRED if not self.get(name)]
        if self.get("ALB_LISTENER_ARN") and not LISTENER_ARN.fullmatch(self.listener_arn):
            problems.append("ALB_LISTENER_ARN is not an application load balancer listener ARN")
        for variable in ("ONBOARD_STATE_MACHINE_ARN", "OFFBOARD_STATE_MACHINE_ARN"):
            value = self.get(variable)
            match = STATE_MACHINE_ARN.fullmatch(value)
            if value and not match:
                problems.append(f"{variable} is not a state machine ARN")
            elif (
                match
                and self.region
                and (match["region"], match["account"])
                != (
                    self.region,
                    self.account,
                )
            ):
                problems.append(
                    f"{variable} names region {match['region']} / account {match['account']}, "
                    f"but the listener is in {self.region} / {self.account}"
                )
        name = self.deployment
        if name and (len(name) > MAX_DEPLOYMENT_NAME or not DEPLOYMENT_NAME.fullmatch(name)):
            problems.append(
                f"DEPLOYMENT_NAME must be 1-{MAX_DEPLOYMENT_NAME} letters, digits and '-' "
                "(it names the authX target group, at most 32 characters)"
            )
        prefix = self.get("MWAA_EXECUTION_ROLE_PREFIX")
        if prefix and not EXECUTION_ROLE_PREFIX.fullmatch(prefix):
            problems.append(
                "MWAA_EXECUTION_ROLE_PREFIX must be the start of an IAM role's path and name "
                "(letters, digits and +=,.@_-/, no wildcards), e.g. mwaa-gate/ or mwaa-"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            problems.append(
                "LOG_RETENTION_DAYS must be one of CloudWatch Logs' values: "
                + ", ".join(map(str, LOG_RETENTION_DAYS))
            )
        if not 1 <= self.reconcile_minutes <= 1440:
            problems.append("RECONCILE_RATE_MINUTES must be a whole number from 1 to 1440")
        topic = SNS_TOPIC_ARN.fullmatch(self.alarm_topic_arn)
        if self.alarm_topic_arn and not topic:
            problems.append("ALARM_TOPIC_ARN is not an SNS topic ARN")
        elif topic and self.region and topic["region"] != self.region:
            problems.append(
                f"ALARM_TOPIC_ARN is in {topic['region']}, but alarms live in the listener's "
                f"region {self.region} (CloudWatch notifies topics of its own region)"
            )
        problems.extend(oidc.problems(self.variables))
        try:  # the same check authX makes when it starts
            portal_settings.from_environ(self.variables)
        except Misconfigured as error:
            problems.append(str(error))
        if problems:
            raise ConfigError(f"stage {self.stage}: " + "; ".join(problems))


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ConfigError(f"{path} is missing ({what})") from error
    except ValueError as error:
        raise ConfigError(f"{path} is not JSON: {error}") from error


def deployed_function_arns(project_dir: Path, stage: str) -> dict[str, str]:
    """`{function name: ARN}` of the Lambda functions `chalice deploy --stage` made."""
    deployed = _read_json(
        project_dir / ".chalice" / "deployed" / f"{stage}.json",
        f"run `chalice deploy --stage {stage}` first",
    )
    return {
        resource["name"]: resource["lambda_arn"]
        for resource in deployed.get("resources", [])
        if resource.get("resource_type") == "lambda_function" and resource.get("lambda_arn")
    }


def load(project_dir: Path, stage: str, *, need_deployed: bool = True) -> StageConfig:
    config = _read_json(project_dir / ".chalice" / "config.json", "the Chalice project settings")
    stages = config.get("stages", {})
    if stage not in stages:
        raise ConfigError(f"no stage {stage!r} in .chalice/config.json (have: {', '.join(stages)})")
    variables = {
        **config.get("environment_variables", {}),
        **stages[stage].get("environment_variables", {}),
    }
    arns = deployed_function_arns(project_dir, stage) if need_deployed else {}
    return StageConfig(
        stage=stage, app_name=config["app_name"], variables=variables, function_arns=arns
    )
