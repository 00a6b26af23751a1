"""The portal: `GET /` on PORTAL_HOST lists the signed-in user's environments (DESIGN §5)."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authx_support import ENV, AwsCalls, World, header, web_token

from authx.handler import lambda_handler
from devstack.alb import SigningKey, alb_event, mint

PORTAL = "gate.example.com"
ALICE = "user#alice@example.com"


@pytest.fixture(autouse=True)
def portal_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_HOST", PORTAL)
    monkeypatch.delenv("BASE_DOMAIN", raising=False)
    monkeypatch.delenv("PORTAL_CONTACT", raising=False)


def portal(token: str | None, host: str = PORTAL, path: str = "/") -> dict[str, Any]:
    headers: dict[str, str | list[str]] = {"host": host}
    if token is not None:
        headers["x-amzn-oidc-data"] = token
    return lambda_handler(alb_event(path=path, headers=headers), None)


class Page(HTMLParser):
    """What a browser would show: each environment's card, its texts and links."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.cards: dict[str, dict[str, Any]] = {}
        self._card: dict[str, Any] | None = None
        self._capture: str | None = None
        self._href: str | None = None
        self._text: list[str] = []
        self.body = body
        self.feed(body)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "li":
            self._card = {"text": "", "links": []}
        elif tag == "h2":
            self._capture = "name"
        elif tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._capture = None
        elif tag == "a" and self._href is not None:
            link = (self._href, "".join(self._text))
            self.links.append(link)
            if self._card is not None:
                self._card["links"].append(link)
            self._href = None
        elif tag == "li" and self._card is not None:
            self.cards[self._card["name"]] = self._card
            self._card = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)
        if self._card is not None:
            if self._capture == "name":
                self._card["name"] = self._card.get("name", "") + data
            self._card["text"] += data


def shown(response: dict[str, Any]) -> Page:
    assert response["statusCode"] == 200, response["body"]
    assert header(response, "Content-Type") == "text/html; charset=utf-8"
    assert header(response, "Cache-Control") == "no-store"
    assert "default-src 'none'" in (header(response, "Content-Security-Policy") or "")
    assert header(response, "X-Frame-Options") == "DENY"
    page = Page(response["body"])
    assert "script" not in page.tags
    return page


def roles_linked(card: dict[str, Any]) -> list[str]:
    """The role each sign-in link of a card asks for (the effective one has no rbac_role)."""
    found = []
    for href, _ in card["links"]:
        query = parse_qs(urlsplit(href).query)
        found.append(query.get("rbac_role", ["(effective)"])[0])
    return found


