"""Helpers for the Airflow-version and reconciliation tests: authX's target group (as platform
setup makes it), the API with the landscape's stage settings, sign-in through authX, rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import devstack
from authx import environments, keys
from authx.handler import lambda_handler
from devstack.alb import ALB_ARN, KeyServer, SigningKey, alb_event, mint
from devstack.mwaa import mwaa_backends

from .conftest import LOCAL_ENV, World, aws

USER = "alice@example.com"
ACCOUNT, REGION = "123456789012", "us-east-1"
RBAC_ROLES = ("Admin", "Op", "User", "Viewer", "Public")


def authx_target_group(world: World) -> str:
    """authX's Lambda target group `<DEPLOYMENT_NAME>-authx`, as platform setup makes it."""
    return aws("elbv2").create_target_group(Name="mwaa-gate-local-authx", TargetType="lambda")[
        "TargetGroups"
    ][0]["TargetGroupArn"]


def api_with_stage_settings(world: World) -> None:
    """The API under the test client sees the landscape's settings too (listener, OIDC), as it
    does in AWS where the stage holds them: the reconcile route works on the ALB."""
    extra = dict(world.stack.project.extra_env)
    for part in (world.client.http, world.client.lambda_):
        base = part._patched_env_vars

        @contextmanager
        def patched(variables: dict[str, str], base: Any = base) -> Iterator[None]:
            with base({**variables, **extra}):
                yield

        part._patched_env_vars = patched


def post(world: World, path: str, body: dict[str, Any] | None = None) -> Any:
    with devstack.exclusive_environment():
        return world.client.http.post(
            path,
            headers={"Content-Type": "application/json"},
            body=json.dumps(body).encode() if body is not None else b"",
        )


def reconcile(world: World, name: str) -> Any:
    return post(world, f"/environments/{name}/reconcile")


def rules_by_priority(world: World) -> dict[int, dict[str, Any]]:
    rules = aws("elbv2").describe_rules(ListenerArn=world.alb["listener_arn"])["Rules"]
    return {int(r["Priority"]): r for r in rules if not r["IsDefault"]}


def values(rule: dict[str, Any], field: str) -> list[str]:
    for condition in rule["Conditions"]:
        if condition["Field"] == field:
            if field == "query-string":
                pairs = condition["QueryStringConfig"]["Values"]
                return [f"{p['Key']}={p['Value']}" for p in pairs]
            key = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}[field]
            return list((condition.get(key) or {}).get("Values") or condition.get("Values"))
    return []


def action_types(rule: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (a["Type"], a.get("TargetGroupArn"))
        for a in sorted(rule["Actions"], key=lambda a: a.get("Order", 0))
    ]


def health_check(record: dict[str, Any]) -> str:
    group = aws("elbv2").describe_target_groups(TargetGroupArns=[record["target_group_arn"]])
    return group["TargetGroups"][0]["HealthCheckPath"]


def registered(record: dict[str, Any]) -> list[str]:
    health = aws("elbv2").describe_target_health(TargetGroupArn=record["target_group_arn"])
    return sorted(d["Target"]["Id"] for d in health["TargetHealthDescriptions"])


def mwaa_environment(name: str) -> Any:
    """devstack's model of an MWAA environment (to move its IPs, or finish its update now)."""
    return mwaa_backends[ACCOUNT][REGION].environments[name]


class SignIn:
    """authX, configured for the local stage's tables, the landscape's ALB and a key server."""

    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch, server: KeyServer):
        self.world = world
        self.key = SigningKey()
        server.publish(self.key)
        iam = aws("iam")
        arns = {}
        for role in RBAC_ROLES:
            arns[role] = iam.create_role(
                RoleName=f"mwaa-gate-local-airflow-{role}", AssumeRolePolicyDocument="{}"
            )["Role"]["Arn"]
        monkeypatch.setenv("GRANTS_TABLE", LOCAL_ENV["GRANTS_TABLE"])
        monkeypatch.setenv("ENVIRONMENTS_TABLE", LOCAL_ENV["ENVIRONMENTS_TABLE"])
        monkeypatch.setenv("ALB_ARNS", ALB_ARN)
        monkeypatch.setenv("ALB_PUBLIC_KEY_URL", server.url)
        monkeypatch.setenv("RBAC_ROLE_ARNS", json.dumps(arns))
        keys.clear()
        environments.clear()

    def grant(self, environment: str, role: str = "User") -> None:
        answer = post(
            self.world, "/grants", {"user": USER, "environment": environment, "rbac_role": role}
        )
        assert answer.status_code in (200, 201), answer.json_body

    def request(
        self, host: str, path: str, method: str = "GET", query: dict[str, str] | None = None
    ) -> dict[str, Any]:
        environments.clear()
        token = mint(self.key, claims={"email": USER})
        headers = {"host": host, "x-amzn-oidc-data": token}
        return lambda_handler(
            alb_event(path=path, query=query, headers=headers, method=method), None
        )

    def location(self, host: str, path: str = "/aws_mwaa/aws-console-sso") -> str:
        response = self.request(host, path)
        assert response["statusCode"] == 302, response["body"]
        return response["multiValueHeaders"]["Location"][0]
