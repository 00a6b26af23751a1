"""The admin API's edge through `chalice local`, as a client's bytes arrive over HTTP.

`chalice local` (like API Gateway) hands path parameters over percent-encoded: the app
decodes them once. Query values arrive decoded by the server.
"""

from __future__ import annotations

import requests

from .conftest import LocalApi

JSON = {"Content-Type": "application/json"}


def grant(api: LocalApi, body: dict) -> dict:
    response = requests.post(f"{api.url}/grants", json=body, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_an_encoded_email_in_the_path_answers_for_that_user(local_api):
    grant(local_api, {"user": "jane+ops@example.com", "environment": "*", "rbac_role": "Op"})
    requests.post(
        f"{local_api.url}/environments", json={"name": "EdgeEnv", "mode": "attach"}, timeout=10
    )

    plus = requests.get(f"{local_api.url}/access/jane%2Bops@example.com", timeout=10)
    at = requests.get(f"{local_api.url}/access/jane%2Bops%40example.com", timeout=10)
    twice = requests.get(f"{local_api.url}/access/jane%252Bops@example.com", timeout=10)

    for response in (plus, at):
        assert response.status_code == 200, response.text
        assert response.json()["user"] == "jane+ops@example.com"
        assert "EdgeEnv" in [e["environment"] for e in response.json()["environments"]]
    assert twice.status_code == 200  # decoded once: the address `jane%2bops@…`, no grants
    assert twice.json()["user"] == "jane%2bops@example.com"
    assert twice.json()["environments"] == []


def test_a_long_non_ascii_grant_id_round_trips(local_api):
    created = grant(local_api, {"group": "é" * 256, "environment": "*", "rbac_role": "User"})

    revoked = requests.delete(f"{local_api.url}/grants/{created['id']}", timeout=10)

    assert revoked.status_code == 204, revoked.text


def test_bad_unicode_is_a_400_over_http(local_api):
    surrogate = requests.post(
        f"{local_api.url}/grants",
        data=b'{"group": "ops\\ud800", "environment": "*", "rbac_role": "User"}',
        headers=JSON,
        timeout=10,
    )
    not_utf8 = requests.get(f"{local_api.url}/access/jane%FF@example.com", timeout=10)

    assert surrogate.status_code == 400, surrogate.text
    assert not_utf8.status_code == 400, not_utf8.text
