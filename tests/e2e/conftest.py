"""Fixtures of the end-to-end tests: the admin API served by `chalice local` on devstack.

`local_api` starts what a developer starts by hand: the embedded AWS as a server, the tables
and stand-in state machines (Pass states named as the `local` stage expects; the workflows'
own tests run the real ASL), then `chalice local --stage local` from the project root, its
AWS clients pointed at devstack through `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

import devstack
from devstack import landscape
from devstack.landscape import create_tables
from devstack.process import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCAL_STAGE = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["local"][
    "environment_variables"
]
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "devstack",
    "AWS_SECRET_ACCESS_KEY": "devstack",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
CHALICE = Path(sys.executable).with_name("chalice")


@dataclass
class LocalApi:
    url: str
    aws_url: str

    def client(self, service: str) -> Any:
        """A client of the devstack server that `chalice local` uses."""
        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            config=Config(inject_host_prefix=False),
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",
        )


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chalice local exited:\n{log.read_text(errors='replace')}")
        try:
            requests.get(f"{url}/environments", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"chalice local did not start:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def chalice_local(server: devstack.Server, folder: Path) -> Iterator[str]:
    """`chalice local --stage local` against `server`; its URL."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "MOTO_PORT"
    }
    env.update(FAKE_CREDENTIALS)
    env.update(server.client_environment())
    log = folder / "chalice.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the venv's own chalice
            [str(CHALICE), "local", "--stage", "local", "--port", str(port), "--no-autoreload"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, process, log)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="session")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    server = devstack.server()
    try:
        api = LocalApi(url="", aws_url=server.url)
        create_tables(
            api.client("dynamodb"), LOCAL_STAGE["ENVIRONMENTS_TABLE"], LOCAL_STAGE["GRANTS_TABLE"]
        )
        states = api.client("stepfunctions")
        for variable in ("ONBOARD_STATE_MACHINE_ARN", "OFFBOARD_STATE_MACHINE_ARN"):
            states.create_state_machine(
                name=LOCAL_STAGE[variable].rsplit(":", 1)[1],
                definition=PASS_MACHINE,
                roleArn="arn:aws:iam::123456789012:role/mwaa-gate-local-states",
            )
        with chalice_local(server, tmp_path_factory.mktemp("chalice-local")) as url:
            api.url = url
            yield api
    finally:
        server.stop()


@pytest.fixture(scope="session")
def workflow_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """`chalice local` on a devstack that runs the real workflows (ASL and step Lambdas) in a
    landscape with an ALB, as `make demo` does: executions go through their steps."""
    server = devstack.server(env={"DEVSTACK_MWAA_CREATE_SECONDS": "0"})
    try:
        api = LocalApi(url="", aws_url=server.url)
        alb = landscape.build(api.client)
        server.set_stage_settings(landscape.stage_settings(alb))
        landscape.install_workflows(api.client)
        with chalice_local(server, tmp_path_factory.mktemp("chalice-workflows")) as url:
            api.url = url
            yield api
    finally:
        server.stop()
