"""authX sign-in benchmark on devstack: prints figures, never fails on time.

- warm sign-in latency p50/p95 over N sign-ins (default 500) through `lambda_handler`, two users
  taking turns (each sign-in assumes that user's role and signs MWAA with it);
- authX's own work per warm sign-in: the total minus the time spent inside the AWS calls,
  measured around botocore's send (from `before-send` to `before-parse`, which brackets the
  HTTP exchange, here devstack's in-process answer) (target: <= 1 ms);
- botocore clients built per warm sign-in (target: 0) and AWS calls per sign-in, by service
  (target: DynamoDB 1, STS 1, MWAA 1); ALB key fetches per warm sign-in (target: 0);
- cold `import authx.handler`: median of 5 fresh interpreters (target: < 120 ms).

The audit line is written at INFO, as in production (to /dev/null here), so its cost counts.
Run: `.venv/bin/python bench/authx_login.py [N]` from the project root; `--profile` also
prints the top of a cProfile of the warm sign-ins.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import offline

offline.use(DEVSTACK_MWAA_CREATE_SECONDS="0")
ROOT = offline.ROOT


class Stopwatch:
    """Time spent between two events or inside wrapped functions, summed: wall-clock time
    (`total`) and this thread's CPU time (`cpu`, which other processes on a shared machine do
    not inflate). A wrapped function called from inside another one is counted once."""

    def __init__(self) -> None:
        self.total = 0.0
        self.cpu = 0.0
        self._started: tuple[float, float] | None = None
        self._depth = 0

    def start(self, **kwargs: Any) -> None:
        self._started = (time.perf_counter(), time.thread_time())

    def stop(self, **kwargs: Any) -> None:
        if self._started is not None:
            self.total += time.perf_counter() - self._started[0]
            self.cpu += time.thread_time() - self._started[1]
            self._started = None

    def wrap(self, owner: Any, name: str) -> None:
        """Time every call of `owner.name` (a module's function or a class's method)."""
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            if self._depth == 1:
                self.start()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.stop()

        setattr(owner, name, timed)


class ClientCounter:
    """botocore clients built: one `creating-client-class` event per `create_client`."""

    def __init__(self) -> None:
        self.built = 0

    def __call__(self, **kwargs: Any) -> None:
        self.built += 1


def cold_import_ms(runs: int = 5) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import authx.handler; "
        "print((time.perf_counter() - t) * 1000)"
    )
    return [
        float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True))  # noqa: S603 - our own interpreter and code
        for _ in range(runs)
    ]


def botocore_stages(
    logins: int, sign_in: Any, in_botocore: Stopwatch, sent: Stopwatch
) -> dict[str, float]:
    """CPU per sign-in of each stage of botocore's pipeline outside the send, over `logins` more
    sign-ins: its public classes are timed only now, so the main figures carry no such cost."""
    import botocore.auth
    import botocore.parsers
    import botocore.regions
    import botocore.serialize

    signing, parsing, serialising = Stopwatch(), Stopwatch(), Stopwatch()
    signing.wrap(botocore.auth.SigV4Auth, "add_auth")
    parsing.wrap(botocore.parsers.ResponseParser, "parse")
    for serializer in (
        botocore.serialize.JSONSerializer,
        botocore.serialize.QuerySerializer,
        botocore.serialize.BaseRestSerializer,
    ):
        serialising.wrap(serializer, "serialize_to_request")
    serialising.wrap(botocore.regions.EndpointRulesetResolver, "construct_endpoint")
    before = (in_botocore.cpu, sent.cpu)
    for index in range(logins):
        sign_in(index)
    outside = (in_botocore.cpu - before[0]) - (sent.cpu - before[1])
    stages = {
        "SigV4 signing": signing.cpu,
        "serialising and endpoint rules": serialising.cpu,
        "response parsing": parsing.cpu,
    }
    stages["the rest (events, request objects, retry checks)"] = outside - sum(stages.values())
    return {stage: cpu * 1000 / logins for stage, cpu in stages.items()}


def main(logins: int, profile: bool) -> None:
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
        create_token_roles,
        login,
        web_token,
    )

    import devstack
    from authx import audit, aws, keys
    from authx import handler as handler_module
    from authx import login as login_module
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
    audit.logger.setLevel("INFO")
    devnull = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    for handler in audit.logger.handlers:
        handler.setStream(devnull)
    try:
        with devstack.aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            create_tables(dynamodb, ENVIRONMENTS_TABLE, GRANTS_TABLE)
            create_token_roles(boto3.client("iam", region_name=REGION))
            host = create_mwaa_environment(ENV)
            world = World(dynamodb=dynamodb, mwaa=None, login_host=host)
            world.environment(ENV, login_host=host)
            world.grant("group#data-eng", "*", "Op")
            world.grant("user#bob@example.com", ENV, "Viewer")

            aws.reset()
            recorder = AwsCalls()
            timer = Stopwatch()  # inside botocore's send: the AWS side (devstack here)
            clients = ClientCounter()
            botocore_session = aws.session()
            botocore_session.register("before-parameter-build", recorder)
            events = botocore_session.get_component("event_emitter")
            events.register_first("before-send", timer.start)
            events.register_first("before-parse", timer.stop)
            in_botocore = Stopwatch()  # from the first event of a call to its last
            events.register_first("provide-client-params", in_botocore.start)
            events.register_last("after-call", in_botocore.stop)
            verifying, auditing = Stopwatch(), Stopwatch()
            verifying.wrap(login_module.token, "verify")
            auditing.wrap(handler_module.audit, "emit")
            botocore_session.register("creating-client-class", clients)
            tokens = [
                mint(
                    key,
                    {"groups": ["data-eng", "analysts"]},
                    header_exp=time.time() + 3600,
                    payload_exp=time.time() + 3600,
                ),
                mint(
                    key,
                    {"email": "Bob@Example.com"},
                    header_exp=time.time() + 3600,
                    payload_exp=time.time() + 3600,
                ),
            ]
            quiet = io.StringIO()  # the metrics' EMF lines go to stdout

            with contextlib.redirect_stdout(quiet):
                started = time.perf_counter()
                for token in tokens:  # cold: clients built, key fetched
                    web_token(login(token), host)
                first_ms = (time.perf_counter() - started) * 1000 / len(tokens)
                recorder.calls.clear()
                fetches_before = keys.fetch_count()
                clients_before = clients.built
                stages = (in_botocore, timer, verifying, auditing)
                marks = tuple(stage.cpu for stage in stages)
                profiler = None
                if profile:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                latencies: list[float] = []
                own: list[float] = []
                own_cpu: list[float] = []
                for index in range(logins):
                    sent_before, sent_cpu_before = timer.total, timer.cpu
                    started, started_cpu = time.perf_counter(), time.thread_time()
                    response = login(tokens[index % 2])
                    elapsed = time.perf_counter() - started
                    elapsed_cpu = time.thread_time() - started_cpu
                    latencies.append(elapsed * 1000)
                    own.append((elapsed - (timer.total - sent_before)) * 1000)
                    own_cpu.append((elapsed_cpu - (timer.cpu - sent_cpu_before)) * 1000)
                    web_token(response, host)
                if profiler is not None:
                    profiler.disable()
            fetches = keys.fetch_count() - fetches_before
            botocore_ms, send_ms, verify_ms, audit_ms = (
                (stage.cpu - before) * 1000 / logins
                for before, stage in zip(marks, stages, strict=True)
            )
            with contextlib.redirect_stdout(quiet):
                by_stage = botocore_stages(
                    logins, lambda index: login(tokens[index % 2]), in_botocore, timer
                )
            built = clients.built - clients_before
    finally:
        server.stop()
        devnull.close()

    calls = Counter(recorder.services())
    own_cpu_cuts = statistics.quantiles(own_cpu, n=100)
    cuts = statistics.quantiles(latencies, n=100)
    own_cuts = statistics.quantiles(own, n=100)
    imports = cold_import_ms()
    print(f"authX sign-in benchmark on devstack ({logins} warm sign-ins, 2 users taking turns)")
    print(f"  first sign-in (cold clients, key fetch): {first_ms:8.2f} ms")
    print(f"  warm sign-in p50:                        {cuts[49]:8.2f} ms")
    print(f"  warm sign-in p95:                        {cuts[94]:8.2f} ms")
    print(
        "  authX own work per warm sign-in (total minus time in botocore's send; target <= 1 ms):"
    )
    print(
        f"    CPU time of this thread:   {statistics.mean(own_cpu):6.3f} ms mean, "
        f"{own_cpu_cuts[49]:.3f} p50, {own_cpu_cuts[94]:.3f} p95"
    )
    print(
        f"    wall-clock time:           {statistics.mean(own):6.3f} ms mean, "
        f"{own_cuts[49]:.3f} p50, {own_cuts[94]:.3f} p95 (inflated by other load on the machine)"
    )
    print(
        "    of which (CPU, mean):      "
        f"botocore outside send {botocore_ms - send_ms:.3f} ms (3 calls), token verification "
        f"{verify_ms:.3f} ms, audit line and metric {audit_ms:.3f} ms, the rest "
        f"{statistics.mean(own_cpu) - (botocore_ms - send_ms) - verify_ms - audit_ms:.3f} ms"
    )
    print(
        "    botocore outside send, by stage (a second pass, timed stage by stage): "
        + ", ".join(f"{stage} {ms:.3f} ms" for stage, ms in by_stage.items())
    )
    print(f"  botocore clients built per warm sign-in: {built / logins:8.2f} (target 0)")
    print(
        "  AWS calls per sign-in:                   "
        + ", ".join(f"{service} {count / logins:.2f}" for service, count in sorted(calls.items()))
        + f" (total {sum(calls.values()) / logins:.2f})"
    )
    print(f"  key fetches per warm sign-in:            {fetches / logins:8.2f}")
    print(f"  key server requests in total:            {len(server.fetches):8d}")
    print(
        f"  cold import authx.handler (median of 5): {statistics.median(imports):8.1f} ms"
        f"  (runs: {', '.join(f'{ms:.0f}' for ms in imports)}; target < 120 ms)"
    )
    if profiler is not None:
        import pstats

        print()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            os.environ.get("BENCH_FILTER", ""), 45
        )


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--profile"]
    main(int(arguments[0]) if arguments else 500, "--profile" in sys.argv[1:])
