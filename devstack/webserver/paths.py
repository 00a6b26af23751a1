"""The MWAA web server's browser paths, by Airflow major version (DESIGN §4's table).

                     Airflow 2.x                  Airflow 3.x
    web login        /aws_mwaa/aws-console-sso    /pluginsv2/aws_mwaa/aws-console-sso
    no session       /aws_mwaa/aws-console-sso    /auth/login/
    Airflow logout   /logout/                     /auth/logout

(web login: `?login=true#<token>`; no session: where the UI sends a browser without one.)
Until the product's own table (authx/airflow_paths.py) exists, this is devstack's copy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebServerPaths:
    login: str
    no_session: str
    logout: str
    home: str


PATHS = {
    2: WebServerPaths(
        login="/aws_mwaa/aws-console-sso",
        no_session="/aws_mwaa/aws-console-sso",
        logout="/logout/",
        home="/home",
    ),
    3: WebServerPaths(
        login="/pluginsv2/aws_mwaa/aws-console-sso",
        no_session="/auth/login/",
        logout="/auth/logout",
        home="/",
    ),
}


def for_version(airflow_version: str) -> WebServerPaths:
    """`2.10.3` → the 2.x paths; an unknown major version is an error, never a guess."""
    major = (airflow_version or "").split(".", 1)[0]
    if not major.isdigit() or int(major) not in PATHS:
        raise ValueError(f"no web server paths for Airflow {airflow_version!r}")
    return PATHS[int(major)]
