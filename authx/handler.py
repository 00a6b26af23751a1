"""The ALB-invoked Lambda: `authx.handler.lambda_handler` (DESIGN §5).

Routes a request to login, logout, the close page or the portal; turns every refusal into its
page and status (the mapping lives in `authx.errors`); writes one audit line per decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from authx import alb, audit, login, logout, pages, portal, settings
from authx.audit import Decision
from authx.errors import AwsCause, MethodNotAllowed, Refusal, SingleValueHeaders, UnknownPath

Route = Callable[[alb.Request, Decision, float], alb.Response]
GET_ONLY = ("GET",)


def _route_for(path: str) -> tuple[Route, tuple[str, ...]] | None:
    """The route of a path and the methods it answers. Airflow's paths come from the stage's
    table (`authx.airflow_paths`), so they are looked up in the settings."""
    if path == logout.CLOSE_PATH:
        return logout.close, GET_ONLY
    if path == login.PATH:
        return login.handle, GET_ONLY
    if path == portal.PATH:
        return portal.handle, GET_ONLY
    if path in logout.PATHS:
        return logout.handle, GET_ONLY
    config = settings.current()
    if path in logout.paths(config):
        return logout.handle, logout.AIRFLOW_METHODS
    if path in login.paths(config):
        return login.handle, GET_ONLY
    return None


SINGLE_VALUE_MESSAGE = (
    "authX needs multi-value headers on its target group "
    "(lambda.multi_value_headers.enabled = true): without them the load balancer keeps one "
    "Set-Cookie only, and signing out could not end the session."
)


def _route(request: alb.Request, decision: Decision) -> alb.Response:
    found = _route_for(request.path)
    if found is None:
        raise UnknownPath("There is nothing here.")
    route, methods = found
    if request.method not in methods:
        raise MethodNotAllowed(f"{request.path} answers {' and '.join(methods)} only.", methods)
    return route(request, decision, time.time())


def _refused(error: Refusal, decision: Decision) -> alb.Response:
    decision.decision = "deny"
    decision.reason = error.reason
    if isinstance(error.__cause__, AwsCause):
        decision.aws_error = str(error.__cause__)
    headers = [("Allow", ", ".join(error.allow))] if isinstance(error, MethodNotAllowed) else []
    return alb.Response(status=error.status, body=pages.refusal(error), headers=headers)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    decision = Decision()
    multi_value = isinstance(event, dict) and "multiValueHeaders" in event
    try:
        request = alb.parse(event)
        multi_value = request.multi_value
        decision.method, decision.path = request.method, request.path
        if not multi_value:
            raise SingleValueHeaders(SINGLE_VALUE_MESSAGE)
        trace = request.header("x-amzn-trace-id")
        audit.logger.set_correlation_id(audit.loggable(trace))
        response = _route(request, decision)
        decision.decision, decision.reason = "allow", "ok"
    except Refusal as error:
        response = _refused(error, decision)
    except Exception as error:  # a bug: answer a page, never a stack trace
        import traceback  # only on this path: it costs more to import than it is worth

        # Only where it happened, not the message: a message could quote request data.
        where = traceback.extract_tb(error.__traceback__)[-1]
        audit.logger.error(
            "authx unexpected error",
            extra={"error_type": type(error).__name__, "at": f"{where.filename}:{where.lineno}"},
        )
        decision.decision, decision.reason = "deny", "internal_error"
        response = alb.Response(
            status=500,
            body=pages.page("Something went wrong", "Sign-in failed unexpectedly."),
        )
    decision.status = response.status
    decision.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    audit.emit(decision)
    return alb.render(response, multi_value)
