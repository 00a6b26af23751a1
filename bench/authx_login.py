"""authX login benchmark on devstack: prints figures, never fails on time.

- warm login latency p50/p95 over N logins (default 500) through `lambda_handler`;
- AWS calls per login, by service (target: DynamoDB 1, STS 1, MWAA 1);
- ALB key fetches per login once warm (target: 0);
- cold `import authx.handler`: median of 5 fresh interpreters (target: < 250 ms).

Run: `.venv/bin/python bench/authx_login.py [N]` from the project root.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "authx")]

# Embedded AWS only: fake credentials, no endpoint override (as tests/conftest.py does).
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "DEVSTACK_MWAA_CREATE_SECONDS": "0",
        "POWERTOOLS_METRICS_NAMESPACE": "mwaa-gate-bench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",  # the audit lines would drown the figures
    }
)


def cold_import_ms(runs: int = 5) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import authx.handler; "
        "print((time.perf_counter() - t) * 1000)"
    )
    return [
        float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True))  # noqa: S603 - our own interpreter and code
        for _ in range(runs)
    ]


def main(logins: int) -> None:
    import contextlib
    import io

    import boto3
    from authx_support import (
        ENV,
        ENVIRONMENTS_TABLE,
        GRANTS_TABLE,
        RBAC_ROLE_ARNS,
        REGION,
        AwsCalls,
        World,
        create_mwaa_environment,
        login,
        web_token,
    )

    import devstack
    from authx import aws, keys
    from devstack.alb import ALB_ARN, KeyServer, SigningKey, mint
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
    try:
        with devstack.aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_tables(dynamodb, ENVIRONMENTS_TABLE, GRANTS_TABLE)
            host = create_mwaa_environment(ENV)
            world = World(dynamodb=dynamodb, mwaa=None, login_host=host)
            world.environment(ENV, login_host=host)
            world.grant("group#data-eng", "*", "Op")
            recorder = AwsCalls()
            aws.session().register("before-parameter-build", recorder)
            token = mint(key, {"groups": ["data-eng", "analysts"]})
            quiet = io.StringIO()  # the metrics' EMF lines go to stdout

            with contextlib.redirect_stdout(quiet):
                started = time.perf_counter()
                web_token(login(token), host)  # cold: clients built, key fetched
                first_ms = (time.perf_counter() - started) * 1000
                recorder.calls.clear()
                fetches_before = keys.fetch_count()
                latencies = []
                for _ in range(logins):
                    started = time.perf_counter()
                    response = login(token)
                    latencies.append((time.perf_counter() - started) * 1000)
                    web_token(response, host)
            fetches = keys.fetch_count() - fetches_before
    finally:
        server.stop()

    calls = Counter(recorder.services())
    cuts = statistics.quantiles(latencies, n=100)
    imports = cold_import_ms()
    print(f"authX login benchmark on devstack ({logins} warm logins)")
    print(f"  first login (cold clients, key fetch): {first_ms:8.1f} ms")
    print(f"  warm login p50:                        {cuts[49]:8.1f} ms")
    print(f"  warm login p95:                        {cuts[94]:8.1f} ms")
    print(
        "  AWS calls per login:                   "
        + ", ".join(f"{service} {count / logins:.2f}" for service, count in sorted(calls.items()))
        + f" (total {sum(calls.values()) / logins:.2f})"
    )
    print(f"  key fetches per warm login:            {fetches / logins:8.2f}")
    print(f"  key server requests in total:          {len(server.fetches):8d}")
    print(
        f"  cold import authx.handler (median of 5): {statistics.median(imports):7.1f} ms"
        f"  (runs: {', '.join(f'{ms:.0f}' for ms in imports)})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
