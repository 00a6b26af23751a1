"""The sign-in journey in Chromium, on the local stack: IdP page, ALB rules and session
cookies, authX, the MWAA web login, the Airflow page, logout, offboarding."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from playwright.sync_api import BrowserContext, Page

from .conftest import AIRFLOW_3, Journey, cookie_names, sign_in_at_idp

SHARD = "AWSELBAuthSessionCookie"


def airflow_page(page: Page) -> dict[str, str]:
    page.wait_for_selector("#role")
    return {
        key: page.inner_text(f"#{key}") for key in ("environment", "user", "role", "iam-identity")
    }


def test_granted_user_signs_in_and_lands_on_the_environment_as_granted(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    shown = journey.idp.pages_shown
    page.goto(journey.login_url("analytics"))
    assert page.url.startswith(journey.idp.issuer + "/authorize?")
    sign_in_at_idp(page, "alice@example.com")

    assert page.url == journey.url("analytics", "/home")
    assert airflow_page(page) == {
        "environment": "analytics",
        "user": "alice@example.com",
        "role": "Admin",
        "iam-identity": "assumed-role/mwaa-gate-local-airflow-Admin/alice@example.com",
    }
    assert journey.idp.pages_shown == shown + 1
    host = journey.records["analytics"]["login_host"]
    assert {f"{SHARD}-0", "session"} <= cookie_names(context, host)
    # The web token went through the URL fragment only: never in the page's address now.
    assert "#" not in page.url


def test_role_picker_lowers_the_role(journey: Journey, page: Page) -> None:
    page.goto(journey.login_url("analytics", "rbac_role=Viewer"))
    sign_in_at_idp(page, "alice@example.com")
    assert airflow_page(page)["role"] == "Viewer"


def test_asking_above_the_grant_is_refused_without_an_airflow_session(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    standin = journey.fleet.servers.get("reporting")
    logins_before = standin.logins if standin else 0
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "aws-console-sso" in r.url else None)

    page.goto(journey.login_url("reporting", "rbac_role=Admin"))
    sign_in_at_idp(page, "bob@example.com")  # Viewer everywhere, through data-team

    assert statuses[-1] == 403
    assert "HTTP 403" in page.inner_text("body")
    assert "Viewer" in page.inner_text("body")
    assert "session" not in cookie_names(context, journey.records["reporting"]["login_host"])
    standin = journey.fleet.servers.get("reporting")
    assert (standin.logins if standin else 0) == logins_before


def test_a_user_without_a_grant_is_refused(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    page.goto(journey.login_url("analytics"))
    sign_in_at_idp(page, "carol@example.com")
    body = page.inner_text("body")
    assert "HTTP 403" in body and "no access" in body
    assert "session" not in cookie_names(context, journey.records["analytics"]["login_host"])


def test_a_second_environment_reuses_the_sign_in_without_the_idp_page(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    page.goto(journey.login_url("analytics"))
    sign_in_at_idp(page, "alice@example.com")
    assert airflow_page(page)["environment"] == "analytics"
    shown = journey.idp.pages_shown

    page.goto(journey.login_url("reporting"))
    assert airflow_page(page) == {
        "environment": "reporting",
        "user": "alice@example.com",
        "role": "Viewer",  # data-team's grant on every environment
        "iam-identity": "assumed-role/mwaa-gate-local-airflow-Viewer/alice@example.com",
    }
    assert journey.idp.pages_shown == shown  # the IdP's session answered; no page, no typing
    assert f"{SHARD}-0" in cookie_names(context, journey.records["reporting"]["login_host"])


def test_logout_expires_every_alb_shard_and_the_idp_session(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    # Enough groups that the ALB session needs more than one 4 KB cookie.
    groups = ",".join(["data-team", *(f"team-{n:03d}-with-a-rather-long-name" for n in range(120))])
    page.goto(journey.login_url("analytics"))
    sign_in_at_idp(page, "dora@example.com", groups=groups, name="Dora")
    assert airflow_page(page)["role"] == "Viewer"
    host = journey.records["analytics"]["login_host"]
    shards = {n for n in cookie_names(context, host) if n.startswith(SHARD)}
    assert {f"{SHARD}-0", f"{SHARD}-1"} <= shards
    sessions = len(journey.idp.sessions)

    page.click("#logout")
    page.wait_for_selector("text=Your session is closed")
    assert page.url == journey.url("analytics", "/logout/close")
    assert not {n for n in cookie_names(context, host) if n.startswith(SHARD)}
    assert "devidp_session" not in cookie_names(context, "idp.localhost")
    assert len(journey.idp.sessions) == sessions - 1

    shown = journey.idp.pages_shown
    page.goto(journey.url("analytics", "/home"))
    page.wait_for_selector("text=Dev identity provider")
    assert journey.idp.pages_shown == shown + 1


def test_an_expired_grant_no_longer_signs_in(journey: Journey, page: Page) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=2)
    journey.script(
        "grant",
        "--user",
        "erin@example.com",
        "--environment",
        "analytics",
        "--role",
        "Op",
        "--expires-at",
        expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    while datetime.now(UTC) <= expires + timedelta(seconds=1):
        time.sleep(0.2)
    page.goto(journey.login_url("analytics"))
    sign_in_at_idp(page, "erin@example.com")
    body = page.inner_text("body")
    assert "HTTP 403" in body and "no access" in body


def test_after_offboarding_the_host_no_longer_reaches_its_web_server(
    journey: Journey, page: Page
) -> None:
    page.goto(journey.login_url("legacy"))
    sign_in_at_idp(page, "bob@example.com")
    assert airflow_page(page)["environment"] == "legacy"
    standin = journey.fleet.servers["legacy"]
    logins = standin.logins

    journey.script("offboard-environment", "legacy")
    journey.stack.wait_for("legacy", "OFFBOARDED")

    page.goto(journey.url("legacy", "/home"))  # the Airflow session cookie is still there
    assert "Not found" in page.inner_text("body")
    page.goto(journey.url("legacy", "/aws_mwaa/aws-console-sso?login=true"))
    assert page.locator("#role").count() == 0
    page.goto(journey.login_url("legacy"))
    assert "HTTP 404" in page.inner_text("body")
    assert standin.logins == logins


def test_airflow_3_signs_in_on_its_own_paths_again_after_its_session_ends_and_out(
    journey: Journey, page: Page, context: BrowserContext
) -> None:
    page.goto(journey.login_url(AIRFLOW_3))
    sign_in_at_idp(page, "bob@example.com")  # Viewer everywhere, through data-team

    assert page.url == journey.url(AIRFLOW_3, "/")  # Airflow 3's home, after its web login
    assert airflow_page(page)["environment"] == AIRFLOW_3
    assert page.inner_text("#airflow-version") == "3.0.6"
    assert airflow_page(page)["role"] == "Viewer"
    host = journey.records[AIRFLOW_3]["login_host"]
    assert journey.records[AIRFLOW_3]["airflow_version"] == "3.0.6"
    assert "_token" in cookie_names(context, host)  # Airflow 3's session cookie, not `session`

    # Airflow's session ends (the ALB's does not): Airflow 3 sends the browser to /auth/login/,
    # which the environment's rule gives authX: signed in again, no click, no IdP page.
    shown = journey.idp.pages_shown
    context.clear_cookies(name="_token", domain=host)  # Airflow 3's session cookie
    page.goto(journey.url(AIRFLOW_3, "/"))
    page.wait_for_selector("#role")
    assert page.url == journey.url(AIRFLOW_3, "/")
    assert journey.idp.pages_shown == shown

    # Airflow 3's logout (/auth/logout) reaches authX: the ALB session and Airflow's end.
    page.click("#logout")
    page.wait_for_selector("text=Your session is closed")
    assert page.url == journey.url(AIRFLOW_3, "/logout/close")
    assert not {n for n in cookie_names(context, host) if n.startswith(SHARD) or n == "_token"}
