"""`GET /aws_mwaa/aws-console-sso`: a verified user, their grants, and a redirect into MWAA.

Order: verify the ALB token (nothing else happens before it passes); read the asked role and the
environment from the request; read the environment and the grants in one DynamoDB round trip;
refuse unless the environment is READY and the grants allow the role; then STS and MWAA; then a
302 to `https://<login_host><web login path of its Airflow version>?login=true#<token>`.

A browser that Airflow sends to its "no session" path (Airflow 3: `/auth/login/`, routed here by
the environment's listener rule) is signed in again the same way: the environment comes from
the host, and Airflow's own query (`next=`) is ignored.
"""

from __future__ import annotations

from urllib.parse import quote

from authx import airflow_paths, environments, grants, roles, settings, token, token_roles, weblogin
from authx.alb import Request, Response
from authx.audit import Decision
from authx.errors import (
    BadRequest,
    EnvironmentNotReady,
    Misconfigured,
    NotGranted,
    RoleAboveGrant,
    UnknownEnvironment,
    UnknownRole,
)

PATH = airflow_paths.AUTHX_LOGIN_PATH  # authX's own entry (the platform's login rule)


def paths(config: settings.Settings) -> frozenset[str]:
    """Every path answered as a login: authX's own and each Airflow version's "no session"."""
    return frozenset({PATH, *(p.no_session for p in config.airflow_paths.values())})


def web_login_path(config: settings.Settings, record: dict, name: str) -> str:
    """The web login path of the Airflow version recorded for the environment."""
    try:
        return airflow_paths.for_version(
            record.get("airflow_version"), config.airflow_paths
        ).web_login
    except airflow_paths.AirflowPathsError as error:
        raise Misconfigured(f"The environment {name!r}: {error}.") from error


TOKEN_HEADER = "x-amzn-oidc-data"  # noqa: S105 - a header name, not a secret


def _environment(request: Request, config: settings.Settings, now: float) -> tuple[str, str | None]:
    """The environment asked for, and the host it was derived from (None when named)."""
    name = request.param("mwaa_env")
    if name is not None:
        if not environments.NAME_PATTERN.fullmatch(name):
            raise BadRequest("mwaa_env is not a valid environment name.")
        return name, None
    host = environments.normalise_host(request.header("host"))
    if host is None:
        raise BadRequest("Name the environment with ?mwaa_env=<name>.")
    return environments.name_for_host(config, host, now), host


def handle(request: Request, decision: Decision, now: float) -> Response:
    decision.action = "login"
    config = settings.current()
    identity = token.verify(request.single_header(TOKEN_HEADER), config, now)
    decision.user = identity.user
    decision.groups_count = len(identity.groups)

    asked_name = request.param("rbac_role")
    asked = roles.canonical_role(asked_name) if asked_name is not None else None
    if asked_name is not None and asked is None:
        raise UnknownRole(
            f"{asked_name!r} is not an Airflow role (Admin, Op, User, Viewer, Public)."
        )
    decision.asked_role = asked

    name, host = _environment(request, config, now)
    decision.environment = name
    found = grants.lookup(config, name, identity)
    try:
        login_host = environments.login_host(found.environment, name)
    except (UnknownEnvironment, EnvironmentNotReady):
        if host is not None:
            environments.forget_host(host)
        raise
    if host is not None and login_host != host:
        environments.forget_host(host)
        raise UnknownEnvironment("No environment is served at this address.")

    effective = roles.effective_role(found.grants, now)
    if effective is None:
        raise NotGranted(f"You have no access to the environment {name!r}.")
    if asked is not None and not roles.allows(effective, asked):
        raise RoleAboveGrant(
            f"You may not open {name!r} as {asked}; your role there is {effective}."
        )
    chosen = asked or effective
    decision.granted_role = chosen

    path = web_login_path(config, found.environment or {}, name)
    target = token_roles.target(found.environment or {}, name, config.region)
    web_token = weblogin.create(config, identity.user, target, chosen)
    location = f"https://{login_host}{path}?login=true#{quote(web_token, safe='-._~+/=')}"
    return Response(status=302, headers=[("Location", location)])
