"""Onboarding and offboarding environments (DESIGN §3, §4): records first, then executions.

The DynamoDB record is the source of truth; the execution input only names the environment
and carries the timing. Every write is conditional (new record, or the version read).
"""

from __future__ import annotations

from typing import Any

from authx.airflow_paths import AUTHX_LOGIN_PATH
from chalicelib import metrics
from chalicelib.records import clock, environments_repo
from chalicelib.records.environments_repo import HostnameTaken, RecordChanged

from . import audit, mwaa_model, workflow_starter
from .errors import ConflictError, NotFoundError, ServiceUnavailableError, UnprocessableEntityError
from .settings import Settings
from .validation import OnboardRequest

PENDING, ONBOARDING, READY, DEGRADED = "PENDING", "ONBOARDING", "READY", "DEGRADED"
FAILED, OFFBOARDING, OFFBOARDED = "FAILED", "OFFBOARDING", "OFFBOARDED"
STATUSES = (PENDING, ONBOARDING, READY, DEGRADED, FAILED, OFFBOARDING, OFFBOARDED)
LOGIN_PATH = AUTHX_LOGIN_PATH  # authX's entry, on every host whatever the Airflow version
INTERNAL_FIELDS = ("request_hash",)
ROUNDS = 5  # re-reads when a conditional write loses a race


