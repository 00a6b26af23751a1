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
from datetime import datetime
from typing import Any

from authx.roles import ALL_ENVIRONMENTS, canonical_role, group_principal, user_principal

from . import mwaa_model
from .errors import FieldErrors
from .values import json_type

ENVIRONMENT_NAME = re.compile(r"[a-zA-Z][0-9a-zA-Z_-]{0,79}", re.ASCII)
MODES = ("attach", "create")
ACCESS_MODES = ("PUBLIC_ONLY", "PRIVATE_ONLY")
DEFAULT_ACCESS_MODE = "PRIVATE_ONLY"  # MWAA's own default when WebserverAccessMode is absent
DNS_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)
EMAIL_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*", re.ASCII)
MAX_EMAIL = 254
MAX_GROUP_ID = 256
MAX_GROUPS = 100
# The stage setting that bounds `create.ExecutionRoleArn` (and the steps' iam:PassRole).
EXECUTION_ROLE_PREFIX = "MWAA_EXECUTION_ROLE_PREFIX"
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/(?P<path_and_name>[\w+=,.@/-]+)", re.ASCII)


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
    """A DNS host name: 2+ labels of [a-z0-9-] (1-63, no edge '-'), ≤ 253 chars, no IP."""
    host = value.lower()
    labels = host.split(".")
    if (
        not 3 <= len(host) <= 253
        or len(labels) < 2
        or not all(DNS_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
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


def email_problem(value: str) -> str | None:
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    if (
        not at
        or len(address) > MAX_EMAIL
        or len(local) > 64
        or not EMAIL_LOCAL.fullmatch(local)
        or hostname_problem(domain) is not None
    ):
        return f"must be an email address such as jane@example.com (got {_shown(value)})"
    return None


def group_problem(value: str) -> str | None:
    if not 1 <= len(value) <= MAX_GROUP_ID:
        return f"must be 1-{MAX_GROUP_ID} characters"
    if not value.isprintable():
        return "must be printable characters only"
    return None


def parse_expires_at(value: str, now: float) -> tuple[int | None, str | None]:
    """ISO 8601 with a time zone, in the future → epoch seconds; or the problem."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return (
            None,
            f"must be an ISO 8601 date-time such as 2030-01-31T12:00:00Z (got {_shown(value)})",
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, "must include a time zone, e.g. 2030-01-31T12:00:00Z"
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
    problem = email_problem(value)
    if problem:
        raise FieldErrors([(field, problem)])
    return value.strip().lower()


def groups_list(value: str, field: str = "groups") -> list[str]:
    """`a,b,c` → ["a", "b", "c"]: blanks dropped, each a valid group id, at most 100."""
    groups = [group.strip() for group in value.split(",") if group.strip()]
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
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise FieldErrors([(field, f"must be true or false (got {_shown(value)})")])


# --- request bodies --------------------------------------------------------------------------


@dataclass(frozen=True)
class OnboardRequest:
    name: str
    mode: str
    create: dict[str, Any] | None
    hostname: str | None

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
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


ONBOARD_FIELDS = ("name", "mode", "create", "hostname")


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
        name=name, mode=mode, create=create if mode == "create" else None, hostname=hostname
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
        kind, subject = "user", user.strip().lower()
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
