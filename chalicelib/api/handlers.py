"""One function per route: parse at the edge, validate, call the service, answer.

Kept out of app.py so the app stays a list of routes (DESIGN §1).
"""

from __future__ import annotations

from chalice.app import Request, Response

from chalicelib.records import clock, pagination

from . import access_service, environments_service, grants_service, reconcile_service, settings
from . import validation as check
from .errors import FieldErrors
from .http import answer, caller, json_object, query


def onboard_environment(request: Request) -> Response:
    query(request, ())
    onboard = check.onboard_request(json_object(request))
    status, body = environments_service.onboard(settings.load(), onboard, caller(request))
    return answer(status, body)


def list_environments(request: Request) -> Response:
    params = query(request, ("status", "limit", "next_token"))
    status = params.get("status")
    if status is not None and status not in environments_service.STATUSES:
        raise FieldErrors(
            [("status", f"must be one of: {', '.join(environments_service.STATUSES)}")]
        )
    body = environments_service.list_page(
        settings.load(), status, pagination.limit(params.get("limit")), params.get("next_token")
    )
    return answer(200, body)


def get_environment(request: Request, name: str) -> Response:
    query(request, ())
    return answer(200, environments_service.get(settings.load(), check.environment_name(name)))


def offboard_environment(request: Request, name: str) -> Response:
    params = query(request, ("delete_environment",))
    delete = check.boolean_flag(params.get("delete_environment", "false"), "delete_environment")
    body = environments_service.offboard(
        settings.load(), check.environment_name(name), delete, caller(request)
    )
    return answer(202, body)


def reconcile_environment(request: Request, name: str) -> Response:
    query(request, ())
    body = reconcile_service.reconcile_environment(
        settings.load(), check.environment_name(name), caller(request)
    )
    return answer(200, body)


def upsert_grant(request: Request) -> Response:
    query(request, ())
    grant = check.grant_request(json_object(request), clock.now())
    status, body = grants_service.upsert(settings.load(), grant, caller(request))
    return answer(status, body)


def list_grants(request: Request) -> Response:
    params = query(request, ("environment", "user", "group", "limit", "next_token"))
    user = params.get("user")
    group = params.get("group")
    environment = params.get("environment")
    problems = check.Problems()
    if user is not None and (problem := check.email_problem(user)):
        problems.add("user", problem)
    if group is not None and (problem := check.group_problem(group)):
        problems.add("group", problem)
    if (
        environment is not None
        and environment != check.ALL_ENVIRONMENTS
        and (problem := check.environment_name_problem(environment))
    ):
        problems.add("environment", problem)
    problems.raise_if_any()
    body = grants_service.list_page(
        settings.load(),
        user=check.ascii_lower(user) if user is not None else None,
        group=group,
        environment=environment,
        page_size=pagination.limit(params.get("limit")),
        token=params.get("next_token"),
    )
    return answer(200, body)


def revoke_grant(request: Request, grant_id: str) -> Response:
    query(request, ())
    grants_service.revoke(settings.load(), grant_id, caller(request))
    return answer(204)


def user_access(request: Request, email: str) -> Response:
    params = query(request, ("groups",))
    user = check.email(email)
    groups = check.groups_list(params.get("groups", ""))
    return answer(200, access_service.access(settings.load(), user, groups))
