"""Test-wide isolation: fake credentials, one region, and no endpoint override.

moto intercepts in-process calls only when no AWS_ENDPOINT_URL is set, so a developer's shell
(or a server-mode test) must never leak one into an in-process test.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Property tests: the same examples on every `make test` run (a red CI run must mean a defect,
# not an unlucky draw) and no per-example deadline (a loaded 2-core runner is slow, not wrong).
# HYPOTHESIS_PROFILE=explore draws new examples (1,000 where a test sets no count) by hand.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_ISOLATED = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
_REMOVED = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_DISABLE_HOST_PREFIX_INJECTION",
    "MOTO_PORT",
)

# Set at import time too: modules under test build boto3 clients at import.
for _name in _REMOVED:
    os.environ.pop(_name, None)
os.environ.update(_ISOLATED)
os.environ.setdefault("DEVSTACK_MWAA_CREATE_SECONDS", "0")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "mwaa-gate-tests")


@pytest.fixture(autouse=True)
def _isolated_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-assert the isolation before every test, whatever an earlier test did."""
    for name in _REMOVED:
        monkeypatch.delenv(name, raising=False)
    for name, value in _ISOLATED.items():
        monkeypatch.setenv(name, value)
