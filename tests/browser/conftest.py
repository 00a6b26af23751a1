"""One local stack for the whole browser session (devstack, IdP, ALB front, stand-ins,
`chalice local`), three private Airflow 2 environments and one Airflow 3 onboarded, and
Chromium through Playwright (Debian's chromium: Playwright cannot download browsers here).

Each test gets a fresh browser context (no cookies) and saves a screenshot of what the user
saw under tests/browser/screenshots/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from devstack.browser import BrowserStack

SCREENSHOTS = Path(__file__).parent / "screenshots"
ENVIRONMENTS = ("analytics", "reporting", "legacy")
AIRFLOW_3 = "modern"  # a private Airflow 3 environment beside the Airflow 2 ones


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if not path:
        raise RuntimeError(
            "the browser tests need Chromium: `make test` installs Debian's chromium when run "
            "as root; otherwise install it or set CHROMIUM=/path/to/chrome"
        )
    return path


class Journey:
    """The running stack and what the tests need of it."""

    def __init__(self, stack: BrowserStack, records: dict[str, dict[str, Any]]):
        self.stack = stack
        self.records = records

    @property
    def idp(self) -> Any:
        return self.stack.idp

    @property
    def fleet(self) -> Any:
        return self.stack.fleet

    def login_url(self, environment: str, query: str = "") -> str:
        url = self.stack.login_url(self.records[environment])
        return f"{url}?{query}" if query else url

    def url(self, environment: str, path: str) -> str:
        assert self.stack.front is not None
        return self.stack.front.url(self.records[environment]["login_host"], path)

    def script(self, name: str, *args: str, expect: int = 0) -> Any:
        return self.stack.script(name, *args, expect=expect)


@pytest.fixture(scope="session")
def journey() -> Iterator[Journey]:
    with contextlib.ExitStack() as stack:
        local = BrowserStack(stack)
        local.start()
        records = local.onboard_private(ENVIRONMENTS)
        records.update(local.onboard_private([AIRFLOW_3], airflow_version="3.0.6"))
        local.script(
            "grant", "--user", "alice@example.com", "--environment", "analytics", "--role", "Admin"
        )
        local.script("grant", "--group", "data-team", "--environment", "*", "--role", "Viewer")
        yield Journey(local, records)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context()
    made.set_default_timeout(30000)  # a loaded 2-core CI machine
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = context.new_page()
    yield opened
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]", "_", request.node.name)
    with contextlib.suppress(Exception):
        opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def cookie_names(context: BrowserContext, host: str) -> set[str]:
    return {c["name"] for c in context.cookies() if c["domain"].lstrip(".") == host}


def sign_in_at_idp(page: Page, email: str, groups: str = "", name: str = "") -> None:
    """On the dev IdP's page: a sample user's button, or the typed form."""
    page.wait_for_selector("text=Dev identity provider")
    preset = page.locator("button[name=preset]", has_text=email)
    if not groups and not name and preset.count():
        preset.first.click()
    else:
        page.fill("#email", email)
        page.fill("#name", name)
        page.fill("#groups", groups)
        page.click("#sign-in")
    page.wait_for_load_state()
