"""Onboarded environments as authX sees them: which one a request means, and whether it is open.

An environment is named by `mwaa_env` or, when absent, by the request's host (an environment's
`login_host`). Hosts map to names through a small per-container map of the environments table,
refreshed when it is older than a minute, and on a miss at most every few seconds (so made-up
hosts cannot turn into a scan per request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from authx import dynamo
from authx.errors import (
    EnvironmentDegraded,
    EnvironmentNotReady,
    Misconfigured,
    UnknownEnvironment,
)
from authx.roles import ascii_lower
from authx.settings import Settings

# MWAA environment names: a letter, then letters, digits, '-' or '_'; 1 to 80 characters.
NAME_PATTERN = re.compile(r"^[A-Za-z][0-9A-Za-z_-]{0,79}$")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST_PATTERN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_PORT = re.compile(r"[0-9]{1,5}")
READY, DEGRADED = "READY", "DEGRADED"

HOST_MAP_TTL_SECONDS = 60.0
HOST_MAP_MISS_REFRESH_SECONDS = 5.0

_hosts: dict[str, str] = {}
_loaded_at: float | None = None


def clear() -> None:
    """Forget the host map (tests)."""
    global _loaded_at
    _hosts.clear()
    _loaded_at = None


def normalise_host(raw: str | None) -> str | None:
    """The host name of a Host header (port dropped, lower-cased), or None if it is not one.

    ASCII only, like every name here: `str.lower()` would turn U+212A KELVIN SIGN into `k` and
    `str.isdigit()` accepts other scripts' digits, so neither is used.
    """
    if not raw:
        return None
    host = ascii_lower(raw.strip(" \t"))
    if host.count(":") == 1:
        host, _, port = host.partition(":")
        if not _PORT.fullmatch(port):
            return None
    return host if HOST_PATTERN.fullmatch(host) else None


def _load(settings: Settings, now: float) -> None:
    global _loaded_at
    items = dynamo.scan(settings.region, settings.environments_table, ["name", "login_host"])
    _hosts.clear()
    for item in items:
        host = normalise_host(item.get("login_host"))
        if host and isinstance(item.get("name"), str):
            _hosts[host] = item["name"]
    _loaded_at = now


def name_for_host(settings: Settings, host: str, now: float) -> str:
    """The environment whose `login_host` is `host`; unknown host → `UnknownEnvironment`."""
    age = None if _loaded_at is None else now - _loaded_at
    stale = age is None or age > HOST_MAP_TTL_SECONDS
    if stale or (host not in _hosts and age > HOST_MAP_MISS_REFRESH_SECONDS):
        _load(settings, now)
    name = _hosts.get(host)
    if name is None:
        raise UnknownEnvironment("No environment is served at this address.")
    return name


def forget_host(host: str) -> None:
    """Drop a host whose record no longer matches (it is reloaded on the next miss)."""
    _hosts.pop(host, None)


def login_host(record: Mapping[str, Any] | None, name: str) -> str:
    """Where a READY environment's users are sent; unknown or not READY → 404, DEGRADED → 503."""
    if record is None:
        raise UnknownEnvironment(f"There is no environment named {name!r}.")
    if record.get("status") == DEGRADED:
        raise EnvironmentDegraded(
            f"The Airflow environment {name!r} cannot be reached right now; mwaa-gate has "
            "marked it degraded for the platform team. Please try again later."
        )
    if record.get("status") != READY:
        raise EnvironmentNotReady(f"The environment {name!r} is not open for sign-in.")
    host = normalise_host(record.get("login_host"))
    if host is None:
        raise Misconfigured(f"The environment {name!r} has no valid login host.")
    return host
