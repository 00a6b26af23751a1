"""From an allowed (user, environment, Airflow role) to an MWAA web login token.

The IAM role configured for the Airflow role is assumed with `SourceIdentity` = the user (so
CloudTrail names the person behind every call), a `RoleSessionName` derived from the user, and a
session policy that narrows the session to `airflow:CreateWebLoginToken` on exactly
`arn:<partition>:airflow:<region>:<account>:role/<environment>/<role>`. Those credentials then
sign the MWAA call for the web login token (through the region's one MWAA client, see
`authx.aws`); they are used once and kept nowhere. AWS errors map to refusals here.

The environment may live in another account and region (DESIGN §4): the token role is then that
account's (`token_roles.role_for`), the session policy names that account, region and the
environment's MWAA name, and MWAA is called in that region (its client is built once per
region, like the own region's). Still three AWS calls per sign-in.
"""

from __future__ import annotations

import json

from authx import aws
from authx.errors import (
    AwsCause,
    AwsUnavailable,
    Misconfigured,
    MwaaAccessDenied,
    MwaaEnvironmentNotFound,
)
from authx.roles import iam_name
from authx.settings import Settings
from authx.token_roles import RbacRole, Target, role_for

SESSION_SECONDS = 900  # the shortest STS allows: the credentials are used once, at once


def airflow_role_arn(rbac: RbacRole, region: str, environment: str, role: str) -> str:
    return f"arn:{rbac.partition}:airflow:{region}:{rbac.account}:role/{environment}/{role}"


def session_policy(rbac: RbacRole, region: str, environment: str, role: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "airflow:CreateWebLoginToken",
                    "Resource": airflow_role_arn(rbac, region, environment, role),
                }
            ],
        },
        separators=(",", ":"),
    )


def _assume(settings: Settings, user: str, target: Target, role: str) -> dict[str, str]:
    rbac = role_for(settings.rbac_role_pattern, settings.rbac_roles, target.account, role)
    sts = aws.client("sts", settings.region)
    try:
        answer = sts.assume_role(
            RoleArn=rbac.arn,
            RoleSessionName=iam_name(user),
            SourceIdentity=iam_name(user),
            Policy=session_policy(rbac, target.region, target.mwaa_name, role),
            DurationSeconds=SESSION_SECONDS,
        )
    except aws.errors() as error:
        code = aws.error_code(error)
        if code == "AccessDenied":
            raise Misconfigured(
                f"authX may not assume the IAM role for the Airflow role {role}."
            ) from AwsCause(code)
        raise AwsUnavailable("AWS could not start your session.") from AwsCause(code or "STS")
    return answer["Credentials"]


def create(settings: Settings, user: str, target: Target, role: str) -> str:
    """A web login token for `user` on the `target` environment as `role` (STS, then MWAA in
    the environment's region)."""
    credentials = _assume(settings, user, target, role)
    try:
        with aws.signing_as(credentials):
            answer = aws.mwaa(target.region).create_web_login_token(Name=target.mwaa_name)
    except aws.errors() as error:
        code = aws.error_code(error)
        cause = AwsCause(code or "MWAA")
        if code == "AccessDeniedException":
            raise MwaaAccessDenied("Amazon MWAA refused this sign-in.") from cause
        if code == "ResourceNotFoundException":
            raise MwaaEnvironmentNotFound(
                f"Amazon MWAA has no environment named {target.mwaa_name!r}."
            ) from cause
        raise AwsUnavailable("Amazon MWAA could not sign you in.") from cause
    token = answer.get("WebToken")
    if not isinstance(token, str) or not token:
        raise AwsUnavailable("Amazon MWAA returned no web login token.")
    return token
