"""Property: whatever JSON reaches a POST route, the answer is 2xx or 4xx, never 5xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import JSON

POST_ROUTES = ("/environments", "/grants")
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
ANY_JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(
    [
        "name",
        "mode",
        "create",
        "hostname",
        "user",
        "group",
        "environment",
        "rbac_role",
        "expires_at",
        "NetworkConfiguration",
    ]
)
# Objects with the routes' own field names, so validation goes past "unknown field" often.
NEAR_MISS = st.dictionaries(
    FIELD_NAMES,
    ANY_JSON | st.sampled_from(["attach", "create", "Env1", "*", "Admin", "a@example.com", "ops"]),
    max_size=6,
)
RUN = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@RUN
@given(route=st.sampled_from(POST_ROUTES), body=ANY_JSON | NEAR_MISS)
def test_arbitrary_json_never_gets_a_server_error(shared_client, route, body):
    response = shared_client.http.post(route, headers=JSON, body=json.dumps(body).encode())

    assert 200 <= response.status_code < 500, (response.status_code, response.body)
    if response.status_code >= 400:
        assert set(response.json_body) == {"Code", "Message"}


@RUN
@given(route=st.sampled_from(POST_ROUTES), raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_get_a_server_error(shared_client, route, raw):
    response = shared_client.http.post(route, headers=JSON, body=raw)

    assert 200 <= response.status_code < 500, (response.status_code, response.body)
