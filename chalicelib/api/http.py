"""The edge between Chalice and the services: request parsing, answers, and error mapping.

Everything a caller sends is checked here or in `validation`; every failure becomes
`{"Code","Message"}` with its status. Nothing a caller sends can make a route answer 500:
an unexpected exception is logged and answered 500 only when it is this service's own bug.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Request, Response

from chalicelib.aws_clients import TRANSIENT_AWS_CODES
from chalicelib.records.ddb import plain

from .audit import logger
from .errors import ApiError, BadGatewayError, BadRequestError, ServiceUnavailableError
from .values import json_type

MAX_BODY_BYTES = 64 * 1024
LOCAL_CALLER = "local"


def answer(status: int, body: Any = None) -> Response:
    if body is None:
        return Response(body="", status_code=status, headers={})
    text = json.dumps(plain(body), separators=(",", ":"), ensure_ascii=False)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json"})


def error_answer(error: ApiError) -> Response:
    return answer(error.status, {"Code": error.code, "Message": error.message})


def aws_error(error: Exception) -> ApiError:
    """An AWS failure as the caller should see it: 503 when retrying may help, else 502."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_AWS_CODES:
            return ServiceUnavailableError(f"AWS is busy ({code}); retry the request")
        return BadGatewayError(f"AWS refused the call ({code or 'unknown error'})")
    return ServiceUnavailableError(f"AWS could not be reached ({type(error).__name__})")


def refuse_invalid_unicode(value: Any, where: str) -> None:
    """400 when a string anywhere in `value` (keys included) is not valid Unicode.

    JSON's `\\ud800` escapes and Lambda events can carry lone surrogates, which no UTF-8
    encoder (DynamoDB, botocore, a log line) accepts: they are refused here, at the edge.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise BadRequestError(f"{where}: not valid Unicode (a lone surrogate)") from error
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_invalid_unicode(key, where)
            refuse_invalid_unicode(item, where)
    elif isinstance(value, list):
        for item in value:
            refuse_invalid_unicode(item, where)


def path_parameter(name: str, raw: str) -> str:
    """A path parameter as the caller meant it: percent-decoded once, strictly (UTF-8).

    API Gateway (REST) and `chalice local` (and Chalice's test client) pass path parameters
    as they appear in the URL, percent-encoded; this is the one place they are decoded.
    `+` stays `+` (it means a space only in form-encoded queries).
    """
    try:
        value = unquote(raw, errors="strict")
    except UnicodeDecodeError as error:
        raise BadRequestError(f"{name}: percent-encoding is not UTF-8") from error
    refuse_invalid_unicode(value, name)
    return value


def handled(view: Callable[..., Response]) -> Callable[..., Response]:
    """The edge of every route.

    Path parameters (the view's keyword arguments) are percent-decoded here, once; typed
    errors → their status; AWS errors → 502/503; bugs → logged 500.
    """

    @functools.wraps(view)
    def wrapper(**raw_path: str) -> Response:
        try:
            decoded = {name: path_parameter(name, value) for name, value in raw_path.items()}
            return view(**decoded)
        except ApiError as error:
            if error.status >= 500:
                logger.warning("request failed", extra={"code": error.code, "error": error.message})
            return error_answer(error)
        except (ClientError, BotoCoreError) as error:
            logger.exception("AWS call failed")
            return error_answer(aws_error(error))
        except Exception:
            logger.exception("unexpected error")
            return answer(
                500,
                {"Code": "InternalServerError", "Message": "An internal server error occurred."},
            )

    wrapper.edge = True  # type: ignore[attr-defined]  # every route goes through here (tested)
    return wrapper


def caller(request: Request) -> str:
    """Who is calling: the IAM ARN API Gateway put in the request context, or `local`."""
    identity = (request.context or {}).get("identity") or {}
    return identity.get("userArn") or LOCAL_CALLER


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in pairs:
        if key in result:
            raise BadRequestError(f"body: the key {key!r} appears more than once")
        result[key] = item
    return result


def _no_constants(name: str) -> Any:
    raise BadRequestError(f"body: {name} is not valid JSON")


def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or 400 for anything else."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequestError(
            f"Content-Type must be application/json, got {content_type or 'none'!r}"
        )
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequestError(f"body: larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise BadRequestError("body: a JSON object is required")
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except UnicodeDecodeError as error:
        raise BadRequestError("body: not UTF-8") from error
    except RecursionError as error:
        raise BadRequestError("body: nested too deeply") from error
    except ValueError as error:
        raise BadRequestError(f"body: malformed JSON ({error})") from error
    if not isinstance(body, dict):
        raise BadRequestError(f"body: must be a JSON object, got {json_type(body)}")
    refuse_invalid_unicode(body, "body")
    return body


def query(request: Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query parameters, each given at most once; any other name is a 400."""
    params = request.query_params
    if not params:
        return {}
    for name in params:
        refuse_invalid_unicode(name, "query")
        refuse_invalid_unicode(params.getlist(name), name)
    allowed = set(allowed)
    unknown = sorted(set(params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise BadRequestError(
            f"unknown query parameter(s): {', '.join(unknown)} (expected: {expected})"
        )
    result: dict[str, str] = {}
    for name in params:
        values = params.getlist(name)
        if len(values) != 1:
            raise BadRequestError(f"{name}: give it once")
        result[name] = values[0]
    return result
