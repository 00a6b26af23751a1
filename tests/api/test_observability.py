"""Observability of the API: request ids on the audit lines, metrics by route and status,
and nothing but JSON on the output."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from chalice.app import Request

from app import app
from chalicelib import metrics
from chalicelib.api import observability

from .conftest import onboard, post, set_record


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line as JSON; fails on a line that is not (a plain-text log line)."""
    documents = []
    for line in text.splitlines():
        if line.strip():
            try:
                documents.append(json.loads(line))
            except ValueError:
                pytest.fail(f"a line that is not JSON: {line!r}")
    return documents


def counted(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The EMF metric lines of `name`, with their dimensions."""
    found = []
    for document in documents:
        directives = document.get("_aws", {}).get("CloudWatchMetrics", [])
        names = {m["Name"] for d in directives for m in d.get("Metrics", [])}
        if name in names:
            found.append(document)
    return found


class Collect(logging.Handler):
    """The lines the app's logger writes, through the formatter of each of its handlers."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logged():
    """What the app logs during a test, as its own handlers would write it."""
    target = logging.getLogger(observability.logger.name)
    collectors = [Collect(handler.formatter) for handler in target.handlers if handler.formatter]
    for collector in collectors:
        target.addHandler(collector)
    yield collectors
    for collector in collectors:
        target.removeHandler(collector)


def test_the_app_logger_writes_only_json_lines() -> None:
    target = logging.getLogger(observability.logger.name)

    assert app.log is target  # Chalice's app.log and powertools share the logger "mwaa-gate"
    assert target.handlers
    record = logging.LogRecord("mwaa-gate", logging.INFO, __file__, 1, "hello", None, None)
    for handler in target.handlers:
        assert json.loads(handler.format(record))["message"] == "hello"


def test_every_audit_line_carries_its_request_id(client, logged) -> None:
    onboard(client, "Env1")
    post(client, "/grants", {"user": "a@example.com", "environment": "*", "rbac_role": "User"})
    observability.logger.info("after the requests")

    documents = [d for collector in logged for d in json_lines("\n".join(collector.lines))]

    audits = [d for d in documents if "audit" in d]
    assert [d["audit"]["action"] for d in audits] == ["environment.onboard", "grant.create"]
    ids = [d.get("request_id") for d in audits]
    assert all(ids) and len(set(ids)) == 2
    after = [d for d in documents if d.get("message") == "after the requests"]
    assert after and "request_id" not in after[0]  # not lent to what follows


def test_api_gateway_request_id_is_the_one_logged() -> None:
    event = Request(
        {
            "multiValueQueryStringParameters": None,
            "headers": {},
            "pathParameters": {},
            "requestContext": {
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "httpMethod": "GET",
                "resourcePath": "/environments/{name}",
            },
            "httpMethod": "GET",
            "path": "/environments/Env%201",
            "body": None,
            "isBase64Encoded": False,
            "stageVariables": None,
        }
    )

    assert observability.request_id(app, event) == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert observability.route(event) == "GET /environments/{name}"  # never the raw path


def test_requests_are_counted_by_route_and_status_and_onboardings_started(client, capsys) -> None:
    onboard(client, "Env1")
    onboard(client, "Env1")  # the same request again: 200, nothing new started
    client.http.get("/environments/Nowhere")
    set_record("Env1", status="READY")
    client.http.get("/environments/Env1")

    documents = json_lines(capsys.readouterr().out)

    requests = [(d["route"], d["status"]) for d in counted(documents, metrics.REQUESTS)]
    assert requests == [
        ("POST /environments", "202"),
        ("POST /environments", "200"),
        ("GET /environments/{name}", "404"),
        ("GET /environments/{name}", "200"),
    ]
    started = counted(documents, metrics.ONBOARDINGS_STARTED)
    assert len(started) == 1
    for document in counted(documents, metrics.REQUESTS) + started:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == metrics.namespace(os.environ)
        assert {"service", "deployment"} <= set(directive["Dimensions"][0])
        assert document["deployment"] == "mwaa-gate-local"  # the stage's DEPLOYMENT_NAME


def test_errors_are_logged_as_json_with_the_request_id_and_counted(client, logged, capsys) -> None:
    import boto3

    from .conftest import GRANTS_TABLE

    dynamodb = boto3.client("dynamodb")
    dynamodb.update_table(TableName=GRANTS_TABLE, DeletionProtectionEnabled=False)
    dynamodb.delete_table(TableName=GRANTS_TABLE)

    failed = post(
        client, "/grants", {"user": "a@example.com", "environment": "*", "rbac_role": "User"}
    )  # AWS fails: logged with its traceback

    assert failed.status_code in (502, 503)
    documents = [d for collector in logged for d in json_lines("\n".join(collector.lines))]
    errors = [d for d in documents if d.get("level") == "ERROR"]
    assert errors and all(d.get("request_id") for d in errors)
    assert "exception" in errors[0]  # the traceback inside the JSON line, not beside it
    statuses = [r["status"] for r in counted(json_lines(capsys.readouterr().out), "Requests")]
    assert statuses == [str(failed.status_code)]
