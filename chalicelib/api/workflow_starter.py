"""Starting and observing the onboard/offboard Step Functions executions.

Execution names are deterministic — `<kind>-<name>-<attempt>`, or with a hash of the name when
that would pass StartExecution's 80 characters — so starting twice cannot make two executions:
Step Functions returns the running execution for the same name and input, and refuses a name
it has seen (ExecutionAlreadyExists), which here means "already started".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws_clients
from chalicelib.aws_clients import TRANSIENT_AWS_CODES

from .audit import logger
from .errors import ServiceUnavailableError, WorkflowStartError
from .settings import Timing

MAX_EXECUTION_NAME = 80
ONBOARD = "onboard"
OFFBOARD = "offboard"


def execution_name(kind: str, environment: str, attempt: int) -> str:
    """`onboard-Env1-1`; for long names `onboard-<prefix>-<12 hex of sha256(name)>-<attempt>`."""
    name = f"{kind}-{environment}-{attempt}"
    if len(name) <= MAX_EXECUTION_NAME:
        return name
    digest = hashlib.sha256(environment.encode()).hexdigest()[:12]
    room = MAX_EXECUTION_NAME - len(f"{kind}--{digest}-{attempt}")
    return f"{kind}-{environment[:room]}-{digest}-{attempt}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives an execution of a Standard state machine."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def onboard_input(environment: str, timing: Timing) -> str:
    return _input({"environment": environment, "timing": timing.as_input()})


def offboard_input(environment: str, delete_environment: bool, timing: Timing) -> str:
    return _input(
        {
            "environment": environment,
            "delete_environment": delete_environment,
            "timing": timing.as_input(),
        }
    )


def _input(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def ensure_started(state_machine_arn: str, name: str, execution_input: str) -> str:
    """Start the execution unless it exists already; its ARN. Raises 502/503 errors."""
    if not state_machine_arn:
        raise WorkflowStartError("the state machine ARN is not configured for this stage")
    try:
        response = aws_clients.stepfunctions().start_execution(
            stateMachineArn=state_machine_arn, name=name, input=execution_input
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ExecutionAlreadyExists":
            return execution_arn(state_machine_arn, name)
        logger.warning("StartExecution failed", extra={"execution": name, "aws_code": code})
        if code in TRANSIENT_AWS_CODES:
            raise ServiceUnavailableError(
                f"Step Functions is busy ({code}): the request is recorded; "
                "send the same request again to start its workflow"
            ) from error
        raise WorkflowStartError(
            f"starting the workflow failed ({code or 'unknown error'}): the request is "
            "recorded; send the same request again to start it"
        ) from error
    except BotoCoreError as error:
        logger.warning("StartExecution failed", extra={"execution": name, "error": str(error)})
        raise ServiceUnavailableError(
            "Step Functions could not be reached: the request is recorded; "
            "send the same request again to start its workflow"
        ) from error
    return response["executionArn"]


def state(arn: str | None) -> dict[str, Any] | None:
    """The live state of an execution: RUNNING, SUCCEEDED…, NOT_STARTED or UNAVAILABLE."""
    if not arn:
        return None
    try:
        response = aws_clients.stepfunctions().describe_execution(executionArn=arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ExecutionDoesNotExist":
            return {"arn": arn, "status": "NOT_STARTED"}
        return {"arn": arn, "status": "UNAVAILABLE"}
    except BotoCoreError:
        return {"arn": arn, "status": "UNAVAILABLE"}
    result: dict[str, Any] = {"arn": arn, "status": response["status"]}
    for field, key in (("startDate", "started_at"), ("stopDate", "stopped_at")):
        if response.get(field):
            result[key] = response[field].isoformat()
    if response["status"] in STEP_STATUSES:
        result.update(steps(arn, running=response["status"] == "RUNNING"))
    return result


# Where an execution is, from its history (newest first, a few pages at most): the state it
# entered last, and for a failed one the state whose task failed last (the step that failed
# before compensation ran), with that task's error.
STEP_STATUSES = ("RUNNING", "FAILED", "TIMED_OUT", "ABORTED")
HISTORY_PAGES = 3
TASK_FAILURES = {
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailedEventDetails",
}


def _history(arn: str) -> list[dict[str, Any]]:
    """The newest events (a few pages), newest first — sorted by id here too, since not every
    implementation honours `reverseOrder` (moto's does not)."""
    params: dict[str, Any] = {"executionArn": arn, "reverseOrder": True, "maxResults": 100}
    events: list[dict[str, Any]] = []
    for _ in range(HISTORY_PAGES):
        page = aws_clients.stepfunctions().get_execution_history(**params)
        events.extend(page.get("events", []))
        if not page.get("nextToken"):
            break
        params["nextToken"] = page["nextToken"]
    return sorted(events, key=lambda event: int(event.get("id") or 0), reverse=True)


def _cause(details: dict[str, Any]) -> str:
    """A task's cause; a Lambda's is JSON with `errorMessage`."""
    cause = str(details.get("cause") or "")
    try:
        document = json.loads(cause)
    except ValueError:
        return cause[:2000]
    if isinstance(document, dict) and "errorMessage" in document:
        return str(document["errorMessage"])[:2000]
    return cause[:2000]


def steps(arn: str, running: bool) -> dict[str, Any]:
    """`current_step` (running) or `failed_step` and `failure` (ended), when the history
    shows them; nothing when it cannot be read (the record still says what happened)."""
    failure: dict[str, Any] | None = None
    try:
        for event in _history(arn):
            kind = event.get("type", "")
            if kind.endswith("StateEntered"):
                name = event.get("stateEnteredEventDetails", {}).get("name")
                if running:
                    return {"current_step": name} if name else {}
                if failure is not None:
                    return {"failed_step": name, "failure": failure} if name else {}
            elif not running and failure is None and kind in TASK_FAILURES:
                details = event.get(TASK_FAILURES[kind]) or {}
                failure = {"error": str(details.get("error") or kind), "cause": _cause(details)}
    except (ClientError, BotoCoreError) as error:
        logger.warning("GetExecutionHistory failed", extra={"execution": arn, "error": str(error)})
    return {}


def exists(arn: str | None) -> bool:
    """Whether the execution was started (a missing one must be started on retry)."""
    current = state(arn)
    return current is not None and current["status"] != "NOT_STARTED"
