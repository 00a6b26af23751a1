"""Sign-in through a Cognito user pool (authenticate-cognito), in Chromium on its own stack:
the dev IdP stands in for the pool's hosted UI; the groups arrive as `custom:idp-groups`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from devstack.browser import COGNITO_DOMAIN, BrowserStack

from .conftest import cookie_names, sign_in_at_idp
from .test_browser_journey import airflow_page
from .test_portal import card, cards

SHARD = "AWSELBAuthSessionCookie"
SAML_GROUP = "Amazon MWAA-Test-Admins"


@pytest.fixture(scope="module")
def cognito() -> Iterator[tuple[BrowserStack, dict[str, Any]]]:
    with contextlib.ExitStack() as stack:
        local = BrowserStack(stack, sign_in="cognito")
        local.start()
        records = local.onboard_private(["sales"])
        local.script("grant", "--group", SAML_GROUP, "--environment", "*", "--role", "Admin")
        yield local, records["sales"]


def test_rules_use_the_user_pool(cognito: tuple[BrowserStack, dict[str, Any]]) -> None:
    local, _ = cognito
    elbv2 = local.client("elbv2")
    rules = elbv2.describe_rules(ListenerArn=local.landscape["listener_arn"])["Rules"]
    kinds = {
        rule["Priority"]: sorted(rule["Actions"], key=lambda a: a["Order"])[0]["Type"]
        for rule in rules
        if not rule["IsDefault"]
    }
    assert kinds.pop("2") == "forward"  # the close page
    assert set(kinds.values()) == {"authenticate-cognito"}
    assert {"1", "3", "10000", "1001", "20001"} <= set(kinds)


def test_portal_through_the_user_pool_click_and_land_then_sign_out(
    cognito: tuple[BrowserStack, dict[str, Any]], page: Page, context: BrowserContext
) -> None:
    local, record = cognito
    portal = local.portal_url()
    page.goto(portal)
    assert page.url.startswith(f"http://{COGNITO_DOMAIN}:{local.idp_port}/oauth2/authorize?")
    assert f"client_id={local.cognito_client_id}" in page.url
    sign_in_at_idp(page, "dave@example.com", groups=f"{SAML_GROUP},other", name="Dave")

    assert page.url == portal
    assert "Your role: Admin" in cards(page)["sales"]

    card(page, "sales").locator("a.open").click()

    assert airflow_page(page) == {
        "environment": "sales",
        "user": "dave@example.com",
        "role": "Admin",
        "iam-identity": "assumed-role/mwaa-gate-local-airflow-Admin/dave@example.com",
    }
    assert local.front is not None
    host = record["login_host"]
    assert f"{SHARD}-0" in cookie_names(context, host)
    sessions = len(local.idp.sessions) if local.idp else 0

    page.click("#logout")  # Airflow's logout → authX → the user pool's /logout → close page
    page.wait_for_selector("text=Your session is closed")

    assert page.url == local.front.url("airflow.localhost", "/logout/close")
    assert not {n for n in cookie_names(context, host) if n.startswith(SHARD)}
    assert local.idp is not None and len(local.idp.sessions) == sessions - 1
