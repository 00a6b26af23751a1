"""The portal in Chromium: sign in on the portal host, see what you may open, click, land."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Locator, Page

from .conftest import Journey, cookie_names, sign_in_at_idp
from .test_browser_journey import airflow_page

SHARD = "AWSELBAuthSessionCookie"


def cards(page: Page) -> dict[str, str]:
    """Environment name → the text of its card, as the page shows them."""
    page.wait_for_selector("text=Your Airflow environments")
    return {
        card.locator("h2").inner_text(): card.inner_text()
        for card in page.locator("ul.envs > li").all()
    }


def card(page: Page, name: str) -> Locator:
    return page.locator("ul.envs > li").filter(has=page.locator("h2", has_text=name))


def test_portal_lists_the_environments_and_a_click_lands_in_one(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    portal = journey.stack.portal_url()
    page.goto(portal)
    assert page.url.startswith(journey.idp.issuer + "/authorize?")
    sign_in_at_idp(page, "alice@example.com")

    assert page.url == portal
    shown = cards(page)
    assert {"analytics", "reporting"} <= set(shown)
    assert "Your role: Admin" in shown["analytics"] and "Status: READY" in shown["analytics"]
    assert "Your role: Viewer" in shown["reporting"]
    assert "Signed in as alice@example.com." in page.inner_text("body")
    assert page.locator("script").count() == 0
    assert f"{SHARD}-0" in cookie_names(context, "airflow.localhost")

    card(page, "analytics").locator("a.open").click()

    assert airflow_page(page) == {
        "environment": "analytics",
        "user": "alice@example.com",
        "role": "Admin",
        "iam-identity": "assumed-role/mwaa-gate-local-airflow-Admin/alice@example.com",
    }
    assert page.url == journey.url("analytics", "/home")


def test_a_lower_role_link_opens_the_environment_with_that_role(
    journey: Journey, page: Page
) -> None:
    page.goto(journey.stack.portal_url())
    sign_in_at_idp(page, "alice@example.com")

    card(page, "analytics").get_by_role("link", name="Viewer", exact=True).click()

    assert airflow_page(page)["role"] == "Viewer"


def test_a_user_without_grants_is_told_whom_to_ask_and_can_sign_out(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    page.goto(journey.stack.portal_url())
    sign_in_at_idp(page, "carol@example.com")

    body = page.inner_text("body")
    assert "You have no Airflow environments yet." in body
    assert "To get access, ask your platform team." in body

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_selector("text=Your session is closed")
    assert not {n for n in cookie_names(context, "airflow.localhost") if n.startswith(SHARD)}
