"""Table-driven bad input: every case answers 400 with {"Code","Message"} and never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import valid_create

JSON = {"Content-Type": "application/json"}
OK_ENV = {"name": "Env1", "mode": "attach"}
OK_GRANT = {"user": "a@example.com", "environment": "*", "rbac_role": "User"}


def env(**changes: Any) -> dict[str, Any]:
    body = {**OK_ENV, **changes}
    return {key: value for key, value in body.items() if value is not ...}


def create(**changes: Any) -> dict[str, Any]:
    parameters = {k: v for k, v in valid_create(**changes).items() if v is not ...}
    return {"name": "Env1", "mode": "create", "create": parameters}


def network(**changes: Any) -> dict[str, Any]:
    base = valid_create()["NetworkConfiguration"]
    return create(NetworkConfiguration={**base, **changes})


def grant_body(**changes: Any) -> dict[str, Any]:
    body = {**OK_GRANT, **changes}
    return {key: value for key, value in body.items() if value is not ...}


# (case id, method, path, body (object → JSON, bytes → raw), headers, field named in Message)
CASES: list[tuple[str, str, str, Any, dict[str, str], str]] = [
    # --- POST /environments: the body as a whole
    ("malformed json", "POST", "/environments", b'{"name": ', JSON, "malformed"),
    ("json array", "POST", "/environments", b"[1, 2]", JSON, "object"),
    ("json string", "POST", "/environments", b'"Env1"', JSON, "object"),
    ("json null", "POST", "/environments", b"null", JSON, "object"),
    ("empty body", "POST", "/environments", b"", JSON, "body"),
    ("not utf-8", "POST", "/environments", b'{"name": "\xff\xfe"}', JSON, "UTF-8"),
    ("NaN", "POST", "/environments", b'{"name": NaN}', JSON, "NaN"),
    ("duplicate key", "POST", "/environments", b'{"name":"a","name":"b"}', JSON, "more than once"),
    ("deep nesting", "POST", "/environments", b"[" * 100000 + b"]" * 100000, JSON, "body"),
    ("over 64 KiB", "POST", "/environments", env(hostname="a" * 70000), JSON, "larger"),
    ("text/plain", "POST", "/environments", env(), {"Content-Type": "text/plain"}, "Content-Type"),
    (
        "form",
        "POST",
        "/environments",
        b"name=Env1",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "Content-Type",
    ),
    (
        "xml",
        "POST",
        "/environments",
        b"<name/>",
        {"Content-Type": "application/xml"},
        "Content-Type",
    ),
    ("unknown field", "POST", "/environments", env(owner="me"), JSON, "owner"),
    ("unknown query", "POST", "/environments?force=1", env(), JSON, "force"),
    # --- POST /environments: fields
    ("name missing", "POST", "/environments", env(name=...), JSON, "name"),
    ("name number", "POST", "/environments", env(name=42), JSON, "name"),
    ("name empty", "POST", "/environments", env(name=""), JSON, "name"),
    ("name 81 chars", "POST", "/environments", env(name="E" * 81), JSON, "name"),
    ("name digit first", "POST", "/environments", env(name="1env"), JSON, "name"),
    ("name unicode", "POST", "/environments", env(name="Envé"), JSON, "name"),
    ("name newline", "POST", "/environments", env(name="Env1\n"), JSON, "name"),
    ("name injection", "POST", "/environments", env(name="x' OR '1'='1"), JSON, "name"),
    ("name path", "POST", "/environments", env(name="../etc/passwd"), JSON, "name"),
    ("mode missing", "POST", "/environments", env(mode=...), JSON, "mode"),
    ("mode unknown", "POST", "/environments", env(mode="adopt"), JSON, "mode"),
    ("mode list", "POST", "/environments", env(mode=["attach"]), JSON, "mode"),
    ("create with attach", "POST", "/environments", env(create=valid_create()), JSON, "create"),
    ("create missing", "POST", "/environments", env(mode="create"), JSON, "create"),
    ("create not object", "POST", "/environments", env(mode="create", create="x"), JSON, "create"),
    ("hostname IP", "POST", "/environments", env(hostname="10.0.0.1"), JSON, "hostname"),
    (
        "hostname url",
        "POST",
        "/environments",
        env(hostname="https://a.example.com"),
        JSON,
        "hostname",
    ),
    ("hostname one label", "POST", "/environments", env(hostname="localhost"), JSON, "hostname"),
    (
        "hostname script",
        "POST",
        "/environments",
        env(hostname="<script>.example.com"),
        JSON,
        "hostname",
    ),
    (
        "hostname long label",
        "POST",
        "/environments",
        env(hostname="a" * 64 + ".com"),
        JSON,
        "hostname",
    ),
    ("hostname number", "POST", "/environments", env(hostname=7), JSON, "hostname"),
    # --- POST /environments: MWAA CreateEnvironment parameters (botocore's model)
    ("create Name", "POST", "/environments", create(Name="Env1"), JSON, "create.Name"),
    ("one subnet", "POST", "/environments", network(SubnetIds=["subnet-1"]), JSON, "SubnetIds"),
    (
        "three subnets",
        "POST",
        "/environments",
        network(SubnetIds=["subnet-1", "subnet-2", "subnet-3"]),
        JSON,
        "SubnetIds",
    ),
    (
        "no security group",
        "POST",
        "/environments",
        network(SecurityGroupIds=[]),
        JSON,
        "SecurityGroupIds",
    ),
    (
        "six security groups",
        "POST",
        "/environments",
        network(SecurityGroupIds=[f"sg-{i}" for i in range(6)]),
        JSON,
        "SecurityGroupIds",
    ),
    (
        "bad subnet id",
        "POST",
        "/environments",
        network(SubnetIds=["sub-1", "subnet-2"]),
        JSON,
        "SubnetIds[0]",
    ),
    (
        "bad role arn",
        "POST",
        "/environments",
        create(ExecutionRoleArn="arn:aws:iam::12:role/x"),
        JSON,
        "ExecutionRoleArn",
    ),
    (
        "bucket missing",
        "POST",
        "/environments",
        create(SourceBucketArn=...),
        JSON,
        "SourceBucketArn",
    ),
    ("MaxWorkers string", "POST", "/environments", create(MaxWorkers="3"), JSON, "MaxWorkers"),
    ("MaxWorkers bool", "POST", "/environments", create(MaxWorkers=True), JSON, "MaxWorkers"),
    ("MaxWorkers float", "POST", "/environments", create(MaxWorkers=2.5), JSON, "MaxWorkers"),
    ("MaxWorkers huge", "POST", "/environments", create(MaxWorkers=10**30), JSON, "MaxWorkers"),
    (
        "Min over Max",
        "POST",
        "/environments",
        create(MinWorkers=5, MaxWorkers=2),
        JSON,
        "MinWorkers",
    ),
    ("Schedulers 6", "POST", "/environments", create(Schedulers=6), JSON, "Schedulers"),
    (
        "public and private",
        "POST",
        "/environments",
        create(WebserverAccessMode="PUBLIC_AND_PRIVATE"),
        JSON,
        "WebserverAccessMode",
    ),
    (
        "access mode unknown",
        "POST",
        "/environments",
        create(WebserverAccessMode="OPEN"),
        JSON,
        "WebserverAccessMode",
    ),
    (
        "log level",
        "POST",
        "/environments",
        create(LoggingConfiguration={"TaskLogs": {"Enabled": True, "LogLevel": "TRACE"}}),
        JSON,
        "LogLevel",
    ),
    (
        "log enabled missing",
        "POST",
        "/environments",
        create(LoggingConfiguration={"TaskLogs": {"LogLevel": "INFO"}}),
        JSON,
        "Enabled",
    ),
    ("unknown create member", "POST", "/environments", create(Size="XL"), JSON, "create.Size"),
    ("tags empty map", "POST", "/environments", create(Tags={}), JSON, "Tags"),
    (
        "config key pattern",
        "POST",
        "/environments",
        create(AirflowConfigurationOptions={"Core": "x"}),
        JSON,
        "AirflowConfigurationOptions",
    ),
    (
        "public with hostname",
        "POST",
        "/environments",
        {**create(WebserverAccessMode="PUBLIC_ONLY"), "hostname": "a.example.com"},
        JSON,
        "hostname",
    ),
    # --- POST /grants
    ("grant no principal", "POST", "/grants", grant_body(user=...), JSON, "user"),
    ("grant both", "POST", "/grants", grant_body(group="ops"), JSON, "user"),
    ("grant bad email", "POST", "/grants", grant_body(user="not-an-email"), JSON, "user"),
    (
        "grant email injection",
        "POST",
        "/grants",
        grant_body(user="a@example.com; DROP TABLE"),
        JSON,
        "user",
    ),
    ("grant email unicode", "POST", "/grants", grant_body(user="jöe@example.com"), JSON, "user"),
    ("grant group empty", "POST", "/grants", {**grant_body(user=...), "group": ""}, JSON, "group"),
    (
        "grant group 257",
        "POST",
        "/grants",
        {**grant_body(user=...), "group": "g" * 257},
        JSON,
        "group",
    ),
    (
        "grant group control",
        "POST",
        "/grants",
        {**grant_body(user=...), "group": "a\tb"},
        JSON,
        "group",
    ),
    (
        "grant role substring",
        "POST",
        "/grants",
        grant_body(rbac_role="Administrator"),
        JSON,
        "rbac_role",
    ),
    ("grant role spaced", "POST", "/grants", grant_body(rbac_role="op "), JSON, "rbac_role"),
    ("grant role missing", "POST", "/grants", grant_body(rbac_role=...), JSON, "rbac_role"),
    ("grant env bad", "POST", "/grants", grant_body(environment="**"), JSON, "environment"),
    ("grant env number", "POST", "/grants", grant_body(environment=1), JSON, "environment"),
    (
        "grant expiry past",
        "POST",
        "/grants",
        grant_body(expires_at="2001-01-01T00:00:00Z"),
        JSON,
        "future",
    ),
    (
        "grant expiry no zone",
        "POST",
        "/grants",
        grant_body(expires_at="2099-01-01T00:00:00"),
        JSON,
        "time zone",
    ),
    (
        "grant expiry garbage",
        "POST",
        "/grants",
        grant_body(expires_at="tomorrow"),
        JSON,
        "expires_at",
    ),
    (
        "grant expiry number",
        "POST",
        "/grants",
        grant_body(expires_at=4102444800),
        JSON,
        "expires_at",
    ),
    ("grant unknown field", "POST", "/grants", grant_body(note="hi"), JSON, "note"),
    ("grant wrong type", "POST", "/grants", b"[]", {"Content-Type": "text/csv"}, "Content-Type"),
    # --- queries and path parameters
    ("list limit 0", "GET", "/environments?limit=0", None, {}, "limit"),
    ("list limit 101", "GET", "/environments?limit=101", None, {}, "limit"),
    ("list limit text", "GET", "/environments?limit=ten", None, {}, "limit"),
    ("list limit unicode digit", "GET", "/environments?limit=%D9%A3", None, {}, "limit"),
    ("list limit twice", "GET", "/environments?limit=1&limit=2", None, {}, "limit"),
    ("list unknown query", "GET", "/environments?sort=name", None, {}, "sort"),
    ("list bad token", "GET", "/environments?next_token=abc", None, {}, "next_token"),
    ("list token json", "GET", "/environments?next_token=eyJ2IjoxfQ", None, {}, "next_token"),
    ("get bad name", "GET", "/environments/1bad", None, {}, "name"),
    ("get unknown query", "GET", "/environments/Env1?verbose=1", None, {}, "verbose"),
    (
        "delete flag text",
        "DELETE",
        "/environments/Env1?delete_environment=maybe",
        None,
        {},
        "delete_environment",
    ),
    ("delete unknown query", "DELETE", "/environments/Env1?force=true", None, {}, "force"),
    ("grants bad user", "GET", "/grants?user=nobody", None, {}, "user"),
    ("grants bad env", "GET", "/grants?environment=a%20b", None, {}, "environment"),
    ("grants unknown query", "GET", "/grants?role=Admin", None, {}, "role"),
    ("access bad email", "GET", "/access/nobody", None, {}, "email"),
    ("access bad group", "GET", "/access/a@example.com?groups=ok,%07", None, {}, "groups[1]"),
    ("access unknown query", "GET", "/access/a@example.com?env=Env1", None, {}, "env"),
    ("revoke garbage id", "DELETE", "/grants/not%20a%20grant", None, {}, "grant_id"),
]


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "named"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_400_with_a_message_naming_the_problem(
    shared_client, method, path, body, headers, named
):
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    response = shared_client.http.request(method, path, headers=headers, body=raw or b"")

    assert response.status_code == 400, response.body
    assert set(response.json_body) == {"Code", "Message"}
    assert response.json_body["Code"] == "BadRequestError"
    assert named in response.json_body["Message"]
