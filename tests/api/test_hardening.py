"""Issue 9, admin API: hostile input gets a clear 400 and leaves nothing behind; every id and
token the API issues is accepted back; path parameters are decoded once; identities follow
DESIGN §2; sensitive MWAA options never come back in an answer."""

from __future__ import annotations

import json
from urllib.parse import quote

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.api import grant_ids
from chalicelib.records import pagination

from .conftest import GRANTS_TABLE, JSON, onboard, post, record, set_record, valid_create
from .hostile import ENVIRONMENT_NAMES, VALID_GROUPS, stored_grants

# --- item 8: dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_at",
    [
        "9999-12-31T23:59:59-23:59",  # year 10000 once in UTC
        "9999-12-31T23:59:59.5Z",
        "2030-02-30T00:00:00Z",
        "2030-01-01T00:00:00+24:00",
        "20300101T000000Z",  # ISO 8601 basic format: not RFC 3339 (the spec's date-time)
        "2030-01-01 00:00:00Z",
        "２０３０-01-01T00:00:00Z",
        "2030-01-01T00:00:00",
    ],
)
def test_an_expiry_the_service_cannot_represent_is_refused_and_nothing_is_stored(
    client, expires_at
):
    body = {"group": "ops", "environment": "*", "rbac_role": "User", "expires_at": expires_at}

    response = post(client, "/grants", body)
    listing = client.http.get("/grants")

    assert response.status_code == 400, response.json_body
    assert "expires_at" in response.json_body["Message"]
    assert stored_grants() == []
    assert listing.status_code == 200 and listing.json_body["items"] == []


def test_the_last_representable_second_is_accepted_and_listed(client):
    body = {"group": "ops", "environment": "*", "rbac_role": "User"}

    created = post(client, "/grants", {**body, "expires_at": "9999-12-31T23:59:59Z"})
    listing = client.http.get("/grants")

    assert created.status_code == 201, created.json_body
    assert created.json_body["expires_at"] == "9999-12-31T23:59:59Z"
    assert listing.json_body["items"][0]["expires_at"] == "9999-12-31T23:59:59Z"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ({"N": "253402387139"}, "9999-12-31T23:59:59Z"),  # what the old code stored
        ({"N": "1e30"}, "9999-12-31T23:59:59Z"),
        ({"N": "-1e30"}, "0001-01-01T00:00:00Z"),
        ({"S": "tomorrow"}, None),  # not a number: shown expired, without a date
    ],
)
def test_listings_never_fail_on_a_stored_expiry(client, stored, shown):
    boto3.client("dynamodb").put_item(
        TableName=GRANTS_TABLE,
        Item={
            "principal": {"S": "group#ops"},
            "environment": {"S": "*"},
            "rbac_role": {"S": "User"},
            "expires_at": stored,
        },
    )
    onboard(client, "Env1")

    listing = client.http.get("/grants")
    access = client.http.get("/access/jane@example.com?groups=ops")

    assert listing.status_code == 200, listing.json_body
    assert listing.json_body["items"][0].get("expires_at") == shown
    assert access.status_code == 200, access.json_body


# --- item 9: every id and token round-trips --------------------------------------------------


def test_a_long_non_ascii_group_grant_can_be_revoked_by_its_id(client):
    group = "\U0001f600" * 256
    created = post(client, "/grants", {"group": group, "environment": "*", "rbac_role": "User"})
    grant_id = created.json_body["id"]

    revoked = client.http.delete(f"/grants/{grant_id}")

    assert created.status_code == 201, created.json_body
    assert len(grant_id) > 1024  # longer than the old decoder's limit
    assert revoked.status_code == 204, revoked.body
    assert stored_grants() == []


def test_a_long_non_ascii_filter_pages_with_its_next_token(client):
    group = "é" * 256
    for name in ("Env1", "Env2", "Env3"):
        onboard(client, name)
        post(client, "/grants", {"group": group, "environment": name, "rbac_role": "User"})

    seen = []
    path = f"/grants?group={quote(group)}&limit=1"
    while True:
        page = client.http.get(path)
        assert page.status_code == 200, page.json_body
        seen += [item["environment"] for item in page.json_body["items"]]
        if "next_token" not in page.json_body:
            break
        path = f"/grants?group={quote(group)}&limit=1&next_token={page.json_body['next_token']}"

    assert seen == ["Env1", "Env2", "Env3"]


