"""Onboarding on devstack, in figures: state transitions and Lambda invocations per onboarding,
poll iterations for a simulated 25-minute creation, and wall time for 20 private environments
onboarded at once. Prints; never fails on time.

    .venv/bin/python bench/onboarding.py

The 25-minute creation runs at 1/60 scale (25 s, polls 1 s doubling up to 10 s — the
production schedule of 60 s doubling up to 600 s, divided by 60); the production count is
computed with the workflow's own backoff function next to it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "devstack")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "devstack")
os.environ["API_AUTHORIZER"] = "none"
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from chalice.test import Client  # noqa: E402

import devstack  # noqa: E402
from app import app  # noqa: E402
from chalicelib.workflow import mwaa_env  # noqa: E402
from devstack import landscape  # noqa: E402

STAGE = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["local"]
STAGE_ENV = STAGE["environment_variables"]
SCALE = 60
CREATION_MINUTES = 25
PRODUCTION = {"poll_seconds": 60, "poll_max_seconds": 600, "backoff": 2, "deadline_seconds": 7200}


def aws(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


def create_parameters(net: dict[str, Any], access: str = "PRIVATE_ONLY") -> dict[str, Any]:
    return {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-execution",
        "SourceBucketArn": "arn:aws:s3:::dags",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": net["subnet_ids"],
            "SecurityGroupIds": [net["security_group_id"]],
        },
        "WebserverAccessMode": access,
    }


class Bench:
    def __init__(self, client: Client):
        self.client = client

    def onboard(self, name: str, mode: str = "attach", **body: Any) -> None:
        with devstack.exclusive_environment():
            response = self.client.http.post(
                "/environments",
                headers={"Content-Type": "application/json"},
                body=json.dumps({"name": name, "mode": mode, **body}).encode(),
            )
        if response.status_code != 202:
            raise RuntimeError(f"onboarding {name}: {response.status_code} {response.body!r}")

    def wait(self, names: list[str], timeout: float = 600) -> dict[str, dict[str, Any]]:
        from chalicelib.records import ddb

        deadline = time.monotonic() + timeout
        done: dict[str, dict[str, Any]] = {}
        while len(done) < len(names):
            for name in names:
                if name in done:
                    continue
                item = (
                    aws("dynamodb")
                    .get_item(TableName=STAGE_ENV["ENVIRONMENTS_TABLE"], Key={"name": {"S": name}})
                    .get("Item")
                )
                record = ddb.deserialize(item) or {}
                if record.get("status") in ("READY", "FAILED"):
                    status = aws("stepfunctions").describe_execution(
                        executionArn=record["execution_arn"]
                    )["status"]
                    if status != "RUNNING":
                        done[name] = record
            if time.monotonic() > deadline:
                raise RuntimeError(f"not done: {sorted(set(names) - set(done))}")
            time.sleep(0.05)
        return done

    def figures(self, record: dict[str, Any]) -> dict[str, int]:
        events = aws("stepfunctions").get_execution_history(
            executionArn=record["execution_arn"], maxResults=1000
        )["events"]
        entered = [e for e in events if e["type"].endswith("StateEntered")]
        polls = [
            e
            for e in entered
            if e.get("stateEnteredEventDetails", {}).get("name") == "Poll environment"
        ]
        invocations = [e for e in events if e["type"] == "TaskScheduled"]
        return {"transitions": len(entered), "lambdas": len(invocations), "polls": len(polls)}


def production_polls(minutes: int) -> int:
    """Poll iterations the production schedule needs for a creation of `minutes`."""
    elapsed, wait, polls = 0, {"seconds": PRODUCTION["poll_seconds"]}, 0
    while True:
        elapsed += wait["seconds"]
        polls += 1
        if elapsed >= minutes * 60:
            return polls
        wait = {"seconds": mwaa_env.next_seconds(wait, PRODUCTION)}


def main() -> int:
    scaled = {
        "WORKFLOW_POLL_SECONDS": str(PRODUCTION["poll_seconds"] // SCALE),
        "WORKFLOW_POLL_MAX_SECONDS": str(PRODUCTION["poll_max_seconds"] // SCALE),
        "WORKFLOW_POLL_BACKOFF": str(PRODUCTION["backoff"]),
    }
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config["stages"]["local"]["environment_variables"].update(scaled)
    # The API reads the poll schedule from its stage settings: a project folder of its own.
    scaled_project = Path(tempfile.mkdtemp(prefix="mwaa-gate-bench-"))
    (scaled_project / ".chalice").mkdir()
    (scaled_project / ".chalice" / "config.json").write_text(json.dumps(config))
    with devstack.aws() as stack:
        landscape.install_workflows(aws)
        alb = landscape.build(aws)
        stack.project.extra_env.update(landscape.stage_settings(alb))
        original = os.environ
        with Client(app, stage_name="local", project_dir=str(scaled_project)) as client:
            bench = Bench(client)
            print("onboarding on devstack (moto + devstack MWAA, real ASL, in-process Lambdas)")
            print(f"{'case':<42}{'transitions':>12}{'lambdas':>9}{'polls':>7}{'wall s':>9}")

            def case(label: str, name: str, **body: Any) -> dict[str, Any]:
                started = time.monotonic()
                bench.onboard(name, **body)
                record = bench.wait([name])[name]
                wall = time.monotonic() - started
                if record["status"] != "READY":
                    raise RuntimeError(f"{name}: {record.get('error')}")
                f = bench.figures(record)
                print(
                    f"{label:<42}{f['transitions']:>12}{f['lambdas']:>9}{f['polls']:>7}{wall:>9.1f}"
                )
                return f

            public = landscape.environment_network(aws, "10.1")
            aws("mwaa").create_environment(Name="pub", **create_parameters(public, "PUBLIC_ONLY"))
            case("attach, public", "pub")
            private = landscape.environment_network(aws, "10.2")
            aws("mwaa").create_environment(Name="priv", **create_parameters(private))
            case("attach, private (peered)", "priv")
            os.environ["DEVSTACK_MWAA_CREATE_SECONDS"] = str(CREATION_MINUTES * 60 // SCALE)
            created = case(
                f"create, private ({CREATION_MINUTES} min at 1/{SCALE} scale)",
                "made",
                mode="create",
                create=create_parameters(landscape.environment_network(aws, "10.3")),
            )
            os.environ["DEVSTACK_MWAA_CREATE_SECONDS"] = "0"
            print(
                f"poll iterations for a {CREATION_MINUTES}-minute creation: "
                f"{created['polls']} measured at 1/{SCALE} scale, "
                f"{production_polls(CREATION_MINUTES)} by the production schedule "
                "(60 s doubling to 600 s)"
            )

            names = [f"team{i:02d}" for i in range(20)]
            for i, name in enumerate(names):
                net = landscape.environment_network(aws, f"10.{20 + i}")
                aws("mwaa").create_environment(Name=name, **create_parameters(net))
            started = time.monotonic()
            for name in names:
                bench.onboard(name)
            records = bench.wait(names)
            wall = time.monotonic() - started
            ready = sum(1 for r in records.values() if r["status"] == "READY")
            priorities = {
                int(rule["Priority"])
                for rule in aws("elbv2").describe_rules(ListenerArn=alb["listener_arn"])["Rules"]
                if not rule["IsDefault"]
            }
            print(
                f"20 private environments at once: {ready}/20 READY in {wall:.1f} s wall, "
                f"{len(priorities)} distinct rule priorities "
                f"(in-process Lambdas run one at a time; AWS runs them in parallel)"
            )
        os.environ = original  # noqa: B003 - the test client swapped it
    shutil.rmtree(scaled_project, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
