"""The ALB's Lambda contract: the request event in, the response out.

The target group has multi-value headers on, so headers and query parameters arrive as lists
(header names lower-cased) and the response must answer with `multiValueHeaders`. With it off,
the single-value shapes are read (and the handler refuses the request: one Set-Cookie only would
reach the browser), and the refusal is written in the single-value shape. The ALB does not
decode query strings: names and values are URL-decoded here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_plus

from authx.errors import BadRequest

# Never cache a login redirect (it carries a web token) or a refusal.
BASE_HEADERS: dict[str, str] = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
HTML_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, list[str]]
    multi_value: bool

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def single_header(self, name: str) -> str | None:
        """A header that must come once: given twice, neither copy is trusted (None)."""
        values = self.headers.get(name.lower())
        return values[0] if values and len(values) == 1 else None

    def header_values(self, name: str) -> list[str]:
        return list(self.headers.get(name.lower(), []))

    def param(self, name: str) -> str | None:
        """One query parameter; given twice, or given empty, is a malformed request."""
        values = self.query.get(name)
        if values is None:
            return None
        if len(values) != 1 or not values[0]:
            raise BadRequest(f"The query parameter {name!r} must be given once, with a value.")
        return values[0]


@dataclass
class Response:
    status: int
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)


def _lists(
    raw: Any, multi: bool, name_of: Callable[[str], str], value_of: Callable[[str], str]
) -> dict[str, list[str]]:
    """An event's single- or multi-value map as name → list of values, non-strings dropped."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, list[str]] = {}
    for name, value in raw.items():
        values = value if multi else [value]
        if isinstance(values, list):
            out.setdefault(name_of(str(name)), []).extend(
                value_of(v) for v in values if isinstance(v, str)
            )
    return out


def _unchanged(value: str) -> str:
    return value


def _header_name(name: str) -> str:
    # ASCII lower-casing only: `str.lower()` would make "coo\u212aie" (KELVIN SIGN) a cookie.
    return name.lower() if name.isascii() else name


def parse(event: Any) -> Request:
    """The request an ALB event describes; an event that is not one is a bad request."""
    if not isinstance(event, dict) or not isinstance(event.get("path"), str):
        raise BadRequest("This is not a load balancer request.")
    multi = "multiValueHeaders" in event
    return Request(
        method=str(event.get("httpMethod", "")).upper(),
        path=event["path"],
        query=_lists(  # the ALB passes query names and values URL-encoded
            event.get("multiValueQueryStringParameters" if multi else "queryStringParameters"),
            multi,
            unquote_plus,
            unquote_plus,
        ),
        headers=_lists(
            event.get("multiValueHeaders" if multi else "headers"), multi, _header_name, _unchanged
        ),
        multi_value=multi,
    )


def render(response: Response, multi_value: bool = True) -> dict[str, Any]:
    """The ALB response dictionary for `response`."""
    headers: list[tuple[str, str]] = list(BASE_HEADERS.items())
    if response.body:
        headers.extend(HTML_HEADERS.items())
    headers.extend(response.headers)
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Unknown"
    result: dict[str, Any] = {
        "statusCode": response.status,
        "statusDescription": f"{response.status} {phrase}",
        "isBase64Encoded": False,
        "body": response.body,
    }
    if multi_value:
        grouped: dict[str, list[str]] = {}
        for name, value in headers:
            grouped.setdefault(name, []).append(value)
        result["multiValueHeaders"] = grouped
    else:
        # Single-value mode cannot repeat a header: the last value of each name wins.
        result["headers"] = dict(headers)
    return result
