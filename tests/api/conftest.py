"""Fixtures of the admin API tests: the embedded AWS, the tables, stand-in state machines.

The AWS is devstack's (DESIGN §6). The app runs under `chalice.test.Client` with the `local`
stage of `.chalice/config.json`, so its environment (table names, state machine ARNs,
timing) is the one `chalice local` uses.
The state machines are stand-in Pass machines named as the local stage expects: these tests
are about the API; the real ASL comes with the workflow issue.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import devstack

os.environ.setdefault("API_AUTHORIZER", "none")  # as the local stage; app.py reads it at import

from chalice.test import Client

from app import app
from devstack.landscape import create_tables

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCAL_ENV = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["local"][
    "environment_variables"
]
ENVIRONMENTS_TABLE = LOCAL_ENV["ENVIRONMENTS_TABLE"]
GRANTS_TABLE = LOCAL_ENV["GRANTS_TABLE"]
ONBOARD_ARN = LOCAL_ENV["ONBOARD_STATE_MACHINE_ARN"]
OFFBOARD_ARN = LOCAL_ENV["OFFBOARD_STATE_MACHINE_ARN"]
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
STATES_ROLE = "arn:aws:iam::123456789012:role/mwaa-gate-states"
JSON = {"Content-Type": "application/json"}


def _embedded_aws() -> Any:
    """devstack: moto with executing state machines, the MWAA backend, in-process Lambdas."""
    return devstack.aws(project_dir=PROJECT_DIR, stage="local")


def create_state_machine(arn: str) -> None:
    boto3.client("stepfunctions").create_state_machine(
        name=arn.rsplit(":", 1)[1], definition=PASS_MACHINE, roleArn=STATES_ROLE
    )


@contextlib.contextmanager
def embedded_stack() -> Iterator[Client]:
    """The embedded AWS with the tables and state machines, and a test client of the app."""
    original = os.environ
    with _embedded_aws():
        create_tables(boto3.client("dynamodb"), ENVIRONMENTS_TABLE, GRANTS_TABLE)
        create_state_machine(ONBOARD_ARN)
        create_state_machine(OFFBOARD_ARN)
        with Client(app, stage_name="local", project_dir=str(PROJECT_DIR)) as test_client:
            yield test_client
    os.environ = original  # noqa: B003 - the test client swaps os.environ; put ours back


@pytest.fixture
def client() -> Iterator[Client]:
    """A fresh stack per test."""
    with embedded_stack() as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_client() -> Iterator[Client]:
    """One stack for a module whose tests do not depend on each other's data."""
    with embedded_stack() as test_client:
        yield test_client


@pytest.fixture
def stage_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage's variables in the process environment too, for requests made from threads.

    Chalice's test client swaps `os.environ` for a patched copy during each request and puts
    the one it found back afterwards; requests from several threads then restore each other's
    environment mid-request (a harness race: a Lambda has one request per process). With the
    variables already in the process environment, every copy holds them.
    """
    for name, value in LOCAL_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def atomic_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """One AWS call at a time, as AWS applies each call atomically.

    moto is not thread-safe (a TransactWriteItems rolls back by restoring a table copy, which
    can undo another thread's write); real DynamoDB is. Concurrency tests race *between*
    calls — read, decide, conditional write, start — which is what the service must survive.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def serialized(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialized)


def post(client: Client, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.http.post(path, headers=headers or JSON, body=data)


def valid_create(**changes: Any) -> dict[str, Any]:
    """MWAA CreateEnvironment parameters (without Name) that botocore's model accepts."""
    create: dict[str, Any] = {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-exec",
        "SourceBucketArn": "arn:aws:s3:::my-dags",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
            "SecurityGroupIds": ["sg-0123abcd"],
        },
        "WebserverAccessMode": "PRIVATE_ONLY",
        "MaxWorkers": 3,
    }
    create.update(changes)
    return create


def record(name: str) -> dict[str, Any] | None:
    from chalicelib.records import ddb

    item = boto3.client("dynamodb").get_item(
        TableName=ENVIRONMENTS_TABLE, Key={"name": {"S": name}}, ConsistentRead=True
    )
    return ddb.deserialize(item.get("Item"))


def set_record(name: str, **fields: Any) -> None:
    """What the workflow would write: status, login_host… (version bumped like every write)."""
    from chalicelib.records import ddb

    current = record(name) or {"name": name, "version": 0}
    current.update(fields)
    current["version"] = int(current.get("version", 0)) + 1
    boto3.client("dynamodb").put_item(TableName=ENVIRONMENTS_TABLE, Item=ddb.serialize(current))


def executions(arn: str = ONBOARD_ARN) -> list[dict[str, Any]]:
    return boto3.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]


def onboard(client: Client, name: str, **body: Any) -> Any:
    body = {"name": name, "mode": "attach", **body}
    return post(client, "/environments", body)
