"""POST/GET/DELETE /environments on the embedded AWS: status codes, records, executions."""

from __future__ import annotations

import json

import boto3

from chalicelib.api import workflow_starter

from .conftest import (
    OFFBOARD_ARN,
    ONBOARD_ARN,
    create_state_machine,
    executions,
    onboard,
    record,
    set_record,
    valid_create,
)


def test_onboard_attach_records_pending_and_starts_one_execution(client):
    response = onboard(client, "Env1", hostname="Airflow.Example.com")

    assert response.status_code == 202
    body = response.json_body
    assert body["name"] == "Env1"
    assert body["status"] == "PENDING"
    assert body["mode"] == "attach"
    assert body["hostname"] == "airflow.example.com"
    assert body["attempt"] == 1
    assert body["execution_arn"].endswith(":execution:mwaa-gate-local-onboard:onboard-Env1-1")
    assert "request_hash" not in body
    runs = executions()
    assert [run["executionArn"] for run in runs] == [body["execution_arn"]]
    stored = record("Env1")
    assert stored["status"] == "PENDING" and stored["version"] == 1
    assert stored["requested_by"] == "local"


def test_execution_input_names_the_environment_and_carries_the_stage_timing(client):
    arn = onboard(client, "Env1").json_body["execution_arn"]

    described = boto3.client("stepfunctions").describe_execution(executionArn=arn)

    assert json.loads(described["input"]) == {
        "environment": "Env1",
        "timing": {
            "poll_seconds": 1,
            "poll_max_seconds": 2,
            "backoff": 1.5,
            "deadline_seconds": 120,
        },
    }


def test_onboard_create_keeps_the_validated_parameters_and_access_mode(client):
    response = onboard(client, "Made", mode="create", create=valid_create())

    assert response.status_code == 202
    stored = record("Made")
    assert stored["create"] == valid_create()
    assert stored["access_mode"] == "PRIVATE_ONLY"
    assert stored["mode"] == "create"


def test_same_body_again_is_200_with_the_same_execution(client):
    first = onboard(client, "Env1", hostname="a.example.com")
    # same content, other key order and spacing
    again = client.http.post(
        "/environments",
        headers={"Content-Type": "application/json; charset=utf-8"},
        body=b'{"hostname": "a.example.com",  "mode": "attach", "name": "Env1"}',
    )

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json_body["execution_arn"] == first.json_body["execution_arn"]
    assert len(executions()) == 1


def test_different_body_for_an_onboarded_name_is_409(client):
    onboard(client, "Env1")

    response = onboard(client, "Env1", hostname="other.example.com")

    assert response.status_code == 409
    assert response.json_body["Code"] == "ConflictError"
    assert "Env1" in response.json_body["Message"]
    assert len(executions()) == 1


def test_failed_same_body_retries_with_a_new_attempt_and_execution(client):
    first = onboard(client, "Env1").json_body
    set_record("Env1", status="FAILED", error={"code": "X", "cause": "boom"})

    retry = onboard(client, "Env1")

    assert retry.status_code == 200
    assert retry.json_body["attempt"] == 2
    assert retry.json_body["status"] == "PENDING"
    assert "error" not in retry.json_body
    assert retry.json_body["execution_arn"] != first["execution_arn"]
    assert retry.json_body["execution_arn"].endswith(":onboard-Env1-2")
    assert len(executions()) == 2


def test_failed_with_a_different_body_is_409(client):
    onboard(client, "Env1")
    set_record("Env1", status="FAILED")

    assert onboard(client, "Env1", hostname="x.example.com").status_code == 409


def test_offboarded_name_can_be_onboarded_again_with_any_body(client):
    onboard(client, "Env1")
    set_record("Env1", status="OFFBOARDED", attempt=2, login_host="old.example.com")

    again = onboard(client, "Env1", mode="create", create=valid_create())

    assert again.status_code == 202
    assert again.json_body["attempt"] == 3
    assert again.json_body["mode"] == "create"
    assert "login_host" not in again.json_body
    assert again.json_body["execution_arn"].endswith(":onboard-Env1-3")


def test_get_shows_record_login_url_and_live_execution_state(client):
    arn = onboard(client, "Env1").json_body["execution_arn"]
    set_record("Env1", status="READY", login_host="env1.airflow.example.com")

    response = client.http.get("/environments/Env1")

    assert response.status_code == 200
    body = response.json_body
    assert body["login_url"] == "https://env1.airflow.example.com/aws_mwaa/aws-console-sso"
    assert body["execution"]["arn"] == arn
    live = boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"]
    assert body["execution"]["status"] == live
    assert live in ("RUNNING", "SUCCEEDED")


def test_get_has_no_login_url_before_ready(client):
    onboard(client, "Env1")
    set_record("Env1", login_host="env1.example.com")  # still PENDING

    assert "login_url" not in client.http.get("/environments/Env1").json_body


def test_get_unknown_is_404(client):
    response = client.http.get("/environments/Nope")
    assert response.status_code == 404
    assert response.json_body["Code"] == "NotFoundError"


def test_hostname_claims_are_not_environments(client):
    onboard(client, "Env1", hostname="a.example.com")

    assert client.http.get("/environments/hostname%23a.example.com").status_code == 400
    names = [item["name"] for item in client.http.get("/environments").json_body["items"]]
    assert names == ["Env1"]


