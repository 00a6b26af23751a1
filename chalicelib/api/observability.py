"""What every API request leaves behind: a request id on its log lines, and its metrics.

One Chalice HTTP middleware (app.py registers it) around every route:

- the request id — API Gateway's `requestContext.requestId` (what the caller sees as
  `x-amzn-RequestId`), else the Lambda request id (`chalice local`), else a fresh one — is on
  every line the API logs while the request runs (the audit lines included), then removed, so
  a warm Lambda never lends one request's id to the next;
- `Requests` is counted by `route` (the route template, e.g. `GET /environments/{name}`,
  never the raw path: names would make a metric per environment) and `status`.

The metrics are powertools EMF lines on stdout (chalicelib/metrics.py), JSON like the logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib import metrics

from .audit import logger


def request_id(app: Chalice, request: Request) -> str:
    context = request.context or {}
    found = context.get("requestId") or getattr(app.lambda_context, "aws_request_id", None)
    return str(found) if found else str(uuid.uuid4())


def route(request: Request) -> str:
    template = (request.context or {}).get("resourcePath") or "unknown"
    return f"{request.method} {template}"


def middleware(app: Chalice) -> Callable[[Request, Callable[[Request], Response]], Response]:
    def observe(event: Request, get_response: Callable[[Request], Any]) -> Response:
        status = 500
        with logger.append_context_keys(request_id=request_id(app, event)):
            try:
                response = get_response(event)
                status = response.status_code
                return response
            finally:
                metrics.count(metrics.REQUESTS, route=route(event), status=str(status))

    return observe
