"""The embedded AWS only, for the authX benches: fake credentials, no endpoint override, no
profile (as tests/conftest.py does), and the project and tests/authx importable.

Imported for its effect before anything that builds a boto3 client; `use(**extra)` adds
bench-specific variables.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "authx")]

for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "mwaa-gate-bench",
    }
)


def use(**extra: str) -> None:
    os.environ.update(extra)
