"""The MWAA environment: describe, create (tagged, once), poll with backoff, delete.

`name` is always the environment's name in MWAA (the record's `mwaa_name`); `where` is where
it lives (its account and region; the service's own by default). Tags carry the mwaa-gate
name (`tag_name`), which differs when two accounts both have an environment of that name.
"""

from __future__ import annotations

import math
import time
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws_clients import Location

from . import tags
from .errors import (
    AwsCallFailed,
    CreationTimedOut,
    EnvironmentCreationFailed,
    EnvironmentUnavailable,
    aws_call,
    error_code,
)

FAILED = {"CREATE_FAILED", "UNAVAILABLE", "DELETING", "DELETED"}
HERE = Location()


def _where_text(where: Location) -> str:
    parts = [f"account {where.account_id}" if where.account_id else "", where.region or ""]
    return " in " + ", ".join(p for p in parts if p) if any(parts) else " in this region"


def describe(name: str, where: Location = HERE) -> dict[str, Any] | None:
    with aws_call("mwaa:GetEnvironment"):
        try:
            return where.mwaa().get_environment(Name=name)["Environment"]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise


def require_available(name: str, where: Location = HERE) -> dict[str, Any]:
    environment = describe(name, where)
    if environment is None:
        raise EnvironmentUnavailable(f"MWAA has no environment named {name}{_where_text(where)}")
    status = environment.get("Status")
    if status == "PENDING":
        raise EnvironmentUnavailable(
            f"environment {name} is PENDING: it uses customer-managed VPC endpoints that do not "
            "exist yet; create them (see MWAA's WebserverVpcEndpointService) and onboard again"
        )
    if status != "AVAILABLE":
        raise EnvironmentUnavailable(f"environment {name} is {status}, not AVAILABLE")
    return environment


def ours(environment: dict[str, Any] | None, name: str) -> bool:
    present = (environment or {}).get("Tags") or {}
    return all(present.get(key) == value for key, value in tags.values(name).items())


def ensure_created(
    name: str, parameters: dict[str, Any], where: Location = HERE, tag_name: str | None = None
) -> None:
    """CreateEnvironment once: an environment of that name that this service made is fine."""
    tag_name = tag_name or name
    existing = describe(name, where)
    if existing is not None:
        if ours(existing, tag_name):
            return
        raise AwsCallFailed(
            f"an MWAA environment named {name} already exists and was not created by this "
            "service; onboard it with mode 'attach' instead"
        )
    request = {**parameters, "Name": name}
    request["Tags"] = {**(parameters.get("Tags") or {}), **tags.values(tag_name)}
    with aws_call("mwaa:CreateEnvironment"):
        where.mwaa().create_environment(**request)


def first_wait(timing: dict[str, Any]) -> dict[str, Any]:
    return {
        "available": False,
        "seconds": int(timing["poll_seconds"]),
        "deadline": int(time.time() + int(timing["deadline_seconds"])),
    }


def next_seconds(wait: dict[str, Any], timing: dict[str, Any]) -> int:
    """The wait grows by `backoff` each round, up to `poll_max_seconds`."""
    grown = math.ceil(float(wait["seconds"]) * float(timing["backoff"]))
    return max(1, min(grown, int(timing["poll_max_seconds"])))


def poll(
    name: str, wait: dict[str, Any], timing: dict[str, Any], where: Location = HERE
) -> dict[str, Any]:
    """One poll: AVAILABLE ends the loop; a failure raises; else the next, longer wait."""
    environment = describe(name, where)
    if environment is None:
        raise EnvironmentUnavailable(f"environment {name} disappeared while it was being created")
    status = environment.get("Status")
    if status == "AVAILABLE":
        return {**wait, "available": True}
    if status in FAILED:
        error = (environment.get("LastUpdate") or {}).get("Error") or {}
        reason = ": ".join(filter(None, [error.get("ErrorCode"), error.get("ErrorMessage")]))
        raise EnvironmentCreationFailed(
            f"MWAA could not create environment {name} ({status})"
            + (f": {reason}" if reason else "")
        )
    if status == "PENDING":
        require_available(name, where)  # raises the customer-managed endpoints message
    if time.time() >= float(wait["deadline"]):
        raise CreationTimedOut(
            f"environment {name} was still {status} after {timing['deadline_seconds']} seconds"
        )
    return {**wait, "seconds": next_seconds(wait, timing)}


def start_delete(name: str, where: Location = HERE) -> bool:
    """DeleteEnvironment if it exists (and is not already going); whether it still exists."""
    environment = describe(name, where)
    if environment is None:
        return False
    if environment.get("Status") != "DELETING":
        with aws_call("mwaa:DeleteEnvironment"):
            try:
                where.mwaa().delete_environment(Name=name)
            except ClientError as error:
                if error_code(error) == "ResourceNotFoundException":
                    return False
                raise
    return True


def poll_deleted(
    name: str, wait: dict[str, Any], timing: dict[str, Any], where: Location = HERE
) -> dict[str, Any]:
    """One poll of a deletion: gone ends the loop; else the next, longer wait."""
    environment = describe(name, where)
    if environment is None:
        return {**wait, "gone": True}
    if time.time() >= float(wait["deadline"]):
        raise CreationTimedOut(
            f"environment {name} was still {environment.get('Status')} "
            f"{timing['deadline_seconds']} seconds after its deletion started"
        )
    return {**wait, "gone": False, "seconds": next_seconds(wait, timing)}
