"""Grants: upsert, list (with dangling marks), revoke (DESIGN §2, §3)."""

from __future__ import annotations

import math
from typing import Any

from authx.roles import ALL_ENVIRONMENTS, GROUP_PREFIX, USER_PREFIX, group_principal, user_principal
from chalicelib.records import clock, environments_repo, grants_repo

from . import audit, grant_ids
from .environments_service import OFFBOARDED
from .errors import BadRequestError, NotFoundError, UnprocessableEntityError
from .settings import Settings
from .validation import GrantRequest


def stored_expiry(grant: dict[str, Any]) -> float | None:
    """A stored `expires_at` as epoch seconds, or None when absent. A value that is not a
    finite number (written by hand, or by another tool) counts as expired: -inf (fail closed),
    so neither a listing nor `GET /access` fails on it, and it grants nothing."""
    stored = grant.get("expires_at")
    if stored is None:
        return None
    if isinstance(stored, bool) or not isinstance(stored, int | float):
        return -math.inf
    return float(stored) if math.isfinite(stored) else -math.inf


def view(grant: dict[str, Any], now: float) -> dict[str, Any]:
    """A stored grant as the API shows it."""
    principal, environment = grant["principal"], grant["environment"]
    shown: dict[str, Any] = {"id": grant_ids.encode(principal, environment)}
    if principal.startswith(USER_PREFIX):
        shown["user"] = principal[len(USER_PREFIX) :]
    elif principal.startswith(GROUP_PREFIX):
        shown["group"] = principal[len(GROUP_PREFIX) :]
    shown["environment"] = environment
    shown["rbac_role"] = grant.get("rbac_role")
    expires_at = stored_expiry(grant)
    if expires_at is not None:
        if math.isfinite(expires_at):
            shown["expires_at"] = clock.iso(expires_at)
        shown["expired"] = expires_at <= now
    for field in ("created_at", "created_by", "updated_at", "updated_by"):
        if grant.get(field) is not None:
            shown[field] = grant[field]
    return shown


def upsert(settings: Settings, request: GrantRequest, actor: str) -> tuple[int, dict[str, Any]]:
    """POST /grants: 201 new, 200 changed or same; 404 unknown, 422 offboarded environment."""
    if request.environment != ALL_ENVIRONMENTS:
        record = environments_repo.get(settings.environments_table, request.environment)
        if record is None:
            raise NotFoundError(f"environment: no environment named {request.environment}")
        if record.get("status") == OFFBOARDED:
            raise UnprocessableEntityError(
                f"environment: {request.environment} is OFFBOARDED; onboard it again first"
            )
    before, after = grants_repo.upsert(
        settings.grants_table,
        request.principal,
        request.environment,
        request.rbac_role,
        request.expires_at,
        actor,
        clock.iso(),
    )
    target = {"principal": request.principal, "environment": request.environment}
    audit.event(
        "grant.create" if before is None else "grant.update",
        actor=actor,
        target=target,
        before=before,
        after=after,
    )
    return (201 if before is None else 200), view(after, clock.now())


def revoke(settings: Settings, grant_id: str, actor: str) -> None:
    principal, environment = grant_ids.decode(grant_id)
    before = grants_repo.delete(settings.grants_table, principal, environment)
    if before is None:
        raise NotFoundError(f"no grant with id {grant_id}")
    audit.event(
        "grant.revoke",
        actor=actor,
        target={"principal": principal, "environment": environment},
        before=before,
        after=None,
    )


def list_page(
    settings: Settings,
    *,
    user: str | None,
    group: str | None,
    environment: str | None,
    page_size: int,
    token: str | None,
) -> dict[str, Any]:
    """GET /grants: exact filters; grants on OFFBOARDED or unknown environments are dangling."""
    if user is not None and group is not None:
        raise BadRequestError("user: filter by user or by group, not both")
    principal = None
    if user is not None:
        principal = user_principal(user)
    elif group is not None:
        principal = group_principal(group)
    grants, next_token = grants_repo.page(
        settings.grants_table, principal, environment, page_size, token
    )
    named = {g["environment"] for g in grants if g["environment"] != ALL_ENVIRONMENTS}
    records = environments_repo.get_many(settings.environments_table, named) if named else {}
    now = clock.now()
    items = []
    for grant in grants:
        shown = view(grant, now)
        env = grant["environment"]
        if env != ALL_ENVIRONMENTS:
            record = records.get(env)
            shown["dangling"] = record is None or record.get("status") == OFFBOARDED
        else:
            shown["dangling"] = False
        items.append(shown)
    body: dict[str, Any] = {"items": items}
    if next_token:
        body["next_token"] = next_token
    return body
