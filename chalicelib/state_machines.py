"""The ASL definitions in `statemachines/`, with their `${placeholder}`s filled in.

A placeholder names a Chalice `@app.lambda_function` of this app (`${onboard_validate}`) and is
replaced by that function's ARN. Platform setup fills them from `.chalice/deployed/<stage>.json`;
tests and devstack fill them with the ARNs devstack dispatches in process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

DEFINITIONS = Path(__file__).resolve().parent.parent / "statemachines"
NAMES = ("onboard", "offboard")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class UnresolvedPlaceholder(ValueError):
    pass


def placeholders(name: str) -> set[str]:
    """The function names a definition refers to."""
    return set(PLACEHOLDER.findall(template(name)))


def template(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"unknown state machine {name!r}; expected one of {NAMES}")
    return (DEFINITIONS / f"{name}.asl.json").read_text()


def render(name: str, function_arns: Mapping[str, str]) -> str:
    """The definition with every placeholder replaced; refuses to leave one unresolved."""
    missing = sorted(placeholders(name) - set(function_arns))
    if missing:
        raise UnresolvedPlaceholder(f"{name}: no ARN for {', '.join(missing)}")
    text = PLACEHOLDER.sub(lambda match: function_arns[match.group(1)], template(name))
    json.loads(text)  # a definition that is not JSON must not reach Step Functions
    return text


def function_arn(region: str, account: str, app_name: str, stage: str, function: str) -> str:
    """The ARN Chalice gives `@app.lambda_function(name=function)` in a stage."""
    return f"arn:aws:lambda:{region}:{account}:function:{app_name}-{stage}-{function}"


def local_function_arns(
    names: set[str], region: str = "us-east-1", account: str = "123456789012", stage: str = "local"
) -> dict[str, str]:
    return {name: function_arn(region, account, "mwaa-gate", stage, name) for name in names}
