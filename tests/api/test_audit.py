"""Every change is one structured audit line: who, what, before and after; no secrets."""

from __future__ import annotations

import json
import logging

import boto3
import pytest

from chalicelib.api.audit import logger

from .conftest import GRANTS_TABLE, onboard, post, set_record, valid_create


class Collect(logging.Handler):
    """The JSON lines the app's Logger writes, as its formatter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():  # what the app logged during the test
    handler = Collect()
    handler.setFormatter(logger.registered_formatter)
    target = logging.getLogger(logger.name)
    target.addHandler(handler)
    yield handler
    target.removeHandler(handler)


def audit_lines(log_lines) -> list[dict]:
    lines = []
    for line in log_lines.lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "audit" in document:
            lines.append(document["audit"])
    return lines


def test_onboard_offboard_and_grants_are_audited_with_the_caller(client, log_lines):
    onboard(client, "Env1")
    set_record("Env1", status="READY")
    client.http.delete("/environments/Env1")
    created = post(
        client, "/grants", {"user": "a@example.com", "environment": "*", "rbac_role": "User"}
    )
    post(client, "/grants", {"user": "a@example.com", "environment": "*", "rbac_role": "Admin"})
    client.http.delete(f"/grants/{created.json_body['id']}")

    lines = audit_lines(log_lines)

    assert [line["action"] for line in lines] == [
        "environment.onboard",
        "environment.offboard",
        "grant.create",
        "grant.update",
        "grant.revoke",
    ]
    assert {line["actor"] for line in lines} == {"local"}
    onboarded, offboarded, _, updated, revoked = lines
    assert onboarded["before"] is None and onboarded["after"]["status"] == "PENDING"
    assert offboarded["before"]["status"] == "READY"
    assert offboarded["after"]["status"] == "OFFBOARDING"
    assert updated["before"]["rbac_role"] == "User" and updated["after"]["rbac_role"] == "Admin"
    assert revoked["target"] == {"principal": "user#a@example.com", "environment": "*"}
    assert revoked["after"] is None


def test_reads_and_refusals_are_not_audited(client, log_lines):
    client.http.get("/environments")
    onboard(client, "1bad")
    assert audit_lines(log_lines) == []


def test_the_caller_is_the_iam_identity_from_the_request_context():
    from app import app
    from chalicelib.api.http import caller

    class Request:
        def __init__(self) -> None:
            self.context = {"identity": {"userArn": "arn:aws:iam::123456789012:user/alice"}}

    assert caller(Request()) == "arn:aws:iam::123456789012:user/alice"
    assert app.routes  # the same helper every route uses


def test_sensitive_airflow_options_never_reach_the_log(client, log_lines):
    secret = "s3cr3t-value-xyz"
    options = {"secrets.backend_kwargs": secret}

    response = onboard(
        client, "Env1", mode="create", create=valid_create(AirflowConfigurationOptions=options)
    )

    assert response.status_code == 202
    out = "\n".join(log_lines.lines)
    assert "secrets.backend_kwargs" in out
    assert secret not in out


def test_aws_failures_are_502_or_503_not_500(client):
    dynamodb = boto3.client("dynamodb")
    dynamodb.update_table(TableName=GRANTS_TABLE, DeletionProtectionEnabled=False)  # as setup
    dynamodb.delete_table(TableName=GRANTS_TABLE)

    response = post(
        client, "/grants", {"user": "a@example.com", "environment": "*", "rbac_role": "User"}
    )

    assert response.status_code in (502, 503)
    assert set(response.json_body) == {"Code", "Message"}
