"""The local stack by hand, in pieces that `make demo`, `make up`, the browser tests and the
benchmarks share: devstack's server, the sample landscape with platform setup on it,
`chalice local` (the admin API), the admin scripts, waiting for a record's status.

Everything started is registered on the caller's `contextlib.ExitStack`, so it is stopped in
reverse order on success, failure or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

import devstack
from devstack import alb, landscape
from devstack.process import free_port

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ADMIN_SCRIPTS = ROOT / "scripts" / "admin"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "devstack", "AWS_SECRET_ACCESS_KEY": "devstack"}
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/mwaa-execution"


class StackFailure(Exception):
    """A step of the local stack did not do what it should; the message says what."""


class LocalStack:
    def __init__(self, stack: contextlib.ExitStack, create_seconds: str = "3"):
        self.stack = stack
        self.create_seconds = create_seconds
        self.server: devstack.Server | None = None
        self.api_url = ""
        self.authx_function = ""
        self.landscape: dict[str, Any] = {}
        self.signing_key = alb.SigningKey()
        self._clients: dict[str, Any] = {}

    # --- output (the demo numbers its steps) --------------------------------------------------

    def step(self, text: str) -> None:
        return None

    # --- the embedded AWS ---------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """One client per service (platform setup asks for them again and again)."""
        if service not in self._clients:
            assert self.server is not None
            # The embedded AWS takes any credentials; never send a user's real ones to it.
            self._clients[service] = boto3.client(
                service,
                region_name=REGION,
                endpoint_url=self.server.url,
                config=Config(inject_host_prefix=False, retries={"max_attempts": 2}),
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        return self._clients[service]

    def new_client(self, service: str, region: str = REGION) -> Any:
        """A client of its own (not shared): for `landscape.in_account`, which marks it."""
        assert self.server is not None
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.server.url,
            config=Config(inject_host_prefix=False, retries={"max_attempts": 2}),
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def start_devstack(self) -> None:
        self.server = devstack.server(env={"DEVSTACK_MWAA_CREATE_SECONDS": self.create_seconds})
        self.stack.callback(self.server.stop)
        self.step(f"embedded AWS (moto + devstack) running at {self.server.url}")

    def build_landscape(self, base_domain: str = landscape.BASE_DOMAIN) -> dict[str, str]:
        """The sample landscape; returns its stage settings."""
        self.landscape = landscape.build(self.client, base_domain=base_domain)
        return landscape.stage_settings(self.landscape, base_domain=base_domain)

    def platform_setup(self, settings: dict[str, str]) -> Any:
        """The ALB key service, then platform setup with `settings` (authX reads the key
        service). Returns setup's report."""
        from chalicelib.platform import authx_package
        from chalicelib.platform.setup import authx_name, setup

        keys = alb.KeyServer()
        self.stack.callback(keys.stop)
        keys.publish(self.signing_key)
        cfg = landscape.local_stage({**settings, "ALB_PUBLIC_KEY_URL": keys.url})
        assert self.server is not None
        self.server.set_stage_settings(settings)  # the step Lambdas' view of the landscape
        with tempfile.TemporaryDirectory() as no_dependencies:  # devstack runs authX from source
            package = authx_package.build(dependencies=Path(no_dependencies))
        self.authx_function = authx_name(cfg)
        self._setup = lambda: setup(cfg, self.client, package, echo=None, propagation_delay=0)
        return self._setup()

    def setup_again(self) -> Any:
        return self._setup()

    def create_private_environment(
        self, name: str, network: dict[str, Any], airflow_version: str | None = None
    ) -> None:
        """An existing private MWAA environment (what `--attach` onboards)."""
        params: dict[str, Any] = {
            "Name": name,
            "ExecutionRoleArn": EXECUTION_ROLE,
            "SourceBucketArn": f"arn:aws:s3:::{name.lower()}-dags",
            "DagS3Path": "dags",
            "NetworkConfiguration": {
                "SubnetIds": network["subnet_ids"],
                "SecurityGroupIds": [network["security_group_id"]],
            },
            "WebserverAccessMode": "PRIVATE_ONLY",
        }
        if airflow_version:
            params["AirflowVersion"] = airflow_version
        self.client("mwaa").create_environment(**params)

    def wait_available(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        mwaa = self.client("mwaa")
        while mwaa.get_environment(Name=name)["Environment"]["Status"] != "AVAILABLE":
            if time.monotonic() > deadline:
                raise StackFailure(f"MWAA environment {name} did not become AVAILABLE")
            time.sleep(0.2)

    def start_chalice_local(self) -> None:
        assert self.server is not None
        port = free_port()
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **FAKE_CREDENTIALS,
            **self.server.client_environment(),
            "AWS_DEFAULT_REGION": REGION,
        }
        log = tempfile.NamedTemporaryFile(prefix="chalice-local-", suffix=".log", delete=False)  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603 - the venv's own chalice
            [
                str(Path(sys.executable).parent / "chalice"),
                "local",
                "--stage",
                "local",
                "--port",
                str(port),
                "--no-autoreload",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the caller, which stops it in order
        )
        self.stack.callback(stop_process, process, Path(log.name))
        self.api_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise StackFailure("chalice local exited:\n" + Path(log.name).read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise StackFailure("chalice local did not start within 60 s")
            time.sleep(0.2)
        self.step(f"admin API: chalice local --stage local at {self.api_url} (talks to devstack)")

    # --- admin scripts -------------------------------------------------------------------------

    def script(self, name: str, *args: str, expect: int = 0) -> Any:
        environment = {
            **os.environ,
            "MWAA_GATE_URL": self.api_url,
            "MWAA_GATE_AUTH": "none",
            "PYTHONPATH": "",
        }
        result = subprocess.run(  # noqa: S603 - our own scripts
            [str(ADMIN_SCRIPTS / name), *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )
        shown = " ".join(args)
        if result.returncode != expect:
            raise StackFailure(
                f"scripts/admin/{name} {shown} exited {result.returncode} (expected {expect}):\n"
                f"{result.stdout}{result.stderr}"
            )
        if expect:
            return result.stderr.strip()
        return json.loads(result.stdout) if result.stdout.strip() else None

    def wait_for(self, name: str, status: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            record = self.script("get-environment", name)
            if not seen or seen[-1] != record["status"]:
                seen.append(record["status"])
            if record["status"] == status:
                self.detail(f"{name}: {' → '.join(seen)}")
                return record
            if record["status"] == "FAILED" or time.monotonic() > deadline:
                raise StackFailure(f"{name} is {record['status']}: {record.get('error')}")
            time.sleep(0.5)

    @staticmethod
    def detail(text: str) -> None:
        return None


def stop_process(process: subprocess.Popen[bytes], log: Path) -> None:
    """Stop a process started in its own session (its whole group), then drop its log."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(OSError):
        log.unlink()
