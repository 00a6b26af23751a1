"""The MWAA web server's browser paths, by Airflow major version: the product's own table
(`authx/airflow_paths.py`, with the stage's `AIRFLOW_PATHS` overrides), so the stand-in serves
exactly the paths authX and the listener rules expect. Only `home` (where the UI lands after a
login) is devstack's own.

(web login: `?login=true#<token>`; no session: where the UI sends a browser without one.)
"""

from __future__ import annotations

from dataclasses import dataclass

from authx import airflow_paths

HOMES = {2: "/home", 3: "/"}


@dataclass(frozen=True)
class WebServerPaths:
    login: str
    no_session: str
    logout: str
    home: str
    session_cookie: str  # Airflow 2's `session`, Airflow 3's `_token`


def for_version(airflow_version: str) -> WebServerPaths:
    """`2.10.3` → the 2.x paths; an unknown major version is an error, never a guess."""
    try:
        if not airflow_version:
            raise airflow_paths.AirflowPathsError("no version")
        paths = airflow_paths.for_version(airflow_version)
    except airflow_paths.AirflowPathsError as error:
        raise ValueError(f"no web server paths for Airflow {airflow_version!r}") from error
    major = airflow_paths.major(airflow_version)
    return WebServerPaths(
        login=paths.web_login,
        no_session=paths.no_session,
        logout=paths.logout[0],
        home=HOMES.get(major, "/"),
        session_cookie=paths.session_cookies[0],
    )
