"""The dev OIDC IdP speaks standard OIDC: discovery, authorize with its sign-in page and IdP
session, code → tokens (ID token signed with its JWKS key), userinfo, end-session (OIDC and
Cognito forms); it refuses what a real IdP refuses."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack.idp import IdentityProvider, User

REDIRECT = "http://app.airflow.localhost:9999/oauth2/idpresponse"
CLOSE = "https://app.airflow.localhost/logout/close"


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    made = IdentityProvider(
        "client",
        "secret",
        redirect_uri_pattern=r"http://[a-z.]+\.localhost:9999/oauth2/idpresponse",
        post_logout_pattern=r"https://[a-z.]+\.localhost/logout/close",
        local_url=lambda url: url.replace("https://app.airflow.localhost", "http://local:1"),
        presets=[User("ann@example.com", "Ann", ("g1", "g2"))],
    ).start()
    yield made
    made.stop()


def authorize_query(**extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": "client",
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "s1",
        "nonce": secrets.token_urlsafe(8),  # a nonce is used once (replays are refused)
        **extra,
    }
    return urlencode(params)


def sign_in(
    idp: IdentityProvider, browser: requests.Session, groups: str = "g1,g2", nonce: str = ""
) -> str:
    query = authorize_query(nonce=nonce) if nonce else authorize_query()
    page = browser.get(f"{idp.local_base}/authorize?{query}", timeout=10)
    form = re.search(
        r"action='([^']+)'><input type='hidden' name='csrf' value='([^']+)'", page.text
    )
    assert form is not None
    answer = browser.post(
        f"{idp.local_base}{unescape(form.group(1))}",
        data={"csrf": form.group(2), "email": "ann@example.com", "name": "Ann", "groups": groups},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def test_discovery_names_every_endpoint(idp: IdentityProvider) -> None:
    found = requests.get(f"{idp.local_base}/.well-known/openid-configuration", timeout=10).json()
    assert found["issuer"] == idp.issuer
    assert found["authorization_endpoint"] == f"{idp.issuer}/authorize"
    assert found["end_session_endpoint"] == f"{idp.issuer}/logout"
    assert {"token_endpoint", "userinfo_endpoint", "jwks_uri"} <= set(found)


def test_code_flow_gives_a_signed_id_token_and_userinfo(idp: IdentityProvider) -> None:
    code = sign_in(idp, requests.Session(), nonce="nonce-of-this-test")
    tokens = requests.post(
        f"{idp.local_base}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=("client", "secret"),
        timeout=10,
    ).json()
    keys = KeySet.import_key_set(requests.get(f"{idp.local_base}/jwks", timeout=10).json())
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == idp.issuer and claims["aud"] == ["client"]
    assert claims["nonce"] == "nonce-of-this-test" and claims["email"] == "ann@example.com"
    info = requests.get(
        f"{idp.local_base}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert info["email"] == "ann@example.com" and info["groups"] == ["g1", "g2"]
    assert info["email_verified"] is True and info["sub"] == claims["sub"]
    again = requests.post(
        f"{idp.local_base}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=("client", "secret"),
        timeout=10,
    )
    assert again.status_code == 400  # a code is used once


def test_wrong_secret_unknown_redirect_and_bad_forms_are_refused(idp: IdentityProvider) -> None:
    code = sign_in(idp, requests.Session())
    wrong = requests.post(
        f"{idp.local_base}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=("client", "nope"),
        timeout=10,
    )
    assert wrong.status_code == 401
    elsewhere = authorize_query(redirect_uri="https://evil.example.com/oauth2/idpresponse")
    assert requests.get(f"{idp.local_base}/authorize?{elsewhere}", timeout=10).status_code == 400
    no_csrf = requests.post(
        f"{idp.local_base}/authorize?{authorize_query()}",
        data={"email": "x@example.com"},
        timeout=10,
    )
    assert no_csrf.status_code == 400
    assert requests.get(f"{idp.local_base}/userinfo", timeout=10).status_code == 401


def test_the_idp_session_skips_the_page_until_logout(idp: IdentityProvider) -> None:
    browser = requests.Session()
    sign_in(idp, browser)
    shown = idp.pages_shown
    again = browser.get(
        f"{idp.local_base}/authorize?{authorize_query()}", allow_redirects=False, timeout=10
    )
    assert again.status_code == 302 and idp.pages_shown == shown

    out = browser.get(
        f"{idp.local_base}/logout?client_id=client&post_logout_redirect_uri={CLOSE}",
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302 and out.headers["Location"] == "http://local:1/logout/close"
    page = browser.get(f"{idp.local_base}/authorize?{authorize_query()}", timeout=10)
    assert "Dev identity provider" in page.text


def test_cognito_logout_and_unknown_return_addresses(idp: IdentityProvider) -> None:
    browser = requests.Session()
    sign_in(idp, browser)
    sessions = len(idp.sessions)
    out = browser.get(
        f"{idp.local_base}/logout?client_id=client&logout_uri={CLOSE}",
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302 and len(idp.sessions) == sessions - 1
    evil = browser.get(
        f"{idp.local_base}/logout?client_id=client&post_logout_redirect_uri=https://evil.example",
        allow_redirects=False,
        timeout=10,
    )
    assert evil.status_code == 200 and "signed out" in evil.text


@pytest.mark.parametrize("groups", [",".join(f"g{n}" for n in range(201)), "a\x01b", "x" * 300])
def test_hostile_sign_in_forms_are_refused(idp: IdentityProvider, groups: str) -> None:
    browser = requests.Session()
    page = browser.get(f"{idp.local_base}/authorize?{authorize_query()}", timeout=10)
    form = re.search(
        r"action='([^']+)'><input type='hidden' name='csrf' value='([^']+)'", page.text
    )
    assert form is not None
    answer = browser.post(
        f"{idp.local_base}{unescape(form.group(1))}",
        data={"csrf": form.group(2), "email": "ann@example.com", "groups": groups},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400
