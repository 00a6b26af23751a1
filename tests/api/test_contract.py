"""docs/openapi.yaml matches the app's routes; authorisers follow the stage."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from app import app

from .conftest import PROJECT_DIR

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_openapi_is_valid_and_lists_exactly_the_app_routes():
    spec = yaml.safe_load((PROJECT_DIR / "docs" / "openapi.yaml").read_text())
    validate(spec)

    documented = {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    routed = {(path, method) for path, methods in app.routes.items() for method in methods}

    assert documented == routed


def _authorizers(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "API_AUTHORIZER"}
    if value is not None:
        env["API_AUTHORIZER"] = value
    code = (
        "from app import app\n"
        "print(sorted({type(e.authorizer).__name__ for m in app.routes.values()"
        " for e in m.values()}))"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "['IAMAuthorizer']"), ("iam", "['IAMAuthorizer']"), ("none", "['NoneType']")],
)
def test_every_route_is_iam_authorised_unless_the_stage_says_none(value, expected):
    result = _authorizers(value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_authorizer_setting_fails_the_import():
    result = _authorizers("cognito")
    assert result.returncode != 0
    assert "API_AUTHORIZER" in result.stderr


def test_stages_choose_their_authorizer():
    import json

    stages = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]
    chosen = {
        name: stage["environment_variables"]["API_AUTHORIZER"] for name, stage in stages.items()
    }
    assert chosen == {"local": "none", "dev": "iam", "prod": "iam"}


# --- the spec is exact: its computed parts are the code's own rules ---------------------------


def _spec() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def _openapi_parts():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "openapi_parts", PROJECT_DIR / "scripts" / "openapi_parts.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_computed_parts_of_the_spec_are_current():
    parts = _openapi_parts()
    text = (PROJECT_DIR / "docs" / "openapi.yaml").read_text(encoding="utf-8")

    assert parts.MARKER in text, "run: python scripts/openapi_parts.py"
    assert text.split(parts.MARKER)[1] == parts.text(), "run: python scripts/openapi_parts.py"


def test_the_tag_patterns_of_the_spec_and_of_the_api_agree_on_every_character():
    """The API matches the MWAA model's `\\p{L}\\p{Z}\\p{N}` with Python classes; the spec with
    the ranges spelled out. Both must accept exactly the same characters."""
    import re

    from chalicelib.api import mwaa_model

    java = mwaa_model.create_environment_shape().members["Tags"].key.metadata["pattern"]
    api = mwaa_model._pattern(java)
    documented = re.compile(mwaa_model.portable_pattern(java))
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)

    differ = [c for c in text if bool(api.fullmatch(c)) != bool(documented.fullmatch(c))]

    assert differ == []


GROUP_ALPHABET = st.characters(codec="utf-8") | st.sampled_from(
    [" ", "\u00a0", "\u3000", "\u200b", "\u2028", "\t", ",", "\x85", "\U000e0001", "\ue000"]
)


@settings(max_examples=400, deadline=None)
@given(group=st.text(GROUP_ALPHABET, max_size=8) | st.text(GROUP_ALPHABET, min_size=250))
def test_a_group_id_is_valid_in_the_spec_exactly_when_the_api_accepts_it(group):
    import re

    from chalicelib.api import validation

    schema = _SCHEMAS["GroupId"]
    documented = bool(re.fullmatch(schema["pattern"], group)) and len(group) <= schema["maxLength"]

    assert documented == (validation.group_problem(group) is None)


@settings(max_examples=300, deadline=None)
@given(groups=st.lists(st.text(GROUP_ALPHABET, max_size=6), max_size=5).map(",".join))
def test_a_groups_query_is_valid_in_the_spec_exactly_when_the_api_accepts_it(groups):
    import re

    from chalicelib.api import validation
    from chalicelib.api.errors import FieldErrors

    documented = bool(re.fullmatch(_SCHEMAS["GroupList"]["pattern"], groups))
    try:
        validation.groups_list(groups)
        accepted = True
    except FieldErrors:
        accepted = False

    assert documented == accepted


_SCHEMAS = _spec()["components"]["schemas"]


DATE_PARTS = st.sampled_from(
    [
        *("2030", "9999", "0001", "-", "01", "02", "12", "13", "29", "30", "31", "T", "t"),
        *(" ", ":", "00", "23", "24", "59", "60", ".5", ".1234567", "Z", "z", "+", "-"),
        *("+01:00", "-23:59", "+24:00", "２"),
    ]
)
DATE_LIKE = st.lists(DATE_PARTS, max_size=16).map("".join) | st.datetimes().map(
    lambda moment: moment.isoformat() + "Z"
)


@settings(max_examples=500, deadline=None)
@given(value=DATE_LIKE)
def test_an_expiry_has_the_spec_shape_exactly_when_the_api_reads_it(value):
    """Pattern and `format: date-time` of the spec ⇔ the API parses it (whether it is then in
    the future and before year 10000 are the rules the spec states in words)."""
    import re

    import jsonschema

    from chalicelib.api import validation

    schema = _SCHEMAS["DateTime"]
    documented = bool(re.fullmatch(schema["pattern"], value)) and jsonschema.FormatChecker(
        ["date-time"]
    ).conforms(value, "date-time")
    _, problem = validation.parse_expires_at(value, -math.inf)
    read = problem is None or problem in (
        "must not be after 9999-12-31T23:59:59Z",
        "must be in the future",
    )

    assert documented == read
