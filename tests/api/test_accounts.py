"""POST /environments in other accounts and regions (DESIGN §2, §3): account_id, region and
mwaa_name are checked, kept, part of "the same request", and shown by GET."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import onboard, record, set_record

MEMBER = "111122223333"


def test_account_region_and_mwaa_name_are_recorded_and_shown(client):
    response = onboard(client, "prod-a", account_id=MEMBER, region="eu-west-1", mwaa_name="prod")

    assert response.status_code == 202
    body = response.json_body
    assert (body["account_id"], body["region"], body["mwaa_name"]) == (MEMBER, "eu-west-1", "prod")
    stored = record("prod-a")
    assert (stored["account_id"], stored["region"], stored["mwaa_name"]) == (
        MEMBER,
        "eu-west-1",
        "prod",
    )
    set_record("prod-a", status="READY", login_host="x.example.com", airflow_version="2.10.3")
    shown = client.http.get("/environments/prod-a").json_body
    assert shown["account_id"] == MEMBER
    assert shown["mwaa_name"] == "prod"
    assert shown["airflow_version"] == "2.10.3"


def test_mwaa_name_defaults_to_the_name(client):
    onboard(client, "Env1")

    assert record("Env1")["mwaa_name"] == "Env1"
    assert "account_id" not in record("Env1")


def test_two_same_named_mwaa_environments_in_two_accounts_are_two_records(client):
    first = onboard(client, "prod-a", account_id=MEMBER, mwaa_name="prod")
    second = onboard(client, "prod-b", account_id="444455556666", mwaa_name="prod")

    assert (first.status_code, second.status_code) == (202, 202)
    assert record("prod-a")["account_id"] != record("prod-b")["account_id"]


def test_another_account_is_another_request(client):
    onboard(client, "Env1", account_id=MEMBER)

    again = onboard(client, "Env1", account_id="444455556666")

    assert again.status_code == 409
    assert onboard(client, "Env1", account_id=MEMBER).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account_id", "12345678901"),
        ("account_id", "1234567890123"),
        ("account_id", "12345678901a"),
        ("account_id", "１２３４５６７８９０１２"),  # fullwidth digits are not ASCII digits
        ("account_id", 123456789012),
        ("account_id", " 123456789012"),
        ("region", "EU-WEST-1"),
        ("region", "eu-west-1\n"),
        ("region", "eu_west_1"),
        ("region", ""),
        ("region", ["eu-west-1"]),
        ("mwaa_name", "1prod"),
        ("mwaa_name", "prod env"),
        ("mwaa_name", "p" * 81),
        ("mwaa_name", {"name": "prod"}),
    ],
)
def test_bad_account_region_or_mwaa_name_is_400_naming_the_field(client, field, value):
    response = onboard(client, "Env1", **{field: value})

    assert response.status_code == 400
    assert response.json_body["Code"] == "BadRequestError"
    assert field in response.json_body["Message"]
    assert record("Env1") is None


@settings(max_examples=60, deadline=None)
@given(value=st.text(max_size=20))
def test_any_account_id_but_twelve_ascii_digits_is_refused(shared_client, value):
    response = onboard(shared_client, "Fuzzed", account_id=value)

    if value.isascii() and value.isdigit() and len(value) == 12:
        assert response.status_code in (200, 202, 409)
    else:
        assert response.status_code == 400
        assert "account_id" in response.json_body["Message"]
