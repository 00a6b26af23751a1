"""Issue 9, admin API: property tests over classes of hostile input, on one stack per module."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from .conftest import JSON, onboard, post, record
from .hostile import (
    BODIES,
    RUN,
    VALID_GROUPS,
    WHITESPACE,
    delete_all_grants,
    stored_grants,
    with_surrogate_somewhere,
)


@RUN
@given(
    moment=st.datetimes(),
    offset_minutes=st.integers(-(24 * 60 - 1), 24 * 60 - 1),
)
def test_any_expiry_is_stored_and_listed_or_refused_with_nothing_stored(
    shared_client, moment, offset_minutes
):
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = f"{moment.isoformat(timespec='seconds')}{sign}{hours:02d}:{minutes:02d}"
    delete_all_grants()

    response = post(
        shared_client,
        "/grants",
        {"group": "ops", "environment": "*", "rbac_role": "User", "expires_at": text},
    )
    listing = shared_client.http.get("/grants")

    assert response.status_code in (201, 400), response.json_body
    assert listing.status_code == 200
    assert len(listing.json_body["items"]) == (1 if response.status_code == 201 else 0)


@RUN
@given(group=VALID_GROUPS, environment=st.just("*") | st.sampled_from(["Env1", "Env2"]))
def test_every_issued_grant_id_and_token_is_accepted_back_over_http(
    shared_client, group, environment
):
    delete_all_grants()
    for name in ("Env1", "Env2"):
        if record(name) is None:
            onboard(shared_client, name)
    for env in ("*", "Env1", "Env2"):
        post(shared_client, "/grants", {"group": group, "environment": env, "rbac_role": "Op"})

    first = shared_client.http.get(f"/grants?group={quote(group)}&limit=2")
    token = first.json_body["next_token"]
    second = shared_client.http.get(f"/grants?group={quote(group)}&limit=2&next_token={token}")
    ids = {i["environment"]: i["id"] for i in first.json_body["items"] + second.json_body["items"]}
    revoked = shared_client.http.delete(f"/grants/{ids[environment]}")

    assert second.status_code == 200, second.json_body
    assert sorted(ids) == ["*", "Env1", "Env2"]
    assert revoked.status_code == 204, revoked.body
    assert len(stored_grants()) == 2


@RUN
@given(case=BODIES, where=st.integers(0, 40))
def test_a_lone_surrogate_anywhere_in_a_body_is_a_400(shared_client, case, where):
    path, body = case
    raw = json.dumps(with_surrogate_somewhere(body, where)).encode()

    response = shared_client.http.post(path, headers=JSON, body=raw)

    assert response.status_code == 400, response.json_body
    assert "Unicode" in response.json_body["Message"]


@RUN
@given(group=VALID_GROUPS, edge=WHITESPACE, leading=st.booleans())
def test_any_group_with_whitespace_at_an_end_is_a_400(shared_client, group, edge, leading):
    padded = edge + group if leading else group + edge

    response = post(
        shared_client, "/grants", {"group": padded, "environment": "*", "rbac_role": "User"}
    )

    assert response.status_code == 400, response.json_body