def login_url(record: dict[str, Any]) -> str | None:
    host = record.get("login_host")
    if record.get("status") == READY and host:
        return f"https://{host}{LOGIN_PATH}"
    return None


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record as every answer shows it: internal fields dropped, and the values the MWAA
    model marks sensitive redacted (they stay in the record, where onboarding reads them)."""
    view = {k: v for k, v in record.items() if k not in INTERNAL_FIELDS and v is not None}
    if "create" in view:
        view["create"] = mwaa_model.redacted(view["create"])
    url = login_url(record)
    if url:
        view["login_url"] = url
    return view


def get(settings: Settings, name: str) -> dict[str, Any]:
    record = environments_repo.get(settings.environments_table, name)
    if record is None or record.get(environments_repo.CLAIM_OF):
        raise NotFoundError(f"no environment named {name}")
    view = public(record)
    view["execution"] = workflow_starter.state(record.get("execution_arn"))
    return view


def list_page(
    settings: Settings, status: str | None, page_size: int, token: str | None
) -> dict[str, Any]:
    items, next_token = environments_repo.page(
        settings.environments_table, status, page_size, token
    )
    body: dict[str, Any] = {"items": [public(item) for item in items]}
    if next_token:
        body["next_token"] = next_token
    return body


def _onboard_record(
    settings: Settings,
    request: OnboardRequest,
    *,
    base: dict[str, Any] | None,
    attempt: int,
    version: int,
    actor: str,
) -> dict[str, Any]:
    now = clock.iso()
    name = workflow_starter.execution_name(workflow_starter.ONBOARD, request.name, attempt)
    record: dict[str, Any] = dict(base or {})
    record.pop("error", None)
    record.update(
        {
            "name": request.name,
            "status": PENDING,
            "mode": request.mode,
            "request_hash": request.fingerprint(),
            "attempt": attempt,
            "version": version,
            "workflow": workflow_starter.ONBOARD,
            "execution_name": name,
            "execution_arn": workflow_starter.execution_arn(
                settings.onboard_state_machine_arn, name
            ),
            "updated_at": now,
            "updated_by": actor,
        }
    )
    record.setdefault("created_at", now)
    record.setdefault("requested_by", actor)
    # Where the environment lives (DESIGN §2): absent account and region are the service's
    # own, which onboarding's validation writes down; the MWAA name defaults to the name.
    record["mwaa_name"] = request.mwaa_name or request.name
    for field, value in (
        ("create", request.create),
        ("hostname", request.hostname),
        ("access_mode", request.access_mode),
        ("account_id", request.account_id),
        ("region", request.region),
    ):
        if value is None:
            record.pop(field, None)
        else:
            record[field] = value
    return record


def _stale_holder(settings: Settings, taken: HostnameTaken) -> bool:
    return environments_repo.claim_is_stale(settings.environments_table, taken.host, taken.holder)


def _start_onboard(settings: Settings, record: dict[str, Any]) -> None:
    workflow_starter.ensure_started(
        settings.onboard_state_machine_arn,
        record["execution_name"],
        workflow_starter.onboard_input(record["name"], settings.timing),
    )


def onboard(settings: Settings, request: OnboardRequest, actor: str) -> tuple[int, dict[str, Any]]:
    """POST /environments: 202 new (or again after OFFBOARDED), 200 same body, 409 otherwise."""
    table = settings.environments_table
    stale: str | None = None
    for _ in range(ROUNDS):
        existing = environments_repo.get(table, request.name)
        fresh = existing is None or existing.get("status") == OFFBOARDED
        retry = (
            existing is not None
            and existing.get("status") == FAILED
            and existing.get("request_hash") == request.fingerprint()
        )
        if not fresh and not retry:
            return _same_request(settings, request, existing or {})
        previous_attempt = int((existing or {}).get("attempt", 0))
        record = _onboard_record(
            settings,
            request,
            base=existing if retry else None,
            attempt=previous_attempt + 1,
            version=int((existing or {}).get("version", 0)) + 1,
            actor=actor,
        )
        try:
            environments_repo.write(
                table,
                record,
                expected_version=None if existing is None else int(existing["version"]),
                host=request.hostname,
                stale_holder=stale,
            )
        except RecordChanged:
            continue
        except HostnameTaken as taken:
            if _stale_holder(settings, taken):
                stale = taken.holder or None
                continue
            raise ConflictError(
                f"hostname: {taken.host} is already used by environment {taken.holder}"
            ) from None
        audit.event(
            "environment.retry" if retry else "environment.onboard",
            actor=actor,
            target={"environment": request.name},
            before=existing,
            after=record,
        )
        _start_onboard(settings, record)
        metrics.count(metrics.ONBOARDINGS_STARTED)
        return (200 if retry else 202), public(record)
    raise ServiceUnavailableError("the environment record kept changing; retry the request")


def _same_request(
    settings: Settings, request: OnboardRequest, existing: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    status = existing.get("status")
    if existing.get("request_hash") != request.fingerprint():
        hint = (
            "retry it with the same body or offboard it first"
            if status == FAILED
            else "offboard it first to onboard it differently"
        )
        raise ConflictError(
            f"environment {request.name} is already onboarded ({status}) with other "
            f"parameters; {hint}"
        )
    if status == OFFBOARDING:
        raise ConflictError(
            f"environment {request.name} is being offboarded; onboard it again once OFFBOARDED"
        )
    if status == PENDING and existing.get("workflow") == workflow_starter.ONBOARD:
        _start_onboard(settings, existing)  # a start that failed earlier happens now, once
    return 200, public(existing)


def offboard(settings: Settings, name: str, delete_environment: bool, actor: str) -> dict[str, Any]:
    """DELETE /environments/{name}: 202 and the offboard execution; 404; 422 by state."""
    table = settings.environments_table
    for _ in range(ROUNDS):
        existing = environments_repo.get(table, name)
        if existing is None or existing.get(environments_repo.CLAIM_OF):
            raise NotFoundError(f"no environment named {name}")
        status = existing.get("status")
        if status == OFFBOARDING:
            if existing.get("workflow") == workflow_starter.OFFBOARD and not (
                workflow_starter.exists(existing.get("execution_arn"))
            ):
                _start_offboard(settings, existing)  # its earlier start failed: start it now
                return public(existing)
            raise UnprocessableEntityError(f"environment {name} is already being offboarded")
        if status == OFFBOARDED:
            raise UnprocessableEntityError(f"environment {name} is already offboarded")
        if status not in (READY, DEGRADED, FAILED):
            raise UnprocessableEntityError(
                f"environment {name} is {status}: offboard it once it is READY or FAILED"
            )
        if delete_environment and existing.get("mode") != "create":
            raise UnprocessableEntityError(
                f"delete_environment: environment {name} was attached, not created by this "
                "service, so it will not delete it"
            )
        attempt = int(existing.get("attempt", 0)) + 1
        execution = workflow_starter.execution_name(workflow_starter.OFFBOARD, name, attempt)
        changes = {
            "status": OFFBOARDING,
            "attempt": attempt,
            "workflow": workflow_starter.OFFBOARD,
            "execution_name": execution,
            "execution_arn": workflow_starter.execution_arn(
                settings.offboard_state_machine_arn, execution
            ),
            "delete_environment": delete_environment,
            "updated_at": clock.iso(),
            "updated_by": actor,
        }
        try:
            record = environments_repo.update(table, name, int(existing["version"]), changes)
        except RecordChanged:
            continue
        audit.event(
            "environment.offboard",
            actor=actor,
            target={"environment": name},
            before=existing,
            after=record,
        )
        _start_offboard(settings, record)
        return public(record)
    raise ServiceUnavailableError("the environment record kept changing; retry the request")


def _start_offboard(settings: Settings, record: dict[str, Any]) -> None:
    workflow_starter.ensure_started(
        settings.offboard_state_machine_arn,
        record["execution_name"],
        workflow_starter.offboard_input(
            record["name"], bool(record.get("delete_environment")), settings.timing
        ),
    )
