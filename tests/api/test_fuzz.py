"""Schema-driven fuzzing (schemathesis) of the admin API against docs/openapi.yaml.

The app runs in process (Chalice's test client behind a small WSGI adapter, on devstack).
For every operation, requests valid per the spec must be accepted (2xx, or the 404/409/422
its state explains) and requests invalid per the spec refused with 400; no answer is a 5xx
or outside the spec. Valid requests follow the rules the spec states in words (its
`info.description`): `RULES` below, one function each.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.api import mwaa_model

from .conftest import LOCAL_ENV, PROJECT_DIR, embedded_stack, onboard, post, set_record

# Per operation and mode (9 operations x 2 modes), bounded for `make test` and the same every
# run (derandomised); API_FUZZ_EXAMPLES=500 API_FUZZ_RANDOM=1 explores further by hand.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "40"))
RANDOM = os.environ.get("API_FUZZ_RANDOM") == "1"
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {"expected-statuses": [400]},
            "positive_data_acceptance": {"expected-statuses": [200, 201, 202, 204, 404, 409, 422]},
        }
    }
)
SPEC = yaml.safe_load((PROJECT_DIR / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
# SigV4 is API Gateway's (IAM authoriser, tests/api/test_contract.py); the `local` stage the
# app runs as here has none, so the fuzzer sends no Authorization header.
SPEC.pop("security")


def _with_python_unicode_classes(spec: dict[str, Any]) -> None:
    """The MWAA tag patterns spell `\\p{L}\\p{Z}\\p{N}` as thousands of ranges (portable, but
    slow for hypothesis's regex generator); the fuzzer uses the API's own Python form, which
    tests/api/test_contract.py proves equal on every character."""
    tags = spec["components"]["schemas"]["CreateParameters"]["properties"]["Tags"]
    java = mwaa_model.create_environment_shape().members["Tags"]
    for schema, shape in (
        (tags["propertyNames"], java.key),
        (tags["additionalProperties"], java.value),
    ):
        schema["pattern"] = "^(?:" + mwaa_model._pattern(shape.metadata["pattern"]).pattern + ")$"


_with_python_unicode_classes(SPEC)
SCHEMA = schemathesis.openapi.from_dict(SPEC, config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
OPERATIONS = [
    (method.upper(), path)
    for path, item in SCHEMA.raw_schema["paths"].items()
    for method in item
    if method in ("get", "post", "delete")
]
MAX_BODY_BYTES = 64 * 1024
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


# --- the rules the spec states in words -------------------------------------------------------


def _expires_in_the_future(case: Any) -> bool:
    """`expires_at` in the future and not after 9999-12-31T23:59:59Z once in UTC; a value
    that is no date at all is left to the spec (and must then be refused)."""
    expires = (case.body or {}).get("expires_at") if isinstance(case.body, dict) else None
    if not isinstance(expires, str):
        return True
    try:
        moment = datetime.fromisoformat(expires.upper())
    except ValueError:
        return True
    try:
        return datetime.now(UTC) < moment.astimezone(UTC) <= LATEST
    except OverflowError:  # year 0 or 10000 once in UTC
        return False


def _ordered_workers(case: Any) -> bool:
    body = case.body if isinstance(case.body, dict) else {}
    create = body.get("create") if isinstance(body.get("create"), dict) else {}
    return all(
        create.get(low, 1) <= create.get(high, 2**31)
        for low, high in (("MinWorkers", "MaxWorkers"), ("MinWebservers", "MaxWebservers"))
    )


def _not_user_and_group(case: Any) -> bool:
    query = case.query or {}
    return not ("user" in query and "group" in query)


def _no_foreign_token(case: Any) -> bool:
    return "next_token" not in (case.query or {})


def _at_most_100_groups(case: Any) -> bool:
    groups = (case.query or {}).get("groups")
    return not isinstance(groups, str) or len([g for g in groups.split(",") if g.strip(" ")]) <= 100


def _small_body(case: Any) -> bool:
    body = case.body
    if not isinstance(body, dict | list | str | int | float | bool):  # absent (NotSet) or null
        return True
    return len(json.dumps(body).encode()) <= MAX_BODY_BYTES


_SCHEMAS = SPEC["components"]["schemas"]
_PATTERNS = {
    name: re.compile(_SCHEMAS[schema]["pattern"])
    for name, schema in (
        ("group", "GroupId"),
        ("user", "Email"),
        ("groups", "GroupList"),
        ("hostname", "Hostname"),
        ("expires_at", "DateTime"),
    )
}


def _strings_match_their_patterns(case: Any) -> bool:
    """Schemathesis 4.32.5 sometimes draws a character that a negated class excludes (U+007F
    for GroupId); a request is valid per the spec only if its values match the spec."""
    body = case.body if isinstance(case.body, dict) else {}
    path = {name: unquote(value) for name, value in (case.path_parameters or {}).items()}
    values = {**body, **(case.query or {}), **path}
    if "email" in values:
        values["user"] = values.pop("email")
    return all(
        not isinstance(values.get(name), str) or pattern.fullmatch(values[name])
        for name, pattern in _PATTERNS.items()
    )


RULES: tuple[Callable[[Any], bool], ...] = (
    _strings_match_their_patterns,
    _expires_in_the_future,
    _ordered_workers,
    _not_user_and_group,
    _no_foreign_token,
    _at_most_100_groups,
    _small_body,
)


def for_this_deployment(case: Any) -> None:
    """`create.ExecutionRoleArn` must name a role this deployment may pass to MWAA (its path
    and name start with the stage's MWAA_EXECUTION_ROLE_PREFIX): valid requests use one."""
    create = case.body.get("create") if isinstance(case.body, dict) else None
    if isinstance(create, dict) and isinstance(create.get("ExecutionRoleArn"), str):
        prefix = LOCAL_ENV["MWAA_EXECUTION_ROLE_PREFIX"]
        create["ExecutionRoleArn"] = f"arn:aws:iam::123456789012:role/{prefix}fuzz"


# --- the app in process, as WSGI ---------------------------------------------------------------


def wsgi(client: Any) -> Callable[..., Iterable[bytes]]:
    """A WSGI app over Chalice's test client: the raw (percent-encoded) path and query reach
    the app as `chalice local` and API Gateway hand them over."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        raw_path = (environ.get("RAW_URI") or environ["PATH_INFO"]).split("?", 1)[0]
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        target = raw_path.encode("latin-1").decode("utf-8") + (f"?{query}" if query else "")
        response = client.http.request(environ["REQUEST_METHOD"], target, headers, body)
        start_response(f"{response.status_code} -", list(response.headers.items()))
        return iter([response.body])

    return app


@pytest.fixture(scope="module")
def app_under_fuzz() -> Iterator[Callable[..., Iterable[bytes]]]:
    """The app with some state: environments in several states, a few grants."""
    with embedded_stack() as client:
        for name in ("Env1", "Env2", "a"):
            onboard(client, name)
        set_record("Env1", status="READY", login_host="env1.example.com")
        set_record("Env2", status="OFFBOARDED")
        post(client, "/grants", {"group": "ops", "environment": "Env1", "rbac_role": "Op"})
        post(client, "/grants", {"user": "a@example.com", "environment": "*", "rbac_role": "User"})
        yield wsgi(client)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_answers_as_its_spec_says(app_under_fuzz, method, path, mode):
    strategy = SCHEMA[path][method].as_strategy(generation_mode=mode)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def answers_as_specified(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            assume(all(rule(case) for rule in RULES))
            for_this_deployment(case)
        response = case.call(app=app_under_fuzz)
        case.validate_response(response, checks=CHECKS)

    answers_as_specified()


def test_the_adapter_hands_over_the_raw_path():
    seen = {}

    class Recorder:
        class http:
            @staticmethod
            def request(method, path, headers, body):
                seen.update(method=method, path=path, body=body)
                return type("R", (), {"status_code": 204, "headers": {}, "body": b""})()

    app = wsgi(Recorder())
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/access/jane+ops@example.com",
        "RAW_URI": "/access/jane%2Bops%40example.com?groups=a",
        "QUERY_STRING": "groups=a",
        "wsgi.input": io.BytesIO(b""),
    }
    list(app(environ, lambda status, headers: None))

    assert seen["path"] == "/access/jane%2Bops%40example.com?groups=a"
