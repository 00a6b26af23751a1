"""The Airflow web server's paths, per major version (DESIGN §4 "Airflow versions"), in one place.

authX (where it redirects, which paths it answers), the workflow (listener rules, the target
group's health check), platform setup, devstack and the docs all read this table. It is chosen
by the major version of the environment's `airflow_version` and can be overridden per stage with
the environment variable `AIRFLOW_PATHS`, a JSON object from major version to the fields to
replace, so a change at AWS is a settings change:

    AIRFLOW_PATHS='{"3": {"web_login": "/pluginsv2/aws_mwaa/aws-console-sso"}}'

A new major version may be added the same way when every field is given. The defaults and
where each comes from are listed in docs/airflow.md.

Pure: no AWS, no I/O; imported on authX's cold start, so it stays small.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

ENV_VARIABLE = "AIRFLOW_PATHS"
# authX's own paths, served by the platform's listener rules on every host. The login path is
# also Airflow 2's web login path, which is why those two rules share it.
AUTHX_LOGIN_PATH = "/aws_mwaa/aws-console-sso"
AUTHX_LOGOUT_PATHS = ("/logout", "/logout/")
AUTHX_CLOSE_PATH = "/logout/close"
DEFAULT_MAJOR = 2  # a record without `airflow_version` predates Airflow 3 support
# An ALB path-pattern value: at most 128 characters; no query, fragment, space or wildcard here.
_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@/-]{0,127}$")
_COOKIE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
_VERSION = re.compile(r"^([0-9]{1,3})(?:\.[0-9]{1,6}){0,3}$")
MAX_LOGOUT_PATHS = 3  # with the host and the no-session path, a rule's 5 condition values


class AirflowPathsError(ValueError):
    """`AIRFLOW_PATHS` is malformed, or a version has no paths."""


@dataclass(frozen=True)
class Paths:
    """Where things are on an Airflow web server of one major version."""

    web_login: str  # authX redirects here with `?login=true#<token>`
    no_session: str  # where the UI sends a browser without a session
    logout: tuple[str, ...]  # Airflow's own logout
    programmatic_login: str  # `POST` with a web login token (documented by AWS)
    health_check: str  # the target group's health check (any 200 or 302 is healthy)
    session_cookies: tuple[str, ...]  # Airflow's session cookies, expired at logout


DEFAULTS: Mapping[int, Paths] = {
    2: Paths(
        web_login="/aws_mwaa/aws-console-sso",
        no_session="/aws_mwaa/aws-console-sso",
        logout=("/logout/",),
        programmatic_login="/aws_mwaa/login",
        health_check="/aws_mwaa/aws-console-sso",
        session_cookies=("session",),
    ),
    3: Paths(
        web_login="/pluginsv2/aws_mwaa/aws-console-sso",
        no_session="/auth/login/",
        logout=("/auth/logout", "/auth/logout/"),
        programmatic_login="/pluginsv2/aws_mwaa/login",
        health_check="/api/v2/monitor/health",
        session_cookies=("_token",),
    ),
}
_FIELDS = tuple(f.name for f in fields(Paths))
_LISTS = ("logout", "session_cookies")


def major(version: object) -> int:
    """The major version of an `airflow_version` such as `2.10.3`; absent → 2."""
    if version is None or version == "":
        return DEFAULT_MAJOR
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise AirflowPathsError(f"{str(version)[:40]!r} is not an Airflow version")
    return int(match.group(1))


def _path(value: object, where: str) -> str:
    if not isinstance(value, str) or not _PATH.fullmatch(value) or "//" in value:
        raise AirflowPathsError(f"{where} must be a path such as /auth/login/ (≤ 128 characters)")
    return value


def _field(name: str, value: object, where: str) -> Any:
    if name not in _LISTS:
        return _path(value, where)
    if not isinstance(value, list) or not value:
        raise AirflowPathsError(f"{where} must be a non-empty list")
    if name == "logout":
        if len(value) > MAX_LOGOUT_PATHS:
            raise AirflowPathsError(f"{where} holds at most {MAX_LOGOUT_PATHS} paths")
        return tuple(_path(item, f"{where}[{i}]") for i, item in enumerate(value))
    for item in value:
        if not isinstance(item, str) or not _COOKIE.fullmatch(item):
            raise AirflowPathsError(f"{where} must list cookie names")
    return tuple(value)


def parse(raw: str | None) -> dict[int, Paths]:
    """The table: the defaults with `raw` (the `AIRFLOW_PATHS` JSON) laid over them."""
    table = dict(DEFAULTS)
    if raw is None or not raw.strip():
        return table
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise AirflowPathsError(f"{ENV_VARIABLE} is not JSON") from error
    if not isinstance(document, dict):
        raise AirflowPathsError(f"{ENV_VARIABLE} must be a JSON object of major version to paths")
    for key, overrides in document.items():
        if not re.fullmatch(r"[1-9][0-9]{0,2}", key):
            raise AirflowPathsError(f"{ENV_VARIABLE}: {key[:20]!r} is not a major version")
        if not isinstance(overrides, dict):
            raise AirflowPathsError(f"{ENV_VARIABLE}[{key}] must be an object")
        unknown = sorted(set(overrides) - set(_FIELDS))
        if unknown:
            raise AirflowPathsError(
                f"{ENV_VARIABLE}[{key}] has unknown fields {', '.join(u[:40] for u in unknown)}; "
                f"known: {', '.join(_FIELDS)}"
            )
        values = {
            name: _field(name, value, f"{ENV_VARIABLE}[{key}].{name}")
            for name, value in overrides.items()
        }
        base = table.get(int(key))
        if base is None:
            missing = [name for name in _FIELDS if name not in values]
            if missing:
                raise AirflowPathsError(
                    f"{ENV_VARIABLE}[{key}] is a new major version: give {', '.join(missing)} too"
                )
            table[int(key)] = Paths(**values)
        else:
            table[int(key)] = replace(base, **values)
    return table


_cache: tuple[str | None, dict[int, Paths]] | None = None


def table(environ: Mapping[str, str] | None = None) -> dict[int, Paths]:
    """The stage's table (from `os.environ` unless given), parsed once per value."""
    global _cache
    raw = (os.environ if environ is None else environ).get(ENV_VARIABLE)
    if _cache is None or _cache[0] != raw:
        _cache = (raw, parse(raw))
    return _cache[1]


def for_version(version: object, paths: Mapping[int, Paths] | None = None) -> Paths:
    """The paths of an environment running `version` (e.g. `3.0.6`)."""
    number = major(version)
    found = (table() if paths is None else paths).get(number)
    if found is None:
        raise AirflowPathsError(
            f"no paths are known for Airflow {number}; add them to {ENV_VARIABLE}"
        )
    return found
