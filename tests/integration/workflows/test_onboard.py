"""Onboarding end to end on devstack: the AWS state after the real ASL ran."""

from __future__ import annotations

import ipaddress
from typing import Any

from .conftest import World, aws, create_parameters

HOST_SUFFIX = ".airflow.example.com"


def rules_of(world: World) -> list[dict[str, Any]]:
    rules = aws("elbv2").describe_rules(ListenerArn=world.alb["listener_arn"])["Rules"]
    return sorted((r for r in rules if not r["IsDefault"]), key=lambda r: int(r["Priority"]))


def test_attach_public_environment_is_ready_at_its_own_web_server(world: World) -> None:
    environment = world.existing_environment(
        "Public1", world.network(), WebserverAccessMode="PUBLIC_ONLY"
    )

    assert world.onboard("Public1").status_code == 202
    record = world.wait("Public1")

    assert record["status"] == "READY", record.get("error")
    assert record["access_mode"] == "PUBLIC_ONLY"
    assert record["login_host"] == environment["WebserverUrl"]
    assert rules_of(world) == []
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
    assert aws("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"] == []
    body = world.get("/environments/Public1").json_body
    assert body["login_url"] == f"https://{environment['WebserverUrl']}/aws_mwaa/aws-console-sso"


def test_attach_private_environment_in_a_peered_vpc(world: World) -> None:
    net = world.network("10.1")
    environment = world.existing_environment("Sales_ETL", net)
    ec2, elbv2 = aws("ec2"), aws("elbv2")

    assert world.onboard("Sales_ETL").status_code == 202
    record = world.wait("Sales_ETL")

    assert record["status"] == "READY", record.get("error")
    host = "sales-etl" + HOST_SUFFIX
    assert record["login_host"] == host
    # Peering: ALB VPC → environment VPC, active, tagged.
    peering = ec2.describe_vpc_peering_connections(
        VpcPeeringConnectionIds=[record["peering_connection_id"]]
    )["VpcPeeringConnections"][0]
    assert peering["Status"]["Code"] == "active"
    assert peering["RequesterVpcInfo"]["VpcId"] == world.alb["vpc_id"]
    assert peering["AccepterVpcInfo"]["VpcId"] == net["vpc_id"]
    assert {"Key": "mwaa-gate:environment", "Value": "Sales_ETL"} in peering["Tags"]

    # Routes both ways, in the ALB subnets' table and in each environment subnet's table.
    def routes(table_id: str) -> dict[str, str | None]:
        table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        return {r["DestinationCidrBlock"]: r.get("VpcPeeringConnectionId") for r in table["Routes"]}

    assert routes(world.alb["route_table_id"])[net["cidr"]] == peering["VpcPeeringConnectionId"]
    for table_id in net["route_table_ids"]:
        assert routes(table_id)[world.alb["cidr"]] == peering["VpcPeeringConnectionId"]
    # HTTPS from the ALB's security group into the environment's.
    ingress = [
        r
        for r in ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [net["security_group_id"]]}]
        )["SecurityGroupRules"]
        if not r["IsEgress"]
    ]
    assert [(r["FromPort"], r["ToPort"], r["ReferencedGroupInfo"]["GroupId"]) for r in ingress] == [
        (443, 443, world.alb["security_group_id"])
    ]
    # Target group: HTTPS 443 in the ALB's VPC, health check accepting MWAA's 302, the ENI IPs.
    group = elbv2.describe_target_groups(TargetGroupArns=[record["target_group_arn"]])[
        "TargetGroups"
    ][0]
    assert (group["Protocol"], group["Port"], group["TargetType"]) == ("HTTPS", 443, "ip")
    assert group["VpcId"] == world.alb["vpc_id"]
    assert group["Matcher"]["HttpCode"] == "200,302"
    assert group["HealthCheckPath"] == "/aws_mwaa/aws-console-sso"
    endpoint = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [environment["WebserverVpcEndpointService"]]}]
    )["VpcEndpoints"][0]
    eni_ips = sorted(
        eni["PrivateIpAddress"]
        for eni in ec2.describe_network_interfaces(
            NetworkInterfaceIds=endpoint["NetworkInterfaceIds"]
        )["NetworkInterfaces"]
    )
    targets = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
        "TargetHealthDescriptions"
    ]
    assert sorted(t["Target"]["Id"] for t in targets) == eni_ips == sorted(record["endpoint_ips"])
    assert all(t["Target"].get("AvailabilityZone") == "all" for t in targets)
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(net["cidr"]) for ip in eni_ips)
    # Two rules: host + login path + login=true, and host; both authenticate-oidc then forward.
    rules = rules_of(world)
    assert [int(r["Priority"]) for r in rules] == [1001, 20001]
    login_rule, host_rule = rules
    assert {c["Field"] for c in login_rule["Conditions"]} == {
        "host-header",
        "path-pattern",
        "query-string",
    }
    assert [c["Field"] for c in host_rule["Conditions"]] == ["host-header"]
    for rule in rules:
        hosts = [c for c in rule["Conditions"] if c["Field"] == "host-header"]
        assert hosts[0]["HostHeaderConfig"]["Values"] == [host]
        actions = sorted(rule["Actions"], key=lambda a: a["Order"])
        assert [a["Type"] for a in actions] == ["authenticate-oidc", "forward"]
        assert actions[0]["AuthenticateOidcConfig"]["ClientId"] == "mwaa-gate"
        assert actions[1]["TargetGroupArn"] == group["TargetGroupArn"]
    assert sorted(record["rule_arns"]) == sorted(r["RuleArn"] for r in rules)