@settings(max_examples=300, deadline=None)
@given(group=VALID_GROUPS, environment=ENVIRONMENT_NAMES | st.just("*"))
def test_every_grant_id_issued_decodes_back(group, environment):
    grant_id = grant_ids.encode(f"group#{group}", environment)

    assert grant_ids.decode(grant_id) == (f"group#{group}", environment)


@settings(max_examples=300, deadline=None)
@given(
    scope=st.text(max_size=2000),
    principal=st.text(st.characters(codec="utf-8"), min_size=1, max_size=512),
    environment=st.text(st.characters(codec="utf-8"), min_size=1, max_size=256),
)
def test_every_next_token_issued_decodes_back(scope, principal, environment):
    key = {"principal": {"S": principal}, "environment": {"S": environment}}

    token = pagination.encode(scope, key)

    assert pagination.decode(token, scope, ("principal", "environment")) == key


# --- item 10: path parameters are percent-decoded once ----------------------------------------


def test_every_route_goes_through_the_edge():
    views = [entry.view_function for methods in app.routes.values() for entry in methods.values()]

    assert views and all(getattr(view, "edge", False) for view in views)


def test_an_encoded_plus_in_the_email_answers_for_that_user(client):
    onboard(client, "Env1")
    set_record("Env1", status="READY", login_host="env1.example.com")
    post(
        client,
        "/grants",
        {"user": "jane+ops@example.com", "environment": "Env1", "rbac_role": "Op"},
    )

    plus = client.http.get("/access/jane%2Bops@example.com")
    at = client.http.get("/access/jane%2bops%40example.com")

    for response in (plus, at):
        assert response.status_code == 200, response.json_body
        assert response.json_body["user"] == "jane+ops@example.com"
        assert [e["environment"] for e in response.json_body["environments"]] == ["Env1"]


def test_every_path_parameter_is_decoded(client):
    onboard(client, "Env1")
    created = post(client, "/grants", {"group": "ops", "environment": "*", "rbac_role": "User"})
    grant_id = created.json_body["id"]
    encoded_id = "".join(f"%{byte:02X}" for byte in grant_id.encode())

    got = client.http.get("/environments/Env%31")
    revoked = client.http.delete(f"/grants/{encoded_id}")
    offboard = client.http.delete("/environments/%45nv1")

    assert got.status_code == 200 and got.json_body["name"] == "Env1"
    assert revoked.status_code == 204, revoked.body
    assert offboard.status_code in (202, 422), offboard.json_body  # found, so decoded
    assert "Env1" in offboard.body.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/access/jane%FF@example.com",  # not UTF-8
        "/access/%ED%A0%80@example.com",  # an encoded surrogate
        "/access/jane%2540example.com",  # decoded once: `%40` stays literal, not an address
        "/environments/Env%2F1",
        "/grants/%C3%28",
    ],
)
def test_a_bad_encoding_is_a_400(client, path):
    response = client.http.get(path) if "/grants/" not in path else client.http.delete(path)

    assert response.status_code == 400, response.json_body


# --- item 11: lone surrogates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/environments", b'{"name": "Env1", "mode": "create", "create": %s}'),
        ("/grants", b'{"group": "ops", "environment": "*", "rbac_role": "User", "x": %s}'),
    ],
)
def test_a_lone_surrogate_in_a_create_parameter_is_a_400(client, path, raw):
    create = json.loads(json.dumps(valid_create(Tags={"team": "x"})))
    text = json.dumps(create).replace('"x"', '"\\ud800"').encode()

    response = client.http.post(path, headers=JSON, body=raw % text)

    assert response.status_code == 400, response.json_body
    assert "Unicode" in response.json_body["Message"]
    assert record("Env1") is None and stored_grants() == []


def test_a_lone_surrogate_in_a_query_or_path_is_a_400():
    from chalice.app import Request

    from chalicelib.api.errors import BadRequestError
    from chalicelib.api.http import path_parameter, query

    event = {
        "multiValueQueryStringParameters": {"group": ["ops\ud800"]},
        "headers": {},
        "pathParameters": None,
        "requestContext": {"httpMethod": "GET", "resourcePath": "/grants"},
        "body": None,
        "stageVariables": None,
    }
    with pytest.raises(BadRequestError, match="Unicode"):
        query(Request(event), ("group",))
    with pytest.raises(BadRequestError, match="Unicode"):
        path_parameter("email", "a\udc80@example.com")