def test_delete_ready_starts_offboarding(client):
    onboard(client, "Env1", mode="create", create=valid_create())
    set_record("Env1", status="READY")

    response = client.http.delete("/environments/Env1?delete_environment=true")

    assert response.status_code == 202
    body = response.json_body
    assert body["status"] == "OFFBOARDING"
    assert body["delete_environment"] is True
    assert body["execution_arn"].endswith(":execution:mwaa-gate-local-offboard:offboard-Env1-2")
    runs = executions(OFFBOARD_ARN)
    assert [run["executionArn"] for run in runs] == [body["execution_arn"]]
    described = boto3.client("stepfunctions").describe_execution(executionArn=body["execution_arn"])
    assert json.loads(described["input"])["delete_environment"] is True
    assert json.loads(described["input"])["environment"] == "Env1"


def test_delete_failed_starts_offboarding(client):
    onboard(client, "Env1")
    set_record("Env1", status="FAILED")

    response = client.http.delete("/environments/Env1")

    assert response.status_code == 202
    assert response.json_body["delete_environment"] is False


def test_delete_while_onboarding_or_offboarding_is_422(client):
    onboard(client, "Env1")
    assert client.http.delete("/environments/Env1").status_code == 422  # PENDING
    set_record("Env1", status="ONBOARDING")
    assert client.http.delete("/environments/Env1").status_code == 422
    set_record("Env1", status="READY")
    assert client.http.delete("/environments/Env1").status_code == 202
    again = client.http.delete("/environments/Env1")
    assert again.status_code == 422
    assert again.json_body["Code"] == "UnprocessableEntityError"
    assert len(executions(OFFBOARD_ARN)) == 1


def test_delete_offboarded_is_422_and_unknown_is_404(client):
    onboard(client, "Env1")
    set_record("Env1", status="OFFBOARDED")
    assert client.http.delete("/environments/Env1").status_code == 422
    assert client.http.delete("/environments/Nope").status_code == 404


def test_delete_environment_of_an_attached_environment_is_refused(client):
    onboard(client, "Env1")
    set_record("Env1", status="READY")

    response = client.http.delete("/environments/Env1?delete_environment=true")

    assert response.status_code == 422
    assert "attached" in response.json_body["Message"]
    assert record("Env1")["status"] == "READY"


def test_a_failed_start_is_kept_and_the_same_request_starts_it(client):
    boto3.client("stepfunctions").delete_state_machine(stateMachineArn=ONBOARD_ARN)

    failed = onboard(client, "Env1")

    assert failed.status_code == 502
    assert failed.json_body["Code"] == "WorkflowStartError"
    assert "same request" in failed.json_body["Message"]
    assert record("Env1")["status"] == "PENDING"

    create_state_machine(ONBOARD_ARN)
    retried = onboard(client, "Env1")

    assert retried.status_code == 200
    runs = executions()
    assert [run["executionArn"] for run in runs] == [retried.json_body["execution_arn"]]


def test_a_failed_offboard_start_is_started_by_the_next_delete(client):
    onboard(client, "Env1")
    set_record("Env1", status="READY")
    boto3.client("stepfunctions").delete_state_machine(stateMachineArn=OFFBOARD_ARN)

    assert client.http.delete("/environments/Env1").status_code == 502
    assert record("Env1")["status"] == "OFFBOARDING"

    create_state_machine(OFFBOARD_ARN)
    assert client.http.delete("/environments/Env1").status_code == 202
    assert len(executions(OFFBOARD_ARN)) == 1
    assert client.http.delete("/environments/Env1").status_code == 422


def test_hostnames_are_unique_across_environments(client):
    assert onboard(client, "Env1", hostname="shared.example.com").status_code == 202

    taken = onboard(client, "Env2", hostname="SHARED.example.com")

    assert taken.status_code == 409
    assert "Env1" in taken.json_body["Message"]
    assert record("Env2") is None
    assert len(executions()) == 1


def test_an_offboarded_environment_releases_its_hostname(client):
    onboard(client, "Env1", hostname="shared.example.com")
    set_record("Env1", status="OFFBOARDED")

    assert onboard(client, "Env2", hostname="shared.example.com").status_code == 202
    # and the claim moved: Env1 cannot take it back while Env2 holds it
    assert onboard(client, "Env1", hostname="shared.example.com").status_code == 409


def test_list_filters_by_status_and_rejects_unknown_status(client):
    onboard(client, "A1")
    onboard(client, "B2")
    set_record("B2", status="READY")

    ready = client.http.get("/environments?status=READY").json_body["items"]

    assert [item["name"] for item in ready] == ["B2"]
    assert client.http.get("/environments?status=ready").status_code == 400


def test_list_pages_over_more_than_two_pages(client):
    names = {f"Env{index:02d}" for index in range(7)}
    for index, name in enumerate(sorted(names)):
        onboard(client, name, hostname=f"h{index}.example.com")  # claims in the same table

    seen, token, pages = [], None, 0
    while True:
        path = "/environments?limit=3" + (f"&next_token={token}" if token else "")
        page = client.http.get(path)
        assert page.status_code == 200
        pages += 1
        items = page.json_body["items"]
        assert len(items) <= 3
        seen.extend(item["name"] for item in items)
        token = page.json_body.get("next_token")
        if not token:
            break
        assert all(c.isalnum() or c in "-_" for c in token)  # URL-safe as is

    assert pages >= 3
    assert sorted(seen) == sorted(names)


def test_long_environment_names_get_short_deterministic_execution_names(client):
    name = "E" + "x" * 79
    response = onboard(client, name)

    assert response.status_code == 202
    execution = response.json_body["execution_name"]
    assert len(execution) <= 80
    assert execution == workflow_starter.execution_name("onboard", name, 1)
    assert execution.endswith("-1") and execution.startswith("onboard-Ex")
    assert onboard(client, name).json_body["execution_arn"] == response.json_body["execution_arn"]
