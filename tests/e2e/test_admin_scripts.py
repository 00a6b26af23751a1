"""The admin scripts (scripts/admin/) against `chalice local` on devstack, as an operator runs them.

Each script: its answer on stdout as pretty JSON and exit 0; the API's `Code: Message` on
stderr and exit 1 when the API refuses; exit 2 for bad usage (before any request); exit 3 when
the API cannot be reached. Signed requests are checked against botocore's SigV4 on a local
server that records what it receives.
"""

from __future__ import annotations

import http.server
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack import landscape
from devstack.process import free_port

from .conftest import LOCAL_STAGE, PROJECT_DIR, LocalApi

SCRIPTS = PROJECT_DIR / "scripts" / "admin"
ALL_SCRIPTS = (
    "onboard-environment",
    "get-environment",
    "list-environments",
    "offboard-environment",
    "grant",
    "revoke",
    "list-grants",
    "access",
    "reconcile",
)
CREATE = {
    "ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-exec",
    "SourceBucketArn": "arn:aws:s3:::my-dags",
    "DagS3Path": "dags",
    "NetworkConfiguration": {
        "SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
        "SecurityGroupIds": ["sg-0123abcd"],
    },
    "WebserverAccessMode": "PRIVATE_ONLY",
}


def run(
    script: str,
    *args: str,
    url: str | None = None,
    extra_env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MWAA_GATE_"))}
    if url is not None:
        env["MWAA_GATE_URL"] = url
    env.update(extra_env or {})
    return subprocess.run(  # noqa: S603 - the project's own scripts
        [str(SCRIPTS / script), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def refused(result: subprocess.CompletedProcess[str], status: int, code: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert f"HTTP {status} {code}: " in result.stderr
    return result.stderr


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def set_status(api: LocalApi, name: str, status: str) -> None:
    api.client("dynamodb").update_item(
        TableName=LOCAL_STAGE["ENVIRONMENTS_TABLE"],
        Key={"name": {"S": name}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def onboarded(api: LocalApi, prefix: str = "Env") -> str:
    name = unique(prefix)
    ok(run("onboard-environment", name, "--attach", url=api.url))
    return name


# --- usage, without any API ------------------------------------------------------------------


@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_help_prints_usage_and_exits_0(script: str) -> None:
    for flag in ("--help", "-h"):
        result = run(script, flag, url="http://127.0.0.1:9")
        assert result.returncode == 0
        assert result.stdout.startswith(f"Usage: {script}")
        assert "MWAA_GATE_URL" in result.stdout
        assert result.stderr == ""


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("onboard-environment", [], "the environment NAME is required"),
        ("onboard-environment", ["Env1"], "give --attach or --create PARAMS.json"),
        ("onboard-environment", ["Env1", "--create"], "--create needs a value"),
        ("onboard-environment", ["Env1", "--create", "/no/such.json"], "cannot read"),
        ("onboard-environment", ["Env1", "Env2", "--attach"], "one environment name only"),
        ("get-environment", [], "give exactly one environment NAME"),
        ("get-environment", ["--all"], "unknown option --all"),
        ("list-environments", ["--bogus"], "unexpected argument --bogus"),
        ("list-environments", ["--status"], "--status needs a value"),
        ("offboard-environment", [], "the environment NAME is required"),
        ("offboard-environment", ["Env1", "--force"], "unknown option --force"),
        (
            "grant",
            ["--user", "a@b.io", "--group", "g", "--environment", "E", "--role", "Op"],
            "not both",
        ),
        ("grant", ["--environment", "E", "--role", "Op"], "give --user EMAIL or --group GROUP"),
        ("grant", ["--user", "a@b.io", "--role", "Op"], "--environment is required"),
        ("grant", ["--user", "a@b.io", "--environment", "E"], "--role is required"),
        ("revoke", [], "give exactly one GRANT_ID"),
        ("list-grants", ["--limit"], "--limit needs a value"),
        ("access", [], "the user EMAIL is required"),
        ("access", ["a@b.io", "c@d.io"], "one EMAIL only"),
        ("reconcile", [], "the environment NAME is required"),
        ("reconcile", ["Env1", "--now"], "unknown option --now"),
        ("revoke", ["a", "b"], "give exactly one GRANT_ID"),
        ("get-environment", ["a", "b"], "give exactly one environment NAME"),
        ("onboard-environment", ["Env1", "--attach", "--wait", "--bogus"], "unknown option"),
    ],
)
def test_bad_usage_exits_2_before_any_request(script: str, args: list[str], message: str) -> None:
    # Port 9 has no server: a request would exit 3, not 2.
    result = run(script, *args, url="http://127.0.0.1:9")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert f"Try '{script} --help'." in result.stderr
    assert result.stdout == ""


def test_an_unreachable_api_exits_3() -> None:
    result = run("get-environment", "Env1", url=f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 3
    assert "could not reach" in result.stderr


# --- each script against chalice local on devstack -------------------------------------------


def test_onboard_environment_attach_reaches_devstack_and_is_idempotent(local_api: LocalApi) -> None:
    name = unique("Attach")

    first = ok(run("onboard-environment", name, "--attach", url=local_api.url))
    again = ok(run("onboard-environment", name, "--attach", url=local_api.url))

    assert first["name"] == name
    assert first["status"] == "PENDING"
    assert first["mode"] == "attach"
    assert ":stateMachine:" not in first["execution_arn"]
    assert first["execution_arn"].startswith(
        LOCAL_STAGE["ONBOARD_STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:")
    )
    assert again["execution_arn"] == first["execution_arn"]
    # chalice local wrote to devstack's DynamoDB and started devstack's state machine.
    stored = local_api.client("dynamodb").get_item(
        TableName=LOCAL_STAGE["ENVIRONMENTS_TABLE"], Key={"name": {"S": name}}
    )["Item"]
    assert stored["status"] == {"S": "PENDING"}
    execution = local_api.client("stepfunctions").describe_execution(
        executionArn=first["execution_arn"]
    )
    assert execution["status"] in ("RUNNING", "SUCCEEDED")

    conflict = run(
        "onboard-environment", name, "--attach", "--hostname", "x.example.com", url=local_api.url
    )
    assert name in refused(conflict, 409, "ConflictError")


def test_onboard_environment_create_from_a_file_or_standard_input(
    local_api: LocalApi, tmp_path: Path
) -> None:
    params = tmp_path / "create.json"
    params.write_text(json.dumps(CREATE, indent=2))
    from_file, from_stdin = unique("Made"), unique("Piped")

    made = ok(
        run(
            "onboard-environment",
            from_file,
            "--create",
            str(params),
            "--hostname",
            f"{from_file.lower()}.Airflow.Example.com",
            url=local_api.url,
        )
    )
    piped = ok(
        run(
            "onboard-environment",
            from_stdin,
            "--create",
            "-",
            url=local_api.url,
            stdin=json.dumps(CREATE),
        )
    )

    assert made["mode"] == "create"
    assert made["create"] == CREATE
    assert made["access_mode"] == "PRIVATE_ONLY"
    assert made["hostname"] == f"{from_file.lower()}.airflow.example.com"
    assert piped["create"] == CREATE

    params.write_text('{"ExecutionRoleArn": ')
    broken = run("onboard-environment", unique("Bad"), "--create", str(params), url=local_api.url)
    assert "malformed JSON" in refused(broken, 400, "BadRequestError")


def test_get_environment(local_api: LocalApi) -> None:
    name = onboarded(local_api)

    shown = ok(run("get-environment", name, url=local_api.url))

    assert shown["name"] == name
    assert shown["status"] == "PENDING"
    assert shown["execution"]["arn"] == shown["execution_arn"]
    missing = run("get-environment", "Nowhere", url=local_api.url)
    assert "no environment named Nowhere" in refused(missing, 404, "NotFoundError")


def test_list_environments_filters_and_pages(local_api: LocalApi) -> None:
    names = {onboarded(local_api, "Listed") for _ in range(3)}
    set_status(local_api, sorted(names)[0], "READY")

    pending = ok(
        run("list-environments", "--status", "PENDING", "--limit", "100", url=local_api.url)
    )
    ready = ok(run("list-environments", "--status", "READY", url=local_api.url))
    first = ok(run("list-environments", "--limit", "1", url=local_api.url))
    second = ok(
        run(
            "list-environments",
            "--limit",
            "1",
            "--next-token",
            first["next_token"],
            url=local_api.url,
        )
    )

    assert names - {sorted(names)[0]} <= {item["name"] for item in pending["items"]}
    assert sorted(names)[0] in {item["name"] for item in ready["items"]}
    assert all(item["status"] == "READY" for item in ready["items"])
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["name"] != second["items"][0]["name"]
    bad = run("list-environments", "--status", "SLEEPING", url=local_api.url)
    assert "status: must be one of" in refused(bad, 400, "BadRequestError")


def test_offboard_environment(local_api: LocalApi) -> None:
    name = onboarded(local_api)

    early = run("offboard-environment", name, url=local_api.url)
    assert "offboard it once it is READY or FAILED" in refused(
        early, 422, "UnprocessableEntityError"
    )

    set_status(local_api, name, "READY")
    not_ours = run("offboard-environment", name, "--delete-environment", url=local_api.url)
    assert "was attached" in refused(not_ours, 422, "UnprocessableEntityError")

    offboarding = ok(run("offboard-environment", name, url=local_api.url))
    assert offboarding["status"] == "OFFBOARDING"
    assert offboarding["execution_arn"].startswith(
        LOCAL_STAGE["OFFBOARD_STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:")
    )
    assert offboarding["delete_environment"] is False


def test_grant_to_a_user_and_to_a_group(local_api: LocalApi) -> None:
    name = onboarded(local_api)
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)

    to_user = ok(
        run(
            "grant",
            "--user",
            "Jane.Doe@Example.COM",
            "--environment",
            name,
            "--role",
            "viewer",
            "--expires-at",
            expires.isoformat().replace("+00:00", "Z"),
            url=local_api.url,
        )
    )
    to_group = ok(
        run("grant", "--group", "data ops", "--environment", "*", "--role", "Op", url=local_api.url)
    )

    assert to_user["user"] == "jane.doe@example.com"
    assert to_user["environment"] == name
    assert to_user["rbac_role"] == "Viewer"
    assert to_user["expires_at"] == expires.isoformat().replace("+00:00", "Z")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", to_user["id"])
    assert to_group["group"] == "data ops"
    assert to_group["environment"] == "*"
    unknown = run(
        "grant", "--user", "a@b.io", "--environment", "Nowhere", "--role", "Op", url=local_api.url
    )
    assert "no environment named Nowhere" in refused(unknown, 404, "NotFoundError")
    bad_role = run(
        "grant", "--user", "a@b.io", "--environment", name, "--role", "Root", url=local_api.url
    )
    assert "rbac_role: must be one of" in refused(bad_role, 400, "BadRequestError")


def test_list_grants_filters_exactly(local_api: LocalApi) -> None:
    name = onboarded(local_api)
    user = f"{unique('u').lower()}@example.com"
    mine = ok(
        run("grant", "--user", user, "--environment", name, "--role", "User", url=local_api.url)
    )
    ok(run("grant", "--user", user, "--environment", "*", "--role", "Viewer", url=local_api.url))

    on_env = ok(run("list-grants", "--environment", name, url=local_api.url))
    of_user = ok(run("list-grants", "--user", user.upper(), url=local_api.url))

    assert [grant["id"] for grant in on_env["items"]] == [mine["id"]]
    assert {grant["environment"] for grant in of_user["items"]} == {name, "*"}
    bad = run("list-grants", "--user", "not-an-email", url=local_api.url)
    assert "user: must be an email address" in refused(bad, 400, "BadRequestError")


def test_revoke(local_api: LocalApi) -> None:
    name = onboarded(local_api)
    grant = ok(
        run("grant", "--group", "g1", "--environment", name, "--role", "Op", url=local_api.url)
    )

    revoked = run("revoke", grant["id"], url=local_api.url)

    assert revoked.returncode == 0
    assert revoked.stdout == ""
    assert f"revoked {grant['id']}" in revoked.stderr
    assert ok(run("list-grants", "--environment", name, url=local_api.url))["items"] == []
    again = run("revoke", grant["id"], url=local_api.url)
    assert "no grant with id" in refused(again, 404, "NotFoundError")


def test_access_combines_user_and_group_grants(local_api: LocalApi) -> None:
    name = onboarded(local_api)
    set_status(local_api, name, "READY")
    user = f"{unique('a').lower()}@example.com"
    group = unique("grp")
    ok(run("grant", "--user", user, "--environment", name, "--role", "Viewer", url=local_api.url))
    ok(run("grant", "--group", group, "--environment", name, "--role", "Op", url=local_api.url))

    alone = ok(run("access", user, url=local_api.url))
    with_group = ok(run("access", user, "--groups", f"{group},other", url=local_api.url))

    assert alone["user"] == user
    assert [(e["environment"], e["rbac_role"]) for e in alone["environments"]] == [(name, "Viewer")]
    assert with_group["groups"] == [group, "other"]
    entry = with_group["environments"][0]
    assert (entry["environment"], entry["rbac_role"], entry["status"]) == (name, "Op", "READY")
    bad = run("access", "nobody", url=local_api.url)
    assert "email: must be an email address" in refused(bad, 400, "BadRequestError")


def test_without_jq_python_pretty_prints(local_api: LocalApi, tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    # python3 itself, not a version manager's shim that needs more tools on the PATH
    (tools / "python3").symlink_to(os.path.realpath(sys.executable))
    for tool in ("bash", "curl", "basename", "dirname", "mktemp", "rm", "cat", "head"):
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(os.path.realpath(found))
    name = onboarded(local_api)
    plain = {"PATH": str(tools)}

    shown = run("get-environment", name, url=local_api.url, extra_env=plain)
    missing = run("get-environment", "Nowhere", url=local_api.url, extra_env=plain)

    assert ok(shown)["name"] == name
    assert '\n    "name": ' in shown.stdout  # python's json.tool indents by 4 (jq by 2)
    assert "no environment named Nowhere" in refused(missing, 404, "NotFoundError")


# --- signed requests (AWS) -------------------------------------------------------------------

SIGNING_ENV = {
    "MWAA_GATE_AUTH": "sigv4",
    "MWAA_GATE_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE/token+with=padding==",
}
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"execute-api/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<sig>[0-9a-f]{64})"
)


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request 200 `{"items": []}` and records it."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length),
            }
        )
        answer = b'{"items": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_DELETE = _record

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api", Recorder.seen
    server.shutdown()
    server.server_close()


def assert_signed_as_aws_expects(
    request: dict[str, Any], keys: dict[str, str] = SIGNING_ENV
) -> None:
    """Recompute the signature the way API Gateway does (botocore's SigV4) and compare."""
    headers = request["headers"]
    match = AUTHORIZATION.fullmatch(headers["authorization"])
    assert match, headers["authorization"]
    assert match["key"] == keys["AWS_ACCESS_KEY_ID"]
    assert match["region"] == "eu-west-1"
    signed = match["signed"].split(";")
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
    assert headers["x-amz-security-token"] == keys["AWS_SESSION_TOKEN"]
    aws_request = AWSRequest(
        method=request["method"],
        url=f"http://{headers['host']}{request['path']}",
        data=request["body"],
        headers={name: headers[name] for name in signed},
    )
    aws_request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(
        Credentials(
            keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"], keys["AWS_SESSION_TOKEN"]
        ),
        "execute-api",
        "eu-west-1",
    )
    canonical = signer.canonical_request(aws_request)
    expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    assert match["sig"] == expected, canonical


@pytest.mark.parametrize(
    ("script", "args", "method", "path"),
    [
        (
            "list-grants",
            ["--user", "jane@example.com", "--environment", "*", "--group", "data ops,x"],
            "GET",
            "/api/grants?environment=%2A&group=data%20ops%2Cx&user=jane%40example.com",
        ),
        (
            "grant",
            ["--group", "g", "--environment", "Env1", "--role", "Admin"],
            "POST",
            "/api/grants",
        ),
        (
            "offboard-environment",
            ["Env1", "--delete-environment"],
            "DELETE",
            "/api/environments/Env1?delete_environment=true",
        ),
        (
            "access",
            ["jane@example.com", "--groups", "b,a"],
            "GET",
            "/api/access/jane@example.com?groups=b%2Ca",
        ),
    ],
)
def test_signed_requests_verify_as_api_gateway_computes_them(
    recorder: tuple[str, list[dict[str, Any]]],
    script: str,
    args: list[str],
    method: str,
    path: str,
) -> None:
    url, seen = recorder

    result = run(script, *args, url=url, extra_env=SIGNING_ENV)

    assert result.returncode == 0, result.stderr
    assert [(r["method"], r["path"]) for r in seen] == [(method, path)]
    assert_signed_as_aws_expects(seen[0])
    if method == "POST":
        assert json.loads(seen[0]["body"]) == {
            "group": "g",
            "environment": "Env1",
            "rbac_role": "Admin",
        }
    # The secret key itself never travels.
    assert SIGNING_ENV["AWS_SECRET_ACCESS_KEY"] not in json.dumps(seen[0]["headers"])


VALID_ARGS = {
    "onboard-environment": ["Env1", "--attach"],
    "get-environment": ["Env1"],
    "list-environments": [],
    "offboard-environment": ["Env1"],
    "grant": ["--user", "a@b.io", "--environment", "Env1", "--role", "Op"],
    "revoke": ["some-grant-id"],
    "list-grants": [],
    "access": ["a@b.io"],
    "reconcile": ["Env1"],
}
NO_AWS_FILES = {
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
KEYS = {k: SIGNING_ENV[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
CONFIGURATION_ERRORS = {
    # issue 9 item 15: the check ran in a subshell, so this one printed an error, then sent
    # the request unsigned and exited 0
    "unknown auth mode": ({"MWAA_GATE_AUTH": "SIGV4"}, "MWAA_GATE_AUTH must be sigv4 or none"),
    "auth mode with CR/LF": (
        {"MWAA_GATE_AUTH": "sigv4\r\nX-Evil: 1"},
        "MWAA_GATE_AUTH must be sigv4 or none (got 'sigv4??X-Evil: 1')",
    ),
    "no credentials anywhere": (
        {"MWAA_GATE_AUTH": "sigv4", "MWAA_GATE_REGION": "eu-west-1"},
        "AWS credentials are needed to sign requests",
    ),
    "unknown profile": (
        {"MWAA_GATE_AUTH": "sigv4", "MWAA_GATE_REGION": "eu-west-1", "AWS_PROFILE": "nope"},
        "The config profile (nope) could not be found",
    ),
    "half the key pair": (
        {"MWAA_GATE_AUTH": "sigv4", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"},
        "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    ),
    "no region": ({"MWAA_GATE_AUTH": "sigv4", **KEYS}, "set MWAA_GATE_REGION"),
    "a line break in the token": (
        {
            "MWAA_GATE_AUTH": "sigv4",
            "MWAA_GATE_REGION": "eu-west-1",
            **KEYS,
            "AWS_SESSION_TOKEN": 'tok"\nurl = "http://attacker.example/',
        },
        "the AWS credentials hold a control character",
    ),
    "not a region": (
        {"MWAA_GATE_AUTH": "sigv4", "MWAA_GATE_REGION": "eu-west-1/../x", **KEYS},
        "'eu-west-1/../x' is not an AWS region",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIGURATION_ERRORS))
@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_configuration_errors_stop_every_script_before_any_request(
    recorder: tuple[str, list[dict[str, Any]]], script: str, case: str
) -> None:
    url, seen = recorder
    settings, message = CONFIGURATION_ERRORS[case]

    result = run(script, *VALID_ARGS[script], url=url, extra_env={**NO_AWS_FILES, **settings})

    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert message in result.stderr
    assert result.stderr.startswith(f"{script}: ")
    assert seen == []


@pytest.mark.parametrize(
    "url", ["ftp://api.example.com", "http://", "http://a b", "http://x/api?x=1", "https://u:p@x"]
)
@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_a_malformed_api_url_stops_every_script(script: str, url: str) -> None:
    result = run(script, *VALID_ARGS[script], url=url, extra_env={"MWAA_GATE_AUTH": "none"})

    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert "MWAA_GATE_URL must be http(s)://host[:port][/path]" in result.stderr


PROFILE_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIDPROFILE",
    "AWS_SECRET_ACCESS_KEY": "profile/secret+key",
    "AWS_SESSION_TOKEN": "profile-session-token==",
}


def write_profile(folder: Path) -> dict[str, str]:
    """A named profile in its own config and credentials files, as `aws configure` writes."""
    config, credentials = folder / "config", folder / "credentials"
    config.write_text("[profile ops]\nregion = eu-west-1\n")
    credentials.write_text(
        "[ops]\n"
        f"aws_access_key_id = {PROFILE_KEYS['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {PROFILE_KEYS['AWS_SECRET_ACCESS_KEY']}\n"
        f"aws_session_token = {PROFILE_KEYS['AWS_SESSION_TOKEN']}\n"
    )
    return {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_PROFILE": "ops",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MWAA_GATE_AUTH": "sigv4",
        # python3 with botocore first (the venv's); region from the profile, not the env
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


@pytest.mark.parametrize(
    ("script", "args", "path"),
    [
        ("get-environment", ["Env1"], "/api/environments/Env1"),
        ("access", ["jane@example.com"], "/api/access/jane@example.com"),  # python signer
    ],
)
def test_a_profile_signs_as_botocore_does(
    recorder: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
    script: str,
    args: list[str],
    path: str,
) -> None:
    url, seen = recorder

    result = run(script, *args, url=url, extra_env=write_profile(tmp_path))

    assert result.returncode == 0, result.stderr
    assert [r["path"] for r in seen] == [path]
    assert_signed_as_aws_expects(seen[0], PROFILE_KEYS)


def test_without_botocore_the_aws_cli_provides_the_credentials(
    recorder: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, seen = recorder
    tools = tmp_path / "bin"
    tools.mkdir()
    # python3 without site-packages (no botocore) and an AWS CLI v2 that exports credentials
    (tools / "python3").write_text(f'#!/bin/sh\nexec {sys.executable} -S -I "$@"\n')
    exported = json.dumps(
        {
            "Version": 1,
            "AccessKeyId": PROFILE_KEYS["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": PROFILE_KEYS["AWS_SECRET_ACCESS_KEY"],
            "SessionToken": PROFILE_KEYS["AWS_SESSION_TOKEN"],
        }
    )
    (tools / "aws").write_text(
        "#!/bin/sh\n"
        'if [ "$2" = export-credentials ]; then echo \'' + exported + "'; exit 0; fi\n"
        'if [ "$2" = get ]; then echo eu-west-1; exit 0; fi\n'
        "exit 255\n"
    )
    for tool in ("python3", "aws"):
        (tools / tool).chmod(0o755)
    env = {**NO_AWS_FILES, "MWAA_GATE_AUTH": "sigv4", "PATH": f"{tools}:{os.environ['PATH']}"}

    result = run("get-environment", "Env1", url=url, extra_env=env)

    assert result.returncode == 0, result.stderr
    assert_signed_as_aws_expects(seen[0], PROFILE_KEYS)


# --- following workflows, tables and JSON (the real workflows on devstack) ---------------------

WAIT = {"MWAA_GATE_WAIT_SECONDS": "0.3", "MWAA_GATE_WAIT_TIMEOUT": "120"}


NETWORKS: dict[str, dict[str, Any]] = {}


def mwaa_environment(api: LocalApi, name: str, access: str = "PUBLIC_ONLY") -> None:
    """An existing AVAILABLE environment in devstack's MWAA (made at once: 0 s creating)."""
    if api.aws_url not in NETWORKS:
        NETWORKS[api.aws_url] = landscape.environment_network(api.client, "10.7")
    network = NETWORKS[api.aws_url]
    api.client("mwaa").create_environment(
        Name=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/mwaa-exec",
        SourceBucketArn="arn:aws:s3:::dags",
        DagS3Path="dags",
        NetworkConfiguration={
            "SubnetIds": network["subnet_ids"],
            "SecurityGroupIds": [network["security_group_id"]],
        },
        WebserverAccessMode=access,
    )


def on_terminal(
    script: str, *args: str, url: str, extra_env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run a script with its output on a pseudo-terminal, as an operator sees it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MWAA_GATE_"))}
    env.update({"MWAA_GATE_URL": url, "TERM": "xterm", **(extra_env or {})})
    leader, follower = pty.openpty()
    process = subprocess.Popen(  # noqa: S603 - the project's own scripts
        [str(SCRIPTS / script), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the script closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_onboard_wait_follows_the_workflow_to_ready(workflow_api: LocalApi) -> None:
    name = unique("Pub")
    mwaa_environment(workflow_api, name)

    result = run("onboard-environment", name, "--attach", "--wait", url=workflow_api.url,
                 extra_env=WAIT)  # fmt: skip

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)  # piped: JSON
    assert record["status"] == "READY"
    assert record["login_url"]
    progress = result.stderr.splitlines()
    assert progress[-1].startswith("READY · ")
    assert any(" · step " in line for line in progress[:-1]), progress
    assert all(re.search(r" · \d+m\d\ds$", line) for line in progress), progress
    assert len(progress) == len(set(line.rsplit(" · ", 1)[0] for line in progress))


def test_onboard_wait_prints_the_failing_step_and_its_cause(workflow_api: LocalApi) -> None:
    name = unique("Nowhere")  # no such MWAA environment: validation fails

    result = run("onboard-environment", name, "--attach", "--wait", url=workflow_api.url,
                 extra_env=WAIT)  # fmt: skip

    assert result.returncode == 4, result.stderr
    assert json.loads(result.stdout)["status"] == "FAILED"
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"onboard-environment: onboard {name}: failed at step Validate: ")
    assert name in last  # the cause names the missing environment
    shown = ok(run("get-environment", name, url=workflow_api.url))
    assert shown["execution"]["failed_step"] == "Validate"
    assert shown["error"]["cause"]


def test_get_environment_on_a_terminal_is_a_table_with_the_error_and_the_failing_step(
    workflow_api: LocalApi,
) -> None:
    name = unique("Gone")
    failed = run("onboard-environment", name, "--attach", "--wait", url=workflow_api.url,
                 extra_env=WAIT)  # fmt: skip
    assert failed.returncode == 4

    status, screen = on_terminal("get-environment", name, url=workflow_api.url)
    as_json_status, as_json = on_terminal("get-environment", name, "--json", url=workflow_api.url)

    assert status == 0, screen
    lines = screen.splitlines()
    assert lines[0].split() == ["Name", name]
    assert re.search(r"^Status +FAILED\r?$", screen, flags=re.M), screen
    assert re.search(r"^Failed step +Validate\r?$", screen, flags=re.M), screen
    assert re.search(r"^Error +\S+: .+", screen, flags=re.M), screen
    assert as_json_status == 0
    uncoloured = re.sub(r"\x1b\[[0-9;]*m", "", as_json)  # jq colours on a terminal
    assert json.loads(uncoloured)["execution"]["failed_step"] == "Validate"


def test_wait_on_a_terminal_rewrites_one_progress_line(workflow_api: LocalApi) -> None:
    name = unique("Term")
    mwaa_environment(workflow_api, name)

    status, screen = on_terminal("onboard-environment", name, "--attach", "--wait",
                                 url=workflow_api.url, extra_env=WAIT)  # fmt: skip

    assert status == 0, screen
    assert "\r\x1b[K" in screen
    assert re.search(r"^Status +READY\r?$", screen, flags=re.M), screen  # the record, a table
    assert re.search(r"^Login URL +https://", screen, flags=re.M), screen


def test_offboard_wait_follows_to_offboarded(workflow_api: LocalApi) -> None:
    name = unique("Off")
    mwaa_environment(workflow_api, name)
    ok(run("onboard-environment", name, "--attach", "--wait", url=workflow_api.url,
           extra_env=WAIT))  # fmt: skip

    result = run("offboard-environment", name, "--wait", url=workflow_api.url, extra_env=WAIT)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "OFFBOARDED"
    assert result.stderr.splitlines()[-1].startswith("OFFBOARDED · ")


def test_lists_on_a_terminal_are_tables_and_json_when_asked(workflow_api: LocalApi) -> None:
    name = unique("Listed")
    mwaa_environment(workflow_api, name)
    ok(run("onboard-environment", name, "--attach", "--wait", url=workflow_api.url,
           extra_env=WAIT))  # fmt: skip
    ok(run("grant", "--user", "ann@example.com", "--environment", name, "--role", "Op",
           url=workflow_api.url))  # fmt: skip

    _, environments = on_terminal("list-environments", "--status", "READY", url=workflow_api.url)
    _, grants = on_terminal("list-grants", "--environment", name, url=workflow_api.url)
    _, access = on_terminal("access", "ann@example.com", url=workflow_api.url)
    _, grants_json = on_terminal("list-grants", "--environment", name, "--json",
                                 url=workflow_api.url)  # fmt: skip

    assert environments.splitlines()[0].split() == [
        "NAME", "STATUS", "ACCESS", "AIRFLOW", "LOGIN", "URL", "/", "ERROR"
    ]  # fmt: skip
    assert re.search(rf"^{name} +READY +PUBLIC_ONLY ", environments, flags=re.M), environments
    assert re.search(rf"^user ann@example.com +{name} +Op ", grants, flags=re.M), grants
    assert re.search(rf"^{name} +Op +READY +https://", access, flags=re.M), access
    uncoloured = re.sub(r"\x1b\[[0-9;]*m", "", grants_json)  # jq colours on a terminal
    assert json.loads(uncoloured)["items"][0]["rbac_role"] == "Op"


def test_a_table_never_passes_control_characters_to_the_terminal(tmp_path: Path) -> None:
    record = {
        "name": "Env1",
        "status": "FAILED",
        "error": {"code": "X", "cause": "bad\x1b]0;owned\x07\r\nline\u202etwo"},
    }
    shown = subprocess.run(  # noqa: S603 - the project's own helper
        [sys.executable, str(SCRIPTS / "present.py"), "table", "environment"],
        input=json.dumps(record),
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "Error   X: bad?]0;owned???line?two" in shown


def test_reconcile_shows_the_record_and_what_changed(
    recorder: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = recorder

    result = run("reconcile", "Env 1", url=url, extra_env={"MWAA_GATE_AUTH": "none"})

    assert result.returncode == 0, result.stderr
    assert [(r["method"], r["path"]) for r in seen] == [
        ("POST", "/api/environments/Env%201/reconcile")
    ]


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("MWAA_GATE_WAIT_SECONDS", "0", "MWAA_GATE_WAIT_SECONDS must be a number of seconds"),
        ("MWAA_GATE_WAIT_SECONDS", "1e3", "MWAA_GATE_WAIT_SECONDS must be a number of seconds"),
        ("MWAA_GATE_WAIT_SECONDS", "-1", "MWAA_GATE_WAIT_SECONDS must be a number of seconds"),
        ("MWAA_GATE_WAIT_TIMEOUT", "0", "MWAA_GATE_WAIT_TIMEOUT must be a whole number"),
        ("MWAA_GATE_WAIT_TIMEOUT", "10m", "MWAA_GATE_WAIT_TIMEOUT must be a whole number"),
    ],
)
@pytest.mark.parametrize(
    "script", [("onboard-environment", "Env1", "--attach"), ("offboard-environment", "Env1")]
)
def test_wait_settings_are_checked_before_any_request(
    recorder: tuple[str, list[dict[str, Any]]],
    script: tuple[str, ...],
    setting: str,
    value: str,
    message: str,
) -> None:
    url, seen = recorder

    result = run(*script, "--wait", url=url, extra_env={setting: value})

    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert message in result.stderr
    assert seen == []


def test_wait_gives_up_after_its_timeout_and_says_the_workflow_goes_on(
    recorder: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = recorder  # answers every request 200 with no status: never done

    result = run(
        "onboard-environment", "Env1", "--attach", "--wait", url=url,
        extra_env={"MWAA_GATE_WAIT_SECONDS": "0.2", "MWAA_GATE_WAIT_TIMEOUT": "1"},
    )  # fmt: skip

    assert result.returncode == 5, result.stderr
    assert "still not done after 1s" in result.stderr
    assert "follow it with get-environment" in result.stderr
    assert seen[0]["method"] == "POST"
    assert {r["path"] for r in seen[1:]} == {"/api/environments/Env1"}
    assert len(seen) >= 2  # the POST, then at least one look


def test_reconcile_a_ready_environment_then_one_deleted_outside(workflow_api: LocalApi) -> None:
    name = unique("Rec")
    mwaa_environment(workflow_api, name)
    ok(run("onboard-environment", name, "--attach", "--wait", url=workflow_api.url,
           extra_env=WAIT))  # fmt: skip

    unchanged = ok(run("reconcile", name, url=workflow_api.url))
    status, screen = on_terminal("reconcile", name, url=workflow_api.url)
    workflow_api.client("mwaa").delete_environment(Name=name)
    degraded = ok(run("reconcile", name, url=workflow_api.url))

    assert (unchanged["status"], unchanged["changes"]) == ("READY", [])
    assert status == 0, screen
    assert re.search(r"^Changed +nothing\r?$", screen, flags=re.M), screen
    assert degraded["status"] == "DEGRADED"
    assert degraded["changes"]
    shown = ok(run("get-environment", name, url=workflow_api.url))
    assert shown["status"] == "DEGRADED" and shown["error"]
