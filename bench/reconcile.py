"""Reconciliation on devstack, in figures: AWS calls per environment for one scheduled run over
100 environments (50 private behind the ALB, 50 public), when nothing drifted and when every
private environment's endpoint IPs moved. Prints; never fails on time.

    .venv/bin/python bench/reconcile.py
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "devstack")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "devstack")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "mwaa-gate-bench")
os.environ["API_AUTHORIZER"] = "none"
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3  # noqa: E402
from chalice.test import Client  # noqa: E402

import devstack  # noqa: E402
from app import app  # noqa: E402
from chalicelib import aws_clients  # noqa: E402
from chalicelib.workflow import reconcile  # noqa: E402
from devstack import landscape  # noqa: E402
from devstack.mwaa import mwaa_backends  # noqa: E402

PRIVATE, PUBLIC = 50, 50


def aws(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


def parameters(net: dict[str, Any], name: str, access: str) -> dict[str, Any]:
    return {
        "Name": name,
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-execution",
        "SourceBucketArn": "arn:aws:s3:::dags",
        "DagS3Path": "dags",
        "NetworkConfiguration": {
            "SubnetIds": net["subnet_ids"],
            "SecurityGroupIds": [net["security_group_id"]],
        },
        "WebserverAccessMode": access,
        "AirflowVersion": "3.0.6" if name.endswith(("0", "5")) else "2.11.0",
    }


def counted(run: Any) -> tuple[Any, collections.Counter]:
    calls: collections.Counter = collections.Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    clients = [getattr(aws_clients, s)() for s in ("dynamodb", "ec2", "elbv2", "mwaa")]
    clients.append(aws_clients.secretsmanager())
    for client in clients:
        client.meta.events.register("before-call", count)
    try:
        return run(), calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", count)


def report(title: str, summary: dict[str, Any], calls: collections.Counter, seconds: float):
    environments = summary["checked"]
    total = sum(calls.values())
    print(
        f"\n{title}: {environments} environments, {total} AWS calls, "
        f"{total / environments:.1f} per environment, {seconds:.1f} s on devstack"
    )
    print(
        f"  drifted {summary['drifted']}, fixed {summary['fixed']}, "
        f"degraded {summary['degraded']}, failed {summary['failed']}"
    )
    for name, number in sorted(calls.items(), key=lambda item: -item[1]):
        print(f"  {number:5d}  {number / environments:5.2f}/env  {name}")


def main() -> None:
    os.environ["DEVSTACK_MWAA_CREATE_SECONDS"] = "0"
    with devstack.aws() as stack:
        landscape.install_workflows(aws)
        alb = landscape.build(aws)
        aws("elbv2").create_target_group(Name="mwaa-gate-local-authx", TargetType="lambda")
        settings = landscape.stage_settings(alb)
        stack.project.extra_env.update(settings)
        net = landscape.alb_network(alb, aws)
        names = [f"Priv{i:02d}" for i in range(PRIVATE)] + [f"Pub{i:02d}" for i in range(PUBLIC)]
        for name in names:
            access = "PRIVATE_ONLY" if name.startswith("Priv") else "PUBLIC_ONLY"
            aws("mwaa").create_environment(**parameters(net, name, access))
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            for name in names:
                with devstack.exclusive_environment():
                    body = json.dumps({"name": name, "mode": "attach"}).encode()
                    answer = client.http.post(
                        "/environments", headers={"Content-Type": "application/json"}, body=body
                    )
                    assert answer.status_code == 202, answer.json_body
            table = stack.project.environment("onboard_validate")["ENVIRONMENTS_TABLE"]
            deadline = time.monotonic() + 1800
            while True:
                items = aws("dynamodb").scan(TableName=table)["Items"]
                ready = [i for i in items if i.get("status", {}).get("S") == "READY"]
                if len(ready) == len(names):
                    break
                failed = [i["name"]["S"] for i in items if i.get("status", {}).get("S") == "FAILED"]
                assert not failed, failed
                assert time.monotonic() < deadline, f"{len(ready)} of {len(names)} READY"
                time.sleep(1)
        print(
            f"{PRIVATE} private and {PUBLIC} public environments READY (every fifth on Airflow 3)"
        )
        os.environ.update(settings)
        with devstack.exclusive_environment():
            started = time.perf_counter()
            summary, calls = counted(reconcile.run_all)
            report("No drift", summary, calls, time.perf_counter() - started)
            backend = mwaa_backends["123456789012"]["us-east-1"]
            for name in names[:PRIVATE]:
                backend.environments[name].replace_webserver_addresses()
            started = time.perf_counter()
            summary, calls = counted(reconcile.run_all)
            report(
                "Every private environment's IPs moved",
                summary,
                calls,
                time.perf_counter() - started,
            )


if __name__ == "__main__":
    main()
