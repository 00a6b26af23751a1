"""docs/openapi.yaml matches the app's routes; authorisers follow the stage."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
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
