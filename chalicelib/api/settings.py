"""The app's configuration: the stage's environment variables (`.chalice/config.json`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# How the routes are authorised: `iam` (every AWS stage; the default, so a missing variable
# fails closed) or `none` (the `local` stage). Read once, when app.py is imported.
AUTHORIZER_VARIABLE = "API_AUTHORIZER"
AUTHORIZERS = ("iam", "none")


@dataclass(frozen=True)
class Timing:
    """Wait settings handed to the workflows in their input (DESIGN §4: waits are data)."""

    poll_seconds: int
    poll_max_seconds: int
    backoff: float
    deadline_seconds: int

    def as_input(self) -> dict[str, Any]:
        return {
            "poll_seconds": self.poll_seconds,
            "poll_max_seconds": self.poll_max_seconds,
            "backoff": self.backoff,
            "deadline_seconds": self.deadline_seconds,
        }


@dataclass(frozen=True)
class Settings:
    environments_table: str
    grants_table: str
    onboard_state_machine_arn: str
    offboard_state_machine_arn: str
    timing: Timing


def _number(name: str, default: float, kind: type) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return kind(default)
    value = kind(float(raw)) if kind is int else kind(raw)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def authorizer_kind() -> str:
    kind = os.environ.get(AUTHORIZER_VARIABLE, "iam").strip().lower() or "iam"
    if kind not in AUTHORIZERS:
        raise ValueError(f"{AUTHORIZER_VARIABLE} must be one of {AUTHORIZERS}, got {kind!r}")
    return kind


def load() -> Settings:
    """Read the settings now (cheap; the test client swaps the environment per request)."""
    return Settings(
        environments_table=os.environ.get("ENVIRONMENTS_TABLE", ""),
        grants_table=os.environ.get("GRANTS_TABLE", ""),
        onboard_state_machine_arn=os.environ.get("ONBOARD_STATE_MACHINE_ARN", ""),
        offboard_state_machine_arn=os.environ.get("OFFBOARD_STATE_MACHINE_ARN", ""),
        timing=Timing(
            poll_seconds=_number("WORKFLOW_POLL_SECONDS", 60, int),
            poll_max_seconds=_number("WORKFLOW_POLL_MAX_SECONDS", 600, int),
            backoff=_number("WORKFLOW_POLL_BACKOFF", 2, float),
            deadline_seconds=_number("WORKFLOW_DEADLINE_SECONDS", 7200, int),
        ),
    )
