"""Field-level validation of what callers send (DESIGN §3). Pure: no AWS, no I/O.

Each request validator reports every problem at once as `FieldErrors` (400), with the path
of the field in the message (`create.NetworkConfiguration.SubnetIds: ...`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from authx.roles import (
    ALL_ENVIRONMENTS,
    MAX_GROUP_ID,
    ascii_lower,
    canonical_role,
    group_id_problem,
    group_principal,
    user_principal,
)

from . import mwaa_model
from .errors import FieldErrors
from .mwaa_model import ACCESS_MODES
from .values import json_type

MAX_ENVIRONMENT_NAME = 80
ENVIRONMENT_NAME = re.compile(rf"[a-zA-Z][0-9a-zA-Z_-]{{0,{MAX_ENVIRONMENT_NAME - 1}}}", re.ASCII)
ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}", re.ASCII)
MODES = ("attach", "create")
DEFAULT_ACCESS_MODE = "PRIVATE_ONLY"  # MWAA's own default when WebserverAccessMode is absent
# Patterns that mean the same in Python's `re` and in ECMA-262: docs/openapi.yaml uses these
# very strings (tests/api/test_contract.py checks it).
HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # never all digits: not an IP
HOSTNAME = rf"(?:{HOST_LABEL}\.)+{TOP_LABEL}"
EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL = rf"{EMAIL_ATOM}(?:\.{EMAIL_ATOM})*@{HOSTNAME}"
MAX_HOSTNAME = 253
MAX_EMAIL = 254
MAX_GROUPS = 100
# The stage setting that bounds `create.ExecutionRoleArn` (and the steps' iam:PassRole).
EXECUTION_ROLE_PREFIX = "MWAA_EXECUTION_ROLE_PREFIX"
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/(?P<path_and_name>[\w+=,.@/-]+)", re.ASCII)
# RFC 3339 date-time (the ISO 8601 profile JSON Schema's `date-time` names), ASCII digits only.
DATE_TIME = (
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])"
    r"(\.[0-9]{1,6})?(?:([Zz])|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))"
)
_DATE_TIME = re.compile(DATE_TIME)
# The last instant that Python, DynamoDB's TTL and ISO 8601 (4-digit years) all represent.
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


class Problems:
    """Collects (field, problem) pairs; `raise_if_any` turns them into one 400."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, problem: str) -> None:
        self.items.append((field, problem))

    def raise_if_any(self) -> None:
        if self.items:
            raise FieldErrors(self.items)


def _unknown_fields(body: dict[str, Any], allowed: tuple[str, ...], problems: Problems) -> None:
    for key in body:
        if key not in allowed:
            problems.add(_shown(key), f"unknown field (expected one of: {', '.join(allowed)})")


def _shown(text: str, limit: int = 64) -> str:
    """A caller's string, quoted and cut, safe to echo in a message."""
    return json.dumps(text[:limit] + ("…" if len(text) > limit else ""), ensure_ascii=True)


def _string(body: dict[str, Any], field: str, problems: Problems, *, required: bool) -> str | None:
    if field not in body or (body[field] is None and not required):
        if required:
            problems.add(field, "required")
        return None
    value = body[field]
    if not isinstance(value, str):
        problems.add(field, f"must be a string, got {json_type(value)}")
        return None
    return value


# --- single values ---------------------------------------------------------------------------


def environment_name_problem(value: str) -> str | None:
    if ENVIRONMENT_NAME.fullmatch(value):
        return None
    return (
        f"must be 1-80 characters: a letter, then letters, digits, '-' or '_' (got {_shown(value)})"
    )


def hostname_problem(value: str) -> str | None:
    """A DNS host name (any case): 2+ labels of letters, digits and inner '-' (1-63 each), the
    last starting with a letter (so never an IP address), at most 253 characters."""
    if len(value) > MAX_HOSTNAME or not _HOSTNAME.fullmatch(value):
        return f"must be a DNS host name such as airflow.example.com (got {_shown(value)})"
    return None


def execution_role_problem(arn: str, prefix: str | None = None) -> str | None:
    """The execution roles this deployment may hand to MWAA: those whose path and name start
    with the stage's MWAA_EXECUTION_ROLE_PREFIX (its iam:PassRole is limited to the same,
    `role/<prefix>*`). Without the setting, the deployment creates no environments."""
    if prefix is None:
        prefix = os.environ.get(EXECUTION_ROLE_PREFIX, "")
    prefix = prefix.strip().lstrip("/")
    if not prefix:
        return (
            f"this deployment does not create MWAA environments ({EXECUTION_ROLE_PREFIX} is "
            "not set); onboard an existing environment with mode attach"
        )
    match = ROLE_ARN.fullmatch(arn)
    if match is None or not match["path_and_name"].startswith(prefix):
        return (
            f"must be an IAM role whose path and name start with {_shown(prefix)}, the roles "
            f"this deployment may pass to MWAA (got {_shown(arn)})"
        )
    return None


