"""The GET /access rule (`authx.access`) and the portal page over it: pure functions."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authx import access, portal_page

NOW = 1_800_000_000.0
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "a", "ul", "li",
    "strong", "time",
}  # fmt: skip


def grant(principal: str, environment: str, role: Any, expires_at: Any = None) -> dict[str, Any]:
    item = {"principal": principal, "environment": environment, "rbac_role": role}
    if expires_at is not None:
        item["expires_at"] = expires_at
    return item


def record(name: Any, status: str = "READY", **more: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "login_host": f"{str(name).lower()}.example", **more}


def rule(grants: list[dict[str, Any]], records: list[dict[str, Any]], groups=("ops",)):
    return {
        a.environment: a
        for a in access.effective_access("a@example.com", list(groups), grants, records, NOW)
    }


def test_highest_active_grant_wins_and_its_expiry_is_the_latest_of_that_role() -> None:
    found = rule(
        [
            grant("user#a@example.com", "E1", "Viewer"),
            grant("group#ops", "E1", "op", NOW + 100),  # role names: case-insensitive
            grant("group#ops", "*", "Op", NOW + 500),
            grant("group#ops", "E2", "Admin", NOW - 1),  # expired
        ],
        [record("E1"), record("E2", "ONBOARDING")],
    )

    assert (found["E1"].rbac_role, found["E1"].expires_at) == ("Op", int(NOW + 500))
    assert found["E1"].roles == ("Op", "User", "Viewer", "Public")
    assert found["E1"].ready and found["E1"].login_host == "e1.example"
    assert (found["E2"].rbac_role, found["E2"].ready, found["E2"].login_host) == ("Op", False, None)


def test_a_grant_without_expiry_makes_the_role_open_ended() -> None:
    found = rule(
        [grant("group#ops", "E1", "User", NOW + 10), grant("user#a@example.com", "E1", "User")],
        [record("E1")],
    )
    assert found["E1"].expires_at is None


@pytest.mark.parametrize("bad", ["soon", float("nan"), [1], {"N": "1"}])
def test_grants_with_a_bad_expiry_or_role_are_not_trusted(bad: Any) -> None:
    found = rule(
        [
            grant("group#ops", "E1", "Admin", bad),
            grant("group#ops", "E1", "Administrator"),
            grant("group#ops", "E1", None),
        ],
        [record("E1")],
    )
    assert found == {}


def test_offboarded_claims_unnamed_and_other_principals_are_left_out() -> None:
    found = rule(
        [grant("group#ops", "*", "User"), grant("group#other", "E9", "Admin")],
        [
            record("E1", "OFFBOARDED"),
            {"name": "hostname#e2.example", "claim_of": "E2"},
            {"name": "slot#1", "claim_of": "E2"},
            {"status": "READY"},
            record(42),
            record("E2", "READY", login_host=""),
            record("E9"),
        ],
    )
    assert sorted(found) == ["E2", "E9"]
    assert found["E9"].rbac_role == "User"  # only the `*` grant is this user's
    assert not found["E2"].ready  # READY without a host cannot be opened


def test_reads_needed() -> None:
    grants = [grant("group#ops", "E1", "User"), grant("group#ops", "*", "User", NOW - 1)]
    assert not access.needs_every_environment(grants, NOW)  # the `*` grant expired
    assert access.named_environments(grants, NOW) == {"E1"}
    assert access.needs_every_environment([grant("u", "*", "Viewer")], NOW)


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value or "")
            assert name in ("href", "class", "datetime", "charset", "name", "content", "lang")


@given(
    user=text,
    contact=text,
    entries=st.lists(
        st.builds(
            access.Access,
            environment=text,
            rbac_role=st.sampled_from(["Admin", "Op", "User", "Viewer", "Public"]),
            status=st.one_of(st.none(), text, st.just("READY")),
            login_host=st.one_of(st.none(), text),
            expires_at=st.one_of(st.none(), st.integers(min_value=-(10**20), max_value=10**20)),
        ),
        max_size=4,
    ),
)
def test_the_page_never_carries_markup_from_its_inputs(
    user: str, contact: str, entries: list[access.Access]
) -> None:
    body = portal_page.render(user, entries, contact, "/aws_mwaa/aws-console-sso")
    parser = _Tags()
    parser.feed(body)
    assert parser.tags <= ALLOWED_TAGS
    assert all(href == "/logout" or href.startswith("/aws_mwaa/") for href in parser.hrefs)
