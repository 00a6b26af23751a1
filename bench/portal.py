"""authX portal benchmark on devstack: prints figures, never fails on time.

One user in 50 groups; 200 READY environments. Two shapes of grants:
- named: each environment granted to one of the groups (no `*`), so the records are read by name;
- star: the same plus one `*` grant, so the environments table is scanned instead.
For each: DynamoDB calls per page, by operation (the bound: (1 + groups) Query + ⌈E/100⌉
BatchGetItem, or + Scan pages with `*`), other AWS calls (target: none), page size, and the
warm page latency p50/p95 over N renders (default 50).

Run: `.venv/bin/python bench/portal.py [N]` from the project root.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import statistics
import sys
import time
from collections import Counter

import offline

offline.use(POWERTOOLS_LOG_LEVEL="ERROR", PORTAL_HOST="gate.example.com")

GROUPS = 50
ENVIRONMENTS = 200


def main(renders: int) -> None:
    import boto3
    from authx_support import ENVIRONMENTS_TABLE, GRANTS_TABLE, RBAC_ROLE_ARNS, REGION, AwsCalls

    import devstack
    from authx import aws
    from authx.handler import lambda_handler
    from devstack.alb import ALB_ARN, KeyServer, SigningKey, alb_event, mint
    from devstack.landscape import create_tables

    server = KeyServer()
    key = SigningKey()
    server.publish(key)
    os.environ.update(
        {
            "GRANTS_TABLE": GRANTS_TABLE,
            "ENVIRONMENTS_TABLE": ENVIRONMENTS_TABLE,
            "ALB_ARNS": ALB_ARN,
            "ALB_PUBLIC_KEY_URL": server.url,
            "RBAC_ROLE_ARNS": json.dumps(RBAC_ROLE_ARNS),
        }
    )
    groups = [f"team-{i:02d}" for i in range(GROUPS)]
    token = mint(
        key, {"groups": groups}, header_exp=time.time() + 3600, payload_exp=time.time() + 3600
    )
    event = alb_event(path="/", headers={"host": "gate.example.com", "x-amzn-oidc-data": token})
    results = []
    try:
        with devstack.aws(), contextlib.redirect_stdout(io.StringIO()) as quiet:
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_tables(dynamodb, ENVIRONMENTS_TABLE, GRANTS_TABLE)
            for i in range(ENVIRONMENTS):
                name = f"env-{i:03d}"
                dynamodb.put_item(
                    TableName=ENVIRONMENTS_TABLE,
                    Item={
                        "name": {"S": name},
                        "status": {"S": "READY"},
                        "login_host": {"S": f"{name}.gate.example.com"},
                        "version": {"N": "1"},
                    },
                )
                dynamodb.put_item(
                    TableName=GRANTS_TABLE,
                    Item={
                        "principal": {"S": f"group#{groups[i % GROUPS]}"},
                        "environment": {"S": name},
                        "rbac_role": {"S": "Op"},
                    },
                )
            recorder = AwsCalls()
            aws.session().register("before-parameter-build", recorder)
            for shape in ("named", "star"):
                if shape == "star":
                    dynamodb.put_item(
                        TableName=GRANTS_TABLE,
                        Item={
                            "principal": {"S": f"group#{groups[0]}"},
                            "environment": {"S": "*"},
                            "rbac_role": {"S": "Viewer"},
                        },
                    )
                first = lambda_handler(event, None)  # cold clients and key
                assert first["statusCode"] == 200, first["body"]
                assert first["body"].count("<li>") == ENVIRONMENTS
                recorder.calls.clear()
                latencies = []
                for _ in range(renders):
                    started = time.perf_counter()
                    response = lambda_handler(event, None)
                    latencies.append((time.perf_counter() - started) * 1000)
                    assert response["statusCode"] == 200
                calls = Counter(f"{s}:{op}" for s, op, _ in recorder.calls)
                results.append((shape, calls, latencies, len(first["body"])))
        del quiet
    finally:
        server.stop()

    bound = (1 + GROUPS) + math.ceil(ENVIRONMENTS / 100)
    print(f"authX portal benchmark on devstack: {GROUPS} groups, {ENVIRONMENTS} environments")
    print(
        f"  bound without `*`: (1 + {GROUPS}) Query + ⌈{ENVIRONMENTS}/100⌉ BatchGetItem = {bound}"
    )
    for shape, calls, latencies, size in results:
        cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        per_page = {name: count / renders for name, count in sorted(calls.items())}
        total = sum(per_page.values())
        print(f"  grants {shape}:")
        print(
            "    AWS calls per page:  "
            + ", ".join(f"{name} {count:g}" for name, count in per_page.items())
            + f" (total {total:g})"
        )
        print(f"    page size:           {size / 1024:8.1f} KiB")
        print(f"    warm page p50:       {cuts[49]:8.1f} ms   ({renders} renders)")
        print(f"    warm page p95:       {cuts[94]:8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