_HOSTNAME = re.compile(HOSTNAME)
_EMAIL = re.compile(EMAIL)


def email_problem(value: str) -> str | None:
    """An email address as an ASCII user id: nothing trimmed, nothing folded but A-Z."""
    if len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value):
        return f"must be an email address such as jane@example.com (got {_shown(value)})"
    return None


def group_problem(value: str) -> str | None:
    """A group id is exact (DESIGN §2, `authx.roles.group_id_problem`): no control or format
    characters, no whitespace at either end (it could never match), 1-256 characters."""
    if not 1 <= len(value) <= MAX_GROUP_ID:
        return f"must be 1-{MAX_GROUP_ID} characters"
    return group_id_problem(value)


def parse_expires_at(value: str, now: float) -> tuple[int | None, str | None]:
    """RFC 3339 date-time with a time zone, in the future, not after 9999 in UTC → epoch."""
    shape = (
        f"must be an ISO 8601 (RFC 3339) date-time with a time zone, such as "
        f"2030-01-31T12:00:00Z (got {_shown(value)})"
    )
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return None, shape
    date, time, fraction, utc, sign, offset_hours, offset_minutes = match.groups()
    try:
        offset: timezone = UTC
        if not utc:
            hours, minutes = int(offset_hours), int(offset_minutes)
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            delta = timedelta(hours=hours, minutes=minutes)
            offset = timezone(delta if sign == "+" else -delta)
        local = datetime.fromisoformat(f"{date}T{time}{fraction or ''}")
    except ValueError:  # no such day, time or offset
        return None, shape
    try:
        moment = local.replace(tzinfo=offset).astimezone(UTC)
    except OverflowError:  # year 10000 (or 0) once in UTC
        if local.year == 1:
            return None, "must be in the future"
        return None, "must not be after 9999-12-31T23:59:59Z"
    if moment > LATEST:
        return None, "must not be after 9999-12-31T23:59:59Z"
    epoch = int(moment.timestamp())
    if epoch <= now:
        return None, "must be in the future"
    return epoch, None


def environment_name(value: str, field: str = "name") -> str:
    problem = environment_name_problem(value)
    if problem:
        raise FieldErrors([(field, problem)])
    return value


def email(value: str, field: str = "email") -> str:
    """The user id of an address (ASCII lower-case), or 400."""
    problem = email_problem(value)
    if problem:
        raise FieldErrors([(field, problem)])
    return ascii_lower(value)


def groups_list(value: str, field: str = "groups") -> list[str]:
    """`a,b, c` → ["a", "b", "c"]: split on commas, ASCII spaces trimmed around them (as authX
    reads a string groups claim), blanks dropped, each a valid group id, at most 100."""
    groups = [group.strip(" ") for group in value.split(",") if group.strip(" ")]
    problems = Problems()
    if len(groups) > MAX_GROUPS:
        problems.add(field, f"at most {MAX_GROUPS} groups")
    for index, group in enumerate(groups[:MAX_GROUPS]):
        problem = group_problem(group)
        if problem:
            problems.add(f"{field}[{index}]", problem)
    problems.raise_if_any()
    return groups


def boolean_flag(value: str, field: str) -> bool:
    """A query flag: `true` or `false`, as OpenAPI serialises a boolean."""
    if value in ("true", "false"):
        return value == "true"
    raise FieldErrors([(field, f"must be true or false (got {_shown(value)})")])


