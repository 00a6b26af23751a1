"""Audit: one structured line and one metric per decision; never a token or a credential."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from authx_support import ACCOUNT, ENV, LOGIN_PATH, World, header, login, web_token
from moto.sts.models import sts_backends

from authx import audit
from devstack.alb import SigningKey, mint

Lines = Callable[[], list[dict]]


@pytest.fixture
def audit_lines() -> Iterator[Lines]:
    """The audit logger's JSON lines, captured with the logger's own formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(audit.logger.registered_formatter)
    audit.logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    audit.logger.removeHandler(handler)


def emf(captured: str) -> list[dict]:
    """The CloudWatch embedded-metric lines of captured stdout."""
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def test_allowed_login_writes_one_audit_line_and_one_metric(
    world: World,
    signing_key: SigningKey,
    audit_lines: Lines,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world.grant("user#alice@example.com", ENV, "Admin")

    assert web_token(login(mint(signing_key, {"groups": ["a", "b"]}), role="Op"), world.login_host)

    (line,) = audit_lines()
    assert line["message"] == "authx decision"
    assert line["service"] == "mwaa-gate-authx"
    assert line["correlation_id"] == "Root=1-67891233-abcdef012345678912345678"
    audit_fields = line["audit"]
    latency = audit_fields.pop("latency_ms")
    assert isinstance(latency, float) and latency > 0
    assert audit_fields == {
        "action": "login",
        "method": "GET",
        "path": LOGIN_PATH,
        "user": "alice@example.com",
        "groups_count": 2,
        "environment": ENV,
        "asked_role": "Op",
        "granted_role": "Op",
        "decision": "allow",
        "reason": "ok",
        "status": 302,
    }
    (metric,) = emf(capsys.readouterr().out)
    assert metric["LoginAllowed"] == [1.0]
    assert metric["reason"] == "ok"
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "mwaa-gate-tests"


@pytest.mark.parametrize(
    ("grant_role", "asked", "status", "reason"),
    [(None, None, 403, "not_granted"), ("Viewer", "Admin", 403, "role_above_grant")],
)
def test_denied_login_says_why(
    world: World,
    signing_key: SigningKey,
    audit_lines: Lines,
    capsys: pytest.CaptureFixture[str],
    grant_role: str | None,
    asked: str | None,
    status: int,
    reason: str,
) -> None:
    if grant_role:
        world.grant("user#alice@example.com", ENV, grant_role)

    assert login(mint(signing_key), role=asked)["statusCode"] == status

    (line,) = audit_lines()
    assert line["level"] == "WARNING"
    assert line["audit"]["decision"] == "deny"
    assert line["audit"]["reason"] == reason
    assert line["audit"]["status"] == status
    assert line["audit"]["user"] == "alice@example.com"
    assert "granted_role" not in line["audit"]
    (metric,) = emf(capsys.readouterr().out)
    assert metric["LoginDenied"] == [1.0]
    assert metric["reason"] == reason


def test_refusal_by_aws_names_the_aws_error(
    world: World, signing_key: SigningKey, audit_lines: Lines
) -> None:
    world.grant("user#alice@example.com", "*", "Admin")
    world.environment("Ghost", login_host="ghost.example.com")

    assert login(mint(signing_key), env="Ghost")["statusCode"] == 404

    (line,) = audit_lines()
    assert line["audit"]["reason"] == "mwaa_environment_not_found"
    assert line["audit"]["aws_error"] == "ResourceNotFoundException"


def test_no_token_web_token_or_credential_is_ever_logged(
    world: World,
    signing_key: SigningKey,
    audit_lines: Lines,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mwaa-gate-authx")
    world.grant("user#alice@example.com", ENV, "Viewer")
    token = mint(signing_key)

    allowed = login(token)
    denied = login(token, role="Admin")
    expired = mint(signing_key, header_exp=1)
    unauthorised = login(expired)

    assert denied["statusCode"] == 403 and unauthorised["statusCode"] == 401
    web = web_token(allowed, world.login_host)
    (session,) = sts_backends[ACCOUNT]["aws"].assumed_roles
    secrets = {
        "ALB token": token,
        "expired ALB token": expired,
        "token signature": token.rsplit(".", 1)[1],
        "web token": web,
        "access key": session.access_key_id,
        "secret key": session.secret_access_key,
        "session token": session.session_token,
    }
    captured = capfd.readouterr()
    logs = {
        "audit": json.dumps(audit_lines()),
        "stdout": captured.out,
        "stderr": captured.err,
        "logging": caplog.text,
    }
    assert len(audit_lines()) == 3
    for where, text in logs.items():
        for what, secret in secrets.items():
            # Not even a part of one: any 16 characters of it, taken every 8.
            for start in range(0, max(len(secret) - 16, 0) + 1, 8):
                assert secret[start : start + 16] not in text, f"part of the {what} in {where}"
    # Pages never echo a token either.
    for response in (denied, unauthorised):
        assert token not in response["body"] and expired not in response["body"]
    assert header(allowed, "Location").endswith(web)
