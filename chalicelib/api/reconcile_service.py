"""`POST /environments/{name}/reconcile`: re-check one environment now (DESIGN §3, §4).

The work is the scheduled reconciler's (`chalicelib.workflow.reconcile`), run in the request;
this module maps its outcome and failures to the API's answers.
"""

from __future__ import annotations

from typing import Any

from chalicelib.records import environments_repo
from chalicelib.workflow import reconcile
from chalicelib.workflow.errors import (
    AwsCallFailed,
    ConfigurationError,
    StepError,
    TransientAwsError,
    WrongExecution,
)

from . import audit
from .environments_service import public
from .errors import (
    BadGatewayError,
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from .settings import Settings


def reconcile_environment(settings: Settings, name: str, actor: str) -> dict[str, Any]:
    """200 with the record and what changed; 404 unknown; 422 unless READY or DEGRADED."""
    existing = environments_repo.get(settings.environments_table, name)
    if existing is None or existing.get(environments_repo.CLAIM_OF):
        raise NotFoundError(f"no environment named {name}")
    try:
        outcome = reconcile.reconcile_record(existing)
    except reconcile.NotReconcilable as refused:
        raise UnprocessableEntityError(str(refused)) from refused
    except WrongExecution as moved:
        raise ConflictError(
            f"environment {name} changed while it was being reconciled; try again"
        ) from moved
    except TransientAwsError as transient:
        raise ServiceUnavailableError(str(transient)) from transient
    except (AwsCallFailed, ConfigurationError, StepError) as failure:
        raise BadGatewayError(str(failure)) from failure
    if outcome.changes:
        audit.event(
            "environment.reconcile",
            actor=actor,
            target={"environment": name},
            before=existing,
            after=outcome.record,
            changes=outcome.changes,
        )
    body = {**public(outcome.record), "changes": outcome.changes}
    if outcome.skipped:
        body["skipped"] = outcome.skipped
    return body