# --- request bodies --------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardRequest:
    name: str
    mode: str
    create: dict[str, Any] | None
    hostname: str | None
    account_id: str | None = None
    region: str | None = None
    mwaa_name: str | None = None

    @property
    def access_mode(self) -> str | None:
        """Known up front for `create`; the workflow finds it out for `attach`."""
        if self.create is None:
            return None
        return self.create.get("WebserverAccessMode", DEFAULT_ACCESS_MODE)

    def fingerprint(self) -> str:
        """Same validated body ⇔ same fingerprint (key order and spacing do not matter)."""
        canonical = json.dumps(
            {
                "name": self.name,
                "mode": self.mode,
                "create": self.create,
                "hostname": self.hostname,
                "account_id": self.account_id,
                "region": self.region,
                "mwaa_name": self.mwaa_name,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


ONBOARD_FIELDS = ("name", "mode", "create", "hostname", "account_id", "region", "mwaa_name")


def _where(body: dict[str, Any], problems: Problems) -> tuple[str | None, str | None, str | None]:
    """`account_id`, `region`, `mwaa_name` (DESIGN §2): each optional, each checked."""
    account_id = _string(body, "account_id", problems, required=False)
    if account_id is not None and not ACCOUNT_ID.fullmatch(account_id):
        problems.add("account_id", f"must be a 12-digit AWS account id (got {_shown(account_id)})")
        account_id = None
    region = _string(body, "region", problems, required=False)
    if region is not None and not REGION.fullmatch(region):
        problems.add("region", f"must be an AWS region such as eu-west-1 (got {_shown(region)})")
        region = None
    mwaa_name = _string(body, "mwaa_name", problems, required=False)
    if mwaa_name is not None and (problem := environment_name_problem(mwaa_name)):
        problems.add("mwaa_name", problem)
        mwaa_name = None
    return account_id, region, mwaa_name


def onboard_request(body: dict[str, Any]) -> OnboardRequest:
    problems = Problems()
    _unknown_fields(body, ONBOARD_FIELDS, problems)
    name = _string(body, "name", problems, required=True)
    if name is not None and (problem := environment_name_problem(name)):
        problems.add("name", problem)
    mode = _string(body, "mode", problems, required=True)
    if mode is not None and mode not in MODES:
        problems.add("mode", f"must be one of: {', '.join(MODES)} (got {_shown(mode)})")
        mode = None
    account_id, region, mwaa_name = _where(body, problems)
    hostname = _string(body, "hostname", problems, required=False)
    if hostname is not None:
        if problem := hostname_problem(hostname):
            problems.add("hostname", problem)
        hostname = hostname.lower()
    create = body.get("create")
    if mode == "create":
        if create is None:
            problems.add("create", "required when mode is create")
        else:
            found = mwaa_model.create_environment_problems(create, "create")
            for field, problem in found:
                problems.add(field, problem)
            if isinstance(create, dict):
                role = create.get("ExecutionRoleArn")
                role_ok = all(field != "create.ExecutionRoleArn" for field, _ in found)
                if isinstance(role, str) and role_ok and (problem := execution_role_problem(role)):
                    problems.add("create.ExecutionRoleArn", problem)
                access = create.get("WebserverAccessMode", DEFAULT_ACCESS_MODE)
                if access not in ACCESS_MODES:
                    problems.add(
                        "create.WebserverAccessMode",
                        f"only {' and '.join(ACCESS_MODES)} are supported",
                    )
                elif access == "PUBLIC_ONLY" and hostname is not None:
                    problems.add(
                        "hostname",
                        "only for PRIVATE_ONLY environments (a PUBLIC_ONLY one is reached at "
                        "its own WebserverUrl)",
                    )
    elif mode == "attach" and "create" in body:
        problems.add("create", "only allowed when mode is create")
    problems.raise_if_any()
    if name is None or mode is None:
        raise FieldErrors([("body", "incomplete request")])  # unreachable: reported above
    return OnboardRequest(
        name=name,
        mode=mode,
        create=mwaa_model.normalized(create) if mode == "create" else None,
        hostname=hostname,
        account_id=account_id,
        region=region,
        mwaa_name=mwaa_name,
    )


@dataclass(frozen=True)
class GrantRequest:
    kind: str  # "user" | "group"
    subject: str  # the email (lower-cased) or the group id
    environment: str
    rbac_role: str
    expires_at: int | None

    @property
    def principal(self) -> str:
        if self.kind == "user":
            return user_principal(self.subject)
        return group_principal(self.subject)


GRANT_FIELDS = ("user", "group", "environment", "rbac_role", "expires_at")


def grant_request(body: dict[str, Any], now: float) -> GrantRequest:
    problems = Problems()
    _unknown_fields(body, GRANT_FIELDS, problems)
    has_user = body.get("user") is not None
    has_group = body.get("group") is not None
    user = _string(body, "user", problems, required=False)
    group = _string(body, "group", problems, required=False)
    kind = subject = None
    if has_user and has_group:
        problems.add("user", "give either user or group, not both")
    elif not has_user and not has_group:
        problems.add("user", "required (or group)")
    elif user is not None:
        if problem := email_problem(user):
            problems.add("user", problem)
        kind, subject = "user", ascii_lower(user)
    elif group is not None:
        if problem := group_problem(group):
            problems.add("group", problem)
        kind, subject = "group", group
    environment = _string(body, "environment", problems, required=True)
    if (
        environment is not None
        and environment != ALL_ENVIRONMENTS
        and (problem := environment_name_problem(environment))
    ):
        problems.add("environment", problem + " or '*' for all environments")
    role_text = _string(body, "rbac_role", problems, required=True)
    role = None
    if role_text is not None:
        role = canonical_role(role_text)
        if role is None:
            problems.add(
                "rbac_role",
                f"must be one of Admin, Op, User, Viewer, Public (got {_shown(role_text)})",
            )
    expires_text = _string(body, "expires_at", problems, required=False)
    expires_at = None
    if expires_text is not None:
        expires_at, problem = parse_expires_at(expires_text, now)
        if problem:
            problems.add("expires_at", problem)
    problems.raise_if_any()
    if kind is None or subject is None or environment is None or role is None:
        raise FieldErrors([("body", "incomplete grant")])  # unreachable: reported above
    return GrantRequest(
        kind=kind, subject=subject, environment=environment, rbac_role=role, expires_at=expires_at
    )
