"""Logout: every ALB session cookie shard expired, then the IdP's logout or the close page."""

from __future__ import annotations

import pytest
from authx_support import AwsCalls, alb_event, header

from authx.handler import lambda_handler

EXPIRED = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; HttpOnly"
CLOSE = "https://gate.example.com/logout/close"
# Airflow's own session cookies (Airflow 2 and 3), expired with the ALB's (authx.airflow_paths).
AIRFLOW_COOKIES = ["_token", "session"]


def logout(path: str = "/logout", cookie: str | None = None, method: str = "GET") -> dict:
    headers = {"cookie": cookie} if cookie else {}
    return lambda_handler(alb_event(path=path, headers=headers, method=method), None)


@pytest.mark.parametrize("path", ["/logout", "/logout/"])
def test_logout_expires_every_shard_and_goes_to_the_close_page(
    aws_calls: AwsCalls, path: str
) -> None:
    response = logout(path)

    assert response["statusCode"] == 302
    assert header(response, "Location") == CLOSE
    assert response["multiValueHeaders"]["Set-Cookie"] == [
        f"AWSELBAuthSessionCookie-{n}{EXPIRED}" for n in range(4)
    ] + [f"{name}{EXPIRED}" for name in AIRFLOW_COOKIES]
    assert header(response, "Cache-Control") == "no-store"
    assert aws_calls.calls == []


def test_logout_also_expires_the_extra_shards_the_request_carries() -> None:
    cookie = (
        "AWSELBAuthSessionCookie-0=aaa; AWSELBAuthSessionCookie-5=bbb; theme=dark; "
        "AWSELBAuthSessionCookie-12=ccc; AWSELBAuthSessionCookie-x=ddd; other-1=e"
    )

    cookies = logout(cookie=cookie)["multiValueHeaders"]["Set-Cookie"]

    names = [c.split("=", 1)[0] for c in cookies]
    assert names == [f"AWSELBAuthSessionCookie-{n}" for n in (0, 1, 2, 3, 5, 12)] + AIRFLOW_COOKIES
    assert all(c.endswith(EXPIRED[1:]) for c in cookies)


def test_cookie_name_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALB_COOKIE_NAME", "GateSession")

    cookies = logout(cookie="GateSession-4=x")["multiValueHeaders"]["Set-Cookie"]

    assert [c.split("=", 1)[0] for c in cookies] == [
        f"GateSession-{n}" for n in range(5)
    ] + AIRFLOW_COOKIES


def test_logout_goes_through_the_idp_with_the_close_page_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDP_LOGOUT_URL", "https://idp.example.com/oauth2/v1/logout?client_id=abc")

    response = logout()

    assert response["statusCode"] == 302
    assert header(response, "Location") == (
        "https://idp.example.com/oauth2/v1/logout?client_id=abc"
        "&post_logout_redirect_uri=https%3A%2F%2Fgate.example.com%2Flogout%2Fclose"
    )
    assert len(response["multiValueHeaders"]["Set-Cookie"]) == 4 + len(AIRFLOW_COOKIES)


def test_idp_logout_url_may_place_the_close_page_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "IDP_LOGOUT_URL",
        "https://auth.example.auth.us-east-1.amazoncognito.com/logout?client_id=c&logout_uri={close_url}",
    )

    assert header(logout(), "Location") == (
        "https://auth.example.auth.us-east-1.amazoncognito.com/logout?client_id=c"
        "&logout_uri=https%3A%2F%2Fgate.example.com%2Flogout%2Fclose"
    )


def test_close_page() -> None:
    response = logout("/logout/close")

    assert response["statusCode"] == 200
    assert header(response, "Location") is None
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    assert "Your session is closed" in response["body"]
    assert "Set-Cookie" not in response["multiValueHeaders"]


@pytest.mark.parametrize("path", ["/", "/admin", "/logout/close/x", "/aws_mwaa/aws-console-sso/"])
def test_any_other_path_is_not_found(aws_calls: AwsCalls, path: str) -> None:
    response = logout(path)

    assert response["statusCode"] == 404
    assert response["statusDescription"] == "404 Not Found"
    assert "There is nothing here." in response["body"]
    assert aws_calls.calls == []


@pytest.mark.parametrize("path", ["/logout", "/aws_mwaa/aws-console-sso"])
def test_other_methods_are_not_allowed(aws_calls: AwsCalls, path: str) -> None:
    response = logout(path, method="POST")

    assert response["statusCode"] == 405
    assert header(response, "Allow") == "GET"
    assert "answers GET only" in response["body"]
    assert aws_calls.calls == []


@pytest.mark.parametrize(
    "shard",
    ["\u0661", "\u0967", "\U0001d7d3", "\uff11", "1\u0662", "\u00b9"],
    ids=["arabic-indic", "devanagari", "math-bold", "fullwidth", "mixed", "superscript"],
)
def test_shard_numbers_are_ascii_digits_only(shard: str) -> None:
    # `\d` matches any script's digits: those names were echoed back into Set-Cookie.
    cookie = f"AWSELBAuthSessionCookie-{shard}=x; AWSELBAuthSessionCookie-7=y"

    cookies = logout(cookie=cookie)["multiValueHeaders"]["Set-Cookie"]

    names = [c.split("=", 1)[0] for c in cookies]
    assert names == [f"AWSELBAuthSessionCookie-{n}" for n in (0, 1, 2, 3, 7)] + AIRFLOW_COOKIES
    assert all(c.isascii() for c in cookies)
