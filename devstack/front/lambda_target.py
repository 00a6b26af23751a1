"""A Lambda target group: the event the ALB sends and what it makes of the answer.

Event (ALB → Lambda): `requestContext.elb.targetGroupArn`, `httpMethod`, `path`, the query as
sent (still percent-encoded), headers with lower-case names, `body`, `isBase64Encoded`. With
the target group attribute `lambda.multi_value_headers.enabled` = true the headers and the
query are `multiValueHeaders` / `multiValueQueryStringParameters` (every value, in order), and
the function must answer `multiValueHeaders`; otherwise `headers` /
`queryStringParameters` carry the last value of a repeated name, and the answer's `headers`.
An answer that is not a valid response object is a 502, as the ALB does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MULTI_VALUE_ATTRIBUTE = "lambda.multi_value_headers.enabled"


class BadLambdaResponse(Exception):
    pass


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _query(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return pairs


def event(
    target_group_arn: str,
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    multi_value: bool,
) -> dict[str, Any]:
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    result: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": target_group_arn}},
        "httpMethod": method,
        "path": path,
        "body": text,
        "isBase64Encoded": encoded,
    }
    if multi_value:
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name.lower(), []).append(value)
        multi_query: dict[str, list[str]] = {}
        for key, value in _query(query):
            multi_query.setdefault(key, []).append(value)
        result["multiValueHeaders"] = multi_headers
        result["multiValueQueryStringParameters"] = multi_query
    else:
        result["headers"] = {name.lower(): value for name, value in headers}
        result["queryStringParameters"] = dict(_query(query))
    return result


def reply(payload: bytes, function_error: bool, multi_value: bool) -> Reply:
    """The HTTP answer of a Lambda's response payload; BadLambdaResponse → the ALB's 502."""
    if function_error:
        raise BadLambdaResponse("the function raised an error")
    try:
        answer = json.loads(payload)
    except ValueError as error:
        raise BadLambdaResponse("the function's answer is not JSON") from error
    if not isinstance(answer, dict) or not isinstance(answer.get("statusCode"), int):
        raise BadLambdaResponse("the function's answer has no integer statusCode")
    status = answer["statusCode"]
    if not 100 <= status <= 599:
        raise BadLambdaResponse("the function's statusCode is not an HTTP status")
    headers: list[tuple[str, str]] = []
    if multi_value:
        found = answer.get("multiValueHeaders") or {}
        if not isinstance(found, Mapping):
            raise BadLambdaResponse("multiValueHeaders is not an object")
        for name, values in found.items():
            if not isinstance(values, list):
                raise BadLambdaResponse("a multiValueHeaders entry is not a list")
            headers.extend((str(name), str(v)) for v in values)
    else:
        found = answer.get("headers") or {}
        if not isinstance(found, Mapping):
            raise BadLambdaResponse("headers is not an object")
        headers.extend((str(name), str(value)) for name, value in found.items())
    for name, value in headers:
        if any(c in name + value for c in "\r\n\0"):
            raise BadLambdaResponse("a header holds a line break")
    body = answer.get("body") or ""
    if not isinstance(body, str):
        raise BadLambdaResponse("body is not a string")
    try:
        data = base64.b64decode(body, validate=True) if answer.get("isBase64Encoded") else None
    except ValueError as error:
        raise BadLambdaResponse("body is not base64") from error
    return Reply(status=status, headers=headers, body=data if data is not None else body.encode())