# --- item 12: sensitive MWAA options ----------------------------------------------------------


def test_sensitive_configuration_options_are_never_returned(client):
    secret = "hunter2-smtp-password"
    create = valid_create(AirflowConfigurationOptions={"smtp.smtp_password": secret})

    created = post(client, "/environments", {"name": "Env1", "mode": "create", "create": create})
    got = client.http.get("/environments/Env1")
    listed = client.http.get("/environments")
    again = post(client, "/environments", {"name": "Env1", "mode": "create", "create": create})

    for response in (created, got, listed, again):
        assert response.status_code in (200, 202), response.json_body
        assert secret not in response.body.decode()
    assert got.json_body["create"]["AirflowConfigurationOptions"] == {"smtp.smtp_password": "***"}
    assert record("Env1")["create"]["AirflowConfigurationOptions"]["smtp.smtp_password"] == secret


# --- item 13 (and 1): identities ---------------------------------------------------------------


@pytest.mark.parametrize(
    "group", [" ops ", "ops ", " ops", "ops\u00a0", "\u3000ops", "ops\t", "\u2003ops", "ops\u200b"]
)
def test_a_group_id_that_is_not_exact_is_refused_everywhere(client, group):
    granted = post(client, "/grants", {"group": group, "environment": "*", "rbac_role": "User"})
    listed = client.http.get(f"/grants?group={quote(group)}")
    access = client.http.get(f"/access/jane@example.com?groups=a,{quote(group)}")

    assert granted.status_code == 400, granted.json_body
    assert "group" in granted.json_body["Message"]
    assert listed.status_code == 400
    assert stored_grants() == []
    if group.strip(" ") == group:  # ASCII spaces around a comma separate, as in authX
        assert access.status_code == 400


def test_groups_in_the_access_query_are_trimmed_of_ascii_spaces_only(client):
    response = client.http.get("/access/jane@example.com?groups=a,%20b%20,,c")

    assert response.status_code == 200, response.json_body
    assert response.json_body["groups"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "user",
    [
        "\u212aate.king@example.com",  # KELVIN SIGN: str.lower() makes it kate.king@
        "kate.k\u0130ng@example.com",  # İ: str.lower() makes it i + a combining dot
        " kate.king@example.com",
        "kate.king@example.com\n",
        "kate\u200b.king@example.com",  # a format character
        "kate.king\x00@example.com",
    ],
)
def test_a_user_that_is_not_exactly_an_address_is_refused(client, user):
    granted = post(client, "/grants", {"user": user, "environment": "*", "rbac_role": "Admin"})
    access = client.http.get(f"/access/{quote(user)}")
    listed = client.http.get(f"/grants?user={quote(user)}")

    assert granted.status_code == 400, granted.json_body
    assert access.status_code == 400
    assert listed.status_code == 400
    assert stored_grants() == []


def test_user_ids_are_lower_cased_in_ascii_only(client):
    created = post(
        client, "/grants", {"user": "Kate.KING@Example.COM", "environment": "*", "rbac_role": "Op"}
    )

    assert created.status_code == 201, created.json_body
    assert created.json_body["user"] == "kate.king@example.com"


LOCAL_PARTS = st.text(
    st.sampled_from([*"abkKiIsS.+-", "\u212a", "\u0130", "\u017f", "ß"]), min_size=1
)


@settings(max_examples=300, deadline=None)
@given(a=LOCAL_PARTS, b=LOCAL_PARTS)
def test_two_different_users_never_become_one_principal(a, b):
    from authx.roles import user_principal
    from chalicelib.api import validation

    address_a, address_b = a + "@example.com", b + "@example.com"
    accepted = [validation.email_problem(x) is None for x in (address_a, address_b)]

    assert not accepted[0] or address_a.isascii()  # U+212A, U+0130, U+017F are never folded
    assert not accepted[1] or address_b.isascii()
    if all(accepted):
        same = user_principal(validation.email(address_a)) == user_principal(
            validation.email(address_b)
        )
        assert same == (address_a.lower() == address_b.lower())