def test_lists_direct_group_and_star_grants_with_roles_status_and_links(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    in_a_week = time.time() + 7 * 86400
    world.environment("Env2")
    world.environment("Env3", status="ONBOARDING")
    world.environment("Env4", status="OFFBOARDED")
    world.environment("Env5")
    world.environment("Other")
    world.grant(ALICE, ENV, "Viewer")
    world.grant("group#ops", ENV, "Op", expires_at=in_a_week)
    world.grant("group#data", "*", "Viewer")
    world.grant(ALICE, "Env4", "Admin")
    world.grant(ALICE, "Env5", "Admin", expires_at=time.time() - 60)  # expired, TTL not run yet
    world.grant("user#bob@example.com", "Other", "Admin")  # someone else's

    page = shown(portal(mint(signing_key, {"groups": ["ops", "data"]})))

    assert sorted(page.cards) == ["Env1", "Env2", "Env3", "Env5", "Other"]
    env1 = page.cards["Env1"]
    assert "Your role: Op" in env1["text"] and "Status: READY" in env1["text"]
    assert time.strftime("%Y-%m-%d", time.gmtime(in_a_week)) in env1["text"]
    assert roles_linked(env1) == ["(effective)", "User", "Viewer", "Public"]
    assert env1["links"][0] == ("/aws_mwaa/aws-console-sso?mwaa_env=Env1", "Open as Op")
    assert "Your role: Viewer" in page.cards["Env2"]["text"]
    assert "no end date" in page.cards["Env2"]["text"]
    assert roles_linked(page.cards["Env2"]) == ["(effective)", "Public"]
    assert "Status: ONBOARDING" in page.cards["Env3"]["text"]
    assert page.cards["Env3"]["links"] == []  # not READY: shown, without a link
    assert "Not open for sign-in" in page.cards["Env3"]["text"]
    assert "Your role: Viewer" in page.cards["Env5"]["text"]  # the expired Admin grant is gone
    assert ("/logout", "Sign out") in page.links
    assert "Signed in as alice@example.com." in page.body
    assert set(aws_calls.services()) == {"dynamodb"}  # no STS, no MWAA


def test_a_sign_in_link_leads_into_the_environment(world: World, signing_key: SigningKey) -> None:
    world.grant("group#ops", ENV, "Op")
    token = mint(signing_key, {"groups": ["ops"]})
    page = shown(portal(token))

    for href, _ in page.cards[ENV]["links"][:2]:
        url = urlsplit(href)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        response = lambda_handler(
            alb_event(
                path=url.path, query=query, headers={"host": PORTAL, "x-amzn-oidc-data": token}
            ),
            None,
        )
        assert web_token(response, world.login_host)


def test_no_environments_names_whom_to_ask(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_CONTACT", "the data platform team <#data-platform>")
    world.grant(ALICE, ENV, "Admin", expires_at=time.time() - 1)  # expired

    response = portal(mint(signing_key))
    page = shown(response)

    assert page.cards == {}
    assert "You have no Airflow environments yet." in response["body"]
    assert "ask the data platform team &lt;#data-platform&gt;." in response["body"]
    assert ("/logout", "Sign out") in page.links


def test_default_contact_and_base_domain_as_portal_host(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_HOST")
    monkeypatch.setenv("BASE_DOMAIN", "Airflow.Example.com")

    response = portal(mint(signing_key), host="airflow.example.com:443")

    assert "ask your platform team." in shown(response).body


def test_hostile_names_and_claims_are_escaped(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    world.environment(hostile, login_host="evil.example.com")
    world.environment("Env&amp;2")
    world.grant("group#</h2><script>", "*", "User")

    response = portal(
        mint(signing_key, {"email": "Eve<b>@example.com", "groups": ["</h2><script>"]})
    )
    page = shown(response)

    assert hostile in page.cards and "Env&amp;2" in page.cards
    assert page.cards[hostile]["links"] == []  # not a name authX's login accepts
    assert "<script>" not in response["body"] and "<img" not in response["body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response["body"]
    assert "eve&lt;b&gt;@example.com" in response["body"]
    assert set(page.tags) <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "a", "ul", "li",
        "strong", "time",
    }  # fmt: skip


def test_no_token_is_401_without_any_aws_call(world: World, aws_calls: AwsCalls) -> None:
    response = portal(None)

    assert response["statusCode"] == 401
    assert "You are not signed in." in response["body"]
    assert aws_calls.calls == []


def test_a_bad_token_is_401(world: World, signing_key: SigningKey, aws_calls: AwsCalls) -> None:
    response = portal(mint(signing_key, payload_exp=time.time() - 3600))

    assert response["statusCode"] == 401
    assert aws_calls.services() == []


@pytest.mark.parametrize(
    "host", ["other.example.com", "env1.gate.example.com", "gate.example.com.evil.com", ""]
)
def test_another_host_is_404(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls, host: str
) -> None:
    world.grant(ALICE, ENV, "Admin")

    response = portal(mint(signing_key), host=host)

    assert response["statusCode"] == 404
    assert "Env1" not in response["body"]
    assert aws_calls.calls == []


def test_no_portal_host_configured_is_404(
    world: World, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_HOST")

    assert portal(mint(signing_key))["statusCode"] == 404


def test_only_get(world: World, signing_key: SigningKey) -> None:
    event = alb_event(path="/", method="POST", headers={"host": PORTAL})
    response = lambda_handler(event, None)

    assert response["statusCode"] == 405


@pytest.mark.parametrize(
    ("claim", "groups"),
    [("cognito:groups", ["ops", "data"]), ("custom:idp-groups", "[ops, data]")],
    ids=["cognito-groups-json-list", "custom-attribute-bracketed-string"],
)
def test_groups_from_cognito_claims(
    world: World,
    signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    claim: str,
    groups: object,
) -> None:
    monkeypatch.setenv("GROUPS_CLAIM", claim)
    world.grant("group#data", ENV, "Op")

    page = shown(portal(mint(signing_key, {claim: groups, "groups": ["ignored"]})))

    assert "Your role: Op" in page.cards[ENV]["text"]


def test_dynamodb_calls_are_bounded_by_groups_and_environments(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    names = [f"E{i:03d}" for i in range(120)]
    for name in names:
        world.environment(name)
        world.grant("group#g1", name, "Viewer")
    groups = [f"g{i}" for i in range(1, 6)]

    page = shown(portal(mint(signing_key, {"groups": groups})))

    assert len(page.cards) == 120
    operations = [name for service, name, _ in aws_calls.calls if service == "dynamodb"]
    assert operations.count("Query") == 1 + len(groups)
    assert operations.count("BatchGetItem") == 2  # 120 names: 100 + 20
    assert len(operations) == 1 + len(groups) + 2


def test_star_grant_reads_the_environments_table_once(
    world: World, signing_key: SigningKey, aws_calls: AwsCalls
) -> None:
    world.environment("Env2")
    world.grant("group#all", "*", "User")

    page = shown(portal(mint(signing_key, {"groups": ["all"]})))

    assert sorted(page.cards) == ["Env1", "Env2"]
    assert [name for _, name, _ in aws_calls.calls] == ["Query", "Query", "Scan"]


def test_page_text_matches_the_admin_api_rule(world: World, signing_key: SigningKey) -> None:
    """The portal lists exactly what `authx.access` (the rule behind GET /access) answers."""
    from authx import access

    world.environment("Env2", status="FAILED")
    world.grant(ALICE, "*", "Public")
    world.grant("group#ops", "Env2", "Admin")
    records = world.dynamodb.scan(TableName="authx-test-environments")["Items"]
    grants = world.dynamodb.scan(TableName="authx-test-grants")["Items"]
    from authx.dynamo import item

    expected = access.effective_access(
        "alice@example.com",
        ["ops"],
        [item(g) for g in grants],
        [item(r) for r in records],
        time.time(),
    )
    page = shown(portal(mint(signing_key, {"groups": ["ops"]})))

    assert [(e.environment, e.rbac_role) for e in expected] == [
        (name, re.search(r"Your role: (\w+)", card["text"]).group(1))
        for name, card in sorted(page.cards.items())
    ]
