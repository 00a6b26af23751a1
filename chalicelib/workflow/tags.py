"""The tags that let every step find what this service made (DESIGN §4), in each API's format."""

from __future__ import annotations

from typing import Any

from . import settings

ENVIRONMENT = "mwaa-gate:environment"
DEPLOYMENT = "mwaa-gate:deployment"


def values(environment: str) -> dict[str, str]:
    return {ENVIRONMENT: environment, DEPLOYMENT: settings.deployment()}


def ec2_specification(resource_type: str, environment: str) -> list[dict[str, Any]]:
    tags = [{"Key": key, "Value": value} for key, value in values(environment).items()]
    return [{"ResourceType": resource_type, "Tags": tags}]


def ec2_filters(environment: str) -> list[dict[str, Any]]:
    return [{"Name": f"tag:{key}", "Values": [value]} for key, value in values(environment).items()]


def deployment_filters() -> list[dict[str, Any]]:
    return [{"Name": f"tag:{DEPLOYMENT}", "Values": [settings.deployment()]}]


def made_here(tag_list: list[dict[str, str]] | None) -> bool:
    """Whether a resource was made by this deployment (whichever environment made it)."""
    return any(
        tag.get("Key") == DEPLOYMENT and tag.get("Value") == settings.deployment()
        for tag in tag_list or []
    )


def key_value_list(environment: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values(environment).items()]


def carries(tag_list: list[dict[str, str]] | None, environment: str) -> bool:
    present = {tag.get("Key"): tag.get("Value") for tag in tag_list or []}
    return all(present.get(key) == value for key, value in values(environment).items())
