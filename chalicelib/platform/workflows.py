"""The onboard/offboard state machines (Standard), from statemachines/*.asl.json.

Their names come from ONBOARD_/OFFBOARD_STATE_MACHINE_ARN (the ARNs the app starts), their
`${function}` placeholders from the Lambda ARNs `chalice deploy` recorded.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib import state_machines

from . import propagation
from .config import ConfigError, StageConfig
from .report import CREATE, DELETE, UNCHANGED, UPDATE, Report

KIND = "state-machine"
VARIABLES = {"onboard": "ONBOARD_STATE_MACHINE_ARN", "offboard": "OFFBOARD_STATE_MACHINE_ARN"}


def step_function_arns(cfg: StageConfig) -> dict[str, str]:
    """`{placeholder: Lambda ARN}` for every placeholder of both definitions."""
    needed = set().union(*(state_machines.placeholders(name) for name in state_machines.NAMES))
    missing = sorted(needed - set(cfg.function_arns))
    if missing:
        raise ConfigError(
            f"the deployed stage {cfg.stage} has no Lambda function for {', '.join(missing)}: "
            f"run `chalice deploy --stage {cfg.stage}` with the current app.py first"
        )
    return {name: cfg.function_arns[name] for name in sorted(needed)}


def definitions(cfg: StageConfig) -> dict[str, str]:
    arns = step_function_arns(cfg)
    return {name: state_machines.render(name, arns) for name in state_machines.NAMES}


def _by_name(states: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in states.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            found[machine["name"]] = machine["stateMachineArn"]
    return found


def _same_definition(left: str, right: str) -> bool:
    return json.loads(left) == json.loads(right)


def ensure(
    states: Any,
    report: Report,
    cfg: StageConfig,
    role_arn: str,
    propagation_delay: float = propagation.DELAY_SECONDS,
) -> dict[str, str]:
    """Both machines with the rendered definitions and this role; `{name: ARN}`."""
    rendered = definitions(cfg)
    existing = _by_name(states)
    arns = {}
    for kind, variable in VARIABLES.items():
        name = cfg.state_machine_name(variable)
        arn = existing.get(name)
        if arn is None and report.plan:
            arn = cfg.get(variable)
            report.add(CREATE, KIND, name)
        elif arn is None:
            arn = propagation.while_iam_propagates(
                states.create_state_machine,
                name=name,
                definition=rendered[kind],
                roleArn=role_arn,
                type="STANDARD",
                tags=[{"key": k, "value": v} for k, v in cfg.tag.items()],
                delay=propagation_delay,
            )["stateMachineArn"]
            report.add(CREATE, KIND, name)
        else:
            current = states.describe_state_machine(stateMachineArn=arn)
            changed = []
            if not _same_definition(current["definition"], rendered[kind]):
                changed.append("definition")
            if current["roleArn"] != role_arn:
                changed.append("role")
            if changed and not report.plan:
                propagation.while_iam_propagates(
                    states.update_state_machine,
                    stateMachineArn=arn,
                    definition=rendered[kind],
                    roleArn=role_arn,
                    delay=propagation_delay,
                )
            report.add(UPDATE if changed else UNCHANGED, KIND, name, ", ".join(changed))
        if arn != cfg.get(variable):
            raise ConfigError(f"{variable} is {cfg.get(variable)}, but the machine is {arn}")
        arns[kind] = arn
    return arns


def delete(states: Any, report: Report, cfg: StageConfig) -> None:
    existing = _by_name(states)
    for variable in VARIABLES.values():
        name = cfg.state_machine_name(variable)
        if name in existing:
            states.delete_state_machine(stateMachineArn=existing[name])
            report.add(DELETE, KIND, name)