def test_attach_private_environment_in_the_albs_own_vpc(world: World) -> None:
    net = world.network_in_alb_vpc()
    world.existing_environment("SameVpc", net)

    world.onboard("SameVpc")
    record = world.wait("SameVpc")

    assert record["status"] == "READY", record.get("error")
    assert record.get("peering_connection_id") is None
    assert aws("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"] == []
    targets = aws("elbv2").describe_target_health(TargetGroupArn=record["target_group_arn"])[
        "TargetHealthDescriptions"
    ]
    assert len(targets) == 2
    assert all("AvailabilityZone" not in t["Target"] for t in targets)


def test_create_private_environment_waits_until_available(world: World, monkeypatch: Any) -> None:
    monkeypatch.setenv("DEVSTACK_MWAA_CREATE_SECONDS", "3")
    net = world.network("10.2")

    response = world.onboard("Fresh", mode="create", create=create_parameters(net, MaxWorkers=2))
    assert response.status_code == 202, response.json_body
    record = world.wait("Fresh")

    assert record["status"] == "READY", record.get("error")
    environment = aws("mwaa").get_environment(Name="Fresh")["Environment"]
    assert environment["Tags"]["mwaa-gate:environment"] == "Fresh"
    assert environment["MaxWorkers"] == 2
    polls = [
        e
        for e in world.history(record)
        if e["type"] == "TaskStateEntered"
        and e["stateEnteredEventDetails"]["name"] == "Poll environment"
    ]
    assert len(polls) >= 2  # CREATING at least once, then AVAILABLE
    assert record["created"]["environment"] is True
    assert len(rules_of(world)) == 2


def test_create_that_ends_create_failed_is_recorded_and_cleaned_up(world: World) -> None:
    net = world.network("10.3")
    create = create_parameters(net, Tags={"devstack:create-outcome": "CREATE_FAILED"})

    world.onboard("Doomed", mode="create", create=create)
    record = world.wait("Doomed")

    assert record["status"] == "FAILED"
    assert record["error"]["code"] == "EnvironmentCreationFailed"
    assert "CREATE_FAILED" in record["error"]["cause"]
    assert "INCORRECT_CONFIGURATION" in record["error"]["cause"]
    assert world.execution(record)["status"] == "FAILED"
    assert world.tagged("Doomed") == {
        "peerings": [],
        "security_group_rules": [],
        "elb": [],
        "mwaa": [],
    }


def test_a_name_longer_than_a_dns_label_gets_a_valid_host(world: World) -> None:
    name = "Team_Analytics_" + "x" * 60 + "_prod"  # 80 characters, MWAA's maximum
    world.existing_environment(name, world.network("10.9"))

    world.onboard(name)
    record = world.wait(name)

    assert record["status"] == "READY", record.get("error")
    label, _, domain = record["login_host"].partition(".")
    assert domain == "airflow.example.com"
    assert len(label) == 63 and label.startswith("team-analytics-x") and label[-9] == "-"
    rules = aws("elbv2").describe_rules(ListenerArn=world.alb["listener_arn"])["Rules"]
    hosts = {
        value
        for rule in rules
        for condition in rule["Conditions"]
        if condition["Field"] == "host-header"
        for value in condition["HostHeaderConfig"]["Values"]
    }
    assert hosts == {record["login_host"]}
