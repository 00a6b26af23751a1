"""Airflow 2 and Airflow 3 environments side by side on devstack (DESIGN §4 "Airflow versions"):
the version recorded, the listener rules and health check of each, authX's redirect for each,
logout paths routed to authX, an in-place upgrade switched by one reconcile, `.on.aws` hosts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from devstack.alb import KeyServer

from .airflow_support import (
    SignIn,
    action_types,
    api_with_stage_settings,
    authx_target_group,
    health_check,
    mwaa_environment,
    reconcile,
    rules_by_priority,
    values,
)
from .conftest import World, aws, create_parameters

BASE = ".airflow.example.com"
AF2_LOGIN = "/aws_mwaa/aws-console-sso"
AF3_LOGIN = "/pluginsv2/aws_mwaa/aws-console-sso"
AF3_TO_AUTHX = ["/auth/login/", "/auth/logout", "/auth/logout/"]


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture
def signin(world: World, monkeypatch: pytest.MonkeyPatch, key_server: KeyServer) -> SignIn:
    api_with_stage_settings(world)
    return SignIn(world, monkeypatch, key_server)


def onboard(world: World, name: str, **body: object) -> dict:
    answer = world.onboard(name, **body)
    assert answer.status_code == 202, answer.json_body
    record = world.wait(name)
    assert record["status"] == "READY", record.get("error")
    return record


def test_airflow_2_and_3_private_environments_side_by_side(world: World, signin: SignIn) -> None:
    authx_group = authx_target_group(world)
    net = world.network("10.1")
    world.existing_environment("Two", net, AirflowVersion="2.11.0")
    world.existing_environment("Three", net, AirflowVersion="3.0.6")

    two, three = onboard(world, "Two"), onboard(world, "Three")

    assert (two["airflow_version"], three["airflow_version"]) == ("2.11.0", "3.0.6")
    assert world.get("/environments/Three").json_body["airflow_version"] == "3.0.6"
    rules = rules_by_priority(world)
    slot2, slot3 = int(two["created"]["slot"]), int(three["created"]["slot"])
    # Airflow 2: today's two rules. Web login with login=true → MWAA; the host → MWAA.
    assert {p for p in rules if p % 1000 == slot2 and p > 1000} == {1000 + slot2, 20000 + slot2}
    login2 = rules[1000 + slot2]
    assert values(login2, "host-header") == ["two" + BASE]
    assert values(login2, "path-pattern") == [AF2_LOGIN]
    assert values(login2, "query-string") == ["login=true"]
    assert action_types(login2) == [
        ("authenticate-oidc", None),
        ("forward", two["target_group_arn"]),
    ]
    # Airflow 3: its web login path to MWAA, its "no session" and logout paths to authX.
    login3, to_authx, host3 = (rules[base + slot3] for base in (1000, 2000, 20000))
    assert values(login3, "host-header") == ["three" + BASE]
    assert values(login3, "path-pattern") == [AF3_LOGIN]
    assert values(login3, "query-string") == ["login=true"]
    assert action_types(login3)[1] == ("forward", three["target_group_arn"])
    assert values(to_authx, "host-header") == ["three" + BASE]
    assert sorted(values(to_authx, "path-pattern")) == AF3_TO_AUTHX
    assert action_types(to_authx) == [("authenticate-oidc", None), ("forward", authx_group)]
    assert values(host3, "path-pattern") == []
    assert action_types(host3)[1] == ("forward", three["target_group_arn"])
    assert three["rule_arns"] == [r["RuleArn"] for r in (login3, to_authx, host3)]
    # Health checks follow the version.
    assert health_check(two) == AF2_LOGIN
    assert health_check(three) == "/api/v2/monitor/health"

    # authX sends each to its version's web login path.
    signin.grant("Two")
    signin.grant("Three")
    assert signin.location("two" + BASE).startswith(f"https://two{BASE}{AF2_LOGIN}?login=true#")
    assert signin.location("three" + BASE).startswith(f"https://three{BASE}{AF3_LOGIN}?login=true#")
    # An Airflow 3 browser without a session lands on /auth/login/: a login again.
    assert signin.location("three" + BASE, "/auth/login/").startswith(
        f"https://three{BASE}{AF3_LOGIN}?login=true#"
    )
    # Airflow 3's logout (GET or POST) ends the ALB session and Airflow's.
    for method in ("GET", "POST"):
        out = signin.request("three" + BASE, "/auth/logout", method=method)
        assert out["statusCode"] == 302
        assert out["multiValueHeaders"]["Location"] == [f"https://three{BASE}/logout/close"]
        expired = [c.split("=", 1)[0] for c in out["multiValueHeaders"]["Set-Cookie"]]
        assert {"AWSELBAuthSessionCookie-0", "_token", "session"} <= set(expired)
    # Airflow 2's logout is the platform's /logout/ rule, as before.
    assert signin.request("two" + BASE, "/logout/")["statusCode"] == 302


def test_public_airflow_3_on_an_on_aws_host_and_airflow_2_side_by_side(
    world: World, signin: SignIn
) -> None:
    net = world.network("10.1")
    on_aws = world.existing_environment(
        "PubThree",
        net,
        WebserverAccessMode="PUBLIC_ONLY",
        AirflowVersion="3.0.6",
        Tags={"devstack:webserver-domain": "on.aws"},
    )
    world.existing_environment("PubTwo", net, WebserverAccessMode="PUBLIC_ONLY")

    three, two = onboard(world, "PubThree"), onboard(world, "PubTwo")

    assert on_aws["WebserverUrl"].endswith(".on.aws")
    assert three["login_host"] == on_aws["WebserverUrl"]
    assert (three["airflow_version"], two["airflow_version"]) == ("3.0.6", "2.10.3")
    assert rules_by_priority(world) == {}  # public: no ALB work, whatever the version
    body = world.get("/environments/PubThree").json_body
    assert body["login_url"] == f"https://{on_aws['WebserverUrl']}{AF2_LOGIN}"
    signin.grant("PubThree")
    signin.grant("PubTwo")
    assert signin.location(three["login_host"]).startswith(
        f"https://{three['login_host']}{AF3_LOGIN}?login=true#"
    )
    assert signin.location(two["login_host"]).startswith(
        f"https://{two['login_host']}{AF2_LOGIN}?login=true#"
    )


def test_created_environment_records_the_version_mwaa_reports(world: World) -> None:
    authx_target_group(world)
    net = world.network("10.1")
    body = create_parameters(net, AirflowVersion="3.0.6")

    answer = world.onboard("Made3", mode="create", create=body)

    assert answer.status_code == 202, answer.json_body
    record = world.wait("Made3")
    assert record["status"] == "READY", record.get("error")
    assert record["airflow_version"] == "3.0.6"
    assert len(record["rule_arns"]) == 3


def test_in_place_upgrade_then_reconcile_switches_every_piece(
    world: World, signin: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    authx_group = authx_target_group(world)
    net = world.network("10.1")
    world.existing_environment("Up", net, AirflowVersion="2.11.0")
    before = onboard(world, "Up")
    slot = int(before["created"]["slot"])
    signin.grant("Up")
    host = "up" + BASE

    # MWAA upgrades in place: UPDATING first. Reconcile then changes nothing.
    monkeypatch.setenv("DEVSTACK_MWAA_UPDATE_SECONDS", "3600")
    aws("mwaa").update_environment(Name="Up", AirflowVersion="3.0.6")
    assert aws("mwaa").get_environment(Name="Up")["Environment"]["Status"] == "UPDATING"
    busy = reconcile(world, "Up")
    assert busy.status_code == 200, busy.json_body
    assert busy.json_body["changes"] == []
    assert "UPDATING" in busy.json_body["skipped"]

    mwaa_environment("Up").transition_at = time.time()  # the update ends now
    # Until reconciled, authX signs users in on the path recorded.
    assert signin.location(host).startswith(f"https://{host}{AF2_LOGIN}?login=true#")
    upgraded = reconcile(world, "Up")

    assert upgraded.status_code == 200, upgraded.json_body
    body = upgraded.json_body
    assert body["status"] == "READY"
    assert body["airflow_version"] == "3.0.6"
    assert "airflow_version: 2.11.0 → 3.0.6" in body["changes"]
    assert f"health check: {AF2_LOGIN} → /api/v2/monitor/health" in body["changes"]
    assert f"rule {1000 + slot} rewritten" in body["changes"]
    assert f"rule {2000 + slot} created" in body["changes"]
    record = world.record("Up")
    assert record["airflow_version"] == "3.0.6"
    assert health_check(record) == "/api/v2/monitor/health"
    rules = rules_by_priority(world)
    assert values(rules[1000 + slot], "path-pattern") == [AF3_LOGIN]
    assert sorted(values(rules[2000 + slot], "path-pattern")) == AF3_TO_AUTHX
    assert action_types(rules[2000 + slot])[1] == ("forward", authx_group)
    assert len(record["rule_arns"]) == 3
    assert signin.location(host).startswith(f"https://{host}{AF3_LOGIN}?login=true#")

    again = reconcile(world, "Up")
    assert again.status_code == 200
    assert again.json_body["changes"] == []
    assert world.record("Up")["version"] == record["version"]

    # And back down to 2.11: the authX rule goes, the Airflow 2 paths return.
    monkeypatch.setenv("DEVSTACK_MWAA_UPDATE_SECONDS", "0")
    aws("mwaa").update_environment(Name="Up", AirflowVersion="2.11.0")
    down = reconcile(world, "Up").json_body
    assert f"rule {2000 + slot} removed" in down["changes"]
    assert down["airflow_version"] == "2.11.0"
    assert sorted(rules_by_priority(world)) == [1000 + slot, 20000 + slot]
    assert health_check(world.record("Up")) == AF2_LOGIN
    assert signin.location(host).startswith(f"https://{host}{AF2_LOGIN}?login=true#")
    assert reconcile(world, "Up").json_body["changes"] == []


def test_devstack_mwaa_switches_major_version_only_from_the_latest_2(world: World) -> None:
    net = world.network("10.1")
    world.existing_environment("Old", net, AirflowVersion="2.10.3")
    mwaa = aws("mwaa")

    with pytest.raises(mwaa.exceptions.ValidationException, match="in place"):
        mwaa.update_environment(Name="Old", AirflowVersion="3.0.6")
    mwaa.update_environment(Name="Old", AirflowVersion="2.11.0")
    assert mwaa.get_environment(Name="Old")["Environment"]["AirflowVersion"] == "2.11.0"
